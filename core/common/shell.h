// Words for command lines that go through /bin/sh (popen, system, sbatch scripts).
#pragma once

#include <cstdio>
#include <stdexcept>
#include <string>

namespace gs {

// The word single-quoted, with single quotes inside spelled '\'': the shell reads it back as is,
// whatever it holds ($, `, ", ;, spaces, line breaks). NUL is refused: no shell word can hold it,
// and a C string would end there.
inline std::string shell_quote(const std::string& word) {
    if (word.find('\0') != std::string::npos) throw std::invalid_argument("a shell word cannot hold NUL");
    std::string out = "'";
    for (char c : word) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

// What `command` writes on its standard output, run by /bin/sh, without trailing line breaks and
// spaces; its wait status (pclose's) goes to `status` when given. Throws when the shell cannot be
// started.
inline std::string capture_output(const std::string& command, int* status = nullptr) {
    FILE* pipe = popen(command.c_str(), "r");
    if (!pipe) throw std::runtime_error("cannot run: " + command);
    std::string output;
    char buffer[512];
    while (size_t n = fread(buffer, 1, sizeof buffer, pipe)) output.append(buffer, n);
    const int code = pclose(pipe);
    if (status) *status = code;
    while (!output.empty() && (output.back() == '\n' || output.back() == ' ')) output.pop_back();
    return output;
}

}  // namespace gs
