// bench-finetune: fine-tuning and scoring throughput of each downstream task for a model size,
// on randomly initialised weights (the speed does not depend on them).
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iomanip>
#include <iostream>

#include <ATen/ATen.h>

#include "app/cli/arguments.h"
#include "app/cli/commands.h"
#include "core/finetune/finetune.h"
#include "core/model/checkpoint.h"
#include "core/tokenizer/tokenizer.h"

namespace gs::cli {

namespace {

namespace fs = std::filesystem;

// The shared data folder's layout (see its README): one file or folder per task.
std::string task_data(const std::string& root, DownstreamTask task) {
    switch (task) {
        case DownstreamTask::nli: return root + "/klue-nli/klue-nli-v1.1_dev.json";
        case DownstreamTask::extractive_qa:
        case DownstreamTask::generative_qa: return root + "/korquad-1.0/KorQuAD_v1.0_dev.json";
        case DownstreamTask::summarization: return root + "/sci-news-sum-kr-50";
    }
    return root;
}

std::string random_checkpoint(const Arguments& args, const fs::path& folder) {
    const std::string model_arg = args.text("preset", "tiny");
    T5Config config = T5Config::is_preset(model_arg) ? T5Config::preset(model_arg) : T5Config::load(model_arg);
    const Tokenizer tokenizer = Tokenizer::load(args.required("tokenizer"));
    // The study's vocabulary size (32128) unless the tokenizer needs more: the embedding and the
    // output layer then cost what they cost in the study, whatever tokenizer is at hand.
    config.vocab_size = std::max(config.vocab_size, tokenizer.model_vocab_size());
    at::manual_seed(1);
    T5Model model(config);
    save_t5_checkpoint(model, folder.string());
    tokenizer.save((folder / "spiece.model").string());
    return folder.string();
}

struct Throughput {
    double train_per_s = 0, score_per_s = 0;
    int64_t train = 0, scored = 0;
};

Throughput measure(DownstreamTask task, const FinetuneRequest& base) {
    FinetuneRequest request = base;
    request.task = task;
    request.train_path = task_data(base.train_path, task);
    std::chrono::steady_clock::time_point scoring_start;
    Throughput t;
    const FinetuneResult result = run_finetune(request, [&](const FinetuneProgress& p) {
        if (p.phase == "training") t.train_per_s = p.examples_per_second;
        if (p.phase == "evaluating" && p.step == 0) scoring_start = std::chrono::steady_clock::now();
    });
    const double scoring = std::chrono::duration<double>(std::chrono::steady_clock::now() - scoring_start).count();
    t.train = result.train_examples, t.scored = result.eval_examples;
    t.score_per_s = scoring > 0 ? static_cast<double>(result.eval_examples) / scoring : 0;
    return t;
}

}  // namespace

int run_bench_finetune(const Words& words) {
    Arguments args(words, {{"preset", "tokenizer", "data-dir", "task", "examples", "batch", "max-input", "max-target",
                            "doc-stride", "beams", "threads", "device"},
                           {}});
    apply_thread_option(args);
    const fs::path folder = fs::temp_directory_path() / ("growthstudio-bench-finetune-" + std::to_string(::getpid()));
    FinetuneRequest base;
    base.train_path = args.required("data-dir");
    base.model_dir = random_checkpoint(args, folder);
    const std::string task_arg = args.text("task", "all");
    const std::vector<DownstreamTask> tasks =
        task_arg == "all" ? all_downstream_tasks() : std::vector<DownstreamTask>{parse_downstream_task(task_arg)};
    std::cout << "task  train examples/s  scoring examples/s  (examples: train, scored)\n";
    for (const DownstreamTask task : tasks) {
        FinetuneSettings& s = base.settings = FinetuneSettings::defaults_for(task);
        s.epochs = 1, s.score_before_training = false, s.save_weights = false;
        s.max_train_examples = args.integer("examples", 32);
        s.max_eval_examples = s.max_train_examples / 2;
        s.batch_size = args.integer("batch", 8);
        s.max_input_length = args.integer("max-input", s.max_input_length);
        s.max_target_length = args.integer("max-target", s.max_target_length);
        s.doc_stride = args.integer("doc-stride", std::min(s.doc_stride, s.max_input_length / 4));
        s.num_beams = args.integer("beams", s.num_beams);
        s.device = args.text("device", "auto");
        const Throughput t = measure(task, base);
        std::cout << std::left << std::setw(6) << task_code(task) << std::right << std::fixed << std::setprecision(2)
                  << std::setw(16) << t.train_per_s << std::setw(20) << t.score_per_s << "  (" << t.train << ", "
                  << t.scored << ")\n";
    }
    fs::remove_all(folder);
    return 0;
}

}  // namespace gs::cli
