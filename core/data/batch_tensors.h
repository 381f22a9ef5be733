// The one LibTorch step of the data pipeline: a SpanBatch as int64 tensors for the model.
#pragma once

#include <ATen/core/Tensor.h>

#include "core/data/batches.h"

namespace gs {

struct TensorBatch {
    at::Tensor input_ids;  // [batch, input_length] int64
    at::Tensor labels;     // [batch, target_length] int64 (no padding in pre-training, so no -100)
};

// In pinned host memory when `pin_memory` (and CUDA is available), for asynchronous copies.
TensorBatch to_tensors(const SpanBatch& batch, bool pin_memory);

}  // namespace gs
