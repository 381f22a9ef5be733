// What a pipeline costs before it runs: parameters per stage, training FLOPs and time, and the
// same for training the last stage's size from scratch for as many steps (the Base pipeline
// of the study, which every grown pipeline is compared with). The canvas and
// `growthstudio-cli run --dry-run` both show these figures. Plain C++.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/pipeline/pipeline.h"

namespace gs {

// T5 training runs at 38-68 % of the matrix-multiply peak in docs/benchmarks.md (MFU of
// `growthstudio-cli bench`); a guess of the throughput takes half of the measured peak.
constexpr double kTrainingShareOfMatmulPeak = 0.5;

// A stage's optimiser steps under `budget`: as given, or epochs times the steps of one epoch
// (at least one step); unset for time and loss budgets, and for epochs while the steps of an
// epoch are not known (the corpus is not prepared yet).
std::optional<int64_t> budget_steps(const Budget& budget, std::optional<int64_t> steps_per_epoch);

// Optimiser steps in one pass over `rows` rows of training data, the last step possibly short.
inline int64_t steps_per_epoch(uint64_t rows, int64_t rows_per_step) {
    return (static_cast<int64_t>(rows) + rows_per_step - 1) / rows_per_step;
}

struct EstimateSettings {
    int64_t batch_rows = 8;         // batch_size x gradient_accumulation
    int64_t input_length = 512;
    int64_t target_length = 114;
    std::optional<int64_t> steps_per_epoch = 1000;  // the data decides it; unset: not known
    double flops_per_second = 1e12;  // sustained training throughput of the device
    // Seconds per step measured on this machine for a stage (by its index in the pipeline),
    // which replace the figure flops_per_second gives for it.
    std::map<size_t, double> measured_step_seconds;
    // The model vocabulary the experiment's tokenizer gives; unset: the sizes' own vocab_size.
    std::optional<int64_t> vocab_size;
};

struct StageEstimate {
    std::string size;
    int64_t parameters = 0;
    bool trained = true;
    bool known = true;  // false: a loss budget (or epochs of an unknown corpus), whose steps nobody knows in advance
    double flops_per_step = 0;
    double step_seconds = 0;
    bool measured = false;  // step_seconds measured on this machine, not derived from flops_per_second
    double steps = 0;
    double flops = 0;
    double seconds = 0;
};

struct PipelineEstimate {
    std::vector<StageEstimate> stages;
    bool known = true;  // every trained stage's cost is known
    double flops = 0;
    double seconds = 0;
    double steps = 0;
    double base_flops = 0;   // the last stage's size trained from scratch for `steps`
    double base_seconds = 0;
};

PipelineEstimate estimate_pipeline(const Pipeline& pipeline, const EstimateSettings& settings);

// "1.23 PFLOP", "3 h 20 min" and the like.
std::string flops_text(double flops);
std::string duration_text(double seconds);

}  // namespace gs
