// Parameter counts and FLOPs of a T5 configuration, from its shapes alone (no weights needed).
#pragma once

#include <cstdint>
#include <string>

#include "core/model/t5_config.h"

namespace gs {

int64_t count_parameters(const T5Config& config);
// The same count as a double, which no configuration overflows: for shapes read from a file
// before anything of that size is allocated.
double count_parameters_unbounded(const T5Config& config);

// FLOPs of one forward pass over one sequence (a multiply-add counts 2): every matrix product
// of attention, cross-attention, FFN and the LM head; element-wise work is negligible.
double forward_flops_per_sequence(const T5Config& config, int64_t input_length, int64_t target_length);

// A training step costs three forward passes (forward + backward) per sequence.
double training_flops_per_step(const T5Config& config, int64_t batch, int64_t input_length, int64_t target_length);

// An upper estimate of the memory one training process needs for a stage, in bytes, computed in
// doubles so that absurd shapes give absurd numbers rather than wrap around:
// - weights, 4 bytes a parameter (fp32; bf16 adds a 2-byte compute copy), and their gradients;
// - the optimiser's state: `optimizer_moments` fp32 tensors the size of the weights (2 for the
//   Adam family, 1 for Adafactor with a first moment, 0 for its factored default);
// - activations kept for the backward pass, per sequence of the micro-batch `batch`: per token
//   of each layer's attention block 4·d_model + 4·inner (norm, residual, q, k, v, output), and
//   3·heads·L_query·L_key for the scores, their softmax and its dropout; per token of each FFN
//   2·d_model + 3·d_ff; the LM head 3·vocab per target token (logits, log-softmax, gradient).
//   Encoder layers attend over input tokens, decoder layers over targets and (cross) inputs.
struct TrainingMemory {
    double weights = 0;
    double gradients = 0;
    double optimizer = 0;
    double activations = 0;
    double total() const { return weights + gradients + optimizer + activations; }
    std::string text() const;  // "23.4 GB (weights 1.2 GB, gradients 1.2 GB, ...)"
};

TrainingMemory estimate_training_memory(const T5Config& config, int64_t batch, int64_t input_length,
                                        int64_t target_length, int optimizer_moments, bool bf16);

// "1.5 GB", "640 MB": a byte count for messages.
std::string bytes_text(double bytes);

}  // namespace gs
