// Reading a pre-training corpus: plain text (one document per line, or documents separated by
// blank lines), JSON Lines with a text field, and WikiExtractor output (<doc ...> blocks), each
// possibly gzip-compressed; folders are read recursively in name order. Every line is checked
// to be UTF-8; bad input (bad bytes, bad JSON, a missing field, an empty file) stops the read
// with an error naming the file and line, or is skipped with a warning, as the caller chooses.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace gs {

enum class TextLayout { line_per_document, blank_line_separated };
enum class BadInputPolicy { stop, skip };
enum class CorpusFormat { plain_text, json_lines, wiki_extractor };

TextLayout parse_text_layout(const std::string& name);          // "line" | "blank"
BadInputPolicy parse_bad_input_policy(const std::string& name);  // "stop" | "skip"
const char* format_name(CorpusFormat format);

// The longest line a corpus may have: 4 MiB, some hundred thousand words, far beyond a real
// document (Wikipedia's longest articles are a few hundred kB), while preparing a document takes
// many times its size in memory (a 20 MB line took 1.8 GB). A longer line is bad input, found
// without holding more of it than this in memory.
constexpr size_t kMaxCorpusLineBytes = size_t{4} << 20;

struct CorpusOptions {
    std::vector<std::string> paths;  // files or folders
    TextLayout layout = TextLayout::line_per_document;
    std::string json_field = "text";
    BadInputPolicy on_bad_input = BadInputPolicy::stop;
};

struct CorpusFile {
    std::string path;
    uint64_t size = 0;
    int64_t modified_ns = 0;  // Unix time in nanoseconds (stat's st_mtim)
    CorpusFormat format = CorpusFormat::plain_text;
};

// A modification time as recorded in cache.json or tokenizer.json, in Unix nanoseconds. Records
// written before these times were Unix ones hold std::filesystem's file_clock count, whose epoch
// is not Unix's (libstdc++: 2174-01-01, so each such value of our time is negative); those are
// converted, so that an unchanged file stays unchanged and a changed one is still seen.
int64_t recorded_modified_ns(int64_t recorded);

// The files the options name, folders expanded (hidden entries skipped), in a stable order.
// Throws when a path does not exist or no file is found.
std::vector<CorpusFile> list_corpus_files(const CorpusOptions& options);

struct Document {
    std::string text;
    std::string file;
    uint64_t line = 0;      // where the document starts, 1-based
};

// Byte offset of the first invalid UTF-8 sequence (overlong forms, surrogates and code points
// above U+10FFFF included), or npos when `text` is valid.
size_t find_invalid_utf8(std::string_view text);

class CorpusReader {
public:
    explicit CorpusReader(CorpusOptions options);
    ~CorpusReader();
    CorpusReader(const CorpusReader&) = delete;
    CorpusReader& operator=(const CorpusReader&) = delete;

    // The next document; false after the last one.
    bool next(Document& document);

    const std::vector<CorpusFile>& files() const { return files_; }
    uint64_t total_bytes() const { return total_bytes_; }
    // Bytes of the corpus files consumed so far (compressed bytes for gzip files).
    uint64_t bytes_read() const;
    uint64_t skipped_documents() const { return skipped_; }
    // One line per skipped document or empty file, naming file and line.
    const std::vector<std::string>& warnings() const { return warnings_; }

private:
    class FileReader;
    bool open_next_file();
    void report_bad_input(const std::string& message);

    CorpusOptions options_;
    std::vector<CorpusFile> files_;
    uint64_t total_bytes_ = 0;
    uint64_t finished_bytes_ = 0;
    size_t next_file_ = 0;
    std::unique_ptr<FileReader> current_;
    uint64_t skipped_ = 0;
    std::vector<std::string> warnings_;
};

// Splits documents into sentencepiece training sentences: one per line, lines longer than
// `max_bytes` cut at a space (or a character boundary) so that the trainer does not drop them.
// With `share` below 1, keeps about that share of the sentences, chosen by a seeded hash of
// their text: sentencepiece holds every sentence it is given (and ~10x that while training),
// so a large corpus is sampled before it reaches the trainer.
class TrainingSentences {
public:
    explicit TrainingSentences(CorpusReader& reader, size_t max_bytes = 4000, double share = 1.0, uint64_t seed = 0)
        : reader_(reader), max_bytes_(max_bytes), share_(share), seed_(seed) {}
    bool next(std::string& sentence);

private:
    bool next_piece(std::string& sentence);
    bool sampled(const std::string& sentence) const;

    CorpusReader& reader_;
    size_t max_bytes_;
    double share_;
    uint64_t seed_;
    Document document_;
    size_t position_ = 0;
    bool has_document_ = false;
};

}  // namespace gs
