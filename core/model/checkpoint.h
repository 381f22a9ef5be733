// T5 checkpoints as HuggingFace folders: config.json with HF's keys and model.safetensors (or
// sharded model-*.safetensors with model.safetensors.index.json) with HF's tensor names.
#pragma once

#include <map>
#include <string>

#include "core/model/t5_model.h"

namespace gs {

// Loads config.json and the weights (F32, F16 or BF16; stored as fp32 parameters on the CPU).
// Missing, unexpected, mis-shaped or non-float tensors throw, naming the file and the tensor.
T5Model load_t5_checkpoint(const std::string& directory);

// Copies the weights of a safetensors checkpoint folder into an existing model of the same config.
void load_t5_weights(T5Model& model, const std::string& directory);

// Writes config.json and model.safetensors (parameters in their current dtype) atomically,
// creating the folder. `metadata` is stored in the safetensors header beside HF's "format".
void save_t5_checkpoint(const T5Model& model, const std::string& directory,
                        const std::map<std::string, std::string>& metadata = {});

}  // namespace gs
