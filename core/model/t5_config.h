// T5 model configuration, with HuggingFace's config.json keys and defaults.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json_fwd.hpp>

namespace gs {

struct T5Config {
    int64_t vocab_size = 32128;
    int64_t d_model = 512;
    int64_t d_kv = 64;
    int64_t d_ff = 2048;
    int64_t num_heads = 8;
    int64_t num_layers = 6;
    int64_t num_decoder_layers = 6;
    int64_t relative_attention_num_buckets = 32;
    int64_t relative_attention_max_distance = 128;
    double dropout_rate = 0.1;
    double layer_norm_epsilon = 1e-6;
    double initializer_factor = 1.0;
    // "gated-gelu" for T5 v1.1, "relu" for the original T5; any "[gated-]ACT".
    std::string feed_forward_proj = "gated-gelu";
    bool tie_word_embeddings = false;
    int64_t pad_token_id = 0;
    int64_t eos_token_id = 1;
    int64_t decoder_start_token_id = 0;

    int64_t inner_dim() const { return num_heads * d_kv; }
    bool is_gated() const;
    // The FFN activation: "gelu_new" (tanh approximation), "gelu", "relu" or "silu".
    std::string activation() const;

    // Throws std::invalid_argument naming the first field that is out of range.
    void validate() const;

    // The study's sizes: "tiny", "small", "base" (case-insensitive; "T", "S", "B" too).
    static T5Config preset(const std::string& name);
    static bool is_preset(const std::string& name);
    // This config with the layer counts and widths of `shape` (vocabulary, FFN type, dropout
    // and special ids stay): a preset applied to a model with its own tokenizer.
    T5Config with_shape_of(const T5Config& shape) const;

    nlohmann::json to_hf_json() const;
    // Reads HuggingFace's keys, applying HF's defaults to absent ones. `source` names the
    // file in error messages.
    static T5Config from_hf_json(const nlohmann::json& json, const std::string& source);
    static T5Config load(const std::string& config_json_path);
    void save(const std::string& config_json_path) const;

    bool operator==(const T5Config& other) const;
    bool operator!=(const T5Config& other) const { return !(*this == other); }
};

}  // namespace gs
