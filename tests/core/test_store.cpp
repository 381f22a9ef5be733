// The SQLite store: records round-trip, the summary row follows the curves, rows are read by column
// name, bad files are refused without being touched, databases of every older schema version
// upgrade with their rows, concurrent writers lose nothing, a killed writer corrupts nothing.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include <sqlite3.h>

#include "core/io/files.h"
#include "core/store/store.h"
#include "test_support.h"

namespace gs {
namespace {

RunRecord run_named(const std::string& name) {
    RunRecord run;
    run.name = name;
    run.pipeline = "T_d_S";
    run.status = RunStatus::running;
    run.device = "cpu";
    run.seed = 7;
    return run;
}

MetricRow metric(int64_t run, int64_t step, std::optional<double> train, std::optional<double> valid = std::nullopt) {
    MetricRow m;
    m.run_id = run, m.step = step, m.tokens = step * 100, m.flops = step * 1e9, m.wall_seconds = step * 0.5;
    m.train_loss = train, m.valid_loss = valid, m.learning_rate = 1e-3;
    return m;
}

TEST(Store, RecordsRoundTripAndTheSummaryFollowsTheCurves) {
    test::TempDir dir;
    Store store(dir.file("workspace.db"));
    const int64_t experiment = store.add_experiment("cpu-study", R"({"pipeline": "T_d_S"})");
    EXPECT_EQ(store.add_experiment("again", R"({"pipeline": "T_d_S"})"), experiment);  // same content
    EXPECT_NE(store.add_experiment("other", R"({"pipeline": "S_a_B"})"), experiment);
    EXPECT_EQ(store.experiment_json(experiment), R"({"pipeline": "T_d_S"})");

    RunRecord record = run_named("T_d_S-1");
    record.experiment_id = experiment;
    const int64_t run = store.create_run(record);
    store.add_stage({run, 0, "T", "{}", "1", 1000, 0, std::nullopt});
    store.add_stage({run, 1, "S", "{}", "2", 2000, 40, std::nullopt});
    store.end_stage(run, 0, 40);
    store.add_metrics({metric(run, 10, 5.0), metric(run, 20, 4.0, 4.5), metric(run, 30, 3.5)});
    store.add_metrics({metric(run, 40, 3.0, 3.2), metric(run, 50, 3.1, 3.4)});
    GrowthEventRecord event;
    event.run_id = run, event.stage_index = 1, event.step = 40, event.op = "d";
    event.valid_loss_before = 3.2, event.valid_loss_after = 3.9, event.probe_max_logit_difference = 1.5;
    store.add_growth_event(event);
    store.add_checkpoint({run, 0, 40, "/runs/T_d_S-1/step-40", CheckpointKind::stage_end});
    store.add_result({run, "klue-nli", "accuracy", 66.6, "{}"});
    store.set_run_status(run, RunStatus::done);

    const auto found = store.find_run("T_d_S-1");
    ASSERT_TRUE(found);
    EXPECT_EQ(found->status, RunStatus::done);
    EXPECT_FALSE(found->ended_at.empty());
    EXPECT_EQ(store.find_run(std::to_string(run))->name, "T_d_S-1");
    EXPECT_FALSE(store.find_run("nope"));

    const auto stages = store.stages(run);
    ASSERT_EQ(stages.size(), 2u);
    EXPECT_EQ(stages[0].end_step, 40);
    EXPECT_FALSE(stages[1].end_step);
    const auto curve = store.metrics(run);
    ASSERT_EQ(curve.size(), 5u);
    EXPECT_FALSE(curve[0].valid_loss);
    EXPECT_EQ(*curve[1].valid_loss, 4.5);
    EXPECT_EQ(store.growth_events(run).at(0).valid_loss_after, 3.9);
    EXPECT_EQ(store.checkpoints(run).at(0).path, "/runs/T_d_S-1/step-40");

    const auto rows = store.summaries();
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].step, 50);
    EXPECT_EQ(*rows[0].train_loss, 3.1);
    EXPECT_EQ(*rows[0].valid_loss, 3.4);       // the latest
    EXPECT_EQ(*rows[0].best_valid_loss, 3.2);  // the lowest
    EXPECT_EQ(rows[0].results.at("klue-nli/accuracy"), 66.6);
}

TEST(Store, RewindDropsWhatCameAfterTheCheckpoint) {
    test::TempDir dir;
    Store store(dir.file("workspace.db"));
    const int64_t run = store.create_run(run_named("r"));
    store.add_metrics({metric(run, 10, 5.0, 4.0), metric(run, 20, 4.0, 3.0), metric(run, 30, 3.0, 2.5)});
    store.add_checkpoint({run, 0, 20, "a", CheckpointKind::interval});
    store.add_checkpoint({run, 0, 30, "b", CheckpointKind::interval});
    store.rewind_run(run, 20);
    EXPECT_EQ(store.metrics(run).size(), 2u);
    EXPECT_EQ(store.checkpoints(run).size(), 1u);
    const auto row = store.summaries().at(0);
    EXPECT_EQ(row.step, 20);
    EXPECT_EQ(*row.valid_loss, 3.0);
    EXPECT_EQ(*row.best_valid_loss, 3.0);
    store.add_metrics({metric(run, 30, 2.9, 2.6)});
    EXPECT_EQ(*store.summaries().at(0).best_valid_loss, 2.6);
}

TEST(Store, RunNamesAreUnique) {
    test::TempDir dir;
    Store store(dir.file("workspace.db"));
    store.create_run(run_named("B"));
    try {
        store.create_run(run_named("B"));
        FAIL();
    } catch (const StoreError& error) {
        EXPECT_NE(std::string(error.what()).find("a run named 'B' exists already"), std::string::npos) << error.what();
    }
}

TEST(Store, BadFilesAreRefusedAndLeftAsTheyWere) {
    test::TempDir dir;
    const std::string text_file = dir.file("notes.db");
    write_file_atomically(text_file, std::string(4096, 'x'));
    EXPECT_THROW(Store{text_file}, StoreError);
    EXPECT_EQ(read_text_file(text_file), std::string(4096, 'x'));

    const std::string newer = dir.file("newer.db");
    {
        Store store(newer);
        store.create_run(run_named("kept"));
    }
    sqlite3* raw = nullptr;
    sqlite3_open(newer.c_str(), &raw);
    sqlite3_exec(raw, "PRAGMA user_version = 99", nullptr, nullptr, nullptr);
    sqlite3_close(raw);
    try {
        Store store(newer);
        FAIL();
    } catch (const StoreError& error) {
        EXPECT_NE(std::string(error.what()).find("schema version 99 is newer"), std::string::npos) << error.what();
    }

    const std::string read_only = dir.file("read-only.db");
    {
        Store store(read_only);
        store.create_run(run_named("kept"));
    }
    chmod(read_only.c_str(), 0444);
    try {
        Store store(read_only);
        FAIL();
    } catch (const StoreError& error) {
        EXPECT_EQ(std::string(error.what()), read_only + ": the database is read-only; nothing was changed");
    }
    chmod(read_only.c_str(), 0644);
    EXPECT_TRUE(Store(read_only).find_run("kept"));
}

TEST(Store, RowsAreReadByColumnName) {
    test::TempDir dir;
    SqlDatabase db(dir.file("ws.db"), /*create=*/true);
    SqlStatement statement = db.prepare("SELECT 'x' AS letter, 7 AS number, NULL AS empty");
    ASSERT_TRUE(statement.step());
    EXPECT_EQ(statement.integer("number"), 7);
    EXPECT_EQ(statement.text("letter"), "x");
    EXPECT_TRUE(statement.is_null("empty"));
    EXPECT_EQ(statement.optional_real("empty"), std::nullopt);
    try {
        statement.integer("numbers");
        FAIL();
    } catch (const StoreError& error) {
        EXPECT_EQ(std::string(error.what()),
                  dir.file("ws.db") + ": no column 'numbers' in 'SELECT 'x' AS letter, 7 AS number, NULL AS empty'");
    }
}

TEST(Store, StatusesAndKindsAreStoredAsTheirWords) {
    test::TempDir dir;
    const std::string path = dir.file("ws.db");
    Store store(path);
    const int64_t run = store.create_run(run_named("S"));
    store.add_checkpoint({run, 0, 40, "/runs/S/step-40", CheckpointKind::stage_end});
    store.set_run_status(run, RunStatus::cancelled);
    SqlDatabase raw(path, /*create=*/false);
    SqlStatement words = raw.prepare(
        "SELECT runs.status AS status, checkpoints.kind AS kind FROM runs JOIN checkpoints ON run_id = runs.id");
    ASSERT_TRUE(words.step());
    EXPECT_EQ(words.text("status"), "cancelled");
    EXPECT_EQ(words.text("kind"), "stage-end");

    raw.execute("UPDATE runs SET status = 'exploded'");
    try {
        store.find_run("S");
        FAIL();
    } catch (const StoreError& error) {
        EXPECT_EQ(std::string(error.what()),
                  path + ": run 'S': unknown run status 'exploded' (expected queued, running, paused, done, failed, "
                         "cancelled, interrupted)");
    }
}

// A workspace of schema version `version` (1 to 3) as the code of that version left it: version 3
// as sqlite3 dumped it (tests/data/store/workspace-v3.sql, whose upgrade is checked with the
// scores' provenance in test_score_provenance.cpp), taken back one migration at a time.
std::string old_workspace(const test::TempDir& dir, int version) {
    const std::string path = dir.file("ws.db");
    SqlDatabase db(path, /*create=*/true);
    db.execute(read_text_file(test::data_path("store/workspace-v3.sql")));
    if (version <= 2) db.execute("DROP TABLE cluster_jobs; PRAGMA user_version = 2");
    if (version <= 1) {  // imported results were one row per label and metric
        db.execute(
            "DROP TABLE external_results; CREATE TABLE external_results (id INTEGER PRIMARY KEY, label TEXT NOT NULL, "
            "source TEXT, metric TEXT NOT NULL, value REAL NOT NULL); "
            "INSERT INTO external_results VALUES (1, 'B', 'Table 2', 'klue-nli/accuracy', 72.5); PRAGMA user_version = 1");
    }
    EXPECT_EQ(Store(path, SqlAccess::read_only).file_version(), version);
    return path;
}

// The runs, curves, checkpoints and scores every old workspace holds, read by the current Store.
void expect_rows_of_old_workspace(Store& store) {
    EXPECT_EQ(store.file_version(), Store::schema_version());
    const auto s = store.find_run("S-1"), b = store.find_run("B-1");
    ASSERT_TRUE(s && b);
    EXPECT_EQ(s->status, RunStatus::done);
    EXPECT_EQ(s->seed, 42);
    EXPECT_EQ(s->ended_at, "2024-05-01T12:00:00Z");
    EXPECT_EQ(store.experiment_json(s->experiment_id), R"({"name": "S"})");
    EXPECT_EQ(store.stages(b->id).at(0).budget, "3");
    EXPECT_EQ(store.metrics(s->id).size(), 2u);
    const std::vector<CheckpointRecord> checkpoints = store.checkpoints(s->id);
    ASSERT_EQ(checkpoints.size(), 1u);
    EXPECT_EQ(checkpoints[0].path, "/runs/S-1/final");
    EXPECT_EQ(checkpoints[0].kind, CheckpointKind::final);
    const std::vector<ResultRecord> results = store.results(s->id);
    ASSERT_EQ(results.size(), 3u);
    EXPECT_EQ(results[2].task + "/" + results[2].metric, "korquad-ext/f1");
    EXPECT_EQ(results[2].value, 68.75);
    for (const ResultRecord& r : results) EXPECT_EQ(r.provenance_json, "");  // the column added in version 4
    const std::vector<RunSummary> summaries = store.summaries();
    ASSERT_EQ(summaries.size(), 2u);
    EXPECT_EQ(summaries[1].run.name, "B-1");
    EXPECT_EQ(summaries[1].step, 300);
    EXPECT_EQ(summaries[0].results.at("klue-nli/accuracy"), 71.25);
    // The tables added since are there, empty, and take rows.
    EXPECT_TRUE(store.cluster_jobs().empty());
    ClusterJobRecord job;
    job.run_name = "S-1", job.job_id = "9", job.script = "s.sbatch", job.database = "job.db", job.state = "submitted";
    store.add_cluster_job(job);
    EXPECT_EQ(store.cluster_jobs().at(0).job_id, "9");
}

TEST(Store, AVersion1WorkspaceUpgradesWithItsRunsAndDropsTheOldImportedRows) {
    test::TempDir dir;
    Store store(old_workspace(dir, 1));
    expect_rows_of_old_workspace(store);
    // Version 2 replaced the imported results' table (one row per metric) by one row per model:
    // the old rows are gone, to be imported again.
    EXPECT_TRUE(store.external_results().empty());
}

TEST(Store, AVersion2WorkspaceUpgradesWithEveryRow) {
    test::TempDir dir;
    Store store(old_workspace(dir, 2));
    expect_rows_of_old_workspace(store);
    ASSERT_EQ(store.external_results().size(), 1u);
    EXPECT_EQ(store.external_results()[0].klue_nli_accuracy, 72.5);
    EXPECT_EQ(store.external_results()[0].model, "B");
}

TEST(Store, ConcurrentWritersLoseNoRows) {
    test::TempDir dir;
    const std::string path = dir.file("workspace.db");
    int64_t run_a = 0, run_b = 0;
    {
        Store store(path);
        run_a = store.create_run(run_named("a"));
        run_b = store.create_run(run_named("b"));
    }
    auto writer = [&](int64_t run) {
        Store store(path);  // its own connection, as another process would have
        for (int batch = 0; batch < 100; ++batch) {
            std::vector<MetricRow> rows;
            for (int k = 0; k < 5; ++k) rows.push_back(metric(run, batch * 5 + k, 1.0));
            store.add_metrics(rows);
        }
    };
    std::thread first(writer, run_a), second(writer, run_b);
    Store reader(path);
    for (int i = 0; i < 20; ++i) reader.summaries();  // the GUI reads meanwhile
    first.join();
    second.join();
    EXPECT_EQ(reader.metrics(run_a).size(), 500u);
    EXPECT_EQ(reader.metrics(run_b).size(), 500u);
}

// Several connections creating one new database at once (a run and a viewer, two ranks' first
// opens) each find the schema made once, whoever made it.
TEST(Store, ConnectionsCreatingOneNewDatabaseTogetherAllOpenIt) {
    for (int attempt = 0; attempt < 20; ++attempt) {
        test::TempDir dir;
        const std::string path = dir.file("new.db");
        std::vector<std::string> errors(4);
        std::vector<std::thread> openers;
        for (size_t i = 0; i < errors.size(); ++i) {
            openers.emplace_back([&, i] {
                try {
                    Store store(path);
                    store.create_run(run_named("run" + std::to_string(i)));
                } catch (const std::exception& error) {
                    errors[i] = error.what();
                }
            });
        }
        for (auto& opener : openers) opener.join();
        ASSERT_EQ(errors, std::vector<std::string>(4)) << "attempt " << attempt;
        Store store(path);
        EXPECT_EQ(store.file_version(), Store::schema_version());
        EXPECT_EQ(store.summaries().size(), 4u);
    }
}

TEST(Store, AWriterKilledMidwayLeavesWholeTransactions) {
    test::TempDir dir;
    const std::string path = dir.file("workspace.db");
    int64_t run = 0;
    {
        Store store(path);
        run = store.create_run(run_named("killed"));
    }
    const pid_t child = fork();
    if (child == 0) {
        Store store(path);
        for (int batch = 0;; ++batch) {
            std::vector<MetricRow> rows;
            for (int k = 0; k < 50; ++k) rows.push_back(metric(run, batch * 50 + k, 1.0));
            store.add_metrics(rows);
        }
    }
    // Wait until some batches are in, then kill the writer mid-stream.
    Store reader(path);
    for (int i = 0; i < 200 && reader.metrics(run).size() < 500; ++i) usleep(10000);
    kill(child, SIGKILL);
    waitpid(child, nullptr, 0);
    Store after(path);
    const size_t rows = after.metrics(run).size();
    EXPECT_GE(rows, 500u);
    EXPECT_EQ(rows % 50, 0u);  // no half transaction
    sqlite3* raw = nullptr;
    sqlite3_open(path.c_str(), &raw);
    sqlite3_stmt* check = nullptr;
    sqlite3_prepare_v2(raw, "PRAGMA integrity_check", -1, &check, nullptr);
    ASSERT_EQ(sqlite3_step(check), SQLITE_ROW);
    EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(check, 0)), "ok");
    sqlite3_finalize(check);
    sqlite3_close(raw);
}

}  // namespace
}  // namespace gs
