#include "core/train/run_name.h"

#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <vector>

#include "core/data/corpus.h"

namespace gs {

namespace fs = std::filesystem;

namespace {

struct CodePointRange {
    char32_t first, last;
};

// Letters beyond ASCII that a name may use: Latin with accents, Greek, Cyrillic, Hangul (Jamo,
// compatibility Jamo, syllables), kana and CJK ideographs. Symbols, spaces, format and
// direction marks of any script stay out: they look like nothing, or like punctuation.
constexpr CodePointRange kLetterRanges[] = {
    {0x00C0, 0x00D6}, {0x00D8, 0x00F6}, {0x00F8, 0x024F},  // Latin-1 letters but U+00D7 and U+00F7, Latin Extended
    {0x0386, 0x0386}, {0x0388, 0x03CE},                    // Greek
    {0x0400, 0x0481}, {0x048A, 0x04FF},                    // Cyrillic
    {0x1100, 0x11FF},                                      // Hangul Jamo
    {0x3041, 0x3096}, {0x30A1, 0x30FA},                    // Hiragana, Katakana
    {0x3131, 0x318E},                                      // Hangul compatibility Jamo
    {0x4E00, 0x9FFF},                                      // CJK unified ideographs
    {0xAC00, 0xD7A3},                                      // Hangul syllables
};

bool is_ascii_name_character(char32_t c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
           c == '.' || c == '+';
}

bool is_letter_beyond_ascii(char32_t c) {
    for (const CodePointRange& range : kLetterRanges) {
        if (c >= range.first && c <= range.last) return true;
    }
    return false;
}

// The code points of valid UTF-8.
std::vector<char32_t> code_points(const std::string& text) {
    std::vector<char32_t> points;
    for (size_t i = 0; i < text.size();) {
        const auto lead = static_cast<unsigned char>(text[i]);
        const size_t length = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
        char32_t c = length == 1 ? lead : lead & (0x7F >> length);
        for (size_t k = 1; k < length; ++k) c = (c << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3F);
        points.push_back(c);
        i += length;
    }
    return points;
}

std::string code_point_text(char32_t c) {
    char buffer[16];
    std::snprintf(buffer, sizeof buffer, "U+%04X", static_cast<unsigned>(c));
    return buffer;
}

// Why one character cannot be in a name, or "".
std::string character_problem(char32_t c) {
    if (is_ascii_name_character(c) || is_letter_beyond_ascii(c)) return "";
    if (c == 0) return "contains a NUL character";
    if (c < 0x20 || (c >= 0x7F && c <= 0x9F)) return "contains a control character (" + code_point_text(c) + ")";
    if (c == '/' || c == '\\') return "contains '" + std::string(1, static_cast<char>(c)) + "', which would make it a path";
    if (c == ' ') return "contains a space";
    const std::string allowed = "; a run name is letters, digits and _ - . +";
    if (c < 0x80) return "contains '" + std::string(1, static_cast<char>(c)) + "'" + allowed;
    return "contains " + code_point_text(c) + ", which is not a letter" + allowed;
}

}  // namespace

std::string run_name_problem(const std::string& name) {
    if (name.empty()) return "is empty";
    if (find_invalid_utf8(name) != std::string::npos) return "is not valid UTF-8";
    const std::vector<char32_t> points = code_points(name);
    for (char32_t c : points) {
        const std::string problem = character_problem(c);
        if (!problem.empty()) return problem;
    }
    if (points.size() > kMaxRunNameCharacters) {
        return "has " + std::to_string(points.size()) + " characters, more than " + std::to_string(kMaxRunNameCharacters);
    }
    if (name[0] == '.') return "starts with '.' (a hidden folder, or '.' and '..', the runs folder and its parent)";
    if (name[0] == '-') return "starts with '-', which a command line reads as an option";
    return "";
}

std::string printable(const std::string& text) {
    std::string out;
    for (char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if (c == '\n') {
            out += "\\n";
        } else if (c == '\0') {
            out += "\\0";
        } else if (byte < 0x20 || byte == 0x7F) {
            char buffer[8];
            std::snprintf(buffer, sizeof buffer, "\\x%02X", byte);
            out += buffer;
        } else {
            out += c;
        }
    }
    return out;
}

std::string run_name_refusal(const std::string& name) {
    const std::string problem = run_name_problem(name);
    return problem.empty() ? "" : "run name '" + printable(name) + "' " + problem;
}

void check_run_name(const std::string& name, const std::string& where) {
    const std::string refusal = run_name_refusal(name);
    if (!refusal.empty()) throw std::invalid_argument(where + ": " + refusal);
}

std::string first_free_run_name(const std::string& base, const std::function<bool(const std::string&)>& taken) {
    if (!taken(base)) return base;
    for (int n = 2; n <= kMaxRunNameSuffix; ++n) {
        const std::string name = base + "-" + std::to_string(n);
        if (!taken(name)) return name;
    }
    throw std::runtime_error("runs '" + printable(base) + "' to '" + printable(base) + "-" +
                             std::to_string(kMaxRunNameSuffix) + "' all exist; give the run a name of its own (--name)");
}

fs::path run_folder(const fs::path& runs_dir, const std::string& name) {
    check_run_name(name, "runs folder " + printable(runs_dir.string()));
    const fs::path root = fs::absolute(runs_dir);
    // The name alone cannot leave the folder; this holds whatever a future rule lets through.
    fs::path inside = fs::weakly_canonical(root);
    if (!inside.has_filename()) inside = inside.parent_path();
    const fs::path resolved = (inside / name).lexically_normal();
    if (resolved.parent_path() != inside || resolved.filename() != name) {
        throw std::invalid_argument("run '" + printable(name) + "': its folder " + resolved.string() +
                                    " is not inside the runs folder " + inside.string());
    }
    return root / name;
}

}  // namespace gs
