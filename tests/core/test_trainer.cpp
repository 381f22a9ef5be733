// Experiment files and the trainer, driven through growthstudio-cli as a user runs it: a two-stage
// T_d_S pipeline on the bundled Korean corpus stores its curves, growth event and checkpoints; a
// run killed with SIGKILL resumes with exactly the losses of an uninterrupted one.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>

#include "cli_test_support.h"
#include "core/io/files.h"
#include "core/io/safetensors.h"
#include "core/model/checkpoint.h"
#include "core/data/span_corruption.h"
#include "core/store/store.h"
#include "core/tokenizer/tokenizer.h"
#include "core/train/experiment.h"
#include "test_support.h"

namespace gs {
namespace {

namespace fs = std::filesystem;

using Outcome = test::CliResult;

Outcome cli(const std::string& arguments, const fs::path& folder) { return test::run_growthstudio_cli(arguments, folder.string()); }

// A copy of the test experiment in a fresh folder: its cache and runs stay there.
fs::path experiment_folder(const test::TempDir& dir) {
    fs::copy_file(test::data_path("experiments/tiny_T_d_S.json"), dir.path() / "experiment.json");
    return dir.path();
}

std::vector<std::pair<int64_t, double>> train_curve(const std::string& database) {
    Store store(database);
    std::vector<std::pair<int64_t, double>> curve;
    const auto run = store.find_run("tiny-T_d_S");
    if (!run) return curve;  // not created yet
    for (const auto& row : store.metrics(run->id)) {
        if (row.train_loss) curve.emplace_back(row.step, *row.train_loss);
    }
    return curve;
}

TEST(Trainer, TwoStagePipelineStoresCurvesGrowthAndCheckpoints) {
    test::TempDir dir;
    const fs::path folder = experiment_folder(dir);
    // The experiment in a git checkout: the run records its commit.
    const std::string git = "cd '" + folder.string() + "' && git init -q && git add experiment.json && "
                            "git -c user.email=test@example.org -c user.name=test commit -qm experiment";
    ASSERT_EQ(std::system(git.c_str()), 0);
    FILE* pipe = popen(("git -C '" + folder.string() + "' rev-parse HEAD").c_str(), "r");
    char head[64] = {};
    ASSERT_TRUE(pipe && fgets(head, sizeof head, pipe));
    pclose(pipe);
    const Outcome run = cli("run experiment.json --db ws.db --quiet", folder);
    ASSERT_EQ(run.exit_code, 0) << run.output;
    Store store((folder / "ws.db").string());
    const auto record = store.find_run("tiny-T_d_S");
    ASSERT_TRUE(record);
    EXPECT_EQ(record->status, RunStatus::done);
    EXPECT_EQ(record->pipeline, "T_d_S");
    EXPECT_EQ(record->git_commit + "\n", std::string(head));
    const auto curve = train_curve((folder / "ws.db").string());
    ASSERT_EQ(curve.size(), 80u);
    EXPECT_EQ(curve.front().first, 1);
    EXPECT_EQ(curve.back().first, 80);
    EXPECT_LT(curve.back().second, curve.front().second - 1.0);  // it learns
    // One cosine schedule over both stages' budgets (80 steps, 10 of warm-up from 0).
    std::vector<double> rates;
    for (const auto& row : store.metrics(record->id)) {
        if (row.learning_rate) rates.push_back(*row.learning_rate);
    }
    ASSERT_EQ(rates.size(), 80u);
    EXPECT_DOUBLE_EQ(rates[0], 0.0);
    EXPECT_DOUBLE_EQ(rates[10], 0.02);
    // The same formula in double (cos(pi/2) is 6e-17, not 0), perhaps in another order: ulps of 0.02.
    EXPECT_NEAR(rates[45], 1e-5 + (0.02 - 1e-5) * 0.5 * (1 + std::cos(M_PI * 35.0 / 70.0)), 1e-12);
    EXPECT_LT(rates[79], 1e-4);

    const auto events = store.growth_events(record->id);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].op, "d");
    EXPECT_EQ(events[0].step, 40);
    ASSERT_TRUE(events[0].valid_loss_before && events[0].valid_loss_after);
    EXPECT_GT(events[0].probe_max_logit_difference, 0.0);  // stacking changes the function

    const auto stages = store.stages(record->id);
    ASSERT_EQ(stages.size(), 2u);
    EXPECT_EQ(stages[0].end_step, 40);
    EXPECT_EQ(stages[1].end_step, 80);
    const auto checkpoints = store.checkpoints(record->id);
    ASSERT_FALSE(checkpoints.empty());
    EXPECT_EQ(checkpoints.back().kind, CheckpointKind::final);
    T5Model final_model = load_t5_checkpoint(checkpoints.back().path);  // an HF folder
    const Tokenizer tokenizer = Tokenizer::load(checkpoints.back().path + "/spiece.model");  // with its tokenizer
    EXPECT_EQ(tokenizer.model_vocab_size(), final_model->config().vocab_size);
    EXPECT_EQ(final_model->config().num_layers, 4);
    EXPECT_EQ(final_model->config().d_model, 64);
    const auto summary = store.summaries().at(0);
    EXPECT_EQ(summary.step, 80);
    ASSERT_TRUE(summary.valid_loss);

    const Outcome csv = cli("export --db ws.db", folder);
    ASSERT_EQ(csv.exit_code, 0) << csv.output;
    EXPECT_NE(csv.output.find("1,T_d_S,40steps-40steps,"), std::string::npos) << csv.output;
}

TEST(Trainer, AKilledRunResumesWithTheSameLosses) {
    test::TempDir dir;
    const fs::path folder = experiment_folder(dir);
    ASSERT_EQ(cli("run experiment.json --db reference.db --runs-dir reference --quiet", folder).exit_code, 0);
    const auto reference = train_curve((folder / "reference.db").string());

    const std::string database = (folder / "killed.db").string();
    const pid_t child = fork();
    if (child == 0) {
        if (chdir(folder.c_str()) != 0) _exit(100);
        execl(GS_CLI_PATH, GS_CLI_PATH, "run", "experiment.json", "--db", "killed.db", "--runs-dir", "killed", "--quiet",
              static_cast<char*>(nullptr));
        _exit(101);
    }
    // Kill it in the second stage, between checkpoints (waiting up to two minutes on a busy machine).
    size_t seen = 0;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(2);
    while (seen < 55 && std::chrono::steady_clock::now() < deadline) {
        usleep(5000);
        if (fs::exists(database)) {
            try {
                seen = train_curve(database).size();
            } catch (const std::exception&) {  // the database may still be being created
            }
        }
    }
    kill(child, SIGKILL);
    waitpid(child, nullptr, 0);
    ASSERT_GE(seen, 55u);
    ASSERT_LT(train_curve(database).size(), 80u) << "the run finished before it was killed";

    const Outcome resumed = cli("resume tiny-T_d_S --db killed.db --quiet", folder);
    ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
    EXPECT_EQ(train_curve(database), reference);  // every step once, with the very same loss
    Store store(database);
    EXPECT_EQ(store.growth_events(store.find_run("tiny-T_d_S")->id).size(), 1u);
}

TEST(Trainer, BadInputGivesClearErrorsAndKeepsTheStore) {
    test::TempDir dir;
    const fs::path folder = experiment_folder(dir);
    write_file_atomically((folder / "broken.json").string(), "{\n  \"format\": \"growthstudio-experiment\",\n  \"version\": 1,\n  \"name\": x\n}\n");
    Outcome r = cli("run broken.json --db ws.db", folder);
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.output.find("broken.json:4:"), std::string::npos) << r.output;

    nlohmann::json json = read_json_file((folder / "experiment.json").string());
    json["data"]["corpus"] = "no/such/corpus";
    write_file_atomically((folder / "missing.json").string(), json.dump(1));
    r = cli("run missing.json --db ws.db", folder);
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.output.find("no/such/corpus"), std::string::npos) << r.output;

    ASSERT_EQ(cli("run experiment.json --db ws.db --quiet", folder).exit_code, 0);
    chmod((folder / "ws.db").c_str(), 0444);
    r = cli("run experiment.json --db ws.db --quiet", folder);
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.output.find("the database is read-only; nothing was changed"), std::string::npos) << r.output;
    chmod((folder / "ws.db").c_str(), 0644);
    Store store((folder / "ws.db").string());
    EXPECT_EQ(store.summaries().size(), 2u);  // the failed missing-corpus run and the finished one
    EXPECT_EQ(store.find_run("tiny-T_d_S-2")->status, RunStatus::done);
}

// Two databases in one folder share its runs/ by default: the second never trains into (and
// overwrites the checkpoints of) a run folder the first already holds.
TEST(Trainer, ASecondDatabaseInTheSameFolderLeavesTheFirstsRunFolderAlone) {
    test::TempDir dir;
    const fs::path folder = experiment_folder(dir);
    ASSERT_EQ(cli("run experiment.json --db first.db --quiet", folder).exit_code, 0);
    const fs::path first_run = folder / "runs" / "tiny-T_d_S";
    const std::string saved_experiment = read_text_file((first_run / "experiment.json").string());
    std::map<std::string, std::string> saved_checkpoints;
    for (const auto& file : fs::recursive_directory_iterator(first_run / "checkpoints")) {
        if (file.path().filename() == "model.safetensors") saved_checkpoints[file.path()] = read_text_file(file.path());
    }
    ASSERT_FALSE(saved_checkpoints.empty());

    // Named explicitly: refused, naming the folder, before the second database records anything.
    Outcome r = cli("run experiment.json --db second.db --name tiny-T_d_S --quiet", folder);
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.output.find(first_run.string() + ": this folder holds a run already"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("--runs-dir"), std::string::npos) << r.output;
    EXPECT_TRUE(Store((folder / "second.db").string()).summaries().empty());

    // Named by the experiment: the next free folder.
    ASSERT_EQ(cli("run experiment.json --db second.db --quiet", folder).exit_code, 0);
    const auto second = Store((folder / "second.db").string()).find_run("tiny-T_d_S-2");
    ASSERT_TRUE(second);
    EXPECT_EQ(second->directory, (folder / "runs" / "tiny-T_d_S-2").string());
    EXPECT_EQ(second->status, RunStatus::done);

    EXPECT_EQ(read_text_file((first_run / "experiment.json").string()), saved_experiment);
    for (const auto& [path, weights] : saved_checkpoints) {
        EXPECT_TRUE(read_text_file(path) == weights) << path;
    }
}

TEST(Experiment, EveryBundledExperimentFileIsValid) {
    const fs::path root = fs::path(GS_TEST_DATA_DIR).parent_path().parent_path() / "experiments";
    const std::set<std::string> table2 = {"T", "S", "S_a_B", "T_d_S_a_B", "T_da_B", "B", "S_init-a_B", "T_init-d_S_a_B",
                                          "S_init-f_B", "T_init-da_B"};
    for (const auto& folder : {"cpu", "paper"}) {
        std::set<std::string> names;
        int files = 0;
        for (const auto& entry : fs::directory_iterator(root / folder)) {
            if (entry.path().extension() != ".json") continue;
            const ExperimentSpec spec = ExperimentSpec::load(entry.path().string());
            names.insert(spec.pipeline.name());
            ++files;
            if (spec.name.find("-steps") != std::string::npos || spec.name.find("28000") != std::string::npos) {
                EXPECT_EQ(spec.pipeline.stages.back().budget.kind, Budget::Kind::steps) << entry.path();
            }
        }
        EXPECT_EQ(files, 11) << folder;  // Table 2's eleven rows (S_init-a_B twice, with two budgets)
        EXPECT_EQ(names, table2) << folder;
    }
}

TEST(Trainer, ANonFiniteGradientFailsTheRunOrIsSkippedBySetting) {
    test::TempDir dir;
    const fs::path folder = experiment_folder(dir);
    nlohmann::json json = read_json_file((folder / "experiment.json").string());
    json["optimizer"] = {{"kind", "adamw"}};
    json["schedule"] = {{"kind", "constant"}, {"peak_lr", 1e8}, {"warmup_steps", 0}};  // diverges at once
    json["gradient_clip"] = 0;
    write_file_atomically((folder / "diverge.json").string(), json.dump(1));
    Outcome r = cli("run diverge.json --db ws.db --quiet", folder);
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.output.find("step 2 (stage T): the loss is"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("no checkpoint was written after it"), std::string::npos) << r.output;
    Store store((folder / "ws.db").string());
    const auto failed = store.find_run("tiny-T_d_S");
    EXPECT_EQ(failed->status, RunStatus::failed);
    EXPECT_TRUE(store.checkpoints(failed->id).empty());

    // Skipping: a warning for each skipped step, and the run fails at the sixth skip of its first
    // 100 steps (more than max_skipped_share 0.05 allows) instead of finishing untrained.
    json["on_nonfinite"] = "skip";
    json["name"] = "skipping";
    write_file_atomically((folder / "skip.json").string(), json.dump(1));
    r = cli("run skip.json --db ws.db --quiet", folder);
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_EQ(test::count_occurrences(r.output, "warning: skipping: step "), 5) << r.output;
    EXPECT_NE(r.output.find("skipped (1 of "), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("6 of "), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("steps skipped, more than max_skipped_share 0.05 allows"), std::string::npos) << r.output;
    EXPECT_EQ(store.find_run("skipping")->status, RunStatus::failed);

    // A share of 1 lets every step be skipped: the run ends, each skip reported.
    json["max_skipped_share"] = 1;
    json["name"] = "skipping-all";
    write_file_atomically((folder / "skip-all.json").string(), json.dump(1));
    r = cli("run skip-all.json --db ws.db --quiet", folder);
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_GE(test::count_occurrences(r.output, "warning: skipping-all: step "), 6) << r.output;
    EXPECT_EQ(store.find_run("skipping-all")->status, RunStatus::done);
}

// bf16: the model computes in bf16, the optimiser keeps fp32 master weights, and checkpoints
// hold the masters.
TEST(Trainer, Bf16TrainsWithFp32MasterWeights) {
    test::TempDir dir;
    const fs::path folder = experiment_folder(dir);
    ASSERT_EQ(cli("run experiment.json --db fp32.db --runs-dir fp32 --quiet", folder).exit_code, 0);
    nlohmann::json json = read_json_file((folder / "experiment.json").string());
    json["precision"] = "bf16";
    write_file_atomically((folder / "bf16.json").string(), json.dump(1));
    const Outcome run = cli("run bf16.json --db bf16.db --runs-dir bf16 --quiet", folder);
    ASSERT_EQ(run.exit_code, 0) << run.output;
    const auto fp32 = train_curve((folder / "fp32.db").string());
    const auto bf16 = train_curve((folder / "bf16.db").string());
    ASSERT_EQ(bf16.size(), 80u);
    // The same initial weights and batches: the first losses agree to bf16's precision. Each
    // token's loss carries the bf16 roundings of T's forward path (6·sqrt(2·operations)·2^-8 of
    // its size, as in T5Model.Bf16WeightsTrackFp32Logits); the batch's loss is the mean of its
    // target tokens', whose independent errors shrink by the root of their number.
    const nlohmann::json sizes = json["sizes"]["T"];
    T5Config t;
    t.num_layers = sizes["num_layers"], t.num_decoder_layers = sizes["num_decoder_layers"];
    SpanCorruptionOptions span;
    span.input_length = json["data"]["input_length"];
    const double tokens = json["batch_size"].get<double>() * static_cast<double>(compute_span_lengths(span).target_length);
    const double per_token = test::kProbabilisticLambda * std::sqrt(2 * test::t5_forward_operations(t)) * test::kBfloat16Roundoff;
    EXPECT_NEAR(bf16.front().second, fp32.front().second, per_token / std::sqrt(tokens) * fp32.front().second);
    EXPECT_LT(bf16.back().second, bf16.front().second - 1.0);  // it learns
    Store store((folder / "bf16.db").string());
    const auto checkpoints = store.checkpoints(store.find_run("tiny-T_d_S")->id);
    SafetensorsFile weights(checkpoints.back().path + "/model.safetensors");
    EXPECT_EQ(weights.entry("shared.weight").dtype, "F32");
}

std::string spec_error(const std::function<void(nlohmann::json&)>& edit) {
    nlohmann::json json = read_json_file(test::data_path("experiments/tiny_T_d_S.json"));
    edit(json);
    try {
        ExperimentSpec::from_json(json, "x.json", "/tmp");
    } catch (const std::invalid_argument& error) {
        return error.what();
    }
    return "";
}

TEST(Experiment, ErrorsNameTheFieldAndWhatWasExpected) {
    EXPECT_EQ(spec_error([](nlohmann::json&) {}), "");
    EXPECT_EQ(spec_error([](nlohmann::json& j) { j["batch_size"] = 0; }),
              "x.json: field 'batch_size': expected a whole number >= 1");
    EXPECT_EQ(spec_error([](nlohmann::json& j) { j["data"]["split"] = "199"; }),
              "x.json: field 'data.split': '199' is not TRAIN:VALIDATION with both parts above 0, e.g. 199:1");
    EXPECT_NE(spec_error([](nlohmann::json& j) { j["batchsize"] = 8; }).find("x.json: field 'batchsize': unknown field"),
              std::string::npos);
    EXPECT_EQ(spec_error([](nlohmann::json& j) { j["pipeline"] = "T_q_S"; }),
              "x.json: field 'pipeline': pipeline 'T_q_S': growth operator 'q': unknown letter 'q' (expected d = depth, "
              "f = width by FPI, a = width by AKI)");
    EXPECT_EQ(spec_error([](nlohmann::json& j) { j["pipeline"] = "T_f_S"; }),
              "x.json: field 'pipeline': operator 'f' from stage 1 (T) to stage 2 (S): operator 'f' cannot change "
              "num_layers (2 -> 4); depth needs d (df, da)");
    EXPECT_EQ(spec_error([](nlohmann::json& j) { j["budgets"] = "40steps"; }),
              "x.json: field 'budgets': budget '40steps' has 1 value(s) but pipeline T_d_S trains 2 stage(s) (T, S)");
    EXPECT_EQ(spec_error([](nlohmann::json& j) { j["sizes"]["S"]["num_heads"] = "four"; }),
              "x.json: field 'sizes.S.num_heads': expected a whole number >= 1");
    EXPECT_EQ(spec_error([](nlohmann::json& j) { j["schedule"]["kind"] = "step"; }),
              "x.json: field 'schedule.kind': expected cosine, linear, inverse-sqrt or constant");
    EXPECT_EQ(spec_error([](nlohmann::json& j) { j["version"] = 2; }),
              "x.json: field 'version': expected 1 (this build reads version 1)");
}

}  // namespace
}  // namespace gs
