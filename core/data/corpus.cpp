#include "core/data/corpus.h"

#include <sys/stat.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "core/common/hash.h"
#include "core/io/files.h"

namespace gs {
namespace fs = std::filesystem;

TextLayout parse_text_layout(const std::string& name) {
    if (name == "line") return TextLayout::line_per_document;
    if (name == "blank") return TextLayout::blank_line_separated;
    throw std::invalid_argument("text layout '" + name + "': expected line or blank");
}

BadInputPolicy parse_bad_input_policy(const std::string& name) {
    if (name == "stop") return BadInputPolicy::stop;
    if (name == "skip") return BadInputPolicy::skip;
    throw std::invalid_argument("bad-input policy '" + name + "': expected stop or skip");
}

const char* format_name(CorpusFormat format) {
    switch (format) {
        case CorpusFormat::plain_text: return "text";
        case CorpusFormat::json_lines: return "jsonl";
        case CorpusFormat::wiki_extractor: return "wikiextractor";
    }
    return "?";
}

size_t find_invalid_utf8(std::string_view text) {
    const auto* s = reinterpret_cast<const unsigned char*>(text.data());
    const size_t n = text.size();
    size_t i = 0;
    while (i < n) {
        const unsigned char c = s[i];
        if (c < 0x80) {
            ++i;
            continue;
        }
        size_t length;
        uint32_t lowest;
        uint32_t code;
        if ((c & 0xE0) == 0xC0) { length = 2; lowest = 0x80; code = c & 0x1F; }
        else if ((c & 0xF0) == 0xE0) { length = 3; lowest = 0x800; code = c & 0x0F; }
        else if ((c & 0xF8) == 0xF0) { length = 4; lowest = 0x10000; code = c & 0x07; }
        else return i;
        if (i + length > n) return i;
        for (size_t k = 1; k < length; ++k) {
            if ((s[i + k] & 0xC0) != 0x80) return i;
            code = (code << 6) | (s[i + k] & 0x3F);
        }
        if (code < lowest || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return i;
        i += length;
    }
    return std::string_view::npos;
}

namespace {

std::string lowercase(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
    return text;
}

// Reads the first line of a (possibly gzip) file, to recognise WikiExtractor output.
std::string first_line(const std::string& path) {
    gzFile file = gzopen(path.c_str(), "rb");
    if (file == nullptr) throw std::runtime_error(path + ": cannot open for reading");
    char buffer[256] = {};
    const char* line = gzgets(file, buffer, sizeof buffer);
    gzclose(file);
    return line ? std::string(line) : std::string();
}

CorpusFormat detect_format(const fs::path& path) {
    std::string name = lowercase(path.filename().string());
    if (name.size() > 3 && name.compare(name.size() - 3, 3, ".gz") == 0) name.resize(name.size() - 3);
    const std::string extension = fs::path(name).extension().string();
    if (extension == ".jsonl" || extension == ".json" || extension == ".ndjson") return CorpusFormat::json_lines;
    return first_line(path.string()).rfind("<doc ", 0) == 0 ? CorpusFormat::wiki_extractor : CorpusFormat::plain_text;
}

int64_t modified_unix_ns(const fs::path& path) {
    struct stat status {};
    if (stat(path.c_str(), &status) != 0) throw std::runtime_error(path.string() + ": cannot read its modification time");
    return static_cast<int64_t>(status.st_mtim.tv_sec) * 1000000000 + status.st_mtim.tv_nsec;
}

CorpusFile describe_file(const fs::path& path) {
    CorpusFile file;
    file.path = path.string();
    file.size = fs::file_size(path);
    file.modified_ns = modified_unix_ns(path);
    file.format = detect_format(path);
    return file;
}

bool hidden(const fs::path& path) { return path.filename().string().rfind('.', 0) == 0; }

}  // namespace

int64_t recorded_modified_ns(int64_t recorded) {
    if (recorded >= 0) return recorded;
    // The two clocks' epochs differ by whole seconds; now() of each, a moment apart, gives it.
    using namespace std::chrono;
    const auto unix_now = duration_cast<nanoseconds>(system_clock::now().time_since_epoch());
    const auto file_now = duration_cast<nanoseconds>(fs::file_time_type::clock::now().time_since_epoch());
    const int64_t offset_s = static_cast<int64_t>(std::llround((unix_now - file_now).count() / 1e9));
    return recorded + offset_s * 1000000000;
}

std::vector<CorpusFile> list_corpus_files(const CorpusOptions& options) {
    std::vector<CorpusFile> files;
    for (const auto& name : options.paths) {
        const fs::path path(name);
        if (!fs::exists(path)) throw std::runtime_error(name + ": no such file or folder");
        if (!fs::is_directory(path)) {
            files.push_back(describe_file(path));
            continue;
        }
        std::vector<fs::path> found;
        for (auto it = fs::recursive_directory_iterator(path); it != fs::recursive_directory_iterator(); ++it) {
            if (hidden(it->path())) {
                if (it->is_directory()) it.disable_recursion_pending();
                continue;
            }
            if (it->is_regular_file()) found.push_back(it->path());
        }
        std::sort(found.begin(), found.end());
        for (const auto& file : found) files.push_back(describe_file(file));
    }
    if (files.empty()) throw std::runtime_error("the corpus has no files");
    return files;
}

// One corpus file, read line by line through zlib (which also reads uncompressed files).
class CorpusReader::FileReader {
public:
    FileReader(const CorpusFile& file, const CorpusOptions& options) : file_(file), options_(options) {
        handle_ = gzopen(file.path.c_str(), "rb");
        if (handle_ == nullptr) throw std::runtime_error(file.path + ": cannot open for reading");
        gzbuffer(handle_, 1 << 20);
        buffer_.resize(1 << 20);
    }
    ~FileReader() { gzclose(handle_); }

    const CorpusFile& file() const { return file_; }
    uint64_t documents() const { return documents_; }
    uint64_t bytes_read() const { return static_cast<uint64_t>(std::max<z_off_t>(gzoffset(handle_), 0)); }

    // The next document, or a bad-input message (`bad` set) for the document that failed.
    bool next(Document& document, std::string& bad) {
        bad.clear();
        switch (file_.format) {
            case CorpusFormat::json_lines: return next_json(document, bad);
            case CorpusFormat::wiki_extractor: return next_wiki(document, bad);
            case CorpusFormat::plain_text: break;
        }
        return options_.layout == TextLayout::line_per_document ? next_line_document(document, bad)
                                                                : next_paragraph_document(document, bad);
    }

private:
    // Reads one line without its '\n' (and '\r'); false at the end of the file. Of a line longer
    // than kMaxCorpusLineBytes only that much is kept (and `line_too_long_` set), so memory stays
    // bounded whatever the file holds.
    bool read_line(std::string& line) {
        line.clear();
        line_too_long_ = false;
        for (;;) {
            if (position_ == filled_ && !fill()) {
                if (line.empty()) return false;
                break;
            }
            const char* start = buffer_.data() + position_;
            const char* end = buffer_.data() + filled_;
            const char* newline = static_cast<const char*>(std::memchr(start, '\n', end - start));
            keep(line, start, newline ? newline : end);
            if (newline == nullptr) {
                position_ = filled_;
                continue;
            }
            position_ = newline - buffer_.data() + 1;
            break;
        }
        ++line_number_;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line_number_ == 1 && line.rfind("\xEF\xBB\xBF", 0) == 0) line.erase(0, 3);  // UTF-8 BOM
        if (line.size() > kMaxCorpusLineBytes) line_too_long_ = true;
        return true;
    }

    // Appends [start, end) to the line, keeping at most kMaxCorpusLineBytes + 1 bytes (a line at
    // the limit may still end in '\r'); bytes that do not fit make the line too long.
    void keep(std::string& line, const char* start, const char* end) {
        const size_t count = static_cast<size_t>(end - start);
        const size_t room = kMaxCorpusLineBytes + 1 - line.size();
        line.append(start, std::min(count, room));
        if (count > room) line_too_long_ = true;
    }

    bool fill() {
        const int n = gzread(handle_, buffer_.data(), static_cast<unsigned>(buffer_.size()));
        if (n < 0) {
            int code = 0;
            throw std::runtime_error(file_.path + ":" + std::to_string(line_number_ + 1) + ": read error: " +
                                     gzerror(handle_, &code));
        }
        if (n == 0) check_stream_complete();
        position_ = 0;
        filled_ = static_cast<size_t>(n);
        return n > 0;
    }

    // At the end of the file: zlib leaves Z_BUF_ERROR when the file ended inside a gzip stream,
    // which would otherwise read as a shorter corpus.
    void check_stream_complete() {
        int code = Z_OK;
        gzerror(handle_, &code);
        if (code != Z_BUF_ERROR) return;
        throw std::runtime_error(file_.path + ": the gzip stream ends early (truncated?) after " +
                                 std::to_string(std::max<z_off_t>(gztell(handle_), 0)) + " bytes");
    }

    std::string where(uint64_t line) const { return file_.path + ":" + std::to_string(line); }

    // Spaces and tabs only (all of it: a line cut at the length limit is not blank).
    bool blank_line() const { return !line_too_long_ && line_.find_first_not_of(" \t") == std::string::npos; }

    // Checks a line (its length, its bytes); on failure fills `bad` and returns false.
    bool check_line(const std::string& line, std::string& bad) const {
        if (line_too_long_) {
            bad = where(line_number_) + ": the line is longer than " + std::to_string(kMaxCorpusLineBytes) +
                  " bytes (4 MiB), the longest a corpus line may be";
            return false;
        }
        const size_t offset = find_invalid_utf8(line);
        if (offset == std::string::npos) return true;
        bad = where(line_number_) + ": invalid UTF-8 at byte " + std::to_string(offset + 1) + " of the line";
        return false;
    }

    void start(Document& document, uint64_t line) {
        document.text.clear();
        document.file = file_.path;
        document.line = line;
    }

    bool finish(const std::string& bad) {
        if (bad.empty()) ++documents_;
        return true;
    }

    bool next_line_document(Document& document, std::string& bad) {
        while (read_line(line_)) {
            if (blank_line()) continue;
            start(document, line_number_);
            if (check_line(line_, bad)) document.text = line_;
            return finish(bad);
        }
        return false;
    }

    bool next_paragraph_document(Document& document, std::string& bad) {
        bool started = false;
        while (read_line(line_)) {
            const bool blank = blank_line();
            if (blank) {
                if (started) break;
                continue;
            }
            if (!started) start(document, line_number_);
            started = true;
            if (!bad.empty() || !check_line(line_, bad)) continue;  // read on to the document's end
            if (!document.text.empty()) document.text += '\n';
            document.text += line_;
        }
        return started && finish(bad);
    }

    bool next_json(Document& document, std::string& bad) {
        while (read_line(line_)) {
            if (blank_line()) continue;
            start(document, line_number_);
            if (check_line(line_, bad)) extract_json_text(document, bad);
            return finish(bad);
        }
        return false;
    }

    void extract_json_text(Document& document, std::string& bad) const {
        nlohmann::json json;
        try {
            json = parse_json_line(line_, file_.path, static_cast<int64_t>(line_number_));
        } catch (const std::invalid_argument& error) {
            bad = error.what();
            return;
        }
        const auto field = json.is_object() ? json.find(options_.json_field) : json.end();
        if (!json.is_object() || field == json.end() || !field->is_string()) {
            bad = where(line_number_) + ": no string field \"" + options_.json_field + "\"";
            return;
        }
        document.text = field->get<std::string>();
    }

    bool next_wiki(Document& document, std::string& bad) {
        bool inside = false;
        while (read_line(line_)) {
            if (!inside) {
                if (line_.rfind("<doc ", 0) == 0) {
                    inside = true;
                    start(document, line_number_);
                }
                continue;
            }
            if (line_ == "</doc>") return finish(bad);
            if (line_.empty() || !bad.empty() || !check_line(line_, bad)) continue;
            if (!document.text.empty()) document.text += '\n';
            document.text += line_;
        }
        if (inside) {
            bad = where(document.line) + ": <doc> without </doc>";
            return true;
        }
        return false;
    }

    CorpusFile file_;
    const CorpusOptions& options_;
    gzFile handle_ = nullptr;
    std::vector<char> buffer_;
    size_t position_ = 0;
    size_t filled_ = 0;
    uint64_t line_number_ = 0;
    uint64_t documents_ = 0;
    std::string line_;
    bool line_too_long_ = false;  // the last line read was cut at kMaxCorpusLineBytes
};

CorpusReader::CorpusReader(CorpusOptions options) : options_(std::move(options)) {
    files_ = list_corpus_files(options_);
    for (const auto& file : files_) total_bytes_ += file.size;
}

CorpusReader::~CorpusReader() = default;

uint64_t CorpusReader::bytes_read() const { return finished_bytes_ + (current_ ? current_->bytes_read() : 0); }

void CorpusReader::report_bad_input(const std::string& message) {
    if (options_.on_bad_input == BadInputPolicy::stop) {
        throw std::runtime_error(message + " (to skip such input instead of stopping, use the skip policy)");
    }
    warnings_.push_back(message + "; skipped");
}

bool CorpusReader::open_next_file() {
    if (current_) {
        if (current_->documents() == 0) report_bad_input(current_->file().path + ": empty file (no documents)");
        finished_bytes_ += current_->file().size;
        current_.reset();
    }
    if (next_file_ == files_.size()) return false;
    current_ = std::make_unique<FileReader>(files_[next_file_++], options_);
    return true;
}

bool CorpusReader::next(Document& document) {
    std::string bad;
    for (;;) {
        if (!current_ && !open_next_file()) return false;
        if (!current_->next(document, bad)) {
            if (!open_next_file()) return false;
            continue;
        }
        if (bad.empty()) return true;
        report_bad_input(bad);
        ++skipped_;
    }
}

bool TrainingSentences::next(std::string& sentence) {
    while (next_piece(sentence)) {
        if (sampled(sentence)) return true;
    }
    return false;
}

bool TrainingSentences::sampled(const std::string& sentence) const {
    if (share_ >= 1.0) return true;
    constexpr uint64_t kScale = 1 << 30;
    return hash_text(sentence, seed_) % kScale < static_cast<uint64_t>(share_ * kScale);
}

bool TrainingSentences::next_piece(std::string& sentence) {
    for (;;) {
        if (!has_document_ || position_ >= document_.text.size()) {
            if (!reader_.next(document_)) return false;
            has_document_ = true;
            position_ = 0;
        }
        const std::string_view text(document_.text);
        size_t end = text.find('\n', position_);
        if (end == std::string_view::npos) end = text.size();
        if (end - position_ > max_bytes_) {
            // Cut at the last space before the limit, else at a UTF-8 character boundary.
            size_t cut = text.rfind(' ', position_ + max_bytes_);
            if (cut == std::string_view::npos || cut <= position_) {
                cut = position_ + max_bytes_;
                while ((static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
            }
            end = cut;
        }
        sentence.assign(text.substr(position_, end - position_));
        position_ = end + 1;
        if (end < text.size() && text[end] != '\n' && text[end] != ' ') position_ = end;  // cut inside a word
        if (sentence.find_first_not_of(" \t") != std::string::npos) return true;
    }
}

}  // namespace gs
