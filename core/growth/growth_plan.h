// The maps of one growth step, drawn once from the seed: a hidden map for the whole model (the
// embedding is shared by both stacks), one head map per stack (the relative position bias is
// shared by every layer of a stack; cross-attention uses its stack's map), one FFN map per
// source layer, and the layer tables of depth growth. Saved beside a grown checkpoint.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/growth/growth_options.h"
#include "core/growth/index_map.h"
#include "core/model/t5_config.h"

namespace gs {

// An index map with the scales that make copies preserve the function: target unit j holds
// write_scale[j] * (source unit g(j)); readers multiply it by read_scale[j], and
// sum over the copies of write * read = 1.
struct DimensionMap {
    IndexMap index;
    std::vector<double> write_scale;
    std::vector<double> read_scale;

    // Net2Net: copies unchanged, readers divide by the copy count.
    static DimensionMap net2net(IndexMap index);
    // RMS-preserving: copies scaled by sqrt(D / (d * copies)) so that every RMS norm sees the
    // same RMS as in the source model; exact at any ratio.
    static DimensionMap rms_preserving(IndexMap index);
};

struct StackGrowthPlan {
    DimensionMap heads;               // over heads (rows of q/k/v are head * d_kv + t)
    std::vector<DimensionMap> ffn;    // one per source layer
    DepthMap depth;
};

struct GrowthPlan {
    T5Config source;
    T5Config target;
    GrowthOptions options;
    DimensionMap hidden;
    StackGrowthPlan encoder;
    StackGrowthPlan decoder;

    nlohmann::json to_json() const;
    static GrowthPlan from_json(const nlohmann::json& json, const std::string& source_name);
};

// Validates the request (GrowthError naming the rule) and draws every map from options.seed.
GrowthPlan plan_growth(const T5Config& source, const T5Config& target, const GrowthOptions& options);

}  // namespace gs
