#include "fuzz_inputs.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <limits>
#include <mutex>
#include <stdexcept>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/io/files.h"
#include "data_test_support.h"

namespace gs::test {

namespace fs = std::filesystem;

void write_input_files(const std::string& folder, const InputFiles& files) {
    for (const auto& [name, bytes] : files) {
        const fs::path path = fs::path(folder) / name;
        fs::create_directories(path.parent_path());
        write_text(path.string(), bytes);
    }
}

namespace {

std::string nested(int depth, const std::string& open, const std::string& inner, const std::string& close) {
    std::string text;
    for (int i = 0; i < depth; ++i) text += open;
    text += inner;
    for (int i = 0; i < depth; ++i) text += close;
    return text;
}

// Raw JSON text that an nlohmann::json value cannot hold: nesting beyond the readers' bound (512)
// and at it, strings that are not UTF-8 or hold a raw NUL, numbers beyond every integer type.
const std::vector<std::string>& raw_json_values() {
    static const std::vector<std::string> values = {
        nested(600, "[", "", "]"),
        nested(512, "[", "", "]"),
        nested(600, "{\"a\":", "1", "}"),
        nested(20000, "[", "", "]"),
        "\"\xff\xfe\"",
        "\"\xed\xa0\x80\"",
        "\"\xc0\x80\"",
        std::string("\"a\0b\"", 5),
        "1e999",
        "-1e999",
        "99999999999999999999999",
        "-9223372036854775809",
        "NaN",
        "Infinity",
    };
    return values;
}

const char* kRawMarker = "@@raw:";

// A string value that dump_with_raw_bytes replaces, quotes included, by raw_json_values()[index].
std::string raw_placeholder(size_t index) { return std::string(kRawMarker) + std::to_string(index) + "@@"; }

// Tokens inserted between bytes: numbers at and beyond every limit, separators, NUL, bytes that
// break UTF-8, a byte-order mark, deep nesting, a long run of one letter.
const std::vector<std::string>& hostile_tokens() {
    static const std::vector<std::string> tokens = {
        "0", "-1", "-0", "0.5", "1e308", "-1e308", "1e-320", "4294967297", "2147483648",
        "9223372036854775807", "9223372036854775808", "-9223372036854775809", "18446744073709551615",
        "99999999999999999999999", "NaN", "nan", "inf", "-inf", "Infinity",
        std::string(1, '\0'), "\xff", "\xc3", "\xc0\x80", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xef\xbb\xbf",
        "\"", "\\", "\\u0000", "\\ud800", "{", "}", "[", "]", ",", ":", "\n", "\r", "\r\n", "\t", " ",
        "null", "true", "[]", "{}", "\"\"", "<doc id=\"1\">", "</doc>",
        std::string(600, '['), std::string(600, '{'), std::string(70000, 'x'),
    };
    return tokens;
}

}  // namespace

std::string dump_with_raw_bytes(const nlohmann::json& document) {
    std::string text = document.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    for (size_t at = text.find(std::string("\"") + kRawMarker); at != std::string::npos;
         at = text.find(std::string("\"") + kRawMarker, at)) {
        const size_t number = at + 1 + std::strlen(kRawMarker);
        const size_t end = text.find("@@\"", number);
        if (end == std::string::npos) break;
        const std::string& raw = raw_json_values().at(std::stoul(text.substr(number, end - number)));
        text.replace(at, end + 3 - at, raw);
        at += raw.size();
    }
    return text;
}

std::string gzip_bytes(const std::string& text) {
    z_stream stream{};
    if (deflateInit2(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        throw std::runtime_error("deflateInit2 failed");
    }
    std::string out(deflateBound(&stream, text.size()), '\0');
    stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
    stream.avail_in = static_cast<uInt>(text.size());
    stream.next_out = reinterpret_cast<Bytef*>(out.data());
    stream.avail_out = static_cast<uInt>(out.size());
    const int result = deflate(&stream, Z_FINISH);
    out.resize(stream.total_out);
    deflateEnd(&stream);
    if (result != Z_STREAM_END) throw std::runtime_error("deflate failed");
    return out;
}

// --- InputMutator

std::string InputMutator::mutate(const std::string& bytes, FileLayout layout) {
    switch (layout) {
        case FileLayout::json: return mutate_json(bytes);
        case FileLayout::json_lines: return mutate_json_lines(bytes);
        case FileLayout::safetensors: return mutate_safetensors(bytes);
        case FileLayout::gzip_text: return mutate_gzip_text(bytes);
        case FileLayout::text:
        case FileLayout::binary: break;
    }
    return mutate_bytes(bytes);
}

const std::string& InputMutator::hostile_token() {
    const auto& tokens = hostile_tokens();
    return tokens[random_.below(tokens.size())];
}

std::string InputMutator::mutate_bytes(std::string bytes) {
    const uint64_t edits = 1 + random_.below(4);
    for (uint64_t e = 0; e < edits; ++e) {
        const size_t at = position(bytes.size());
        const size_t length = 1 + random_.below(1 + std::min<size_t>(64, bytes.size() - std::min(at, bytes.size())));
        switch (random_.below(7)) {
            case 0:
                if (!bytes.empty()) bytes[at] = static_cast<char>(bytes[at] ^ (1 << random_.below(8)));
                break;
            case 1:
                if (!bytes.empty()) bytes[at] = static_cast<char>(random_.below(256));
                break;
            case 2: bytes.resize(at); break;
            case 3: bytes.erase(at, length); break;
            case 4: bytes.insert(at, bytes.substr(at, length)); break;
            case 5: bytes.insert(at, hostile_token()); break;
            default: {  // a number of the text replaced by a hostile one
                const size_t digit = bytes.find_first_of("0123456789", at);
                if (digit == std::string::npos) break;
                const size_t end = bytes.find_first_not_of("0123456789.eE+-", digit);
                bytes.replace(digit, (end == std::string::npos ? bytes.size() : end) - digit, hostile_token());
            }
        }
    }
    return bytes;
}

nlohmann::json InputMutator::hostile_value(const nlohmann::json& current) {
    switch (random_.below(16)) {
        case 0: return 0;
        case 1: return -1;
        case 2: return std::numeric_limits<int64_t>::max();
        case 3: return std::numeric_limits<int64_t>::min();
        case 4: return std::numeric_limits<uint64_t>::max();
        case 5: return 1e300;
        case 6: return 0.5;
        case 7: return nullptr;
        case 8: return random_.below(2) == 0;
        case 9: return "";
        case 10: return std::string(100000, 'x');
        case 11: return nlohmann::json::array();
        case 12: return nlohmann::json::object();
        case 13: return nlohmann::json::array({current, current});
        case 14:  // the value as a string: a number given as text, an object as its dump
            return current.is_string() ? nlohmann::json(current.get<std::string>() + "x") : nlohmann::json(current.dump());
        default: return raw_placeholder(random_.below(raw_json_values().size()));
    }
}

namespace {

// Every value of the document, by its JSON pointer (the root included).
void collect_pointers(const nlohmann::json& value, const nlohmann::json::json_pointer& at,
                      std::vector<nlohmann::json::json_pointer>& out) {
    out.push_back(at);
    if (value.is_object()) {
        for (const auto& [key, child] : value.items()) collect_pointers(child, at / key, out);
    } else if (value.is_array()) {
        for (size_t i = 0; i < value.size(); ++i) collect_pointers(value[i], at / i, out);
    }
}

}  // namespace

void InputMutator::edit_json_value(nlohmann::json& document) {
    std::vector<nlohmann::json::json_pointer> pointers;
    collect_pointers(document, nlohmann::json::json_pointer(), pointers);
    const nlohmann::json::json_pointer target = pointers[random_.below(pointers.size())];
    nlohmann::json& value = document[target];
    const uint64_t choice = random_.below(5);
    if (choice == 0 && !target.empty()) {  // a missing field or element
        nlohmann::json& parent = document[target.parent_pointer()];
        if (parent.is_object()) parent.erase(target.back());
        if (parent.is_array()) parent.erase(std::stoul(target.back()));
    } else if (choice == 1 && value.is_object()) {  // an unknown field
        value["unknown_field_" + std::to_string(random_.below(100))] = hostile_value(value);
    } else if (choice == 2 && value.is_number()) {  // a number scaled or negated
        const double scales[] = {-1.0, 0.0, 1e6, 1e18, 1e-9};
        value = value.get<double>() * scales[random_.below(5)];
        if (chance(2) && value.get<double>() == std::floor(value.get<double>()) && std::fabs(value.get<double>()) < 9e18) {
            value = static_cast<int64_t>(value.get<double>());
        }
    } else if (choice == 3 && value.is_array() && !value.empty()) {  // a repeated element
        value.push_back(value[random_.below(value.size())]);
    } else {
        value = hostile_value(value);
    }
}

std::string InputMutator::mutate_json(const std::string& text) {
    nlohmann::json document = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (document.is_discarded() || chance(5)) return mutate_bytes(text);
    const uint64_t edits = 1 + random_.below(3);
    for (uint64_t e = 0; e < edits; ++e) edit_json_value(document);
    std::string mutated = chance(2) ? document.dump(2) : dump_with_raw_bytes(document);
    if (mutated.find(kRawMarker) != std::string::npos) mutated = dump_with_raw_bytes(document);
    return chance(4) ? mutate_bytes(mutated) : mutated;
}

std::string InputMutator::mutate_json_lines(const std::string& text) {
    if (chance(3)) return mutate_bytes(text);
    std::vector<std::string> lines;
    size_t start = 0;
    for (size_t end; (end = text.find('\n', start)) != std::string::npos; start = end + 1) {
        lines.push_back(text.substr(start, end - start));
    }
    if (start < text.size()) lines.push_back(text.substr(start));
    if (lines.empty()) return mutate_bytes(text);
    std::string& line = lines[random_.below(lines.size())];
    line = mutate_json(line);
    std::string joined;
    for (const auto& l : lines) joined += l + "\n";
    return joined;
}

std::string InputMutator::mutate_safetensors(const std::string& bytes) {
    uint64_t header_length = 0;
    if (bytes.size() < 8) return mutate_bytes(bytes);
    std::memcpy(&header_length, bytes.data(), 8);  // little-endian, as the test machines are
    if (header_length > bytes.size() - 8 || chance(5)) return mutate_bytes(bytes);
    std::string header = bytes.substr(8, header_length);
    const std::string data = bytes.substr(8 + header_length);
    header = mutate_json(header);
    uint64_t length = header.size();
    if (chance(8)) {
        const uint64_t lengths[] = {0, 1, length + 1, length - std::min<uint64_t>(length, 1), bytes.size(), UINT64_MAX,
                                    uint64_t{1} << 40};
        length = lengths[random_.below(7)];
    }
    std::string out(8, '\0');
    std::memcpy(out.data(), &length, 8);
    return out + header + data;
}

std::string InputMutator::mutate_gzip_text(const std::string& text) {
    if (chance(3)) return mutate_bytes(gzip_bytes(text));  // a corrupt or truncated stream
    return gzip_bytes(mutate_bytes(text));                  // a sound stream of hostile text
}

// --- InputGuard

namespace {

// Written before each input, printed by the signal handler: no allocation once a signal came.
char g_running[4096];
size_t g_running_length = 0;
const int kFatalSignals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};

void on_fatal_signal(int signal) {
    const char prefix[] = "\nfuzz: fatal signal while reading ";
    ssize_t ignored = write(STDERR_FILENO, prefix, sizeof(prefix) - 1);
    ignored = write(STDERR_FILENO, g_running, g_running_length);
    ignored = write(STDERR_FILENO, "\n", 1);
    (void)ignored;
    ::signal(signal, SIG_DFL);
    raise(signal);
}

}  // namespace

struct InputGuard::State {
    double limit_seconds;
    std::mutex mutex;
    std::condition_variable changed;
    bool running = false;
    bool stopping = false;
    uint64_t generation = 0;
    std::string describe;
    std::thread watchdog;
    std::vector<char> alternate_stack = std::vector<char>(1 << 16);
};

InputGuard::InputGuard(double limit_seconds) : state_(new State) {
    state_->limit_seconds = limit_seconds;
    stack_t stack{};
    stack.ss_sp = state_->alternate_stack.data();
    stack.ss_size = state_->alternate_stack.size();
    sigaltstack(&stack, nullptr);  // a stack overflow's handler needs a stack of its own
    struct sigaction action {};
    action.sa_handler = on_fatal_signal;
    action.sa_flags = SA_ONSTACK;
    for (int signal : kFatalSignals) sigaction(signal, &action, nullptr);

    state_->watchdog = std::thread([state = state_] {
        std::unique_lock<std::mutex> lock(state->mutex);
        while (!state->stopping) {
            if (!state->running) {
                state->changed.wait(lock);
                continue;
            }
            const uint64_t generation = state->generation;
            const auto limit = std::chrono::duration<double>(state->limit_seconds);
            if (state->changed.wait_for(lock, limit, [&] { return state->stopping || state->generation != generation; })) {
                continue;
            }
            std::fprintf(stderr, "\nfuzz: still reading after %.0f s (a hang): %s\n", state->limit_seconds,
                         state->describe.c_str());
            std::fflush(stderr);
            std::_Exit(1);
        }
    });
}

InputGuard::~InputGuard() {
    {
        std::lock_guard<std::mutex> lock(state_->mutex);
        state_->stopping = true;
    }
    state_->changed.notify_all();
    state_->watchdog.join();
    for (int signal : kFatalSignals) ::signal(signal, SIG_DFL);
    stack_t disable{};
    disable.ss_flags = SS_DISABLE;
    sigaltstack(&disable, nullptr);
    delete state_;
}

void InputGuard::begin(const std::string& describe) {
    g_running_length = std::min(describe.size(), sizeof(g_running));
    std::memcpy(g_running, describe.data(), g_running_length);
    {
        std::lock_guard<std::mutex> lock(state_->mutex);
        state_->describe = describe;
        state_->running = true;
        ++state_->generation;
    }
    state_->changed.notify_all();
}

void InputGuard::end() {
    {
        std::lock_guard<std::mutex> lock(state_->mutex);
        state_->running = false;
        ++state_->generation;
    }
    state_->changed.notify_all();
}

// --- child processes

ProcessEnd run_process(const std::vector<std::string>& arguments, const std::string& folder, double limit_seconds) {
    // Everything the child needs is built before fork: between fork and exec only
    // async-signal-safe calls.
    std::vector<char*> argv;
    for (const auto& a : arguments) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    std::vector<std::string> environment = {"HOME=" + folder, "PATH=/usr/bin:/bin", "LANG=C.UTF-8"};
    std::vector<char*> envp;
    for (auto& e : environment) envp.push_back(e.data());
    envp.push_back(nullptr);
    const std::string output_path = folder + "/.process-output";

    const pid_t pid = fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
        const int out = open(output_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        const int in = open("/dev/null", O_RDONLY);
        if (out < 0 || in < 0 || chdir(folder.c_str()) != 0) _exit(127);
        dup2(in, STDIN_FILENO);
        dup2(out, STDOUT_FILENO);
        dup2(out, STDERR_FILENO);
        execve(argv[0], argv.data(), envp.data());
        _exit(127);
    }
    ProcessEnd end;
    int status = 0;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(limit_seconds);
    while (waitpid(pid, &status, WNOHANG) == 0) {
        if (std::chrono::steady_clock::now() > deadline) {
            end.timed_out = true;
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    end.exited = WIFEXITED(status);
    end.exit_code = end.exited ? WEXITSTATUS(status) : -1;
    end.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    end.output = read_text_file(output_path);
    fs::remove(output_path);
    return end;
}

uint64_t environment_number(const char* name, uint64_t fallback) {
    const char* text = std::getenv(name);
    return text && *text ? std::strtoull(text, nullptr, 10) : fallback;
}

}  // namespace gs::test
