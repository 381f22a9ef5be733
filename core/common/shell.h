// Words for command lines that go through /bin/sh (popen, system, sbatch scripts).
#pragma once

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

}  // namespace gs
