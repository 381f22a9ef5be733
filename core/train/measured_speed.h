// How long a training step of a given shape took on this machine, from the steps earlier runs
// recorded in the workspace store. Estimates prefer it to a guess from the matmul peak.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/model/t5_config.h"
#include "core/store/store.h"

namespace gs {

struct MeasuredStepTime {
    double seconds = 0;  // the median step
    int64_t steps = 0;   // how many steps it is the median of
    std::string run;     // the run that took them
};

// The latest run on `host` and `device` with a stage of the same shape: the same model (its
// vocabulary included) and the same FLOPs per step (rows and lengths). A stage's first step,
// which allocates and warms up, is left out.
std::optional<MeasuredStepTime> measured_step_time(Store& store, const std::string& host, const std::string& device,
                                                   const T5Config& config, double flops_per_step);

}  // namespace gs
