// The data pipeline on real Korean Wikipedia text: the KorQuAD 1.0 dev paragraphs of the shared
// task data (GS_SHARED_DATA_DIR, set by scripts/test.sh). Skipped when the data is absent.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "core/data/batches.h"
#include "core/data/corpus.h"
#include "core/data/token_cache.h"
#include "core/data/token_file.h"
#include "data_test_support.h"
#include "test_support.h"

namespace gs {
namespace {

class SharedKoreanData : public ::testing::Test {
protected:
    void SetUp() override {
        const std::string dir = test::shared_data_dir();
        if (dir.empty()) GTEST_SKIP() << "GS_SHARED_DATA_DIR is not set (scripts/test.sh sets it to ../shared/data)";
        korquad_ = dir + "/korquad-1.0/KorQuAD_v1.0_dev.json";
        if (!std::filesystem::exists(korquad_)) GTEST_SKIP() << korquad_ << " is missing";
    }

    // The distinct paragraphs, in file order.
    std::vector<std::string> paragraphs() const {
        std::ifstream in(korquad_);
        const auto json = nlohmann::json::parse(in);
        std::vector<std::string> result;
        std::set<std::string> seen;
        for (const auto& article : json.at("data")) {
            for (const auto& paragraph : article.at("paragraphs")) {
                const std::string context = paragraph.at("context");
                if (seen.insert(context).second) result.push_back(context);
            }
        }
        return result;
    }

    std::string korquad_;
};

size_t count_unknown(const Tokenizer& tokenizer, const std::vector<std::string>& texts) {
    size_t unknown = 0;
    for (const auto& text : texts) {
        for (int32_t id : tokenizer.encode(text)) unknown += id == Tokenizer::kUnkId;
    }
    return unknown;
}

TEST_F(SharedKoreanData, ByteFallbackLeavesNoUnknownPieces) {
    const std::vector<std::string> texts = paragraphs();
    ASSERT_EQ(texts.size(), 961u);
    // Trained on the Apache manual, the tokenizer meets characters in Wikipedia it never saw.
    EXPECT_GT(count_unknown(test::korean_tokenizer(), texts), 0u);
    CorpusOptions corpus;
    corpus.paths = {test::korean_corpus_path()};
    CorpusReader reader(corpus);
    TrainingSentences sentences(reader);
    TokenizerTrainingOptions options;
    options.vocab_size = test::kKoreanVocab;
    options.byte_fallback = true;
    const Tokenizer with_bytes = Tokenizer::train(options, [&](std::string& s) { return sentences.next(s); });
    EXPECT_EQ(with_bytes.piece(3), "<0x00>");  // 256 byte pieces follow the specials
    EXPECT_EQ(count_unknown(with_bytes, texts), 0u);
}

TEST_F(SharedKoreanData, WikipediaParagraphsMakeACacheAndBatches) {
    test::TempDir dir;
    {
        std::ofstream out(dir.file("korquad.jsonl"));
        for (const auto& text : paragraphs()) out << nlohmann::json{{"text", text}}.dump() << "\n";
    }
    TokenCacheOptions options;
    options.corpus.paths = {dir.file("korquad.jsonl")};
    const TokenCacheSummary summary = prepare_token_cache(dir.file("cache"), test::korean_tokenizer(), options);
    EXPECT_EQ(summary.train.documents + summary.validation.documents, 961u);
    EXPECT_LE(summary.validation.documents, 15u);  // about 961/200
    const TokenFile train = TokenFile::open(train_tokens_path(dir.file("cache")));
    const SpanCorruptionDataset dataset(train, {}, test::korean_tokenizer().sentinel_id(0));
    EXPECT_GT(dataset.rows(), 500u);
    const SpanBatch batch = dataset.batch({0, 0}, 8);
    EXPECT_EQ(batch.inputs.size(), 8u * 512);
}

}  // namespace
}  // namespace gs
