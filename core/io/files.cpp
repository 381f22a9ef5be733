#include "core/io/files.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/file.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

namespace gs {

void check_input_file(const std::string& path) {
    struct stat info {};
    if (::stat(path.c_str(), &info) != 0) {
        if (errno == ENOENT) throw std::runtime_error(path + ": no such file");
        throw std::runtime_error(path + ": cannot open for reading: " + std::strerror(errno));
    }
    if (S_ISDIR(info.st_mode)) throw std::runtime_error(path + ": is a folder, not a file");
}

std::ifstream open_input_file(const std::string& path) {
    check_input_file(path);
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error(path + ": cannot open for reading: " + std::strerror(errno));
    return in;
}

std::string read_text_file(const std::string& path) {
    std::ifstream in = open_input_file(path);
    std::ostringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
}

namespace {

[[noreturn]] void throw_errno(const std::string& path, const std::string& what) {
    throw std::system_error(errno, std::generic_category(), path + ": " + what);
}

}  // namespace

AtomicFileWriter::AtomicFileWriter(std::string path)
    : path_(std::move(path)), temp_path_(path_ + ".tmp-" + std::to_string(::getpid())) {
    fd_ = ::open(temp_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd_ < 0) throw_errno(path_, "cannot create");
}

AtomicFileWriter::~AtomicFileWriter() {
    if (fd_ >= 0) {
        ::close(fd_);
        std::remove(temp_path_.c_str());
    }
}

void AtomicFileWriter::write(const void* data, size_t size) {
    const char* bytes = static_cast<const char*>(data);
    size_t written = 0;
    while (written < size) {
        ssize_t n = ::write(fd_, bytes + written, size - written);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw_errno(path_, "write failed");
        }
        written += static_cast<size_t>(n);
    }
}

void AtomicFileWriter::commit() {
    if (::fsync(fd_) != 0) throw_errno(path_, "fsync failed");
    ::close(fd_);
    fd_ = -1;
    if (std::rename(temp_path_.c_str(), path_.c_str()) != 0) {
        std::remove(temp_path_.c_str());
        throw_errno(path_, "rename failed");
    }
}

void write_file_atomically(const std::string& path, const std::string& content) {
    AtomicFileWriter writer(path);
    writer.write(content);
    writer.commit();
}

std::unique_ptr<FileLock> FileLock::try_acquire(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) throw_errno(path, "cannot open the lock file");
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0) return std::unique_ptr<FileLock>(new FileLock(fd));
    const int error = errno;
    ::close(fd);
    if (error == EWOULDBLOCK || error == EINTR) return nullptr;
    errno = error;
    throw_errno(path, "cannot lock");
}

FileLock::~FileLock() { ::close(fd_); }  // closing the descriptor releases the lock

namespace {

// Converts a byte offset into a 1-based line and column.
std::pair<size_t, size_t> line_and_column(const std::string& text, size_t byte_offset) {
    size_t line = 1, column = 1;
    for (size_t i = 0; i < byte_offset && i < text.size(); ++i) {
        if (text[i] == '\n') {
            ++line;
            column = 1;
        } else {
            ++column;
        }
    }
    return {line, column};
}

// Where the text first opens more than kMaxJsonDepth arrays or objects, or npos. Brackets inside
// strings do not count; the parser finds any other syntax error itself.
size_t too_deep_at(const std::string& text) {
    int depth = 0;
    bool in_string = false;
    for (size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (in_string) {
            if (c == '\\') ++i;  // the escaped character cannot end the string
            else if (c == '"') in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > kMaxJsonDepth) return i;
        } else if (c == ']' || c == '}') {
            --depth;
        }
    }
    return std::string::npos;
}

// Refuses text nested deeper than kMaxJsonDepth, naming where; `first_line` is the text's line
// in its file.
void check_json_depth(const std::string& text, const std::string& source, size_t first_line = 1) {
    const size_t deep = too_deep_at(text);
    if (deep == std::string::npos) return;
    const auto [line, column] = line_and_column(text, deep);
    throw std::invalid_argument(source + ": JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels at line " +
                                std::to_string(first_line + line - 1) + ", column " + std::to_string(column));
}

}  // namespace

nlohmann::json parse_json(const std::string& text, const std::string& source) {
    check_json_depth(text, source);
    try {
        return nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error& error) {
        // nlohmann reports the byte one past the offending character.
        const auto [line, column] = line_and_column(text, error.byte > 0 ? error.byte - 1 : 0);
        throw std::invalid_argument(source + ":" + std::to_string(line) + ":" + std::to_string(column) +
                                    ": invalid JSON: " + error.what());
    } catch (const nlohmann::json::exception& error) {  // a number beyond a double, such as 1e999
        throw std::invalid_argument(source + ": invalid JSON: " + error.what());
    }
}

nlohmann::json parse_json_line(const std::string& line, const std::string& path, int64_t line_number) {
    check_json_depth(line, path, static_cast<size_t>(line_number));
    try {
        return nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception& error) {  // a syntax error, or a number beyond a double
        throw std::invalid_argument(path + ":" + std::to_string(line_number) + ": invalid JSON: " + error.what());
    }
}

// A file that is not JSON is a runtime error of its reader, as it always was for this function;
// text parsed in memory (parse_json) is an invalid argument.
nlohmann::json read_json_file(const std::string& path) {
    const std::string text = read_text_file(path);
    try {
        return parse_json(text, path);
    } catch (const std::invalid_argument& error) {
        throw std::runtime_error(error.what());
    }
}

std::vector<nlohmann::json> read_json_records(const std::string& path) {
    const std::string text = read_text_file(path);
    const size_t first = text.find_first_not_of(" \t\r\n");
    if (first != std::string::npos && text[first] == '[') {
        const nlohmann::json json = read_json_file(path);
        return std::vector<nlohmann::json>(json.begin(), json.end());
    }
    std::vector<nlohmann::json> records;
    std::istringstream lines(text);
    std::string line;
    for (int number = 1; std::getline(lines, line); ++number) {
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        records.push_back(parse_json_line(line, path, number));
    }
    return records;
}

}  // namespace gs
