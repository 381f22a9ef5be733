// Batches from the token cache: reproducible, resumable, prefetched in order, as tensors.
#include <gtest/gtest.h>

#include <set>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include "core/data/batch_tensors.h"
#include "core/data/batches.h"
#include "core/data/corpus.h"
#include "core/data/pretraining_data.h"
#include "core/data/token_cache.h"
#include "core/data/token_file.h"
#include "data_test_support.h"
#include "test_support.h"

namespace gs {
namespace {

// The Korean corpus tokenized once per test process into a temporary cache.
class Batches : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        dir_ = new test::TempDir;
        TokenCacheOptions options;
        options.corpus.paths = {test::korean_corpus_path()};
        prepare_token_cache(dir_->file("cache"), test::korean_tokenizer(), options);
        tokens_ = new TokenFile(TokenFile::open(train_tokens_path(dir_->file("cache"))));
    }
    static void TearDownTestSuite() {
        delete tokens_;
        delete dir_;
    }
    static SpanCorruptionDataset dataset(int64_t input_length = 512) {
        SpanCorruptionOptions options;
        options.input_length = input_length;
        return SpanCorruptionDataset(*tokens_, options, test::korean_tokenizer().sentinel_id(0));
    }
    static test::TempDir* dir_;
    static TokenFile* tokens_;
};
test::TempDir* Batches::dir_ = nullptr;
TokenFile* Batches::tokens_ = nullptr;

TEST_F(Batches, RowsAreThePackedStreamCutIntoRawLength) {
    const auto data = dataset();
    EXPECT_EQ(data.rows(), tokens_->token_count() / 568);
    EXPECT_GT(data.rows(), 100u);
    std::vector<int32_t> second(568);
    tokens_->read(568, 568, second.data());
    EXPECT_EQ(data.raw_row(1), second);
}

TEST_F(Batches, SameSeedSameBatchesOtherSeedOthers) {
    const auto data = dataset();
    const SpanBatch a = data.batch({7, 0}, 4), b = data.batch({7, 0}, 4), c = data.batch({8, 0}, 4);
    EXPECT_EQ(a.inputs, b.inputs);
    EXPECT_EQ(a.targets, b.targets);
    EXPECT_NE(a.inputs, c.inputs);
    EXPECT_EQ(a.inputs.size(), 4u * 512);
    EXPECT_EQ(a.targets.size(), 4u * 114);
    EXPECT_EQ(a.next, (DataPosition{7, 4, data.fingerprint()}));
}

TEST_F(Batches, ResumingFromAPositionContinuesWithTheNextBatch) {
    const auto data = dataset();
    SpanBatch first = data.batch(data.start(3), 2);
    SpanBatch second = data.batch(first.next, 2);
    const DataPosition stored = DataPosition::from_json(nlohmann::json::parse(first.next.to_json().dump()), "ckpt");
    EXPECT_EQ(data.batch(stored, 2).inputs, second.inputs);
    // Two batches of 2 are one batch of 4.
    const SpanBatch both = data.batch({3, 0}, 4);
    std::vector<int32_t> joined = first.inputs;
    joined.insert(joined.end(), second.inputs.begin(), second.inputs.end());
    EXPECT_EQ(both.inputs, joined);
    EXPECT_THROW(DataPosition::from_json(nlohmann::json{{"seed", 1}}, "ckpt.json"), std::runtime_error);
}

TEST_F(Batches, APositionFromAnotherDatasetIsRefused) {
    const auto at512 = dataset(512), at256 = dataset(256);
    EXPECT_NE(at512.fingerprint(), at256.fingerprint());
    const DataPosition saved = at512.batch(at512.start(1), 2).next;
    EXPECT_NO_THROW(at512.batch(saved, 2));
    EXPECT_THROW(at256.batch(saved, 2), std::runtime_error);
}

TEST_F(Batches, EveryRowOnceAnEpochInAnotherOrderEachEpoch) {
    const auto data = dataset(128);
    std::set<uint64_t> epoch0, epoch1;
    bool same_order = true;
    for (uint64_t i = 0; i < data.rows(); ++i) {
        epoch0.insert(data.row_at(5, i));
        epoch1.insert(data.row_at(5, data.rows() + i));
        same_order = same_order && data.row_at(5, i) == data.row_at(5, data.rows() + i);
    }
    EXPECT_EQ(epoch0.size(), data.rows());
    EXPECT_EQ(epoch1.size(), data.rows());
    EXPECT_EQ(*epoch0.rbegin(), data.rows() - 1);
    EXPECT_FALSE(same_order);
}

TEST_F(Batches, ExamplesReconstructTheirRow) {
    const auto data = dataset();
    const Tokenizer& tokenizer = test::korean_tokenizer();
    std::vector<int32_t> inputs(512), targets(114);
    for (uint64_t position = 0; position < 20; ++position) {
        data.example(1, position, inputs.data(), targets.data());
        std::vector<int32_t> row;
        size_t t = 0;
        for (size_t i = 0; i + 1 < inputs.size(); ++i) {
            if (!tokenizer.is_sentinel(inputs[i])) {
                row.push_back(inputs[i]);
                continue;
            }
            ASSERT_EQ(targets[t], inputs[i]);  // the target names the same sentinel, in order
            for (++t; t + 1 < targets.size() && !tokenizer.is_sentinel(targets[t]); ++t) row.push_back(targets[t]);
        }
        EXPECT_EQ(row, data.raw_row(data.row_at(1, position)));
    }
}

TEST_F(Batches, PrefetcherGivesTheSameBatchesInOrder) {
    const auto data = dataset();
    BatchPrefetcher prefetcher(data, 3, {11, 6}, 3, 4);
    DataPosition position{11, 6};
    for (int i = 0; i < 8; ++i) {
        const SpanBatch expected = data.batch(position, 3);
        const SpanBatch got = prefetcher.next();
        EXPECT_EQ(got.inputs, expected.inputs);
        EXPECT_EQ(got.targets, expected.targets);
        EXPECT_EQ(got.next, expected.next);
        position = got.next;
    }
}

// Data-parallel shards: the ranks' parts of a batch, side by side, are the single-process
// batch, and each shard's `next` is where the whole batch ends.
TEST_F(Batches, ShardsOfABatchTogetherAreTheWholeBatch) {
    const auto data = dataset();
    BatchPrefetcher rank0(data, 4, {11, 6}, 1, 2, {0, 2});
    BatchPrefetcher rank1(data, 4, {11, 6}, 1, 2, {1, 2});
    DataPosition position{11, 6};
    for (int i = 0; i < 3; ++i) {
        const SpanBatch whole = data.batch(position, 4);
        const SpanBatch first = rank0.next(), second = rank1.next();
        EXPECT_EQ(first.batch_size, 2);
        std::vector<int32_t> inputs = first.inputs;
        inputs.insert(inputs.end(), second.inputs.begin(), second.inputs.end());
        std::vector<int32_t> targets = first.targets;
        targets.insert(targets.end(), second.targets.begin(), second.targets.end());
        EXPECT_EQ(inputs, whole.inputs);
        EXPECT_EQ(targets, whole.targets);
        EXPECT_EQ(first.next, whole.next);
        EXPECT_EQ(second.next, whole.next);
        position = whole.next;
    }
    EXPECT_THROW(BatchPrefetcher(data, 5, {11, 6}, 1, 2, {0, 2}), std::invalid_argument);  // 5 rows into 2 halves
}

TEST_F(Batches, TensorsAreInt64WithTheBatchShape) {
    const SpanBatch batch = dataset().batch({0, 0}, 2);
    const TensorBatch tensors = to_tensors(batch, true);
    EXPECT_EQ(tensors.input_ids.sizes(), (at::IntArrayRef{2, 512}));
    EXPECT_EQ(tensors.labels.sizes(), (at::IntArrayRef{2, 114}));
    EXPECT_EQ(tensors.input_ids.scalar_type(), at::kLong);
    EXPECT_EQ(tensors.labels[1][113].item<int64_t>(), Tokenizer::kEosId);
    EXPECT_EQ(tensors.input_ids[0][5].item<int64_t>(), batch.inputs[5]);
}

TEST(PretrainingData, OpensWhatPrepareWrote) {
    test::TempDir dir;
    const Tokenizer& tokenizer = test::korean_tokenizer();
    TokenCacheOptions options;
    options.corpus.paths = {test::korean_corpus_path()};
    options.split = {9, 1, 0};  // enough validation text for a few rows
    prepare_token_cache(dir.file("cache"), tokenizer, options);
    tokenizer.save(dir.file("cache/spiece.model"));
    const auto data = PretrainingData::open(dir.file("cache"), {});
    EXPECT_EQ(data->tokenizer().fingerprint(), tokenizer.fingerprint());
    EXPECT_GT(data->train().rows(), 0u);
    ASSERT_NE(data->validation(), nullptr);
    EXPECT_GT(data->validation()->rows(), 0u);
    EXPECT_EQ(data->train().batch(data->train().start(0), 2).targets.size(), 2u * 114);
}

TEST(PretrainingData, RefusesTokenFilesOfAnotherTokenizer) {
    test::TempDir dir;
    TokenCacheOptions options;
    options.corpus.paths = {test::korean_corpus_path()};
    prepare_token_cache(dir.file("cache"), test::korean_tokenizer(), options);
    test::write_text(dir.file("text.txt"), "가나다 라마바 사아자 차카타 파하\n");
    CorpusOptions corpus;
    corpus.paths = {dir.file("text.txt")};
    CorpusReader reader(corpus);
    TrainingSentences sentences(reader);
    TokenizerTrainingOptions small;
    small.vocab_size = 20;
    small.model_type = "char";
    small.character_coverage = 1.0;
    Tokenizer::train(small, [&](std::string& s) { return sentences.next(s); }).save(dir.file("cache/spiece.model"));
    try {
        PretrainingData::open(dir.file("cache"), {});
        FAIL() << "opened token files of another tokenizer";
    } catch (const std::runtime_error& error) {
        EXPECT_NE(std::string(error.what()).find("train.tokens: tokenized with another tokenizer"), std::string::npos)
            << error.what();
    }
}

TEST(RowPermutation, IsABijection) {
    for (uint64_t size : {1ull, 2ull, 3ull, 17ull, 1000ull, 4096ull}) {
        RowPermutation permutation(size, 9);
        std::set<uint64_t> seen;
        for (uint64_t i = 0; i < size; ++i) seen.insert(permutation(i));
        EXPECT_EQ(seen.size(), size);
        EXPECT_LT(*seen.rbegin(), size);
    }
}

}  // namespace
}  // namespace gs
