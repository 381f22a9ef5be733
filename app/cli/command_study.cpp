// study: a folder of experiments (the study's Table 2) run as one set, then its report: the
// results table, the learning curves as CSV and, drawn by growthstudio-report, as figures.
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <set>

#include "app/cli/arguments.h"
#include "app/cli/commands.h"
#include "core/analysis/curves.h"
#include "core/common/shell.h"
#include "core/io/files.h"
#include "core/store/results_table.h"
#include "core/train/study.h"
#include "core/train/run_lock.h"
#include "core/train/trainer.h"

namespace gs::cli {

namespace {

namespace fs = std::filesystem;

// The columns of the study's report: time and FLOPs, against the reference's, and when each run
// first reached the reference's final validation loss.
const std::vector<std::string> kReportColumns = {
    "n", "model", "train_epochs_or_steps", "train_time_h", "ratio_to_base_pct", "train_flops", "flops_ratio_pct",
    "valid_loss", "reach_base_loss_h", "reach_ratio_pct", "reach_base_loss_flops", "reach_flops_ratio_pct", "status"};

void print_order(const std::vector<StudyEntry>& entries, const std::string& reference) {
    int n = 0;
    for (const auto& e : entries) {
        std::cout << ++n << ". " << e.spec.name << "  (" << fs::path(e.file).filename().string() << ")  pipeline "
                  << e.spec.pipeline.name() << ", budgets " << e.spec.pipeline.budget_notation();
        if (!e.depends_on.empty()) std::cout << ", starts from run " << e.depends_on;
        if (e.spec.name == reference) std::cout << "  [reference]";
        std::cout << "\n";
    }
}

// Runs one experiment of the set unless its run is finished: a run that exists but is not
// finished (paused, killed, failed) continues from its last checkpoint.
RunStatus run_entry(const StudyEntry& entry, Store& store, RunOptions options, bool quiet) {
    const auto existing = store.find_run(entry.spec.name);
    if (existing && static_cast<uint64_t>(existing->seed) != entry.spec.seed) {
        throw std::runtime_error(store.path() + ": run '" + entry.spec.name + "' was trained with seed " +
                                 std::to_string(existing->seed) + ", not " + std::to_string(entry.spec.seed) +
                                 "; a set with another seed needs a database and runs folder of its own (--db, --runs-dir)");
    }
    if (existing && existing->status == RunStatus::done) {
        std::cerr << entry.spec.name << ": finished, skipped\n";
        return RunStatus::done;
    }
    std::cerr << entry.spec.name << ": "
              << (existing ? "resuming (was " + to_string(live_run_status(*existing)) + ")" : "starting") << "\n";
    if (existing) return resume_run(entry.spec.name, store, terminal_hooks(quiet), options);
    options.name = entry.spec.name;
    return run_experiment(entry.spec, store, options, terminal_hooks(quiet));
}

// --seed: every experiment of the set with another seed (initialisation, data order, dropout,
// the growth probe). The validation split keeps its own seed, so every seed is scored on the same
// held-out text.
void override_seed(std::vector<StudyEntry>& entries, uint64_t seed) {
    for (StudyEntry& entry : entries) {
        entry.spec.seed = seed;
        entry.spec.json["seed"] = seed;  // what the runs store as their experiment
    }
}

// The set's rows only, in the set's order.
ResultsTable study_table(Store& store, const std::vector<StudyEntry>& entries, const std::string& reference) {
    ResultsTable all = build_results_table(store, reference);
    ResultsTable table = all;
    table.rows.clear();
    for (const auto& e : entries) {
        for (const auto& row : all.rows) {
            if (row.source.empty() && row.run == e.spec.name) table.rows.push_back(row);
        }
    }
    return table;
}

// Validation loss of every run on one axis: the grid is every x at which some run validated, so
// each run's own points are exact and the others' interpolated between theirs.
std::string validation_curves_csv(Store& store, const ResultsTable& table, CurveAxis axis) {
    std::vector<std::string> names;
    std::vector<Curve> curves;
    std::set<double> xs;
    for (const auto& row : table.rows) {
        names.push_back(row.run);
        curves.push_back(extract_curve(store.metrics(row.run_id), axis, CurveKind::validation));
        for (const auto& point : curves.back()) xs.insert(point.x);
    }
    return curves_csv(axis_label(axis), names, curves, std::vector<double>(xs.begin(), xs.end()));
}

std::string report_markdown(const ResultsTable& table, const std::string& database) {
    std::string text = "# Study report\n\nDatabase: `" + database + "`. Reference run: " +
                       (table.reference_run.empty() ? "none (no finished B run)" : "`" + table.reference_run + "`");
    if (table.reference_loss) text += ", final validation loss " + std::to_string(*table.reference_loss);
    text += ".\n\nTime in training hours; ratios against the reference run's time and FLOPs; `reach`: when a run first "
            "got to the reference's final validation loss (interpolated between validations).\n\n";
    return text + results_markdown(table, kReportColumns);
}


// growthstudio-report (Qt) draws the figures with the GUI's curve view; a build without Qt has none.
void draw_figures(const std::string& database, const std::string& report, const ResultsTable& table) {
    std::error_code error;
    const fs::path self = fs::read_symlink("/proc/self/exe", error);
    const fs::path tool = self.parent_path() / "growthstudio-report";
    std::string arguments = " " + shell_quote(database) + " " + shell_quote(report);
    if (!table.reference_run.empty()) arguments += " --reference " + shell_quote(table.reference_run);
    for (const auto& row : table.rows) {
        if (row.pipeline.size() > 1 && row.pipeline.back() == 'B') arguments += " " + shell_quote(row.run);  // grown into B
    }
    if (error || access(tool.c_str(), X_OK) != 0) {
        std::cerr << "figures: growthstudio-report was not built beside growthstudio-cli (it needs Qt); with a full "
                     "build, draw them with:\n  growthstudio-report" << arguments << "\n";
        return;
    }
    if (std::system((shell_quote(tool.string()) + arguments).c_str()) != 0) {
        std::cerr << "figures: growthstudio-report failed\n";
    }
}

void write_report(Store& store, const std::vector<StudyEntry>& entries, const std::string& reference,
                  const std::string& report) {
    fs::create_directories(report);
    const ResultsTable table = study_table(store, entries, reference);
    const std::string markdown = report_markdown(table, store.path());
    write_file_atomically(report + "/results.md", markdown);
    write_file_atomically(report + "/results.csv", results_csv(table));
    write_file_atomically(report + "/curves-hours.csv", validation_curves_csv(store, table, CurveAxis::hours));
    write_file_atomically(report + "/curves-flops.csv", validation_curves_csv(store, table, CurveAxis::flops));
    draw_figures(store.path(), report, table);
    std::cout << markdown << "\nreport written to " << report << "\n";
}

}  // namespace

int run_study(const Words& words) {
    Arguments args(words, {{"db", "report", "runs-dir", "device", "threads", "reference", "seed"},
                           {"dry-run", "report-only", "quiet"}});
    if (args.positional().size() != 1) throw UsageError("expected one folder of experiment files");
    std::vector<StudyEntry> entries = load_study(args.positional()[0]);
    if (args.has("seed")) {
        const int64_t seed = args.integer("seed", 0);
        if (seed < 0) throw UsageError("option --seed must be a whole number >= 0");
        override_seed(entries, static_cast<uint64_t>(seed));
    }
    const std::string reference = args.text("reference", study_reference(entries));
    if (args.has("dry-run")) {
        check_study_references(entries, stored_run_names(database_of(args)), database_of(args));
        print_order(entries, reference);
        return 0;
    }
    Store store(database_of(args));
    check_study_references(entries, store.run_names(), store.path());
    const std::string report = args.text("report", (fs::absolute(store.path()).parent_path() / "report").string());
    if (!args.has("report-only")) {
        stop_on_signals();
        for (const auto& entry : entries) {
            const RunStatus status = run_entry(entry, store, run_options(args), args.has("quiet"));
            if (status == RunStatus::done) continue;
            std::cerr << entry.spec.name << ": " << to_string(status) << "; the same command continues the study\n";
            return 3;
        }
    }
    write_report(store, entries, reference, report);
    return 0;
}

}  // namespace gs::cli
