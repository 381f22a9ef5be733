// Experiment sets on Slurm through growthstudio-cli submit and sync.
//
// A real single-node Slurm needs munge and the slurmctld and slurmd daemons running as root,
// which an ordinary user's CI does not have; ClusterSlurm.* runs against one when it answers
// (scripts/slurm-localhost.sh sets it up; CTest's cluster.* entries do so as root). The Cluster.*
// tests need none: `sbatch` is a stand-in on PATH that records its arguments and answers job
// ids as `sbatch --parsable` does, and the test plays the scheduler, running the generated
// scripts with bash in the order the afterok chain allows, so the scripts themselves train
// the runs and `sync` merges the jobs' databases.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <thread>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli_test_support.h"
#include "core/cluster/slurm.h"
#include "core/common/shell.h"
#include "core/distributed/communicator.h"
#include "core/io/files.h"
#include "core/store/sqlite.h"
#include "core/store/store.h"
#include "core/train/run_name.h"
#include "test_support.h"

namespace gs {
namespace {

namespace fs = std::filesystem;

// Whether a line of `text` matches `pattern` (columns separated by any spaces).
bool has_line(const std::string& text, const std::string& pattern) {
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (std::regex_match(line, std::regex(pattern))) return true;
    }
    return false;
}

// The tiny T_d_S experiment without dropout (its masks are drawn per process, so a run in two
// processes could not equal one in a single process).
nlohmann::json tiny_experiment() {
    nlohmann::json json = read_json_file(test::data_path("experiments/tiny_T_d_S.json"));
    json["sizes"]["T"]["dropout_rate"] = 0;
    json["sizes"]["S"]["dropout_rate"] = 0;
    json["validation"] = {{"interval_steps", 3}, {"batches", 2}};
    json["checkpoint_interval_steps"] = 3;
    return json;
}

// A two-run set: A trains T; B starts from A's finished T and grows it into S (T_init-d_S).
void write_set(const fs::path& folder) {
    fs::create_directories(folder);
    nlohmann::json a = tiny_experiment();
    nlohmann::json b = a;
    a["name"] = "A", a["pipeline"] = "T", a["budgets"] = "6steps";
    a["sizes"].erase("S");
    b["name"] = "B", b["pipeline"] = "T_init-d_S", b["budgets"] = "4steps", b["pretrained"] = {{"T", "A"}};
    write_file_atomically((folder / "a.json").string(), a.dump(1));
    write_file_atomically((folder / "b.json").string(), b.dump(1));
}

// sbatch's stand-in: logs its arguments, answers "ID;cluster" with ids from 101 up.
void write_fake_sbatch(const fs::path& bin, const fs::path& log) {
    fs::create_directories(bin);
    write_file_atomically((bin / "sbatch").string(),
                          "#!/bin/sh\necho \"$@\" >> '" + log.string() + "'\n"
                          "n=$(( $(wc -l < '" + log.string() + "') + 100 ))\necho \"$n;testcluster\"\n");
    fs::permissions(bin / "sbatch", fs::perms::owner_all);
}

class ScopedPath {
public:
    explicit ScopedPath(const fs::path& first) : saved_(std::getenv("PATH")) {
        setenv("PATH", (first.string() + ":" + saved_).c_str(), 1);
    }
    ~ScopedPath() { setenv("PATH", saved_.c_str(), 1); }

private:
    std::string saved_;
};

TEST(Cluster, SubmitChainsTheSetOnSlurmAndSyncMergesFinishedJobs) {
    test::TempDir dir;
    write_set(dir.path() / "set");
    const fs::path log = dir.path() / "sbatch.log";
    write_fake_sbatch(dir.path() / "bin", log);
    const fs::path workspace = dir.path() / "ws";
    ScopedPath path(dir.path() / "bin");

    // --dry-run: the scripts on stdout, nothing submitted or recorded.
    auto r = test::run_growthstudio_cli("submit set --slurm --db ws/ws.db --time 00:30 --dry-run", dir.path().string());
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("sbatch --parsable --dependency=afterok:<job of A>"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("#SBATCH --time=00:30:00"), std::string::npos) << r.output;
    EXPECT_FALSE(fs::exists(log));

    r = test::run_growthstudio_cli("submit set --slurm --db ws/ws.db --time 00:30 --partition debug --gpus-per-run 0",
                                   dir.path().string());
    ASSERT_EQ(r.exit_code, 0) << r.output;
    const fs::path a_script = workspace / "slurm" / "A.sbatch", b_script = workspace / "slurm" / "B.sbatch";
    EXPECT_EQ(read_text_file(log.string()), "--parsable " + a_script.string() + "\n--parsable --dependency=afterok:101 " +
                                  b_script.string() + "\n");
    const std::string script = read_text_file(b_script.string());
    for (const char* line : {"#!/bin/bash\n", "#SBATCH --job-name=gs-B\n", "#SBATCH --partition=debug\n",
                             "#SBATCH --time=00:30:00\n", "#SBATCH --nodes=1\n"}) {
        EXPECT_NE(script.find(line), std::string::npos) << line << "\n" << script;
    }
    EXPECT_EQ(script.find("--gres"), std::string::npos);  // no GPU asked for
    {
        Store store((workspace / "ws.db").string());
        const auto jobs = store.cluster_jobs();
        ASSERT_EQ(jobs.size(), 2u);
        EXPECT_EQ(jobs[0].run_name, "A");
        EXPECT_EQ(jobs[0].job_id, "101");
        EXPECT_EQ(jobs[1].job_id, "102");
        EXPECT_EQ(jobs[1].depends_on, "101");
        EXPECT_EQ(jobs[1].database, (workspace / "runs" / "B" / "B.db").string());
    }

    // The scheduler runs A; sync merges it while B still waits.
    ASSERT_EQ(std::system(("bash '" + a_script.string() + "' > '" + dir.file("a.out") + "' 2>&1").c_str()), 0)
        << read_text_file(dir.file("a.out"));
    r = test::run_growthstudio_cli("sync --db ws/ws.db", dir.path().string());
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_TRUE(has_line(r.output, R"(101\s+A\s+merged\s+6)")) << r.output;
    EXPECT_TRUE(has_line(r.output, R"(102\s+B\s+waiting\s+0)")) << r.output;

    // afterok satisfied: B starts from A's final checkpoint, found in A's job database.
    ASSERT_EQ(std::system(("bash '" + b_script.string() + "' > '" + dir.file("b.out") + "' 2>&1").c_str()), 0)
        << read_text_file(dir.file("b.out"));
    // The job ran long before this merge (times a merge-time stamp could not match by chance).
    SqlDatabase((workspace / "runs" / "B" / "B.db").string(), false)
        .execute("UPDATE runs SET started_at = '2026-01-02T03:04:05Z', ended_at = '2026-01-02T04:05:06Z'");
    {  // B fine-tuned where it ran, before the merge: its scores come along.
        Store job((workspace / "runs" / "B" / "B.db").string(), SqlAccess::read_write);
        const int64_t job_run = job.find_run("B")->id;
        job.add_result({job_run, "klue-nli", "accuracy", 71.25, R"({"epochs":3})"});
        job.add_result({job_run, "korquad-ext", "f1", 42.5, ""});
    }
    r = test::run_growthstudio_cli("sync --db ws/ws.db", dir.path().string());
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_TRUE(has_line(r.output, R"(102\s+B\s+merged\s+4)")) << r.output;

    Store store((workspace / "ws.db").string());
    const auto a = store.find_run("A"), b = store.find_run("B");
    ASSERT_TRUE(a && b);
    EXPECT_EQ(a->status, RunStatus::done);
    EXPECT_EQ(b->status, RunStatus::done);
    int a_steps = 0, b_steps = 0;
    for (const auto& row : store.metrics(a->id)) a_steps += row.train_loss.has_value();
    for (const auto& row : store.metrics(b->id)) b_steps += row.train_loss.has_value();
    EXPECT_EQ(a_steps, 6);
    EXPECT_EQ(b_steps, 4);
    const auto stages = store.stages(b->id);
    ASSERT_EQ(stages.size(), 2u);
    EXPECT_EQ(stages[0].budget, "pre-trained: A");
    EXPECT_EQ(store.growth_events(b->id).size(), 1u);
    EXPECT_EQ(store.checkpoints(b->id).back().kind, CheckpointKind::final);
    EXPECT_EQ(store.cluster_jobs()[1].state, "merged");
    const auto results = store.results(b->id);
    ASSERT_EQ(results.size(), 2u);
    EXPECT_EQ(results[0].task, "klue-nli");
    EXPECT_EQ(results[0].metric, "accuracy");
    EXPECT_EQ(results[0].value, 71.25);
    EXPECT_EQ(results[0].settings_json, R"({"epochs":3})");
    EXPECT_EQ(results[1].task + "/" + results[1].metric, "korquad-ext/f1");
    EXPECT_EQ(store.summaries().at(1).results.at("klue-nli/accuracy"), 71.25);  // in the results table
    EXPECT_TRUE(store.results(a->id).empty());
    // The runs keep the times they started and ended in their jobs, not the time of the merge.
    EXPECT_EQ(b->started_at, "2026-01-02T03:04:05Z");
    EXPECT_EQ(b->ended_at, "2026-01-02T04:05:06Z");
    // A second sync merges nothing twice.
    r = test::run_growthstudio_cli("sync --db ws/ws.db", dir.path().string());
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_EQ(store.summaries().size(), 2u);
}

// Whether a Slurm cluster answers: SLURM_CONF (or /etc/slurm/slurm.conf) names one and sinfo
// reaches it.
bool slurm_reachable() {
    const char* conf = std::getenv("SLURM_CONF");
    if (!fs::exists(conf && *conf ? conf : "/etc/slurm/slurm.conf")) return false;
    return std::system("timeout 20 sinfo -h >/dev/null 2>&1") == 0;
}

// Runs `sync` in `folder` every 2 s until every line pattern of `merged` is listed (or a job
// failed, or 5 minutes passed); returns the last listing.
std::string sync_until_merged(const fs::path& folder, const std::vector<std::string>& merged) {
    std::string jobs;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(5);
    while (std::chrono::steady_clock::now() < deadline) {
        const auto r = test::run_growthstudio_cli("sync --db ws/ws.db", folder.string());
        if (r.exit_code != 0) return r.output;
        jobs = r.output;
        if (std::all_of(merged.begin(), merged.end(), [&](const std::string& line) { return has_line(jobs, line); })) break;
        if (jobs.find("failed") != std::string::npos) break;
        std::this_thread::sleep_for(std::chrono::seconds(2));
    }
    return jobs;
}

// Whether the ClusterSlurm tests can run: a cluster answers, or none does and the test is
// skipped, unless GS_REQUIRE_SLURM is set (scripts/test.sh starts one and sets it), and then it
// fails.
bool slurm_tests_can_run() {
    if (slurm_reachable()) return true;
    const char* required = std::getenv("GS_REQUIRE_SLURM");
    if (required && *required) {
        ADD_FAILURE() << "GS_REQUIRE_SLURM is set but no Slurm cluster answers at SLURM_CONF";
    }
    return false;
}

// The same set on a real Slurm: `scripts/slurm-localhost.sh start DIR` sets up a single-node
// cluster on this machine (root, slurm-wlm and munge needed), as scripts/test.sh does before
// running the suite. Without a cluster the test is skipped.
TEST(ClusterSlurm, ARealClusterRunsTheSetInDependencyOrder) {
    if (!slurm_tests_can_run()) {
        GTEST_SKIP() << "no Slurm cluster answers; start one with scripts/slurm-localhost.sh start DIR and set "
                        "SLURM_CONF=DIR/slurm.conf";
    }
    test::TempDir dir;
    write_set(dir.path() / "set");
    const fs::path workspace = dir.path() / "ws";
    auto r = test::run_growthstudio_cli("submit set --slurm --db ws/ws.db --time 00:10", dir.path().string());
    ASSERT_EQ(r.exit_code, 0) << r.output;
    for (const char* name : {"A", "B"}) {  // Slurm itself accepts the generated scripts
        const std::string script = (workspace / "slurm" / (std::string(name) + ".sbatch")).string();
        EXPECT_EQ(std::system(("sbatch --test-only '" + script + "' >/dev/null 2>&1").c_str()), 0) << script;
    }
    const std::string jobs = sync_until_merged(dir.path(), {R"(\S+\s+A\s+merged\s+6)", R"(\S+\s+B\s+merged\s+4)"});
    ASSERT_TRUE(has_line(jobs, R"(\S+\s+B\s+merged\s+4)")) << jobs;
    Store store((workspace / "ws.db").string());
    const auto cluster = store.cluster_jobs();
    ASSERT_EQ(cluster.size(), 2u);
    EXPECT_EQ(cluster[1].depends_on, cluster[0].job_id);  // B waited for A with afterok
    const auto b = store.find_run("B");
    ASSERT_TRUE(b);
    EXPECT_EQ(store.stages(b->id).at(0).budget, "pre-trained: A");
    EXPECT_TRUE(fs::exists(workspace / "runs" / "B" / ("slurm-" + cluster[1].job_id + ".out")));
}

// A one-run set whose run P (T for 6 steps, grown into S for 4) trains data-parallel.
void write_parallel_set(const fs::path& folder) {
    fs::create_directories(folder);
    nlohmann::json p = tiny_experiment();
    p["name"] = "P", p["budgets"] = "6steps-4steps";
    write_file_atomically((folder / "p.json").string(), p.dump(1));
}

std::map<int64_t, double> train_losses(const fs::path& database, const std::string& run_name) {
    Store store(database.string());
    std::map<int64_t, double> losses;
    const auto run = store.find_run(run_name);
    if (!run) return losses;
    for (const auto& row : store.metrics(run->id)) {
        if (row.train_loss) losses[row.step] = *row.train_loss;
    }
    return losses;
}

// The merged run P trained, step for step, as one process with the whole batch does.
void expect_losses_of_one_process(const fs::path& folder) {
    const auto one = test::run_growthstudio_cli("run set/p.json --db one.db --runs-dir one --quiet", folder.string());
    ASSERT_EQ(one.exit_code, 0) << one.output;
    const auto reference = train_losses(folder / "one.db", "P"), merged = train_losses(folder / "ws" / "ws.db", "P");
    ASSERT_EQ(reference.size(), 10u);
    ASSERT_EQ(merged.size(), 10u);
    const test::TrainingBounds bounds = test::tiny_experiment_bounds();
    for (const auto& [step, loss] : reference) EXPECT_NEAR(merged.at(step), loss, bounds.loss_relative(step) * loss) << "step " << step;
    Store store((folder / "ws" / "ws.db").string());
    EXPECT_EQ(store.growth_events(store.find_run("P")->id).size(), 1u);  // recorded once, by rank 0
}

// What `submit set --slurm ... --dry-run` prints with these options.
std::string dry_run(const test::TempDir& dir, const std::string& options) {
    const auto r = test::run_growthstudio_cli("submit set --slurm --db ws/ws.db --dry-run " + options, dir.path().string());
    EXPECT_EQ(r.exit_code, 0) << r.output;
    return r.output;
}

// The scripts of jobs with several ranks: srun starts them after the script exports where they
// meet; the check for a run to resume stays in the batch step.
TEST(Cluster, SubmitLaunchesTheRanksOfMultiTaskJobsWithSrun) {
    test::TempDir dir;
    write_set(dir.path() / "set");
    std::string script = dry_run(dir, "--nodes 2 --gpus-per-run 4");
    for (const char* line :
         {"#SBATCH --nodes=2\n#SBATCH --ntasks-per-node=4\n#SBATCH --gres=gpu:4\n",
          "\nhosts=($(scontrol show hostnames \"$SLURM_JOB_NODELIST\"))\n"
          "export MASTER_ADDR=\"${hosts[0]}\" MASTER_PORT=$((20000 + SLURM_JOB_ID % 20000))\n",
          "\nif [ -f \"$database\" ] && \"$cli\" show 'A' --db \"$database\" >/dev/null 2>&1; then\n"
          "  exec srun \"$cli\" resume 'A' --db \"$database\" --quiet\nfi\nexec srun \"$cli\" run '"}) {
        EXPECT_NE(script.find(line), std::string::npos) << line << "\n" << script;
    }
    EXPECT_EQ(script.find("--nproc"), std::string::npos) << script;
    EXPECT_EQ(script.find("--ntasks=1"), std::string::npos) << script;

    // Without GPUs: one rank per node unless --tasks-per-node says more.
    script = dry_run(dir, "--nodes 4");
    EXPECT_NE(script.find("#SBATCH --nodes=4\n#SBATCH --ntasks-per-node=1\n"), std::string::npos) << script;
    EXPECT_EQ(script.find("--gres"), std::string::npos) << script;
    EXPECT_NE(script.find("exec srun \"$cli\" run"), std::string::npos) << script;
    script = dry_run(dir, "--tasks-per-node 2");
    EXPECT_NE(script.find("#SBATCH --nodes=1\n#SBATCH --ntasks-per-node=2\n"), std::string::npos) << script;

    // One task: no srun, no rendezvous.
    script = dry_run(dir, "--gpus-per-run 1");
    EXPECT_NE(script.find("#SBATCH --nodes=1\n#SBATCH --ntasks=1\n#SBATCH --gres=gpu:1\n"), std::string::npos) << script;
    EXPECT_EQ(script.find("srun"), std::string::npos) << script;
    EXPECT_EQ(script.find("MASTER_ADDR"), std::string::npos) << script;
}

// `submit set --slurm --db ws.db --dry-run OPTIONS` in `dir` fails with `exit_code`, saying `message`.
void expect_submit_refused(const test::TempDir& dir, const std::string& options, int exit_code, const std::string& message) {
    const auto r = test::run_growthstudio_cli("submit set --slurm --db ws.db --dry-run " + options, dir.path().string());
    EXPECT_EQ(r.exit_code, exit_code) << options << "\n" << r.output;
    EXPECT_NE(r.output.find(message), std::string::npos) << options << "\n" << r.output;
}

TEST(Cluster, SubmitNamesTheOptionOfABadJobShape) {
    test::TempDir dir;
    write_set(dir.path() / "set");
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"--nodes 0", "option --nodes: expected a whole number >= 1"},
        {"--tasks-per-node 0", "option --tasks-per-node: expected a whole number >= 1"},
        {"--gpus-per-run 4 --tasks-per-node 2", "option --tasks-per-node: with --gpus-per-run 4 each node runs one task per GPU"},
        {"--gpus-per-run -1", "option --gpus-per-run must not be negative"}};
    for (const auto& [options, message] : cases) expect_submit_refused(dir, options, 2, message);
    // A shape the experiment's batch cannot be split over.
    const auto r = test::run_growthstudio_cli("submit set --slurm --db ws.db --dry-run --nodes 3", dir.path().string());
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.output.find("a.json: field 'batch_size': 8 cannot be split evenly into the job's 3 ranks (3 node(s) x 1)"),
              std::string::npos)
        << r.output;
}

// srun's stand-in for one node: the command once per task of a `tasks`-task step, with the
// variables srun sets; exits with the first failing task's code. Each task's place is logged.
void write_fake_srun(const fs::path& bin, const fs::path& log, int tasks) {
    fs::create_directories(bin);
    const std::string n = std::to_string(tasks);
    write_file_atomically((bin / "srun").string(),
                          "#!/bin/sh\npids=''\nfor rank in $(seq 0 " + std::to_string(tasks - 1) + "); do\n"
                          "  echo \"task $rank of " + n + "\" >> '" + log.string() + "'\n"
                          "  SLURM_STEP_ID=0 SLURM_PROCID=$rank SLURM_LOCALID=$rank SLURM_NODEID=0 SLURM_STEP_NUM_TASKS=" + n +
                          " SLURM_STEP_TASKS_PER_NODE=" + n + " \"$@\" &\n  pids=\"$pids $!\"\ndone\nstatus=0\n"
                          "for pid in $pids; do wait $pid; code=$?; [ $status -ne 0 ] || status=$code; done\nexit $status\n");
    write_file_atomically((bin / "scontrol").string(), "#!/bin/sh\necho localhost\n");
    fs::permissions(bin / "srun", fs::perms::owner_all);
    fs::permissions(bin / "scontrol", fs::perms::owner_all);
}

// The job script of a two-task job, run as Slurm would run it but with srun and scontrol played
// by stand-ins: the two ranks train the run as one process does, and sync merges it.
TEST(Cluster, TheRanksSrunStartsTrainOneRunAsOneProcess) {
    if (!distributed_backend_available("cpu")) GTEST_SKIP() << "this build has no Gloo (libgloo-dev was not found)";
    test::TempDir dir;
    write_parallel_set(dir.path() / "set");
    write_fake_sbatch(dir.path() / "bin", dir.path() / "sbatch.log");
    write_fake_srun(dir.path() / "bin", dir.path() / "srun.log", 2);
    ScopedPath path(dir.path() / "bin");
    auto r = test::run_growthstudio_cli("submit set --slurm --db ws/ws.db --tasks-per-node 2", dir.path().string());
    ASSERT_EQ(r.exit_code, 0) << r.output;
    // A job id of its own keeps the rendezvous port (20000 + id % 20000) apart from other tests'.
    const std::string job_id = std::to_string(1000 + getpid() % 18000);
    const std::string script = (dir.path() / "ws" / "slurm" / "P.sbatch").string();
    ASSERT_EQ(std::system(("SLURM_JOB_ID=" + job_id + " SLURM_JOB_NODELIST=node1 bash '" + script + "' > '" +
                           dir.file("p.out") + "' 2>&1").c_str()),
              0)
        << read_text_file(dir.file("p.out"));
    EXPECT_EQ(read_text_file(dir.file("srun.log")), "task 0 of 2\ntask 1 of 2\n");
    const std::string jobs = sync_until_merged(dir.path(), {R"(101\s+P\s+merged\s+10)"});
    ASSERT_TRUE(has_line(jobs, R"(101\s+P\s+merged\s+10)")) << jobs;
    expect_losses_of_one_process(dir.path());
}

// The file `name` in the first folder of PATH that has it; "" when none does.
std::string program_on_path(const std::string& name) {
    std::istringstream folders(std::getenv("PATH") ? std::getenv("PATH") : "");
    std::string folder;
    while (std::getline(folders, folder, ':')) {
        if (!folder.empty() && fs::exists(fs::path(folder) / name)) return (fs::path(folder) / name).string();
    }
    return "";
}

// One run as two srun tasks of a real job on the localhost node, over Gloo: they train it as one
// process with the whole batch does. srun is wrapped (through PATH, which sbatch passes on to the
// job) to log each task's place, so the test sees two ranks at work.
TEST(ClusterSlurm, TwoSrunTasksOfARealJobTrainOneRunAsOneProcess) {
    if (!slurm_tests_can_run()) GTEST_SKIP() << "no Slurm cluster answers; see ClusterSlurm.ARealClusterRunsTheSetInDependencyOrder";
    if (!distributed_backend_available("cpu")) GTEST_SKIP() << "this build has no Gloo (libgloo-dev was not found)";
    test::TempDir dir;
    write_parallel_set(dir.path() / "set");
    const std::string srun = program_on_path("srun");
    ASSERT_FALSE(srun.empty()) << "sbatch answers, but srun is not on PATH";
    const fs::path bin = dir.path() / "bin", log = dir.path() / "tasks.log";
    fs::create_directories(bin);
    write_file_atomically((bin / "srun").string(),
                          "#!/bin/sh\nexec '" + srun + "' sh -c 'echo \"task $SLURM_PROCID of $SLURM_STEP_NUM_TASKS on node "
                          "$SLURM_NODEID\" >> \"" + log.string() + "\"; exec \"$@\"' task \"$@\"\n");
    fs::permissions(bin / "srun", fs::perms::owner_all);
    ScopedPath path(bin);

    // Across nodes the script asks for 2 nodes, which this one-node cluster cannot give: Slurm
    // reads the script and refuses only its node count (a larger cluster accepts it).
    const std::string two_nodes = dry_run(dir, "--nodes 2 --time 00:10");
    write_file_atomically(dir.file("two-nodes.sbatch"), two_nodes.substr(two_nodes.find('\n') + 1));
    EXPECT_NE(two_nodes.find("#SBATCH --nodes=2\n#SBATCH --ntasks-per-node=1\n"), std::string::npos) << two_nodes;
    const auto test_only = test::run_shell("sbatch --test-only two-nodes.sbatch", dir.path().string());
    if (test_only.exit_code != 0) {
        EXPECT_NE(test_only.output.find("Requested node configuration is not available"), std::string::npos) << test_only.output;
    }

    const auto r = test::run_growthstudio_cli("submit set --slurm --db ws/ws.db --tasks-per-node 2 --time 00:10",
                                              dir.path().string());
    ASSERT_EQ(r.exit_code, 0) << r.output;
    const std::string script = (dir.path() / "ws" / "slurm" / "P.sbatch").string();
    EXPECT_EQ(std::system(("sbatch --test-only '" + script + "' >/dev/null 2>&1").c_str()), 0) << read_text_file(script);
    const std::string jobs = sync_until_merged(dir.path(), {R"(\S+\s+P\s+merged\s+10)"});
    ASSERT_TRUE(has_line(jobs, R"(\S+\s+P\s+merged\s+10)")) << jobs;
    const std::string tasks = read_text_file(log.string());
    EXPECT_TRUE(has_line(tasks, "task 0 of 2 on node 0")) << tasks;
    EXPECT_TRUE(has_line(tasks, "task 1 of 2 on node 0")) << tasks;
    expect_losses_of_one_process(dir.path());
}

TEST(Cluster, SubmitRefusesAReferenceOutsideTheSet) {
    test::TempDir dir;
    write_set(dir.path() / "set");
    nlohmann::json b = read_json_file((dir.path() / "set" / "b.json").string());
    b["pretrained"] = {{"T", "Z"}};
    write_file_atomically((dir.path() / "set" / "b.json").string(), b.dump(1));
    const auto r = test::run_growthstudio_cli("submit set --slurm --db ws.db --dry-run", dir.path().string());
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.output.find("b.json: field 'pretrained': 'Z' is neither a checkpoint folder nor a run of the set"),
              std::string::npos)
        << r.output;
    EXPECT_EQ(test::run_growthstudio_cli("submit set --slurm --time 1h --dry-run", dir.path().string()).exit_code, 1);
}

// A job reads and writes a database of its own: a budget that waits for another run's loss could
// never end there, so submit refuses it before a script is written.
TEST(Cluster, SubmitRefusesABudgetThatWaitsForAnotherRunsLoss) {
    test::TempDir dir;
    write_set(dir.path() / "set");
    nlohmann::json b = read_json_file((dir.path() / "set" / "b.json").string());
    b["budgets"] = "loss<=[A]";
    write_file_atomically((dir.path() / "set" / "b.json").string(), b.dump(1));
    expect_submit_refused(dir, "", 1,
                          "b.json: field 'budgets': 'loss<=[A]' needs run A's loss, which a cluster job cannot read");
    EXPECT_FALSE(fs::exists(dir.path() / "slurm"));
}

// Words the shell reads back exactly as they were, whatever they hold.
TEST(ShellQuote, TheShellReadsEveryWordBackUnchanged) {
    const std::vector<std::string> words = {"", "plain", "it's", "''", "a b", "$(touch PWNED)", "`touch PWNED`",
                                            "\"q\"", "a;b", "a\nb", "\\", "*", "~", "!x", "$HOME", "a'\\''b"};
    std::string command = "printf '%s\\0'", expected;
    for (const std::string& word : words) command += " " + shell_quote(word), expected += word + '\0';
    test::TempDir dir;
    const auto r = test::run_shell(command, dir.path().string());
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_EQ(r.output, expected);
    EXPECT_TRUE(fs::is_empty(dir.path()));  // nothing ran
    EXPECT_THROW(shell_quote(std::string("a\0b", 3)), std::invalid_argument);
}

// An experiment whose name would end a line of its job script, or carry shell syntax into it, is
// refused with the file and field named; so are options that would end a line.
TEST(Cluster, SubmitRefusesValuesThatWouldEndAScriptLine) {
    test::TempDir dir;
    const std::string marker = "/tmp/PWNED-" + std::to_string(getpid());
    const std::vector<std::pair<std::string, std::string>> names = {
        {"nl\ntouch " + marker + "\n#", "contains a control character (U+000A)"},
        {"x$(touch " + marker + ")", "contains '$'"},
        {"x`touch " + marker + "`", "contains '`'"},
        {"it's", "contains '''"},
        {"say\"x\"", "contains '\"'"},
        {"a;touch", "contains ';'"},
        {"a b", "contains a space"},
        {std::string("a\0b", 3), "contains a NUL character"}};
    for (const auto& [name, reason] : names) {
        fs::remove_all(dir.path() / "set");
        write_set(dir.path() / "set");
        nlohmann::json a = read_json_file((dir.path() / "set" / "a.json").string());
        a["name"] = name;
        write_file_atomically((dir.path() / "set" / "a.json").string(), a.dump(1));
        expect_submit_refused(dir, "", 1, "a.json: field 'name': run name '" + printable(name) + "' " + reason);
        EXPECT_FALSE(fs::exists(marker));
    }
    fs::remove_all(dir.path() / "set");
    write_set(dir.path() / "set");
    const std::vector<std::pair<std::string, std::string>> options = {
        {"--partition \"$(printf 'debug\\n#SBATCH --uid=0')\"",
         "partition 'debug\\n#SBATCH --uid=0': a job script cannot hold a line break or NUL"},
        {"--runs-dir \"$(printf 'runs\\rx')\"", "runs\\x0Dx': a job script cannot hold a line break or NUL"},
        {"--runs-dir \"$(printf 'runs\\nx')\"", "runs folder '"}};
    for (const auto& [option, message] : options) expect_submit_refused(dir, option, 1, message);
    // An experiment file whose own name holds a line break.
    write_file_atomically((dir.path() / "set" / "c\n#.json").string(), read_text_file((dir.path() / "set" / "a.json").string()));
    expect_submit_refused(dir, "", 1, "experiment file '");
    expect_submit_refused(dir, "", 1, "c\\n#.json': a job script cannot hold a line break or NUL");
}

// The arguments growthstudio-cli was started with, one invocation per line of `log`, each
// argument ended by NUL (as the stand-in writes them).
std::vector<std::vector<std::string>> invocations(const fs::path& log) {
    std::vector<std::vector<std::string>> calls;
    std::istringstream lines(read_text_file(log.string()));
    std::string line;
    while (std::getline(lines, line)) {
        std::vector<std::string> arguments;
        for (size_t start = 0, end; (end = line.find('\0', start)) != std::string::npos; start = end + 1) {
            arguments.push_back(line.substr(start, end - start));
        }
        calls.push_back(arguments);
    }
    return calls;
}

// Paths full of shell syntax are allowed: a job script quotes them, so bash reads each back as
// one argument, unchanged, and runs none of it.
TEST(Cluster, JobScriptsPassPathsWithShellSyntaxThroughUnchanged) {
    test::TempDir dir;
    const std::string marker = "/tmp/PWNED-" + std::to_string(getpid()) + "-" + std::to_string(std::rand());
    const std::string hostile = "it's \"q\" $(touch " + marker + ") `touch " + marker + "`; touch " + marker +
                                " & x=$'y' # 50% \\ end";
    const fs::path set = dir.path() / ("set " + hostile);
    write_parallel_set(set);
    SlurmOptions options;
    options.runs_dir = (dir.path() / ("runs " + hostile)).string();
    options.scripts_dir = (dir.path() / ("scripts " + hostile)).string();
    const fs::path cli = dir.path() / ("bin " + hostile) / "growthstudio-cli";
    fs::create_directories(cli.parent_path());
    write_file_atomically(cli.string(), "#!/bin/sh\nprintf '%s\\0' \"$@\" >> \"$ARGS_LOG\"\nprintf '\\n' >> \"$ARGS_LOG\"\n");
    fs::permissions(cli, fs::perms::owner_all);
    options.cli = cli.string();
    write_fake_srun(dir.path() / "stubs", dir.path() / "srun.log", 1);
    const fs::path log = dir.path() / "args.log";
    const std::string environment = "PATH=\"" + (dir.path() / "stubs").string() + ":$PATH\" SLURM_JOB_ID=7 "
                                    "SLURM_JOB_NODELIST=node1 ARGS_LOG='" + log.string() + "' ";

    for (const int tasks : {1, 2}) {  // exec "$cli" ..., and exec srun "$cli" ...
        options.tasks_per_node = tasks;
        const std::vector<SlurmJob> jobs = plan_slurm_jobs(set.string(), options);
        ASSERT_EQ(jobs.size(), 1u);
        const SlurmJob& job = jobs[0];
        write_file_atomically(dir.file("job.sh"), job.script);
        ASSERT_EQ(test::run_shell("bash -n job.sh", dir.path().string()).exit_code, 0) << job.script;
        fs::remove(log);
        auto r = test::run_shell(environment + "bash job.sh", dir.path().string());
        ASSERT_EQ(r.exit_code, 0) << r.output << "\n" << job.script;
        const std::vector<std::string> run = {"run", job.experiment, "--db", job.database, "--runs-dir",
                                              options.runs_dir, "--name", "P", "--quiet"};
        EXPECT_EQ(invocations(log), std::vector<std::vector<std::string>>{run}) << job.script;
        EXPECT_TRUE(fs::is_directory(fs::path(options.runs_dir) / "P"));
        EXPECT_EQ(fs::exists(dir.path() / "srun.log"), tasks > 1);

        // A requeued job whose database exists resumes the run.
        write_file_atomically(job.database, "");
        fs::remove(log);
        r = test::run_shell(environment + "bash job.sh", dir.path().string());
        ASSERT_EQ(r.exit_code, 0) << r.output;
        const std::vector<std::vector<std::string>> resumed = {{"show", "P", "--db", job.database},
                                                               {"resume", "P", "--db", job.database, "--quiet"}};
        EXPECT_EQ(invocations(log), resumed);
        fs::remove(job.database);
    }
    EXPECT_FALSE(fs::exists(marker));
    EXPECT_FALSE(fs::exists(dir.path() / "end"));
}

// sbatch reads #SBATCH lines itself (bash skips them): a value is kept one word there, and a
// '%' in a folder is not taken for one of Slurm's file name patterns.
TEST(Cluster, SbatchLinesKeepEachValueOneWord) {
    test::TempDir dir;
    write_parallel_set(dir.path() / "set");
    SlurmOptions options;
    options.partition = "gpu a#b";
    options.runs_dir = "/data/my runs/50%/it's \"q\"";
    options.scripts_dir = dir.file("scripts");
    options.cli = "/usr/bin/growthstudio-cli";
    const std::string script = plan_slurm_jobs((dir.path() / "set").string(), options).at(0).script;
    EXPECT_NE(script.find("\n#SBATCH --job-name=gs-P\n"), std::string::npos) << script;
    EXPECT_NE(script.find("\n#SBATCH --partition=gpu\\ a\\#b\n"), std::string::npos) << script;
    EXPECT_NE(script.find("\n#SBATCH --output=/data/my\\ runs/50%%/it\\'s\\ \\\"q\\\"/P/slurm-%j.out\n"), std::string::npos)
        << script;
}

}  // namespace
}  // namespace gs
