// Words for command lines that go through /bin/sh (popen, system, sbatch scripts).
#pragma once

#include <string>

namespace gs {

// The word single-quoted, with single quotes inside spelled '\'': the shell reads it back as is.
inline std::string shell_quote(const std::string& word) {
    std::string out = "'";
    for (char c : word) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

}  // namespace gs
