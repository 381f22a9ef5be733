// Python's str.lower(), str.isspace() and str.split() on UTF-8 text, for every code point, as
// CPython 3.11 does them: the official metric scripts lower-case and split with these, and a
// score matches theirs only when every character is treated alike.
//
// The character data is ICU's, limited to the Unicode version CPython 3.11 knows (14.0): a code
// point assigned later (ICU 72 knows Unicode 15.0) is to Python an unassigned one, never
// lowered, never a space, neither cased nor case-ignorable. Plain C++ interface; ICU stays
// inside unicode_text.cpp.
#pragma once

#include <string>
#include <vector>

namespace gs {

// The code points of UTF-8 text. Throws std::invalid_argument naming the byte (from 1) where an
// invalid sequence starts (a stray or missing continuation byte, an overlong form, a surrogate,
// a code point above U+10FFFF), with the text before it.
std::vector<char32_t> utf8_decode(const std::string& text);
void append_utf8(char32_t code_point, std::string& text);
// Each code point of UTF-8 text as its own UTF-8 string (Python's list(text)).
std::vector<std::string> utf8_characters(const std::string& text);

// str.isspace() of one code point: bidirectional class WS, B or S, or general category Zs. Among
// others U+001C..U+001F, U+0085, U+00A0, U+1680, U+2000..U+200A, U+2028, U+2029, U+202F,
// U+205F and U+3000 are spaces; U+180E, U+200B and U+FEFF are not.
bool python_isspace(char32_t code_point);
// str.lower(): each code point's full lowercase mapping in no particular language (U+0130 İ
// becomes i and U+0307, two code points), and a capital sigma at a word's end becomes the final
// ς (a cased letter before it and none after it, case-ignorable code points skipped).
std::string python_lower(const std::string& text);
// str.split() without arguments: the runs of code points between python_isspace ones.
std::vector<std::string> python_split(const std::string& text);

}  // namespace gs
