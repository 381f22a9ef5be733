#include <chrono>
#include <iomanip>
#include <iostream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "app/cli/arguments.h"
#include "app/cli/commands.h"
#include "core/bench/growth_benchmark.h"
#include "core/growth/growth_probe.h"
#include "core/growth/t5_growth.h"
#include "core/model/checkpoint.h"

namespace gs::cli {

namespace {

// A preset keeps the source's vocabulary and FFN type; a config file is taken as written.
T5Config target_config(const std::string& to, const T5Config& source) {
    if (T5Config::is_preset(to)) return source.with_shape_of(T5Config::preset(to));
    return T5Config::load(to);
}

GrowthOptions growth_options(const Arguments& args) {
    GrowthOptions options;
    try {
        options.op = GrowthOperator::parse(args.required("op"));
        options.depth_strategy = parse_depth_strategy(args.text("depth-strategy", "stack"));
        options.sampling = parse_map_sampling(args.text("map-sampling", "balanced"));
        options.aki_variant = parse_aki_variant(args.text("aki-variant", "literal"));
    } catch (const std::invalid_argument& error) {
        throw UsageError(error.what());
    }
    options.exact = args.has("exact");
    options.noise = args.real("noise", 0.0);
    if (options.noise < 0) throw UsageError("option --noise: expected a number >= 0");
    options.seed = static_cast<uint64_t>(args.integer("seed", 0));
    return options;
}

std::string shape_text(const T5Model& model) {
    const T5Config& c = model->config();
    std::ostringstream out;
    out << c.num_layers << "+" << c.num_decoder_layers << " layers, d_model " << c.d_model << ", " << c.num_heads
        << " heads, d_ff " << c.d_ff << ", " << std::fixed << std::setprecision(1)
        << static_cast<double>(model->parameter_count()) / 1e6 << "M parameters";
    return out.str();
}

std::string options_text(const GrowthOptions& options) {
    std::ostringstream out;
    out << "operator " << options.op.letters();
    if (options.op.depth) out << ", depth " << to_string(options.depth_strategy);
    if (options.op.width == WidthOperator::aki) out << ", AKI " << to_string(options.aki_variant);
    if (options.op.width != WidthOperator::none) {
        out << ", " << (options.exact ? "RMS-preserving" : "plain") << " copies, " << to_string(options.sampling)
            << " maps";
        if (options.noise > 0) out << ", paired noise " << options.noise;
    }
    out << ", seed " << options.seed;
    return out.str();
}

}  // namespace

const std::set<std::string> kGrowthOptionNames = {"op", "seed", "depth-strategy", "map-sampling", "aki-variant", "noise"};

ArgumentSpec growth_spec(std::set<std::string> options, std::set<std::string> flags) {
    options.insert(kGrowthOptionNames.begin(), kGrowthOptionNames.end());
    flags.insert("exact");
    return {options, flags};
}

int run_grow(const Words& words) {
    Arguments args(words, growth_spec({"from", "to", "out", "probe-seed", "threads"}, {"json"}));
    apply_thread_option(args);
    const std::string from = args.required("from");
    const std::string out = args.required("out");
    const GrowthOptions options = growth_options(args);
    T5Model source = load_t5_checkpoint(from);
    const GrowthPlan plan = plan_growth(source->config(), target_config(args.required("to"), source->config()), options);

    const auto start = std::chrono::steady_clock::now();
    T5Model grown = grow_t5_model(source, plan);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    const uint64_t probe_seed = static_cast<uint64_t>(args.integer("probe-seed", 0));
    const ProbeComparison probe = compare_on_probe(source, grown, make_probe_batch(plan.source.vocab_size, probe_seed));
    save_t5_checkpoint(grown, out, {{"growth_operator", options.op.letters()}, {"grown_from", from}});
    save_growth_plan(plan, out);

    if (args.has("json")) {
        std::cout << nlohmann::json{{"seconds", seconds},
                                    {"source_parameters", source->parameter_count()},
                                    {"target_parameters", grown->parameter_count()},
                                    {"probe_seed", probe_seed},
                                    {"loss_before", probe.loss_before},
                                    {"loss_after", probe.loss_after},
                                    {"max_logit_difference", probe.max_logit_difference},
                                    {"options", options.to_json()}}
                         .dump(1)
                  << "\n";
        return 0;
    }
    std::cout << "from  " << from << " (" << shape_text(source) << ")\n"
              << "to    " << out << " (" << shape_text(grown) << ")\n"
              << "with  " << options_text(options) << "\n"
              << "grown in " << std::fixed << std::setprecision(3) << seconds << " s\n"
              << std::setprecision(6) << "probe (4 x 64 -> 16 tokens, seed " << probe_seed << "): loss before "
              << probe.loss_before << ", after " << probe.loss_after << ", max |logit difference| " << std::scientific
              << std::setprecision(3) << probe.max_logit_difference << "\n";
    return 0;
}

int run_bench_grow(const Words& words) {
    Arguments args(words, growth_spec({"from", "to", "repeats", "threads"}, {"json"}));
    apply_thread_option(args);
    auto config = [](const std::string& text) { return T5Config::is_preset(text) ? T5Config::preset(text) : T5Config::load(text); };
    const T5Config source = config(args.required("from"));
    const GrowthOptions options = growth_options(args);
    const GrowthBenchmarkResult r = run_growth_benchmark(source, config(args.required("to")), options,
                                                         static_cast<int>(args.integer("repeats", 3)));
    if (args.has("json")) {
        std::cout << nlohmann::json{{"source_parameters", r.source_parameters},
                                    {"target_parameters", r.target_parameters},
                                    {"plan_seconds", r.plan_seconds},
                                    {"grow_seconds", r.grow_seconds},
                                    {"target_bytes", r.target_bytes},
                                    {"peak_extra_bytes", r.peak_extra_bytes},
                                    {"options", options.to_json()}}
                         .dump()
                  << "\n";
        return 0;
    }
    std::cout << std::fixed << std::setprecision(3) << "growth     " << options_text(options) << "\n"
              << "parameters " << r.source_parameters << " -> " << r.target_parameters << "\n"
              << "maps       " << r.plan_seconds << " s\n"
              << "grow       " << r.grow_seconds << " s (best of " << args.integer("repeats", 3) << ")\n"
              << std::setprecision(2) << "memory     peak " << r.peak_extra_bytes / 1e9 << " GB above the source = "
              << r.peak_extra_bytes / r.target_bytes << " x the grown model (" << r.target_bytes / 1e9 << " GB)\n";
    return 0;
}

}  // namespace gs::cli
