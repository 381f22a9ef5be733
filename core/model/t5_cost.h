// Parameter counts and FLOPs of a T5 configuration, from its shapes alone (no weights needed).
#pragma once

#include <cstdint>

#include "core/model/t5_config.h"

namespace gs {

int64_t count_parameters(const T5Config& config);

// FLOPs of one forward pass over one sequence (a multiply-add counts 2): every matrix product
// of attention, cross-attention, FFN and the LM head; element-wise work is negligible.
double forward_flops_per_sequence(const T5Config& config, int64_t input_length, int64_t target_length);

// A training step costs three forward passes (forward + backward) per sequence.
double training_flops_per_step(const T5Config& config, int64_t batch, int64_t input_length, int64_t target_length);

}  // namespace gs
