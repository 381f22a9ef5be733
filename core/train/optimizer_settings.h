// The optimiser an experiment asks for: plain data, free of LibTorch, so that experiment files
// can be read where no tensor is ever made (the GUI).
#pragma once

#include <string>

#include <nlohmann/json_fwd.hpp>

namespace gs {

struct OptimizerSettings {
    // "adamw" (PyTorch's AdamW), "adamw-scale" (nanoT5's AdamW with per-tensor RMS-scaled steps),
    // "adafactor" (HF Adafactor with a given learning rate, relative_step off).
    std::string kind = "adamw-scale";
    double beta1 = 0.9;  // adafactor: 0 means no first moment (the memory-light default)
    double beta2 = 0.999;
    double eps = 1e-6;
    double weight_decay = 0.0;
    // Adafactor only (HF's defaults).
    double adafactor_eps1 = 1e-30;
    double adafactor_eps2 = 1e-3;
    double adafactor_clip = 1.0;
    double adafactor_decay_rate = -0.8;
    bool adafactor_scale_parameter = true;

    // Tensors of the weights' size the optimiser keeps per parameter: Adam's two moments, or
    // Adafactor's first moment when it has one (its factored second moment is a row and a column).
    int moment_tensors() const { return kind == "adafactor" ? (beta1 > 0 ? 1 : 0) : 2; }

    nlohmann::json to_json() const;
    static OptimizerSettings from_json(const nlohmann::json& json, const std::string& field);
};

}  // namespace gs
