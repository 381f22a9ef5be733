// Optimisers of T5 pre-training, written out rather than taken from torch::optim so that their
// state is addressable by parameter name: a checkpoint stores it, and a growth step maps it with
// the same maps as the weights.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <ATen/core/Tensor.h>

#include "core/train/optimizer_settings.h"

namespace gs {

using NamedParameters = std::vector<std::pair<std::string, at::Tensor>>;

class Optimizer {
public:
    virtual ~Optimizer() = default;

    // One update of every parameter with a gradient, at learning rate `lr`.
    void step(double lr);
    int64_t steps_taken() const { return steps_; }
    const OptimizerSettings& settings() const { return settings_; }

    // State tensors keyed "SLOT/PARAMETER" (e.g. "exp_avg/shared.weight"), for checkpoints.
    std::map<std::string, at::Tensor> state() const;
    void load_state(const std::map<std::string, at::Tensor>& state, int64_t steps_taken);
    // The slots that hold moments of the gradient (first) and of its square (second): the ones a
    // growth step can map. Empty when the optimiser's state cannot be grown (Adafactor's factors).
    virtual std::string first_moment_slot() const { return ""; }
    virtual std::string second_moment_slot() const { return ""; }

protected:
    Optimizer(OptimizerSettings settings, NamedParameters parameters);
    // Updates one parameter in place; `slots` holds its state, created on the first step.
    virtual void update(at::Tensor& parameter, const at::Tensor& gradient,
                        std::map<std::string, at::Tensor>& slots, double lr) = 0;

    OptimizerSettings settings_;
    int64_t steps_ = 0;

private:
    NamedParameters parameters_;
    std::map<std::string, std::map<std::string, at::Tensor>> slots_;  // parameter -> slot -> tensor
};

std::unique_ptr<Optimizer> make_optimizer(const OptimizerSettings& settings, NamedParameters parameters);

// Scales all gradients so that their global L2 norm is at most max_norm (no-op when max_norm
// <= 0); returns the norm before clipping.
double clip_gradient_norm(const NamedParameters& parameters, double max_norm);

}  // namespace gs
