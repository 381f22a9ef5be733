// Python's str.lower(), str.isspace() and str.split() against what Python 3.11 itself does, for
// every code point: the tables in tests/data/unicode were written by make_tables.py there.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "core/eval/unicode_text.h"

namespace gs {
namespace {

const std::string kTables = std::string(GS_TEST_DATA_DIR) + "/unicode/";
constexpr char32_t kLastCodePoint = 0x10FFFF;
constexpr char32_t kSmallSigma = 0x03C3, kFinalSigma = 0x03C2;

bool is_surrogate(char32_t c) { return c >= 0xD800 && c <= 0xDFFF; }

std::string utf8(char32_t code_point) {
    std::string text;
    append_utf8(code_point, text);
    return text;
}

// The data lines of a table (comments and blank lines left out); fails the test when there are none.
std::vector<std::string> table_lines(const std::string& name) {
    std::ifstream in(kTables + name);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) {
        if (!line.empty() && line[0] != '#') lines.push_back(line);
    }
    EXPECT_FALSE(lines.empty()) << kTables + name << " is missing or empty";
    return lines;
}

char32_t hex_code_point(const std::string& hex) { return static_cast<char32_t>(std::stoul(hex, nullptr, 16)); }

// "0041 0061" lines: a code point, then what it lowers to.
std::map<char32_t, std::vector<char32_t>> lower_table() {
    std::map<char32_t, std::vector<char32_t>> table;
    for (const auto& line : table_lines("lower.txt")) {
        std::istringstream fields(line);
        std::string hex;
        fields >> hex;
        auto& lowered = table[hex_code_point(hex)];
        while (fields >> hex) lowered.push_back(hex_code_point(hex));
    }
    return table;
}

// Lines "0009..000D" or "0085" under "[kind]" headings; code points outside every heading have kind "".
std::map<char32_t, std::string> ranges_table(const std::string& name) {
    std::map<char32_t, std::string> table;
    std::string kind;
    for (const auto& line : table_lines(name)) {
        if (line[0] == '[') {
            kind = line.substr(1, line.size() - 2);
            continue;
        }
        const size_t dots = line.find("..");
        const char32_t first = hex_code_point(line.substr(0, dots));
        const char32_t last = dots == std::string::npos ? first : hex_code_point(line.substr(dots + 2));
        for (char32_t c = first; c <= last; ++c) table[c] = kind.empty() ? "listed" : kind;
    }
    return table;
}

std::string kind_of(const std::map<char32_t, std::string>& table, char32_t c) {
    const auto it = table.find(c);
    return it == table.end() ? "" : it->second;
}

TEST(Utf8, DecodesEncodesAndRefusesInvalidBytesNamingThem) {
    EXPECT_EQ(utf8_decode("a\xC3\xA9\xE1\x84\x80\xF0\x90\x90\x80"), (std::vector<char32_t>{0x61, 0xE9, 0x1100, 0x10400}));
    EXPECT_EQ(utf8(0xE9) + utf8(0x3000) + utf8(0x10FFFF), "\xC3\xA9\xE3\x80\x80\xF4\x8F\xBF\xBF");
    EXPECT_EQ(utf8_characters("가a"), (std::vector<std::string>{"가", "a"}));
    auto error_of = [](const std::string& text) {
        try {
            utf8_decode(text);
        } catch (const std::invalid_argument& error) {
            return std::string(error.what());
        }
        return std::string();
    };
    EXPECT_EQ(error_of("ab\xC3"), "invalid UTF-8 at byte 3 of the text, after \"ab\"");  // cut short
    EXPECT_EQ(error_of("\x80"), "invalid UTF-8 at byte 1 of the text, after \"\"");      // stray continuation
    EXPECT_NE(error_of("\xC0\xAF"), "");                                                   // overlong '/'
    EXPECT_NE(error_of("\xED\xA0\x80"), "");                                               // a surrogate
    EXPECT_NE(error_of("\xF4\x90\x80\x80"), "");                                           // above U+10FFFF
    EXPECT_THROW(python_lower("\xFF"), std::invalid_argument);
    EXPECT_THROW(python_split("a \xFE"), std::invalid_argument);
}

TEST(PythonText, LowerOfEveryCodePointIsPython311s) {
    const auto table = lower_table();
    EXPECT_EQ(table.at(0x0130), (std::vector<char32_t>{0x69, 0x307}));  // İ: the one that becomes two
    size_t checked = 0;
    for (char32_t c = 0; c <= kLastCodePoint; ++c) {
        if (is_surrogate(c)) continue;
        const auto it = table.find(c);
        const std::vector<char32_t> expected = it == table.end() ? std::vector<char32_t>{c} : it->second;
        ASSERT_EQ(utf8_decode(python_lower(utf8(c))), expected) << "U+" << std::hex << static_cast<uint32_t>(c);
        checked += it != table.end();
    }
    EXPECT_EQ(checked, table.size());
}

TEST(PythonText, IsspaceOfEveryCodePointIsPython311s) {
    const auto spaces = ranges_table("space.txt");
    for (char32_t c = 0; c <= kLastCodePoint; ++c) {
        if (is_surrogate(c)) continue;
        ASSERT_EQ(python_isspace(c), spaces.count(c) == 1) << "U+" << std::hex << static_cast<uint32_t>(c);
    }
    EXPECT_TRUE(python_isspace(0x1F) && python_isspace(0x85) && python_isspace(0x2028) && python_isspace(0x202F));
    EXPECT_FALSE(python_isspace(0x200B) || python_isspace(0xFEFF) || python_isspace(0x180E));
}

// A capital sigma's form depends on its neighbours, each of which is case-ignorable (skipped),
// cased (a letter) or neither. The three texts below tell those apart, as make_tables.py explains.
TEST(PythonText, FinalSigmaBesideEveryCodePointIsPython311s) {
    const auto kinds = ranges_table("sigma_context.txt");
    const std::string sigma = "Σ", alpha = "α";
    auto last = [](const std::string& text) { return utf8_decode(python_lower(text)).back(); };
    for (char32_t c = 0; c <= kLastCodePoint; ++c) {
        if (is_surrogate(c)) continue;
        const std::string kind = kind_of(kinds, c);
        const std::string x = utf8(c);
        ASSERT_EQ(last(x + sigma), kind == "cased" ? kFinalSigma : kSmallSigma) << "U+" << std::hex << static_cast<uint32_t>(c);
        ASSERT_EQ(last(alpha + x + sigma), kind.empty() ? kSmallSigma : kFinalSigma) << "U+" << std::hex << static_cast<uint32_t>(c);
        ASSERT_EQ(utf8_decode(python_lower(alpha + sigma + x)).at(1), kind == "cased" ? kSmallSigma : kFinalSigma)
            << "U+" << std::hex << static_cast<uint32_t>(c);
    }
}

// ICU 72 knows Unicode 15.0, Python 3.11 14.0. Of the 4,489 code points Unicode 15.0 assigned, none
// lowers and none is a space, but 68 are cased and 105 case-ignorable there, such as U+1E030
// MODIFIER LETTER CYRILLIC SMALL A (both). To Python 3.11 they are unassigned, so a sigma after
// one is not final by Unicode 15.0's rules ("α\U0001E030Σ" would end in ς) but is in Python's.
TEST(PythonText, CodePointsNewerThanPython311AreUnassigned) {
    EXPECT_EQ(python_lower("α\U0001E030Σ"), "α\U0001E030σ");
    EXPECT_EQ(python_lower("αΣ\U0001E030β"), "ας\U0001E030β");
    EXPECT_EQ(kind_of(ranges_table("sigma_context.txt"), 0x1E030), "");
}

TEST(PythonText, SentencesLowerAndSplitAsPython311) {
    std::ifstream in(kTables + "sentences.jsonl");
    int sentences = 0;
    for (std::string line; std::getline(in, line); ++sentences) {
        const auto record = nlohmann::json::parse(line);
        const std::string text = record.at("text").get<std::string>();
        EXPECT_EQ(python_lower(text), record.at("lower").get<std::string>()) << text;
        EXPECT_EQ(python_split(text), record.at("split").get<std::vector<std::string>>()) << text;
    }
    EXPECT_GE(sentences, 8);
}

}  // namespace
}  // namespace gs
