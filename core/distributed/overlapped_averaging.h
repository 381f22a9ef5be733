// Data-parallel gradient averaging overlapped with the backward pass: autograd hooks on the
// model's parameters hand each gradient to a GradientAverager the moment autograd has it, so the
// buckets of the last layers travel while the first layers' gradients are still being computed.
#pragma once

#include <memory>
#include <vector>

#include <ATen/core/Tensor.h>

#include "core/distributed/communicator.h"

namespace gs {

class OverlappedGradientAveraging {
public:
    // `computed`: the parameters the backward pass reaches (the bf16 copy in bf16 training);
    // `masters`: where the averaged gradients go (the same tensors in fp32 training).
    OverlappedGradientAveraging(Communicator& group, std::vector<at::Tensor> computed, std::vector<at::Tensor> masters,
                                int64_t bucket_bytes = Communicator::kGradientBucketBytes);
    ~OverlappedGradientAveraging();  // removes the hooks
    OverlappedGradientAveraging(const OverlappedGradientAveraging&) = delete;
    OverlappedGradientAveraging& operator=(const OverlappedGradientAveraging&) = delete;

    // The next backward pass is the step's last: its gradients are sent as they come, plus what
    // earlier micro-batches of the step left in the parameters' .grad when `after_earlier`.
    void arm(bool after_earlier);
    // After that pass: waits for every bucket and sets each master's gradient to the mean over
    // the ranks.
    void finish();

    const GradientAverager& averager() const { return *averager_; }

private:
    void on_gradient(size_t index, const at::Tensor& gradient);

    std::unique_ptr<GradientAverager> averager_;
    std::vector<at::Tensor> computed_;
    std::vector<at::Tensor> masters_;
    std::vector<unsigned> hooks_;
    bool armed_ = false;
    bool after_earlier_ = false;
};

}  // namespace gs
