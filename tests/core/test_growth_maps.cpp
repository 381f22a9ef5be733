// Growth maps, layer tables, operator letters and the rules that refuse impossible growth.
#include <gtest/gtest.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "core/growth/growth_plan.h"

namespace gs {
namespace {

using Layers = std::vector<int64_t>;

TEST(IndexMap, BalancedMapsCopyEveryUnitEquallyOften) {
    const IndexMap map = IndexMap::sample(512, 768, MapSampling::balanced, 7);
    ASSERT_EQ(map.target_size(), 768);
    for (int64_t j = 0; j < 512; ++j) EXPECT_EQ(map.source_of[j], j);
    const auto [low, high] = std::minmax_element(map.copies.begin(), map.copies.end());
    EXPECT_EQ(*low, 1);
    EXPECT_EQ(*high, 2);
    EXPECT_EQ(std::count(map.copies.begin(), map.copies.end(), 2), 256);

    const IndexMap doubled = IndexMap::sample(8, 16, MapSampling::balanced, 3);
    EXPECT_TRUE(std::all_of(doubled.copies.begin(), doubled.copies.end(), [](int64_t c) { return c == 2; }));
}

TEST(IndexMap, UniformMapsDrawWithReplacement) {
    // bert2BERT's literal rule: at x2 some units get no extra copy and others several.
    const IndexMap map = IndexMap::sample(256, 512, MapSampling::uniform, 1);
    EXPECT_GT(*std::max_element(map.copies.begin(), map.copies.end()), 2);
    EXPECT_EQ(*std::min_element(map.copies.begin(), map.copies.end()), 1);
}

TEST(IndexMap, TheSeedDecidesTheMap) {
    EXPECT_EQ(IndexMap::sample(64, 100, MapSampling::balanced, 5).source_of,
              IndexMap::sample(64, 100, MapSampling::balanced, 5).source_of);
    EXPECT_NE(IndexMap::sample(64, 100, MapSampling::balanced, 5).source_of,
              IndexMap::sample(64, 100, MapSampling::balanced, 6).source_of);
    // Fixed values: the portable generator gives these on every machine.
    const IndexMap map = IndexMap::sample(4, 8, MapSampling::balanced, 42);
    Layers tail(map.source_of.begin() + 4, map.source_of.end());
    std::sort(tail.begin(), tail.end());
    EXPECT_EQ(tail, (Layers{0, 1, 2, 3}));
}

TEST(IndexMap, RejectsShrinkingAndMalformedMaps) {
    EXPECT_THROW(IndexMap::sample(8, 4, MapSampling::balanced, 0), std::invalid_argument);
    EXPECT_THROW(IndexMap::from_sources(4, {0, 1, 3, 3, 2}), std::invalid_argument);  // not identity on old units
    EXPECT_THROW(IndexMap::from_sources(4, {0, 1, 2, 3, 4}), std::invalid_argument);  // out of range
}

TEST(DepthMap, EightToTwelveLayerTablesForEveryStrategy) {
    EXPECT_EQ(DepthMap::build(8, 12, DepthStrategy::stack).source_of, (Layers{0, 1, 2, 3, 4, 5, 6, 7, 4, 5, 6, 7}));
    EXPECT_EQ(DepthMap::build(8, 12, DepthStrategy::interpolate).source_of,
              (Layers{0, 0, 1, 2, 2, 3, 4, 4, 5, 6, 6, 7}));
    EXPECT_EQ(DepthMap::build(8, 12, DepthStrategy::solar).source_of, (Layers{0, 1, 2, 3, 4, 5, 2, 3, 4, 5, 6, 7}));
    const DepthMap identity = DepthMap::build(8, 12, DepthStrategy::identity);
    EXPECT_EQ(identity.source_of, (Layers{0, 0, 1, 2, 2, 3, 4, 4, 5, 6, 6, 7}));
    EXPECT_EQ(identity.inserted, (std::vector<bool>{0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0}));
    for (auto strategy : {DepthStrategy::stack, DepthStrategy::interpolate, DepthStrategy::solar}) {
        const DepthMap map = DepthMap::build(8, 12, strategy);
        EXPECT_EQ(std::count(map.inserted.begin(), map.inserted.end(), true), 0);
    }
}

TEST(DepthMap, IntegerMultiplesStackTheWholeStack) {
    EXPECT_EQ(DepthMap::build(6, 12, DepthStrategy::stack).source_of, (Layers{0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5}));
    EXPECT_EQ(DepthMap::build(3, 12, DepthStrategy::stack).source_of, (Layers{0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2}));
    EXPECT_EQ(DepthMap::build(6, 12, DepthStrategy::solar).source_of, (Layers{0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5}));
    EXPECT_EQ(DepthMap::build(4, 4, DepthStrategy::interpolate).source_of, (Layers{0, 1, 2, 3}));
    EXPECT_THROW(DepthMap::build(4, 12, DepthStrategy::solar), GrowthError);
    EXPECT_THROW(DepthMap::build(12, 8, DepthStrategy::stack), GrowthError);
}

TEST(GrowthOperator, ParsesAndPrintsTheStudysLetters) {
    for (const std::string letters : {"d", "f", "a", "da", "df"}) {
        EXPECT_EQ(GrowthOperator::parse(letters).letters(), letters);
    }
    EXPECT_EQ(GrowthOperator::parse("ad").letters(), "da");
    try {
        GrowthOperator::parse("dx");
        FAIL();
    } catch (const GrowthError& error) {
        EXPECT_NE(std::string(error.what()).find("unknown letter 'x'"), std::string::npos) << error.what();
    }
    EXPECT_THROW(GrowthOperator::parse("fa"), GrowthError);
    EXPECT_THROW(GrowthOperator::parse("dd"), GrowthError);
    EXPECT_THROW(GrowthOperator::parse(""), GrowthError);
}

std::string growth_error(const T5Config& source, const T5Config& target, const std::string& op) {
    try {
        validate_growth(source, target, GrowthOperator::parse(op));
    } catch (const GrowthError& error) {
        return error.what();
    }
    return "";
}

TEST(ValidateGrowth, NamesTheRuleBroken) {
    const T5Config tiny = T5Config::preset("tiny"), small = T5Config::preset("small"), base = T5Config::preset("base");
    EXPECT_EQ(growth_error(tiny, small, "d"), "");
    EXPECT_EQ(growth_error(small, base, "a"), "");
    EXPECT_EQ(growth_error(tiny, base, "da"), "");
    EXPECT_EQ(growth_error(small, base, "d"),
              "operator 'd' cannot change d_model (512 -> 768); width needs f or a (df, da)");
    EXPECT_EQ(growth_error(tiny, small, "f"),
              "operator 'f' cannot change num_layers (6 -> 12); depth needs d (df, da)");
    EXPECT_EQ(growth_error(base, small, "f"), "d_model 768 -> 512: a model may only grow");
    T5Config other_vocab = base;
    other_vocab.vocab_size = 64000;
    EXPECT_EQ(growth_error(small, other_vocab, "f"), "vocab_size 32128 -> 64000: growth keeps vocab_size fixed");
    T5Config wider_heads = base;
    wider_heads.d_kv = 128;
    EXPECT_EQ(growth_error(small, wider_heads, "f"), "d_kv 64 -> 128: growth keeps d_kv fixed");
}

TEST(GrowthPlan, MapsRoundTripThroughJson) {
    GrowthOptions options;
    options.op = GrowthOperator::parse("da");
    options.exact = true;
    options.depth_strategy = DepthStrategy::identity;
    options.seed = 9;
    const GrowthPlan plan = plan_growth(T5Config::preset("tiny"), T5Config::preset("base"), options);
    const GrowthPlan back = GrowthPlan::from_json(nlohmann::json::parse(plan.to_json().dump()), "plan.json");
    EXPECT_EQ(back.target, plan.target);
    EXPECT_EQ(back.options.to_json(), plan.options.to_json());
    EXPECT_EQ(back.hidden.index.source_of, plan.hidden.index.source_of);
    EXPECT_EQ(back.hidden.write_scale, plan.hidden.write_scale);
    EXPECT_EQ(back.encoder.heads.index.source_of, plan.encoder.heads.index.source_of);
    ASSERT_EQ(back.decoder.ffn.size(), 6u);
    EXPECT_EQ(back.decoder.ffn[5].index.source_of, plan.decoder.ffn[5].index.source_of);
    EXPECT_EQ(back.encoder.depth.source_of, plan.encoder.depth.source_of);
    EXPECT_EQ(back.encoder.depth.inserted, plan.encoder.depth.inserted);
    // Separate maps per stack and per layer, drawn from one seed.
    EXPECT_NE(plan.encoder.ffn[0].index.source_of, plan.encoder.ffn[1].index.source_of);
}

TEST(GrowthPlan, RmsPreservingScalesFollowTheFormula) {
    const DimensionMap map = DimensionMap::rms_preserving(IndexMap::sample(512, 768, MapSampling::balanced, 1));
    for (int64_t j = 0; j < 768; ++j) {
        const double copies = static_cast<double>(map.index.copies_of_target(j));
        EXPECT_DOUBLE_EQ(map.write_scale[j], copies == 1 ? std::sqrt(1.5) : std::sqrt(0.75));
        // Two square roots and two products in double: four roundings of 1.1e-16 each.
        EXPECT_NEAR(map.write_scale[j] * map.read_scale[j] * copies, 1.0, 1e-15);
    }
}

}  // namespace
}  // namespace gs

namespace gs {
namespace {

TEST(GrowthPlan, ASavedPlanThatContradictsItsConfigsIsRefused) {
    nlohmann::json json = plan_growth(T5Config::preset("small"), T5Config::preset("base"), GrowthOptions{
        GrowthOperator::parse("f")}).to_json();
    json["encoder"]["head_map"].erase(11);
    try {
        GrowthPlan::from_json(json, "grown/growth.json");
        FAIL();
    } catch (const std::invalid_argument& error) {
        EXPECT_STREQ(error.what(),
                     "grown/growth.json: field 'encoder.head_map': 11 entries, expected 12 from the configs");
    }
}

}  // namespace
}  // namespace gs
