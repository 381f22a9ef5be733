#include "core/data/batch_tensors.h"

#include <ATen/ATen.h>
#include <ATen/Context.h>

namespace gs {
namespace {

at::Tensor to_tensor(const std::vector<int32_t>& values, int64_t rows, int64_t columns, bool pin) {
    auto options = at::TensorOptions().dtype(at::kLong).pinned_memory(pin && at::hasCUDA());
    at::Tensor tensor = at::empty({rows, columns}, options);
    int64_t* out = tensor.data_ptr<int64_t>();
    for (size_t i = 0; i < values.size(); ++i) out[i] = values[i];
    return tensor;
}

}  // namespace

TensorBatch to_tensors(const SpanBatch& batch, bool pin_memory) {
    return {to_tensor(batch.inputs, batch.batch_size, batch.input_length, pin_memory),
            to_tensor(batch.targets, batch.batch_size, batch.target_length, pin_memory)};
}

}  // namespace gs
