// Small file helpers whose errors always name the file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace gs {

// Every reader of a file the user names checks it here first, so that a missing file, a folder
// or a file without read permission is reported as such rather than read as empty text. Throws
// std::runtime_error: "path: no such file", "path: is a folder, not a file", "path: cannot open
// for reading: why".
void check_input_file(const std::string& path);
// The file, checked as above, open for reading in binary mode.
std::ifstream open_input_file(const std::string& path);

std::string read_text_file(const std::string& path);

// Writes into a temporary file beside `path`; commit() flushes it to disk and renames it over
// `path`. A reader never sees a half-written file, and a crash (or a writer destroyed without
// commit) leaves the previous version intact.
class AtomicFileWriter {
public:
    explicit AtomicFileWriter(std::string path);
    ~AtomicFileWriter();
    AtomicFileWriter(const AtomicFileWriter&) = delete;
    AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

    void write(const void* data, size_t size);
    void write(const std::string& text) { write(text.data(), text.size()); }
    void commit();

private:
    std::string path_;
    std::string temp_path_;
    int fd_ = -1;
};

void write_file_atomically(const std::string& path, const std::string& content);

// An exclusive advisory lock (flock) on `path`, created if missing, held while the object lives.
// Each lock has a descriptor of its own, so it excludes the process's other threads as well as
// other processes.
class FileLock {
public:
    // The lock, or null while someone else holds it.
    static std::unique_ptr<FileLock> try_acquire(const std::string& path);
    ~FileLock();
    FileLock(const FileLock&) = delete;
    FileLock& operator=(const FileLock&) = delete;

private:
    explicit FileLock(int fd) : fd_(fd) {}
    int fd_;
};

// The deepest nesting of arrays and objects any JSON reader accepts. The parser, and copying or
// printing a value, recurse once per level, so a deeper document would overflow the stack.
constexpr int kMaxJsonDepth = 512;

// Parses a JSON document read from `source`. Throws std::invalid_argument: "source:line:column:
// invalid JSON: what" for a syntax error, "source: JSON nested deeper than 512 levels at line L,
// column C" before parsing a deeper document.
nlohmann::json parse_json(const std::string& text, const std::string& source);

// Parses line `line_number` of a JSON Lines file: "path:N: invalid JSON: what", or "path: JSON
// nested deeper than 512 levels at line N, column C".
nlohmann::json parse_json_line(const std::string& line, const std::string& path, int64_t line_number);

// Parses a JSON file with parse_json; its errors are std::runtime_error with the same text.
nlohmann::json read_json_file(const std::string& path);

// A JSON array's elements, or JSON Lines: one value a line, blank lines skipped (a line that is
// not JSON reports "path:line: invalid JSON").
std::vector<nlohmann::json> read_json_records(const std::string& path);

}  // namespace gs
