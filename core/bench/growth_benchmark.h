// Time and memory of one growth step on a randomly initialised source model.
#pragma once

#include <cstdint>

#include "core/growth/growth_options.h"
#include "core/model/t5_config.h"

namespace gs {

struct GrowthBenchmarkResult {
    int64_t source_parameters = 0;
    int64_t target_parameters = 0;
    double plan_seconds = 0;     // drawing the maps
    double grow_seconds = 0;     // growing the tensors into a new model (best of the repeats)
    double target_bytes = 0;     // the grown model's parameters
    double peak_extra_bytes = 0; // peak resident memory above the loaded source, during growth
};

GrowthBenchmarkResult run_growth_benchmark(const T5Config& source, const T5Config& target,
                                           const GrowthOptions& options, int repeats = 3);

}  // namespace gs
