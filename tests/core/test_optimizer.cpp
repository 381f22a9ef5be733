// Optimiser steps against updates computed by hand (plain doubles, formula by formula), and the
// learning-rate schedules at known points.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <nlohmann/json.hpp>

#include "core/train/optimizer.h"
#include "core/train/schedule.h"
#include "tolerance.h"

namespace gs {
namespace {

using Values = std::vector<double>;

const Values kStart = {0.5, -1.25, 2.0, 0.1, -0.3, 0.75};  // a 2 x 3 parameter
const std::vector<Values> kGradients = {{0.2, -0.1, 0.4, -0.3, 0.05, 0.6}, {-0.1, 0.3, 0.2, 0.1, -0.2, 0.4}};

at::Tensor tensor_of(const Values& values) {
    return at::tensor(values, at::kDouble).to(at::kFloat).view({2, 3});
}

// Runs the optimiser over kGradients at the given rates; returns the parameter after each step.
std::vector<Values> run_optimizer(const OptimizerSettings& settings, const Values& rates) {
    at::Tensor parameter = tensor_of(kStart).set_requires_grad(true);
    auto optimizer = make_optimizer(settings, {{"w", parameter}});
    std::vector<Values> trajectory;
    for (size_t t = 0; t < kGradients.size(); ++t) {
        parameter.mutable_grad() = tensor_of(kGradients[t]);
        optimizer->step(rates[t]);
        at::Tensor flat = parameter.detach().to(at::kDouble).contiguous().view(-1);
        trajectory.emplace_back(flat.data_ptr<double>(), flat.data_ptr<double>() + 6);
    }
    return trajectory;
}

double rms(const Values& v) {
    double sum = 0;
    for (double x : v) sum += x * x;
    return std::sqrt(sum / static_cast<double>(v.size()));
}

// The optimiser runs in fp32 against a reference in double. Per step an element passes through
// at most 16 fp32 roundings: the casts of the start and of the gradient, two moment updates of
// two operations each, two bias corrections, the square root, the epsilon, the division, the
// parameter's RMS (a sum of 6 terms), the step and the subtraction. Each is relative to values no
// larger than the parameters (learning rates and moments here stay below them), and steps add.
void expect_near(const std::vector<Values>& actual, const std::vector<Values>& expected) {
    ASSERT_EQ(actual.size(), expected.size());
    double scale = 0;
    for (const Values& step : expected) {
        for (double x : step) scale = std::max(scale, std::abs(x));
    }
    for (size_t t = 0; t < actual.size(); ++t) {
        const double bound = static_cast<double>(t + 1) * 16 * test::kFloat32Roundoff * scale;
        for (size_t i = 0; i < 6; ++i) EXPECT_NEAR(actual[t][i], expected[t][i], bound) << "step " << t + 1 << " element " << i;
    }
}

TEST(Optimizer, AdamWMatchesTheHandComputedUpdate) {
    OptimizerSettings s;
    s.kind = "adamw", s.beta1 = 0.9, s.beta2 = 0.99, s.eps = 1e-8, s.weight_decay = 0.1;
    const Values rates = {0.01, 0.02};
    Values p = kStart, m(6, 0), v(6, 0);
    std::vector<Values> expected;
    for (int t = 1; t <= 2; ++t) {
        const double lr = rates[t - 1];
        for (int i = 0; i < 6; ++i) {
            const double g = kGradients[t - 1][i];
            p[i] *= 1 - lr * s.weight_decay;
            m[i] = 0.9 * m[i] + 0.1 * g;
            v[i] = 0.99 * v[i] + 0.01 * g * g;
            const double m_hat = m[i] / (1 - std::pow(0.9, t));
            const double v_hat = v[i] / (1 - std::pow(0.99, t));
            p[i] -= lr * m_hat / (std::sqrt(v_hat) + 1e-8);
        }
        expected.push_back(p);
    }
    expect_near(run_optimizer(s, rates), expected);
}

TEST(Optimizer, AdamWScaleMatchesNanoT5sUpdate) {
    OptimizerSettings s;
    s.kind = "adamw-scale", s.beta1 = 0.9, s.beta2 = 0.999, s.eps = 1e-6, s.weight_decay = 0.01;
    const Values rates = {0.02, 0.02};
    Values p = kStart, m(6, 0), v(6, 0);
    std::vector<Values> expected;
    for (int t = 1; t <= 2; ++t) {
        const double lr = rates[t - 1];
        const double scale = std::max(1e-3, rms(p));  // the parameter's RMS before the update
        const double step = lr * std::sqrt(1 - std::pow(0.999, t)) / (1 - std::pow(0.9, t)) * scale;
        for (int i = 0; i < 6; ++i) {
            const double g = kGradients[t - 1][i];
            m[i] = 0.9 * m[i] + 0.1 * g;
            v[i] = 0.999 * v[i] + 0.001 * g * g;
            p[i] -= step * m[i] / (std::sqrt(v[i]) + 1e-6);
            p[i] -= lr * 0.01 * p[i];
        }
        expected.push_back(p);
    }
    expect_near(run_optimizer(s, rates), expected);
}

TEST(Optimizer, AdafactorMatchesTheFactoredUpdate) {
    OptimizerSettings s;
    s.kind = "adafactor", s.beta1 = 0.0, s.weight_decay = 0.0;
    const Values rates = {0.01, 0.01};
    Values p = kStart, row(2, 0), col(3, 0);
    std::vector<Values> expected;
    for (int t = 1; t <= 2; ++t) {
        const double lr = rates[t - 1] * std::max(1e-3, rms(p));
        const double beta2t = 1.0 - std::pow(t, -0.8);
        const Values& g = kGradients[t - 1];
        for (int r = 0; r < 2; ++r) {
            double mean = 0;
            for (int c = 0; c < 3; ++c) mean += (g[r * 3 + c] * g[r * 3 + c] + 1e-30) / 3;
            row[r] = beta2t * row[r] + (1 - beta2t) * mean;
        }
        for (int c = 0; c < 3; ++c) {
            double mean = 0;
            for (int r = 0; r < 2; ++r) mean += (g[r * 3 + c] * g[r * 3 + c] + 1e-30) / 2;
            col[c] = beta2t * col[c] + (1 - beta2t) * mean;
        }
        const double row_mean = (row[0] + row[1]) / 2;
        Values update(6);
        for (int r = 0; r < 2; ++r) {
            for (int c = 0; c < 3; ++c) update[r * 3 + c] = g[r * 3 + c] / std::sqrt(row[r] / row_mean) / std::sqrt(col[c]);
        }
        const double clip = std::max(1.0, rms(update) / 1.0);
        for (int i = 0; i < 6; ++i) p[i] -= lr * update[i] / clip;
        expected.push_back(p);
    }
    expect_near(run_optimizer(s, rates), expected);
}

TEST(Optimizer, StateIsNamedAndRestores) {
    OptimizerSettings s;
    s.kind = "adamw";
    at::Tensor a = tensor_of(kStart).set_requires_grad(true);
    at::Tensor b = tensor_of(kStart).set_requires_grad(true);
    auto first = make_optimizer(s, {{"w", a}});
    auto second = make_optimizer(s, {{"w", b}});
    a.mutable_grad() = tensor_of(kGradients[0]);
    first->step(0.1);
    const auto state = first->state();
    ASSERT_TRUE(state.count("exp_avg/w"));
    ASSERT_TRUE(state.count("exp_avg_sq/w"));
    second->load_state(state, first->steps_taken());
    {
        at::NoGradGuard no_grad;
        b.copy_(a);
    }
    a.mutable_grad() = tensor_of(kGradients[1]);
    b.mutable_grad() = tensor_of(kGradients[1]);
    first->step(0.1);
    second->step(0.1);
    EXPECT_TRUE(at::equal(a, b));
    EXPECT_THROW(second->load_state({{"exp_avg/missing", a}}, 1), std::runtime_error);
}

TEST(Optimizer, GradientClippingScalesToTheGlobalNorm) {
    at::Tensor a = at::zeros({2}).set_requires_grad(true);
    at::Tensor b = at::zeros({1}).set_requires_grad(true);
    a.mutable_grad() = at::tensor({3.0f, 0.0f});
    b.mutable_grad() = at::tensor({4.0f});
    // In fp32: the norm is a square root of two squares summed (four roundings), each scaled
    // gradient one division more.
    const double u = test::kFloat32Roundoff;
    EXPECT_NEAR(clip_gradient_norm({{"a", a}, {"b", b}}, 1.0), 5.0, 4 * u * 5.0);
    EXPECT_NEAR(a.grad()[0].item<double>(), 0.6, 5 * u * 0.6);
    EXPECT_NEAR(b.grad()[0].item<double>(), 0.8, 5 * u * 0.8);
    EXPECT_NEAR(clip_gradient_norm({{"a", a}, {"b", b}}, 0.0), 1.0, 9 * u);  // 0: measure only
}

TEST(Schedule, WarmupThenEachDecayAtKnownPoints) {
    ScheduleSettings s;
    s.peak_lr = 1.0, s.final_lr = 0.0, s.warmup_steps = 10, s.total_steps = 110;
    s.kind = "cosine";
    EXPECT_DOUBLE_EQ(s.rate(0), 0.0);
    EXPECT_DOUBLE_EQ(s.rate(5), 0.5);
    EXPECT_DOUBLE_EQ(s.rate(10), 1.0);
    // In double, cos(pi/2) is 6e-17, not 0: 1e-12 is ten thousand ulps of these rates (<= 1).
    EXPECT_NEAR(s.rate(60), 0.5, 1e-12);
    EXPECT_NEAR(s.rate(110), 0.0, 1e-12);
    EXPECT_NEAR(s.rate(500), 0.0, 1e-12);
    s.kind = "linear";
    EXPECT_DOUBLE_EQ(s.rate(35), 0.75);
    s.kind = "constant";
    EXPECT_DOUBLE_EQ(s.rate(100), 1.0);
    // T5's inverse square root: lr = 1/sqrt(step) after 10^4 warm-up steps at 1e-2.
    s.kind = "inverse-sqrt", s.peak_lr = 1e-2, s.warmup_steps = 10000;
    EXPECT_DOUBLE_EQ(s.rate(10000), 1e-2);
    EXPECT_NEAR(s.rate(40000), 1.0 / std::sqrt(40000.0), 1e-15);
    // nanoT5's warm-up starts at half the peak.
    ScheduleSettings nano;
    nano.warmup_steps = 10000, nano.warmup_start = 0.5, nano.total_steps = 65536, nano.peak_lr = 2e-2;
    EXPECT_DOUBLE_EQ(nano.rate(0), 1e-2);
    EXPECT_DOUBLE_EQ(nano.rate(5000), 1.5e-2);
    EXPECT_NEAR(nano.rate(65536), 1e-5, 1e-15);
}

TEST(Schedule, SettingsRoundTripAndBadFieldsAreNamed) {
    ScheduleSettings s;
    s.kind = "linear", s.warmup_steps = 7;
    const ScheduleSettings back = ScheduleSettings::from_json(s.to_json(), "schedule");
    EXPECT_EQ(back.kind, "linear");
    EXPECT_EQ(back.warmup_steps, 7);
    try {
        ScheduleSettings::from_json(nlohmann::json{{"warmup_steps", -3}}, "schedule");
        FAIL();
    } catch (const std::invalid_argument& error) {
        EXPECT_STREQ(error.what(), "field 'schedule.warmup_steps': expected a whole number >= 0");
    }
    EXPECT_THROW(ScheduleSettings::from_json(nlohmann::json{{"kind", "step"}}, "schedule"), std::invalid_argument);
    EXPECT_THROW(OptimizerSettings::from_json(nlohmann::json{{"kind", "sgd"}}, "optimizer"), std::invalid_argument);
}

}  // namespace
}  // namespace gs
