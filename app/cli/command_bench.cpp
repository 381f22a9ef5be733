#include <cstdio>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "app/cli/arguments.h"
#include "app/cli/commands.h"
#include "core/bench/train_benchmark.h"
#include "core/distributed/communicator.h"
#include "core/distributed/launcher.h"
#include "core/io/files.h"
#include "core/runtime/runtime_info.h"

namespace gs::cli {

namespace {

TrainBenchmarkOptions options_from(const Arguments& args) {
    TrainBenchmarkOptions options;
    if (args.has("preset") == args.has("config")) throw UsageError("give exactly one of --preset and --config");
    options.config = args.has("preset") ? T5Config::preset(args.text("preset")) : T5Config::load(args.text("config"));
    options.batch = args.integer("batch", options.batch);
    options.input_length = args.integer("input-len", options.input_length);
    options.target_length = args.integer("target-len", options.target_length);
    options.steps = args.integer("steps", options.steps);
    options.warmup_steps = args.integer("warmup", options.warmup_steps);
    options.seed = static_cast<uint64_t>(args.integer("seed", 0));
    options.device = args.text("device", "auto");
    options.bf16_weights = args.has("bf16");
    for (auto [name, value] : {std::pair{"batch", options.batch}, {"input-len", options.input_length},
                               {"target-len", options.target_length}, {"steps", options.steps}}) {
        if (value < 1) throw UsageError(std::string("option --") + name + " must be at least 1");
    }
    if (options.warmup_steps < 0) throw UsageError("option --warmup must not be negative");
    return options;
}

std::string giga(double value) {
    std::ostringstream out;
    out << std::fixed << std::setprecision(2) << value / 1e9;
    return out.str();
}

nlohmann::json scaling_figures(const TrainBenchmarkResult& r, int processes, int64_t batch_per_process) {
    return {{"processes", processes}, {"batch_per_process", batch_per_process}, {"threads_per_process", r.threads},
            {"seconds_per_step", r.seconds_per_step}, {"tokens_per_s", r.tokens_per_s * processes},
            {"last_loss", r.last_loss}};
}

// One rank of bench-parallel, started by the launcher: rank 0 writes the figures to `result`.
int bench_parallel_rank(const TrainBenchmarkOptions& base, const std::string& result) {
    const DistributedEnvironment environment = DistributedEnvironment::from_environment();
    const auto group = Communicator::connect(environment);
    group->start_collectives("cpu");
    TrainBenchmarkOptions options = base;
    options.device = "cpu";
    options.communicator = group.get();
    const TrainBenchmarkResult r = run_train_benchmark(options);
    if (group->leader()) write_file_atomically(result, scaling_figures(r, group->world_size(), options.batch).dump() + "\n");
    group->barrier("bench done");
    return 0;
}

// Runs the benchmark in `processes` ranks (this executable, bench-parallel's own arguments) and
// returns rank 0's figures. `overlap`: gradients sent during the backward pass, or after it.
nlohmann::json run_parallel_ranks(const Words& words, int64_t threads, int64_t processes, bool overlap) {
    char folder_template[] = "/tmp/growthstudio-bench-parallel-XXXXXX";
    if (!mkdtemp(folder_template)) throw std::runtime_error("cannot create a temporary folder");
    const std::string result = std::string(folder_template) + "/result.json";
    Words rank_words = {"bench-parallel"};
    for (size_t i = 0; i < words.size(); ++i) {
        const bool flag = words[i] == "--json" || words[i] == "--after-backward";
        if (flag || words[i] == "--nproc" || words[i] == "--threads") {
            i += !flag;  // and the option's value
            continue;
        }
        rank_words.push_back(words[i]);
    }
    rank_words.insert(rank_words.end(), {"--threads", std::to_string(threads), "--result", result});
    if (!overlap) rank_words.push_back("--after-backward");
    if (launch_local_ranks(current_executable(), rank_words, static_cast<int>(processes), std::cerr) != 0) {
        throw std::runtime_error("the data-parallel benchmark's processes failed");
    }
    nlohmann::json figures = read_json_file(result);
    std::filesystem::remove_all(folder_template);
    return figures;
}

// Efficiency: tokens/s against the single process's per thread times the threads in use.
void print_scaling_row(const std::string& label, const nlohmann::json& figures, double baseline_tokens_per_thread) {
    const double tokens = figures.at("tokens_per_s").get<double>();
    const int threads = figures.at("processes").get<int>() * figures.at("threads_per_process").get<int>();
    std::cout << std::left << std::setw(48) << label << std::right << std::fixed << std::setprecision(4) << std::setw(10)
              << figures.at("seconds_per_step").get<double>() << std::setprecision(1) << std::setw(12) << tokens
              << std::setw(12) << 100.0 * tokens / (threads * baseline_tokens_per_thread) << " %\n";
}

}  // namespace

// Data-parallel scaling on this machine's CPU: N Gloo processes with batch B each against one
// process with batch B (the same threads per process), and one process using all N x threads on
// batch N x B (the other way to use the same cores).
int run_bench_parallel(const Words& words) {
    Arguments args(words, {{"preset", "config", "batch", "input-len", "target-len", "steps", "warmup", "threads", "seed",
                            "nproc", "result"},
                           {"json", "after-backward"}});
    const int64_t threads = args.integer("threads", 1);
    if (threads < 1) throw UsageError("option --threads must be at least 1");
    configure_threads(static_cast<int>(threads));
    TrainBenchmarkOptions options = options_from(args);
    options.device = "cpu";
    options.overlap_communication = !args.has("after-backward");
    if (args.has("result")) return bench_parallel_rank(options, args.text("result"));
    const int64_t processes = args.integer("nproc", 2);
    if (processes < 2) throw UsageError("option --nproc must be at least 2");
    std::string reason;
    if (!distributed_backend_available("cpu", &reason)) throw std::runtime_error(reason);

    const nlohmann::json one = scaling_figures(run_train_benchmark(options), 1, options.batch);
    const nlohmann::json parallel = run_parallel_ranks(words, threads, processes, /*overlap=*/true);
    const nlohmann::json after_backward = run_parallel_ranks(words, threads, processes, /*overlap=*/false);

    configure_threads(static_cast<int>(threads * processes));
    TrainBenchmarkOptions wide = options;
    wide.batch = options.batch * processes;
    nlohmann::json threaded = scaling_figures(run_train_benchmark(wide), 1, wide.batch);

    const double baseline = one.at("tokens_per_s").get<double>();
    std::cout << "model " << (args.has("preset") ? args.text("preset") : args.text("config")) << ", batch " << options.batch
              << " x (" << options.input_length << " + " << options.target_length << ") tokens per process, "
              << options.steps << " timed steps, Gloo over loopback\n"
              << std::left << std::setw(48) << "" << std::right << std::setw(10) << "s/step" << std::setw(12)
              << "tokens/s" << std::setw(14) << "efficiency\n";
    const double per_thread = baseline / static_cast<double>(threads);
    print_scaling_row("1 process x " + std::to_string(threads) + " thread(s)", one, per_thread);
    const std::string ranks = std::to_string(processes) + " processes x " + std::to_string(threads) + " thread(s)";
    print_scaling_row(ranks, parallel, per_thread);
    print_scaling_row(ranks + ", sent after backward", after_backward, per_thread);
    print_scaling_row("1 process x " + std::to_string(threads * processes) + " threads, batch x" + std::to_string(processes),
                      threaded, per_thread);
    if (args.has("json")) {
        std::cout << nlohmann::json{{"single", one}, {"parallel", parallel}, {"after_backward", after_backward},
                                    {"threaded", threaded},
                                    {"efficiency", parallel.at("tokens_per_s").get<double>() / (processes * baseline)}}
                         .dump()
                  << "\n";
    }
    return 0;
}

int run_bench(const Words& words) {
    Arguments args(words, {{"preset", "config", "batch", "input-len", "target-len", "steps", "warmup", "device",
                            "threads", "seed"},
                           {"bf16", "json"}});
    apply_thread_option(args);
    const TrainBenchmarkOptions options = options_from(args);
    const TrainBenchmarkResult r = run_train_benchmark(options);

    std::cout << std::fixed << std::setprecision(4) << "device        " << r.device << " (" << r.threads
              << " threads), " << (options.bf16_weights ? "bf16" : "fp32") << " weights\n"
              << "model         " << r.parameters << " parameters\n"
              << "batch         " << options.batch << " x (" << options.input_length << " + " << options.target_length
              << ") tokens, " << options.steps << " timed steps after " << options.warmup_steps << " warm-up\n"
              << "steps/s       " << r.steps_per_s << "  (" << r.seconds_per_step << " s/step)\n"
              << std::setprecision(1) << "tokens/s      " << r.tokens_per_s << "\n"
              << "FLOP/s        " << giga(r.flops_per_s) << " GFLOP/s of " << giga(r.peak_flops_per_s)
              << " GFLOP/s measured matmul peak\n"
              << "MFU           " << r.mfu * 100 << " %\n"
              << std::setprecision(4) << "loss          " << r.first_loss << " -> " << r.last_loss << "\n";
    if (args.has("json")) {
        nlohmann::json json = {{"steps_per_s", r.steps_per_s}, {"tokens_per_s", r.tokens_per_s},
                               {"flops_per_s", r.flops_per_s}, {"peak_flops_per_s", r.peak_flops_per_s},
                               {"mfu", r.mfu}, {"seconds_per_step", r.seconds_per_step}, {"device", r.device},
                               {"threads", r.threads}, {"parameters", r.parameters}, {"batch", options.batch},
                               {"input_length", options.input_length}, {"target_length", options.target_length},
                               {"bf16_weights", options.bf16_weights}, {"last_loss", r.last_loss}};
        std::cout << json.dump() << "\n";
    }
    return 0;
}

}  // namespace gs::cli
