// Runs an experiment end to end: prepares its data, trains every stage of the pipeline, grows
// the model between stages, validates, checkpoints, and records every number in the store. A run
// interrupted at any moment resumes from its last checkpoint and, on the CPU with a fixed seed,
// continues with exactly the losses it would have had.
#pragma once

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>

#include "core/data/progress.h"
#include "core/store/store.h"
#include "core/train/experiment.h"
#include "core/train/train_enums.h"

namespace gs {

class Communicator;

// A run that stopped on a failure worth its own message: a non-finite loss, out of memory.
class TrainingFailure : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct RunProgress {
    std::string run;
    RunPhase phase = RunPhase::preparing_data;
    int stage = 0;              // index in the pipeline
    int stages = 0;
    std::string size;
    int64_t step = 0;           // optimiser steps over the whole run
    int64_t stage_step = 0;
    int64_t stage_steps = -1;   // -1 when the budget is a time or a loss
    double train_loss = 0;
    double tokens_per_s = 0;
    double stage_eta_s = -1;
    double run_eta_s = -1;
    std::string device;
    int64_t memory_bytes = 0;   // in use on the device (resident memory on the CPU)
};

struct TrainerHooks {
    std::function<void(const RunProgress&)> progress;  // from the training thread, every step
    std::function<bool()> stop_requested;               // checked every step: checkpoint, then pause
    ProgressCallback data_progress;                     // while the run prepares its tokenizer and token cache
    std::function<void(const std::string&)> warning;    // something the user should know; the run goes on
};

struct RunOptions {
    std::string name;        // "" : the experiment's name, numbered when taken
    std::string runs_dir;    // where run folders go; "" : "runs" beside the database
    std::string device;      // "" : the experiment's
    int threads = -1;        // -1 : the experiment's
    // A data-parallel run's group (core/distributed/communicator.h), joined before the store is
    // opened; null: one process. Each rank trains on batch_size / world_size rows of every
    // batch; rank 0 alone writes the store and the checkpoints.
    Communicator* communicator = nullptr;
};

// Creates the run in the store and trains it. Returns the run's final status (done or paused);
// failures are recorded in the store and rethrown.
RunStatus run_experiment(const ExperimentSpec& spec, Store& store, const RunOptions& options,
                           const TrainerHooks& hooks, int64_t* run_id = nullptr);

// Continues a run from its last checkpoint.
RunStatus resume_run(const std::string& run, Store& store, const TrainerHooks& hooks, const RunOptions& options = {});

}  // namespace gs
