#include "core/growth/growth_options.h"

#include <nlohmann/json.hpp>

#include "core/model/t5_config.h"

namespace gs {

GrowthOperator GrowthOperator::parse(const std::string& letters) {
    GrowthOperator op;
    if (letters.empty()) throw GrowthError("empty growth operator: expected d, f, a, da or df");
    for (char letter : letters) {
        if (letter == 'd' && !op.depth) {
            op.depth = true;
        } else if ((letter == 'f' || letter == 'a') && op.width == WidthOperator::none) {
            op.width = letter == 'f' ? WidthOperator::fpi : WidthOperator::aki;
        } else if (letter == 'd' || letter == 'f' || letter == 'a') {
            throw GrowthError("growth operator '" + letters + "': '" + std::string(1, letter) +
                              "' repeats a depth or width operator (one of d, and one of f or a)");
        } else {
            throw GrowthError("growth operator '" + letters + "': unknown letter '" + std::string(1, letter) +
                              "' (expected d = depth, f = width by FPI, a = width by AKI)");
        }
    }
    return op;
}

std::string GrowthOperator::letters() const {
    std::string text = depth ? "d" : "";
    if (width == WidthOperator::fpi) text += "f";
    if (width == WidthOperator::aki) text += "a";
    return text;
}

namespace {

template <typename Enum, size_t N>
Enum parse_name(const std::string& text, const char* what, const std::pair<const char*, Enum> (&names)[N]) {
    std::string expected;
    for (const auto& [name, value] : names) {
        if (text == name) return value;
        expected += (expected.empty() ? "" : ", ") + std::string(name);
    }
    throw std::invalid_argument(std::string(what) + " '" + text + "': expected " + expected);
}

template <typename Enum, size_t N>
std::string name_of(Enum value, const std::pair<const char*, Enum> (&names)[N]) {
    for (const auto& [name, candidate] : names) {
        if (candidate == value) return name;
    }
    return "?";
}

const std::pair<const char*, DepthStrategy> kDepthStrategies[] = {
    {"stack", DepthStrategy::stack},
    {"interpolate", DepthStrategy::interpolate},
    {"solar", DepthStrategy::solar},
    {"identity", DepthStrategy::identity},
};
const std::pair<const char*, AkiVariant> kAkiVariants[] = {
    {"literal", AkiVariant::literal},
    {"whole-unit", AkiVariant::whole_unit},
};

}  // namespace

std::string to_string(DepthStrategy strategy) { return name_of(strategy, kDepthStrategies); }
DepthStrategy parse_depth_strategy(const std::string& text) {
    return parse_name(text, "depth strategy", kDepthStrategies);
}
std::string to_string(AkiVariant variant) { return name_of(variant, kAkiVariants); }
AkiVariant parse_aki_variant(const std::string& text) { return parse_name(text, "AKI variant", kAkiVariants); }

nlohmann::json GrowthOptions::to_json() const {
    return {{"operator", op.letters()},
            {"depth_strategy", to_string(depth_strategy)},
            {"map_sampling", to_string(sampling)},
            {"exact", exact},
            {"noise", noise},
            {"aki_variant", to_string(aki_variant)},
            {"seed", seed}};
}

GrowthOptions GrowthOptions::from_json(const nlohmann::json& json, const std::string& source) {
    GrowthOptions options;
    std::string field;
    try {
        field = "operator";
        if (json.contains(field)) options.op = GrowthOperator::parse(json.at(field).get<std::string>());
        field = "depth_strategy";
        if (json.contains(field)) options.depth_strategy = parse_depth_strategy(json.at(field).get<std::string>());
        field = "map_sampling";
        if (json.contains(field)) options.sampling = parse_map_sampling(json.at(field).get<std::string>());
        field = "exact";
        if (json.contains(field)) options.exact = json.at(field).get<bool>();
        field = "noise";
        if (json.contains(field)) options.noise = json.at(field).get<double>();
        field = "aki_variant";
        if (json.contains(field)) options.aki_variant = parse_aki_variant(json.at(field).get<std::string>());
        field = "seed";
        if (json.contains(field)) options.seed = json.at(field).get<uint64_t>();
    } catch (const std::exception& error) {
        throw std::invalid_argument(source + ": field '" + field + "': " + error.what());
    }
    if (options.noise < 0) throw std::invalid_argument(source + ": field 'noise': expected a number >= 0");
    return options;
}

DepthMap DepthMap::build(int64_t source_layers, int64_t target_layers, DepthStrategy strategy) {
    if (source_layers <= 0 || target_layers < source_layers) {
        throw GrowthError("depth " + std::to_string(source_layers) + " -> " + std::to_string(target_layers) +
                          ": depth may only grow");
    }
    const int64_t L = source_layers;
    const int64_t T = target_layers;
    DepthMap map;
    map.source_of.resize(T);
    map.inserted.assign(T, false);
    for (int64_t l = 0; l < T; ++l) {
        switch (strategy) {
            case DepthStrategy::stack: {
                // Whole copies of the stack, then the rest from the top: 8 -> 12 = [0..7, 4..7].
                const int64_t whole = (T / L) * L;
                map.source_of[l] = l < whole ? l % L : L - (T - whole) + (l - whole);
                break;
            }
            case DepthStrategy::solar: {
                if (T > 2 * L) {
                    throw GrowthError("depth strategy solar grows at most to twice the depth (" + std::to_string(L) +
                                      " -> " + std::to_string(T) + " layers)");
                }
                const int64_t bottom = (T + 1) / 2;  // [0, bottom) then the top T - bottom layers
                map.source_of[l] = l < bottom ? l : L - (T - bottom) + (l - bottom);
                break;
            }
            case DepthStrategy::interpolate:
            case DepthStrategy::identity:
                map.source_of[l] = l * L / T;
                map.inserted[l] = strategy == DepthStrategy::identity && l > 0 &&
                                  map.source_of[l] == map.source_of[l - 1];
                break;
        }
    }
    return map;
}

namespace {

void require_equal(int64_t source, int64_t target, const char* field) {
    if (source != target) {
        throw GrowthError(std::string(field) + " " + std::to_string(source) + " -> " + std::to_string(target) +
                          ": growth keeps " + field + " fixed");
    }
}

void require_not_shrinking(int64_t source, int64_t target, const char* field) {
    if (target < source) {
        throw GrowthError(std::string(field) + " " + std::to_string(source) + " -> " + std::to_string(target) +
                          ": a model may only grow");
    }
}

void require_unchanged_by(const GrowthOperator& op, int64_t source, int64_t target, const char* field,
                          const char* remedy) {
    if (source != target) {
        throw GrowthError("operator '" + op.letters() + "' cannot change " + field + " (" + std::to_string(source) +
                          " -> " + std::to_string(target) + "); " + remedy);
    }
}

}  // namespace

void validate_growth(const T5Config& source, const T5Config& target, const GrowthOperator& op) {
    require_equal(source.vocab_size, target.vocab_size, "vocab_size");
    require_equal(source.d_kv, target.d_kv, "d_kv");
    require_equal(source.relative_attention_num_buckets, target.relative_attention_num_buckets,
                  "relative_attention_num_buckets");
    require_equal(source.relative_attention_max_distance, target.relative_attention_max_distance,
                  "relative_attention_max_distance");
    if (source.feed_forward_proj != target.feed_forward_proj) {
        throw GrowthError("feed_forward_proj " + source.feed_forward_proj + " -> " + target.feed_forward_proj +
                          ": growth keeps the FFN type");
    }
    if (source.tie_word_embeddings != target.tie_word_embeddings) {
        throw GrowthError("tie_word_embeddings differs between source and target: growth keeps the LM head type");
    }
    require_not_shrinking(source.d_model, target.d_model, "d_model");
    require_not_shrinking(source.num_heads, target.num_heads, "num_heads");
    require_not_shrinking(source.d_ff, target.d_ff, "d_ff");
    require_not_shrinking(source.num_layers, target.num_layers, "num_layers");
    require_not_shrinking(source.num_decoder_layers, target.num_decoder_layers, "num_decoder_layers");
    if (op.width == WidthOperator::none) {
        const char* remedy = "width needs f or a (df, da)";
        require_unchanged_by(op, source.d_model, target.d_model, "d_model", remedy);
        require_unchanged_by(op, source.num_heads, target.num_heads, "num_heads", remedy);
        require_unchanged_by(op, source.d_ff, target.d_ff, "d_ff", remedy);
    }
    if (!op.depth) {
        const char* remedy = "depth needs d (df, da)";
        require_unchanged_by(op, source.num_layers, target.num_layers, "num_layers", remedy);
        require_unchanged_by(op, source.num_decoder_layers, target.num_decoder_layers, "num_decoder_layers", remedy);
    }
}

}  // namespace gs
