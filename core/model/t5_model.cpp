#include "core/model/t5_model.h"

#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <torch/nn/functional/loss.h>
#include <torch/nn/init.h>

namespace gs {

namespace {

T5Linear make_linear(int64_t in_features, int64_t out_features) { return T5Linear(in_features, out_features); }

at::Tensor apply_dropout(const at::Tensor& x, double p, bool training) {
    if (!training || p == 0.0) return x;
    return at::dropout(x, p, training);
}

// The most negative finite value of the dtype: HF's additive mask value.
double mask_value(at::ScalarType type) {
    switch (type) {
        case at::kHalf: return -65504.0;
        case at::kBFloat16: return -3.3895313892515355e38;
        case at::kDouble: return std::numeric_limits<double>::lowest();
        default: return std::numeric_limits<float>::lowest();
    }
}

// Below this many input rows, separate products beat one product over concatenated weights.
constexpr int64_t kMinRowsToFuse = 64;

// Several bias-free projections of the same input. For many rows one wide GEMM (and its
// backward) is faster than several narrow ones; concatenating the weights copies them once per
// call, about 1/rows of the products' cost, so incremental decoding (one row per step) skips it.
std::vector<at::Tensor> project(const at::Tensor& x, const std::vector<at::Tensor>& weights) {
    const int64_t rows = x.numel() / x.size(-1);
    if (rows < kMinRowsToFuse) {
        std::vector<at::Tensor> outputs;
        for (const auto& weight : weights) outputs.push_back(at::linear(x, weight));
        return outputs;
    }
    std::vector<int64_t> sizes;
    for (const auto& weight : weights) sizes.push_back(weight.size(0));
    return at::linear(x, at::cat(weights, 0)).split_with_sizes(sizes, -1);
}

// Additive encoder mask [B, 1, 1, K] from a 0/1 mask [B, K].
at::Tensor additive_padding_mask(const at::Tensor& attention_mask, at::ScalarType type) {
    if (!attention_mask.defined()) return {};
    at::Tensor mask = attention_mask.to(type).unsqueeze(1).unsqueeze(2);
    return (1.0 - mask) * mask_value(type);
}

// HF's _relative_position_bucket, with the same fp32 logarithm and truncation.
at::Tensor relative_position_bucket(const at::Tensor& relative_position, bool bidirectional, int64_t num_buckets,
                                    int64_t max_distance) {
    at::Tensor buckets = at::zeros_like(relative_position);
    at::Tensor distance;
    if (bidirectional) {
        num_buckets /= 2;
        buckets = buckets + (relative_position > 0).to(at::kLong) * num_buckets;
        distance = relative_position.abs();
    } else {
        distance = -at::minimum(relative_position, at::zeros_like(relative_position));
    }
    const int64_t max_exact = num_buckets / 2;
    at::Tensor is_small = distance < max_exact;
    at::Tensor if_large = max_exact + (at::log(distance.to(at::kFloat) / static_cast<double>(max_exact)) /
                                       std::log(static_cast<double>(max_distance) / max_exact) *
                                       static_cast<double>(num_buckets - max_exact))
                                          .to(at::kLong);
    if_large = at::clamp_max(if_large, num_buckets - 1);
    return buckets + at::where(is_small, distance, if_large);
}

}  // namespace

void DecoderCache::select_rows(const at::Tensor& rows) {
    for (auto& layer : layers) {
        for (at::Tensor* t : {&layer.self_key, &layer.self_value, &layer.cross_key, &layer.cross_value}) {
            if (t->defined()) *t = t->index_select(0, rows);
        }
    }
}

// ---------------------------------------------------------------------------------------------

T5LinearImpl::T5LinearImpl(int64_t in_features, int64_t out_features) {
    weight = register_parameter("weight", at::empty({out_features, in_features}));
}

at::Tensor T5LinearImpl::forward(const at::Tensor& x) { return at::linear(x, weight); }

T5EmbeddingImpl::T5EmbeddingImpl(int64_t count, int64_t dimension) {
    weight = register_parameter("weight", at::empty({count, dimension}));
}

at::Tensor T5EmbeddingImpl::forward(const at::Tensor& ids) { return at::embedding(weight, ids); }

T5LayerNormImpl::T5LayerNormImpl(int64_t hidden_size, double eps) : eps_(eps) {
    weight = register_parameter("weight", at::ones({hidden_size}));
}

at::Tensor T5LayerNormImpl::forward(const at::Tensor& x) {
    at::Tensor variance = x.to(at::kFloat).pow(2).mean(-1, /*keepdim=*/true);
    at::Tensor normalized = x * at::rsqrt(variance + eps_);
    if (weight.scalar_type() == at::kHalf || weight.scalar_type() == at::kBFloat16) {
        normalized = normalized.to(weight.scalar_type());
    }
    return weight * normalized;
}

// ---------------------------------------------------------------------------------------------

T5AttentionImpl::T5AttentionImpl(const T5Config& config, bool is_decoder, bool has_relative_attention_bias)
    : is_decoder_(is_decoder),
      num_heads_(config.num_heads),
      d_kv_(config.d_kv),
      num_buckets_(config.relative_attention_num_buckets),
      max_distance_(config.relative_attention_max_distance),
      dropout_(config.dropout_rate) {
    const int64_t inner = config.inner_dim();
    q = register_module("q", make_linear(config.d_model, inner));
    k = register_module("k", make_linear(config.d_model, inner));
    v = register_module("v", make_linear(config.d_model, inner));
    o = register_module("o", make_linear(inner, config.d_model));
    if (has_relative_attention_bias) {
        relative_attention_bias = register_module(
            "relative_attention_bias", T5Embedding(config.relative_attention_num_buckets, config.num_heads));
    }
}

at::Tensor T5AttentionImpl::compute_bias(int64_t query_length, int64_t key_length, int64_t query_offset) const {
    if (!relative_attention_bias) throw std::logic_error("compute_bias called on a layer without relative bias");
    const at::Tensor& table = relative_attention_bias->weight;
    auto long_options = at::TensorOptions().dtype(at::kLong).device(table.device());
    at::Tensor context = at::arange(query_offset, query_offset + query_length, long_options).unsqueeze(1);
    at::Tensor memory = at::arange(key_length, long_options).unsqueeze(0);
    at::Tensor buckets = relative_position_bucket(memory - context, !is_decoder_, num_buckets_, max_distance_);
    // [Q, K, H] -> [1, H, Q, K]
    return at::embedding(table, buckets).permute({2, 0, 1}).unsqueeze(0);
}

at::Tensor T5AttentionImpl::split_heads(const at::Tensor& x) const {
    return x.view({x.size(0), x.size(1), num_heads_, d_kv_}).transpose(1, 2);
}

at::Tensor T5AttentionImpl::attend(const at::Tensor& query, const at::Tensor& key, const at::Tensor& value,
                                   const at::Tensor& bias) {
    // T5 folds the 1/sqrt(d_kv) scaling into the query initialisation: none here.
    at::Tensor scores = at::matmul(query, key.transpose(-1, -2));
    if (bias.defined()) scores = scores + bias;
    at::Tensor weights = at::softmax(scores.to(at::kFloat), -1).to(value.scalar_type());
    weights = apply_dropout(weights, dropout_, is_training());
    at::Tensor context = at::matmul(weights, value);  // [B, H, Q, d_kv]
    context = context.transpose(1, 2).reshape({context.size(0), context.size(2), num_heads_ * d_kv_});
    return o->forward(context);
}

at::Tensor T5AttentionImpl::self_attend(const at::Tensor& x, const at::Tensor& bias, DecoderLayerCache* cache) {
    std::vector<at::Tensor> qkv = project(x, {q->weight, k->weight, v->weight});
    at::Tensor query = split_heads(qkv[0]), key = split_heads(qkv[1]), value = split_heads(qkv[2]);
    if (cache) {
        if (cache->self_key.defined()) {
            key = at::cat({cache->self_key, key}, 2);
            value = at::cat({cache->self_value, value}, 2);
        }
        cache->self_key = key;
        cache->self_value = value;
    }
    return attend(query, key, value, bias);
}

at::Tensor T5AttentionImpl::cross_attend(const at::Tensor& x, const at::Tensor& encoder_states,
                                         const at::Tensor& mask, DecoderLayerCache* cache) {
    at::Tensor query = split_heads(q->forward(x));
    at::Tensor key, value;
    if (cache && cache->cross_key.defined()) {
        key = cache->cross_key;
        value = cache->cross_value;
    } else {
        std::vector<at::Tensor> kv = project(encoder_states, {k->weight, v->weight});
        key = split_heads(kv[0]);
        value = split_heads(kv[1]);
        if (cache) {
            cache->cross_key = key;
            cache->cross_value = value;
        }
    }
    return attend(query, key, value, mask);
}

// ---------------------------------------------------------------------------------------------

T5DenseImpl::T5DenseImpl(const T5Config& config) : activation_(config.activation()), dropout_(config.dropout_rate) {
    if (config.is_gated()) {
        wi_0 = register_module("wi_0", make_linear(config.d_model, config.d_ff));
        wi_1 = register_module("wi_1", make_linear(config.d_model, config.d_ff));
    } else {
        wi = register_module("wi", make_linear(config.d_model, config.d_ff));
    }
    wo = register_module("wo", make_linear(config.d_ff, config.d_model));
}

at::Tensor T5DenseImpl::activate(const at::Tensor& x) const {
    if (activation_ == "gelu_new") return at::gelu(x, "tanh");
    if (activation_ == "gelu") return at::gelu(x);
    if (activation_ == "silu") return at::silu(x);
    return at::relu(x);
}

at::Tensor T5DenseImpl::forward(const at::Tensor& x) {
    at::Tensor hidden;
    if (wi_0) {
        std::vector<at::Tensor> gate_and_linear = project(x, {wi_0->weight, wi_1->weight});
        hidden = activate(gate_and_linear[0]) * gate_and_linear[1];
    } else {
        hidden = activate(wi->forward(x));
    }
    hidden = apply_dropout(hidden, dropout_, is_training());
    // HF keeps wo in fp32 for stability and casts its input to wo's dtype.
    return wo->forward(hidden.to(wo->weight.scalar_type()));
}

// ---------------------------------------------------------------------------------------------

T5SelfAttentionLayerImpl::T5SelfAttentionLayerImpl(const T5Config& config, bool is_decoder,
                                                   bool has_relative_attention_bias)
    : dropout_(config.dropout_rate) {
    SelfAttention = register_module("SelfAttention", T5Attention(config, is_decoder, has_relative_attention_bias));
    layer_norm = register_module("layer_norm", T5LayerNorm(config.d_model, config.layer_norm_epsilon));
}

at::Tensor T5SelfAttentionLayerImpl::forward(const at::Tensor& x, const at::Tensor& bias, DecoderLayerCache* cache) {
    return x + apply_dropout(SelfAttention->self_attend(layer_norm->forward(x), bias, cache), dropout_, is_training());
}

T5CrossAttentionLayerImpl::T5CrossAttentionLayerImpl(const T5Config& config) : dropout_(config.dropout_rate) {
    EncDecAttention = register_module("EncDecAttention", T5Attention(config, /*is_decoder=*/true, false));
    layer_norm = register_module("layer_norm", T5LayerNorm(config.d_model, config.layer_norm_epsilon));
}

at::Tensor T5CrossAttentionLayerImpl::forward(const at::Tensor& x, const at::Tensor& encoder_states,
                                              const at::Tensor& mask, DecoderLayerCache* cache) {
    at::Tensor attended = EncDecAttention->cross_attend(layer_norm->forward(x), encoder_states, mask, cache);
    return x + apply_dropout(attended, dropout_, is_training());
}

T5FeedForwardLayerImpl::T5FeedForwardLayerImpl(const T5Config& config) : dropout_(config.dropout_rate) {
    DenseReluDense = register_module("DenseReluDense", T5Dense(config));
    layer_norm = register_module("layer_norm", T5LayerNorm(config.d_model, config.layer_norm_epsilon));
}

at::Tensor T5FeedForwardLayerImpl::forward(const at::Tensor& x) {
    return x + apply_dropout(DenseReluDense->forward(layer_norm->forward(x)), dropout_, is_training());
}

// ---------------------------------------------------------------------------------------------

T5BlockImpl::T5BlockImpl(const T5Config& config, bool is_decoder, bool has_relative_attention_bias) {
    layer = register_module("layer", torch::nn::ModuleList());
    self_attention = T5SelfAttentionLayer(config, is_decoder, has_relative_attention_bias);
    layer->push_back(self_attention);
    if (is_decoder) {
        cross_attention = T5CrossAttentionLayer(config);
        layer->push_back(cross_attention);
    }
    feed_forward = T5FeedForwardLayer(config);
    layer->push_back(feed_forward);
}

at::Tensor T5BlockImpl::forward(const at::Tensor& x, const at::Tensor& self_bias, const at::Tensor& encoder_states,
                                const at::Tensor& encoder_mask, DecoderLayerCache* cache) {
    at::Tensor hidden = self_attention->forward(x, self_bias, cache);
    if (cross_attention) hidden = cross_attention->forward(hidden, encoder_states, encoder_mask, cache);
    return feed_forward->forward(hidden);
}

// ---------------------------------------------------------------------------------------------

T5StackImpl::T5StackImpl(const T5Config& config, bool is_decoder, int64_t num_blocks)
    : is_decoder_(is_decoder), dropout_(config.dropout_rate) {
    block = register_module("block", torch::nn::ModuleList());
    for (int64_t i = 0; i < num_blocks; ++i) {
        // Only block 0 owns the relative position bias; every later block reuses it.
        blocks_.push_back(T5Block(config, is_decoder, /*has_relative_attention_bias=*/i == 0));
        block->push_back(blocks_.back());
    }
    final_layer_norm = register_module("final_layer_norm", T5LayerNorm(config.d_model, config.layer_norm_epsilon));
}

at::Tensor T5StackImpl::run_blocks(at::Tensor hidden, const at::Tensor& self_bias, const at::Tensor& encoder_states,
                                   const at::Tensor& encoder_mask, DecoderCache* cache) {
    hidden = apply_dropout(hidden, dropout_, is_training());
    for (size_t i = 0; i < blocks_.size(); ++i) {
        DecoderLayerCache* layer_cache = cache ? &cache->layers[i] : nullptr;
        hidden = blocks_[i]->forward(hidden, self_bias, encoder_states, encoder_mask, layer_cache);
    }
    return apply_dropout(final_layer_norm->forward(hidden), dropout_, is_training());
}

at::Tensor T5StackImpl::encode(const at::Tensor& embeddings, const at::Tensor& attention_mask) {
    const int64_t length = embeddings.size(1);
    at::Tensor bias = blocks_.front()->self_attention->SelfAttention->compute_bias(length, length);
    at::Tensor mask = additive_padding_mask(attention_mask, embeddings.scalar_type());
    if (mask.defined()) bias = bias + mask;
    return run_blocks(embeddings, bias, {}, {}, nullptr);
}

at::Tensor T5StackImpl::decode(const at::Tensor& embeddings, const at::Tensor& encoder_states,
                               const at::Tensor& encoder_attention_mask, DecoderCache* cache) {
    const int64_t new_length = embeddings.size(1);
    const int64_t past = cache ? cache->length : 0;
    const int64_t total = past + new_length;
    at::Tensor bias = blocks_.front()->self_attention->SelfAttention->compute_bias(new_length, total, past);
    // Causal mask: query at position past+i sees keys 0..past+i.
    auto long_options = at::TensorOptions().dtype(at::kLong).device(embeddings.device());
    at::Tensor query_positions = at::arange(past, total, long_options).unsqueeze(1);
    at::Tensor key_positions = at::arange(total, long_options).unsqueeze(0);
    at::Tensor future = (key_positions > query_positions).to(bias.scalar_type()) * mask_value(bias.scalar_type());
    bias = bias + future.unsqueeze(0).unsqueeze(0);
    at::Tensor encoder_mask = additive_padding_mask(encoder_attention_mask, embeddings.scalar_type());
    if (cache && cache->layers.size() != blocks_.size()) cache->layers.resize(blocks_.size());
    at::Tensor out = run_blocks(embeddings, bias, encoder_states, encoder_mask, cache);
    if (cache) cache->length = total;
    return out;
}

// ---------------------------------------------------------------------------------------------

T5ModelImpl::T5ModelImpl(const T5Config& config, bool initialize) : config_(config) {
    config_.validate();
    shared = register_module("shared", T5Embedding(config_.vocab_size, config_.d_model));
    encoder = register_module("encoder", T5Stack(config_, /*is_decoder=*/false, config_.num_layers));
    decoder = register_module("decoder", T5Stack(config_, /*is_decoder=*/true, config_.num_decoder_layers));
    if (!config_.tie_word_embeddings) lm_head = register_module("lm_head", make_linear(config_.d_model, config_.vocab_size));
    if (initialize) initialize_weights();
}

at::Tensor T5ModelImpl::encode(const at::Tensor& input_ids, const at::Tensor& attention_mask) {
    return encoder->encode(shared->forward(input_ids), attention_mask);
}

at::Tensor T5ModelImpl::decode(const at::Tensor& decoder_input_ids, const at::Tensor& encoder_states,
                               const at::Tensor& encoder_attention_mask, DecoderCache* cache) {
    return decoder->decode(shared->forward(decoder_input_ids), encoder_states, encoder_attention_mask, cache);
}

at::Tensor T5ModelImpl::lm_logits(const at::Tensor& decoder_states) {
    if (lm_head) return lm_head->forward(decoder_states);
    // Mesh TensorFlow's convention for a tied head.
    return at::linear(decoder_states * std::pow(static_cast<double>(config_.d_model), -0.5), shared->weight);
}

at::Tensor T5ModelImpl::shift_right(const at::Tensor& labels) const {
    at::Tensor shifted = at::full_like(labels, config_.decoder_start_token_id);
    if (labels.size(-1) > 1) {
        shifted.narrow(-1, 1, labels.size(-1) - 1).copy_(labels.narrow(-1, 0, labels.size(-1) - 1));
    }
    return shifted.masked_fill(shifted == -100, config_.pad_token_id);
}

Seq2SeqOutput T5ModelImpl::forward(const at::Tensor& input_ids, const at::Tensor& attention_mask,
                                   const at::Tensor& labels, const at::Tensor& decoder_input_ids) {
    Seq2SeqOutput out;
    out.encoder_states = encode(input_ids, attention_mask);
    at::Tensor decoder_ids = decoder_input_ids.defined() ? decoder_input_ids : shift_right(labels);
    out.logits = lm_logits(decode(decoder_ids, out.encoder_states, attention_mask));
    if (labels.defined()) {
        namespace F = torch::nn::functional;
        out.loss = F::cross_entropy(out.logits.reshape({-1, out.logits.size(-1)}).to(at::kFloat), labels.reshape({-1}),
                                    F::CrossEntropyFuncOptions().ignore_index(-100));
    }
    return out;
}

void T5ModelImpl::initialize_weights() {
    at::NoGradGuard no_grad;
    const double f = config_.initializer_factor;
    const double d_model = static_cast<double>(config_.d_model);
    const double d_kv = static_cast<double>(config_.d_kv);
    const double d_ff = static_cast<double>(config_.d_ff);
    const double inner = static_cast<double>(config_.inner_dim());
    // Parameter names end in a leaf name that fixes T5's standard deviation for it.
    for (auto& item : named_parameters()) {
        const std::string& name = item.key();
        at::Tensor& p = item.value();
        auto ends_with = [&](const std::string& suffix) {
            return name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
        };
        double std;
        if (ends_with("layer_norm.weight")) {
            p.fill_(f);
            continue;
        } else if (name == "shared.weight" || name == "lm_head.weight") {
            std = f;
        } else if (ends_with(".q.weight")) {
            std = f * std::pow(d_model * d_kv, -0.5);
        } else if (ends_with(".o.weight")) {
            std = f * std::pow(inner, -0.5);
        } else if (ends_with(".wo.weight")) {
            std = f * std::pow(d_ff, -0.5);
        } else {
            // k, v, relative_attention_bias, wi, wi_0, wi_1
            std = f * std::pow(d_model, -0.5);
        }
        p.normal_(0.0, std);
    }
}

DecoderCache T5ModelImpl::new_cache() const {
    DecoderCache cache;
    cache.layers.resize(static_cast<size_t>(config_.num_decoder_layers));
    return cache;
}

int64_t T5ModelImpl::parameter_count() const {
    int64_t total = 0;
    for (const auto& p : parameters()) total += p.numel();
    return total;
}

}  // namespace gs
