#include "core/model/t5_cost.h"

namespace gs {

namespace {

int64_t feed_forward_matrices(const T5Config& c) { return c.is_gated() ? 3 : 2; }

}  // namespace

int64_t count_parameters(const T5Config& c) {
    const int64_t d = c.d_model, inner = c.inner_dim();
    const int64_t ffn = feed_forward_matrices(c) * d * c.d_ff;
    const int64_t relative_bias = c.relative_attention_num_buckets * c.num_heads;
    const int64_t encoder_layer = 4 * d * inner + ffn + 2 * d;      // self-attention, FFN, 2 norms
    const int64_t decoder_layer = 8 * d * inner + ffn + 3 * d;      // + cross-attention, 3 norms
    const int64_t encoder = c.num_layers * encoder_layer + relative_bias + d;
    const int64_t decoder = c.num_decoder_layers * decoder_layer + relative_bias + d;
    const int64_t embeddings = c.vocab_size * d * (c.tie_word_embeddings ? 1 : 2);
    return embeddings + encoder + decoder;
}

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

}  // namespace gs
