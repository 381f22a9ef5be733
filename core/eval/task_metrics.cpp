#include "core/eval/task_metrics.h"

#include <algorithm>
#include <string_view>
#include <utility>

#include "core/eval/unicode_text.h"

namespace gs {

namespace {

// evaluate-v1.0.py's remove_: these become spaces before anything else happens.
const std::vector<std::string> kReplacedBySpace = {"'", "\"", "《", "》", "<", ">", "〈", "〉", "(", ")", "‘", "’"};
// Python's string.punctuation: ASCII's punctuation only. An ASCII byte is never part of a longer
// UTF-8 sequence, so removing these bytes removes exactly these characters.
constexpr std::string_view kAsciiPunctuation = R"(!"#$%&'()*+,-./:;<=>?@[\]^_`{|}~)";

bool replaced_by_space(const std::string& character) {
    return std::find(kReplacedBySpace.begin(), kReplacedBySpace.end(), character) != kReplacedBySpace.end();
}

std::string join(const std::vector<std::string>& words, const std::string& separator) {
    std::string joined;
    for (const auto& word : words) joined += (joined.empty() ? "" : separator) + word;
    return joined;
}

}  // namespace

// In the script's order: remove_, lower, remove_punc, white_space_fix. The order matters: lower()
// decides a sigma's form from its neighbours, which remove_ may have made spaces and remove_punc
// has not removed yet.
std::string korquad_normalize(const std::string& text) {
    std::string spaced;
    for (const auto& character : utf8_characters(text)) spaced += replaced_by_space(character) ? " " : character;
    std::string kept;
    for (const char byte : python_lower(spaced)) {
        if (kAsciiPunctuation.find(byte) == std::string_view::npos) kept += byte;
    }
    return join(python_split(kept), " ");
}

bool korquad_exact_match(const std::string& prediction, const std::string& truth) {
    return korquad_normalize(prediction) == korquad_normalize(truth);
}

double korquad_f1(const std::string& prediction, const std::string& truth) {
    auto characters = [](const std::string& text) {
        std::vector<std::string> all;
        for (const auto& word : python_split(korquad_normalize(text))) {
            for (auto& character : utf8_characters(word)) all.push_back(std::move(character));
        }
        return all;
    };
    const std::vector<std::string> predicted = characters(prediction);
    const std::vector<std::string> gold = characters(truth);
    std::map<std::string, int> counts;
    for (const auto& c : gold) ++counts[c];
    int same = 0;
    for (const auto& c : predicted) {
        if (counts[c] > 0) --counts[c], ++same;  // the multiset intersection
    }
    if (same == 0) return 0.0;
    const double precision = static_cast<double>(same) / predicted.size();
    const double recall = static_cast<double>(same) / gold.size();
    return 2 * precision * recall / (precision + recall);
}

QaScore korquad_score(const std::vector<QuestionAnswers>& questions,
                      const std::map<std::string, std::string>& predictions) {
    QaScore score;
    for (const auto& question : questions) {
        ++score.questions;
        auto it = predictions.find(question.id);
        if (it == predictions.end()) continue;
        double best_em = 0, best_f1 = 0;
        for (const auto& answer : question.answers) {
            best_em = std::max(best_em, korquad_exact_match(it->second, answer) ? 1.0 : 0.0);
            best_f1 = std::max(best_f1, korquad_f1(it->second, answer));
        }
        score.exact_match += best_em;
        score.f1 += best_f1;
    }
    if (score.questions > 0) {
        // In the script's order, 100 * sum / total: the other order can differ in the last digit printed.
        score.exact_match = 100.0 * score.exact_match / score.questions;
        score.f1 = 100.0 * score.f1 / score.questions;
    }
    return score;
}

std::vector<std::string> rouge_tokens(const std::string& text, RougeTokens tokens) {
    if (tokens == RougeTokens::whitespace) return python_split(text);
    std::vector<std::string> characters;
    for (const char32_t code_point : utf8_decode(text)) {
        if (!python_isspace(code_point)) append_utf8(code_point, characters.emplace_back());
    }
    return characters;
}

size_t longest_common_subsequence(const std::vector<std::string>& a, const std::vector<std::string>& b) {
    std::vector<size_t> previous(b.size() + 1, 0), current(b.size() + 1, 0);
    for (size_t i = 1; i <= a.size(); ++i) {
        for (size_t j = 1; j <= b.size(); ++j) {
            current[j] = a[i - 1] == b[j - 1] ? previous[j - 1] + 1 : std::max(previous[j], current[j - 1]);
        }
        std::swap(previous, current);
    }
    return previous[b.size()];
}

double rouge_l_f1(const std::string& candidate, const std::string& reference, RougeTokens tokens) {
    const auto c = rouge_tokens(candidate, tokens);
    const auto r = rouge_tokens(reference, tokens);
    if (c.empty() || r.empty()) return 0.0;
    const double lcs = static_cast<double>(longest_common_subsequence(c, r));
    if (lcs == 0) return 0.0;
    const double precision = lcs / c.size();
    const double recall = lcs / r.size();
    return 2 * precision * recall / (precision + recall);
}

}  // namespace gs
