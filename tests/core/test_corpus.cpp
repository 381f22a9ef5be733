// Corpus formats, bad-input errors and the train/validation split.
#include <gtest/gtest.h>

#include <fstream>
#include <optional>
#include <set>

#include "core/data/corpus.h"
#include "core/data/split.h"
#include "data_test_support.h"
#include "test_support.h"

namespace gs {
namespace {

std::vector<Document> read_all(const CorpusOptions& options) {
    CorpusReader reader(options);
    std::vector<Document> documents;
    Document document;
    while (reader.next(document)) documents.push_back(document);
    return documents;
}

std::vector<std::string> texts(const std::vector<Document>& documents) {
    std::vector<std::string> result;
    for (const auto& d : documents) result.push_back(d.text);
    return result;
}

CorpusOptions corpus_of(const std::vector<std::string>& paths) {
    CorpusOptions options;
    options.paths = paths;
    return options;
}

std::string error_of(const CorpusOptions& options) {
    try {
        read_all(options);
    } catch (const std::exception& error) {
        return error.what();
    }
    return "";
}

TEST(Corpus, PlainTextOneDocumentPerLine) {
    test::TempDir dir;
    test::write_text(dir.file("a.txt"), "첫 문서\n\n둘째 문서\r\n셋째\n");
    const auto documents = read_all(corpus_of({dir.file("a.txt")}));
    EXPECT_EQ(texts(documents), (std::vector<std::string>{"첫 문서", "둘째 문서", "셋째"}));
    EXPECT_EQ(documents[1].line, 3u);
    EXPECT_EQ(documents[1].file, dir.file("a.txt"));
}

TEST(Corpus, PlainTextDocumentsSeparatedByBlankLines) {
    test::TempDir dir;
    test::write_text(dir.file("a.txt"), "\n가 문단\n나 문단\n\n\n다 문서\n");
    CorpusOptions options = corpus_of({dir.file("a.txt")});
    options.layout = TextLayout::blank_line_separated;
    const auto documents = read_all(options);
    EXPECT_EQ(texts(documents), (std::vector<std::string>{"가 문단\n나 문단", "다 문서"}));
    EXPECT_EQ(documents[0].line, 2u);
    EXPECT_EQ(documents[1].line, 6u);
}

TEST(Corpus, JsonLinesWithAChosenField) {
    test::TempDir dir;
    test::write_text(dir.file("a.jsonl"), "{\"body\": \"한국어\\n문서\", \"id\": 1}\n\n{\"body\": \"둘\"}\n");
    CorpusOptions options = corpus_of({dir.file("a.jsonl")});
    options.json_field = "body";
    EXPECT_EQ(texts(read_all(options)), (std::vector<std::string>{"한국어\n문서", "둘"}));
}

TEST(Corpus, WikiExtractorDocuments) {
    test::TempDir dir;
    test::write_text(dir.file("wiki_00"),
                     "<doc id=\"5\" url=\"https://ko.wikipedia.org/wiki?curid=5\" title=\"지미 카터\">\n지미 카터\n\n"
                     "제임스 얼 카터 주니어는 민주당 출신 미국 39대 대통령이다.\n</doc>\n"
                     "<doc id=\"9\" url=\"u\" title=\"수학\">\n수학\n\n수학은 수, 양, 구조를 다룬다.\n</doc>\n");
    const auto documents = read_all(corpus_of({dir.file("wiki_00")}));
    ASSERT_EQ(documents.size(), 2u);
    EXPECT_EQ(documents[0].text, "지미 카터\n제임스 얼 카터 주니어는 민주당 출신 미국 39대 대통령이다.");
    EXPECT_EQ(documents[1].line, 6u);
}

TEST(Corpus, GzipFilesAndFoldersInNameOrder) {
    test::TempDir dir;
    std::filesystem::create_directories(dir.path() / "corpus" / "sub");
    std::filesystem::create_directories(dir.path() / "corpus" / ".hidden");
    test::write_gzip(dir.file("corpus/b.txt.gz"), "둘\n셋\n");
    test::write_text(dir.file("corpus/a.txt"), "하나\n");
    test::write_gzip(dir.file("corpus/sub/c.jsonl.gz"), "{\"text\": \"넷\"}\n");
    test::write_text(dir.file("corpus/.hidden/x.txt"), "숨김\n");
    const auto files = list_corpus_files(corpus_of({dir.file("corpus")}));
    ASSERT_EQ(files.size(), 3u);
    EXPECT_EQ(files[2].format, CorpusFormat::json_lines);
    EXPECT_EQ(texts(read_all(corpus_of({dir.file("corpus")}))), (std::vector<std::string>{"하나", "둘", "셋", "넷"}));
}

TEST(Corpus, BadUtf8StopsWithFileAndLine) {
    test::TempDir dir;
    test::write_text(dir.file("a.txt"), "좋은 줄\n나쁜 \xC0\xAF 줄\n좋은 줄\n");
    const std::string error = error_of(corpus_of({dir.file("a.txt")}));
    EXPECT_NE(error.find(dir.file("a.txt") + ":2: invalid UTF-8 at byte 8"), std::string::npos) << error;
}

TEST(Corpus, BadUtf8SkippedWithAWarningWhenAsked) {
    test::TempDir dir;
    test::write_text(dir.file("a.txt"), "좋은 줄\n나쁜 \xED\xA0\x80 줄\n좋은 둘\n");
    CorpusOptions options = corpus_of({dir.file("a.txt")});
    options.on_bad_input = BadInputPolicy::skip;
    CorpusReader reader(options);
    Document document;
    std::vector<std::string> read;
    while (reader.next(document)) read.push_back(document.text);
    EXPECT_EQ(read, (std::vector<std::string>{"좋은 줄", "좋은 둘"}));
    EXPECT_EQ(reader.skipped_documents(), 1u);
    ASSERT_EQ(reader.warnings().size(), 1u);
    EXPECT_NE(reader.warnings()[0].find(":2: invalid UTF-8"), std::string::npos);
}

TEST(Corpus, EmptyFileIsAnError) {
    test::TempDir dir;
    test::write_text(dir.file("a.txt"), "문서\n");
    test::write_text(dir.file("empty.txt"), "\n\n");
    const std::string error = error_of(corpus_of({dir.file("a.txt"), dir.file("empty.txt")}));
    EXPECT_NE(error.find(dir.file("empty.txt") + ": empty file (no documents)"), std::string::npos) << error;
}

TEST(Corpus, JsonErrorsNameFileLineAndField) {
    test::TempDir dir;
    test::write_text(dir.file("a.jsonl"), "{\"text\": \"좋음\"}\n{\"title\": \"없음\"}\n");
    std::string error = error_of(corpus_of({dir.file("a.jsonl")}));
    EXPECT_NE(error.find(dir.file("a.jsonl") + ":2: no string field \"text\""), std::string::npos) << error;
    test::write_text(dir.file("b.jsonl"), "{\"text\": \n");
    error = error_of(corpus_of({dir.file("b.jsonl")}));
    EXPECT_NE(error.find(dir.file("b.jsonl") + ":1: invalid JSON"), std::string::npos) << error;
}

TEST(Corpus, MissingPathIsAnError) {
    EXPECT_NE(error_of(corpus_of({"/nonexistent/corpus.txt"})).find("/nonexistent/corpus.txt: no such file"),
              std::string::npos);
}

// The peak resident memory of this process (VmHWM) in bytes.
int64_t peak_memory_bytes() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("VmHWM:", 0) == 0) return std::stoll(line.substr(6)) * 1024;
    }
    return -1;
}

// Lowers the peak to the present use; false where the kernel does not let the process do so.
bool reset_peak_memory() {
    std::ofstream clear_refs("/proc/self/clear_refs");
    clear_refs << "5";
    clear_refs.flush();
    return clear_refs.good() && peak_memory_bytes() > 0;
}

// A file of a short document, a line of `long_line_bytes` bytes of 'a' (written in pieces, so
// that the test itself never holds it) ending in `ending`, and another short document.
std::string file_with_a_long_line(const test::TempDir& dir, size_t long_line_bytes, const std::string& ending) {
    const std::string path = dir.file("long.txt");
    std::ofstream out(path, std::ios::binary);
    out << "짧은 문서\n";
    const std::string piece(1 << 20, 'a');
    for (size_t left = long_line_bytes; left > 0; left -= std::min(left, piece.size())) {
        out.write(piece.data(), static_cast<std::streamsize>(std::min(left, piece.size())));
    }
    out << ending << "마지막 문서\n";
    return path;
}

TEST(Corpus, ALineLongerThanTheLimitIsBadInputReadInBoundedMemory) {
    test::TempDir dir;
    const std::string path = file_with_a_long_line(dir, 24u << 20, "\n");
    const bool measured = reset_peak_memory();
    const int64_t before = peak_memory_bytes();
    EXPECT_EQ(error_of(corpus_of({path})), path + ":2: the line is longer than 4194304 bytes (4 MiB), the longest a corpus "
                                                  "line may be (to skip such input instead of stopping, use the skip policy)");
    const int64_t growth = peak_memory_bytes() - before;

    CorpusOptions options = corpus_of({path});
    options.on_bad_input = BadInputPolicy::skip;
    CorpusReader reader(options);
    std::vector<Document> documents;
    for (Document document; reader.next(document);) documents.push_back(document);
    EXPECT_EQ(texts(documents), (std::vector<std::string>{"짧은 문서", "마지막 문서"}));
    EXPECT_EQ(documents.at(1).line, 3u);
    ASSERT_EQ(reader.warnings().size(), 1u);
    EXPECT_EQ(reader.warnings()[0].rfind(path + ":2: the line is longer than 4194304 bytes", 0), 0u) << reader.warnings()[0];

    if (!measured) GTEST_SKIP() << "this kernel does not let a process reset its peak memory; the bound is not measured";
    // The reader holds at most the limit of the line (its string's capacity up to twice that),
    // its 1 MiB read buffer and zlib's 1 MiB input and 2 MiB output buffers: 12 MiB, well under
    // the 24 MiB line read whole.
    EXPECT_LT(growth, int64_t{16} << 20);
}

TEST(Corpus, ALineAtTheLimitIsADocument) {
    test::TempDir dir;
    const std::string path = file_with_a_long_line(dir, kMaxCorpusLineBytes, "\r\n");
    const std::vector<Document> documents = read_all(corpus_of({path}));
    ASSERT_EQ(documents.size(), 3u);
    EXPECT_EQ(documents[1].text, std::string(kMaxCorpusLineBytes, 'a'));
    EXPECT_EQ(documents[2].line, 3u);
}

TEST(Corpus, Utf8Validation) {
    EXPECT_EQ(find_invalid_utf8("abc 한국어 😀"), std::string::npos);
    EXPECT_EQ(find_invalid_utf8("ab\xC3"), 2u);          // truncated
    EXPECT_EQ(find_invalid_utf8("\xE0\x80\xAF"), 0u);    // overlong
    EXPECT_EQ(find_invalid_utf8("a\xED\xB0\x80"), 1u);   // surrogate
    EXPECT_EQ(find_invalid_utf8("\xF4\x90\x80\x80"), 0u);  // above U+10FFFF
    EXPECT_EQ(find_invalid_utf8("\x80"), 0u);
}

TEST(Corpus, TrainingSentencesAreLinesCutAtSpaces) {
    test::TempDir dir;
    test::write_text(dir.file("a.jsonl"), "{\"text\": \"가나 다라\\n마바사 아자차 카타파\"}\n");
    CorpusReader reader(corpus_of({dir.file("a.jsonl")}));
    TrainingSentences sentences(reader, 13);  // 13 bytes: four Hangul syllables and a space
    std::vector<std::string> read;
    std::string sentence;
    while (sentences.next(sentence)) read.push_back(sentence);
    EXPECT_EQ(read, (std::vector<std::string>{"가나 다라", "마바사", "아자차", "카타파"}));
}

TEST(Corpus, TrainingSentencesSampledBySeededHash) {
    test::TempDir dir;
    std::string text;
    for (int i = 0; i < 4000; ++i) text += "문장 " + std::to_string(i) + "\n";
    test::write_text(dir.file("a.txt"), text);
    auto sample = [&](double share, uint64_t seed) {
        CorpusReader reader(corpus_of({dir.file("a.txt")}));
        TrainingSentences sentences(reader, 4000, share, seed);
        std::vector<std::string> kept;
        std::string sentence;
        while (sentences.next(sentence)) kept.push_back(sentence);
        return kept;
    };
    const auto quarter = sample(0.25, 1);
    // Sampling, not rounding: binomial, 4 standard deviations (the portable generator draws the
    // same numbers on every machine).
    EXPECT_NEAR(static_cast<double>(quarter.size()), 1000, 4 * std::sqrt(4000 * 0.25 * 0.75));
    EXPECT_EQ(sample(0.25, 1), quarter);
    EXPECT_NE(sample(0.25, 2), quarter);
    EXPECT_EQ(sample(1.0, 1).size(), 4000u);
}

TEST(Split, DeterministicSeededAndAboutTheRatio) {
    SplitOptions split;  // 199:1
    int validation = 0;
    const int documents = 200000;
    for (int i = 0; i < documents; ++i) validation += is_validation_document("문서 " + std::to_string(i), split);
    EXPECT_NEAR(validation, documents / 200, 4 * std::sqrt(documents / 200.0));  // binomial, 4 sigma
    SplitOptions other = split;
    other.seed = 7;
    int same = 0, validation_other = 0;
    for (int i = 0; i < documents; ++i) {
        const std::string text = "문서 " + std::to_string(i);
        EXPECT_EQ(is_validation_document(text, split), is_validation_document(text, split));
        validation_other += is_validation_document(text, other);
        same += is_validation_document(text, split) && is_validation_document(text, other);
    }
    EXPECT_NEAR(validation_other, documents / 200, 4 * std::sqrt(documents / 200.0));
    EXPECT_LT(same, validation / 10);  // another seed picks other documents
    split.train_parts = 3;
    validation = 0;
    for (int i = 0; i < documents; ++i) validation += is_validation_document("문서 " + std::to_string(i), split);
    EXPECT_NEAR(validation, documents / 4, 4 * std::sqrt(documents * 0.25 * 0.75));
}

}  // namespace
}  // namespace gs
