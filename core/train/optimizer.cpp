#include "core/train/optimizer.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <nlohmann/json.hpp>

#include "core/io/json_fields.h"

namespace gs {

namespace {

double rms(const at::Tensor& tensor) { return tensor.norm().item<double>() / std::sqrt(static_cast<double>(tensor.numel())); }

at::Tensor& slot(std::map<std::string, at::Tensor>& slots, const std::string& name, const at::Tensor& like) {
    auto it = slots.find(name);
    if (it == slots.end()) it = slots.emplace(name, at::zeros_like(like, at::kFloat)).first;
    return it->second;
}

// PyTorch's AdamW: decoupled decay first, bias-corrected moments, eps outside the square root.
class AdamW : public Optimizer {
public:
    AdamW(OptimizerSettings settings, NamedParameters parameters) : Optimizer(std::move(settings), std::move(parameters)) {}
    std::string first_moment_slot() const override { return "exp_avg"; }
    std::string second_moment_slot() const override { return "exp_avg_sq"; }

protected:
    // Adam's running averages of the gradient and of its square, updated in place.
    std::pair<at::Tensor, at::Tensor> update_moments(const at::Tensor& p, const at::Tensor& g,
                                                     std::map<std::string, at::Tensor>& slots) const {
        at::Tensor& m = slot(slots, "exp_avg", p);
        at::Tensor& v = slot(slots, "exp_avg_sq", p);
        m.mul_(settings_.beta1).add_(g, 1 - settings_.beta1);
        v.mul_(settings_.beta2).addcmul_(g, g, 1 - settings_.beta2);
        return {m, v};
    }

    void update(at::Tensor& p, const at::Tensor& g, std::map<std::string, at::Tensor>& slots, double lr) override {
        const auto& s = settings_;
        if (s.weight_decay > 0) p.mul_(1 - lr * s.weight_decay);
        auto [m, v] = update_moments(p, g, slots);
        const double t = static_cast<double>(steps_);
        const double correction1 = 1 - std::pow(s.beta1, t);
        const double correction2 = 1 - std::pow(s.beta2, t);
        const at::Tensor denominator = (v.sqrt() / std::sqrt(correction2)).add_(s.eps);
        p.addcdiv_(m, denominator, -lr / correction1);
    }
};

// nanoT5's AdamWScale: HF AdamW's update with the step size scaled by max(1e-3, RMS(p)).
class AdamWScale : public AdamW {
public:
    using AdamW::AdamW;

protected:
    void update(at::Tensor& p, const at::Tensor& g, std::map<std::string, at::Tensor>& slots, double lr) override {
        const auto& s = settings_;
        auto [m, v] = update_moments(p, g, slots);
        const double t = static_cast<double>(steps_);
        const double step_size =
            lr * std::sqrt(1 - std::pow(s.beta2, t)) / (1 - std::pow(s.beta1, t)) * std::max(1e-3, rms(p));
        p.addcdiv_(m, v.sqrt().add_(s.eps), -step_size);
        if (s.weight_decay > 0) p.add_(p, -lr * s.weight_decay);
    }
};

// HF Adafactor with relative_step=False: factored second moments for matrices, update clipping
// by RMS, step scaled by the parameter's RMS.
class Adafactor : public Optimizer {
public:
    Adafactor(OptimizerSettings settings, NamedParameters parameters)
        : Optimizer(std::move(settings), std::move(parameters)) {}

protected:
    void update(at::Tensor& p, const at::Tensor& g, std::map<std::string, at::Tensor>& slots, double lr) override {
        const auto& s = settings_;
        const double t = static_cast<double>(steps_);
        const double scaled_lr = s.adafactor_scale_parameter ? lr * std::max(s.adafactor_eps2, rms(p)) : lr;
        const double beta2t = 1.0 - std::pow(t, s.adafactor_decay_rate);
        const at::Tensor squared = g * g + s.adafactor_eps1;
        at::Tensor update;
        if (p.dim() >= 2) {
            at::Tensor& row = slot(slots, "exp_avg_sq_row", squared.mean(-1));
            at::Tensor& col = slot(slots, "exp_avg_sq_col", squared.mean(-2));
            row.mul_(beta2t).add_(squared.mean(-1), 1 - beta2t);
            col.mul_(beta2t).add_(squared.mean(-2), 1 - beta2t);
            const at::Tensor row_factor = (row / row.mean(-1, true)).rsqrt().unsqueeze(-1);
            update = row_factor * col.unsqueeze(-2).rsqrt() * g;
        } else {
            at::Tensor& v = slot(slots, "exp_avg_sq", p);
            v.mul_(beta2t).add_(squared, 1 - beta2t);
            update = v.rsqrt() * g;
        }
        update.div_(std::max(1.0, rms(update) / s.adafactor_clip)).mul_(scaled_lr);
        if (s.beta1 > 0) {
            at::Tensor& m = slot(slots, "exp_avg", p);
            m.mul_(s.beta1).add_(update, 1 - s.beta1);
            update = m;
        }
        if (s.weight_decay > 0) p.add_(p, -s.weight_decay * scaled_lr);
        p.sub_(update);
    }
};

}  // namespace

Optimizer::Optimizer(OptimizerSettings settings, NamedParameters parameters)
    : settings_(std::move(settings)), parameters_(std::move(parameters)) {}

void Optimizer::step(double lr) {
    at::NoGradGuard no_grad;
    ++steps_;
    for (auto& [name, parameter] : parameters_) {
        const at::Tensor& gradient = parameter.grad();
        if (!gradient.defined()) continue;
        update(parameter, gradient, slots_[name], lr);
    }
}

std::map<std::string, at::Tensor> Optimizer::state() const {
    std::map<std::string, at::Tensor> state;
    for (const auto& [parameter, slots] : slots_) {
        for (const auto& [slot_name, tensor] : slots) state[slot_name + "/" + parameter] = tensor;
    }
    return state;
}

void Optimizer::load_state(const std::map<std::string, at::Tensor>& state, int64_t steps_taken) {
    std::map<std::string, std::map<std::string, at::Tensor>> slots;
    std::map<std::string, const at::Tensor*> known;
    for (const auto& [name, parameter] : parameters_) known[name] = &parameter;
    for (const auto& [key, tensor] : state) {
        const size_t slash = key.find('/');
        const std::string parameter = slash == std::string::npos ? "" : key.substr(slash + 1);
        if (!known.count(parameter)) throw std::runtime_error("optimizer state '" + key + "': no such parameter");
        // A copy: the state must not alias tensors the caller still owns.
        slots[parameter][key.substr(0, slash)] = tensor.to(known[parameter]->device(), at::kFloat, false, true);
    }
    slots_ = std::move(slots);
    steps_ = steps_taken;
}

std::unique_ptr<Optimizer> make_optimizer(const OptimizerSettings& settings, NamedParameters parameters) {
    if (settings.kind == "adamw") return std::make_unique<AdamW>(settings, std::move(parameters));
    if (settings.kind == "adamw-scale") return std::make_unique<AdamWScale>(settings, std::move(parameters));
    if (settings.kind == "adafactor") return std::make_unique<Adafactor>(settings, std::move(parameters));
    throw std::invalid_argument("optimizer '" + settings.kind + "': expected adamw, adamw-scale or adafactor");
}

double clip_gradient_norm(const NamedParameters& parameters, double max_norm) {
    at::NoGradGuard no_grad;
    double squared = 0;
    for (const auto& [name, parameter] : parameters) {
        if (parameter.grad().defined()) squared += parameter.grad().to(at::kDouble).pow(2).sum().item<double>();
    }
    const double norm = std::sqrt(squared);
    if (max_norm > 0 && norm > max_norm) {
        const double scale = max_norm / (norm + 1e-6);
        for (const auto& [name, parameter] : parameters) {
            if (parameter.grad().defined()) parameter.grad().mul_(scale);
        }
    }
    return norm;
}

nlohmann::json OptimizerSettings::to_json() const {
    return {{"kind", kind}, {"beta1", beta1}, {"beta2", beta2}, {"eps", eps}, {"weight_decay", weight_decay}};
}

OptimizerSettings OptimizerSettings::from_json(const nlohmann::json& json, const std::string& field) {
    OptimizerSettings settings;
    if (json.contains("kind") && json.at("kind").is_string()) {
        settings.kind = json.at("kind").get<std::string>();
        if (settings.kind == "adafactor") settings.beta1 = 0.0, settings.eps = 1e-30;
    }
    const JsonFields f(json, "", field);
    f.number("beta1", settings.beta1, 0);
    f.number("beta2", settings.beta2, 0);
    f.number("eps", settings.eps, 0);
    f.number("weight_decay", settings.weight_decay, 0);
    if (settings.kind != "adamw" && settings.kind != "adamw-scale" && settings.kind != "adafactor") {
        throw std::invalid_argument("field '" + field + ".kind': '" + settings.kind +
                                    "', expected adamw, adamw-scale or adafactor");
    }
    return settings;
}

}  // namespace gs
