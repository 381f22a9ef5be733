// One process owns a run at a time: a second `resume` of a run that trains, or of one a `run`
// still trains, is refused naming the owner; a run whose process was killed (SIGKILL, as the
// out-of-memory killer does) lists as interrupted and resumes; the same experiment started twice
// at once gets two names.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "cli_test_support.h"
#include "core/runtime/runtime_info.h"
#include "core/store/results_table.h"
#include "core/store/store.h"
#include "core/train/run_lock.h"
#include "test_support.h"

namespace gs {
namespace {

namespace fs = std::filesystem;

test::CliResult cli(const std::string& arguments, const fs::path& folder) {
    return test::run_growthstudio_cli(arguments, folder.string());
}

fs::path experiment_folder(const test::TempDir& dir) {
    fs::copy_file(test::data_path("experiments/tiny_T_d_S.json"), dir.path() / "experiment.json");
    return dir.path();
}

// The steps whose training loss the run recorded, in order.
std::vector<int64_t> trained_steps(const std::string& database, const std::string& run_name) {
    Store store(database);
    std::vector<int64_t> steps;
    const auto run = store.find_run(run_name);
    if (!run) return steps;
    for (const auto& row : store.metrics(run->id)) {
        if (row.train_loss) steps.push_back(row.step);
    }
    return steps;
}

std::vector<int64_t> steps_1_to(int64_t last) {
    std::vector<int64_t> steps;
    for (int64_t step = 1; step <= last; ++step) steps.push_back(step);
    return steps;
}

// `growthstudio-cli run experiment.json --db ws.db` in `folder`, in the background.
pid_t start_run(const fs::path& folder) {
    const pid_t child = fork();
    if (child == 0) {
        if (chdir(folder.c_str()) != 0) _exit(100);
        execl(GS_CLI_PATH, GS_CLI_PATH, "run", "experiment.json", "--db", "ws.db", "--quiet", static_cast<char*>(nullptr));
        _exit(101);
    }
    return child;
}

// Waits (up to two minutes on a busy machine) until the run has trained `steps` steps.
size_t wait_for_steps(const std::string& database, size_t steps) {
    size_t seen = 0;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(2);
    while (seen < steps && std::chrono::steady_clock::now() < deadline) {
        usleep(5000);
        try {
            if (fs::exists(database)) seen = trained_steps(database, "tiny-T_d_S").size();
        } catch (const std::exception&) {  // the database may still be being created
        }
    }
    return seen;
}

TEST(RunOwnership, ALockIsHeldByOneOwnerWhoseNameItCarries) {
    test::TempDir dir;
    const fs::path folder = dir.path() / "run";
    EXPECT_FALSE(run_owner(folder));  // no lock file: nobody
    {
        const RunLock lock = RunLock::take(folder, "R");
        const auto owner = run_owner(folder);
        ASSERT_TRUE(owner);
        EXPECT_EQ(owner->pid, getpid());
        EXPECT_EQ(owner->host, host_name());
        EXPECT_FALSE(RunLock::try_take(folder));  // another taker, even in this process, is refused
        try {
            RunLock::take(folder, "R");
            ADD_FAILURE() << "a second owner took the run";
        } catch (const RunBusy& busy) {
            EXPECT_EQ(std::string(busy.what()), run_busy_message("R", *owner));
            EXPECT_NE(std::string(busy.what()).find("run 'R' is in use by pid " + std::to_string(getpid()) + " on "),
                      std::string::npos) << busy.what();
        }
    }
    EXPECT_FALSE(run_owner(folder));  // released with its owner; the file stays
    EXPECT_TRUE(fs::exists(folder / RunLock::kFileName));
    EXPECT_TRUE(RunLock::try_take(folder));
}

TEST(RunOwnership, ARunningRunWithoutALiveOwnerShowsInterrupted) {
    test::TempDir dir;
    RunRecord run;
    run.directory = (dir.path() / "run").string();
    run.status = RunStatus::running;
    EXPECT_EQ(live_run_status(run), RunStatus::interrupted);  // recorded before runs were locked: no lock file
    {
        const RunLock lock = RunLock::take(run.directory, "R");
        EXPECT_EQ(live_run_status(run), RunStatus::running);
    }
    EXPECT_EQ(live_run_status(run), RunStatus::interrupted);  // its owner is gone
    run.status = RunStatus::paused;
    EXPECT_EQ(live_run_status(run), RunStatus::paused);
}

TEST(RunOwnership, ATrainingRunRefusesASecondResumeAndAKilledOneResumes) {
    test::TempDir dir;
    const fs::path folder = experiment_folder(dir);
    const std::string database = (folder / "ws.db").string();
    const pid_t child = start_run(folder);
    const size_t seen = wait_for_steps(database, 10);
    kill(child, SIGSTOP);  // it keeps the run (and its lock) while the checks below run
    ASSERT_GE(seen, 10u);
    const std::vector<int64_t> before = trained_steps(database, "tiny-T_d_S");
    ASSERT_LT(before.size(), 80u) << "the run finished before it was stopped";

    const std::string owner = "pid " + std::to_string(child) + " on " + host_name();
    EXPECT_NE(cli("list --db ws.db", folder).output.find("running"), std::string::npos);
    const test::CliResult show = cli("show tiny-T_d_S --db ws.db", folder);
    EXPECT_NE(show.output.find("status     running (by " + owner + ")"), std::string::npos) << show.output;
    const test::CliResult second = cli("resume tiny-T_d_S --db ws.db --quiet", folder);
    EXPECT_EQ(second.exit_code, 1) << second.output;
    EXPECT_NE(second.output.find("run 'tiny-T_d_S' is in use by " + owner), std::string::npos) << second.output;
    EXPECT_EQ(trained_steps(database, "tiny-T_d_S"), before);  // the refused process wrote nothing
    EXPECT_EQ(Store(database).find_run("tiny-T_d_S")->status, RunStatus::running);

    kill(child, SIGKILL);
    waitpid(child, nullptr, 0);
    const test::CliResult list = cli("list --db ws.db", folder);
    EXPECT_NE(list.output.find("interrupted"), std::string::npos) << list.output;
    {
        Store store(database, SqlAccess::read_only);
        EXPECT_EQ(build_results_table(store).rows.at(0).status, RunStatus::interrupted);  // the results view and its CSV
    }
    EXPECT_EQ(Store(database).find_run("tiny-T_d_S")->status, RunStatus::running);  // the listing wrote nothing
    const test::CliResult resumed = cli("resume tiny-T_d_S --db ws.db --quiet", folder);
    ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
    EXPECT_EQ(trained_steps(database, "tiny-T_d_S"), steps_1_to(80));  // every step once
    EXPECT_EQ(Store(database).find_run("tiny-T_d_S")->status, RunStatus::done);
}

TEST(RunOwnership, TheSameExperimentStartedTwiceAtOnceGetsTwoNames) {
    test::TempDir dir;
    const fs::path folder = experiment_folder(dir);
    const std::string database = (folder / "ws.db").string();
    // Both name their run on start, before either prepares the data (which one prepares, the other awaits).
    const pid_t first = start_run(folder);
    const pid_t second = start_run(folder);
    int first_status = 0, second_status = 0;
    waitpid(first, &first_status, 0);
    waitpid(second, &second_status, 0);
    EXPECT_TRUE(WIFEXITED(first_status) && WEXITSTATUS(first_status) == 0);
    EXPECT_TRUE(WIFEXITED(second_status) && WEXITSTATUS(second_status) == 0);
    for (const std::string name : {"tiny-T_d_S", "tiny-T_d_S-2"}) {
        const auto run = Store(database).find_run(name);
        ASSERT_TRUE(run) << name;
        EXPECT_EQ(run->status, RunStatus::done) << name;
        EXPECT_EQ(run->directory, (folder / "runs" / name).string());
        EXPECT_EQ(trained_steps(database, name), steps_1_to(80)) << name;
    }
}

}  // namespace
}  // namespace gs
