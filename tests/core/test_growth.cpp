// Growth operators on real T5 tensors (fp32, dropout 0): exactness where the maths promises it,
// the measured error where it does not, AKI's borrowing, depth tables and the optimiser rule.
#include <gtest/gtest.h>

#include <cmath>

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include "core/growth/t5_growth.h"
#include "core/model/checkpoint.h"
#include "test_support.h"
#include "tolerance.h"

namespace gs {
namespace {

T5Config small_config(int64_t d_model, int64_t heads, int64_t d_ff, int64_t layers) {
    T5Config c;
    c.vocab_size = 96, c.d_model = d_model, c.d_kv = 8, c.num_heads = heads, c.d_ff = d_ff;
    c.num_layers = c.num_decoder_layers = layers;
    c.dropout_rate = 0.0;
    return c;
}

T5Config resized(T5Config c, int64_t d_model, int64_t heads, int64_t d_ff, int64_t layers) {
    c.d_model = d_model, c.num_heads = heads, c.d_ff = d_ff;
    c.num_layers = c.num_decoder_layers = layers;
    return c;
}

// A random model whose norm gains and biases are not all equal, so that a wrong map shows.
T5Model random_model(const T5Config& config, uint64_t seed = 1) {
    at::manual_seed(seed);
    T5Model model(config);
    at::NoGradGuard no_grad;
    for (auto& item : model->named_parameters()) {
        if (item.key().find("layer_norm") != std::string::npos) item.value().add_(at::randn_like(item.value()) * 0.3);
    }
    model->eval();
    return model;
}

struct Batch {
    at::Tensor input_ids, mask, labels;
};

Batch probe_batch(const T5Config& config) {
    at::manual_seed(77);
    Batch batch;
    batch.input_ids = at::randint(2, config.vocab_size, {2, 9}, at::kLong);
    batch.mask = at::ones({2, 9}, at::kLong);
    batch.mask[1].slice(0, 6).fill_(0);
    batch.labels = at::randint(2, config.vocab_size, {2, 5}, at::kLong);
    return batch;
}

Seq2SeqOutput run(T5Model& model, const Batch& batch) {
    return model->forward(batch.input_ids, batch.mask, batch.labels);
}

GrowthOptions options_for(const std::string& letters, bool exact = false) {
    GrowthOptions options;
    options.op = GrowthOperator::parse(letters);
    options.exact = exact;
    options.seed = 5;
    return options;
}

// What rounding alone can change in the grown model's outputs, relative to their scale: its
// forward path sums more terms than the source's, in another order (tolerance.h).
double rounding_bound(const T5Config& grown) {
    const Batch batch = probe_batch(grown);
    return test::t5_forward_bound(grown, batch.input_ids.size(1), batch.labels.size(1), 1.0);
}

// The grown model's largest logit error relative to the logits' scale, in units of what rounding
// can explain: below 1 the growth preserved the function, above 1 it did not.
double logit_error_in_rounding_bounds(T5Model& source, T5Model& grown) {
    const Batch batch = probe_batch(source->config());
    at::NoGradGuard no_grad;
    const at::Tensor expected = run(source, batch).logits;
    const at::Tensor actual = run(grown, batch).logits;
    const double relative = test::max_abs_diff(actual, expected) / expected.abs().max().item<double>();
    return relative / rounding_bound(grown->config());
}

double grow_and_compare(const T5Config& source_config, const T5Config& target_config, const GrowthOptions& options) {
    T5Model source = random_model(source_config);
    T5Model grown = grow_t5_model(source, plan_growth(source_config, target_config, options));
    grown->eval();
    return logit_error_in_rounding_bounds(source, grown);
}

TEST(Growth, NoOpGrowthIsBitIdentical) {
    const T5Config config = small_config(32, 4, 64, 2);
    T5Model source = random_model(config);
    for (const std::string letters : {"f", "a", "d", "da"}) {
        T5Model grown = grow_t5_model(source, plan_growth(config, config, options_for(letters)));
        for (const auto& item : source->named_parameters()) {
            EXPECT_TRUE(at::equal(item.value(), grown->named_parameters()[item.key()])) << letters << " " << item.key();
        }
    }
}

TEST(Growth, FpiAtIntegerRatiosWithBalancedMapsIsExact) {
    const T5Config source = small_config(32, 4, 64, 2);
    EXPECT_LT(grow_and_compare(source, resized(source, 64, 8, 128, 2), options_for("f")), 1.0);
}

// The grown encoder's output equals the source's, unit j being write_scale[j] x unit g(j).
void expect_states_are_scaled_copies(const T5Config& source_config, const GrowthPlan& plan) {
    T5Model source = random_model(source_config);
    T5Model grown = grow_t5_model(source, plan);
    grown->eval();
    const Batch batch = probe_batch(source_config);
    at::NoGradGuard no_grad;
    const at::Tensor states = source->encode(batch.input_ids, batch.mask);
    const at::Tensor index = at::tensor(plan.hidden.index.source_of, at::kLong);
    const at::Tensor scale = at::tensor(plan.hidden.write_scale, at::kDouble).to(at::kFloat);
    // The encoder's path is part of the whole model's: its bound covers the states too.
    EXPECT_LT(test::max_abs_diff(grown->encode(batch.input_ids, batch.mask), states.index_select(2, index) * scale),
              rounding_bound(grown->config()) * states.abs().max().item<double>());
}

TEST(Growth, FpiPreservesEveryResidualStateUpToCopies) {
    const T5Config config = small_config(32, 4, 64, 2);
    expect_states_are_scaled_copies(config, plan_growth(config, resized(config, 64, 8, 128, 2), options_for("f")));
}

TEST(Growth, FfnOnlyGrowthIsExactAtAnyRatio) {
    const T5Config source = small_config(32, 4, 64, 2);
    GrowthOptions uniform = options_for("f");
    uniform.sampling = MapSampling::uniform;
    EXPECT_LT(grow_and_compare(source, resized(source, 32, 4, 192, 2), options_for("f")), 1.0);
    EXPECT_LT(grow_and_compare(source, resized(source, 32, 4, 150, 2), uniform), 1.0);
}

TEST(Growth, HeadGrowthWithOneMapPerStackIsExact) {
    const T5Config source = small_config(32, 4, 64, 2);
    EXPECT_LT(grow_and_compare(source, resized(source, 32, 6, 64, 2), options_for("f")), 1.0);
}

TEST(Growth, ExactModeIsExactForSmallToBaseProportions) {
    // 512 -> 768, 8 -> 12 heads, 1024 -> 3072, scaled down by 16.
    const T5Config source = small_config(32, 4, 64, 2);
    const T5Config target = resized(source, 48, 6, 192, 2);
    EXPECT_LT(grow_and_compare(source, target, options_for("f", /*exact=*/true)), 1.0);
    // Encoder states too: the copies carry the RMS-preserving scales.
    expect_states_are_scaled_copies(source, plan_growth(source, target, options_for("f", true)));
}

TEST(Growth, ExactModeIsExactAtTheStudysSmallToBaseWidths) {
    // The real widths (two layers per stack to keep the test quick): 512 -> 768, 8 -> 12 heads,
    // 1024 -> 3072. Logits cover the decoder, the states the encoder.
    T5Config source = small_config(512, 8, 1024, 2);
    source.d_kv = 64;
    const T5Config target = resized(source, 768, 12, 3072, 2);
    EXPECT_LT(grow_and_compare(source, target, options_for("f", true)), 1.0);
    expect_states_are_scaled_copies(source, plan_growth(source, target, options_for("f", true)));
    EXPECT_GT(grow_and_compare(source, target, options_for("f")), 1.0);  // plain copies are not exact
}

TEST(Growth, ExactModeWithPairedNoiseStaysExactWhileCopiesDiffer) {
    const T5Config source_config = small_config(32, 4, 64, 2);
    const T5Config target_config = resized(source_config, 48, 6, 192, 2);
    GrowthOptions options = options_for("f", true);
    options.noise = 0.05;
    const GrowthPlan plan = plan_growth(source_config, target_config, options);
    T5Model source = random_model(source_config);
    T5Model grown = grow_t5_model(source, plan);
    grown->eval();
    EXPECT_LT(logit_error_in_rounding_bounds(source, grown), 1.0);
    // Two copies of one hidden unit now read it with different weights.
    const IndexMap& hidden = plan.hidden.index;
    int64_t copy = 32;
    const int64_t original = hidden.source_of[copy];
    const at::Tensor q = grown->named_parameters()["encoder.block.0.layer.0.SelfAttention.q.weight"];
    EXPECT_GT(test::max_abs_diff(q.select(1, copy), q.select(1, original)), 1e-4);
}

TEST(Growth, PlainFpiAtOneAndAHalfIsNotExactAndTheNormScaleMatchesTheFormula) {
    const T5Config source = small_config(32, 4, 64, 2);
    EXPECT_GT(grow_and_compare(source, resized(source, 48, 6, 192, 2), options_for("f")), 1.0);

    // One RMS norm, 512 -> 768 with plain copies: each token's output is scaled by
    // rho = sqrt((ms(h) + eps) / ((1/D) sum_i c_i h_i^2 + eps)).
    const IndexMap map = IndexMap::sample(512, 768, MapSampling::balanced, 3);
    const double eps = 1e-6;
    T5LayerNorm norm(512, eps), grown_norm(768, eps);
    at::manual_seed(4);
    at::NoGradGuard no_grad;
    norm->weight.copy_(1 + 0.3 * at::randn({512}));
    const at::Tensor index = at::tensor(map.source_of, at::kLong);
    grown_norm->weight.copy_(norm->weight.index_select(0, index));
    at::Tensor h = at::randn({16, 512}, at::kDouble).to(at::kFloat);
    h.select(1, 7).mul_(20);  // an outlier dimension, as T5 checkpoints have
    const at::Tensor ratio = grown_norm(h.index_select(1, index)).index_select(1, at::arange(512)) / norm(h);
    const at::Tensor counts = at::tensor(map.copies, at::kLong).to(at::kFloat);
    const at::Tensor h64 = h.to(at::kDouble);
    const at::Tensor rho = at::sqrt((h64.pow(2).mean(1) + eps) / ((h64.pow(2) * counts.to(at::kDouble)).sum(1) / 768 + eps));
    // Each norm's mean square is a sum of 512 or 768 non-negative terms, exact to the sum bound
    // relative to the largest term (so to the sum); the square root halves that, and the weights,
    // the division and the ratio round a few times more.
    const double norm_rounding = test::reordered_sum_bound(512, 1.0) + test::reordered_sum_bound(768, 1.0) + 8 * test::kFloat32Roundoff;
    EXPECT_LT(test::max_abs_diff(ratio, rho.unsqueeze(1).expand({16, 512})), norm_rounding * rho.max().item<double>());
    // rho's limits hold exactly; rho is computed in double, exact to ~1e-13 over 768 terms.
    EXPECT_GE(rho.min().item<double>(), std::sqrt(0.75) - 1e-9);
    EXPECT_LE(rho.max().item<double>(), std::sqrt(1.5) + 1e-9);
}

TEST(Growth, TiedHeadAbsorbsTheLogitScaleInTheFinalNorm) {
    T5Config source = small_config(32, 4, 64, 2);
    source.tie_word_embeddings = true;
    source.feed_forward_proj = "relu";
    EXPECT_LT(grow_and_compare(source, resized(source, 64, 8, 128, 2), options_for("f")), 1.0);
    EXPECT_LT(grow_and_compare(source, resized(source, 48, 6, 96, 2), options_for("f", true)), 1.0);
}

TEST(Growth, StackedBlocksEqualTheirSourcesAndOnlyBlockZeroOwnsTheBias) {
    const T5Config config = small_config(32, 4, 64, 2);
    T5Model source = random_model(config);
    GrowthOptions options = options_for("d");
    T5Config deeper = config;
    deeper.num_layers = 4, deeper.num_decoder_layers = 6;  // encoder and decoder grow independently
    const TensorMap grown = grow_tensors(plan_growth(config, deeper, options), parameters_by_name(source));
    auto params = source->named_parameters();
    EXPECT_TRUE(at::equal(grown.at("encoder.block.3.layer.1.DenseReluDense.wo.weight"),
                          params["encoder.block.1.layer.1.DenseReluDense.wo.weight"]));
    EXPECT_TRUE(at::equal(grown.at("decoder.block.4.layer.1.EncDecAttention.k.weight"),
                          params["decoder.block.0.layer.1.EncDecAttention.k.weight"]));
    EXPECT_TRUE(grown.count("decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight"));
    for (int l = 1; l < 6; ++l) {
        EXPECT_FALSE(grown.count("decoder.block." + std::to_string(l) + ".layer.0.SelfAttention.relative_attention_bias.weight"));
    }
    T5Model model(deeper, false);
    EXPECT_EQ(grown.size(), model->named_parameters().size());
}

TEST(Growth, IdentityInsertionIsExactAlsoCombinedWithExactWidth) {
    const T5Config source = small_config(32, 4, 64, 2);
    GrowthOptions depth = options_for("d");
    depth.depth_strategy = DepthStrategy::identity;
    EXPECT_LT(grow_and_compare(source, resized(source, 32, 4, 64, 3), depth), 1.0);
    GrowthOptions both = options_for("df", true);
    both.depth_strategy = DepthStrategy::identity;
    EXPECT_LT(grow_and_compare(source, resized(source, 48, 6, 192, 4), both), 1.0);
    // Stacking itself does not preserve the function.
    EXPECT_GT(grow_and_compare(source, resized(source, 32, 4, 64, 4), options_for("d")), 1.0);
}

TEST(Growth, AkiTakesNewUnitsFromTheLayerAbove) {
    const T5Config config = small_config(32, 4, 64, 3);
    const T5Config target = resized(config, 48, 6, 96, 3);
    T5Model source = random_model(config);
    const TensorMap weights = parameters_by_name(source);
    const TensorMap fpi = grow_tensors(plan_growth(config, target, options_for("f")), weights);
    const TensorMap aki = grow_tensors(plan_growth(config, target, options_for("a")), weights);
    GrowthOptions whole = options_for("a");
    whole.aki_variant = AkiVariant::whole_unit;
    const TensorMap aki_whole = grow_tensors(plan_growth(config, target, whole), weights);
    auto rows = [](const at::Tensor& t, int64_t from) { return t.slice(0, from); };
    auto cols = [](const at::Tensor& t, int64_t from) { return t.slice(1, from); };
    for (const std::string stack : {"encoder", "decoder"}) {
        const std::string q = ".layer.0.SelfAttention.q.weight";
        const std::string o = ".layer.0.SelfAttention.o.weight";
        const std::string wi = stack == "encoder" ? ".layer.1.DenseReluDense.wi_0.weight" : ".layer.2.DenseReluDense.wi_1.weight";
        const std::string wo = stack == "encoder" ? ".layer.1.DenseReluDense.wo.weight" : ".layer.2.DenseReluDense.wo.weight";
        for (int l = 0; l < 2; ++l) {
            const std::string here = stack + ".block." + std::to_string(l), up = stack + ".block." + std::to_string(l + 1);
            // New heads (rows 32..47) and new FFN neurons (rows 64..95) come from the layer above.
            EXPECT_TRUE(at::equal(rows(aki.at(here + q), 32), rows(fpi.at(up + q), 32))) << here;
            EXPECT_TRUE(at::equal(rows(aki.at(here + q), 0).slice(0, 0, 32), fpi.at(here + q).slice(0, 0, 32)));
            EXPECT_TRUE(at::equal(rows(aki.at(here + wi), 64), rows(fpi.at(up + wi), 64))) << here;
            // Literal reading: outgoing columns stay the layer's own; whole-unit: from above.
            EXPECT_TRUE(at::equal(aki.at(here + o), fpi.at(here + o)));
            EXPECT_TRUE(at::equal(aki.at(here + wo), fpi.at(here + wo)));
            EXPECT_TRUE(at::equal(cols(aki_whole.at(here + o), 32), cols(fpi.at(up + o), 32)));
            EXPECT_TRUE(at::equal(cols(aki_whole.at(here + wo), 64), cols(fpi.at(up + wo), 64)));
        }
        // The top layer has no layer above: FPI.
        for (const auto& name : {q, o, wi, wo}) {
            EXPECT_TRUE(at::equal(aki_whole.at(stack + ".block.2" + name), fpi.at(stack + ".block.2" + name)));
        }
    }
    const std::string cross = "decoder.block.0.layer.1.EncDecAttention.k.weight";
    EXPECT_TRUE(at::equal(rows(aki.at(cross), 32), rows(fpi.at("decoder.block.1.layer.1.EncDecAttention.k.weight"), 32)));
}

// Gradients of one FFN input row and of its duplicate.
std::pair<at::Tensor, at::Tensor> duplicate_gradients(const GrowthOptions& options) {
    const T5Config config = small_config(32, 4, 64, 3);
    const T5Config target = resized(config, 32, 4, 128, 3);
    const GrowthPlan plan = plan_growth(config, target, options);
    T5Model source = random_model(config);
    T5Model grown = grow_t5_model(source, plan);
    grown->eval();
    run(grown, probe_batch(config)).loss.backward();
    const at::Tensor grad = grown->named_parameters()["encoder.block.0.layer.1.DenseReluDense.wi_0.weight"].grad();
    const int64_t copy = 64;
    return {grad[copy], grad[plan.encoder.ffn[0].index.source_of[copy]]};
}

// A gradient comes from the forward pass, the backward pass and the sum over the batch's tokens.
double gradient_rounding_bound(const T5Config& grown) {
    const Batch batch = probe_batch(grown);
    return test::t5_gradient_relative_bound(grown, batch.input_ids.size(1), batch.labels.size(1),
                                            static_cast<double>(batch.input_ids.numel()));
}

TEST(Growth, AkiBreaksTheSymmetryOfDuplicatedUnits) {
    const double bound = gradient_rounding_bound(small_config(32, 4, 128, 3));
    const auto [fpi_copy, fpi_original] = duplicate_gradients(options_for("f"));
    EXPECT_LT(test::max_abs_diff(fpi_copy, fpi_original), bound * fpi_original.abs().max().item<double>());
    const auto [aki_copy, aki_original] = duplicate_gradients(options_for("a"));
    EXPECT_GT(test::max_abs_diff(aki_copy, aki_original), bound * aki_original.abs().max().item<double>());
}

TEST(Growth, MomentsGrowAsTheGradientsOfTheGrownModel) {
    // Under an exact growth the grown model's gradient is a fixed linear image of the source's:
    // growing the source gradient as a first moment must give it.
    for (bool exact : {false, true}) {
        const T5Config config = small_config(32, 4, 64, 2);
        const T5Config target = exact ? resized(config, 48, 6, 192, 2) : resized(config, 64, 8, 128, 2);
        const GrowthPlan plan = plan_growth(config, target, options_for("f", exact));
        T5Model source = random_model(config);
        T5Model grown = grow_t5_model(source, plan);
        grown->eval();
        run(source, probe_batch(config)).loss.backward();
        run(grown, probe_batch(config)).loss.backward();
        TensorMap source_grads;
        for (const auto& item : source->named_parameters()) source_grads[item.key()] = item.value().grad();
        const TensorMap predicted = grow_tensors(plan, source_grads, GrowthState::first_moment);
        const TensorMap squared = grow_tensors(plan, {{"shared.weight", source_grads["shared.weight"].pow(2)}},
                                               GrowthState::second_moment);
        // A gradient exactly zero in the grown model is the image of a zero one: hence <=.
        const double bound = gradient_rounding_bound(target);
        for (const auto& item : grown->named_parameters()) {
            const at::Tensor actual = item.value().grad();
            EXPECT_LE(test::max_abs_diff(predicted.at(item.key()), actual), bound * actual.abs().max().item<double>())
                << item.key() << " exact=" << exact;
        }
        // Squaring doubles the relative error.
        const at::Tensor embedding_grad = grown->named_parameters()["shared.weight"].grad();
        EXPECT_LT(test::max_abs_diff(squared.at("shared.weight"), embedding_grad.pow(2)),
                  2 * bound * embedding_grad.pow(2).max().item<double>());
    }
}

TEST(Growth, GrownCheckpointRoundTripsWithItsMaps) {
    const T5Config config = small_config(32, 4, 64, 2);
    const GrowthPlan plan = plan_growth(config, resized(config, 48, 6, 96, 3), options_for("da"));
    T5Model grown = grow_t5_model(random_model(config), plan);
    test::TempDir dir;
    save_t5_checkpoint(grown, dir.path().string());
    save_growth_plan(plan, dir.path().string());
    T5Model loaded = load_t5_checkpoint(dir.path().string());
    for (const auto& item : grown->named_parameters()) {
        EXPECT_TRUE(at::equal(item.value(), loaded->named_parameters()[item.key()])) << item.key();
    }
    const GrowthPlan back = load_growth_plan(dir.path().string());
    EXPECT_EQ(back.decoder.ffn[1].index.source_of, plan.decoder.ffn[1].index.source_of);
    EXPECT_EQ(back.encoder.depth.source_of, plan.encoder.depth.source_of);
}

TEST(Growth, HuggingFaceCheckpointGrowsExactly) {
    T5Model source = load_t5_checkpoint(test::data_path("hf_t5/t5-v1_1-gated-untied"));
    source->eval();
    T5Config source_config = source->config();
    T5Config target = source_config;
    target.d_model = source_config.d_model * 3 / 2;
    target.num_heads = source_config.num_heads * 3 / 2;
    target.d_ff = source_config.d_ff * 3;
    target.dropout_rate = source_config.dropout_rate;
    T5Model grown = grow_t5_model(source, plan_growth(source_config, target, options_for("f", true)));
    grown->eval();
    EXPECT_LT(logit_error_in_rounding_bounds(source, grown), 1.0);
}

}  // namespace
}  // namespace gs
