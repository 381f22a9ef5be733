// Parameter and FLOP counts against the figures derived independently in the T5 reference
// notes (t5-v1_1-base = 247,577,856 parameters; per-sequence training GFLOPs at 512/114).
#include <gtest/gtest.h>

#include "core/model/t5_cost.h"
#include "core/model/t5_model.h"

namespace gs {
namespace {

T5Config t5_v1_1_base() {
    T5Config c = T5Config::preset("base");
    c.d_ff = 2048;
    return c;
}

TEST(T5Cost, ParameterCountOfPublishedModels) {
    EXPECT_EQ(count_parameters(t5_v1_1_base()), 247'577'856);
    // t5-v1_1-small: 8+8 layers, d 512, 6 heads of 64, d_ff 1024: "~77M".
    T5Config small = T5Config::preset("small");
    small.num_layers = small.num_decoder_layers = 8;
    small.num_heads = 6;
    EXPECT_NEAR(count_parameters(small) / 1e6, 76.96, 0.01);  // the figure quoted to 2 decimals
}

TEST(T5Cost, FormulaCountsWhatTheModelAllocates) {
    for (const std::string ffn : {"gated-gelu", "relu"}) {
        for (bool tied : {false, true}) {
            T5Config c;
            c.vocab_size = 97, c.d_model = 24, c.d_kv = 5, c.num_heads = 3, c.d_ff = 40;
            c.num_layers = 3, c.num_decoder_layers = 2, c.feed_forward_proj = ffn, c.tie_word_embeddings = tied;
            EXPECT_EQ(count_parameters(c), T5Model(c)->parameter_count()) << ffn << " tied=" << tied;
        }
    }
}

TEST(T5Cost, TrainingFlopsPerSequenceMatchTheStudySizes) {
    // GFLOPs per sequence for one training step at 512 input / 114 target tokens, V = 32128,
    // quoted to one decimal (half a unit: 0.05).
    EXPECT_NEAR(training_flops_per_step(T5Config::preset("tiny"), 1, 512, 114) / 1e9, 94.4, 0.05);
    EXPECT_NEAR(training_flops_per_step(T5Config::preset("small"), 1, 512, 114) / 1e9, 177.6, 0.05);
    EXPECT_NEAR(training_flops_per_step(T5Config::preset("base"), 1, 512, 114) / 1e9, 532.3, 0.05);
    EXPECT_NEAR(training_flops_per_step(t5_v1_1_base(), 1, 512, 114) / 1e9, 425.9, 0.05);
    // Linear in the batch.
    EXPECT_DOUBLE_EQ(training_flops_per_step(T5Config::preset("tiny"), 8, 512, 114),
                     8 * training_flops_per_step(T5Config::preset("tiny"), 1, 512, 114));
}

}  // namespace
}  // namespace gs
