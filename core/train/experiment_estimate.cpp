#include "core/train/experiment_estimate.h"

#include <filesystem>

#include "core/data/pretraining_data.h"
#include "core/data/token_cache.h"
#include "core/model/t5_cost.h"
#include "core/runtime/runtime_info.h"

namespace gs {

namespace fs = std::filesystem;

namespace {

// The steps of one epoch, once the experiment's data is prepared.
std::optional<int64_t> prepared_steps_per_epoch(const ExperimentSpec& spec) {
    if (!fs::exists(train_tokens_path(spec.data.cache_dir))) return std::nullopt;
    try {
        const auto data = PretrainingData::open(spec.data.cache_dir, spec.data.span);
        return steps_per_epoch(data->train().rows(), spec.batch_size * spec.gradient_accumulation);
    } catch (const std::exception&) {
        return std::nullopt;  // a stale or partial cache: the run rebuilds it
    }
}

// What each stage's steps took in earlier runs of this machine and device, where the workspace has them.
std::map<size_t, MeasuredStepTime> measured_times(const ExperimentSpec& spec, const EstimateSettings& settings,
                                                  const std::string& database, const std::string& device) {
    std::map<size_t, MeasuredStepTime> measured;
    if (!fs::exists(database)) return measured;
    Store store(database, SqlAccess::read_only);
    for (size_t i = 0; i < spec.pipeline.stages.size(); ++i) {
        T5Config config = spec.pipeline.stages[i].config;
        config.vocab_size = *settings.vocab_size;
        const double flops = training_flops_per_step(config, settings.batch_rows, settings.input_length, settings.target_length);
        if (auto time = measured_step_time(store, host_name(), device, config, flops)) measured[i] = *time;
    }
    return measured;
}

}  // namespace

ExperimentEstimateInputs experiment_estimate_inputs(const ExperimentSpec& spec, const std::string& database,
                                                    const std::string& device) {
    ExperimentEstimateInputs inputs;
    inputs.vocabulary = expected_vocabulary(spec.data.cache_dir, parse_tokenizer_choice(spec.data.tokenizer));
    const SpanLengths lengths = compute_span_lengths(spec.data.span);
    EstimateSettings& settings = inputs.settings;
    settings.batch_rows = spec.batch_size * spec.gradient_accumulation;
    settings.input_length = lengths.input_length;
    settings.target_length = lengths.target_length;
    settings.steps_per_epoch = prepared_steps_per_epoch(spec);
    settings.vocab_size = inputs.vocabulary.model_vocab_size;
    inputs.measured = measured_times(spec, settings, database, device);
    for (const auto& [stage, time] : inputs.measured) settings.measured_step_seconds[stage] = time.seconds;
    return inputs;
}

}  // namespace gs
