// What a pipeline costs before it runs: parameters per stage, training FLOPs and time, and the
// same for training the last stage's size from scratch for as many steps (the Base pipeline
// of the study, which every grown pipeline is compared with).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/pipeline/pipeline.h"

namespace gs::ui {

struct EstimateSettings {
    int64_t batch_rows = 8;         // batch_size x gradient_accumulation
    int64_t input_length = 512;
    int64_t target_length = 114;
    double steps_per_epoch = 1000;  // the data decides it; an assumption until the corpus is prepared
    double flops_per_second = 1e12; // sustained training throughput of the device
    // The model vocabulary the experiment's tokenizer gives; unset: the sizes' own vocab_size.
    std::optional<int64_t> vocab_size;
};

struct StageEstimate {
    std::string size;
    int64_t parameters = 0;
    bool trained = true;
    bool known = true;  // false: a loss budget, whose steps nobody knows in advance
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

}  // namespace gs::ui
