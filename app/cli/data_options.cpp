#include "app/cli/data_options.h"

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <functional>
#include <iostream>
#include <memory>

#include "app/cli/progress_line.h"
#include "core/data/prepare.h"

namespace gs::cli {

const std::vector<std::string> kCorpusOptionNames = {"corpus", "layout", "json-field", "on-bad-input", "split",
                                                     "split-seed"};
const std::vector<std::string> kSpanOptionNames = {"input-len", "noise-density", "mean-span"};

CorpusOptions corpus_options_from(const Arguments& args) {
    CorpusOptions options;
    if (args.has("corpus")) options.paths.push_back(args.text("corpus"));
    for (const auto& word : args.positional()) options.paths.push_back(word);
    if (options.paths.empty()) options.paths.push_back(default_corpus_path());
    try {
        options.layout = parse_text_layout(args.text("layout", "line"));
        options.on_bad_input = parse_bad_input_policy(args.text("on-bad-input", "stop"));
    } catch (const std::invalid_argument& error) {
        throw UsageError(error.what());
    }
    options.json_field = args.text("json-field", "text");
    return options;
}

SplitOptions split_options_from(const Arguments& args) {
    SplitOptions split;
    const std::string ratio = args.text("split", "199:1");
    if (!parse_split_ratio(ratio, split)) {
        throw UsageError("option --split: '" + ratio + "' is not TRAIN:VALIDATION with both parts above 0, e.g. 199:1");
    }
    split.seed = static_cast<uint64_t>(args.integer("split-seed", 0));
    return split;
}

double real_number(const Arguments& args, const std::string& name, double fallback) {
    if (!args.has(name)) return fallback;
    const std::string text = args.text(name);
    try {
        size_t used = 0;
        const double value = std::stod(text, &used);
        if (used == text.size()) return value;
    } catch (const std::exception&) {
    }
    throw UsageError("option --" + name + ": '" + text + "' is not a number");
}

SpanCorruptionOptions span_options_from(const Arguments& args) {
    SpanCorruptionOptions options;
    options.input_length = args.integer("input-len", options.input_length);
    options.noise_density = real_number(args, "noise-density", options.noise_density);
    options.mean_span_length = real_number(args, "mean-span", options.mean_span_length);
    return options;
}

namespace {

volatile std::sig_atomic_t interrupted = 0;

void on_interrupt(int) { interrupted = 1; }

void catch_interrupts() {
    struct sigaction action {};
    action.sa_handler = on_interrupt;
    action.sa_flags = SA_RESETHAND;  // the second signal gets the default action
    sigaction(SIGINT, &action, nullptr);
    sigaction(SIGTERM, &action, nullptr);
}

std::string progress_text(const Progress& p) {
    char text[256];
    if (p.stage == "training") {  // sentencepiece itself reports nothing: elapsed time against an estimate
        const int used = std::snprintf(text, sizeof text, "training the tokenizer: %s", clock_text(p.elapsed_s).c_str());
        if (p.eta_s >= 0) {
            std::snprintf(text + used, sizeof text - used, ", ETA %s (estimated from the sentences' size)",
                          clock_text(p.eta_s).c_str());
        } else if (p.total > 0) {
            std::snprintf(text + used, sizeof text - used, ", longer than the %s estimated", clock_text(p.total).c_str());
        }
        return text;
    }
    std::string line = p.stage;
    line.resize(std::max<size_t>(line.size(), 10), ' ');
    std::snprintf(text, sizeof text, " %8.1f MB", static_cast<double>(p.done) / 1e6);
    line += text;
    if (p.total > 0) {
        std::snprintf(text, sizeof text, " of %.1f MB (%3.0f %%)", p.total / 1e6, 100.0 * p.done / p.total);
        line += text;
    }
    if (p.elapsed_s > 0) {
        std::snprintf(text, sizeof text, ", %.2f MB/s", p.done / 1e6 / p.elapsed_s);
        line += text;
    }
    if (p.total > 0) line += ", ETA " + clock_text(p.eta_s);
    return line;
}

}  // namespace

// Shows each report on one ProgressLine; returns whether to go on, as `go_on` says.
ProgressCallback progress_printer(bool quiet, std::function<bool()> go_on) {
    auto line = std::make_shared<ProgressLine>();
    return [quiet, line, go_on](const Progress& p) {
        // A phase ends when all of it is done; the tokenizer's training ends with the next phase.
        const bool done = p.unit != "seconds" && p.total > 0 && p.done >= p.total;
        if (!quiet) line->show(p.stage, progress_text(p), done);
        return go_on();
    };
}

ProgressCallback terminal_progress(bool quiet) {
    catch_interrupts();
    return progress_printer(quiet, [] { return interrupted == 0; });
}

ProgressCallback data_progress_lines(bool quiet) {
    return progress_printer(quiet, [] { return true; });
}

}  // namespace gs::cli
