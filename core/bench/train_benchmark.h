// Timed T5 training steps on random tokens: the engine's speed on this machine.
#pragma once

#include <cstdint>
#include <string>

#include "core/model/t5_config.h"

namespace gs {

class Communicator;

struct TrainBenchmarkOptions {
    T5Config config;
    int64_t batch = 8;
    int64_t input_length = 512;
    int64_t target_length = 114;
    int64_t steps = 10;
    int64_t warmup_steps = 2;
    std::string device = "auto";
    bool bf16_weights = false;  // parameters stored and computed in bf16 (speed figure only)
    uint64_t seed = 0;
    // A data-parallel group (core/distributed/communicator.h): gradients are averaged across
    // its ranks every step, as in training. Null: one process.
    Communicator* communicator = nullptr;
    // With a communicator: send the gradients during the backward pass (as training does), or
    // only after it (to measure what the overlap gains).
    bool overlap_communication = true;
};

struct TrainBenchmarkResult {
    std::string device;
    int threads = 0;
    int64_t parameters = 0;
    double seconds_per_step = 0;
    double steps_per_s = 0;
    double tokens_per_s = 0;         // encoder + decoder tokens
    double flops_per_s = 0;          // from training_flops_per_step
    double peak_flops_per_s = 0;     // measured matrix-multiply peak of the device
    double mfu = 0;                  // flops_per_s / peak_flops_per_s
    double first_loss = 0;
    double last_loss = 0;
};

TrainBenchmarkResult run_train_benchmark(const TrainBenchmarkOptions& options);

// Measured FLOP/s of large square matrix products on the device, in the given dtype.
double measure_matmul_peak(const std::string& device, bool bf16);

}  // namespace gs
