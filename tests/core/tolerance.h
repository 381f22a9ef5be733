// Error bounds for comparing floating-point results that were computed in another order: by
// another BLAS kernel, another implementation, or as partial sums of several processes.
//
// A sum or dot product of n terms, each at most `scale` in magnitude, computed in any order with
// unit roundoff u, is within n·u·scale of the exact value (Higham, "Accuracy and Stability of
// Numerical Algorithms", 2nd ed., §3.1), and with probability at least 1 - 2·exp(-λ²/2) within
// λ·√n·u·scale (Higham & Mary, "A New Approach to Probabilistic Rounding Error Analysis", SIAM
// J. Sci. Comput. 41(5), 2019, Thm 2.4). The bounds below take the smaller of the two with λ = 6
// (a chance of 3e-8 per comparison): machines differ in the order, never in the bound, and a real
// error (a wrong map, a missing term, an unaveraged gradient) lies orders of magnitude above it.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "core/model/t5_config.h"

namespace gs::test {

constexpr double kFloat32Roundoff = 0x1p-24;  // IEEE single: 24 significant bits
constexpr double kBfloat16Roundoff = 0x1p-8;  // bfloat16: 8 significant bits
constexpr double kProbabilisticLambda = 6.0;

// Two evaluations, in different orders, of a sum of `terms` terms at most `scale` in magnitude.
inline double reordered_sum_bound(double terms, double scale, double roundoff = kFloat32Roundoff) {
    const double growth = std::min(terms, kProbabilisticLambda * std::sqrt(terms));
    return 2.0 * growth * roundoff * scale;
}

// The multiply-adds behind one output of a T5 forward pass, as one computation: per encoder block
// the q/k/v projections (d_model), the scores (d_kv), the weighted sum over the keys, the output
// projection (heads·d_kv) and the feed-forward pair (d_model, d_ff); per decoder block the same
// for self- and cross-attention; then the head (d_model). Each rounds independently, so the
// bound above applies to their total. RMS norm at every block's input brings the activations
// back to unit scale, so blocks do not amplify what earlier ones rounded (T5 at these sizes is
// well-conditioned).
inline double t5_forward_terms(const T5Config& config, int64_t input_length, int64_t target_length) {
    const auto d = static_cast<double>(config.d_model);
    const double attention = d + static_cast<double>(config.d_kv + config.inner_dim());
    const double feed_forward = d + static_cast<double>(config.d_ff);
    const double encoder_block = attention + input_length + feed_forward;
    const double decoder_block = (attention + target_length) + (attention + input_length) + feed_forward;
    return config.num_layers * encoder_block + config.num_decoder_layers * decoder_block + d;
}

// The matrix products one output of a T5 forward pass goes through in sequence.
inline double t5_forward_operations(const T5Config& config) {
    return 6.0 * config.num_layers + 10.0 * config.num_decoder_layers + 1;
}

// Two T5 forward passes over the same weights, in different orders, whose outputs are at most
// `scale` in magnitude.
inline double t5_forward_bound(const T5Config& config, int64_t input_length, int64_t target_length, double scale) {
    return reordered_sum_bound(t5_forward_terms(config, input_length, target_length), scale);
}

// The relative difference of two evaluations of a T5's gradient in different orders: the
// forward pass, the backward pass (as many products again) and the sum over the batch's tokens.
inline double t5_gradient_relative_bound(const T5Config& config, int64_t input_length, int64_t target_length,
                                         double batch_tokens) {
    return reordered_sum_bound(2 * t5_forward_terms(config, input_length, target_length) + batch_tokens, 1.0);
}

// Parameters after `steps` optimiser steps of two trainings that differ only in summation order.
// An Adam-family step moves a parameter by at most `max_update` (the learning rate times a
// normalised ratio m/sqrt(v), bounded whatever the gradient's scale), and that ratio's relative
// error is at most the gradient's (`gradient_relative`, t5_gradient_relative_bound). The update then rounds once against the parameter
// itself (`parameter_scale`). The errors a step inherits from earlier ones add: over a few steps
// of these small models the training is not chaotic.
inline double trained_parameters_bound(int64_t steps, double max_update, double gradient_relative, double parameter_scale) {
    const double per_step = max_update * gradient_relative + 2.0 * kFloat32Roundoff * parameter_scale;
    return static_cast<double>(steps) * per_step;
}

}  // namespace gs::test

namespace gs::test {

// Losses of two trainings that differ only in summation order, `steps` steps in, relative to the
// loss: the loss's own forward pass, and each earlier update, whose relative error (at most the
// gradient's) moves the loss by at most that share of what the update moved it, less than the
// loss itself.
inline double trained_loss_relative_bound(int64_t steps, double gradient_relative) {
    return static_cast<double>(steps + 1) * gradient_relative;
}

}  // namespace gs::test

namespace gs::test {

// The largest |m̂/sqrt(v̂)| of Adam after t steps (bias-corrected moments, any gradients): by
// Cauchy–Schwarz, sum β1^(t-i)|g_i| <= sqrt(sum (β1²/β2)^(t-i)) · sqrt(sum β2^(t-i) g_i²).
inline double adam_ratio_bound(int64_t t, double beta1 = 0.9, double beta2 = 0.999) {
    const double first = (1 - beta1) / (1 - std::pow(beta1, static_cast<double>(t)));
    const double second = std::sqrt((1 - std::pow(beta2, static_cast<double>(t))) / (1 - beta2));
    return first * second / std::sqrt(1 - beta1 * beta1 / beta2);
}

// What summation order (one process or several, one BLAS kernel or another) can change in a
// training of `steps` steps whose largest model is `config`, fed batches of `batch_size` rows of
// `input_length` tokens (targets no longer), with the "adamw-scale" optimiser: a step moves a
// tensor by at most the learning rate times its RMS times Adam's ratio.
struct TrainingBounds {
    double gradient_relative = 0;
    double peak_lr = 0;

    // `largest_rms` and `largest_value`: over every tensor of the trained model.
    double parameters(int64_t steps, double largest_rms, double largest_value) const {
        const double max_update = peak_lr * largest_rms * adam_ratio_bound(steps);
        return trained_parameters_bound(steps, max_update, gradient_relative, largest_value);
    }
    double loss_relative(int64_t steps) const { return trained_loss_relative_bound(steps, gradient_relative); }
};

inline TrainingBounds training_bounds(const T5Config& config, int64_t input_length, int64_t batch_size, double peak_lr) {
    const double batch_tokens = static_cast<double>(batch_size * input_length);
    return {t5_gradient_relative_bound(config, input_length, input_length, batch_tokens), peak_lr};
}

}  // namespace gs::test
