// finetune: one downstream task on a pre-trained model, its scores stored against the model's run.
#include <atomic>
#include <chrono>
#include <csignal>
#include <iomanip>
#include <iostream>

#include "app/cli/arguments.h"
#include "app/cli/commands.h"
#include "core/finetune/finetune.h"
#include "core/io/files.h"
#include "core/store/store.h"

namespace gs::cli {

namespace {

std::atomic<bool> g_cancel{false};

void request_cancel(int) { g_cancel = true; }

// --settings (JSON text or a file), then the individual options on top.
FinetuneSettings finetune_settings(const Arguments& args, DownstreamTask task) {
    FinetuneSettings s = FinetuneSettings::defaults_for(task);
    if (args.has("settings")) {
        const std::string value = args.text("settings");
        const bool inline_json = value.find_first_not_of(" \t\n") != std::string::npos &&
                                 value[value.find_first_not_of(" \t\n")] == '{';
        s = inline_json ? FinetuneSettings::from_json(value, task, "--settings")
                        : FinetuneSettings::from_json(read_text_file(value), task, value);
    }
    s.epochs = args.integer("epochs", s.epochs);
    s.learning_rate = args.real("lr", s.learning_rate);
    s.weight_decay = args.real("weight-decay", s.weight_decay);
    s.batch_size = args.integer("batch", s.batch_size);
    s.max_input_length = args.integer("max-input", s.max_input_length);
    s.max_target_length = args.integer("max-target", s.max_target_length);
    s.doc_stride = args.integer("doc-stride", s.doc_stride);
    s.num_beams = args.integer("beams", s.num_beams);
    s.max_train_examples = args.integer("max-train", s.max_train_examples);
    s.max_eval_examples = args.integer("max-eval", s.max_eval_examples);
    s.seed = static_cast<uint64_t>(args.integer("seed", static_cast<int64_t>(s.seed)));
    s.threads = static_cast<int>(args.integer("threads", s.threads));
    s.device = args.text("device", s.device);
    if (args.has("rouge-tokens")) {
        const std::string tokens = args.text("rouge-tokens");
        if (tokens != "whitespace" && tokens != "characters") {
            throw UsageError("option --rouge-tokens: '" + tokens + "', expected whitespace or characters");
        }
        s.rouge_tokens = tokens == "whitespace" ? RougeTokens::whitespace : RougeTokens::characters;
    }
    if (args.has("no-before")) s.score_before_training = false;
    if (args.has("no-weights")) s.save_weights = false;
    try {
        s.validate(task);
    } catch (const std::invalid_argument& error) {
        throw UsageError(error.what());
    }
    return s;
}

// A line at each phase's start and end, and at most every two seconds between.
FinetuneProgressCallback progress_printer(bool quiet) {
    if (quiet) return {};
    auto last = std::make_shared<std::chrono::steady_clock::time_point>();
    return [last](const FinetuneProgress& p) {
        const auto now = std::chrono::steady_clock::now();
        const bool edge = p.step == 0 || p.step == p.total_steps;
        if (!edge && now - *last < std::chrono::seconds(2)) return;
        *last = now;
        std::cerr << p.phase;
        if (p.total_steps > 0) std::cerr << " " << p.step << "/" << p.total_steps;
        if (p.phase == "training") std::cerr << std::fixed << std::setprecision(4) << " | loss " << p.loss;
        if (p.step > 0) std::cerr << std::fixed << std::setprecision(1) << " | " << p.examples_per_second << " per s";
        std::cerr << "\n";
    };
}

void print_metrics(const std::string& label, const std::map<std::string, double>& metrics) {
    std::cout << std::left << std::setw(16) << label << std::right;
    for (const auto& [name, value] : metrics) std::cout << "  " << name << " " << std::fixed << std::setprecision(2) << value;
    std::cout << "\n";
}

}  // namespace

int run_finetune(const Words& words) {
    Arguments args(words, {{"model", "task", "data", "dev", "db", "settings", "epochs", "lr", "weight-decay", "batch",
                            "max-input", "max-target", "doc-stride", "beams", "max-train", "max-eval", "seed",
                            "threads", "device", "rouge-tokens", "output"},
                           {"quiet", "no-before", "no-weights"}});
    apply_thread_option(args);  // every core unless --threads says otherwise
    FinetuneRequest request;
    try {
        request.task = parse_downstream_task(args.required("task"));
    } catch (const std::invalid_argument& error) {
        throw UsageError(std::string("option --task: ") + error.what());
    }
    request.settings = finetune_settings(args, request.task);
    request.train_path = args.required("data");
    request.dev_path = args.text("dev");
    request.output_dir = args.text("output", "finetune-" + task_store_name(request.task));
    Store store(args.text("db", default_database_path()));
    const ResolvedModel model = resolve_finetune_model(store, args.required("model"));
    request.model_dir = model.model_dir;

    std::cout << task_title(request.task) << " on " << request.model_dir << "\nsettings " << request.settings.to_json(request.task)
              << "\n";
    std::signal(SIGINT, request_cancel);
    std::signal(SIGTERM, request_cancel);
    const FinetuneResult result = run_finetune(request, progress_printer(args.has("quiet")), &g_cancel);
    std::cout << "examples        " << result.train_examples << " train, " << result.eval_examples << " scored\n";
    std::cout << "data            scored " << result.provenance.describe() << "\n";
    if (!result.before_training.empty()) print_metrics("before training", result.before_training);
    print_metrics("fine-tuned", result.metrics);
    std::cout << "predictions     " << result.predictions_path << "\nseconds         " << std::setprecision(1)
              << result.seconds << "\n";
    if (model.run_id) {
        record_finetune_result(store, *model.run_id, request, result);
        std::cout << "stored against run #" << *model.run_id << " in " << store.path() << "\n";
    }
    return 0;
}

}  // namespace gs::cli
