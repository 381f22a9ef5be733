// The learning curves' model without any widget: a workspace written step by step while the
// model syncs, rewound runs read again, new runs appearing, the curves and reach figures drawn
// from what was read, and a database that goes missing, is locked or is not a database keeping
// what was read until it can be read again.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/analysis/curves_model.h"
#include "core/store/sqlite.h"
#include "core/store/store.h"
#include "test_support.h"

namespace gs {
namespace {

// Step s: training loss 5 - 0.01 s, validation every tenth step at 5.1 - 0.01 s.
MetricRow curve_row(int64_t run, int64_t step, int64_t stage = 0) {
    MetricRow m;
    m.run_id = run, m.stage_index = stage, m.step = step, m.tokens = step * 100, m.flops = step * 1e9;
    m.wall_seconds = step * 36.0;
    m.train_loss = 5.0 - 0.01 * step;
    if (step % 10 == 0) m.valid_loss = 5.1 - 0.01 * step;
    return m;
}

std::vector<MetricRow> curve_rows(int64_t run, int64_t first, int64_t last, int64_t stage = 0) {
    std::vector<MetricRow> rows;
    for (int64_t step = first; step <= last; ++step) rows.push_back(curve_row(run, step, stage));
    return rows;
}

int64_t add_run(Store& store, const std::string& name, RunStatus status = RunStatus::running) {
    RunRecord run;
    run.name = name, run.pipeline = name;
    const int64_t id = store.create_run(run);
    store.set_run_status(id, status);
    store.add_stage({id, 0, name, "{}", "100", 1000, 0, std::nullopt});
    return id;
}

std::vector<int64_t> steps(const std::vector<MetricRow>& rows) {
    std::vector<int64_t> out;
    for (const MetricRow& row : rows) out.push_back(row.step);
    return out;
}

std::vector<int64_t> step_range(int64_t first, int64_t last) {
    std::vector<int64_t> out;
    for (int64_t step = first; step <= last; ++step) out.push_back(step);
    return out;
}

using Names = std::vector<std::string>;

TEST(CurvesModel, SyncReadsOnlyWhatIsNewAndSaysWhatChanged) {
    test::TempDir dir;
    const std::string path = dir.file("ws.db");
    Store store(path);
    const int64_t b = add_run(store, "B");
    store.add_metrics(curve_rows(b, 1, 20));

    CurvesModel model;
    model.open(path);
    CurvesChange change = model.sync();
    EXPECT_EQ(model.problem(), "");
    EXPECT_TRUE(change.changed);
    EXPECT_EQ(change.added, Names{"B"});
    EXPECT_TRUE(change.reread.empty());
    EXPECT_FALSE(change.problem_changed);
    ASSERT_NE(model.find("B"), nullptr);
    EXPECT_EQ(steps(model.find("B")->rows), step_range(1, 20));
    EXPECT_EQ(model.defaultReference(), "");  // B is still running

    change = model.sync();  // nothing new
    EXPECT_FALSE(change.changed);
    EXPECT_TRUE(change.added.empty());

    store.add_metrics(curve_rows(b, 21, 30));
    change = model.sync();
    EXPECT_TRUE(change.changed);
    EXPECT_TRUE(change.added.empty() && change.reread.empty());
    EXPECT_EQ(steps(model.find("B")->rows), step_range(1, 30));

    // Validation every tenth step, on the hours axis by default (36 s a step).
    const Curve validation = model.rawCurve("B");
    ASSERT_EQ(validation.size(), 3u);
    EXPECT_DOUBLE_EQ(validation[2].x, 30 * 36.0 / 3600);
    EXPECT_DOUBLE_EQ(validation[2].y, 5.1 - 0.3);

    store.set_run_status(b, RunStatus::done);
    change = model.sync();
    EXPECT_TRUE(change.changed);  // the status alone
    EXPECT_EQ(model.find("B")->status, RunStatus::done);
    EXPECT_EQ(model.defaultReference(), "B");  // the finished Base run

    const int64_t s = add_run(store, "S_d_B");
    store.add_metrics(curve_rows(s, 1, 5));
    store.add_metrics(curve_rows(b, 31, 32));  // B again, after S's rows
    change = model.sync();
    EXPECT_EQ(change.added, Names{"S_d_B"});
    EXPECT_EQ(steps(model.find("S_d_B")->rows), step_range(1, 5));
    EXPECT_EQ(steps(model.find("B")->rows), step_range(1, 32));
}

TEST(CurvesModel, ARewoundRunIsReadAgainWhole) {
    test::TempDir dir;
    const std::string path = dir.file("ws.db");
    Store store(path);
    const int64_t b = add_run(store, "B");
    const int64_t other = add_run(store, "S");
    store.add_metrics(curve_rows(b, 1, 30));
    store.add_metrics(curve_rows(other, 1, 10));
    CurvesModel model;
    model.open(path);
    model.sync();

    // Resumed from its checkpoint at step 20, nothing written since.
    store.rewind_run(b, 20);
    CurvesChange change = model.sync();
    EXPECT_TRUE(change.changed);
    EXPECT_EQ(change.reread, Names{"B"});
    EXPECT_EQ(steps(model.find("B")->rows), step_range(1, 20));
    EXPECT_EQ(steps(model.find("S")->rows), step_range(1, 10));  // untouched

    // Resumed again from step 15, and already past the old end when the model looks.
    store.rewind_run(b, 15);
    store.add_metrics(curve_rows(b, 16, 25));
    store.add_metrics(curve_rows(other, 11, 12));
    change = model.sync();
    EXPECT_EQ(change.reread, Names{"B"});
    EXPECT_EQ(steps(model.find("B")->rows), step_range(1, 25));
    EXPECT_EQ(steps(model.find("S")->rows), step_range(1, 12));

    store.add_metrics(curve_rows(b, 26, 27));
    change = model.sync();
    EXPECT_TRUE(change.reread.empty());
    EXPECT_EQ(steps(model.find("B")->rows), step_range(1, 27));
}

TEST(CurvesModel, StageCurvesFollowTheRowsAndTheSettings) {
    test::TempDir dir;
    const std::string path = dir.file("ws.db");
    Store store(path);
    const int64_t b = add_run(store, "B", RunStatus::done);
    store.add_metrics(curve_rows(b, 1, 100));
    const int64_t g = add_run(store, "S_d_B");
    store.add_metrics(curve_rows(g, 1, 40, 0));
    store.add_metrics(curve_rows(g, 41, 60, 1));
    CurvesModel model;
    model.open(path);
    model.sync();
    model.settings().axis = CurveAxis::step;

    const auto& stages = model.stageCurves("S_d_B");
    ASSERT_EQ(stages.size(), 2u);
    EXPECT_EQ(stages.at(1).shown.size(), 2u);  // validation at steps 50 and 60
    EXPECT_DOUBLE_EQ(stages.at(1).shown.back().x, 60);
    model.settings().align_to_stage_start = true;
    EXPECT_DOUBLE_EQ(model.stageCurves("S_d_B").at(1).shown.back().x, 19);  // stage 1's first row is step 41's
    model.settings().align_to_stage_start = false;

    store.add_metrics(curve_rows(g, 61, 70, 1));
    model.sync();
    EXPECT_DOUBLE_EQ(model.stageCurves("S_d_B").at(1).shown.back().x, 70);

    model.settings().kind = CurveKind::training;
    EXPECT_EQ(model.stageCurves("S_d_B").at(0).raw.size(), 40u);  // fewer than the buckets: all kept
    model.settings().smoothing = 0.5;
    const Curve smoothed = model.shownCurve("B");
    EXPECT_DOUBLE_EQ(smoothed[1].y, (0.25 * 4.99 + 0.5 * 4.98) / 0.75);

    // B ends at 4.1 (step 100); S_d_B's validation reaches 4.4 at step 70, not B's loss.
    const ReachTable table = model.reachTable("B", {"B", "S_d_B", "unknown"});
    EXPECT_TRUE(table.reference_known && table.reference_has_validation);
    EXPECT_DOUBLE_EQ(table.target_loss, 4.1);
    EXPECT_DOUBLE_EQ(table.reference_total, 100);
    ASSERT_EQ(table.runs.size(), 1u);
    EXPECT_EQ(table.runs[0].run, "S_d_B");
    EXPECT_TRUE(table.runs[0].has_validation);
    EXPECT_FALSE(table.runs[0].reach);
    store.add_metrics(curve_rows(g, 71, 100, 1));
    model.sync();
    const ReachTable reached = model.reachTable("B", {"S_d_B"});
    ASSERT_TRUE(reached.runs[0].reach);
    EXPECT_DOUBLE_EQ(*reached.runs[0].reach, 100);
    EXPECT_FALSE(model.reachTable("nobody", {"B"}).reference_known);
}

// The workspace made and closed, so that its file alone holds everything (no WAL beside it).
std::string closed_workspace(const test::TempDir& dir, int64_t last_step) {
    const std::string path = dir.file("ws.db");
    Store store(path);
    store.add_metrics(curve_rows(add_run(store, "B"), 1, last_step));
    return path;
}

TEST(CurvesModel, AMissingDatabaseKeepsWhatWasReadUntilItIsBack) {
    test::TempDir dir;
    const std::string path = closed_workspace(dir, 10);
    const std::string copy = dir.file("copy.db");
    std::filesystem::copy_file(path, copy);
    CurvesModel model;
    model.open(path);
    model.sync();

    std::filesystem::remove(path);
    CurvesChange change = model.sync();
    EXPECT_TRUE(change.problem_changed);
    EXPECT_FALSE(change.changed);
    EXPECT_EQ(model.problem(), path + ": no such database file");
    EXPECT_EQ(model.find("B")->rows.size(), 10u);
    EXPECT_FALSE(model.sync().problem_changed);  // still missing
    EXPECT_FALSE(std::filesystem::exists(path));  // never created by a reader

    // Back, with more rows than before: another file, so every run is read whole.
    std::filesystem::copy_file(copy, path);
    {
        Store store(path);
        store.add_metrics(curve_rows(store.find_run("B")->id, 11, 15));
    }
    change = model.sync();
    EXPECT_TRUE(change.problem_changed);
    EXPECT_EQ(model.problem(), "");
    EXPECT_EQ(change.reread, Names{"B"});
    EXPECT_EQ(steps(model.find("B")->rows), step_range(1, 15));
}

// Another file renamed over the workspace (a restored backup) while the model has it open: the
// open connection would go on reading the old file, so the new one is opened and read whole.
TEST(CurvesModel, AFileReplacedWhileOpenIsReadWhole) {
    test::TempDir dir;
    const std::string path = closed_workspace(dir, 10);
    const std::string backup = dir.file("backup.db");
    {
        Store store(backup);
        store.add_metrics(curve_rows(add_run(store, "B"), 1, 14, /*stage=*/1));  // B as well, past step 10
    }
    CurvesModel model;
    model.open(path);
    model.sync();
    std::filesystem::rename(backup, path);
    const CurvesChange change = model.sync();
    EXPECT_EQ(model.problem(), "");
    EXPECT_EQ(change.reread, Names{"B"});
    EXPECT_EQ(steps(model.find("B")->rows), step_range(1, 14));
    EXPECT_EQ(model.find("B")->rows.front().stage_index, 1);  // not the old file's rows with new ones after them
}

TEST(CurvesModel, ALockedOrCorruptDatabaseIsNamedAndReadAgainLater) {
    test::TempDir dir;
    const std::string path = closed_workspace(dir, 10);
    CurvesModel model;
    model.open(path);
    {
        // A writer that holds the file exclusively.
        SqlDatabase holder(path, false);
        holder.execute("PRAGMA locking_mode = EXCLUSIVE");
        holder.execute("BEGIN EXCLUSIVE");
        const CurvesChange change = model.sync();
        EXPECT_TRUE(change.problem_changed);
        EXPECT_NE(model.problem().find(path), std::string::npos) << model.problem();
        EXPECT_NE(model.problem().find("locked"), std::string::npos) << model.problem();
        EXPECT_TRUE(model.runs().empty());
    }
    CurvesChange change = model.sync();  // the lock is gone
    EXPECT_TRUE(change.problem_changed && change.changed);
    EXPECT_EQ(model.problem(), "");
    EXPECT_EQ(model.find("B")->rows.size(), 10u);

    // Replaced by something that is not a database.
    std::filesystem::remove(path);
    std::ofstream(path) << std::string(4096, 'x');
    model.sync();
    EXPECT_NE(model.problem().find(path), std::string::npos) << model.problem();
    EXPECT_NE(model.problem().find("not a database"), std::string::npos) << model.problem();
    EXPECT_EQ(model.find("B")->rows.size(), 10u);
}

}  // namespace
}  // namespace gs
