#include <iomanip>
#include <iostream>

#include <nlohmann/json.hpp>

#include "app/cli/arguments.h"
#include "app/cli/commands.h"
#include "core/bench/train_benchmark.h"
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

}  // namespace

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
