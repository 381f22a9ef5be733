// run_finetune: loads the checkpoint and its tokenizer, builds the task, scores the untrained
// head, fine-tunes, scores again and writes the predictions (and weights); and the store link.
#include "core/finetune/finetune.h"

#include <chrono>
#include <filesystem>
#include <stdexcept>
#include <tuple>

#include <ATen/ATen.h>

#include "core/finetune/finetune_engine.h"
#include "core/io/safetensors.h"
#include "core/model/checkpoint.h"
#include "core/runtime/runtime_info.h"
#include "core/store/store.h"

namespace gs {

namespace fs = std::filesystem;

namespace {

std::unique_ptr<FinetuneTask> make_task(DownstreamTask task, const FinetuneContext& context, const TaskDataset& data) {
    switch (task) {
        case DownstreamTask::nli: return make_nli_task(context, data);
        case DownstreamTask::extractive_qa: return make_extractive_qa_task(context, data);
        case DownstreamTask::generative_qa: return make_generative_qa_task(context, data);
        case DownstreamTask::summarization: return make_summarization_task(context, data);
    }
    throw std::invalid_argument("unknown downstream task");
}

Tokenizer checkpoint_tokenizer(const std::string& model_dir, const T5Config& config) {
    const std::string path = model_dir + "/spiece.model";
    if (!fs::exists(path)) throw std::runtime_error(model_dir + ": no spiece.model (the tokenizer the model was trained with)");
    Tokenizer tokenizer = Tokenizer::load(path);
    if (tokenizer.size() > config.vocab_size) {
        throw std::runtime_error(path + ": " + std::to_string(tokenizer.size()) + " ids do not fit the model's vocab_size " +
                                 std::to_string(config.vocab_size));
    }
    return tokenizer;
}

// Examples as the dataset counts them (questions for KorQuAD, not windows).
std::pair<int64_t, int64_t> example_counts(const TaskDataset& data) {
    auto questions = [](const std::vector<QaParagraph>& paragraphs) {
        int64_t n = 0;
        for (const auto& p : paragraphs) n += static_cast<int64_t>(p.questions.size());
        return n;
    };
    return {static_cast<int64_t>(data.nli_train.size() + data.summary_train.size()) + questions(data.qa_train),
            static_cast<int64_t>(data.nli_dev.size() + data.summary_dev.size()) + questions(data.qa_dev)};
}

// The files as they are before reading them (each hashed once, streamed), and the split.
ScoreProvenance data_files(const FinetuneRequest& request) {
    ScoreProvenance provenance;
    provenance.train_file = data_file_record(request.train_path);
    if (!request.dev_path.empty()) {
        provenance.dev_file = data_file_record(request.dev_path);
    } else {
        provenance.held_out_fraction = request.settings.dev_fraction;
        provenance.held_out_seed = request.settings.seed;
    }
    return provenance;
}

// The examples used, and the windows they became for extractive QA.
void count_examples(ScoreProvenance& provenance, DownstreamTask task_kind, const TaskDataset& data, const FinetuneTask& task) {
    std::tie(provenance.train_examples, provenance.eval_examples) = example_counts(data);
    if (task_kind == DownstreamTask::extractive_qa) {
        provenance.train_windows = task.train_size();
        provenance.eval_windows = task.eval_size();
    }
}

// Scoring progress ("evaluating", units done of all, units per second); stops when cancelled.
BatchReport scoring_report(const FinetuneProgressCallback& progress, const std::atomic<bool>* cancel) {
    if (progress) progress({"evaluating", 0, 0, 0, 0});
    const auto start = std::chrono::steady_clock::now();
    return [=](int64_t done, int64_t total) {
        if (cancel && cancel->load()) throw std::runtime_error("fine-tuning cancelled");
        if (!progress) return;
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        progress({"evaluating", done, total, 0, seconds > 0 ? static_cast<double>(done) / seconds : 0});
    };
}

void save_weights(const FinetuneRequest& request, T5Model& model, FinetuneTask& task) {
    const std::string dir = request.output_dir + "/model";
    save_t5_checkpoint(model, dir, {{"finetuned_task", task_store_name(request.task)}, {"settings", request.settings.to_json(request.task)}});
    fs::copy_file(request.model_dir + "/spiece.model", dir + "/spiece.model", fs::copy_options::overwrite_existing);
    NamedTensors head;
    for (const auto& [name, tensor] : task.head()) head.emplace_back(name, tensor.detach().to(at::kCPU).contiguous());
    if (!head.empty()) save_safetensors(dir + "/head.safetensors", head, {{"task", task_store_name(request.task)}});
}

}  // namespace

FinetuneResult run_finetune(const FinetuneRequest& request, const FinetuneProgressCallback& progress,
                            const std::atomic<bool>* cancel) {
    const auto start = std::chrono::steady_clock::now();
    const FinetuneSettings& settings = request.settings;
    settings.validate(request.task);
    configure_threads(settings.threads);  // 0: every core, as for training runs
    if (progress) progress({"loading", 0, 0, 0, 0});
    const at::Device device(resolve_device_name(settings.device));
    FinetuneResult result;
    result.provenance = data_files(request);
    const TaskDataset data = load_task_dataset(request);
    T5Model model = load_t5_checkpoint(request.model_dir);
    const Tokenizer tokenizer = checkpoint_tokenizer(request.model_dir, model->config());
    model->to(device);
    model->train();
    at::manual_seed(settings.seed);  // the head's initial weights and dropout
    const FinetuneContext context{settings, model, tokenizer, device};
    const std::unique_ptr<FinetuneTask> task = make_task(request.task, context, data);

    count_examples(result.provenance, request.task, data, *task);
    result.train_examples = result.provenance.train_examples, result.eval_examples = result.provenance.eval_examples;
    if (settings.score_before_training) result.before_training = task->evaluate(scoring_report(progress, cancel)).metrics;
    train_task(*task, settings, progress, cancel);
    const TaskScores scores = task->evaluate(scoring_report(progress, cancel));
    result.metrics = scores.metrics;
    if (!request.output_dir.empty()) {
        result.predictions_path = write_predictions(request.task, scores, request.output_dir);
        if (settings.save_weights) save_weights(request, model, *task);
    }
    result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return result;
}

ResolvedModel resolve_finetune_model(Store& store, const std::string& run_or_dir) {
    if (fs::is_directory(run_or_dir)) {
        if (!fs::exists(fs::path(run_or_dir) / "config.json")) {
            throw std::runtime_error(run_or_dir + ": not a checkpoint folder (no config.json)");
        }
        ResolvedModel resolved{fs::canonical(run_or_dir).string(), std::nullopt};
        // A checkpoint of a run in the store: its scores belong to that run.
        for (const auto& summary : store.summaries()) {
            for (const auto& checkpoint : store.checkpoints(summary.run.id)) {
                std::error_code error;
                if (fs::equivalent(checkpoint.path, resolved.model_dir, error)) resolved.run_id = summary.run.id;
            }
        }
        return resolved;
    }
    const auto run = store.find_run(run_or_dir);
    if (!run) throw std::runtime_error("'" + run_or_dir + "' is neither a checkpoint folder nor a run in " + store.path());
    const std::vector<CheckpointRecord> checkpoints = store.checkpoints(run->id);
    if (checkpoints.empty()) throw std::runtime_error("run '" + run->name + "' has no checkpoint yet");
    const CheckpointRecord* chosen = &checkpoints.front();
    for (const auto& checkpoint : checkpoints) {
        const bool chosen_final = chosen->kind == CheckpointKind::final, final = checkpoint.kind == CheckpointKind::final;
        if (final > chosen_final || (final == chosen_final && checkpoint.step >= chosen->step)) chosen = &checkpoint;
    }
    return {chosen->path, run->id};
}

void record_finetune_result(Store& store, int64_t run_id, const FinetuneRequest& request, const FinetuneResult& result) {
    for (const auto& [metric, value] : result.metrics) {
        store.add_result({run_id, task_store_name(request.task), metric, value, request.settings.to_json(request.task),
                          result.provenance.to_json()});
    }
}

}  // namespace gs
