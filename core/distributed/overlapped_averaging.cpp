#include "core/distributed/overlapped_averaging.h"

#include <stdexcept>

#include <ATen/ATen.h>

namespace gs {

OverlappedGradientAveraging::OverlappedGradientAveraging(Communicator& group, std::vector<at::Tensor> computed,
                                                         std::vector<at::Tensor> masters, int64_t bucket_bytes)
    : computed_(std::move(computed)), masters_(std::move(masters)) {
    if (computed_.size() != masters_.size()) throw std::logic_error("one master per computed parameter expected");
    averager_ = group.gradient_averager(masters_, bucket_bytes);
    // A leaf's hook runs once per backward pass, with the sum over all its uses (a tied
    // embedding's two, a shared position bias's many), before it is added to .grad.
    for (size_t i = 0; i < computed_.size(); ++i) {
        hooks_.push_back(computed_[i].register_hook([this, i](const at::Tensor& gradient) { on_gradient(i, gradient); }));
    }
}

OverlappedGradientAveraging::~OverlappedGradientAveraging() {
    for (size_t i = 0; i < computed_.size(); ++i) computed_[i].remove_hook(hooks_[i]);
}

void OverlappedGradientAveraging::arm(bool after_earlier) {
    armed_ = true;
    after_earlier_ = after_earlier;
}

void OverlappedGradientAveraging::on_gradient(size_t index, const at::Tensor& gradient) {
    if (!armed_) return;  // an earlier micro-batch of the step: it only accumulates
    const at::Tensor& earlier = computed_[index].grad();
    averager_->add(index, after_earlier_ && earlier.defined() ? earlier + gradient : gradient);
}

void OverlappedGradientAveraging::finish() {
    armed_ = false;
    std::vector<at::Tensor> outputs;
    for (at::Tensor& master : masters_) {
        if (!master.grad().defined()) master.mutable_grad() = at::zeros_like(master);
        outputs.push_back(master.grad());
    }
    averager_->finish(outputs);
}

}  // namespace gs
