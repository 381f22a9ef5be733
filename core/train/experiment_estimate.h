// What an experiment's estimate takes from this machine, one rule for `run --dry-run` and the
// canvas so that both show the same estimate: batch rows and sequence lengths by the
// experiment's fields, the vocabulary its tokenizer gives (the trained one once its data is
// prepared), the steps of an epoch of the prepared data, and each stage's step time measured by
// earlier runs of the workspace on this machine and device. The throughput that times the stages
// without a measurement is the caller's: a measured matmul peak, or a figure the user typed.
#pragma once

#include <cstddef>
#include <map>
#include <string>

#include "core/data/prepare.h"
#include "core/pipeline/pipeline_estimate.h"
#include "core/train/experiment.h"
#include "core/train/measured_speed.h"

namespace gs {

struct ExperimentEstimateInputs {
    EstimateSettings settings;  // steps_per_epoch unset while the data is not prepared
    ExpectedVocabulary vocabulary;
    std::map<size_t, MeasuredStepTime> measured;  // by stage index

    // Every stage is timed by an earlier run: no throughput guess is needed.
    bool all_measured(const ExperimentSpec& spec) const { return measured.size() == spec.pipeline.stages.size(); }
};

// `database`: the workspace, read without creating it (none: nothing measured); `device`: a
// resolved device name.
ExperimentEstimateInputs experiment_estimate_inputs(const ExperimentSpec& spec, const std::string& database,
                                                    const std::string& device);

}  // namespace gs
