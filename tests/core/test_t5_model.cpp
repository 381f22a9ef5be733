// Properties of the T5 module itself: initialisation and dtypes.
#include <gtest/gtest.h>

#include <cmath>

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include "core/io/safetensors.h"
#include "core/model/checkpoint.h"
#include "core/model/t5_model.h"
#include "test_support.h"
#include "tolerance.h"

namespace gs {
namespace {

TEST(T5Model, InitialisationFollowsT5PerTensorStandardDeviations) {
    T5Config c;
    c.vocab_size = 512, c.d_model = 256, c.d_kv = 32, c.num_heads = 4, c.d_ff = 400;
    c.num_layers = 2, c.num_decoder_layers = 2, c.initializer_factor = 2.0;
    at::manual_seed(3);
    T5Model model(c);
    const double f = c.initializer_factor;
    // Sampling error, not rounding: n normal draws give a standard deviation within 1/sqrt(2n)
    // of sigma and a mean within sigma/sqrt(n), one standard error each; allow five, since
    // another CPU's vectorised generator draws other numbers from the same seed.
    auto expect_std = [&](const std::string& name, double expected) {
        at::Tensor p = model->named_parameters()[name];
        const double n = static_cast<double>(p.numel());
        EXPECT_NEAR(p.std().item<double>(), expected, 5 * expected / std::sqrt(2 * n)) << name;
        EXPECT_NEAR(p.mean().item<double>(), 0.0, 5 * expected / std::sqrt(n)) << name;
    };
    expect_std("shared.weight", f);
    expect_std("lm_head.weight", f);
    expect_std("encoder.block.0.layer.0.SelfAttention.q.weight", f / std::sqrt(256.0 * 32.0));
    expect_std("encoder.block.1.layer.0.SelfAttention.k.weight", f / std::sqrt(256.0));
    expect_std("decoder.block.1.layer.1.EncDecAttention.v.weight", f / std::sqrt(256.0));
    expect_std("decoder.block.0.layer.0.SelfAttention.o.weight", f / std::sqrt(4.0 * 32.0));
    expect_std("encoder.block.0.layer.1.DenseReluDense.wi_0.weight", f / std::sqrt(256.0));
    expect_std("decoder.block.1.layer.2.DenseReluDense.wi_1.weight", f / std::sqrt(256.0));
    expect_std("decoder.block.0.layer.2.DenseReluDense.wo.weight", f / std::sqrt(400.0));
    expect_std("encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight", f / 16.0);
    for (const auto& item : model->named_parameters()) {
        if (item.key().find("layer_norm") != std::string::npos) {
            EXPECT_TRUE(at::all(item.value() == f).item<bool>()) << item.key();
        }
    }
}

TEST(T5Model, SameSeedGivesTheSameModel) {
    T5Config c = T5Config::preset("tiny");
    c.vocab_size = 300, c.d_model = 32, c.d_kv = 8, c.num_heads = 4, c.d_ff = 48, c.num_layers = c.num_decoder_layers = 1;
    at::manual_seed(11);
    T5Model a(c);
    at::manual_seed(11);
    T5Model b(c);
    for (const auto& item : a->named_parameters()) {
        EXPECT_TRUE(at::equal(item.value(), b->named_parameters()[item.key()])) << item.key();
    }
}

TEST(T5Model, Bf16WeightsTrackFp32Logits) {
    const std::string dir = test::data_path("hf_t5/t5-v1_1-gated-untied");
    T5Model model = load_t5_checkpoint(dir);
    model->eval();
    SafetensorsFile expected(dir + "/expected.safetensors");
    at::NoGradGuard no_grad;
    const at::Tensor ids = expected.load("input_ids"), mask = expected.load("attention_mask");
    const at::Tensor labels = expected.load("labels");
    at::Tensor reference = model->forward(ids, mask, labels).logits;
    model->to(at::kBFloat16);
    Seq2SeqOutput out = model->forward(ids, mask, labels);
    EXPECT_EQ(out.logits.scalar_type(), at::kBFloat16);
    // bf16 keeps 8 significant bits. Matrix products accumulate in fp32, so each operation on the
    // forward path rounds twice at bf16's unit roundoff (its weights when cast, its output), at
    // the logits' scale; the roundings are independent, so they grow as the root of their count.
    const double scale = reference.abs().max().item<double>();
    const double operations = test::t5_forward_operations(model->config());
    const double logit_difference = test::max_abs_diff(out.logits, reference);
    EXPECT_LT(logit_difference, test::kProbabilisticLambda * std::sqrt(2 * operations) * test::kBfloat16Roundoff * scale);
    // A log-softmax value moves by at most twice the largest change of its logits, and so does
    // their mean, the loss.
    EXPECT_NEAR(out.loss.item<double>(), expected.load("loss").item<double>(), 2 * logit_difference);
}

TEST(T5Model, DropoutIsActiveOnlyInTraining) {
    T5Config c;
    c.vocab_size = 64, c.d_model = 16, c.d_kv = 4, c.num_heads = 2, c.d_ff = 24;
    c.num_layers = c.num_decoder_layers = 1, c.dropout_rate = 0.5;
    T5Model model(c);
    const at::Tensor ids = at::randint(2, 64, {2, 7}, at::kLong), labels = at::randint(2, 64, {2, 3}, at::kLong);
    model->eval();
    at::Tensor a = model->forward(ids, {}, labels).logits, b = model->forward(ids, {}, labels).logits;
    EXPECT_TRUE(at::equal(a, b));
    model->train();
    at::Tensor c1 = model->forward(ids, {}, labels).logits, c2 = model->forward(ids, {}, labels).logits;
    EXPECT_FALSE(at::equal(c1, c2));
}

}  // namespace
}  // namespace gs
