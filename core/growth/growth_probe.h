// A fixed probe batch to measure what a growth step did to the function: the loss before and
// after and the largest logit difference. The batch comes from a portable generator, so the
// figures printed by `growthstudio-cli grow` can be recomputed anywhere from the seed.
#pragma once

#include <cstdint>

#include <ATen/core/Tensor.h>

#include "core/model/t5_model.h"

namespace gs {

struct ProbeBatch {
    at::Tensor input_ids;  // [batch, input_length], random tokens above the special ids
    at::Tensor attention_mask;
    at::Tensor labels;     // [batch, target_length]
};

ProbeBatch make_probe_batch(int64_t vocab_size, uint64_t seed, int64_t batch = 4, int64_t input_length = 64,
                            int64_t target_length = 16);

struct ProbeComparison {
    double loss_before = 0;
    double loss_after = 0;
    double max_logit_difference = 0;
};

// Both models in eval mode, on the CPU, in their own dtype.
ProbeComparison compare_on_probe(T5Model& before, T5Model& after, const ProbeBatch& probe);
double probe_loss(T5Model& model, const ProbeBatch& probe);

}  // namespace gs
