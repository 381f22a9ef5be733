// growthstudio-cli prepare and bench-data, run as processes on real files.
#include <gtest/gtest.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "cli_test_support.h"
#include "data_test_support.h"
#include "test_support.h"

namespace gs {
namespace {

using test::run_growthstudio_cli;

nlohmann::json last_json(const test::CliResult& r) { return nlohmann::json::parse(test::last_output_line(r.output)); }

TEST(CliData, PrepareTrainsTokenizesAndThenReuses) {
    test::TempDir dir;
    const std::string common = "prepare --corpus " + test::korean_corpus_path() + " --tokenizer train:3000 --out " +
                               dir.file("out") + " --threads 2 --quiet --json";
    test::CliResult r = run_growthstudio_cli(common);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    nlohmann::json json = last_json(r);
    EXPECT_EQ(json["documents"], 106);
    EXPECT_EQ(json["train_documents"].get<int>() + json["validation_documents"].get<int>(), 106);
    EXPECT_EQ(json["tokenizer_size"], 3100);
    EXPECT_EQ(json["model_vocab_size"], 3200);
    EXPECT_EQ(json["target_length"], 114);
    EXPECT_FALSE(json["cache_reused"].get<bool>());
    EXPECT_NE(r.output.find("MB/s"), std::string::npos) << r.output;
    r = run_growthstudio_cli(common);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    json = last_json(r);
    EXPECT_TRUE(json["tokenizer_reused"].get<bool>());
    EXPECT_TRUE(json["cache_reused"].get<bool>());
    // The trained model can be given back as a file.
    r = run_growthstudio_cli("prepare " + test::korean_corpus_path() + " --tokenizer " + dir.file("out/spiece.model") +
                             " --out " + dir.file("again") + " --quiet --json --input-len 128");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_EQ(last_json(r)["raw_length"], 141);
    EXPECT_EQ(last_json(r)["target_length"], 29);
}

TEST(CliData, PrepareReportsBadInputWithFileAndLine) {
    test::TempDir dir;
    test::write_text(dir.file("bad.txt"), "좋은 문서\n\xfe 나쁜 문서\n");
    const std::string tokenizer = dir.file("spiece.model");
    test::korean_tokenizer().save(tokenizer);
    test::CliResult r = run_growthstudio_cli("prepare --corpus " + dir.file("bad.txt") + " --tokenizer " + tokenizer +
                                             " --out " + dir.file("out") + " --quiet");
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.output.find(dir.file("bad.txt") + ":2: invalid UTF-8"), std::string::npos) << r.output;
    r = run_growthstudio_cli("prepare --corpus " + dir.file("bad.txt") + " --tokenizer " + tokenizer + " --out " +
                             dir.file("out") + " --quiet --on-bad-input skip --json");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_EQ(last_json(r)["skipped_documents"], 1);
    EXPECT_NE(r.output.find("warning: " + dir.file("bad.txt") + ":2"), std::string::npos) << r.output;
}

TEST(CliData, PrepareUsageMistakes) {
    test::CliResult r = run_growthstudio_cli("prepare --tokenizer train:1000");
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.output.find("--out is required"), std::string::npos) << r.output;
    r = run_growthstudio_cli("prepare --out /tmp/x --tokenizer train:many");
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.output.find("train:VOCAB"), std::string::npos) << r.output;
    r = run_growthstudio_cli("prepare --out /tmp/x --tokenizer train:1000 --layout paragraphs");
    EXPECT_EQ(r.exit_code, 2);
    r = run_growthstudio_cli("prepare --out /tmp/x --tokenizer train:1000 --split 3");
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.output.find("TRAIN:VALIDATION"), std::string::npos) << r.output;
}

TEST(CliData, BenchDataPrintsThroughputAndBatchShare) {
    test::TempDir dir;
    const test::CliResult r = run_growthstudio_cli("bench-data --out " + dir.file("out") + " --tokenizer train:2000 "
                                                   "--threads 2 --seconds 0.2 --json");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    const nlohmann::json json = last_json(r);
    for (const char* key : {"encode_mb_per_s", "cache_mb_per_s", "batch_seconds", "batch_share_of_step"}) {
        EXPECT_GT(json[key].get<double>(), 0.0) << key;
    }
}

}  // namespace
}  // namespace gs
