// Following a cluster job's run in the job's own database: new rows arrive poll by poll, a
// rewound run is read again without duplicates, the file is never written, and a missing,
// locked, corrupt or too new database leaves what was read and says why.
#include <gtest/gtest.h>

#include <fstream>

#include "core/cluster/job_follower.h"
#include "core/cluster/slurm.h"
#include "core/io/files.h"
#include "core/store/sqlite.h"
#include "core/store/store.h"
#include "test_support.h"

namespace gs {
namespace {

// Step s of the job's run: training loss 6 - 0.1 s (+ `shift` after a rewind), validation
// every fifth step.
MetricRow job_row(int64_t run, int64_t step, double shift = 0) {
    MetricRow m;
    m.run_id = run, m.step = step, m.tokens = step * 512, m.flops = step * 1e10, m.wall_seconds = step * 2.0;
    m.train_loss = 6.0 - 0.1 * step + shift;
    if (step % 5 == 0) m.valid_loss = 6.2 - 0.1 * step + shift;
    return m;
}

std::vector<MetricRow> job_rows(int64_t run, int64_t first, int64_t last, double shift = 0) {
    std::vector<MetricRow> rows;
    for (int64_t step = first; step <= last; ++step) rows.push_back(job_row(run, step, shift));
    return rows;
}

// What the job itself writes: its run, stage 0 and the first `steps` rows.
int64_t start_job(const std::string& path, int64_t steps) {
    Store job(path);
    RunRecord run;
    run.name = "S", run.pipeline = "S", run.status = RunStatus::running;
    const int64_t id = job.create_run(run);
    job.add_stage({id, 0, "S", "{}", "40", 1000, 0, std::nullopt});
    job.add_metrics(job_rows(id, 1, steps));
    return id;
}

// The rows as steps and training losses, the way the test compares them.
std::vector<std::pair<int64_t, double>> losses(const std::vector<MetricRow>& rows) {
    std::vector<std::pair<int64_t, double>> out;
    for (const auto& row : rows) out.emplace_back(row.step, row.train_loss.value_or(-1));
    return out;
}

TEST(JobRunFollower, ReadsNewRowsPollByPoll) {
    test::TempDir dir;
    const std::string path = dir.file("S.db");
    const int64_t id = start_job(path, 12);
    JobRunFollower follower(path, "S");
    EXPECT_TRUE(follower.poll());
    EXPECT_EQ(follower.state(), "running");
    EXPECT_EQ(follower.problem(), "");
    EXPECT_EQ(follower.run().run.name, "S");
    ASSERT_EQ(follower.run().stages.size(), 1u);
    EXPECT_EQ(losses(follower.run().rows), losses(job_rows(id, 1, 12)));
    EXPECT_EQ(*follower.run().rows[9].valid_loss, 6.2 - 0.1 * 10);
    EXPECT_FALSE(follower.poll());  // nothing new

    {
        Store job(path);
        job.add_metrics(job_rows(id, 13, 20));
        job.end_stage(id, 0, 20);
        job.add_stage({id, 1, "B", "{}", "20", 3000, 20, std::nullopt});
        GrowthEventRecord event;
        event.run_id = id, event.stage_index = 1, event.step = 20, event.op = "a";
        job.add_growth_event(event);
    }
    EXPECT_TRUE(follower.poll());
    EXPECT_EQ(losses(follower.run().rows), losses(job_rows(id, 1, 20)));
    ASSERT_EQ(follower.run().growth.size(), 1u);
    EXPECT_EQ(follower.run().growth[0].op, "a");
    EXPECT_EQ(follower.run().stages.size(), 2u);

    {
        Store job(path);
        job.set_run_status(id, RunStatus::failed, "out of memory");
    }
    EXPECT_TRUE(follower.poll());
    EXPECT_EQ(follower.state(), "failed");
    EXPECT_EQ(follower.run().run.error, "out of memory");
}

// Another run in the same database (a dependent job keeps its source run there) is not mixed in.
TEST(JobRunFollower, ReadsOnlyItsRun) {
    test::TempDir dir;
    const std::string path = dir.file("S_a_B.db");
    const int64_t source = start_job(path, 5);
    RunRecord run;
    run.name = "S_a_B", run.pipeline = "S_a_B", run.status = RunStatus::running;
    Store job(path);
    const int64_t id = job.create_run(run);
    job.add_metrics(job_rows(id, 1, 3, 1.0));
    job.add_metrics(job_rows(source, 6, 7));
    JobRunFollower follower(path, "S_a_B");
    follower.poll();
    EXPECT_EQ(losses(follower.run().rows), losses(job_rows(id, 1, 3, 1.0)));
}

// A requeued job resumes from its checkpoint at step 8: the rows after it are dropped and written
// again (here with other losses); the follower holds each step once, with the new values.
TEST(JobRunFollower, ReadsARewoundRunAgain) {
    test::TempDir dir;
    const std::string path = dir.file("S.db");
    const int64_t id = start_job(path, 12);
    JobRunFollower follower(path, "S");
    follower.poll();
    {
        Store job(path);
        job.rewind_run(id, 8);
        job.add_metrics(job_rows(id, 9, 15, 0.5));
    }
    EXPECT_TRUE(follower.poll());
    std::vector<MetricRow> expected = job_rows(id, 1, 8);
    for (const auto& row : job_rows(id, 9, 15, 0.5)) expected.push_back(row);
    EXPECT_EQ(losses(follower.run().rows), losses(expected));
}

TEST(JobRunFollower, NeverWritesTheJobsDatabase) {
    test::TempDir dir;
    const std::string path = dir.file("S.db");
    start_job(path, 30);
    const std::string before = read_text_file(path);
    const auto modified = std::filesystem::last_write_time(path);
    JobRunFollower follower(path, "S");
    EXPECT_TRUE(follower.poll());
    EXPECT_EQ(follower.run().rows.size(), 30u);
    EXPECT_EQ(read_text_file(path), before);
    EXPECT_EQ(std::filesystem::last_write_time(path), modified);

    // A read-only Store creates nothing where there is no database.
    EXPECT_THROW(Store(dir.file("none.db"), SqlAccess::read_only), StoreError);
    EXPECT_FALSE(std::filesystem::exists(dir.file("none.db")));
}

TEST(JobRunFollower, AMissingOrEmptyDatabaseIsAStateNotAnError) {
    test::TempDir dir;
    const std::string path = dir.file("S.db");
    JobRunFollower follower(path, "S");
    EXPECT_TRUE(follower.poll());
    EXPECT_EQ(follower.state(), "waiting");
    EXPECT_EQ(follower.problem(), "");
    EXPECT_FALSE(follower.poll());  // still nothing
    std::ofstream{path};  // the job created the file, not the schema yet
    EXPECT_TRUE(follower.poll());
    EXPECT_EQ(follower.state(), "queued");
    EXPECT_EQ(follower.problem(), "");
    { Store job(path); }  // then the schema, not its run yet
    EXPECT_FALSE(follower.poll());
    EXPECT_EQ(follower.state(), "queued");
    EXPECT_EQ(follower.problem(), "");
    EXPECT_TRUE(follower.run().rows.empty());
}

TEST(JobRunFollower, ACorruptOrLockedDatabaseKeepsWhatWasRead) {
    test::TempDir dir;
    const std::string path = dir.file("S.db");
    start_job(path, 6);
    JobRunFollower follower(path, "S");
    follower.poll();
    {
        // A writer that holds the file exclusively (as a job in exclusive locking mode would).
        SqlDatabase holder(path, false);
        holder.execute("PRAGMA locking_mode = EXCLUSIVE");
        holder.execute("BEGIN EXCLUSIVE");
        EXPECT_TRUE(follower.poll());
        EXPECT_NE(follower.problem().find(path), std::string::npos) << follower.problem();
        EXPECT_NE(follower.problem().find("locked"), std::string::npos) << follower.problem();
        EXPECT_EQ(follower.state(), "running");
        EXPECT_EQ(follower.run().rows.size(), 6u);
    }
    EXPECT_TRUE(follower.poll());  // the lock is gone: read again
    EXPECT_EQ(follower.problem(), "");

    const std::string garbage = dir.file("garbage.db");
    std::ofstream(garbage) << std::string(4096, 'x');
    JobRunFollower corrupt(garbage, "S");
    EXPECT_TRUE(corrupt.poll());
    EXPECT_NE(corrupt.problem().find(garbage), std::string::npos);
    EXPECT_NE(corrupt.problem().find("not a database"), std::string::npos) << corrupt.problem();
    EXPECT_EQ(corrupt.state(), "");  // never read
    EXPECT_EQ(read_text_file(garbage), std::string(4096, 'x'));
}

TEST(JobRunFollower, ADatabaseFromANewerVersionIsNamed) {
    test::TempDir dir;
    const std::string path = dir.file("S.db");
    start_job(path, 3);
    SqlDatabase(path, false).execute("PRAGMA user_version = " + std::to_string(Store::schema_version() + 1));
    JobRunFollower follower(path, "S");
    follower.poll();
    EXPECT_NE(follower.problem().find(path + ": database schema version"), std::string::npos) << follower.problem();
}

// sync reads the jobs' databases the same way: a running job's file is left as it was, one without
// its schema yet is queued, and a corrupt one is named while the other jobs are still reported.
TEST(JobRunFollower, SyncOnlyReadsTheJobsDatabases) {
    test::TempDir dir;
    const std::string running = dir.file("S.db"), empty = dir.file("T.db"), corrupt = dir.file("X.db");
    const int64_t id = start_job(running, 9);
    std::ofstream{empty};
    std::ofstream(corrupt) << std::string(4096, 'x');
    Store workspace(dir.file("ws.db"));
    for (const auto& [name, database] : {std::pair{"S", running}, {"T", empty}, {"X", corrupt}}) {
        ClusterJobRecord job;
        job.run_name = name, job.job_id = name, job.script = name, job.database = database, job.state = "submitted";
        workspace.add_cluster_job(job);
    }
    const std::string before = read_text_file(running);
    auto statuses = sync_cluster_jobs(workspace);
    ASSERT_EQ(statuses.size(), 3u);
    EXPECT_EQ(statuses[0].state, "running");
    EXPECT_EQ(statuses[0].step, 9);
    EXPECT_EQ(statuses[1].state, "queued");
    EXPECT_EQ(statuses[2].state, "unreadable");
    EXPECT_NE(statuses[2].detail.find(corrupt + ": "), std::string::npos) << statuses[2].detail;
    EXPECT_EQ(read_text_file(running), before);
    EXPECT_EQ(std::filesystem::file_size(empty), 0u);  // no schema written into the job's file

    Store(running).set_run_status(id, RunStatus::done);
    statuses = sync_cluster_jobs(workspace);
    EXPECT_EQ(statuses[0].state, "merged");
    EXPECT_EQ(losses(workspace.metrics(workspace.find_run("S")->id)), losses(job_rows(id, 1, 9)));
}

// A job's run name comes back from the workspace's job list and from the job's own database,
// files anyone could have written: a name the run-name rule refuses is reported, never merged.
TEST(JobRunFollower, SyncAndMergeRefuseARunNameThatBreaksTheRule) {
    test::TempDir dir;
    const std::string path = dir.file("job.db");
    {
        Store job(path);
        RunRecord run;
        run.name = "../S", run.pipeline = "S", run.status = RunStatus::done;
        job.create_run(run);
    }
    Store workspace(dir.file("ws.db"));
    ClusterJobRecord record;
    record.run_name = "../S", record.job_id = "7", record.script = "S.sbatch", record.database = path;
    record.state = "submitted";
    workspace.add_cluster_job(record);
    const auto statuses = sync_cluster_jobs(workspace);
    ASSERT_EQ(statuses.size(), 1u);
    EXPECT_EQ(statuses[0].state, "unreadable");
    EXPECT_EQ(statuses[0].detail, "run name '../S' contains '/', which would make it a path");
    EXPECT_TRUE(workspace.summaries().empty());
    EXPECT_EQ(workspace.cluster_jobs()[0].state, "submitted");

    Store job(path, SqlAccess::read_only);
    try {
        merge_run(job, "1", workspace);  // a valid name that finds the run by its id
        FAIL() << "merged a run named '../S'";
    } catch (const std::invalid_argument& error) {
        EXPECT_EQ(std::string(error.what()), path + ": run name '../S' contains '/', which would make it a path");
    }
    EXPECT_TRUE(workspace.summaries().empty());
}

}  // namespace
}  // namespace gs
