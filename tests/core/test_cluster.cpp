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

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "cli_test_support.h"
#include "core/io/files.h"
#include "core/store/sqlite.h"
#include "core/store/store.h"
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

// A two-run set: A trains T; B starts from A's finished T and grows it into S (T_init-d_S).
void write_set(const fs::path& folder) {
    fs::create_directories(folder);
    nlohmann::json a = read_json_file(test::data_path("experiments/tiny_T_d_S.json"));
    a["sizes"]["T"]["dropout_rate"] = 0;
    a["sizes"]["S"]["dropout_rate"] = 0;
    a["validation"] = {{"interval_steps", 3}, {"batches", 2}};
    a["checkpoint_interval_steps"] = 3;
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
    r = test::run_growthstudio_cli("sync --db ws/ws.db", dir.path().string());
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_TRUE(has_line(r.output, R"(102\s+B\s+merged\s+4)")) << r.output;

    Store store((workspace / "ws.db").string());
    const auto a = store.find_run("A"), b = store.find_run("B");
    ASSERT_TRUE(a && b);
    EXPECT_EQ(a->status, "done");
    EXPECT_EQ(b->status, "done");
    int a_steps = 0, b_steps = 0;
    for (const auto& row : store.metrics(a->id)) a_steps += row.train_loss.has_value();
    for (const auto& row : store.metrics(b->id)) b_steps += row.train_loss.has_value();
    EXPECT_EQ(a_steps, 6);
    EXPECT_EQ(b_steps, 4);
    const auto stages = store.stages(b->id);
    ASSERT_EQ(stages.size(), 2u);
    EXPECT_EQ(stages[0].budget, "pre-trained: A");
    EXPECT_EQ(store.growth_events(b->id).size(), 1u);
    EXPECT_EQ(store.checkpoints(b->id).back().kind, "final");
    EXPECT_EQ(store.cluster_jobs()[1].state, "merged");
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

// The same set on a real Slurm: `scripts/slurm-localhost.sh start DIR` sets up a single-node
// cluster on this machine (root, slurm-wlm and munge needed), and CTest's cluster.RealSlurm
// entry runs this test against it. Without a cluster the test is skipped.
TEST(ClusterSlurm, ARealClusterRunsTheSetInDependencyOrder) {
    if (!slurm_reachable()) {
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
    std::string jobs;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(5);
    while (std::chrono::steady_clock::now() < deadline) {
        r = test::run_growthstudio_cli("sync --db ws/ws.db", dir.path().string());
        ASSERT_EQ(r.exit_code, 0) << r.output;
        jobs = r.output;
        if (has_line(jobs, R"(\S+\s+A\s+merged\s+6)") && has_line(jobs, R"(\S+\s+B\s+merged\s+4)")) break;
        if (jobs.find("failed") != std::string::npos) break;
        std::this_thread::sleep_for(std::chrono::seconds(2));
    }
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

}  // namespace
}  // namespace gs
