// Autoregressive decoding for T5 with the key/value cache: greedy and beam search.
#pragma once

#include <cstdint>

#include <ATen/core/Tensor.h>

#include "core/model/t5_model.h"

namespace gs {

struct GenerationOptions {
    int64_t max_new_tokens = 64;  // tokens after the decoder start token
    int64_t num_beams = 1;        // 1: greedy
    // Beam hypotheses are ranked by sum(log p) / (generated length ^ length_penalty).
    double length_penalty = 1.0;
    // Stop a batch row's beam search as soon as num_beams hypotheses have finished.
    bool early_stopping = false;
    // Make eos the last token when the length limit is reached (HF's forced_eos_token_id).
    bool force_eos_at_limit = false;
};

// Returns [B, n] token ids beginning with the decoder start token, as HF's generate() does;
// rows that end early are padded with pad_token_id after their eos. Runs without gradients.
at::Tensor generate(T5Model& model, const at::Tensor& input_ids, const at::Tensor& attention_mask,
                    const GenerationOptions& options = {});

at::Tensor greedy_search(T5Model& model, const at::Tensor& input_ids, const at::Tensor& attention_mask,
                         const GenerationOptions& options);

at::Tensor beam_search(T5Model& model, const at::Tensor& input_ids, const at::Tensor& attention_mask,
                       const GenerationOptions& options);

}  // namespace gs
