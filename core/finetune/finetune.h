// Downstream fine-tuning of a pre-trained T5 on the study's four Korean tasks, and the scores it
// writes into the store against the pre-trained model's run. Torch-free: the GUI and the CLI
// include it; the engine lives in the .cpp files beside it.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/eval/task_metrics.h"
#include "core/store/score_provenance.h"

namespace gs {

class Store;

enum class DownstreamTask {
    nli,             // KLUE-NLI: encoder, masked mean pool + classifier; accuracy
    extractive_qa,   // KorQuAD 1.0: encoder + start/end span head, sliding windows; EM, F1
    generative_qa,   // KorQuAD 1.0: question + context -> answer with the decoder; EM, F1
    summarization,   // news summaries: document -> summary with the decoder; Rouge-L F1
};

std::vector<DownstreamTask> all_downstream_tasks();
std::string task_code(DownstreamTask task);        // "nli", "ext", "gen", "sum" (the CLI's --task)
std::string task_store_name(DownstreamTask task);  // "klue-nli", "korquad-ext", "korquad-gen", "summarization"
std::string task_title(DownstreamTask task);       // "KLUE-NLI", "KorQuAD extractive", ...
// Accepts the code or the store name; throws naming the accepted values otherwise.
DownstreamTask parse_downstream_task(const std::string& text);

// Per-task settings, saved with every result (settings_json of the result rows).
struct FinetuneSettings {
    int64_t epochs = 3;
    double learning_rate = 3e-4;
    double weight_decay = 0.0;
    double warmup_fraction = 0.06;  // of the total steps, then linear decay
    int64_t batch_size = 16;
    int64_t max_input_length = 256;   // tokens fed to the encoder (a window for extractive QA)
    int64_t max_target_length = 64;   // generated tokens (generative QA, summaries)
    int64_t doc_stride = 128;         // extractive QA: overlap between windows of one context
    int64_t num_beams = 1;            // 1: greedy; generation always uses the KV cache
    int64_t max_answer_tokens = 30;   // extractive QA: the longest span (in tokens) an answer may be
    int64_t max_train_examples = 0;   // 0: all
    int64_t max_eval_examples = 0;    // 0: all
    // With no separate dev file, this share of the data file is held out (seeded) for scoring.
    double dev_fraction = 0.2;
    RougeTokens rouge_tokens = RougeTokens::whitespace;
    uint64_t seed = 42;
    std::string device = "auto";  // auto, cpu, cuda, cuda:N
    int threads = 0;              // 0: leave the process's setting
    bool score_before_training = true;  // also score the untrained head (FinetuneResult::before_training)
    bool save_weights = true;           // write the fine-tuned model (and head) under output_dir/model

    static FinetuneSettings defaults_for(DownstreamTask task);
    // Throws std::invalid_argument naming the first field out of range for `task`.
    void validate(DownstreamTask task) const;
    // The fields that apply to `task` (the others have no effect on it).
    std::string to_json(DownstreamTask task) const;
    // Missing fields keep the task's defaults; unknown or invalid ones throw naming `source` and the
    // field. Every field is known whatever the task, so records with fields of other tasks load.
    static FinetuneSettings from_json(const std::string& json_text, DownstreamTask task, const std::string& source);
};

struct FinetuneRequest {
    DownstreamTask task = DownstreamTask::nli;
    std::string model_dir;   // HF checkpoint folder (config.json, model.safetensors, spiece.model)
    std::string train_path;  // the dataset's own format, read by core/eval/task_data
    std::string dev_path;    // empty: hold out settings.dev_fraction of train_path
    std::string output_dir;  // predictions (and the fine-tuned weights) go here
    FinetuneSettings settings;
};

struct FinetuneProgress {
    std::string phase;        // "loading", "training", "evaluating"
    // Training: optimiser steps. Evaluating: units scored (examples; windows for extractive QA),
    // counted from 0 at the start of each scoring pass (before and after training).
    int64_t step = 0, total_steps = 0;
    double loss = 0;
    double examples_per_second = 0;  // units per second of the current phase
};

struct FinetuneResult {
    // Metric name -> value as the results table stores it: "accuracy" (0..100), "em", "f1"
    // (0..100), "rouge-l-f1" (0..100).
    std::map<std::string, double> metrics;
    std::map<std::string, double> before_training;  // the same metrics with the untrained head
    std::string predictions_path;  // in the task's official prediction format
    int64_t train_examples = 0, eval_examples = 0;
    ScoreProvenance provenance;  // the files, their hashes, the split and the counts behind the scores
    double seconds = 0;
};

using FinetuneProgressCallback = std::function<void(const FinetuneProgress&)>;

// Fine-tunes and scores. Throws std::runtime_error naming the file, record and field of bad input;
// a set `cancel` flag stops it at the next step with an error saying it was cancelled.
FinetuneResult run_finetune(const FinetuneRequest& request, const FinetuneProgressCallback& progress = {},
                            const std::atomic<bool>* cancel = nullptr);

// RUN (name or id in the store: its final checkpoint, else its latest) or DIR (a checkpoint folder).
struct ResolvedModel {
    std::string model_dir;
    std::optional<int64_t> run_id;  // set when the model belongs to a run in the store
};
ResolvedModel resolve_finetune_model(Store& store, const std::string& run_or_dir);

// Writes the result rows (task_store_name/metric, with the settings and the provenance) against the run.
void record_finetune_result(Store& store, int64_t run_id, const FinetuneRequest& request,
                            const FinetuneResult& result);

}  // namespace gs
