#include "core/train/mixed_precision.h"

#include <ATen/core/grad_mode.h>

namespace gs {

void MixedPrecision::set_masters(T5Model masters) {
    masters_ = std::move(masters);
    if (!bf16_) {
        compute_ = masters_;
        return;
    }
    compute_ = T5Model(masters_->config(), /*initialize=*/false);
    compute_->to(device_, at::kBFloat16);
    masters_to_compute();
}

void MixedPrecision::masters_to_compute() {
    if (!bf16_) return;
    at::NoGradGuard no_grad;
    auto masters = masters_->named_parameters();
    for (auto& item : compute_->named_parameters()) item.value().copy_(masters[item.key()]);
}

void MixedPrecision::gradients_to_masters(NamedParameters& parameters) {
    if (!bf16_) return;
    auto computed = compute_->named_parameters();
    for (auto& [name, master] : parameters) {
        const at::Tensor& gradient = computed[name].grad();
        if (gradient.defined()) master.mutable_grad() = gradient.to(at::kFloat);
    }
}

}  // namespace gs
