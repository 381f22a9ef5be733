// Data-parallel training on c10d's Gloo over loopback, driven through growthstudio-cli: two
// processes with half a batch each train, step for step, the model one process trains with the
// whole batch (growth included); a killed rank ends the run with an error naming it; the run
// resumes in another number of processes.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <thread>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include "cli_test_support.h"
#include "core/distributed/communicator.h"
#include "core/distributed/launcher.h"
#include "core/distributed/overlapped_averaging.h"
#include "core/io/files.h"
#include "core/io/safetensors.h"
#include "core/model/t5_model.h"
#include "core/store/store.h"
#include "test_support.h"
#include "tolerance.h"

namespace gs {
namespace {

namespace fs = std::filesystem;

test::CliResult cli(const std::string& arguments, const fs::path& folder) {
    return test::run_growthstudio_cli(arguments, folder.string());
}

bool gloo_available() { return distributed_backend_available("cpu"); }

// The tiny two-stage experiment without dropout (its masks are drawn per process, so they
// would differ between one and two processes), with `budgets`.
fs::path write_experiment(const test::TempDir& dir, const std::string& budgets, int checkpoint_interval) {
    nlohmann::json json = read_json_file(test::data_path("experiments/tiny_T_d_S.json"));
    json["sizes"]["T"]["dropout_rate"] = 0;
    json["sizes"]["S"]["dropout_rate"] = 0;
    json["budgets"] = budgets;
    json["checkpoint_interval_steps"] = checkpoint_interval;
    json["keep_checkpoints"] = 1000;
    json["validation"] = {{"interval_steps", 5}, {"batches", 2}};
    write_file_atomically((dir.path() / "experiment.json").string(), json.dump(1));
    return dir.path();
}

std::map<int64_t, double> train_losses(const fs::path& database) {
    Store store(database.string());
    std::map<int64_t, double> losses;
    const auto run = store.find_run("tiny-T_d_S");
    if (!run) return losses;
    for (const auto& row : store.metrics(run->id)) {
        if (row.train_loss) losses[row.step] = *row.train_loss;
    }
    return losses;
}

std::map<int64_t, std::string> checkpoints_by_step(const fs::path& database) {
    Store store(database.string());
    std::map<int64_t, std::string> folders;
    for (const auto& checkpoint : store.checkpoints(store.find_run("tiny-T_d_S")->id)) folders[checkpoint.step] = checkpoint.path;
    return folders;
}

double max_parameter_difference(const std::string& a, const std::string& b) {
    SafetensorsFile first(a + "/model.safetensors"), second(b + "/model.safetensors");
    EXPECT_EQ(first.names(), second.names());
    double largest = 0;
    for (const auto& name : first.names()) largest = std::max(largest, test::max_abs_diff(first.load(name), second.load(name)));
    return largest;
}

// The bound on the parameters of checkpoint `folder` after `steps` steps, at its own scale.
double parameter_bound(const std::string& folder, int64_t steps) {
    SafetensorsFile file(folder + "/model.safetensors");
    double largest_rms = 0, largest_value = 0;
    for (const auto& name : file.names()) {
        const at::Tensor tensor = file.load(name).to(at::kDouble);
        largest_rms = std::max(largest_rms, tensor.pow(2).mean().sqrt().item<double>());
        largest_value = std::max(largest_value, tensor.abs().max().item<double>());
    }
    return test::tiny_experiment_bounds().parameters(steps, largest_rms, largest_value);
}

// Whether two runs' losses agree step for step, as trainings differing in summation order do.
void expect_same_losses(const std::map<int64_t, double>& expected, const std::map<int64_t, double>& actual,
                        int64_t gradient_accumulation = 1) {
    const test::TrainingBounds bounds = test::tiny_experiment_bounds(gradient_accumulation);
    for (const auto& [step, loss] : expected) {
        ASSERT_TRUE(actual.count(step)) << "step " << step;
        EXPECT_NEAR(actual.at(step), loss, bounds.loss_relative(step) * loss) << "step " << step;
    }
}

TEST(Distributed, TwoProcessesWithHalfBatchesTrainAsOneWithTheWholeBatch) {
    if (!gloo_available()) GTEST_SKIP() << "this build has no Gloo (libgloo-dev was not found at configure time)";
    test::TempDir dir;
    const fs::path folder = write_experiment(dir, "6steps-4steps", 1);  // a checkpoint after every step
    const auto one = cli("run experiment.json --db one.db --runs-dir one --quiet", folder);
    ASSERT_EQ(one.exit_code, 0) << one.output;
    const auto two = cli("run experiment.json --db two.db --runs-dir two --nproc 2 --quiet", folder);
    ASSERT_EQ(two.exit_code, 0) << two.output;

    const auto single = checkpoints_by_step(folder / "one.db"), parallel = checkpoints_by_step(folder / "two.db");
    ASSERT_EQ(single.size(), 10u);
    ASSERT_EQ(parallel.size(), single.size());
    for (const auto& [step, path] : single) {
        ASSERT_TRUE(parallel.count(step)) << "step " << step;
        // Steps 1-6 train T; step 6's checkpoint is T's end, and the growth into S follows it.
        EXPECT_LE(max_parameter_difference(path, parallel.at(step)), parameter_bound(path, step)) << "step " << step;
    }
    const auto losses_one = train_losses(folder / "one.db"), losses_two = train_losses(folder / "two.db");
    ASSERT_EQ(losses_two.size(), 10u);
    expect_same_losses(losses_one, losses_two);

    Store store((folder / "two.db").string());
    const auto run = store.find_run("tiny-T_d_S");
    EXPECT_EQ(run->status, RunStatus::done);
    ASSERT_EQ(store.growth_events(run->id).size(), 1u);  // recorded once, by rank 0
    EXPECT_EQ(store.stages(run->id).size(), 2u);
}

// Runs the experiment in `folder` in one process and in two; returns the two databases' losses.
std::pair<std::map<int64_t, double>, std::map<int64_t, double>> losses_in_one_and_two_processes(const fs::path& folder) {
    const auto one = cli("run experiment.json --db one.db --runs-dir one --quiet", folder);
    EXPECT_EQ(one.exit_code, 0) << one.output;
    const auto two = cli("run experiment.json --db two.db --runs-dir two --nproc 2 --quiet", folder);
    EXPECT_EQ(two.exit_code, 0) << two.output;
    return {train_losses(folder / "one.db"), train_losses(folder / "two.db")};
}

void set_experiment_field(const fs::path& folder, const std::string& field, const nlohmann::json& value) {
    nlohmann::json json = read_json_file((folder / "experiment.json").string());
    json[field] = value;
    write_file_atomically((folder / "experiment.json").string(), json.dump(1));
}

// With gradient accumulation only the last micro-batch's backward pass sends, adding what the
// earlier ones left: still the single process's training, to float precision.
TEST(Distributed, AccumulatedGradientsAverageAsInOneProcess) {
    if (!gloo_available()) GTEST_SKIP() << "this build has no Gloo (libgloo-dev was not found at configure time)";
    test::TempDir dir;
    const fs::path folder = write_experiment(dir, "4steps-3steps", 1);
    set_experiment_field(folder, "gradient_accumulation", 3);
    const auto [single, parallel] = losses_in_one_and_two_processes(folder);
    ASSERT_EQ(single.size(), 7u);
    ASSERT_EQ(parallel.size(), 7u);
    expect_same_losses(single, parallel, 3);
    const auto a = checkpoints_by_step(folder / "one.db"), b = checkpoints_by_step(folder / "two.db");
    EXPECT_LE(max_parameter_difference(a.rbegin()->second, b.rbegin()->second), parameter_bound(a.rbegin()->second, 7));
}

// bf16: the ranks compute in bf16 and average in fp32 into the master weights' gradients. Each
// rank's bf16 arithmetic on half the batch rounds differently from one process's on all of it,
// so the curves agree to bf16's precision, far closer than to the untrained loss they leave.
TEST(Distributed, Bf16RanksTrainTheirFp32MastersAsOneProcess) {
    if (!gloo_available()) GTEST_SKIP() << "this build has no Gloo (libgloo-dev was not found at configure time)";
    test::TempDir dir;
    const fs::path folder = write_experiment(dir, "8steps-4steps", 4);
    set_experiment_field(folder, "precision", "bf16");
    const auto [single, parallel] = losses_in_one_and_two_processes(folder);
    ASSERT_EQ(single.size(), 12u);
    ASSERT_EQ(parallel.size(), 12u);
    const double learned = single.begin()->second - single.rbegin()->second;
    ASSERT_GT(learned, 0.5);
    // Every step's update, and each loss's own evaluation, rounds at bf16's precision twice
    // (the cast weights, the outputs): the curves differ by at most that share of what the
    // updates moved the loss, summed over the steps.
    const double bound = (single.size() + 1) * 2 * test::kBfloat16Roundoff * learned;
    for (const auto& [step, loss] : single) EXPECT_NEAR(parallel.at(step), loss, bound) << "step " << step;
}

// Whether process `pid` ignores SIGPIPE: a rank writing to a peer that died must get an error
// it can report, not be killed by the signal (the SigIgn mask of /proc/PID/status, bit 13).
bool ignores_sigpipe(pid_t pid) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(status, line);) {
        if (line.rfind("SigIgn:", 0) == 0) return (std::stoull(line.substr(7), nullptr, 16) >> (SIGPIPE - 1)) & 1;
    }
    return false;
}

// Kills the rank `rank` of a run started with `--nproc processes`, once the run has stored
// `steps` steps. Returns the launcher's exit code and output.
test::CliResult kill_rank_during_run(const fs::path& folder, int processes, int rank, size_t steps) {
    const std::string log = (folder / "launcher.log").string();
    const pid_t launcher = fork();
    if (launcher == 0) {
        const int out = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (out < 0 || chdir(folder.c_str()) != 0) _exit(100);
        dup2(out, 1), dup2(out, 2);
        const std::string count = std::to_string(processes);
        execl(GS_CLI_PATH, GS_CLI_PATH, "run", "experiment.json", "--db", "ws.db", "--nproc", count.c_str(), "--quiet",
              static_cast<char*>(nullptr));
        _exit(101);
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(3);
    size_t seen = 0;
    while (seen < steps && std::chrono::steady_clock::now() < deadline) {
        usleep(20000);
        try {
            if (fs::exists(folder / "ws.db")) seen = train_losses(folder / "ws.db").size();
        } catch (const std::exception&) {  // being created
        }
    }
    // The ranks are the launcher's children; RANK in its environment tells which is which.
    std::ifstream children("/proc/" + std::to_string(launcher) + "/task/" + std::to_string(launcher) + "/children");
    pid_t child = 0, victim = 0;
    while (children >> child) {
        EXPECT_TRUE(ignores_sigpipe(child)) << "rank process " << child;
        std::ifstream environ("/proc/" + std::to_string(child) + "/environ");
        std::string variable;
        while (std::getline(environ, variable, '\0')) {
            if (variable == "RANK=" + std::to_string(rank)) victim = child;
        }
    }
    if (victim > 0 && seen >= steps) kill(victim, SIGKILL);
    int status = 0;
    if (victim == 0 || seen < steps) kill(launcher, SIGKILL);
    waitpid(launcher, &status, 0);
    std::ifstream in(log);
    std::stringstream text;
    text << in.rdbuf();
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return {victim > 0 && seen >= steps ? code : -2, text.str()};
}

TEST(Distributed, AKilledRankEndsTheRunNamingItAndTheRunResumesInOneProcess) {
    if (!gloo_available()) GTEST_SKIP() << "this build has no Gloo (libgloo-dev was not found at configure time)";
    test::TempDir dir;
    const fs::path folder = write_experiment(dir, "30steps-30steps", 10);
    ASSERT_EQ(cli("run experiment.json --db reference.db --runs-dir reference --quiet", folder).exit_code, 0);
    const auto reference = train_losses(folder / "reference.db");

    const auto killed = kill_rank_during_run(folder, 2, 1, 35);
    ASSERT_NE(killed.exit_code, -2) << "the run did not reach step 35 or its rank 1 was not found\n" << killed.output;
    EXPECT_EQ(killed.exit_code, 1) << killed.output;
    // The launcher names the rank and its signal; rank 0 names the rank that stopped answering.
    EXPECT_NE(killed.output.find("rank 1 of 2 (pid"), std::string::npos) << killed.output;
    EXPECT_NE(killed.output.find("was killed by signal 9"), std::string::npos) << killed.output;
    EXPECT_NE(killed.output.find("rank 1 of 2 stopped responding"), std::string::npos) << killed.output;
    {
        Store store((folder / "ws.db").string());
        const auto run = store.find_run("tiny-T_d_S");
        ASSERT_TRUE(run);
        EXPECT_EQ(run->status, RunStatus::failed);
        EXPECT_NE(run->error.find("rank 1 of 2 stopped responding"), std::string::npos) << run->error;
        ASSERT_LT(train_losses(folder / "ws.db").size(), 60u) << "the run finished before the kill";
    }

    // Resumed in one process from the two-process checkpoint: every step once, the losses of
    // the uninterrupted single-process run up to the rounding of the averaged gradients.
    const auto resumed = cli("resume tiny-T_d_S --db ws.db --quiet", folder);
    ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
    const auto losses = train_losses(folder / "ws.db");
    ASSERT_EQ(losses.size(), 60u);
    EXPECT_EQ(losses.begin()->first, 1);
    EXPECT_EQ(losses.rbegin()->first, 60);
    expect_same_losses(reference, losses);
    Store store((folder / "ws.db").string());
    EXPECT_EQ(store.find_run("tiny-T_d_S")->status, RunStatus::done);
    EXPECT_EQ(store.growth_events(store.find_run("tiny-T_d_S")->id).size(), 1u);
}

TEST(Distributed, APausedRunResumesInTwoProcesses) {
    if (!gloo_available()) GTEST_SKIP() << "this build has no Gloo (libgloo-dev was not found at configure time)";
    test::TempDir dir;
    const fs::path folder = write_experiment(dir, "6steps-4steps", 2);
    ASSERT_EQ(cli("run experiment.json --db reference.db --runs-dir reference --quiet", folder).exit_code, 0);
    ASSERT_EQ(cli("run experiment.json --db ws.db --quiet --nproc 1", folder).exit_code, 0);
    {
        // Rewind it to T's end: the checkpoint at step 6 becomes the latest, as after a stop.
        Store store((folder / "ws.db").string());
        const auto run = store.find_run("tiny-T_d_S");
        const auto folders = checkpoints_by_step(folder / "ws.db");
        const fs::path latest = fs::path(run->directory) / "latest.json";
        write_file_atomically(latest.string(),
                              nlohmann::json{{"checkpoint", "checkpoints/" + fs::path(folders.at(6)).filename().string()}}.dump());
        store.set_run_status(run->id, RunStatus::paused);
    }
    const auto resumed = cli("resume tiny-T_d_S --db ws.db --nproc 2 --quiet", folder);
    ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
    const auto losses = train_losses(folder / "ws.db"), reference = train_losses(folder / "reference.db");
    ASSERT_EQ(losses.size(), 10u);
    expect_same_losses(reference, losses);
    const auto final_two = checkpoints_by_step(folder / "ws.db").at(10), final_one = checkpoints_by_step(folder / "reference.db").at(10);
    EXPECT_LE(max_parameter_difference(final_two, final_one), parameter_bound(final_one, 10));
}

// Runs `rank(r)` for ranks 0 and 1 of a two-process group over loopback, as two threads.
void with_two_ranks(const std::function<void(Communicator&, int)>& rank) {
    const int port = free_local_port();
    std::string failures[2];
    auto one_rank = [&](int r) {
        // An exception escaping the second thread would end the whole test program unexplained.
        try {
            DistributedEnvironment environment;
            environment.rank = r, environment.world_size = 2, environment.master_port = port;
            auto group = Communicator::connect(environment);
            group->start_collectives("cpu");
            rank(*group, r);
            group->barrier("end");
        } catch (const std::exception& error) {
            failures[r] = error.what();
        }
    };
    std::thread other(one_rank, 1);
    one_rank(0);
    other.join();
    for (int r = 0; r < 2; ++r) EXPECT_EQ(failures[r], "") << "rank " << r << " threw";
}

// Two ranks as two threads of this process, over loopback: averaged gradients (in several
// buckets), sums, and the equality check that guards growth.
TEST(Distributed, CommunicatorAveragesSumsAndComparesAcrossRanks) {
    if (!gloo_available()) GTEST_SKIP() << "this build has no Gloo (libgloo-dev was not found at configure time)";
    std::vector<std::vector<at::Tensor>> gradients(2);
    std::vector<std::vector<double>> sums(2);
    std::vector<int> same(2), different(2);
    with_two_ranks([&](Communicator& group, int r) {
        // Rank r holds r+1 times the pattern; the mean is 1.5 times it.
        for (int64_t size : {3, 1000, 7}) gradients[r].push_back(at::arange(size, at::kFloat) * (r + 1));
        group.average_gradients(gradients[r], /*bucket_bytes=*/64);
        sums[r] = group.sum({1.0 + r, 10.0});
        same[r] = group.all_equal(0x123456789abcdefULL);
        different[r] = group.all_equal(r == 0 ? 1 : 2);
    });
    for (int r = 0; r < 2; ++r) {
        for (const at::Tensor& gradient : gradients[r]) {
            // Small integers, their sums and halves are exact in fp32: the mean is too.
            EXPECT_TRUE(at::equal(gradient, at::arange(gradient.numel(), at::kFloat) * 1.5)) << gradient;
        }
        EXPECT_EQ(sums[r], (std::vector<double>{3.0, 20.0}));
        EXPECT_TRUE(same[r]);
        EXPECT_FALSE(different[r]);
    }
}

// Each rank backpropagates its own batch through the same T5 model. With the averaging hooked
// into autograd, buckets leave before backward() returns, and every gradient ends equal to the
// mean of the two ranks' gradients computed without it (the bucket order, reversed, and the
// first bucket's smaller size included).
TEST(Distributed, GradientsTravelDuringTheBackwardPassAndEndAsTheRanksMean) {
    if (!gloo_available()) GTEST_SKIP() << "this build has no Gloo (libgloo-dev was not found at configure time)";
    T5Config config;
    config.vocab_size = 96, config.d_model = 32, config.d_kv = 8, config.num_heads = 4, config.d_ff = 64;
    config.num_layers = config.num_decoder_layers = 3, config.dropout_rate = 0;
    std::vector<T5Model> models;
    std::vector<at::Tensor> inputs, labels;
    for (int r = 0; r < 2; ++r) {  // before the threads: they would share the global generator
        at::manual_seed(7);
        models.emplace_back(config);
        inputs.push_back(at::randint(2, 96, {2, 9}, at::kLong).roll(r));
        labels.push_back(at::randint(2, 96, {2, 5}, at::kLong));
    }
    std::vector<std::vector<at::Tensor>> local(2), averaged(2);
    std::vector<size_t> early(2), buckets(2);
    with_two_ranks([&](Communicator& group, int r) {
        T5Model& model = models[r];
        auto backward = [&] { model->forward(inputs[r], at::ones_like(inputs[r]), labels[r]).loss.backward(); };
        backward();
        for (const at::Tensor& parameter : model->parameters()) local[r].push_back(parameter.grad().clone());
        model->zero_grad();
        OverlappedGradientAveraging averaging(group, model->parameters(), model->parameters(), /*bucket_bytes=*/4096);
        averaging.arm(false);
        backward();
        averaging.finish();
        for (const at::Tensor& parameter : model->parameters()) averaged[r].push_back(parameter.grad().clone());
        early[r] = averaging.averager().buckets_sent_early();
        buckets[r] = averaging.averager().bucket_count();
    });
    for (int r = 0; r < 2; ++r) {
        EXPECT_GT(buckets[r], 10u);
        // Every bucket left inside backward(), the last one (the shared embedding's) as the
        // encoder's embedding lookup, autograd's final step, completed it.
        EXPECT_EQ(early[r], buckets[r]) << "rank " << r;
        ASSERT_EQ(averaged[r].size(), local[0].size());
        for (size_t i = 0; i < local[0].size(); ++i) {
            // A sum of two gradients, halved: one rounding each way at the gradients' scale.
            const at::Tensor mean = (local[0][i] + local[1][i]) / 2;
            const double scale = at::max(local[0][i].abs(), local[1][i].abs()).max().item<double>();
            EXPECT_LE(test::max_abs_diff(averaged[r][i], mean), test::reordered_sum_bound(2, scale)) << i;
        }
    }
    // The ranks' batches differ: their gradients differ by far more than rounding.
    const double scale = local[0].front().abs().max().item<double>();
    EXPECT_GT(test::max_abs_diff(local[0].front(), local[1].front()), 1000 * test::reordered_sum_bound(2, scale));
}

// Gradients added in any order travel in the one fixed order; a gradient never added counts as
// its output's value (a parameter the pass did not reach, or one summed earlier); adding one
// twice in a step is a logic error.
TEST(Distributed, AveragerSendsBucketsInOrderAndCountsMissingGradientsAsTheirOutputs) {
    if (!gloo_available()) GTEST_SKIP() << "this build has no Gloo (libgloo-dev was not found at configure time)";
    std::vector<std::vector<at::Tensor>> outputs(2);
    std::vector<size_t> early(2), buckets(2);
    std::vector<bool> twice_refused(2);
    with_two_ranks([&](Communicator& group, int r) {
        for (int64_t size : {4, 300, 5}) outputs[r].push_back(at::full({size}, 100.0f * (r + 1)));
        auto averager = group.gradient_averager(outputs[r], /*bucket_bytes=*/16);  // one bucket each
        // Rank 0 adds the first parameter's gradient (the last bucket), rank 1 the last's (the first).
        const size_t index = r == 0 ? 0 : 2;
        averager->add(index, at::full({outputs[r][index].numel()}, double(r + 1)));
        try {
            averager->add(index, outputs[r][index]);
        } catch (const std::logic_error&) {
            twice_refused[r] = true;
        }
        averager->finish(outputs[r]);
        early[r] = averager->buckets_sent_early(), buckets[r] = averager->bucket_count();
    });
    EXPECT_EQ(buckets, (std::vector<size_t>{3, 3}));
    EXPECT_EQ(early, (std::vector<size_t>{0, 1}));  // rank 0's bucket 2 waits for buckets 0 and 1
    EXPECT_EQ(twice_refused, (std::vector<bool>{true, true}));
    for (int r = 0; r < 2; ++r) {
        // Parameter 0: rank 0 added 1, rank 1 kept its output 200. Parameter 1: 100 and 200.
        // Parameter 2: rank 0 kept 100, rank 1 added 2.
        EXPECT_TRUE(at::all(outputs[r][0] == 100.5f).item<bool>()) << outputs[r][0];
        EXPECT_TRUE(at::all(outputs[r][1] == 150.0f).item<bool>());
        EXPECT_TRUE(at::all(outputs[r][2] == 51.0f).item<bool>()) << outputs[r][2];
    }
}

// bench-parallel times the ranks with the gradients sent during and after the backward pass:
// the two train alike (the same last loss), and the figures are all there.
TEST(Distributed, BenchParallelTrainsAlikeWithAndWithoutOverlap) {
    if (!gloo_available()) GTEST_SKIP() << "this build has no Gloo (libgloo-dev was not found at configure time)";
    test::TempDir dir;
    const auto r = cli("bench-parallel --config " + test::data_path("hf_t5/t5-v1_1-gated-untied/config.json") +
                           " --batch 2 --input-len 16 --target-len 8 --steps 3 --warmup 1 --json",
                       dir.path());
    ASSERT_EQ(r.exit_code, 0) << r.output;
    const std::string output = r.output.substr(0, r.output.find_last_not_of('\n') + 1);
    const auto json = nlohmann::json::parse(output.substr(output.rfind('\n') + 1));  // the last line
    for (const char* key : {"single", "parallel", "after_backward", "threaded"}) {
        ASSERT_TRUE(json.contains(key)) << key << " in " << r.output;
        EXPECT_GT(json[key]["tokens_per_s"].get<double>(), 0) << key;
    }
    EXPECT_EQ(json["parallel"]["processes"], 2);
    const double overlapped = json["parallel"]["last_loss"], after = json["after_backward"]["last_loss"];
    // The same training, its all-reduce overlapping the backward pass or not: 4 steps (warm-up
    // included) that may differ in summation order.
    const T5Config config = T5Config::load(test::data_path("hf_t5/t5-v1_1-gated-untied/config.json"));
    const double gradient_relative = test::t5_gradient_relative_bound(config, 16, 8, 2 * 16);
    EXPECT_NEAR(overlapped, after, test::trained_loss_relative_bound(4, gradient_relative) * after);
    EXPECT_NE(json["single"]["last_loss"].get<double>(), 0.0);
}

TEST(Distributed, LauncherSetsTheRankVariablesAndNamesAFailedRank) {
    test::TempDir dir;
    const std::string script = "echo \"$RANK $WORLD_SIZE $LOCAL_RANK $MASTER_ADDR $MASTER_PORT\" > " + dir.file("rank") +
                               "$RANK; test $RANK = 1 && kill -9 $$; exit 0";
    std::ostringstream log;
    EXPECT_EQ(launch_local_ranks("/bin/sh", {"-c", script}, 2, log), 1);
    EXPECT_NE(log.str().find("rank 1 of 2 (pid "), std::string::npos) << log.str();
    EXPECT_NE(log.str().find("was killed by signal 9"), std::string::npos) << log.str();
    for (int rank = 0; rank < 2; ++rank) {
        std::ifstream in(dir.file("rank" + std::to_string(rank)));
        int r = -1, world = 0, local = -1, port = 0;
        std::string address;
        in >> r >> world >> local >> address >> port;
        EXPECT_EQ(r, rank);
        EXPECT_EQ(world, 2);
        EXPECT_EQ(local, rank);
        EXPECT_EQ(address, "127.0.0.1");
        EXPECT_GT(port, 0);
    }
    std::ostringstream quiet;
    EXPECT_EQ(launch_local_ranks("/bin/sh", {"-c", "exit 3"}, 2, quiet), 3);  // every rank paused: the run paused
    EXPECT_EQ(quiet.str(), "");
}

}  // namespace
}  // namespace gs
