#include "core/growth/growth_plan.h"

#include <cmath>

#include <nlohmann/json.hpp>

#include "core/common/hash.h"

namespace gs {

DimensionMap DimensionMap::net2net(IndexMap index) {
    DimensionMap map;
    const int64_t size = index.target_size();
    map.write_scale.assign(size, 1.0);
    map.read_scale.resize(size);
    for (int64_t j = 0; j < size; ++j) map.read_scale[j] = 1.0 / static_cast<double>(index.copies_of_target(j));
    map.index = std::move(index);
    return map;
}

DimensionMap DimensionMap::rms_preserving(IndexMap index) {
    DimensionMap map;
    const int64_t size = index.target_size();
    const double ratio = static_cast<double>(size) / static_cast<double>(index.source_size());
    map.write_scale.resize(size);
    map.read_scale.resize(size);
    for (int64_t j = 0; j < size; ++j) {
        const double copies = static_cast<double>(index.copies_of_target(j));
        map.write_scale[j] = std::sqrt(ratio / copies);
        map.read_scale[j] = 1.0 / (copies * map.write_scale[j]);
    }
    map.index = std::move(index);
    return map;
}

namespace {

// Each map's seed mixes the user's seed with the map's name: independent maps from one seed.
IndexMap draw(int64_t source, int64_t target, const GrowthOptions& options, const std::string& name) {
    return IndexMap::sample(source, target, options.sampling, hash_text(name, options.seed));
}

StackGrowthPlan plan_stack(const T5Config& source, const T5Config& target, const GrowthOptions& options,
                           const std::string& stack, int64_t source_layers, int64_t target_layers) {
    StackGrowthPlan plan;
    plan.heads = DimensionMap::net2net(draw(source.num_heads, target.num_heads, options, stack + ".heads"));
    for (int64_t l = 0; l < source_layers; ++l) {
        const std::string name = stack + ".block." + std::to_string(l) + ".ffn";
        plan.ffn.push_back(DimensionMap::net2net(draw(source.d_ff, target.d_ff, options, name)));
    }
    const DepthStrategy strategy = options.op.depth ? options.depth_strategy : DepthStrategy::stack;
    plan.depth = DepthMap::build(source_layers, target_layers, strategy);
    return plan;
}

}  // namespace

GrowthPlan plan_growth(const T5Config& source, const T5Config& target, const GrowthOptions& options) {
    validate_growth(source, target, options.op);
    GrowthPlan plan;
    plan.source = source;
    plan.target = target;
    plan.options = options;
    IndexMap hidden = draw(source.d_model, target.d_model, options, "hidden");
    plan.hidden = options.exact ? DimensionMap::rms_preserving(std::move(hidden)) : DimensionMap::net2net(std::move(hidden));
    plan.encoder = plan_stack(source, target, options, "encoder", source.num_layers, target.num_layers);
    plan.decoder = plan_stack(source, target, options, "decoder", source.num_decoder_layers, target.num_decoder_layers);
    return plan;
}

// --- JSON: the options and configs, plus the drawn maps so that a reader need not redraw them.

namespace {

nlohmann::json stack_json(const StackGrowthPlan& stack) {
    nlohmann::json ffn = nlohmann::json::array();
    for (const auto& map : stack.ffn) ffn.push_back(map.index.source_of);
    std::vector<int> inserted(stack.depth.inserted.begin(), stack.depth.inserted.end());
    return {{"head_map", stack.heads.index.source_of},
            {"ffn_maps", ffn},
            {"layer_map", stack.depth.source_of},
            {"identity_layers", inserted}};
}

void require_size(const std::string& field, size_t actual, int64_t expected) {
    if (static_cast<int64_t>(actual) != expected) {
        throw std::invalid_argument("field '" + field + "': " + std::to_string(actual) + " entries, expected " +
                                    std::to_string(expected) + " from the configs");
    }
}

StackGrowthPlan stack_from_json(const nlohmann::json& json, const std::string& stack_name, const T5Config& source,
                                const T5Config& target, int64_t source_layers, int64_t target_layers) {
    StackGrowthPlan stack;
    stack.heads = DimensionMap::net2net(IndexMap::from_sources(source.num_heads, json.at("head_map")));
    require_size(stack_name + ".head_map", stack.heads.index.source_of.size(), target.num_heads);
    for (const auto& map : json.at("ffn_maps")) {
        stack.ffn.push_back(DimensionMap::net2net(IndexMap::from_sources(source.d_ff, map)));
        require_size(stack_name + ".ffn_maps", stack.ffn.back().index.source_of.size(), target.d_ff);
    }
    require_size(stack_name + ".ffn_maps", stack.ffn.size(), source_layers);
    stack.depth.source_of = json.at("layer_map").get<std::vector<int64_t>>();
    for (int flag : json.at("identity_layers").get<std::vector<int>>()) stack.depth.inserted.push_back(flag != 0);
    require_size(stack_name + ".layer_map", stack.depth.source_of.size(), target_layers);
    require_size(stack_name + ".identity_layers", stack.depth.inserted.size(), target_layers);
    for (int64_t layer : stack.depth.source_of) {
        if (layer < 0 || layer >= source_layers) {
            throw std::invalid_argument("field '" + stack_name + ".layer_map': layer " + std::to_string(layer) +
                                        " is not a source layer");
        }
    }
    return stack;
}

}  // namespace

nlohmann::json GrowthPlan::to_json() const {
    return {{"format", "growthstudio-growth-plan"},
            {"version", 1},
            {"options", options.to_json()},
            {"source_config", source.to_hf_json()},
            {"target_config", target.to_hf_json()},
            {"hidden_map", hidden.index.source_of},
            {"encoder", stack_json(encoder)},
            {"decoder", stack_json(decoder)}};
}

GrowthPlan GrowthPlan::from_json(const nlohmann::json& json, const std::string& source_name) {
    GrowthPlan plan;
    try {
        plan.options = GrowthOptions::from_json(json.at("options"), source_name + ": options");
        plan.source = T5Config::from_hf_json(json.at("source_config"), source_name + ": source_config");
        plan.target = T5Config::from_hf_json(json.at("target_config"), source_name + ": target_config");
        IndexMap hidden = IndexMap::from_sources(plan.source.d_model, json.at("hidden_map"));
        plan.hidden = plan.options.exact ? DimensionMap::rms_preserving(std::move(hidden))
                                         : DimensionMap::net2net(std::move(hidden));
        require_size("hidden_map", plan.hidden.index.source_of.size(), plan.target.d_model);
        plan.encoder = stack_from_json(json.at("encoder"), "encoder", plan.source, plan.target, plan.source.num_layers,
                                       plan.target.num_layers);
        plan.decoder = stack_from_json(json.at("decoder"), "decoder", plan.source, plan.target,
                                       plan.source.num_decoder_layers, plan.target.num_decoder_layers);
    } catch (const std::exception& error) {
        const std::string message = error.what();
        const bool named = message.rfind(source_name, 0) == 0;  // the config readers name the file already
        throw std::invalid_argument(named ? message : source_name + ": " + message);
    }
    return plan;
}

}  // namespace gs
