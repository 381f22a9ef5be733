// The machinery of the fuzz test (test_fuzz_inputs.cpp): hostile variants of valid input files,
// drawn from a seed with the portable generator so that a seed gives the same inputs on every
// machine, and the guards that turn a crash, a hang or a nameless error into a failure that
// names the seed and the input.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/common/random.h"

namespace gs::test {

// The files of one input, by name (a name may hold a folder: "ckpt/config.json").
using InputFiles = std::map<std::string, std::string>;

void write_input_files(const std::string& folder, const InputFiles& files);

// How a file is laid out, which decides how it is mutated besides flipping bytes.
enum class FileLayout { text, json, json_lines, safetensors, gzip_text, binary };

// Edits of valid input that a careless or hostile user could produce: flipped bits and bytes,
// truncation, deleted or repeated ranges, huge, negative and zero numbers, NUL bytes, invalid
// UTF-8, deep nesting; for JSON, values of the wrong type, missing and unknown fields.
class InputMutator {
public:
    explicit InputMutator(Random& random) : random_(random) {}

    std::string mutate(const std::string& bytes, FileLayout layout);

    // 1 to 4 byte-level edits.
    std::string mutate_bytes(std::string bytes);
    // 1 to 3 edits of the document's values and fields; byte edits when it does not parse.
    std::string mutate_json(const std::string& text);

private:
    std::string mutate_json_lines(const std::string& text);
    std::string mutate_safetensors(const std::string& bytes);
    std::string mutate_gzip_text(const std::string& bytes);
    void edit_json_value(nlohmann::json& document);
    nlohmann::json hostile_value(const nlohmann::json& current);
    const std::string& hostile_token();
    size_t position(size_t size) { return size == 0 ? 0 : random_.below(size); }
    bool chance(uint64_t one_in) { return random_.below(one_in) == 0; }

    Random& random_;
};

// Stands for raw bytes in a JSON document while it is an nlohmann::json value (which holds only
// valid UTF-8 and cannot be nested deeper than its parser allows); `dump_with_raw_bytes` puts
// the bytes in.
std::string dump_with_raw_bytes(const nlohmann::json& document);

// gzip of `text` in memory.
std::string gzip_bytes(const std::string& text);

// Crash and hang guards for in-process readers. `describe` says which input runs (seed, index,
// kind and where its files lie) and how to reproduce it; a fatal signal (stack overflow
// included) prints it before the process dies, and so does the watchdog once an input runs
// longer than `limit_seconds`, which then ends the process with a failure.
class InputGuard {
public:
    explicit InputGuard(double limit_seconds);
    ~InputGuard();
    InputGuard(const InputGuard&) = delete;
    InputGuard& operator=(const InputGuard&) = delete;

    void begin(const std::string& describe);
    void end();

private:
    struct State;
    State* state_;
};

// A child process's end: its exit code, or the signal that ended it, or a timeout (killed).
struct ProcessEnd {
    bool exited = false;
    int exit_code = -1;
    int signal = 0;
    bool timed_out = false;
    std::string output;  // stdout and stderr together
};

// Runs `arguments` (argv[0] the program) in `folder` with HOME set to it, killing it after
// `limit_seconds`.
ProcessEnd run_process(const std::vector<std::string>& arguments, const std::string& folder, double limit_seconds);

// A number from the environment variable `name`, else `fallback`.
uint64_t environment_number(const char* name, uint64_t fallback);

}  // namespace gs::test
