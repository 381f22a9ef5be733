// Applies a GrowthPlan to the tensors of a T5 v1.1 (or original T5) encoder-decoder: width by
// FPI or AKI, then depth. The same mapping grows Adam's moments (the Staged Training rule
// generalised: each copy's moments are those its gradient would have), so that an optimiser
// can continue across a growth step.
#pragma once

#include <map>
#include <string>

#include <ATen/core/Tensor.h>

#include "core/growth/growth_plan.h"
#include "core/model/t5_model.h"

namespace gs {

using TensorMap = std::map<std::string, at::Tensor>;

enum class GrowthState {
    weights,        // W'[r, j] = write[r] * read[j] * W[g(r), g(j)]
    first_moment,   // what the gradient of each copy is: read[r] * write[j] * m[g(r), g(j)]
    second_moment,  // the square of the first-moment factor
};

// Grows every tensor of `source` (HF state-dict names of plan.source) into plan.target's names
// and shapes. Tensors that no growth touches may share storage with `source`.
TensorMap grow_tensors(const GrowthPlan& plan, const TensorMap& source, GrowthState state = GrowthState::weights);

// The model's parameters by name (sharing storage with the model).
TensorMap parameters_by_name(const T5Model& model);

// A new model of plan.target holding the grown weights of `source`.
T5Model grow_t5_model(const T5Model& source, const GrowthPlan& plan);

// Writes growth.json (the plan with its maps) into a checkpoint folder, and reads it back.
void save_growth_plan(const GrowthPlan& plan, const std::string& directory);
GrowthPlan load_growth_plan(const std::string& directory);

}  // namespace gs
