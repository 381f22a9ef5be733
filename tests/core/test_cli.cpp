// growthstudio-cli driven as a user drives it: real processes, real files.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <sys/wait.h>

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <nlohmann/json.hpp>

#include "cli_test_support.h"
#include "core/growth/growth_probe.h"
#include "core/growth/t5_growth.h"
#include "core/io/safetensors.h"
#include "core/model/checkpoint.h"
#include "test_support.h"

namespace gs {
namespace {

using ProcessResult = test::CliResult;

ProcessResult run_cli(const std::string& arguments) { return test::run_growthstudio_cli(arguments); }

std::string last_line(const std::string& text) { return test::last_output_line(text); }

const std::string kFixture = "hf_t5/t5-v1_1-gated-untied";

std::vector<int64_t> row_values(const at::Tensor& t, int64_t row) {
    at::Tensor r = t[row].contiguous();
    return std::vector<int64_t>(r.data_ptr<int64_t>(), r.data_ptr<int64_t>() + r.numel());
}

// What summation order can change in `model`'s logits on `probe`, at their scale (tolerance.h).
double probe_logit_bound(T5Model& model, const ProbeBatch& probe) {
    model->eval();
    at::NoGradGuard no_grad;
    const double scale = model->forward(probe.input_ids, probe.attention_mask, probe.labels).logits.abs().max().item<double>();
    return test::t5_forward_bound(model->config(), probe.input_ids.size(1), probe.labels.size(1), scale);
}

TEST(Cli, InfoReportsVersionsDevicesAndBlas) {
    ProcessResult r = run_cli("info --threads 1");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("LibTorch"), std::string::npos);
    EXPECT_NE(r.output.find("BLAS"), std::string::npos);
    EXPECT_NE(r.output.find("1 LibTorch threads"), std::string::npos) << r.output;
    r = run_cli("info --json");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    auto json = nlohmann::json::parse(last_line(r.output));
    for (const char* key : {"libtorch", "sentencepiece", "sqlite", "blas", "cpu_threads", "cuda_devices"}) {
        EXPECT_TRUE(json.contains(key)) << key;
    }
    EXPECT_GE(json["cpu_threads"].get<int>(), 1);
}

TEST(Cli, ScoreReproducesReferenceLossAndLogits) {
    SafetensorsFile expected(test::data_path(kFixture + "/expected.safetensors"));
    at::Tensor input_ids = expected.load("input_ids"), mask = expected.load("attention_mask");
    at::Tensor labels = expected.load("labels");
    test::TempDir dir;
    {
        std::ofstream out(dir.file("examples.jsonl"));
        for (int64_t row = 0; row < input_ids.size(0); ++row) {
            std::vector<int64_t> ids = row_values(input_ids, row);
            ids.resize(mask[row].sum().item<int64_t>());  // the unpadded text of the row
            out << nlohmann::json{{"input_ids", ids}, {"labels", row_values(labels, row)}}.dump() << "\n";
            if (row == 0) out << "\n";  // blank lines are skipped
        }
    }
    ProcessResult r = run_cli("score --checkpoint " + test::data_path(kFixture) + " --input " +
                              dir.file("examples.jsonl") + " --logits " + dir.file("logits.safetensors"));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    // The token-weighted mean over lines is the batch loss HF computes.
    // Another implementation sums in another order: the forward path's bound at the logits'
    // scale (tolerance.h); the loss moves by at most twice the largest logit error, and the
    // 8 significant digits printed add 5e-9 relative.
    at::Tensor reference = expected.load("logits");
    const double logit_bound = test::t5_forward_bound(T5Config::load(test::data_path(kFixture + "/config.json")),
                                                      input_ids.size(1), labels.size(1), reference.abs().max().item<double>());
    const std::string mean = last_line(r.output);
    double loss = std::stod(mean.substr(mean.find("loss ") + 5));
    const double expected_loss = expected.load("loss").item<double>();
    EXPECT_NEAR(loss, expected_loss, 2 * logit_bound + 5e-9 * expected_loss) << r.output;

    SafetensorsFile logits(dir.file("logits.safetensors"));
    for (int64_t row = 0; row < reference.size(0); ++row) {
        at::Tensor got = logits.load("logits." + std::to_string(row));
        EXPECT_LT(test::max_abs_diff(got, reference[row]), logit_bound) << "row " << row;
    }
}

TEST(Cli, ScoreNamesTheBadLineAndField) {
    test::TempDir dir;
    std::ofstream(dir.file("bad.jsonl")) << "{\"input_ids\": [5, 6], \"labels\": [7]}\n{\"input_ids\": [5, 999999]}\n";
    ProcessResult r = run_cli("score --checkpoint " + test::data_path(kFixture) + " --input " + dir.file("bad.jsonl"));
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.output.find("bad.jsonl:2: field 'input_ids': id 999999 is outside the vocabulary"), std::string::npos)
        << r.output;
}

TEST(Cli, BenchPrintsFiguresAndAJsonLastLine) {
    ProcessResult r = run_cli("bench --config " + test::data_path(kFixture + "/config.json") +
                              " --batch 2 --input-len 16 --target-len 8 --steps 2 --warmup 1 --threads 1 --json");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    auto json = nlohmann::json::parse(last_line(r.output));
    for (const char* key : {"steps_per_s", "tokens_per_s", "flops_per_s", "mfu"}) {
        ASSERT_TRUE(json.contains(key)) << key;
        EXPECT_GT(json[key].get<double>(), 0.0) << key;
    }
    // tokens/s is steps/s times the tokens of one batch.
    // One product of doubles, perhaps in another order: a few units in the last place.
    const double tokens_per_s = json["steps_per_s"].get<double>() * 2 * (16 + 8);
    EXPECT_NEAR(json["tokens_per_s"].get<double>(), tokens_per_s, 1e-12 * tokens_per_s);
}

TEST(Cli, UsageMistakesExitWithTwoAndSayWhy) {
    ProcessResult r = run_cli("bench --preset tiny --config x.json");
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.output.find("exactly one of --preset and --config"), std::string::npos) << r.output;
    r = run_cli("score --input x.jsonl");
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.output.find("--checkpoint is required"), std::string::npos) << r.output;
    r = run_cli("frobnicate");
    EXPECT_EQ(r.exit_code, 2);
    r = run_cli("bench --preset huge");
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.output.find("unknown model preset 'huge'"), std::string::npos) << r.output;
}

// The command names as the general usage lists them: each usage line starts two spaces in.
std::vector<std::string> listed_commands() {
    std::istringstream usage(run_cli("--help").output);
    std::vector<std::string> names;
    for (std::string line; std::getline(usage, line);) {
        if (line.size() > 2 && line.rfind("  ", 0) == 0 && line[2] != ' ') names.push_back(line.substr(2, line.find(' ', 2) - 2));
    }
    return names;
}

TEST(Cli, EveryCommandTakesThreadsAndHelp) {
    const std::vector<std::string> names = listed_commands();
    ASSERT_GE(names.size(), 20u);
    for (const std::string& name : names) {
        const ProcessResult r = run_cli(name + " --threads 1 --help");
        EXPECT_EQ(r.exit_code, 0) << name << ": " << r.output;
        EXPECT_EQ(r.output.rfind("usage: growthstudio-cli " + name + " ", 0), 0u) << r.output;
    }
    const ProcessResult negative = run_cli("evaluate --threads -2");
    EXPECT_EQ(negative.exit_code, 2);
    EXPECT_NE(negative.output.find("option --threads: expected a whole number >= 0"), std::string::npos) << negative.output;
}

TEST(Cli, GrowWritesACheckpointThatReproducesThePrintedProbeFigures) {
    test::TempDir dir;
    const std::string source = test::data_path(kFixture);
    ProcessResult r = run_cli("grow --from " + source + " --to " + test::data_path("grow/wider-deeper.json") +
                              " --op da --seed 3 --probe-seed 11 --threads 1 --json --out " + dir.file("grown"));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    const auto figures = nlohmann::json::parse(r.output);
    T5Model before = load_t5_checkpoint(source);
    T5Model after = load_t5_checkpoint(dir.file("grown"));
    EXPECT_EQ(after->config().num_layers, 4);
    EXPECT_EQ(after->config().d_model, 96);
    const ProbeBatch probe = make_probe_batch(before->config().vocab_size, 11);
    const ProbeComparison expected = compare_on_probe(before, after, probe);
    // The CLI ran on one thread, this process may use several: each model's forward pass may
    // sum in another order (tolerance.h), and a loss moves by at most twice its logits' error.
    const double before_bound = probe_logit_bound(before, probe), after_bound = probe_logit_bound(after, probe);
    EXPECT_NEAR(figures["loss_before"].get<double>(), expected.loss_before, 2 * before_bound);
    EXPECT_NEAR(figures["loss_after"].get<double>(), expected.loss_after, 2 * after_bound);
    EXPECT_NEAR(figures["max_logit_difference"].get<double>(), expected.max_logit_difference, 2 * (before_bound + after_bound));
    EXPECT_GT(expected.max_logit_difference, 1000 * (before_bound + after_bound));  // AKI + stacking change the function
    const GrowthPlan plan = load_growth_plan(dir.file("grown"));
    EXPECT_EQ(plan.options.seed, 3u);
    EXPECT_EQ(plan.options.op.letters(), "da");
}

TEST(Cli, ExactGrowthToAPresetShapeKeepsTheFunction) {
    test::TempDir dir;
    ProcessResult r = run_cli("grow --from " + test::data_path(kFixture) + " --to " +
                              test::data_path("grow/one-and-a-half.json") + " --op f --exact --out " + dir.file("grown"));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("RMS-preserving copies"), std::string::npos) << r.output;
    const std::string marker = "max |logit difference| ";
    const size_t at = r.output.find(marker);
    ASSERT_NE(at, std::string::npos) << r.output;
    // The grown model computes the source's function, up to the rounding of its longer sums.
    T5Model grown = load_t5_checkpoint(dir.file("grown"));
    const ProbeBatch probe = make_probe_batch(grown->config().vocab_size, 0);
    EXPECT_LT(std::stod(r.output.substr(at + marker.size())), 2 * probe_logit_bound(grown, probe)) << r.output;
}

TEST(Cli, GrowRefusesAnOperatorThatCannotReachTheTarget) {
    test::TempDir dir;
    ProcessResult r = run_cli("grow --from " + test::data_path(kFixture) + " --to " +
                              test::data_path("grow/one-and-a-half.json") + " --op d --out " + dir.file("grown"));
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.output.find("operator 'd' cannot change d_model (64 -> 96); width needs f or a (df, da)"),
              std::string::npos)
        << r.output;
    EXPECT_FALSE(std::filesystem::exists(dir.file("grown")));
    r = run_cli("grow --from " + test::data_path(kFixture) + " --to base --op x --out " + dir.file("grown"));
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.output.find("unknown letter 'x'"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace gs
