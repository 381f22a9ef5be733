// T5's span-corruption objective, exactly as T5 builds it (t5.data.preprocessors
// random_spans_noise_mask / compute_input_and_target_lengths, and the HF Flax port): a packed
// row of raw tokens gets a noise mask of interleaved spans that starts with non-noise and ends
// with noise; each noise span becomes one sentinel in the inputs, each non-noise span one in the
// targets, sentinels numbered downward from <extra_id_0>, and both sequences end with eos.
#pragma once

#include <cstdint>
#include <vector>

#include "core/common/random.h"

namespace gs {

// The longest input a row may have. The raw length is found by counting up from the input
// length, and one row's attention scores alone would take 4 TB at 2^20 tokens, so nothing longer
// can be trained anyway.
constexpr int64_t kMaxSpanInputLength = int64_t{1} << 20;

struct SpanCorruptionOptions {
    int64_t input_length = 512;
    double noise_density = 0.15;
    double mean_span_length = 3.0;
};

struct SpanLengths {
    int64_t raw_length = 0;     // tokens cut from the packed stream per row
    int64_t input_length = 0;   // encoder tokens, eos included
    int64_t target_length = 0;  // decoder tokens, eos included
    int64_t noise_tokens = 0;
    int64_t noise_spans = 0;
};

// T5's compute_input_and_target_lengths: the longest raw row whose corrupted input fits
// `input_length` (512 -> 568 raw, 114 targets at density 0.15, mean span 3). Throws
// std::invalid_argument for settings that cannot make valid rows and for an input length above
// kMaxSpanInputLength.
SpanLengths compute_span_lengths(const SpanCorruptionOptions& options);

// One noise flag per token (1 = noise): num_spans noise and non-noise spans of random lengths,
// interleaved, starting with non-noise.
std::vector<uint8_t> random_spans_noise_mask(int64_t length, double noise_density, double mean_span_length,
                                             Random& random);

// Writes the corrupted inputs and targets of `row` (each must have room for their lengths);
// sentinel k is `first_sentinel - k`.
void corrupt_spans(const int32_t* row, const std::vector<uint8_t>& noise_mask, int32_t first_sentinel, int32_t eos,
                   std::vector<int32_t>& inputs, std::vector<int32_t>& targets);

}  // namespace gs
