#include "core/eval/unicode_text.h"

#include <cstdint>
#include <cstring>
#include <stdexcept>

#include <unicode/locid.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/utf8.h>

namespace gs {

namespace {

// The Unicode version of CPython 3.11's unicodedata, which the official scores were computed with.
constexpr UVersionInfo kPythonUnicodeVersion = {14, 0, 0, 0};
constexpr char32_t kCapitalSigma = 0x03A3, kSmallSigma = 0x03C3, kFinalSigma = 0x03C2;

// Assigned after Unicode 14.0: unassigned to Python (a UVersionInfo compares byte by byte).
bool unknown_to_python(char32_t code_point) {
    UVersionInfo age;
    u_charAge(static_cast<UChar32>(code_point), age);
    return std::memcmp(age, kPythonUnicodeVersion, sizeof age) > 0;
}

bool has_property(char32_t code_point, UProperty property) {
    return !unknown_to_python(code_point) && u_hasBinaryProperty(static_cast<UChar32>(code_point), property);
}

bool is_cased(char32_t code_point) { return has_property(code_point, UCHAR_CASED); }
bool is_case_ignorable(char32_t code_point) { return has_property(code_point, UCHAR_CASE_IGNORABLE); }

// CPython's handle_capital_sigma: the sigma at `at` is final when, skipping case-ignorable code
// points, a cased one comes before it and none after it. Every code point of the whole text
// counts, spaces and punctuation included.
bool ends_a_word(const std::vector<char32_t>& text, size_t at) {
    size_t before = at;
    while (before > 0 && is_case_ignorable(text[before - 1])) --before;
    if (before == 0 || !is_cased(text[before - 1])) return false;
    size_t after = at + 1;
    while (after < text.size() && is_case_ignorable(text[after])) ++after;
    return after == text.size() || !is_cased(text[after]);
}

// The full lowercase mapping of one code point in the root locale (no Turkish or Lithuanian rules).
void append_lower(char32_t code_point, std::string& text) {
    if (unknown_to_python(code_point)) return append_utf8(code_point, text);
    icu::UnicodeString(static_cast<UChar32>(code_point)).toLower(icu::Locale::getRoot()).toUTF8String(text);
}

}  // namespace

std::vector<char32_t> utf8_decode(const std::string& text) {
    std::vector<char32_t> code_points;
    const auto* bytes = reinterpret_cast<const uint8_t*>(text.data());
    const auto length = static_cast<int64_t>(text.size());
    for (int64_t next = 0; next < length;) {
        const int64_t start = next;
        UChar32 code_point;
        U8_NEXT(bytes, next, length, code_point);
        if (code_point < 0) {
            throw std::invalid_argument("invalid UTF-8 at byte " + std::to_string(start + 1) + " of the text, after \"" +
                                        text.substr(0, static_cast<size_t>(start)) + "\"");
        }
        code_points.push_back(static_cast<char32_t>(code_point));
    }
    return code_points;
}

void append_utf8(char32_t code_point, std::string& text) {
    uint8_t bytes[U8_MAX_LENGTH];
    int32_t length = 0;
    U8_APPEND_UNSAFE(bytes, length, static_cast<UChar32>(code_point));
    text.append(reinterpret_cast<const char*>(bytes), static_cast<size_t>(length));
}

std::vector<std::string> utf8_characters(const std::string& text) {
    std::vector<std::string> characters;
    for (const char32_t code_point : utf8_decode(text)) append_utf8(code_point, characters.emplace_back());
    return characters;
}

bool python_isspace(char32_t code_point) {
    if (unknown_to_python(code_point)) return false;
    const auto c = static_cast<UChar32>(code_point);
    const UCharDirection direction = u_charDirection(c);
    return direction == U_WHITE_SPACE_NEUTRAL || direction == U_BLOCK_SEPARATOR || direction == U_SEGMENT_SEPARATOR ||
           u_charType(c) == U_SPACE_SEPARATOR;
}

std::string python_lower(const std::string& text) {
    const std::vector<char32_t> code_points = utf8_decode(text);
    std::string lowered;
    for (size_t i = 0; i < code_points.size(); ++i) {
        if (code_points[i] == kCapitalSigma) {
            append_utf8(ends_a_word(code_points, i) ? kFinalSigma : kSmallSigma, lowered);
        } else {
            append_lower(code_points[i], lowered);
        }
    }
    return lowered;
}

std::vector<std::string> python_split(const std::string& text) {
    std::vector<std::string> words;
    bool in_word = false;
    for (const char32_t code_point : utf8_decode(text)) {
        const bool space = python_isspace(code_point);
        if (!space && !in_word) words.emplace_back();
        if (!space) append_utf8(code_point, words.back());
        in_word = !space;
    }
    return words;
}

}  // namespace gs
