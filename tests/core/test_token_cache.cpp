// The tokenized cache: contents, reuse, invalidation, corruption, cancellation.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <chrono>

#include <filesystem>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/data/corpus.h"
#include "core/data/token_cache.h"
#include "core/data/token_file.h"
#include "core/io/files.h"
#include "core/tokenizer/tokenizer.h"
#include "data_test_support.h"
#include "test_support.h"

namespace gs {
namespace {
namespace fs = std::filesystem;

TokenCacheOptions options_for(const std::vector<std::string>& paths, int threads = 2) {
    TokenCacheOptions options;
    options.corpus.paths = paths;
    options.threads = threads;
    return options;
}

std::vector<int32_t> all_tokens(const TokenFile& file) {
    std::vector<int32_t> tokens(file.token_count());
    file.read(0, tokens.size(), tokens.data());
    return tokens;
}

// The folder's data files: its lock file (".lock", empty, left for the next preparer) aside.
std::vector<std::string> files_in(const fs::path& dir) {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir)) {
        if (entry.path().filename() != ".lock") names.push_back(entry.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
}

TEST(TokenCache, HoldsEveryDocumentWithEosInCorpusOrder) {
    const Tokenizer& tokenizer = test::korean_tokenizer();
    test::TempDir dir;
    test::write_text(dir.file("a.txt"), "아파치 서버\n가상호스트 설정\n포트와 주소\n");
    TokenCacheOptions options = options_for({dir.file("a.txt")});
    options.split.train_parts = 1;
    options.split.validation_parts = 0;
    const TokenCacheSummary summary = prepare_token_cache(dir.file("cache"), tokenizer, options);
    EXPECT_FALSE(summary.reused);
    EXPECT_EQ(summary.train.documents, 3u);
    EXPECT_EQ(summary.validation.documents, 0u);
    const TokenFile train = TokenFile::open(train_tokens_path(dir.file("cache")));
    std::vector<int32_t> expected;
    for (const char* text : {"아파치 서버", "가상호스트 설정", "포트와 주소"}) {
        tokenizer.encode(text, expected);
        expected.push_back(Tokenizer::kEosId);
    }
    EXPECT_EQ(all_tokens(train), expected);
    EXPECT_EQ(train.document_count(), 3u);
    EXPECT_EQ(train.header().token_bytes, 2u);
    EXPECT_EQ(train.header().tokenizer_fingerprint, tokenizer.fingerprint());
    EXPECT_EQ(summary.train.tokens, expected.size());
}

TEST(TokenCache, SameFilesWhateverTheThreadCount) {
    const Tokenizer& tokenizer = test::korean_tokenizer();
    test::TempDir dir;
    const auto one = prepare_token_cache(dir.file("one"), tokenizer, options_for({test::korean_corpus_path()}, 1));
    const auto three = prepare_token_cache(dir.file("three"), tokenizer, options_for({test::korean_corpus_path()}, 3));
    EXPECT_EQ(one.train.tokens, three.train.tokens);
    EXPECT_GT(one.validation.documents, 0u);  // 106 pages at 199:1: about one on average
    EXPECT_EQ(all_tokens(TokenFile::open(train_tokens_path(dir.file("one")))),
              all_tokens(TokenFile::open(train_tokens_path(dir.file("three")))));
}

TEST(TokenCache, AddingFilesMovesNoDocumentBetweenSplits) {
    const Tokenizer& tokenizer = test::korean_tokenizer();
    test::TempDir dir;
    test::write_text(dir.file("b.txt"), "새 파일의 문서 하나\n새 파일의 문서 둘\n새 파일의 문서 셋\n");
    auto options = options_for({test::korean_corpus_path()});
    options.split.train_parts = options.split.validation_parts = 1;  // half and half: many to move
    prepare_token_cache(dir.file("before"), tokenizer, options);
    options.corpus.paths.push_back(dir.file("b.txt"));
    prepare_token_cache(dir.file("after"), tokenizer, options);
    for (auto path : {train_tokens_path, validation_tokens_path}) {
        const std::vector<int32_t> before = all_tokens(TokenFile::open(path(dir.file("before"))));
        const std::vector<int32_t> after = all_tokens(TokenFile::open(path(dir.file("after"))));
        ASSERT_GE(after.size(), before.size());
        EXPECT_TRUE(std::equal(before.begin(), before.end(), after.begin()));  // the old documents, in place
    }
}

TEST(TokenFile, WideIdsRoundTripWithTheirDocumentOffsets) {
    test::TempDir dir;
    TokenFileHeader header;
    header.token_bytes = 4;
    header.vocab_size = 70000;
    TokenFileWriter writer(dir.file("wide.tokens"), header);
    const std::vector<int32_t> first = {69999, 65536, 1}, second = {3, 1};
    writer.add_document(first.data(), first.size());
    writer.add_document(second.data(), second.size());
    writer.commit();
    const TokenFile file = TokenFile::open(dir.file("wide.tokens"));
    EXPECT_EQ(file.header().token_bytes, 4u);
    EXPECT_EQ(file.document_count(), 2u);
    EXPECT_EQ(file.document_start(1), 3u);
    EXPECT_EQ(all_tokens(file), (std::vector<int32_t>{69999, 65536, 1, 3, 1}));
}

TEST(TokenFile, UncommittedWriterLeavesNothing) {
    test::TempDir dir;
    {
        TokenFileWriter writer(dir.file("x.tokens"), TokenFileHeader{});
        const int32_t ids[] = {5, 1};
        writer.add_document(ids, 2);
    }
    EXPECT_TRUE(files_in(dir.path()).empty());
}

// Two preparers of one folder at once (two runs of a study starting together): one builds while
// the other waits, then reuses what was built; neither removes the other's files.
TEST(TokenCache, TwoPreparersOfOneFolderBuildItOnce) {
    const Tokenizer& tokenizer = test::korean_tokenizer();
    test::TempDir dir;
    const auto options = options_for({test::korean_corpus_path()}, 1);
    std::vector<TokenCacheSummary> summaries(2);
    std::vector<std::string> errors(2);
    auto prepare = [&](int i) {
        try {
            summaries[i] = prepare_token_cache(dir.file("cache"), tokenizer, options);
        } catch (const std::exception& error) {
            errors[i] = error.what();
        }
    };
    std::thread other(prepare, 1);
    prepare(0);
    other.join();
    EXPECT_EQ(errors, (std::vector<std::string>{"", ""}));
    EXPECT_NE(summaries[0].reused, summaries[1].reused);  // one built, the other reused
    EXPECT_EQ(summaries[0].train.tokens, summaries[1].train.tokens);
    EXPECT_EQ(token_cache_staleness(dir.file("cache"), tokenizer, options), "");
    const auto alone = prepare_token_cache(dir.file("alone"), tokenizer, options);
    EXPECT_EQ(all_tokens(TokenFile::open(train_tokens_path(dir.file("cache")))),
              all_tokens(TokenFile::open(train_tokens_path(dir.file("alone")))));
}

// A preparer kept waiting says so through its progress callback, which can cancel the wait.
TEST(TokenCache, AWaitingPreparerReportsAndCanBeCancelled) {
    test::TempDir dir;
    fs::create_directories(dir.file("cache"));
    const auto held = FileLock::try_acquire(dir.file("cache/.lock"));
    ASSERT_TRUE(held);
    EXPECT_FALSE(FileLock::try_acquire(dir.file("cache/.lock")));  // excludes this process's others too
    std::vector<std::string> stages;
    TokenCacheOptions options = options_for({test::korean_corpus_path()});
    options.progress = [&](const Progress& p) {
        stages.push_back(p.stage);
        return stages.size() < 2;
    };
    EXPECT_THROW(prepare_token_cache(dir.file("cache"), test::korean_tokenizer(), options), OperationCancelled);
    ASSERT_EQ(stages.size(), 2u);
    EXPECT_EQ(stages[0], "waiting for another preparer of " + dir.file("cache"));
    EXPECT_FALSE(fs::exists(dir.file("cache/cache.json")));  // nothing built meanwhile
}

TEST(TokenCache, ReusedWhenNothingChanged) {
    const Tokenizer& tokenizer = test::korean_tokenizer();
    test::TempDir dir;
    test::write_text(dir.file("a.txt"), "아파치 서버\n");
    const auto options = options_for({dir.file("a.txt")});
    prepare_token_cache(dir.file("cache"), tokenizer, options);
    EXPECT_EQ(token_cache_staleness(dir.file("cache"), tokenizer, options), "");
    const auto again = prepare_token_cache(dir.file("cache"), tokenizer, options);
    EXPECT_TRUE(again.reused);
    EXPECT_EQ(again.train.documents + again.validation.documents, 1u);
}

int64_t stat_mtime_ns(const std::string& path) {
    struct stat status {};
    EXPECT_EQ(stat(path.c_str(), &status), 0) << path;
    return static_cast<int64_t>(status.st_mtim.tv_sec) * 1000000000 + status.st_mtim.tv_nsec;
}

// cache.json as an earlier version wrote it: the file_clock count std::filesystem gives.
void record_file_clock_times(const std::string& manifest_path) {
    nlohmann::json manifest = read_json_file(manifest_path);
    for (auto& file : manifest["source"]["files"]) {
        const auto since_epoch = fs::last_write_time(file["path"].get<std::string>()).time_since_epoch();
        file["modified_ns"] = std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch).count();
    }
    write_file_atomically(manifest_path, manifest.dump(2));
}

TEST(TokenCache, RecordsUnixModificationTimesAndReadsEarlierRecords) {
    const Tokenizer& tokenizer = test::korean_tokenizer();
    test::TempDir dir;
    test::write_text(dir.file("a.txt"), "아파치 서버\n");
    const auto options = options_for({dir.file("a.txt")});
    prepare_token_cache(dir.file("cache"), tokenizer, options);
    const nlohmann::json manifest = read_json_file(dir.file("cache/cache.json"));
    EXPECT_EQ(manifest["source"]["files"][0]["modified_ns"].get<int64_t>(), stat_mtime_ns(dir.file("a.txt")));

    // A record in the earlier form stays valid while the file is unchanged ...
    record_file_clock_times(dir.file("cache/cache.json"));
    ASSERT_LT(read_json_file(dir.file("cache/cache.json"))["source"]["files"][0]["modified_ns"].get<int64_t>(), 0);
    EXPECT_EQ(token_cache_staleness(dir.file("cache"), tokenizer, options), "");
    EXPECT_TRUE(prepare_token_cache(dir.file("cache"), tokenizer, options).reused);
    // ... and a file touched since (same size) is seen as modified.
    fs::last_write_time(dir.file("a.txt"), fs::last_write_time(dir.file("a.txt")) + std::chrono::seconds(90));
    EXPECT_EQ(token_cache_staleness(dir.file("cache"), tokenizer, options), "corpus file modified: " + dir.file("a.txt"));
    const auto rebuilt = prepare_token_cache(dir.file("cache"), tokenizer, options);
    EXPECT_FALSE(rebuilt.reused);
    const nlohmann::json rewritten = read_json_file(dir.file("cache/cache.json"));
    EXPECT_EQ(rewritten["source"]["files"][0]["modified_ns"].get<int64_t>(), stat_mtime_ns(dir.file("a.txt")));
    EXPECT_TRUE(prepare_token_cache(dir.file("cache"), tokenizer, options).reused);
}

TEST(TokenCache, RebuiltWhenTheCorpusChanges) {
    const Tokenizer& tokenizer = test::korean_tokenizer();
    test::TempDir dir;
    test::write_text(dir.file("a.txt"), "아파치 서버\n");
    auto options = options_for({dir.file("a.txt")});
    prepare_token_cache(dir.file("cache"), tokenizer, options);
    test::write_text(dir.file("a.txt"), "아파치 서버 설정\n");
    EXPECT_NE(token_cache_staleness(dir.file("cache"), tokenizer, options).find("changed size: " + dir.file("a.txt")),
              std::string::npos);
    const auto rebuilt = prepare_token_cache(dir.file("cache"), tokenizer, options);
    EXPECT_FALSE(rebuilt.reused);
    EXPECT_NE(rebuilt.rebuild_reason.find("a.txt"), std::string::npos);
    test::write_text(dir.file("b.txt"), "둘째 파일\n");
    options.corpus.paths.push_back(dir.file("b.txt"));
    EXPECT_NE(token_cache_staleness(dir.file("cache"), tokenizer, options).find("added: " + dir.file("b.txt")),
              std::string::npos);
    options.corpus.paths.pop_back();
    options.split.seed = 5;
    EXPECT_EQ(token_cache_staleness(dir.file("cache"), tokenizer, options), "corpus reading or split options changed");
}

TEST(TokenCache, RebuiltWhenTheTokenizerChanges) {
    test::TempDir dir;
    test::write_text(dir.file("a.txt"), "아파치 서버\n");
    const auto options = options_for({dir.file("a.txt")});
    prepare_token_cache(dir.file("cache"), test::korean_tokenizer(), options);
    CorpusOptions korean;
    korean.paths = {test::korean_corpus_path()};
    CorpusReader reader(korean);
    TrainingSentences sentences(reader);
    TokenizerTrainingOptions bigger;
    bigger.vocab_size = 3000;
    const Tokenizer other = Tokenizer::train(bigger, [&](std::string& s) { return sentences.next(s); });
    EXPECT_EQ(token_cache_staleness(dir.file("cache"), other, options), "the tokenizer changed");
}

TEST(TokenCache, CorruptOrTruncatedFilesAreDetected) {
    const Tokenizer& tokenizer = test::korean_tokenizer();
    test::TempDir dir;
    const auto options = options_for({test::korean_corpus_path()});
    prepare_token_cache(dir.file("cache"), tokenizer, options);
    const std::string train = train_tokens_path(dir.file("cache"));
    const auto size = fs::file_size(train);
    {
        std::fstream file(train, std::ios::in | std::ios::out | std::ios::binary);
        file.seekp(static_cast<std::streamoff>(size / 2));
        file.put('\x7f');
    }
    EXPECT_THROW(TokenFile::open(train), std::runtime_error);
    EXPECT_NE(token_cache_staleness(dir.file("cache"), tokenizer, options).find("checksum mismatch"), std::string::npos);
    fs::resize_file(train, size - 100);
    EXPECT_NE(token_cache_staleness(dir.file("cache"), tokenizer, options).find("truncated"), std::string::npos);
    const auto rebuilt = prepare_token_cache(dir.file("cache"), tokenizer, options);
    EXPECT_FALSE(rebuilt.reused);
    EXPECT_NO_THROW(TokenFile::open(train));
}

TEST(TokenCache, CancelledBuildLeavesNoFiles) {
    test::TempDir dir;
    auto options = options_for({test::korean_corpus_path(), test::korean_corpus_path()});
    int reports = 0;
    options.progress = [&](const Progress& progress) {
        EXPECT_EQ(progress.stage, "tokenizing");
        return ++reports < 1;  // cancel at the first report
    };
    fs::create_directories(dir.file("cache"));
    // Slow the reader enough to get a report before the end: many small documents.
    std::string many;
    for (int i = 0; i < 40000; ++i) many += "아파치 서버의 가상호스트 설정 " + std::to_string(i) + "\n";
    test::write_text(dir.file("many.txt"), many);
    options.corpus.paths = {dir.file("many.txt")};
    EXPECT_THROW(prepare_token_cache(dir.file("cache"), test::korean_tokenizer(), options), OperationCancelled);
    EXPECT_EQ(reports, 1);
    EXPECT_TRUE(files_in(dir.file("cache")).empty());
}

TEST(TokenCache, BadInputStopsTheBuildAndLeavesNoFiles) {
    test::TempDir dir;
    test::write_text(dir.file("a.txt"), "좋은 줄\n\xff 나쁜 줄\n");
    fs::create_directories(dir.file("cache"));
    try {
        prepare_token_cache(dir.file("cache"), test::korean_tokenizer(), options_for({dir.file("a.txt")}));
        FAIL() << "built a cache from bad input";
    } catch (const std::runtime_error& error) {
        EXPECT_NE(std::string(error.what()).find(dir.file("a.txt") + ":2: invalid UTF-8"), std::string::npos);
    }
    EXPECT_TRUE(files_in(dir.file("cache")).empty());
}

}  // namespace
}  // namespace gs
