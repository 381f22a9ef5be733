// Runs growthstudio-cli as a user does: a real process, stdout and stderr together.
#pragma once

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <sstream>
#include <string>

namespace gs::test {

struct CliResult {
    int exit_code;
    std::string output;
};

// A shell command line's exit code and its stdout and stderr together; `folder`: the working
// directory ("" keeps the test's own).
inline CliResult run_shell(const std::string& command_line, const std::string& folder = "") {
    const std::string cd = folder.empty() ? "" : "cd '" + folder + "' && ";
    const std::string command = cd + command_line + " 2>&1";
    FILE* pipe = popen(command.c_str(), "r");
    std::string output;
    std::array<char, 4096> buffer{};
    while (size_t n = fread(buffer.data(), 1, buffer.size(), pipe)) output.append(buffer.data(), n);
    const int status = pclose(pipe);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

inline CliResult run_growthstudio_cli(const std::string& arguments, const std::string& folder = "") {
    return run_shell(std::string(GS_CLI_PATH) + " " + arguments, folder);
}

inline std::string last_output_line(const std::string& text) {
    std::istringstream in(text);
    std::string line, last;
    while (std::getline(in, line)) {
        if (!line.empty()) last = line;
    }
    return last;
}

inline int count_occurrences(const std::string& text, const std::string& part) {
    int count = 0;
    for (size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + part.size())) ++count;
    return count;
}

}  // namespace gs::test
