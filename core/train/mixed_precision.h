// A run's weights in two precisions: the fp32 masters the optimiser updates (and checkpoints and
// growth see), and the model the steps compute with — the masters themselves in fp32, or a bf16
// copy of them (precision "bf16") refreshed after every update, whose gradients come back to
// the masters in fp32.
#pragma once

#include "core/model/t5_model.h"
#include "core/train/optimizer.h"

namespace gs {

class MixedPrecision {
public:
    MixedPrecision(bool bf16, at::Device device) : bf16_(bf16), device_(device) {}

    bool bf16() const { return bf16_; }
    // New master weights (a new run, a growth, a checkpoint loaded), on the device: the compute
    // model follows them.
    void set_masters(T5Model masters);
    T5Model& masters() { return masters_; }
    const T5Model& masters() const { return masters_; }
    T5Model& compute() { return compute_; }

    // After the optimiser changed the masters.
    void masters_to_compute();
    // After a backward pass: the compute model's gradients, in fp32, on the masters `parameters`.
    void gradients_to_masters(NamedParameters& parameters);

private:
    bool bf16_;
    at::Device device_;
    T5Model masters_{nullptr};
    T5Model compute_{nullptr};
};

}  // namespace gs
