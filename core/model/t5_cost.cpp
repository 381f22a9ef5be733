#include "core/model/t5_cost.h"

#include <cstdio>

namespace gs {

namespace {

int64_t feed_forward_matrices(const T5Config& c) { return c.is_gated() ? 3 : 2; }

constexpr double kFloatBytes = 4;

// The parameter count in doubles, as count_parameters counts them, so that no shape overflows.
double parameters_of(const T5Config& c) {
    const double d = c.d_model, inner = c.inner_dim(), ffn = double(feed_forward_matrices(c)) * d * c.d_ff;
    const double relative_bias = double(c.relative_attention_num_buckets) * c.num_heads;
    const double encoder = c.num_layers * (4 * d * inner + ffn + 2 * d) + relative_bias + d;
    const double decoder = c.num_decoder_layers * (8 * d * inner + ffn + 3 * d) + relative_bias + d;
    return double(c.vocab_size) * d * (c.tie_word_embeddings ? 1 : 2) + encoder + decoder;
}

// Values one sequence keeps for the backward pass (see TrainingMemory).
double activation_values_per_sequence(const T5Config& c, double input_length, double target_length) {
    const double d = c.d_model, inner = c.inner_dim(), heads = c.num_heads;
    const double attention_per_token = 4 * d + 4 * inner;
    const double ffn_per_token = 2 * d + 3.0 * c.d_ff;
    const double encoder_layer = input_length * (attention_per_token + ffn_per_token) + 3 * heads * input_length * input_length;
    const double decoder_layer = target_length * (2 * attention_per_token + ffn_per_token) +
                                 3 * heads * target_length * (target_length + input_length);
    return c.num_layers * encoder_layer + c.num_decoder_layers * decoder_layer + 3 * target_length * c.vocab_size;
}

}  // namespace

// Exact while the count is below 2^53, which every shape that fits in memory is.
int64_t count_parameters(const T5Config& c) { return static_cast<int64_t>(parameters_of(c)); }

double count_parameters_unbounded(const T5Config& c) { return parameters_of(c); }

double forward_flops_per_sequence(const T5Config& c, int64_t input_length, int64_t target_length) {
    const double d = c.d_model, inner = c.inner_dim(), ff = c.d_ff, vocab = c.vocab_size;
    const double le = input_length, ld = target_length;
    const double ffn_per_token = 2.0 * feed_forward_matrices(c) * d * ff;
    const double encoder_layer = 6 * le * d * inner + 4 * le * le * inner + 2 * le * inner * d + le * ffn_per_token;
    const double decoder_self = 6 * ld * d * inner + 4 * ld * ld * inner + 2 * ld * inner * d;
    const double decoder_cross = 2 * ld * d * inner + 4 * le * d * inner + 4 * ld * le * inner + 2 * ld * inner * d;
    const double decoder_layer = decoder_self + decoder_cross + ld * ffn_per_token;
    const double lm_head = 2 * ld * d * vocab;
    return c.num_layers * encoder_layer + c.num_decoder_layers * decoder_layer + lm_head;
}

double training_flops_per_step(const T5Config& c, int64_t batch, int64_t input_length, int64_t target_length) {
    return 3.0 * forward_flops_per_sequence(c, input_length, target_length) * static_cast<double>(batch);
}

TrainingMemory estimate_training_memory(const T5Config& c, int64_t batch, int64_t input_length, int64_t target_length,
                                        int optimizer_moments, bool bf16) {
    const double parameters = parameters_of(c);
    TrainingMemory memory;
    memory.weights = parameters * (kFloatBytes + (bf16 ? 2 : 0));
    memory.gradients = parameters * kFloatBytes;
    memory.optimizer = parameters * kFloatBytes * optimizer_moments;
    memory.activations = double(batch) * activation_values_per_sequence(c, double(input_length), double(target_length)) *
                         (bf16 ? 2 : kFloatBytes);
    return memory;
}

std::string bytes_text(double bytes) {
    char text[64];
    if (bytes >= 1e9) {
        std::snprintf(text, sizeof text, "%.3g GB", bytes / 1e9);
    } else {
        std::snprintf(text, sizeof text, "%.0f MB", bytes / 1e6);
    }
    return text;
}

std::string TrainingMemory::text() const {
    return bytes_text(total()) + " (weights " + bytes_text(weights) + ", gradients " + bytes_text(gradients) +
           ", optimiser " + bytes_text(optimizer) + ", activations " + bytes_text(activations) + ")";
}

}  // namespace gs
