#include "core/model/t5_config.h"

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "core/io/files.h"

namespace gs {

namespace {

std::string lower(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
    return text;
}

// The part of feed_forward_proj after an optional "gated-" prefix.
std::string activation_name(const std::string& feed_forward_proj) {
    const std::string prefix = "gated-";
    if (feed_forward_proj.rfind(prefix, 0) == 0) return feed_forward_proj.substr(prefix.size());
    return feed_forward_proj;
}

void require(bool condition, const std::string& field, const std::string& rule) {
    if (!condition) throw std::invalid_argument("T5 config field '" + field + "': " + rule);
}

}  // namespace

bool T5Config::is_gated() const { return feed_forward_proj.rfind("gated-", 0) == 0; }

std::string T5Config::activation() const {
    // HF special-cases "gated-gelu" to the tanh approximation ("gelu_new").
    if (feed_forward_proj == "gated-gelu") return "gelu_new";
    return activation_name(feed_forward_proj);
}

void T5Config::validate() const {
    require(vocab_size > 0, "vocab_size", "must be positive");
    require(d_model > 0, "d_model", "must be positive");
    require(d_kv > 0, "d_kv", "must be positive");
    require(d_ff > 0, "d_ff", "must be positive");
    require(num_heads > 0, "num_heads", "must be positive");
    require(num_layers > 0, "num_layers", "must be positive");
    require(num_decoder_layers > 0, "num_decoder_layers", "must be positive");
    require(relative_attention_num_buckets >= 4 && relative_attention_num_buckets % 2 == 0,
            "relative_attention_num_buckets", "must be an even number of at least 4");
    require(relative_attention_max_distance > relative_attention_num_buckets / 4,
            "relative_attention_max_distance", "must exceed a quarter of the bucket count");
    require(dropout_rate >= 0.0 && dropout_rate < 1.0, "dropout_rate", "must be in [0, 1)");
    require(layer_norm_epsilon > 0.0, "layer_norm_epsilon", "must be positive");
    require(initializer_factor > 0.0, "initializer_factor", "must be positive");
    const std::string act = activation();
    require(act == "gelu_new" || act == "gelu" || act == "relu" || act == "silu", "feed_forward_proj",
            "'" + feed_forward_proj + "' is not one of relu, gelu, gelu_new, silu with an optional 'gated-' prefix");
    for (int64_t id : {pad_token_id, eos_token_id, decoder_start_token_id}) {
        require(id >= 0 && id < vocab_size, "pad_token_id/eos_token_id/decoder_start_token_id",
                "must lie inside the vocabulary");
    }
}

bool T5Config::is_preset(const std::string& name) {
    const std::string key = lower(name);
    return key == "tiny" || key == "t" || key == "small" || key == "s" || key == "base" || key == "b";
}

T5Config T5Config::with_shape_of(const T5Config& shape) const {
    T5Config result = *this;
    result.d_model = shape.d_model;
    result.d_kv = shape.d_kv;
    result.d_ff = shape.d_ff;
    result.num_heads = shape.num_heads;
    result.num_layers = shape.num_layers;
    result.num_decoder_layers = shape.num_decoder_layers;
    return result;
}

T5Config T5Config::preset(const std::string& name) {
    const std::string key = lower(name);
    T5Config config;
    config.vocab_size = 32128;
    config.d_kv = 64;
    config.feed_forward_proj = "gated-gelu";
    config.tie_word_embeddings = false;
    // T5 v1.1 is pre-trained with dropout off; fine-tuning turns it on.
    config.dropout_rate = 0.0;
    if (key == "tiny" || key == "t") {
        config.num_layers = config.num_decoder_layers = 6;
        config.d_model = 512, config.num_heads = 8, config.d_ff = 1024;
    } else if (key == "small" || key == "s") {
        config.num_layers = config.num_decoder_layers = 12;
        config.d_model = 512, config.num_heads = 8, config.d_ff = 1024;
    } else if (key == "base" || key == "b") {
        config.num_layers = config.num_decoder_layers = 12;
        config.d_model = 768, config.num_heads = 12, config.d_ff = 3072;
    } else {
        throw std::invalid_argument("unknown model preset '" + name + "' (expected tiny, small or base)");
    }
    return config;
}

nlohmann::json T5Config::to_hf_json() const {
    return {
        {"architectures", {"T5ForConditionalGeneration"}},
        {"model_type", "t5"},
        {"vocab_size", vocab_size},
        {"d_model", d_model},
        {"d_kv", d_kv},
        {"d_ff", d_ff},
        {"num_layers", num_layers},
        {"num_decoder_layers", num_decoder_layers},
        {"num_heads", num_heads},
        {"relative_attention_num_buckets", relative_attention_num_buckets},
        {"relative_attention_max_distance", relative_attention_max_distance},
        {"dropout_rate", dropout_rate},
        {"layer_norm_epsilon", layer_norm_epsilon},
        {"initializer_factor", initializer_factor},
        {"feed_forward_proj", feed_forward_proj},
        {"tie_word_embeddings", tie_word_embeddings},
        {"is_encoder_decoder", true},
        {"pad_token_id", pad_token_id},
        {"eos_token_id", eos_token_id},
        {"decoder_start_token_id", decoder_start_token_id},
    };
}

namespace {

template <typename T>
T read_field(const nlohmann::json& json, const std::string& key, T fallback, const std::string& source) {
    auto it = json.find(key);
    if (it == json.end() || it->is_null()) return fallback;
    bool type_ok;
    std::string expected;
    if constexpr (std::is_same_v<T, bool>) {
        type_ok = it->is_boolean(), expected = "a boolean";
    } else if constexpr (std::is_integral_v<T>) {
        type_ok = it->is_number_integer(), expected = "an integer";
    } else if constexpr (std::is_floating_point_v<T>) {
        type_ok = it->is_number(), expected = "a number";
    } else {
        type_ok = it->is_string(), expected = "a string";
    }
    if (!type_ok) {
        throw std::invalid_argument(source + ": field '" + key + "': expected " + expected + ", got " +
                                    it->dump());
    }
    return it->get<T>();
}

}  // namespace

T5Config T5Config::from_hf_json(const nlohmann::json& json, const std::string& source) {
    if (!json.is_object()) throw std::invalid_argument(source + ": expected a JSON object");
    const std::string model_type = read_field<std::string>(json, "model_type", "t5", source);
    if (model_type != "t5") {
        throw std::invalid_argument(source + ": field 'model_type': expected \"t5\", got \"" + model_type + "\"");
    }
    T5Config c;
    c.vocab_size = read_field<int64_t>(json, "vocab_size", 32128, source);
    c.d_model = read_field<int64_t>(json, "d_model", 512, source);
    c.d_kv = read_field<int64_t>(json, "d_kv", 64, source);
    c.d_ff = read_field<int64_t>(json, "d_ff", 2048, source);
    c.num_layers = read_field<int64_t>(json, "num_layers", 6, source);
    c.num_decoder_layers = read_field<int64_t>(json, "num_decoder_layers", c.num_layers, source);
    c.num_heads = read_field<int64_t>(json, "num_heads", 8, source);
    c.relative_attention_num_buckets = read_field<int64_t>(json, "relative_attention_num_buckets", 32, source);
    c.relative_attention_max_distance = read_field<int64_t>(json, "relative_attention_max_distance", 128, source);
    c.dropout_rate = read_field<double>(json, "dropout_rate", 0.1, source);
    c.layer_norm_epsilon = read_field<double>(json, "layer_norm_epsilon", 1e-6, source);
    c.initializer_factor = read_field<double>(json, "initializer_factor", 1.0, source);
    c.feed_forward_proj = read_field<std::string>(json, "feed_forward_proj", "relu", source);
    // PretrainedConfig ties the head when the key is absent (KE-T5's configs rely on this).
    c.tie_word_embeddings = read_field<bool>(json, "tie_word_embeddings", true, source);
    c.pad_token_id = read_field<int64_t>(json, "pad_token_id", 0, source);
    c.eos_token_id = read_field<int64_t>(json, "eos_token_id", 1, source);
    c.decoder_start_token_id = read_field<int64_t>(json, "decoder_start_token_id", c.pad_token_id, source);
    try {
        c.validate();
    } catch (const std::invalid_argument& error) {
        throw std::invalid_argument(source + ": " + error.what());
    }
    return c;
}

T5Config T5Config::load(const std::string& config_json_path) {
    return from_hf_json(read_json_file(config_json_path), config_json_path);
}

void T5Config::save(const std::string& config_json_path) const {
    write_file_atomically(config_json_path, to_hf_json().dump(2) + "\n");
}

bool T5Config::operator==(const T5Config& o) const {
    return to_hf_json() == o.to_hf_json();
}

}  // namespace gs
