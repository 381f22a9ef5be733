// growthstudio-cli study, end to end on a miniature of the study: a Base run, a Small run and two
// runs grown into Base, trained for seconds, then the report. The report's time-to-reach and
// ratios are checked against figures computed here straight from the database's stored curves
// (plain SQL and a first-crossing search of its own), not through the store or curves code.
#include <gtest/gtest.h>

#include <sqlite3.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli_test_support.h"
#include "core/io/files.h"
#include "core/store/store.h"
#include "core/train/study.h"
#include "test_support.h"

namespace gs {
namespace {

namespace fs = std::filesystem;

// One experiment of the miniature: S and B of the same depth, so that `a` widens S into B.
nlohmann::json mini_experiment(const std::string& pipeline, const std::string& budgets) {
    nlohmann::json json = {
        {"format", "growthstudio-experiment"},
        {"version", 1},
        {"name", pipeline},
        {"data", {{"tokenizer", "train:1000"}, {"input_length", 64}, {"split", "19:1"}, {"cache_dir", "cache"}}},
        {"sizes",
         {{"S", {{"d_model", 64}, {"d_kv", 16}, {"num_heads", 4}, {"d_ff", 128}, {"num_layers", 2}, {"num_decoder_layers", 2}}},
          {"B", {{"d_model", 96}, {"d_kv", 16}, {"num_heads", 6}, {"d_ff", 192}, {"num_layers", 2}, {"num_decoder_layers", 2}}}}},
        {"pipeline", pipeline},
        {"budgets", budgets},
        {"schedule", {{"kind", "cosine"}, {"peak_lr", 0.02}, {"warmup_steps", 5}}},
        {"batch_size", 8},
        {"validation", {{"interval_steps", 5}, {"batches", 2}}},
        {"checkpoint_interval_steps", 20},
        {"seed", 3},
        {"threads", 1}};
    if (pipeline.find("init-") != std::string::npos) json["pretrained"] = {{"S", "S"}};
    return json;
}

// File names out of dependency order on purpose: the init- run's file sorts before its source's.
fs::path write_mini_study(const test::TempDir& dir) {
    const fs::path set = dir.path() / "set";
    fs::create_directories(set);
    const std::vector<std::pair<std::string, nlohmann::json>> files = {
        {"1_S_init-a_B.json", mini_experiment("S_init-a_B", "60steps")},
        {"2_B.json", mini_experiment("B", "50steps")},
        {"3_S.json", mini_experiment("S", "20steps")},
        {"4_S_a_B.json", mini_experiment("S_a_B", "20steps-60steps")},
    };
    for (const auto& [name, json] : files) write_file_atomically((set / name).string(), json.dump(1) + "\n");
    return set;
}

// --- The database read with SQL, independently of the store.

struct Point {
    int64_t step;
    double hours, flops, valid_loss;
};

struct StoredRun {
    int64_t id = 0;
    std::string status;
    double hours = 0, flops = 0;  // at the last step
    std::vector<Point> validations;
};

std::map<std::string, StoredRun> read_database(const std::string& path) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    std::map<std::string, StoredRun> runs;
    sqlite3_stmt* statement = nullptr;
    sqlite3_prepare_v2(db, "SELECT id, name, status FROM runs", -1, &statement, nullptr);
    while (sqlite3_step(statement) == SQLITE_ROW) {
        StoredRun& run = runs[reinterpret_cast<const char*>(sqlite3_column_text(statement, 1))];
        run.id = sqlite3_column_int64(statement, 0);
        run.status = reinterpret_cast<const char*>(sqlite3_column_text(statement, 2));
    }
    sqlite3_finalize(statement);
    for (auto& [name, run] : runs) {
        sqlite3_prepare_v2(db, "SELECT step, wall_seconds, flops, valid_loss FROM metrics WHERE run_id = ? ORDER BY step",
                           -1, &statement, nullptr);
        sqlite3_bind_int64(statement, 1, run.id);
        while (sqlite3_step(statement) == SQLITE_ROW) {
            run.hours = sqlite3_column_double(statement, 1) / 3600.0;
            run.flops = sqlite3_column_double(statement, 2);
            if (sqlite3_column_type(statement, 3) == SQLITE_NULL) continue;
            run.validations.push_back({sqlite3_column_int64(statement, 0), run.hours, run.flops,
                                       sqlite3_column_double(statement, 3)});
        }
        sqlite3_finalize(statement);
    }
    sqlite3_close(db);
    return runs;
}

// The first validation at or below `target`, the crossing placed linearly between it and the one
// before: {hours, flops}.
std::optional<std::pair<double, double>> first_crossing(const std::vector<Point>& points, double target) {
    for (size_t i = 0; i < points.size(); ++i) {
        if (points[i].valid_loss > target) continue;
        if (i == 0) return std::make_pair(points[0].hours, points[0].flops);
        const Point& a = points[i - 1];
        const Point& b = points[i];
        const double t = (a.valid_loss - target) / (a.valid_loss - b.valid_loss);
        return std::make_pair(a.hours + t * (b.hours - a.hours), a.flops + t * (b.flops - a.flops));
    }
    return std::nullopt;
}

// results.csv as run -> column -> text (no field of these rows needs quoting).
std::map<std::string, std::map<std::string, std::string>> read_report_csv(const std::string& path) {
    std::istringstream in(read_text_file(path));
    auto fields = [](std::string line) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        std::istringstream cells(line + ",");  // the trailing comma keeps a last empty field
        std::vector<std::string> out;
        for (std::string cell; std::getline(cells, cell, ',');) out.push_back(cell);
        return out;
    };
    std::string line;
    std::getline(in, line);
    const std::vector<std::string> header = fields(line);
    std::map<std::string, std::map<std::string, std::string>> rows;
    while (std::getline(in, line)) {
        const std::vector<std::string> cells = fields(line);
        std::map<std::string, std::string> row;
        for (size_t i = 0; i < header.size() && i < cells.size(); ++i) row[header[i]] = cells[i];
        rows[row["run"]] = row;
    }
    return rows;
}

double number(const std::map<std::string, std::string>& row, const std::string& column) {
    const std::string& text = row.at(column);
    EXPECT_FALSE(text.empty()) << column;
    return text.empty() ? NAN : std::stod(text);
}

TEST(Study, MiniatureReportMatchesFiguresComputedFromTheStoredCurves) {
    test::TempDir dir;
    const fs::path set = write_mini_study(dir);
    const std::string db = dir.file("ws.db"), report = dir.file("report");
    const test::CliResult first = test::run_growthstudio_cli("study set --db ws.db --report report --quiet", dir.path().string());
    ASSERT_EQ(first.exit_code, 0) << first.output;

    std::map<std::string, StoredRun> runs = read_database(db);
    ASSERT_EQ(runs.size(), 4u);
    for (const auto& [name, run] : runs) EXPECT_EQ(run.status, "done") << name;
    EXPECT_LT(runs["S"].id, runs["S_init-a_B"].id);  // the init- run waited for its source

    const StoredRun& base = runs["B"];
    ASSERT_FALSE(base.validations.empty());
    const double target = base.validations.back().valid_loss;
    const auto table = read_report_csv(report + "/results.csv");
    ASSERT_EQ(table.size(), 4u);
    // The report prints percentages to 2 decimals and losses and hours to 4: half a unit of the
    // last digit printed, plus the double arithmetic of a ratio (ulps, far below it).
    const double percent_printed = 0.005 * (1 + 1e-9), four_decimals_printed = 0.00005 * (1 + 1e-9);
    int reached = 0;
    for (const auto& [name, run] : runs) {
        const auto& row = table.at(name);
        EXPECT_NEAR(number(row, "ratio_to_base_pct"), 100.0 * run.hours / base.hours, percent_printed) << name;
        EXPECT_NEAR(number(row, "flops_ratio_pct"), 100.0 * run.flops / base.flops, percent_printed) << name;
        EXPECT_NEAR(number(row, "valid_loss"), run.validations.back().valid_loss, four_decimals_printed) << name;
        const auto crossing = first_crossing(run.validations, target);
        EXPECT_EQ(row.at("reach_base_loss_h").empty(), !crossing) << name;
        if (!crossing) continue;
        const bool grown = name == "S_a_B" || name == "S_init-a_B";
        if (grown) EXPECT_GT(crossing->second, 0) << name << " should get there by training, not at once";
        reached += grown;
        EXPECT_NEAR(number(row, "reach_base_loss_h"), crossing->first, four_decimals_printed) << name;
        EXPECT_NEAR(number(row, "reach_ratio_pct"), 100.0 * crossing->first / base.hours, percent_printed) << name;
        // FLOPs are printed with 5 significant digits.
        EXPECT_NEAR(number(row, "reach_base_loss_flops"), crossing->second, 5e-5 * (1 + 1e-9) * crossing->second) << name;
        EXPECT_NEAR(number(row, "reach_flops_ratio_pct"), 100.0 * crossing->second / base.flops, percent_printed) << name;
    }
    EXPECT_EQ(reached, 2) << "both grown runs train longer than Base and should reach its final loss";
    const std::string markdown = read_text_file(report + "/results.md");
    EXPECT_NE(markdown.find("Reference run: `B`"), std::string::npos) << markdown;
    EXPECT_NE(markdown.find("| n | Model | Epochs/steps | Time (h) | Ratio (%) | FLOPs | FLOPs ratio (%) | Valid loss | "
                            "Reach (h) | Reach (%) | Reach (FLOPs) | Reach FLOPs (%) | Status |"),
              std::string::npos)
        << markdown;
    EXPECT_NE(read_text_file(report + "/curves-hours.csv").find("training hours,B,S,S_init-a_B,S_a_B"), std::string::npos);

    // Figures come from growthstudio-report when the build has Qt; otherwise the report says how.
    const bool drawn = fs::exists(fs::path(GS_CLI_PATH).parent_path() / "growthstudio-report");
    EXPECT_EQ(fs::exists(report + "/learning-curves.png"), drawn);
    EXPECT_EQ(fs::exists(report + "/learning-curves.svg"), drawn);
    if (!drawn) EXPECT_NE(first.output.find("growthstudio-report"), std::string::npos) << first.output;

    // Again: every run is finished and skipped; nothing new is stored.
    const test::CliResult second = test::run_growthstudio_cli("study set --db ws.db --report report --quiet", dir.path().string());
    ASSERT_EQ(second.exit_code, 0) << second.output;
    for (const char* name : {"S", "B", "S_a_B", "S_init-a_B"}) {
        EXPECT_NE(second.output.find(std::string(name) + ": finished, skipped"), std::string::npos) << second.output;
    }
    const auto again = read_database(db);
    EXPECT_EQ(again.size(), 4u);
    EXPECT_EQ(again.at("S_a_B").validations.size(), runs["S_a_B"].validations.size());
}

TEST(Study, AnInterruptedRunIsResumedNotStartedAgain) {
    test::TempDir dir;
    const fs::path set = dir.path() / "set";
    fs::create_directories(set);
    write_file_atomically((set / "S.json").string(), mini_experiment("S", "200steps").dump());
    // Stopped with SIGTERM as soon as it trains: the trainer checkpoints and pauses.
    const std::string command = std::string("cd '") + dir.path().string() + "' && (" + GS_CLI_PATH +
                                " study set --db ws.db --report report > log.txt 2>&1 & pid=$!; "
                                "while ! grep -q 'training' log.txt 2>/dev/null; do sleep 0.05; done; kill -TERM $pid; wait $pid)";
    const int paused = std::system(command.c_str());
    EXPECT_EQ(WEXITSTATUS(paused), 3) << read_text_file(dir.file("log.txt"));
    EXPECT_NE(read_text_file(dir.file("log.txt")).find("the same command continues the study"), std::string::npos);
    EXPECT_EQ(read_database(dir.file("ws.db")).at("S").status, "paused");

    const test::CliResult resumed = test::run_growthstudio_cli("study set --db ws.db --report report --quiet", dir.path().string());
    ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
    EXPECT_NE(resumed.output.find("S: resuming (was paused)"), std::string::npos) << resumed.output;
    const auto runs = read_database(dir.file("ws.db"));
    ASSERT_EQ(runs.size(), 1u);  // the same run, continued
    EXPECT_EQ(runs.at("S").status, "done");
    EXPECT_EQ(runs.at("S").validations.back().step, 200);
}

// --seed trains the set with another seed, recorded with its runs; a database holding the set
// at another seed is refused by name rather than counted as finished.
TEST(Study, ASeedOverrideTrainsAnotherReplicateInItsOwnDatabase) {
    test::TempDir dir;
    const fs::path set = dir.path() / "set";
    fs::create_directories(set);
    write_file_atomically((set / "S.json").string(), mini_experiment("S", "10steps").dump());
    const auto seeded = test::run_growthstudio_cli("study set --db seed5.db --runs-dir runs5 --seed 5 --quiet", dir.path().string());
    ASSERT_EQ(seeded.exit_code, 0) << seeded.output;
    const auto plain = test::run_growthstudio_cli("study set --db plain.db --quiet", dir.path().string());
    ASSERT_EQ(plain.exit_code, 0) << plain.output;
    // A third replicate without a runs folder of its own would train into plain.db's run folder.
    const auto crowded = test::run_growthstudio_cli("study set --db seed9.db --seed 9 --quiet", dir.path().string());
    EXPECT_EQ(crowded.exit_code, 1);
    EXPECT_NE(crowded.output.find(dir.file("runs/S") + ": this folder holds a run already"), std::string::npos) << crowded.output;
    EXPECT_TRUE(Store(dir.file("seed9.db")).summaries().empty());

    Store five(dir.file("seed5.db")), file_seed(dir.file("plain.db"));
    const RunRecord run5 = *five.find_run("S"), run0 = *file_seed.find_run("S");
    EXPECT_EQ(run5.seed, 5);
    EXPECT_EQ(run0.seed, mini_experiment("S", "10steps").at("seed").get<int64_t>());
    EXPECT_EQ(nlohmann::json::parse(five.experiment_json(run5.experiment_id)).at("seed"), 5);
    EXPECT_NE(five.metrics(run5.id).front().train_loss, file_seed.metrics(run0.id).front().train_loss);

    const auto mixed = test::run_growthstudio_cli("study set --db seed5.db --quiet", dir.path().string());
    EXPECT_EQ(mixed.exit_code, 1);
    EXPECT_NE(mixed.output.find("seed5.db: run 'S' was trained with seed 5, not "), std::string::npos) << mixed.output;
}

TEST(Study, BundledSetsValidateAndOrderInitRunsAfterTheirSources) {
    const fs::path experiments = fs::path(GS_TEST_DATA_DIR).parent_path().parent_path() / "experiments";
    for (const char* folder : {"paper", "cpu-study", "cpu-study-long"}) {
        const test::CliResult r = test::run_growthstudio_cli("study " + (experiments / folder).string() + " --dry-run");
        ASSERT_EQ(r.exit_code, 0) << r.output;
        EXPECT_NE(r.output.find("pipeline B, budgets"), std::string::npos) << r.output;
        EXPECT_NE(r.output.find("[reference]"), std::string::npos) << r.output;
        const std::vector<StudyEntry> entries = load_study((experiments / folder).string());
        std::set<std::string> placed;
        for (const auto& e : entries) {
            if (!e.depends_on.empty()) EXPECT_TRUE(placed.count(e.depends_on)) << folder << ": " << e.spec.name;
            placed.insert(e.spec.name);
        }
        EXPECT_EQ(study_reference(entries), "B");
    }
    const std::set<std::string> table2 = {"T", "S", "S_a_B", "T_d_S_a_B", "T_da_B", "B", "S_init-a_B", "T_init-d_S_a_B",
                                          "S_init-f_B", "T_init-da_B"};
    std::set<std::string> pipelines;
    for (const auto& e : load_study((experiments / "cpu-study").string())) pipelines.insert(e.spec.pipeline.name());
    EXPECT_EQ(pipelines, table2);
}

// A budget that waits for a run of the set (loss<=[B]) puts that run first, whatever the file
// order; one that names a run of neither the set nor the database is refused before anything trains.
TEST(Study, ARunWhoseBudgetWaitsForAnotherOfTheSetTrainsAfterIt) {
    test::TempDir dir;
    write_file_atomically(dir.file("1_S.json"), mini_experiment("S", "loss<=[B]").dump());
    write_file_atomically(dir.file("2_B.json"), mini_experiment("B", "10steps").dump());
    const std::vector<StudyEntry> entries = load_study(dir.path().string());
    ASSERT_EQ(entries.size(), 2u);
    EXPECT_EQ(entries[0].spec.name, "B");
    EXPECT_EQ(entries[1].spec.name, "S");
    test::CliResult r = test::run_growthstudio_cli("study " + dir.path().string() + " --dry-run --db ws.db", dir.path().string());
    EXPECT_EQ(r.exit_code, 0) << r.output;

    write_file_atomically(dir.file("2_B.json"), mini_experiment("B", "loss<=[S]").dump());
    r = test::run_growthstudio_cli("study " + dir.path().string() + " --dry-run");
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_NE(r.output.find("depends on it in turn (a cycle)"), std::string::npos) << r.output;

    write_file_atomically(dir.file("2_B.json"), mini_experiment("B", "loss<=[NOPE]").dump());
    r = test::run_growthstudio_cli("study " + dir.path().string() + " --db ws.db", dir.path().string());
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_NE(r.output.find("2_B.json: field 'budgets': stage B trains until 'loss<=[NOPE]', but 'NOPE' is not a run of "
                            "ws.db nor an experiment of the set"),
              std::string::npos)
        << r.output;
    EXPECT_TRUE(Store(dir.file("ws.db")).summaries().empty());
}

TEST(Study, ErrorsNameTheFile) {
    test::TempDir dir;
    write_file_atomically(dir.file("a.json"), mini_experiment("S_init-a_B", "10steps").dump());
    test::CliResult r = test::run_growthstudio_cli("study " + dir.path().string() + " --dry-run");
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.output.find("a.json: field 'pretrained': 'S' is neither a checkpoint folder nor the name of an experiment "
                            "of the set"),
              std::string::npos)
        << r.output;
    write_file_atomically(dir.file("b.json"), mini_experiment("S_init-a_B", "10steps").dump());
    write_file_atomically(dir.file("c.json"), mini_experiment("S", "10steps").dump());
    r = test::run_growthstudio_cli("study " + dir.path().string() + " --dry-run");
    EXPECT_NE(r.output.find("b.json: name 'S_init-a_B' is also the name of"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace gs
