#include "core/train/run_checkpoints.h"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cstdio>
#include <set>
#include <vector>

#include "core/io/files.h"
#include "core/io/safetensors.h"
#include "core/model/checkpoint.h"

namespace gs {

namespace fs = std::filesystem;

namespace {

const char* const kRandomState = "rng/cpu";

std::string checkpoint_name(int64_t step, int stage) {
    char name[64];
    std::snprintf(name, sizeof name, "step-%08lld-stage-%d", static_cast<long long>(step), stage);
    return name;
}

}  // namespace

RunCheckpoints::RunCheckpoints(Store& store, int64_t run_id, std::string run_name, fs::path run_folder,
                               int64_t keep_interval, std::string tokenizer_model)
    : store_(store),
      run_id_(run_id),
      run_name_(std::move(run_name)),
      folder_(std::move(run_folder)),
      keep_interval_(keep_interval),
      tokenizer_model_(std::move(tokenizer_model)) {}

void RunCheckpoints::save(CheckpointKind kind, int64_t step, int stage, const T5Model& masters,
                          const Optimizer& optimizer, const nlohmann::json& trainer_state) {
    const std::string name = checkpoint_name(step, stage);
    const fs::path folder = folder_ / "checkpoints" / name;
    const fs::path temporary = folder_ / "checkpoints" / (name + ".tmp");
    fs::remove_all(temporary);
    save_t5_checkpoint(masters, temporary.string(), {{"run", run_name_}, {"step", std::to_string(step)}});
    NamedTensors tensors;
    for (const auto& [key, tensor] : optimizer.state()) tensors.emplace_back(key, tensor);
    tensors.emplace_back(kRandomState, at::detail::getDefaultCPUGenerator().get_state());
    save_safetensors((temporary / "optimizer.safetensors").string(), tensors);
    write_file_atomically((temporary / "trainer_state.json").string(), trainer_state.dump(1) + "\n");
    fs::copy_file(tokenizer_model_, temporary / "spiece.model");
    fs::remove_all(folder);
    fs::rename(temporary, folder);  // the checkpoint appears whole or not at all
    write_file_atomically((folder_ / "latest.json").string(),
                          nlohmann::json{{"checkpoint", (fs::path("checkpoints") / name).string()}}.dump() + "\n");
    store_.add_checkpoint({run_id_, stage, step, folder.string(), kind});
    if (kind == CheckpointKind::interval) prune();
}

// Keeps the newest interval checkpoints (stage ends and the final one stay).
void RunCheckpoints::prune() {
    std::vector<std::string> interval;
    std::set<std::string> kept;
    for (const auto& checkpoint : store_.checkpoints(run_id_)) {
        if (checkpoint.kind != CheckpointKind::interval) kept.insert(checkpoint.path);
        if (checkpoint.kind == CheckpointKind::interval && fs::exists(checkpoint.path)) interval.push_back(checkpoint.path);
    }
    interval.erase(std::remove_if(interval.begin(), interval.end(), [&](const std::string& p) { return kept.count(p) > 0; }),
                   interval.end());
    for (size_t i = 0; i + keep_interval_ < interval.size(); ++i) fs::remove_all(interval[i]);
}

std::optional<SavedTraining> RunCheckpoints::load_latest() const {
    const std::string latest = (folder_ / "latest.json").string();
    if (!fs::exists(latest)) return std::nullopt;
    SavedTraining saved;
    saved.folder = folder_ / read_json_file(latest).at("checkpoint").get<std::string>();
    saved.trainer_state_path = (saved.folder / "trainer_state.json").string();
    saved.trainer_state = read_json_file(saved.trainer_state_path);
    saved.masters = load_t5_checkpoint(saved.folder.string());
    SafetensorsFile file((saved.folder / "optimizer.safetensors").string());
    for (const auto& name : file.names()) {
        if (name != kRandomState) saved.optimizer_state[name] = file.load(name);
    }
    saved.random_state = file.load(kRandomState);
    return saved;
}

}  // namespace gs
