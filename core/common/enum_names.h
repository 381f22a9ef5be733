// The words that stand for an enum's values where they leave the program (a database column, a
// file, a progress line): one table per enum, read both ways by the two functions here, so a word
// is spelled in one place.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>

namespace gs {

template <typename Enum>
struct EnumName {
    Enum value;
    const char* name;
};

template <typename Enum, std::size_t N>
std::string enum_name(const EnumName<Enum> (&names)[N], Enum value) {
    for (const EnumName<Enum>& entry : names) {
        if (entry.value == value) return entry.name;
    }
    throw std::logic_error("an enum value without a name");  // a table missing an entry
}

// The value `text` names; otherwise std::invalid_argument naming `what`, `text` and the words known.
template <typename Enum, std::size_t N>
Enum enum_value(const EnumName<Enum> (&names)[N], const std::string& text, const std::string& what) {
    std::string known;
    for (const EnumName<Enum>& entry : names) {
        if (text == entry.name) return entry.value;
        known += (known.empty() ? "" : ", ") + std::string(entry.name);
    }
    throw std::invalid_argument("unknown " + what + " '" + text + "' (expected " + known + ")");
}

}  // namespace gs
