// Hostile and careless input through the CLI, as a user gives it: each case must end in a clear
// error that names the file, field or option, never in a signal, an allocation failure or a run
// that silently did something else.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli_test_support.h"
#include "core/data/corpus.h"
#include "core/io/files.h"
#include "core/store/store.h"
#include "core/train/trainer.h"
#include "data_test_support.h"
#include "test_support.h"

namespace gs {
namespace {

const int kHostileDepth = 150000;

std::string nested_arrays(int depth) { return std::string(depth, '[') + std::string(depth, ']'); }

// The tiny test experiment with `changes` applied, written to dir/experiment.json.
void write_experiment(const test::TempDir& dir, const nlohmann::json& changes) {
    nlohmann::json experiment = read_json_file(test::data_path("experiments/tiny_T_d_S.json"));
    experiment.merge_patch(changes);
    test::write_text(dir.file("experiment.json"), experiment.dump(2));
}

test::CliResult dry_run(const test::TempDir& dir) {
    return test::run_growthstudio_cli("run experiment.json --db ws.db --dry-run", dir.path().string());
}

TEST(HostileInputs, ADeeplyNestedDescriptionIsRefusedNotAStackOverflow) {
    test::TempDir dir;
    write_experiment(dir, nlohmann::json::object());
    // The description's value, nested 150,000 deep, spliced into the file's text.
    std::string text = read_text_file(dir.file("experiment.json"));
    text.insert(text.find('{') + 1, "\n  \"description\": " + nested_arrays(kHostileDepth) + ",");
    test::write_text(dir.file("experiment.json"), text);

    const test::CliResult result = dry_run(dir);
    EXPECT_EQ(result.exit_code, 1) << result.output.substr(0, 2000);
    // Line 2 holds the description: inside the document's object, its 512th bracket (column
    // 18 + 511) is level 513.
    EXPECT_NE(result.output.find("error: experiment.json: JSON nested deeper than 512 levels at line 2, column 529"),
              std::string::npos)
        << result.output.substr(0, 2000);
}

TEST(HostileInputs, JsonAtTheDepthLimitIsRead) {
    test::TempDir dir;
    test::write_text(dir.file("deep.json"), nested_arrays(kMaxJsonDepth));
    EXPECT_EQ(read_json_file(dir.file("deep.json")).size(), 1u);
    test::write_text(dir.file("brackets.json"), "[\"" + std::string(kHostileDepth, '[') + "\\\"\"]");
    EXPECT_EQ(read_json_file(dir.file("brackets.json")).at(0).get<std::string>().size(), kHostileDepth + 1u);
}

TEST(HostileInputs, ANumberBeyondADoubleIsInvalidJsonNamingTheFile) {
    test::TempDir dir;
    test::write_text(dir.file("huge.json"), "{\"a\": -1e999}");
    try {
        read_json_file(dir.file("huge.json"));
        ADD_FAILURE() << "1e999 read";
    } catch (const std::runtime_error& error) {
        EXPECT_EQ(std::string(error.what()).rfind(dir.file("huge.json") + ": invalid JSON: ", 0), 0u) << error.what();
        EXPECT_NE(std::string(error.what()).find("'-1e999'"), std::string::npos) << error.what();
    }
    try {
        parse_json_line("[1e999]", "lines.jsonl", 7);
        ADD_FAILURE() << "1e999 read";
    } catch (const std::invalid_argument& error) {
        EXPECT_EQ(std::string(error.what()).rfind("lines.jsonl:7: invalid JSON: ", 0), 0u) << error.what();
    }
}

// `evaluate --task TASK` of `predictions` against the sample dev file `dev` ends in exit code 1
// with `message` in its output.
void expect_evaluate_refuses(const std::string& task, const std::string& dev, const std::string& predictions,
                             const std::string& message) {
    const test::CliResult r = test::run_growthstudio_cli("evaluate --task " + task + " --data " + std::string(GS_TEST_DATA_DIR) +
                                                         "/evaluate/" + dev + " --predictions " + predictions);
    EXPECT_EQ(r.exit_code, 1) << r.output.substr(0, 2000);
    EXPECT_NE(r.output.find(message), std::string::npos) << r.output.substr(0, 2000);
}

TEST(HostileInputs, DeeplyNestedPredictionsAreRefused) {
    test::TempDir dir;
    test::write_text(dir.file("predictions.json"), "{\"q1\": " + nested_arrays(kHostileDepth) + "}");
    expect_evaluate_refuses("ext", "korquad_dev.json", dir.file("predictions.json"),
                            dir.file("predictions.json") + ": JSON nested deeper than 512 levels at line 1, column 519");
    // JSON Lines name the line the nesting is on.
    test::write_text(dir.file("summaries.jsonl"), "{\"id\": \"a\", \"summary\": \"b\"}\n" + nested_arrays(kHostileDepth) + "\n");
    expect_evaluate_refuses("sum", "summaries_dev.jsonl", dir.file("summaries.jsonl"),
                            dir.file("summaries.jsonl") + ": JSON nested deeper than 512 levels at line 2, column 513");
}

// The dry run's output, expected to end in exit code 1 with `message` in it.
void expect_refused(const test::TempDir& dir, const nlohmann::json& changes, const std::string& message) {
    write_experiment(dir, changes);
    const test::CliResult result = dry_run(dir);
    EXPECT_EQ(result.exit_code, 1) << changes.dump() << "\n" << result.output;
    EXPECT_NE(result.output.find(message), std::string::npos) << changes.dump() << "\n" << result.output;
}

TEST(HostileInputs, ABudgetTooLargeToCountIsRefusedBeforeTheRun) {
    test::TempDir dir;
    write_experiment(dir, {{"budgets", "99999999999999999999999steps-40steps"}});
    const std::string message = "experiment.json: field 'budgets': budget '99999999999999999999999steps': "
                                "'99999999999999999999999' is larger than 10^15, more than a run can count";
    const test::CliResult run = test::run_growthstudio_cli("run experiment.json --db ws.db --quiet", dir.path().string());
    EXPECT_EQ(run.exit_code, 1) << run.output;
    EXPECT_NE(run.output.find(message), std::string::npos) << run.output;
    EXPECT_TRUE(Store(dir.file("ws.db")).summaries().empty());
    expect_refused(dir, {{"budgets", "99999999999999999999999steps-40steps"}}, message);
    expect_refused(dir, {{"budgets", "0steps-40steps"}}, "budget '0steps': '0' is not a positive number");
    expect_refused(dir, {{"budgets", "-5steps-40steps"}}, "field 'budgets'");
}

TEST(HostileInputs, ShapesAndBatchesThatCannotFitAreRefusedNamingTheFields) {
    test::TempDir dir;
    expect_refused(dir, {{"sizes", {{"S", {{"num_layers", 100000}}}}}},
                   "experiment.json: field 'sizes.S': stage S at batch_size 8 and data.input_length 64 needs about ");
    const nlohmann::json wide = {{"d_model", 1000000}, {"d_kv", 250000}};
    expect_refused(dir, {{"pipeline", "T"}, {"budgets", "40steps"}, {"sizes", {{"T", wide}}}},
                   "field 'sizes.T': stage T at batch_size 8");
    expect_refused(dir, {{"batch_size", 1000000000000}}, "field 'sizes.T': stage T at batch_size 1000000000000 ");
    expect_refused(dir, {{"batch_size", 1e12}}, "field 'batch_size': expected a whole number >= 1");
    expect_refused(dir, {{"threads", 4294967297}}, "field 'threads': 4294967297 is too large (at most 2147483647)");
    expect_refused(dir, {{"gradient_accumulation", 18446744073709551615u}},
                   "field 'gradient_accumulation': 18446744073709551615 is too large");
    expect_refused(dir, {{"data", {{"input_length", 1000000}}}}, "and data.input_length 1000000 needs about ");
    expect_refused(dir, {{"data", {{"input_length", 100000000}}}},
                   "field 'data.input_length': input length 100000000 is above 1048576, longer than any row that can be trained");

    // The plan shows the estimate of an experiment that fits.
    write_experiment(dir, nlohmann::json::object());
    const test::CliResult plan = dry_run(dir);
    EXPECT_EQ(plan.exit_code, 0) << plan.output;
    EXPECT_NE(plan.output.find("memory      about "), std::string::npos) << plan.output;
}

// `loss<=[RUN]` names a run that must exist before anything trains: a typo is refused by the
// dry run and by the run itself, which then creates no run, instead of failing after stage T.
TEST(HostileInputs, ABudgetWaitingForAMissingRunIsRefusedBeforeTheFirstStage) {
    test::TempDir dir;
    const std::string message = "experiment.json: field 'budgets': stage S trains until 'loss<=[NOPE]', but 'NOPE' is "
                                "not a run of ws.db";
    expect_refused(dir, {{"budgets", "40steps-loss<=[NOPE]"}}, message);
    const test::CliResult run = test::run_growthstudio_cli("run experiment.json --db ws.db --quiet", dir.path().string());
    EXPECT_EQ(run.exit_code, 1) << run.output;
    EXPECT_NE(run.output.find(message), std::string::npos) << run.output;
    EXPECT_TRUE(Store(dir.file("ws.db")).summaries().empty());
    EXPECT_FALSE(std::filesystem::exists(dir.file("runs")));
}

TEST(HostileInputs, AnEmptyCorpusPathIsRefusedNamingTheField) {
    test::TempDir dir;
    for (const nlohmann::json& corpus : {nlohmann::json(""), nlohmann::json::array({"", "a.txt"})}) {
        expect_refused(dir, {{"data", {{"corpus", corpus}}}}, "experiment.json: field 'data.corpus': expected file or folder paths");
    }
}

TEST(HostileInputs, ATruncatedGzipCorpusIsAnErrorNamingTheFile) {
    test::TempDir dir;
    std::string text;
    for (int i = 0; i < 3000; ++i) text += "문서 번호 " + std::to_string(i) + "에는 글자가 조금 있다\n";
    test::write_gzip(dir.file("whole.txt.gz"), text);
    const std::string compressed = read_text_file(dir.file("whole.txt.gz"));
    test::write_text(dir.file("cut.txt.gz"), compressed.substr(0, compressed.size() / 2));

    CorpusOptions options;
    options.paths = {dir.file("cut.txt.gz")};
    CorpusReader reader(options);
    Document document;
    std::string error;
    try {
        while (reader.next(document)) {
        }
    } catch (const std::exception& e) {
        error = e.what();
    }
    EXPECT_EQ(error.rfind(dir.file("cut.txt.gz") + ": the gzip stream ends early (truncated?) after ", 0), 0u) << error;

    const test::CliResult prepare = test::run_growthstudio_cli("prepare --corpus cut.txt.gz --tokenizer train:200 --out data",
                                                               dir.path().string());
    EXPECT_EQ(prepare.exit_code, 1) << prepare.output;
    EXPECT_NE(prepare.output.find("cut.txt.gz: the gzip stream ends early (truncated?)"), std::string::npos)
        << prepare.output;
}

TEST(HostileInputs, ASplitWithoutAValidationOrTrainingPartIsRefused) {
    test::TempDir dir;
    test::write_text(dir.file("a.txt"), "하나\n둘\n");
    for (const std::string split : {"1:0", "0:1", "-1:1"}) {
        const test::CliResult prepare = test::run_growthstudio_cli(
            "prepare --corpus a.txt --tokenizer train:200 --out data --split " + split, dir.path().string());
        EXPECT_EQ(prepare.exit_code, 2) << prepare.output;
        EXPECT_NE(prepare.output.find("option --split: '" + split + "' is not TRAIN:VALIDATION with both parts above 0"),
                  std::string::npos)
            << prepare.output;
        EXPECT_FALSE(std::filesystem::exists(dir.file("data")));
    }
}

// `import-results --csv table.csv` of `csv` into dir/ws.db, labelled "paper".
test::CliResult import_results(const test::TempDir& dir, const std::string& csv) {
    test::write_text(dir.file("table.csv"), csv);
    return test::run_growthstudio_cli("import-results --csv table.csv --label paper --db ws.db", dir.path().string());
}

void expect_import_refused(const test::TempDir& dir, const std::string& csv, const std::string& message) {
    const test::CliResult result = import_results(dir, csv);
    EXPECT_EQ(result.exit_code, 1) << csv << "\n" << result.output;
    EXPECT_NE(result.output.find(message), std::string::npos) << csv << "\n" << result.output;
}

TEST(HostileInputs, ImportedScoresMustBeFiniteUtf8UnderDistinctColumns) {
    test::TempDir dir;
    const test::CliResult good = import_results(dir, "model,valid_loss\nB,1.5\n");
    ASSERT_EQ(good.exit_code, 0) << good.output;

    for (const std::string score : {"nan", "inf", "-inf", "NaN", "infinity"}) {
        expect_import_refused(dir, "model,valid_loss\nB,1.0\nS," + score + "\n",
                              "table.csv:3: column 'valid_loss': '" + score + "' is not a finite number");
    }
    expect_import_refused(dir, "model,valid_loss\nB\xC3\x28,1.0\n", "table.csv:2: column 'model': invalid UTF-8 at byte 2");
    expect_import_refused(dir, "model,valid\xFF\n", "table.csv:1: field 2: invalid UTF-8 at byte 6");
    expect_import_refused(dir, "model,valid_loss,valid_loss\nB,1.0,2.0\n", "table.csv:1: column 'valid_loss' appears twice");

    // Nothing refused replaced what the first import stored.
    const std::vector<ExternalResult> stored = Store(dir.file("ws.db")).external_results();
    ASSERT_EQ(stored.size(), 1u);
    EXPECT_EQ(stored[0].valid_loss, 1.5);
}

TEST(HostileInputs, AByteOrderMarkBeforeTheHeaderIsReadPast) {
    test::TempDir dir;
    const test::CliResult result = import_results(dir, "\xEF\xBB\xBFmodel,valid_loss\r\nB,1.25\r\n");
    ASSERT_EQ(result.exit_code, 0) << result.output;
    const std::vector<ExternalResult> stored = Store(dir.file("ws.db")).external_results();
    ASSERT_EQ(stored.size(), 1u);
    EXPECT_EQ(stored[0].model, "B");
    EXPECT_EQ(stored[0].valid_loss, 1.25);
}

test::CliResult run_cli_in(const test::TempDir& dir, const std::string& arguments) {
    return test::run_growthstudio_cli(arguments, dir.path().string());
}

TEST(HostileInputs, CommandsThatOnlyReadCreateNoDatabase) {
    test::TempDir dir;
    for (const std::string command : {"list", "show B", "export"}) {
        const test::CliResult result = run_cli_in(dir, command + " --db new/folder/x.db");
        EXPECT_EQ(result.exit_code, 1) << command << "\n" << result.output;
        EXPECT_NE(result.output.find("new/folder/x.db: no such database; nothing was created"), std::string::npos)
            << command << "\n" << result.output;
        EXPECT_FALSE(std::filesystem::exists(dir.file("new"))) << command;
    }
}

// The names of the tables in the SQLite file at `path`, read through SQLite itself.
std::vector<std::string> sqlite_tables(const std::string& path) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    sqlite3_stmt* statement = nullptr;
    sqlite3_prepare_v2(db, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name", -1, &statement, nullptr);
    std::vector<std::string> names;
    while (sqlite3_step(statement) == SQLITE_ROW) names.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(statement, 0)));
    sqlite3_finalize(statement);
    sqlite3_close(db);
    return names;
}

TEST(HostileInputs, AnotherProgramsDatabaseIsRefusedAndLeftUnchanged) {
    test::TempDir dir;
    const std::string path = dir.file("notes.db");
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT); INSERT INTO notes (text) VALUES ('kept')",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
    const std::string before = read_text_file(path);
    test::write_text(dir.file("table.csv"), "model,valid_loss\nB,1.5\n");

    for (const std::string command : {"list", "show B", "export", "import-results --csv table.csv"}) {
        const test::CliResult result = run_cli_in(dir, command + " --db notes.db");
        EXPECT_EQ(result.exit_code, 1) << command << "\n" << result.output;
        EXPECT_NE(result.output.find("notes.db: not a GrowthStudio database (it holds other tables: notes); nothing was changed"),
                  std::string::npos)
            << command << "\n" << result.output;
    }
    EXPECT_EQ(sqlite_tables(path), std::vector<std::string>{"notes"});
    EXPECT_EQ(read_text_file(path), before);
}

// dir/ws.db with one run, B, and imported rows labelled "paper".
std::string workspace_with_a_run(const test::TempDir& dir) {
    const std::string path = dir.file("ws.db");
    RunRecord run;
    run.name = "B", run.pipeline = "B", run.status = RunStatus::done;
    Store(path).create_run(run);
    EXPECT_EQ(import_results(dir, "model,valid_loss\nPaper-B,1.5\n").exit_code, 0);
    return path;
}

// list, show and export read `database`; a command that writes it is refused with `refusal`.
void expect_read_but_not_written(const test::TempDir& dir, const std::string& database, const std::string& refusal) {
    const std::string before = read_text_file(database);
    const test::CliResult list = run_cli_in(dir, "list --db " + database);
    EXPECT_EQ(list.exit_code, 0) << list.output;
    EXPECT_NE(list.output.find("\nB "), std::string::npos) << list.output;
    const test::CliResult show = run_cli_in(dir, "show B --db " + database);
    EXPECT_EQ(show.exit_code, 0) << show.output;
    EXPECT_NE(show.output.find("run        B (#1)"), std::string::npos) << show.output;
    const test::CliResult exported = run_cli_in(dir, "export --db " + database);
    EXPECT_EQ(exported.exit_code, 0) << exported.output;
    EXPECT_NE(exported.output.find("Paper-B"), std::string::npos) << exported.output;

    const test::CliResult import = run_cli_in(dir, "import-results --csv table.csv --label again --db " + database);
    EXPECT_EQ(import.exit_code, 1) << import.output;
    EXPECT_NE(import.output.find(refusal), std::string::npos) << import.output;
    EXPECT_EQ(read_text_file(database), before);
}

TEST(HostileInputs, AReadOnlyDatabaseFileIsReadButNotWritten) {
    test::TempDir dir;
    const std::string path = workspace_with_a_run(dir);
    ASSERT_EQ(chmod(path.c_str(), 0444), 0);
    // The permission bits are respected for root too, so this holds whoever runs it.
    expect_read_but_not_written(dir, path, path + ": the database is read-only; nothing was changed");
    chmod(path.c_str(), 0644);
}

TEST(HostileInputs, ADatabaseInAReadOnlyFolderIsReadButNotWritten) {
    if (geteuid() == 0) GTEST_SKIP() << "running as root, whom a read-only folder does not stop from writing";
    test::TempDir dir;
    const std::string path = workspace_with_a_run(dir);
    ASSERT_EQ(chmod(dir.path().c_str(), 0555), 0);
    expect_read_but_not_written(dir, path, path + ": the database's folder is read-only; nothing was changed");
    chmod(dir.path().c_str(), 0755);
}

// A run that the device cannot hold is refused before it is created, whichever way it starts
// (the GUI's queue and `study` call run_experiment without the CLI's own check).
TEST(HostileInputs, AnExperimentTooLargeForTheDeviceLeavesNoRunBehind) {
    test::TempDir dir;
    write_experiment(dir, {{"sizes", {{"S", {{"num_layers", 100000}}}}}});
    const ExperimentSpec spec = ExperimentSpec::load(dir.file("experiment.json"));
    Store store(dir.file("ws.db"));
    RunOptions options;
    options.device = "cpu";
    try {
        run_experiment(spec, store, options, TrainerHooks{});
        ADD_FAILURE() << "the run started";
    } catch (const std::invalid_argument& error) {
        EXPECT_NE(std::string(error.what()).find("field 'sizes.S': stage S at batch_size 8"), std::string::npos) << error.what();
    }
    EXPECT_TRUE(store.summaries().empty());
    EXPECT_FALSE(std::filesystem::exists(dir.file("runs")));
}

TEST(HostileInputs, ShowListsTheCheckpointsOnDisk) {
    test::TempDir dir;
    Store store(dir.file("ws.db"));
    RunRecord run;
    run.name = "B", run.pipeline = "B", run.status = RunStatus::done, run.directory = dir.file("runs/B");
    const int64_t id = store.create_run(run);
    const std::string run_folder = dir.file("runs/B/");
    for (const auto& [step, kind] : std::vector<std::pair<int64_t, CheckpointKind>>{{10, CheckpointKind::interval},
                                                                                  {20, CheckpointKind::interval},
                                                                                  {30, CheckpointKind::interval},
                                                                                  {40, CheckpointKind::stage_end},
                                                                                  {50, CheckpointKind::final}}) {
        store.add_checkpoint({id, 0, step, run_folder + "step-" + std::to_string(step), kind});
    }
    // Pruning kept the interval checkpoint at step 30; the final one is there; the stage end was deleted by hand.
    for (const int step : {30, 50}) std::filesystem::create_directories(run_folder + "step-" + std::to_string(step));

    const test::CliResult show = run_cli_in(dir, "show B --db ws.db");
    EXPECT_EQ(show.exit_code, 0) << show.output;
    EXPECT_EQ(show.output.find("step-10"), std::string::npos) << show.output;
    EXPECT_EQ(show.output.find("step-20"), std::string::npos) << show.output;
    EXPECT_NE(show.output.find("checkpoint interval at step 30: " + run_folder + "step-30\n"), std::string::npos) << show.output;
    EXPECT_NE(show.output.find("checkpoint stage-end at step 40: " + run_folder + "step-40 (missing)\n"), std::string::npos)
        << show.output;
    EXPECT_NE(show.output.find("checkpoint final at step 50: " + run_folder + "step-50\n"), std::string::npos) << show.output;
    EXPECT_NE(show.output.find("checkpoint 2 earlier interval checkpoints pruned (keep_checkpoints)"), std::string::npos)
        << show.output;
}

TEST(HostileInputs, AFolderOrAMissingFileGivenForAFileIsNamedAsSuch) {
    test::TempDir dir;
    std::filesystem::create_directories(dir.file("folder"));
    const std::string folder = dir.file("folder");
    expect_evaluate_refuses("ext", "korquad_dev.json", folder, folder + ": is a folder, not a file");
    expect_evaluate_refuses("sum", "summaries_dev.jsonl", folder, folder + ": is a folder, not a file");
    expect_evaluate_refuses("ext", "korquad_dev.json", dir.file("none.json"), dir.file("none.json") + ": no such file");
    for (const std::string command : {"import-results --csv folder --db ws.db", "run folder --db ws.db --dry-run",
                                      "evaluate --task nli --data folder --predictions none.json"}) {
        const test::CliResult result = run_cli_in(dir, command);
        EXPECT_EQ(result.exit_code, 1) << command << "\n" << result.output;
        EXPECT_NE(result.output.find("folder: is a folder, not a file"), std::string::npos) << command << "\n" << result.output;
    }
    EXPECT_FALSE(std::filesystem::exists(dir.file("ws.db")));
}

}  // namespace
}  // namespace gs
