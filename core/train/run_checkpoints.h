// A run's checkpoints in its folder: each written whole (a temporary folder renamed into place)
// with the weights, the optimiser's state, the random generator's and the trainer's, and the
// tokenizer; latest.json names the newest; the store gets a row; the oldest interval checkpoints
// are pruned (stage ends and the final one stay). The newest is read back when a run resumes.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/model/t5_model.h"
#include "core/store/store.h"
#include "core/train/optimizer.h"

namespace gs {

// What a checkpoint holds for a run to continue.
struct SavedTraining {
    std::filesystem::path folder;
    T5Model masters{nullptr};                            // fp32, on the CPU
    std::map<std::string, at::Tensor> optimizer_state;  // by slot/parameter name
    at::Tensor random_state;                             // the default CPU generator's
    nlohmann::json trainer_state;
    std::string trainer_state_path;                      // for errors about it
};

class RunCheckpoints {
public:
    // `keep_interval`: interval checkpoints kept besides stage ends; `tokenizer_model`: the
    // sentencepiece model copied into each checkpoint (downstream tasks need it beside the weights).
    RunCheckpoints(Store& store, int64_t run_id, std::string run_name, std::filesystem::path run_folder,
                   int64_t keep_interval, std::string tokenizer_model);

    void save(CheckpointKind kind, int64_t step, int stage, const T5Model& masters, const Optimizer& optimizer,
              const nlohmann::json& trainer_state);
    // The newest checkpoint, read whole; nullopt when the run has none (killed before the first).
    std::optional<SavedTraining> load_latest() const;

private:
    void prune();

    Store& store_;
    int64_t run_id_;
    std::string run_name_;
    std::filesystem::path folder_;
    int64_t keep_interval_;
    std::string tokenizer_model_;
};

}  // namespace gs
