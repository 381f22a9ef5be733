// What growthstudio-cli tells a user before and while it works: the plan of `run --dry-run`
// (parameters with the experiment's own vocabulary, step times measured or guessed) and the
// progress lines of `prepare` and `run` in a log (stderr a file).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli_test_support.h"
#include "core/io/files.h"
#include "core/model/checkpoint.h"
#include "core/model/t5_cost.h"
#include "core/store/store.h"
#include "data_test_support.h"
#include "test_support.h"

namespace gs {
namespace {

namespace fs = std::filesystem;

// The test experiment (tiny sizes, train:1000 tokenizer, its cache in its folder) with one stage
// T under `budget`, written to dir/experiment.json.
void write_one_stage_experiment(const test::TempDir& dir, const std::string& budget) {
    nlohmann::json experiment = read_json_file(test::data_path("experiments/tiny_T_d_S.json"));
    experiment["name"] = "tiny-T";
    experiment["pipeline"] = "T";
    experiment["budgets"] = budget;
    experiment["validation"] = {{"interval_steps", 100000}, {"batches", 2}};
    experiment["checkpoint_interval_steps"] = 100000;
    test::write_text(dir.file("experiment.json"), experiment.dump(2));
}

std::vector<std::string> lines_of(const std::string& text) {
    std::istringstream in(text);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

std::vector<std::string> lines_with(const std::string& text, const std::string& part) {
    std::vector<std::string> found;
    for (const std::string& line : lines_of(text)) {
        if (line.find(part) != std::string::npos) found.push_back(line);
    }
    return found;
}

// The number before " parameters" on the plan's "stage 1" line.
int64_t planned_parameters(const std::string& plan) {
    std::smatch match;
    const std::string stage = lines_with(plan, "stage 1").at(0);
    EXPECT_TRUE(std::regex_search(stage, match, std::regex(", ([0-9]+) parameters"))) << stage;
    return match.empty() ? -1 : std::stoll(match[1]);
}

// growthstudio-cli with its stderr written to `log` (a file, as when a job's output is logged).
test::CliResult run_logged(const std::string& arguments, const std::string& log, const fs::path& folder) {
    return test::run_shell("(" + std::string(GS_CLI_PATH) + " " + arguments + " 2> '" + log + "')", folder.string());
}

int64_t seconds_of(const std::string& clock) {  // "h:mm:ss"
    return std::stoll(clock.substr(0, clock.find(':'))) * 3600 + std::stoll(clock.substr(clock.size() - 5, 2)) * 60 +
           std::stoll(clock.substr(clock.size() - 2));
}

TEST(CliPlan, DryRunUsesTheTokenizersVocabularyAndSaysHowStepTimesAreKnown) {
    test::TempDir dir;
    write_one_stage_experiment(dir, "6steps");
    const nlohmann::json tiny = read_json_file(test::data_path("experiments/tiny_T_d_S.json"))["sizes"]["T"];

    // Before anything is trained: 1000 pieces + 100 sentinels, padded up to a multiple of 128.
    test::CliResult plan = test::run_growthstudio_cli("run experiment.json --db ws.db --dry-run", dir.path().string());
    ASSERT_EQ(plan.exit_code, 0) << plan.output;
    EXPECT_NE(plan.output.find("vocabulary  1152 ids (1100 of the tokenizer, padded to a multiple of 128) as the "
                               "experiment asks (train:1000), not trained yet"),
              std::string::npos)
        << plan.output;
    // The T5 formula with untied embeddings (T5 v1.1): shared and lm_head of vocab x d_model, per
    // encoder layer attention (4 d x inner) and a gated FFN (3 d x d_ff) with two norms, per decoder
    // layer two attentions, the FFN and three norms, the relative bias of each stack's block 0, the
    // two final norms.
    const int64_t d = tiny["d_model"], inner = tiny["d_kv"].get<int64_t>() * tiny["num_heads"].get<int64_t>(),
                  ff = tiny["d_ff"], layers = tiny["num_layers"], heads = tiny["num_heads"];
    const int64_t encoder_layer = 4 * d * inner + 3 * d * ff + 2 * d;
    const int64_t decoder_layer = 8 * d * inner + 3 * d * ff + 3 * d;
    const int64_t without_vocabulary = layers * (encoder_layer + decoder_layer) + 2 * 32 * heads + 2 * d;
    EXPECT_EQ(planned_parameters(plan.output), 2 * 1152 * d + without_vocabulary);
    ASSERT_EQ(lines_with(plan.output, "s/step (guess: half the measured").size(), 1u) << plan.output;
    EXPECT_TRUE(lines_with(plan.output, "measured: ").empty()) << plan.output;

    const test::CliResult run = test::run_growthstudio_cli("run experiment.json --db ws.db --quiet", dir.path().string());
    ASSERT_EQ(run.exit_code, 0) << run.output;
    Store store(dir.file("ws.db"));
    const std::string checkpoint = store.checkpoints(store.find_run("tiny-T")->id).back().path;
    const T5Model trained = load_t5_checkpoint(checkpoint);

    plan = test::run_growthstudio_cli("run experiment.json --db ws.db --dry-run", dir.path().string());
    ASSERT_EQ(plan.exit_code, 0) << plan.output;
    EXPECT_NE(plan.output.find("from tokenizer " + (dir.path() / "cache/spiece.model").string()), std::string::npos)
        << plan.output;
    EXPECT_EQ(planned_parameters(plan.output), trained->parameter_count());
    // 6 steps, the first (warm-up) left out.
    EXPECT_EQ(lines_with(plan.output, "s/step (measured: median of 5 earlier steps of run tiny-T on ").size(), 1u)
        << plan.output;
    EXPECT_TRUE(lines_with(plan.output, "guess: ").empty()) << plan.output;
}

TEST(CliProgress, ATimeBudgetRunLogsTrainingLinesWithTheBudgetsEta) {
    test::TempDir dir;
    const int64_t budget_s = 12;
    write_one_stage_experiment(dir, std::to_string(budget_s) + "s");
    const test::CliResult run = run_logged("run experiment.json --db ws.db", dir.file("log.txt"), dir.path());
    ASSERT_EQ(run.exit_code, 0) << run.output;
    const std::string log = read_text_file(dir.file("log.txt"));
    const std::vector<std::string> training = lines_with(log, "| training |");
    // The phase's first step, then a line every 10 s: two at least in 12 s, without any validation between.
    ASSERT_GE(training.size(), 2u) << log;
    const std::regex eta("ETA stage ([0-9]+:[0-9]{2}:[0-9]{2}), run ([0-9]+:[0-9]{2}:[0-9]{2})$");
    for (const std::string& line : training) {
        std::smatch match;
        ASSERT_TRUE(std::regex_search(line, match, eta)) << line;
        EXPECT_LE(seconds_of(match[1]), budget_s) << line;  // what is left of the budget
        EXPECT_EQ(match[1], match[2]) << line;              // one stage: the run ends with it
    }
    EXPECT_EQ(log.find('\r'), std::string::npos) << "a log gets whole lines";
    // Before training, the run prepared its corpus and said so, as prepare does.
    for (const std::string phase : {"reading ", "tokenizing "}) {
        const std::vector<std::string> lines = lines_with(log, phase);
        ASSERT_FALSE(lines.empty()) << log;
        EXPECT_NE(lines.back().find("(100 %)"), std::string::npos) << log;
    }
    EXPECT_FALSE(lines_with(log, "training the tokenizer: ").empty()) << log;
}

TEST(CliProgress, PrepareLogsEachPhaseToItsEnd) {
    test::TempDir dir;
    const test::CliResult r = run_logged("prepare --corpus " + test::korean_corpus_path() +
                                             " --tokenizer train:1000 --threads 2 --out out",
                                         dir.file("log.txt"), dir.path());
    ASSERT_EQ(r.exit_code, 0) << r.output;
    const std::string log = read_text_file(dir.file("log.txt"));
    for (const std::string phase : {"reading ", "tokenizing "}) {
        const std::vector<std::string> lines = lines_with(log, phase);
        ASSERT_FALSE(lines.empty()) << log;
        EXPECT_NE(lines.back().find("(100 %)"), std::string::npos) << log;
    }
    const std::vector<std::string> training = lines_with(log, "training the tokenizer: 0:00:0");
    ASSERT_FALSE(training.empty()) << log;
    EXPECT_NE(training.front().find("(estimated from the sentences' size)"), std::string::npos) << log;
}

}  // namespace
}  // namespace gs
