// T5's span-corruption objective: lengths, noise masks, sentinels, reconstruction.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <map>

#include "core/data/span_corruption.h"

namespace gs {
namespace {

constexpr int32_t kFirstSentinel = 32099;  // <extra_id_0> with 32000 pieces
constexpr int32_t kEos = 1;

// Puts the target's spans back in place of the input's sentinels.
std::vector<int32_t> reconstruct(const std::vector<int32_t>& inputs, const std::vector<int32_t>& targets) {
    std::map<int32_t, std::vector<int32_t>> spans;
    int32_t current = -1;
    for (size_t i = 0; i + 1 < targets.size(); ++i) {
        if (targets[i] > kFirstSentinel - 100) current = targets[i];
        else spans[current].push_back(targets[i]);
    }
    std::vector<int32_t> row;
    for (size_t i = 0; i + 1 < inputs.size(); ++i) {
        if (inputs[i] > kFirstSentinel - 100) row.insert(row.end(), spans[inputs[i]].begin(), spans[inputs[i]].end());
        else row.push_back(inputs[i]);
    }
    return row;
}

TEST(SpanCorruption, LengthsMatchT5) {
    struct Case { int64_t input, raw, target; };
    for (const Case& c : {Case{128, 141, 29}, Case{256, 284, 58}, Case{512, 568, 114}, Case{1024, 1137, 229}}) {
        SpanCorruptionOptions options;
        options.input_length = c.input;
        const SpanLengths lengths = compute_span_lengths(options);
        EXPECT_EQ(lengths.raw_length, c.raw) << c.input;
        EXPECT_EQ(lengths.target_length, c.target) << c.input;
        EXPECT_EQ(lengths.input_length, c.input) << c.input;
    }
    const SpanLengths at512 = compute_span_lengths({});
    EXPECT_EQ(at512.noise_tokens, 85);
    EXPECT_EQ(at512.noise_spans, 28);
}

TEST(SpanCorruption, RejectsSettingsWithoutValidSpans) {
    SpanCorruptionOptions options;
    options.noise_density = 1.5;
    EXPECT_THROW(compute_span_lengths(options), std::invalid_argument);
    options.noise_density = 0.15;
    options.mean_span_length = 0.5;
    EXPECT_THROW(compute_span_lengths(options), std::invalid_argument);
}

TEST(SpanCorruption, AnInputLengthBeyondAnyTrainableRowIsRefusedAtOnce) {
    SpanCorruptionOptions options;
    options.input_length = kMaxSpanInputLength;
    const SpanLengths longest = compute_span_lengths(options);
    EXPECT_LE(longest.input_length, kMaxSpanInputLength);
    // One raw token more makes an input that no longer fits (T5's formula, density 0.15, mean span 3).
    const double next_noise = std::nearbyint((longest.raw_length + 1) * 0.15);
    const double next_input = (longest.raw_length + 1) - next_noise + std::nearbyint(next_noise / 3) + 1;
    EXPECT_GT(next_input, kMaxSpanInputLength);

    // Counting up from 2^63 - 1 would not end.
    for (int64_t length : {kMaxSpanInputLength + 1, std::numeric_limits<int64_t>::max()}) {
        options.input_length = length;
        try {
            compute_span_lengths(options);
            ADD_FAILURE() << length << " accepted";
        } catch (const std::invalid_argument& error) {
            EXPECT_EQ(std::string(error.what()),
                      "input length " + std::to_string(length) + " is above 1048576, longer than any row that can be trained");
        }
    }
}

TEST(SpanCorruption, NoiseMaskStartsCleanEndsNoisyWithTheRightCounts) {
    Random random(42);
    for (int trial = 0; trial < 200; ++trial) {
        const auto mask = random_spans_noise_mask(568, 0.15, 3.0, random);
        ASSERT_EQ(mask.size(), 568u);
        EXPECT_EQ(mask.front(), 0);
        EXPECT_EQ(mask.back(), 1);
        int noise = 0, spans = 0;
        for (size_t i = 0; i < mask.size(); ++i) {
            noise += mask[i];
            spans += mask[i] && (i == 0 || !mask[i - 1]);
        }
        EXPECT_EQ(noise, 85);
        EXPECT_EQ(spans, 28);
    }
}

TEST(SpanCorruption, MeanSpanLengthIsAsAsked) {
    Random random(7);
    double noise_runs = 0, spans = 0;
    for (int trial = 0; trial < 100; ++trial) {
        const auto mask = random_spans_noise_mask(1137, 0.15, 3.0, random);
        for (size_t i = 0; i < mask.size(); ++i) {
            noise_runs += mask[i];
            spans += mask[i] && !mask[i - 1];
        }
    }
    // round(1137*.15)=171 tokens in 57 spans: counts, exact; their quotient rounds once in double.
    EXPECT_NEAR(noise_runs / spans, 171.0 / 57.0, 1e-9);
}

TEST(SpanCorruption, SegmentsAreUniformlyRandom) {
    // T5 draws the cut points uniformly: the first noise span's length is spread, not fixed.
    Random random(3);
    std::map<int, int> first_noise_span;
    for (int trial = 0; trial < 2000; ++trial) {
        const auto mask = random_spans_noise_mask(568, 0.15, 3.0, random);
        size_t start = 0;
        while (!mask[start]) ++start;
        size_t end = start;
        while (mask[end]) ++end;
        ++first_noise_span[static_cast<int>(end - start)];
    }
    EXPECT_GT(first_noise_span.size(), 5u);
    EXPECT_GT(first_noise_span[1], 300);  // P(1) = 27/84 ~ 0.32 for 28 segments of 85 items
}

TEST(SpanCorruption, InputsAndTargetsReconstructTheRowWithSentinelsDownward) {
    Random random(11);
    const SpanLengths lengths = compute_span_lengths({});
    std::vector<int32_t> row(lengths.raw_length);
    for (auto& token : row) token = 3 + static_cast<int32_t>(random.below(31000));
    for (int trial = 0; trial < 50; ++trial) {
        const auto mask = random_spans_noise_mask(lengths.raw_length, 0.15, 3.0, random);
        std::vector<int32_t> inputs, targets;
        corrupt_spans(row.data(), mask, kFirstSentinel, kEos, inputs, targets);
        ASSERT_EQ(static_cast<int64_t>(inputs.size()), lengths.input_length);
        ASSERT_EQ(static_cast<int64_t>(targets.size()), lengths.target_length);
        EXPECT_EQ(inputs.back(), kEos);
        EXPECT_EQ(targets.back(), kEos);
        EXPECT_EQ(inputs[inputs.size() - 2], kFirstSentinel - 27);  // the row ends with noise span 27
        EXPECT_EQ(targets.front(), kFirstSentinel);                  // <extra_id_0> opens the targets
        EXPECT_EQ(reconstruct(inputs, targets), row);
    }
}

TEST(SpanCorruption, SameSeedSameMask) {
    Random a(99), b(99), c(100);
    const auto mask_a = random_spans_noise_mask(568, 0.15, 3.0, a);
    EXPECT_EQ(mask_a, random_spans_noise_mask(568, 0.15, 3.0, b));
    EXPECT_NE(mask_a, random_spans_noise_mask(568, 0.15, 3.0, c));
}

TEST(Random, FixedSequenceOnEveryMachine) {
    // xoshiro256** seeded through splitmix64: these values pin the generator down.
    Random random(0);
    const uint64_t first = random.next();
    Random again(0);
    EXPECT_EQ(again.next(), first);
    EXPECT_EQ(mix64(0), 0xe220a8397b1dcdafULL);  // splitmix64's first output for state 0
    for (int i = 0; i < 1000; ++i) EXPECT_LT(random.below(7), 7u);
}

}  // namespace
}  // namespace gs
