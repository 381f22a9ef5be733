// T5 encoder-decoder computing exactly what HuggingFace's T5ForConditionalGeneration computes.
// Module and parameter names mirror HF's state_dict ("encoder.block.0.layer.0.SelfAttention.q.weight"),
// so named_parameters() is the checkpoint layout.
#pragma once

#include <cstdint>
#include <vector>

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/pimpl.h>

#include "core/model/t5_config.h"

namespace gs {

// Keys and values of one decoder layer, kept between incremental decoding steps.
struct DecoderLayerCache {
    at::Tensor self_key, self_value;    // [B, H, past, d_kv], grows by one position per step
    at::Tensor cross_key, cross_value;  // [B, H, encoder length, d_kv], computed once
};

struct DecoderCache {
    std::vector<DecoderLayerCache> layers;
    int64_t length = 0;  // decoder positions already processed

    // Keeps the batch rows named by `rows` (beam search reorders hypotheses this way).
    void select_rows(const at::Tensor& rows);
};

// A bias-free linear layer and an embedding table whose weights are allocated, not drawn:
// T5 initialises them itself, and a loaded or grown model overwrites them anyway.
class T5LinearImpl : public torch::nn::Module {
public:
    T5LinearImpl(int64_t in_features, int64_t out_features);
    at::Tensor forward(const at::Tensor& x);
    at::Tensor weight;  // [out_features, in_features]
};
TORCH_MODULE(T5Linear);

class T5EmbeddingImpl : public torch::nn::Module {
public:
    T5EmbeddingImpl(int64_t count, int64_t dimension);
    at::Tensor forward(const at::Tensor& ids);
    at::Tensor weight;  // [count, dimension]
};
TORCH_MODULE(T5Embedding);

// RMS norm computed in fp32 (no mean subtraction, no bias).
class T5LayerNormImpl : public torch::nn::Module {
public:
    T5LayerNormImpl(int64_t hidden_size, double eps);
    at::Tensor forward(const at::Tensor& x);
    at::Tensor weight;

private:
    double eps_;
};
TORCH_MODULE(T5LayerNorm);

class T5AttentionImpl : public torch::nn::Module {
public:
    T5AttentionImpl(const T5Config& config, bool is_decoder, bool has_relative_attention_bias);

    // Relative position bias [1, H, Q, K] for queries at positions [offset, offset + Q).
    at::Tensor compute_bias(int64_t query_length, int64_t key_length, int64_t query_offset = 0) const;

    // Self-attention over x [B, Q, d]; `bias` (position bias plus additive mask) broadcasts to
    // [B, H, Q, K]. With a cache, x holds only the new positions.
    at::Tensor self_attend(const at::Tensor& x, const at::Tensor& bias, DecoderLayerCache* cache);
    // Cross-attention from x to the encoder states; `mask` is additive [B, 1, 1, K] or undefined.
    at::Tensor cross_attend(const at::Tensor& x, const at::Tensor& encoder_states, const at::Tensor& mask,
                            DecoderLayerCache* cache);

    T5Linear q{nullptr}, k{nullptr}, v{nullptr}, o{nullptr};
    T5Embedding relative_attention_bias{nullptr};

private:
    at::Tensor split_heads(const at::Tensor& x) const;
    at::Tensor attend(const at::Tensor& query, const at::Tensor& key, const at::Tensor& value,
                      const at::Tensor& bias);

    bool is_decoder_;
    int64_t num_heads_, d_kv_, num_buckets_, max_distance_;
    double dropout_;
};
TORCH_MODULE(T5Attention);

// Gated ("wi_0", "wi_1", "wo") or plain ("wi", "wo") feed-forward, as HF's DenseReluDense.
class T5DenseImpl : public torch::nn::Module {
public:
    explicit T5DenseImpl(const T5Config& config);
    at::Tensor forward(const at::Tensor& x);
    T5Linear wi{nullptr}, wi_0{nullptr}, wi_1{nullptr}, wo{nullptr};

private:
    at::Tensor activate(const at::Tensor& x) const;
    std::string activation_;
    double dropout_;
};
TORCH_MODULE(T5Dense);

// HF's T5LayerSelfAttention / T5LayerCrossAttention / T5LayerFF: pre-norm sublayer + residual.
class T5SelfAttentionLayerImpl : public torch::nn::Module {
public:
    T5SelfAttentionLayerImpl(const T5Config& config, bool is_decoder, bool has_relative_attention_bias);
    at::Tensor forward(const at::Tensor& x, const at::Tensor& bias, DecoderLayerCache* cache);
    T5Attention SelfAttention{nullptr};
    T5LayerNorm layer_norm{nullptr};

private:
    double dropout_;
};
TORCH_MODULE(T5SelfAttentionLayer);

class T5CrossAttentionLayerImpl : public torch::nn::Module {
public:
    explicit T5CrossAttentionLayerImpl(const T5Config& config);
    at::Tensor forward(const at::Tensor& x, const at::Tensor& encoder_states, const at::Tensor& mask,
                       DecoderLayerCache* cache);
    T5Attention EncDecAttention{nullptr};
    T5LayerNorm layer_norm{nullptr};

private:
    double dropout_;
};
TORCH_MODULE(T5CrossAttentionLayer);

class T5FeedForwardLayerImpl : public torch::nn::Module {
public:
    explicit T5FeedForwardLayerImpl(const T5Config& config);
    at::Tensor forward(const at::Tensor& x);
    T5Dense DenseReluDense{nullptr};
    T5LayerNorm layer_norm{nullptr};

private:
    double dropout_;
};
TORCH_MODULE(T5FeedForwardLayer);

class T5BlockImpl : public torch::nn::Module {
public:
    T5BlockImpl(const T5Config& config, bool is_decoder, bool has_relative_attention_bias);
    at::Tensor forward(const at::Tensor& x, const at::Tensor& self_bias, const at::Tensor& encoder_states,
                       const at::Tensor& encoder_mask, DecoderLayerCache* cache);

    T5SelfAttentionLayer self_attention{nullptr};
    T5CrossAttentionLayer cross_attention{nullptr};  // decoder only
    T5FeedForwardLayer feed_forward{nullptr};

private:
    torch::nn::ModuleList layer;  // HF's "layer.{0,1,2}" naming
};
TORCH_MODULE(T5Block);

class T5StackImpl : public torch::nn::Module {
public:
    T5StackImpl(const T5Config& config, bool is_decoder, int64_t num_blocks);

    // Encoder: embeddings [B, L, d] and mask [B, L] (1 keep, 0 pad; may be undefined).
    at::Tensor encode(const at::Tensor& embeddings, const at::Tensor& attention_mask);
    // Decoder: causal self-attention, cross-attention to the encoder; with a cache the
    // embeddings hold only new positions.
    at::Tensor decode(const at::Tensor& embeddings, const at::Tensor& encoder_states,
                      const at::Tensor& encoder_attention_mask, DecoderCache* cache);

    const std::vector<T5Block>& blocks() const { return blocks_; }

private:
    at::Tensor run_blocks(at::Tensor hidden, const at::Tensor& self_bias, const at::Tensor& encoder_states,
                          const at::Tensor& encoder_mask, DecoderCache* cache);

    bool is_decoder_;
    double dropout_;
    std::vector<T5Block> blocks_;
    torch::nn::ModuleList block;
    T5LayerNorm final_layer_norm{nullptr};
};
TORCH_MODULE(T5Stack);

struct Seq2SeqOutput {
    at::Tensor logits;         // [B, Ld, V]
    at::Tensor loss;           // scalar mean cross-entropy over labels != -100 (undefined without labels)
    at::Tensor encoder_states; // [B, Le, d]
};

class T5ModelImpl : public torch::nn::Module {
public:
    // With initialize = false the weights are left as allocated (for loading a checkpoint).
    explicit T5ModelImpl(const T5Config& config, bool initialize = true);

    const T5Config& config() const { return config_; }

    at::Tensor encode(const at::Tensor& input_ids, const at::Tensor& attention_mask);
    // Decoder hidden states (after the final norm) for decoder_input_ids.
    at::Tensor decode(const at::Tensor& decoder_input_ids, const at::Tensor& encoder_states,
                      const at::Tensor& encoder_attention_mask, DecoderCache* cache = nullptr);
    // Vocabulary logits from decoder states, with the d_model^-0.5 rescale when the head is tied.
    at::Tensor lm_logits(const at::Tensor& decoder_states);

    // Teacher-forced pass. decoder_input_ids defaults to shift_right(labels).
    Seq2SeqOutput forward(const at::Tensor& input_ids, const at::Tensor& attention_mask,
                          const at::Tensor& labels, const at::Tensor& decoder_input_ids = {});

    // decoder_start_token_id first, labels[:-1] after it, -100 replaced by pad.
    at::Tensor shift_right(const at::Tensor& labels) const;

    // Draws every parameter as T5 initialises it (normal with per-tensor std, norms = 1), using
    // the default generator (seed it with torch::manual_seed for reproducibility).
    void initialize_weights();

    DecoderCache new_cache() const;
    int64_t parameter_count() const;

    T5Embedding shared{nullptr};
    T5Stack encoder{nullptr}, decoder{nullptr};
    T5Linear lm_head{nullptr};  // only when the head is untied

private:
    T5Config config_;
};
TORCH_MODULE(T5Model);

}  // namespace gs
