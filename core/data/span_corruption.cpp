#include "core/data/span_corruption.h"

#include <cmath>
#include <numeric>
#include <stdexcept>
#include <string>

namespace gs {
namespace {

// Python's round() and numpy's np.round round halves to even, as nearbyint does by default.
int64_t round_half_even(double value) { return static_cast<int64_t>(std::nearbyint(value)); }

SpanLengths lengths_for_raw(int64_t raw_length, const SpanCorruptionOptions& options) {
    SpanLengths lengths;
    lengths.raw_length = raw_length;
    lengths.noise_tokens = round_half_even(static_cast<double>(raw_length) * options.noise_density);
    lengths.noise_spans = round_half_even(static_cast<double>(lengths.noise_tokens) / options.mean_span_length);
    lengths.input_length = raw_length - lengths.noise_tokens + lengths.noise_spans + 1;
    lengths.target_length = lengths.noise_tokens + lengths.noise_spans + 1;
    return lengths;
}

void validate(const SpanCorruptionOptions& options) {
    if (options.input_length < 4) throw std::invalid_argument("input length must be at least 4");
    if (options.input_length > kMaxSpanInputLength) {
        throw std::invalid_argument("input length " + std::to_string(options.input_length) + " is above " +
                                    std::to_string(kMaxSpanInputLength) + ", longer than any row that can be trained");
    }
    if (!(options.noise_density > 0 && options.noise_density < 1)) {
        throw std::invalid_argument("noise density must be between 0 and 1");
    }
    if (!(options.mean_span_length >= 1)) throw std::invalid_argument("mean span length must be at least 1");
}

// T5's _random_segmentation: `items` split into `segments` non-empty runs, the (segments - 1)
// cut points a uniform choice among the (items - 1) gaps.
std::vector<int64_t> random_segmentation(int64_t items, int64_t segments, Random& random) {
    std::vector<int64_t> gaps(items - 1);
    std::iota(gaps.begin(), gaps.end(), 1);
    for (int64_t i = 0; i < segments - 1; ++i) {  // partial Fisher-Yates: the first picks are the cuts
        const int64_t j = i + static_cast<int64_t>(random.below(gaps.size() - i));
        std::swap(gaps[i], gaps[j]);
    }
    std::vector<uint8_t> starts(items, 0);
    for (int64_t i = 0; i < segments - 1; ++i) starts[gaps[i]] = 1;
    std::vector<int64_t> lengths;
    lengths.reserve(segments);
    int64_t run = 0;
    for (int64_t i = 0; i < items; ++i) {
        if (starts[i] && run > 0) {
            lengths.push_back(run);
            run = 0;
        }
        ++run;
    }
    lengths.push_back(run);
    return lengths;
}

}  // namespace

SpanLengths compute_span_lengths(const SpanCorruptionOptions& options) {
    validate(options);
    int64_t raw = options.input_length;
    while (lengths_for_raw(raw + 1, options).input_length <= options.input_length) ++raw;
    SpanLengths lengths = lengths_for_raw(raw, options);
    // T5's hack for density 0.5: make the targets no longer than the inputs.
    if (options.noise_density == 0.5 && lengths.target_length > lengths.input_length) {
        --lengths.raw_length;
        --lengths.target_length;
    }
    if (lengths.noise_spans < 1 || lengths.noise_spans > lengths.raw_length - lengths.noise_tokens) {
        throw std::invalid_argument("noise density " + std::to_string(options.noise_density) + " and mean span " +
                                    std::to_string(options.mean_span_length) + " give no valid spans for input length " +
                                    std::to_string(options.input_length));
    }
    return lengths;
}

std::vector<uint8_t> random_spans_noise_mask(int64_t length, double noise_density, double mean_span_length,
                                             Random& random) {
    const int64_t orig_length = length;
    length = std::max<int64_t>(length, 2);
    int64_t noise = round_half_even(static_cast<double>(length) * noise_density);
    noise = std::min(std::max<int64_t>(noise, 1), length - 1);
    const int64_t spans = std::max<int64_t>(round_half_even(static_cast<double>(noise) / mean_span_length), 1);
    const int64_t nonnoise = length - noise;
    if (spans > nonnoise) throw std::invalid_argument("more noise spans than non-noise tokens");
    const std::vector<int64_t> noise_lengths = random_segmentation(noise, spans, random);
    const std::vector<int64_t> nonnoise_lengths = random_segmentation(nonnoise, spans, random);
    std::vector<uint8_t> mask;
    mask.reserve(length);
    for (int64_t span = 0; span < spans; ++span) {
        mask.insert(mask.end(), nonnoise_lengths[span], 0);
        mask.insert(mask.end(), noise_lengths[span], 1);
    }
    mask.resize(orig_length);
    return mask;
}

void corrupt_spans(const int32_t* row, const std::vector<uint8_t>& noise_mask, int32_t first_sentinel, int32_t eos,
                   std::vector<int32_t>& inputs, std::vector<int32_t>& targets) {
    inputs.clear();
    targets.clear();
    int32_t input_sentinel = first_sentinel;
    int32_t target_sentinel = first_sentinel;
    for (size_t i = 0; i < noise_mask.size(); ++i) {
        const bool starts_span = i == 0 || noise_mask[i] != noise_mask[i - 1];
        if (noise_mask[i]) {
            if (starts_span) inputs.push_back(input_sentinel--);
            targets.push_back(row[i]);
        } else {
            if (starts_span) targets.push_back(target_sentinel--);
            inputs.push_back(row[i]);
        }
    }
    inputs.push_back(eos);
    targets.push_back(eos);
}

}  // namespace gs
