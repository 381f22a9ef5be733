// Command-line options of the form "--name value" and "--flag", checked against what a
// command accepts so that a typo is an error naming the option, not a silent default.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace gs::cli {

struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// `--help` among a command's words: its usage goes to stdout and the command does nothing.
struct HelpRequested : std::runtime_error {
    HelpRequested() : std::runtime_error("help requested") {}
};

struct ArgumentSpec {
    std::set<std::string> options;  // take a value
    std::set<std::string> flags;    // take none
};

// Every command also takes `--threads N` (a whole number >= 0; commands that compute nothing on
// tensors accept and ignore it) and `--help`.
class Arguments {
public:
    Arguments(const std::vector<std::string>& words, const ArgumentSpec& spec);

    bool has(const std::string& name) const;
    std::string text(const std::string& name, const std::string& fallback = "") const;
    std::string required(const std::string& name) const;
    int64_t integer(const std::string& name, int64_t fallback) const;
    double real(const std::string& name, double fallback) const;
    const std::vector<std::string>& positional() const { return positional_; }

private:
    std::map<std::string, std::string> values_;
    std::set<std::string> flags_;
    std::vector<std::string> positional_;
};

}  // namespace gs::cli
