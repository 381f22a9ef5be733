// Where a rank learns its place: torchrun's variables, or Slurm's own when srun started the task.
#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <tuple>

#include "core/distributed/communicator.h"

namespace gs {
namespace {

// Sets exactly the given launcher variables (clearing the others this reads) for one test and
// restores the process's own values afterwards, so a test run under srun or torchrun is unaffected.
class LauncherVariables {
public:
    explicit LauncherVariables(const std::map<std::string, std::string>& values) {
        for (const char* name : kNames) {
            const char* saved = std::getenv(name);
            saved_[name] = saved ? std::optional<std::string>(saved) : std::nullopt;
            unsetenv(name);
        }
        for (const auto& [name, value] : values) {
            if (!saved_.count(name)) throw std::logic_error(name + " is not a launcher variable of this test");
            setenv(name.c_str(), value.c_str(), 1);
        }
    }
    ~LauncherVariables() {
        for (const auto& [name, value] : saved_) {
            if (value) {
                setenv(name.c_str(), value->c_str(), 1);
            } else {
                unsetenv(name.c_str());
            }
        }
    }

private:
    static constexpr const char* kNames[] = {
        "RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT",
        "SLURM_STEP_ID", "SLURM_PROCID", "SLURM_NTASKS", "SLURM_STEP_NUM_TASKS", "SLURM_LOCALID",
        "SLURM_NODEID", "SLURM_TASKS_PER_NODE", "SLURM_STEP_TASKS_PER_NODE"};
    std::map<std::string, std::optional<std::string>> saved_;
};

// What srun sets for task `rank` of a step with these tasks per node, plus MASTER_ADDR.
std::map<std::string, std::string> srun_task(int rank, int local_rank, int node, const std::string& world,
                                             const std::string& tasks_per_node) {
    return {{"SLURM_STEP_ID", "0"},        {"SLURM_PROCID", std::to_string(rank)},
            {"SLURM_LOCALID", std::to_string(local_rank)}, {"SLURM_NODEID", std::to_string(node)},
            {"SLURM_STEP_NUM_TASKS", world}, {"SLURM_STEP_TASKS_PER_NODE", tasks_per_node},
            {"SLURM_NTASKS", world},       {"SLURM_TASKS_PER_NODE", tasks_per_node},
            {"MASTER_ADDR", "node-a"}};
}

// from_environment() under exactly these variables.
DistributedEnvironment environment_of(const std::map<std::string, std::string>& values) {
    LauncherVariables variables(values);
    return DistributedEnvironment::from_environment();
}

// rank, world size, local rank, local world size
using Place = std::tuple<int, int, int, int>;
Place place(const DistributedEnvironment& e) { return {e.rank, e.world_size, e.local_rank, e.local_world_size}; }

std::string error_of(const std::map<std::string, std::string>& values) {
    LauncherVariables variables(values);
    try {
        DistributedEnvironment::from_environment();
    } catch (const std::runtime_error& error) {
        return error.what();
    }
    return "(no error)";
}

TEST(DistributedEnvironment, NoLauncherMeansOneProcess) {
    const DistributedEnvironment e = environment_of({});
    EXPECT_FALSE(e.distributed());
    EXPECT_EQ(e.rank, 0);
    EXPECT_EQ(e.master_addr, "127.0.0.1");
    EXPECT_EQ(e.master_port, 29500);
}

TEST(DistributedEnvironment, SrunTasksTakeTheirPlaceFromSlurmsVariables) {
    // Three nodes of 2 tasks and one of 1: rank 5 is the second task of the third node (id 2).
    auto values = srun_task(5, 1, 2, "7", "2(x3),1");
    values["MASTER_PORT"] = "21234";
    const DistributedEnvironment e = environment_of(values);
    EXPECT_EQ(e.rank, 5);
    EXPECT_EQ(e.world_size, 7);
    EXPECT_EQ(e.local_rank, 1);
    EXPECT_EQ(e.local_world_size, 2);
    EXPECT_EQ(e.master_addr, "node-a");
    EXPECT_EQ(e.master_port, 21234);
}

TEST(DistributedEnvironment, TheLastNodeOfACompressedListCountsItsOwnTasks) {
    const DistributedEnvironment e = environment_of(srun_task(6, 0, 3, "7", "2(x3),1"));
    EXPECT_EQ(e.local_world_size, 1);
    EXPECT_EQ(e.rank, 6);
}

TEST(DistributedEnvironment, TheStepsCountsWinOverTheJobsAndTheJobsServeWithout) {
    // A job of 2 nodes x 4 tasks whose step runs 2 tasks on each.
    auto values = srun_task(3, 1, 1, "4", "2,2");
    values["SLURM_NTASKS"] = "8";
    values["SLURM_TASKS_PER_NODE"] = "4(x2)";
    EXPECT_EQ(place(environment_of(values)), (Place{3, 4, 1, 2}));
    values.erase("SLURM_STEP_NUM_TASKS");
    values.erase("SLURM_STEP_TASKS_PER_NODE");
    EXPECT_EQ(place(environment_of(values)), (Place{3, 8, 1, 4}));
}

TEST(DistributedEnvironment, TorchrunsVariablesWinOverSlurms) {
    auto values = srun_task(5, 1, 2, "7", "2(x3),1");
    values.insert({{"RANK", "1"}, {"WORLD_SIZE", "3"}, {"LOCAL_RANK", "0"}, {"LOCAL_WORLD_SIZE", "3"}});
    EXPECT_EQ(place(environment_of(values)), (Place{1, 3, 0, 3}));
}

TEST(DistributedEnvironment, TheBatchScriptOfAJobIsNoRank) {
    // sbatch's script sees the job's SLURM_PROCID=0 and SLURM_NTASKS but no SLURM_STEP_ID: it runs
    // `show` and srun there, and a command run in it directly trains alone.
    auto values = srun_task(0, 0, 0, "4", "4");
    values.erase("SLURM_STEP_ID");
    values.erase("MASTER_ADDR");
    EXPECT_FALSE(environment_of(values).distributed());
}

TEST(DistributedEnvironment, ErrorsNameTheSlurmVariable) {
    auto values = srun_task(1, 0, 0, "2", "2");
    values["SLURM_STEP_TASKS_PER_NODE"] = "2(3)";
    EXPECT_EQ(error_of(values), "environment variable SLURM_STEP_TASKS_PER_NODE='2(3)': '2(3)' is not a task count such as 2 or 2(x3)");
    values["SLURM_STEP_TASKS_PER_NODE"] = "1,x";
    EXPECT_NE(error_of(values).find("SLURM_STEP_TASKS_PER_NODE='1,x': 'x' is not a task count"), std::string::npos);
    values = srun_task(3, 0, 2, "4", "2(x2)");
    EXPECT_EQ(error_of(values), "environment variable SLURM_STEP_TASKS_PER_NODE='2(x2)' lists 2 node(s), not node SLURM_NODEID=2");
    values = srun_task(4, 0, 1, "4", "2(x2)");
    EXPECT_EQ(error_of(values), "environment variable SLURM_PROCID=4 is not below SLURM_STEP_NUM_TASKS=4");
    values = srun_task(1, 2, 0, "4", "2(x2)");
    EXPECT_EQ(error_of(values), "environment variable SLURM_LOCALID=2 is not below the node's 2 task(s)");
    values = srun_task(1, 0, 0, "2", "2");
    values["SLURM_PROCID"] = "one";
    EXPECT_EQ(error_of(values), "environment variable SLURM_PROCID='one': expected a whole number >= 0");
    values = srun_task(1, 1, 0, "2", "2");
    values.erase("MASTER_ADDR");
    const std::string missing = error_of(values);
    EXPECT_EQ(missing.rfind("environment variable MASTER_ADDR is not set: srun started this task as rank 1 of 2", 0), 0u)
        << missing;
    values = srun_task(0, 0, 0, "1", "1");
    values.erase("MASTER_ADDR");  // one task alone needs no address
    EXPECT_EQ(error_of(values), "(no error)");
}

}  // namespace
}  // namespace gs
