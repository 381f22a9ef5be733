// Experiment files: one JSON document (format "growthstudio-experiment", version 1) that says
// everything a run needs — data, pipeline, sizes, optimiser, schedule, batches, validation,
// checkpoints, seed and device. Paths inside are relative to the file's folder. docs/experiments.md
// documents every field; errors name the file and the field.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "core/data/prepare.h"
#include "core/data/span_corruption.h"
#include "core/data/split.h"
#include "core/model/t5_cost.h"
#include "core/pipeline/pipeline.h"
#include "core/train/optimizer_settings.h"
#include "core/train/schedule.h"
#include "core/train/train_enums.h"

namespace gs {

struct DataSpec {
    CorpusOptions corpus;          // no paths: the bundled Korean corpus
    std::string tokenizer = "train:8000";
    SplitOptions split;
    SpanCorruptionOptions span;
    std::string cache_dir;         // the tokenizer and token files; default: one per data setting in ~/.cache
};

struct ExperimentSpec {
    static constexpr int kVersion = 1;

    std::string source;            // the file it was read from ("" when built in memory)
    std::string name;
    DataSpec data;
    Pipeline pipeline;             // stage configs without their vocabulary yet (the tokenizer decides)
    OptimizerSettings optimizer;
    ScheduleSettings schedule;
    bool grow_optimizer_state = true;      // at a growth during training; false: reset it
    bool restart_schedule_on_growth = false;
    int64_t batch_size = 8;
    int64_t gradient_accumulation = 1;
    double gradient_clip = 1.0;            // 0: no clipping
    int64_t validation_interval = 1000;    // steps
    int64_t validation_batches = 20;
    int64_t checkpoint_interval = 1000;    // steps
    int64_t keep_checkpoints = 2;          // interval checkpoints kept besides stage ends
    uint64_t seed = 0;
    std::string device = "auto";
    int threads = 0;
    Precision precision = Precision::fp32;  // "fp32" | "bf16" in the file
    bool tf32 = false;
    bool skip_nonfinite_steps = false;     // false: a NaN/inf loss or gradient fails the run
    double max_skipped_share = 0.05;       // skipping: the run fails past this share of its steps

    nlohmann::json json;                   // the document as read, stored with every run

    static ExperimentSpec load(const std::string& path);
    // `folder` resolves relative paths.
    static ExperimentSpec from_json(const nlohmann::json& json, const std::string& source, const std::string& folder);

private:
    friend Pipeline read_experiment_pipeline(const nlohmann::json& json, const std::string& source);
    // `check_pipeline`: also the rules of validate_pipeline (which an editor shows per stage instead).
    static ExperimentSpec read(const nlohmann::json& json, const std::string& source, const std::string& folder,
                               bool check_pipeline);
};

// A "sizes" entry: the preset of that name (T, S, B) or T5's defaults, with the entry's fields.
T5Config read_size_entry(const std::string& name, const nlohmann::json& entry, const std::string& source);
// The "sizes" entry that `read_size_entry` reads back as `config`.
nlohmann::json size_entry_json(const T5Config& config);

// The pipeline of an experiment document, read with every check `ExperimentSpec::from_json` makes
// (an editor refuses what a run refuses, with the same error) but the pipeline's own rules
// (validate_pipeline), which an editor shows at the stage or transition they concern, so that a
// pipeline saved while still being worked on opens again. Its pre-trained source stays as the
// file writes it, not resolved against the file's folder: what an editor shows and saves.
Pipeline read_experiment_pipeline(const nlohmann::json& json, const std::string& source);

// An upper estimate of the memory one process needs to train stage `stage` (see TrainingMemory;
// the vocabulary is the stage config's until the tokenizer decides it).
TrainingMemory training_memory(const ExperimentSpec& spec, size_t stage);

// Refuses, naming the file and fields, a trained stage that needs more than the memory of
// `device` (a resolved name) on this machine. Checked where a run is about to start here, not
// where an experiment is only read: a set submitted to a cluster is read on a smaller machine.
void check_training_memory(const ExperimentSpec& spec, const std::string& device);

// Refuses, naming the file, the field and the stage, a `loss<=[RUN]` budget whose run is not one
// of `known_runs` (`where` says whose: the workspace database, the set). Checked before a run is
// created, so that a mistyped name fails at once and not after the stages before it.
void check_reference_runs(const ExperimentSpec& spec, const std::set<std::string>& known_runs, const std::string& where);

// How many skipped (non-finite) steps a run may have after `steps` steps: `max_skipped_share` of
// them, counted over at least 100 steps so that one bad step early on does not end a run.
int64_t allowed_skipped_steps(const ExperimentSpec& spec, int64_t steps);

}  // namespace gs
