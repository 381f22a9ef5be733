// run, resume, list, show and export: experiments against the workspace database.
#include <algorithm>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <cstdio>
#include <iomanip>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>

#include "app/cli/arguments.h"
#include "app/cli/commands.h"
#include "app/cli/data_options.h"
#include "app/cli/progress_line.h"
#include "core/bench/train_benchmark.h"
#include "core/distributed/communicator.h"
#include "core/distributed/launcher.h"
#include "core/io/files.h"
#include "core/data/pretraining_data.h"
#include "core/model/t5_cost.h"
#include "core/pipeline/pipeline_estimate.h"
#include "core/runtime/runtime_info.h"
#include "core/store/results_table.h"
#include "core/train/experiment_estimate.h"
#include "core/train/measured_speed.h"
#include "core/train/metrics_writer.h"
#include "core/train/run_lock.h"
#include "core/train/run_name.h"
#include "core/train/trainer.h"

namespace gs::cli {

namespace fs = std::filesystem;

namespace {

volatile std::sig_atomic_t g_stop = 0;

void request_stop(int) { g_stop = 1; }

std::string progress_bar(double fraction) {
    const int width = 20;
    const int filled = static_cast<int>(std::min(1.0, std::max(0.0, fraction)) * width);
    return "[" + std::string(filled, '#') + std::string(width - filled, '.') + "]";
}

}  // namespace

std::string database_of(const Arguments& args) { return args.text("db", default_database_path()); }

namespace {

// The workspace of a command that only reads it: a database that must be there, opened so that
// nothing is created or written (a read-only file or folder reads as well as any other).
Store read_only_store(const Arguments& args) { return Store(database_of(args), SqlAccess::read_only); }

}  // namespace

// One line rewritten in place on a terminal; in a log, a line for each phase change and at
// most every ProgressLine::kLogIntervalSeconds of training.
TrainerHooks terminal_hooks(bool quiet) {
    TrainerHooks hooks;
    hooks.stop_requested = [] { return g_stop != 0; };
    auto progress_line = std::make_shared<ProgressLine>();
    hooks.warning = [progress_line](const std::string& text) { progress_line->warn(text); };  // even when quiet
    if (quiet) return hooks;
    hooks.data_progress = data_progress_lines(quiet);
    hooks.progress = [progress_line](const RunProgress& p) {
        std::ostringstream line;
        if (progress_line->terminal() && p.stage_steps > 0) {
            line << progress_bar(static_cast<double>(p.stage_step) / p.stage_steps) << " ";
        }
        line << p.run << " | stage " << p.stage + 1 << "/" << p.stages << " " << p.size << " | " << to_string(p.phase) << " | step "
             << p.step << " (stage " << p.stage_step;
        if (p.stage_steps > 0) line << "/" << p.stage_steps;
        line << ")";
        if (p.phase == RunPhase::training) {
            line << std::fixed << std::setprecision(4) << " | loss " << p.train_loss << std::setprecision(0) << " | "
                 << p.tokens_per_s << " tok/s | ETA stage " << clock_text(p.stage_eta_s) << ", run "
                 << clock_text(p.run_eta_s);
        }
        progress_line->show(to_string(p.phase), line.str());
    };
    return hooks;
}

void stop_on_signals() {
    std::signal(SIGINT, request_stop);
    std::signal(SIGTERM, request_stop);
}

std::set<std::string> stored_run_names(const std::string& database) {
    if (!fs::exists(database)) return {};
    return Store(database, SqlAccess::read_only).run_names();
}

std::string name_option(const Arguments& args) {
    const std::string name = args.text("name");
    const std::string refusal = args.has("name") ? run_name_refusal(name) : "";
    if (!refusal.empty()) throw UsageError("option --name: " + refusal);
    return name;
}

RunOptions run_options(const Arguments& args) {
    RunOptions options;
    options.name = name_option(args);
    options.runs_dir = args.text("runs-dir");
    options.device = args.text("device");
    options.threads = static_cast<int>(args.integer("threads", -1));
    return options;
}

namespace {

std::string vocabulary_text(const ExperimentSpec& spec, const ExpectedVocabulary& vocabulary) {
    std::ostringstream text;
    text << vocabulary.model_vocab_size << " ids (" << vocabulary.tokenizer_size << " of the tokenizer, padded to a multiple of "
         << Tokenizer::kVocabMultiple << ") ";
    if (vocabulary.tokenizer_path.empty()) {
        text << "as the experiment asks (" << spec.data.tokenizer << "), not trained yet";
    } else {
        text << "from tokenizer " << vocabulary.tokenizer_path;
    }
    return text.str();
}

std::string step_time_source(const StageEstimate& stage, const std::map<size_t, MeasuredStepTime>& measured, size_t index,
                             const std::string& device, double flops_per_second) {
    std::ostringstream text;
    if (stage.measured) {
        const MeasuredStepTime& time = measured.at(index);
        text << "measured: median of " << time.steps << " earlier steps of run " << time.run << " on " << device;
    } else {
        text << "guess: half the measured " << device << " matmul peak, taken as " << std::setprecision(3)
             << flops_per_second / 1e12 << " TFLOP/s for training";
    }
    return text.str();
}

void print_stage(const Stage& stage, const StageEstimate& estimate, const std::string& time_source) {
    const T5Config& c = stage.config;
    std::cout << std::left << std::setw(4) << stage.size << std::right << c.num_layers << "+" << c.num_decoder_layers
              << " layers, d_model " << c.d_model << ", " << c.num_heads << " heads, d_ff " << c.d_ff << ", "
              << estimate.parameters << " parameters (" << std::fixed << std::setprecision(2) << estimate.parameters / 1e6
              << " M)";
    if (!estimate.trained) {
        std::cout << "   pre-trained: " << stage.source << "\n";
        return;
    }
    std::cout << "\n            budget " << stage.budget.notation() << ": ";
    if (estimate.known) {
        std::cout << std::setprecision(0) << estimate.steps << " steps, ~" << clock_text(estimate.seconds) << ", ";
    } else if (stage.budget.kind == Budget::Kind::epochs) {
        std::cout << "steps known once the data is prepared, ";
    } else {
        std::cout << "steps not known in advance, ";
    }
    std::cout << std::setprecision(4) << estimate.flops_per_step / 1e12 << " TFLOP/step, " << std::setprecision(2)
              << estimate.step_seconds << " s/step (" << time_source << ")\n";
}

// The largest trained stage's memory estimate against the machine's.
void print_memory(const ExperimentSpec& spec, const std::string& device) {
    TrainingMemory largest;
    for (size_t i : spec.pipeline.trained_stages()) {
        const TrainingMemory memory = training_memory(spec, i);
        if (memory.total() > largest.total()) largest = memory;
    }
    const int64_t capacity = memory_capacity_bytes(device);
    std::cout << "memory      about " << largest.text() << " per process at most"
              << (capacity > 0 ? ", of " + bytes_text(static_cast<double>(capacity)) + " on " + device : "") << "\n";
}

void print_plan(const ExperimentSpec& spec, const std::string& database, const std::string& requested_device) {
    const std::string device = resolve_device_name(requested_device.empty() ? spec.device : requested_device);
    ExperimentEstimateInputs inputs = experiment_estimate_inputs(spec, database, device);
    EstimateSettings& settings = inputs.settings;
    const ExpectedVocabulary& vocabulary = inputs.vocabulary;
    const SpanLengths lengths = compute_span_lengths(spec.data.span);
    const std::map<size_t, MeasuredStepTime>& measured = inputs.measured;
    if (!inputs.all_measured(spec)) {
        settings.flops_per_second = kTrainingShareOfMatmulPeak * measure_matmul_peak(device, spec.precision == Precision::bf16);
    }
    const PipelineEstimate estimate = estimate_pipeline(spec.pipeline, settings);

    std::cout << "experiment  " << spec.name << " (" << spec.source << ")\n"
              << "pipeline    " << spec.pipeline.name() << "   budgets " << spec.pipeline.budget_notation() << "\n"
              << "vocabulary  " << vocabulary_text(spec, vocabulary) << "\n";
    for (size_t i = 0; i < spec.pipeline.stages.size(); ++i) {
        std::cout << "stage " << i + 1 << "     ";
        print_stage(spec.pipeline.stages[i], estimate.stages[i],
                    step_time_source(estimate.stages[i], measured, i, device, settings.flops_per_second));
        if (i + 1 < spec.pipeline.stages.size()) std::cout << "  then      " << spec.pipeline.transitions[i].notation() << "\n";
    }
    if (estimate.known) std::cout << "total       " << std::setprecision(0) << estimate.steps << " steps, ~" << clock_text(estimate.seconds) << "\n";
    std::cout << "batches     " << spec.batch_size << " x " << spec.gradient_accumulation << " x (" << lengths.input_length
              << " -> " << lengths.target_length << " tokens), validation every " << spec.validation_interval
              << " steps on " << spec.validation_batches << " batches, checkpoint every " << spec.checkpoint_interval
              << " steps\n";
    print_memory(spec, device);
}

int finish(const std::string& run, RunStatus status, const Communicator* group) {
    if (!group || group->leader()) {
        std::cerr << "\n" << run << ": " << to_string(status);
        if (status == RunStatus::paused) std::cerr << " (continue with: growthstudio-cli resume " << run << ")";
        std::cerr << "\n";
    }
    return status == RunStatus::done ? 0 : 3;
}

// --nproc N: this command again in N processes on this machine, as ranks of one data-parallel
// run. Returns their exit code, or -1 when this process is to train itself (one process, or a
// rank started by a launcher: this one, torchrun or srun).
int launch_ranks(const std::string& command, const Words& words, const Arguments& args) {
    const int64_t processes = args.integer("nproc", 1);
    if (processes < 1) throw UsageError("option --nproc: expected a whole number >= 1");
    if (processes == 1) return -1;
    if (DistributedEnvironment::from_environment().distributed()) {
        throw UsageError("option --nproc: a launcher (torchrun, srun) has started this process as a rank already");
    }
    Words rank_words = {command};
    for (size_t i = 0; i < words.size(); ++i) {
        if (words[i] == "--nproc") {
            ++i;  // and its value
        } else if (words[i].rfind("--nproc=", 0) != 0) {
            rank_words.push_back(words[i]);
        }
    }
    return launch_local_ranks(current_executable(), rank_words, static_cast<int>(processes), std::cerr);
}

// The group of a data-parallel run when a launcher set RANK, WORLD_SIZE, ...; null otherwise.
std::unique_ptr<Communicator> join_group() {
    const DistributedEnvironment environment = DistributedEnvironment::from_environment();
    return environment.distributed() ? Communicator::connect(environment) : nullptr;
}

// Rank 0 opens the database first (creating it on first use); the others open it after.
std::unique_ptr<Store> open_store_in_turn(const std::string& path, Communicator* group) {
    if (!group) return std::make_unique<Store>(path);
    std::unique_ptr<Store> store;
    if (group->leader()) store = std::make_unique<Store>(path);
    group->barrier("store opened");
    if (!group->leader()) store = std::make_unique<Store>(path);
    return store;
}

RunOptions group_run_options(const Arguments& args, Communicator* group) {
    RunOptions options = run_options(args);
    options.communicator = group;
    return options;
}

}  // namespace

int run_run(const Words& words) {
    Arguments args(words, {{"db", "name", "runs-dir", "device", "threads", "nproc"}, {"dry-run", "quiet"}});
    if (args.positional().size() != 1) throw UsageError("expected one experiment file");
    name_option(args);  // a refused --name stops here, before any database is opened
    const ExperimentSpec spec = ExperimentSpec::load(args.positional()[0]);
    check_training_memory(spec, resolve_device_name(args.text("device").empty() ? spec.device : args.text("device")));
    if (args.has("dry-run")) {
        check_reference_runs(spec, stored_run_names(database_of(args)), database_of(args));
        print_plan(spec, database_of(args), args.text("device"));
        return 0;
    }
    if (const int code = launch_ranks("run", words, args); code >= 0) return code;
    const auto group = join_group();
    const auto store = open_store_in_turn(database_of(args), group.get());
    stop_on_signals();
    int64_t run_id = 0;
    const bool quiet = args.has("quiet") || (group && !group->leader());
    const RunStatus status = run_experiment(spec, *store, group_run_options(args, group.get()), terminal_hooks(quiet), &run_id);
    return finish(store->find_run(std::to_string(run_id))->name, status, group.get());
}

int run_resume(const Words& words) {
    Arguments args(words, {{"db", "device", "threads", "nproc"}, {"quiet"}});
    if (args.positional().size() != 1) throw UsageError("expected one run name");
    if (const int code = launch_ranks("resume", words, args); code >= 0) return code;
    const auto group = join_group();
    const auto store = open_store_in_turn(database_of(args), group.get());
    stop_on_signals();
    const std::string run = args.positional()[0];
    const bool quiet = args.has("quiet") || (group && !group->leader());
    return finish(run, resume_run(run, *store, terminal_hooks(quiet), group_run_options(args, group.get())), group.get());
}

int run_list(const Words& words) {
    Arguments args(words, {{"db"}, {}});
    Store store = read_only_store(args);
    std::cout << std::left << std::setw(28) << "run" << std::setw(20) << "pipeline" << std::setw(10) << "status"
              << std::right << std::setw(10) << "step" << std::setw(12) << "hours" << std::setw(12) << "valid loss\n";
    for (const auto& s : store.summaries()) {
        std::cout << std::left << std::setw(28) << s.run.name << std::setw(20) << s.run.pipeline << std::setw(10)
                  << to_string(live_run_status(s.run)) << std::right << std::setw(10) << s.step << std::setw(12) << std::fixed
                  << std::setprecision(4) << s.wall_seconds / 3600 << std::setw(11)
                  << (s.valid_loss ? std::to_string(*s.valid_loss).substr(0, 6) : "-") << "\n";
    }
    return 0;
}

namespace {

// The checkpoints a run can load from. Interval checkpoints beyond keep_checkpoints were removed
// as the run went on: they are counted, not listed. A stage-end or final checkpoint is never
// removed, so one that is gone is listed as missing.
void print_checkpoints(const std::vector<CheckpointRecord>& checkpoints) {
    int64_t pruned = 0;
    for (const auto& checkpoint : checkpoints) {
        const bool exists = fs::exists(checkpoint.path);
        if (!exists && checkpoint.kind == CheckpointKind::interval) {
            ++pruned;
            continue;
        }
        std::cout << "checkpoint " << to_string(checkpoint.kind) << " at step " << checkpoint.step << ": " << checkpoint.path
                  << (exists ? "" : " (missing)") << "\n";
    }
    if (pruned > 0) std::cout << "checkpoint " << pruned << " earlier interval checkpoints pruned (keep_checkpoints)\n";
}

// The run's live status, with the process that trains it when one does.
std::string status_text(const RunRecord& run) {
    const auto owner = run_owner(run.directory);
    return to_string(live_run_status(run)) + (owner ? " (by " + describe_owner(*owner) + ")" : "");
}

}  // namespace

int run_show(const Words& words) {
    Arguments args(words, {{"db"}, {}});
    if (args.positional().size() != 1) throw UsageError("expected one run name");
    Store store = read_only_store(args);
    const auto run = store.find_run(args.positional()[0]);
    if (!run) throw std::runtime_error(store.path() + ": no run named '" + args.positional()[0] + "'");
    std::cout << "run        " << run->name << " (#" << run->id << ")\npipeline   " << run->pipeline << "\nstatus     "
              << status_text(*run) << (run->error.empty() ? "" : ": " + run->error) << "\ndevice     " << run->device
              << " on " << run->host << ", LibTorch " << run->libtorch_version << ", GrowthStudio " << run->app_version
              << "\nseed       " << run->seed << "\nexperiment " << (run->git_commit.empty() ? "not in a git checkout" : "git " + run->git_commit)
              << "\nstarted    " << run->started_at << "\nended      " << run->ended_at
              << "\nfolder     " << run->directory << "\n";
    for (const auto& stage : store.stages(run->id)) {
        std::cout << "stage " << stage.stage_index + 1 << "    " << stage.size << ", " << stage.parameters
                  << " parameters, budget " << stage.budget << ", steps " << stage.start_step << "-"
                  << (stage.end_step ? std::to_string(*stage.end_step) : "") << "\n";
    }
    for (const auto& event : store.growth_events(run->id)) {
        std::cout << "growth     " << event.op << " at step " << event.step << std::fixed << std::setprecision(4)
                  << ": valid loss " << event.valid_loss_before.value_or(NAN) << " -> "
                  << event.valid_loss_after.value_or(NAN) << ", probe max |logit difference| "
                  << event.probe_max_logit_difference << ", " << event.seconds << " s\n";
    }
    print_checkpoints(store.checkpoints(run->id));
    return 0;
}

int run_export(const Words& words) {
    Arguments args(words, {{"db", "out", "reference", "format"}, {}});
    Store store = read_only_store(args);
    const ResultsTable table = build_results_table(store, args.text("reference"));
    const std::string format = args.text("format", "csv");
    std::string text;
    if (format == "csv") {
        text = results_csv(table);
    } else if (format == "md") {
        text = results_markdown(table);
    } else if (format == "tex") {
        text = results_latex(table);
    } else {
        throw UsageError("option --format: '" + format + "', expected csv, md or tex");
    }
    if (args.has("out")) {
        write_file_atomically(args.text("out"), text);
    } else {
        std::cout << text;
    }
    return 0;
}

int run_import_results(const Words& words) {
    Arguments args(words, {{"db", "csv", "label"}, {}});
    const std::string csv = args.required("csv");
    const std::string label = args.text("label", std::filesystem::path(csv).stem().string());
    const std::vector<ExternalResult> rows = read_results_csv(csv, label);  // all checked before the store is touched
    Store store(database_of(args));
    store.replace_external_results(label, rows);
    std::cout << rows.size() << " rows imported as '" << label << "' into " << store.path() << "\n";
    return 0;
}

int run_bench_store(const Words& words) {
    Arguments args(words, {{"db", "rows"}, {}});
    const std::string path = args.text("db", "/tmp/growthstudio-bench-store.db");
    const int64_t rows = args.integer("rows", 20000);
    std::filesystem::remove(path);
    Store store(path);
    RunRecord run;
    run.name = "bench", run.pipeline = "B";
    const int64_t run_id = store.create_run(run);
    MetricsWriter writer(path);
    // What the training thread pays per step: handing one row to the writer.
    const auto start = std::chrono::steady_clock::now();
    for (int64_t step = 1; step <= rows; ++step) {
        MetricRow row;
        row.run_id = run_id, row.step = step, row.tokens = step * 1000, row.train_loss = 1.0, row.learning_rate = 1e-3;
        writer.add(row);
    }
    const double handed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    writer.flush();
    const double written = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::cout << std::fixed << std::setprecision(2) << "rows             " << rows << "\n"
              << "training thread  " << handed / rows * 1e6 << " us per step (handing the row over)\n"
              << "writer thread    " << rows / written << " rows/s committed (" << written / rows * 1e6
              << " us per row, in batches)\n";
    std::filesystem::remove(path);
    return 0;
}

}  // namespace gs::cli
