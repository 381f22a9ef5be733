#include "core/eval/task_metrics.h"

#include <algorithm>
#include <cctype>
#include <cstring>

namespace gs {

namespace {

// The UTF-8 code points of `text`, each as its byte string.
std::vector<std::string> code_points(const std::string& text) {
    std::vector<std::string> points;
    for (size_t i = 0; i < text.size();) {
        const auto lead = static_cast<unsigned char>(text[i]);
        const size_t length = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
        points.push_back(text.substr(i, length));
        i += length;
    }
    return points;
}

bool is_space(const std::string& point) {
    return point.size() == 1 ? std::isspace(static_cast<unsigned char>(point[0])) != 0
                             : point == "\u3000" || point == "\u00a0";  // ideographic and no-break space
}

std::vector<std::string> split_whitespace(const std::string& text) {
    std::vector<std::string> words(1);
    for (const auto& point : code_points(text)) {
        if (is_space(point)) {
            if (!words.back().empty()) words.emplace_back();
        } else {
            words.back() += point;
        }
    }
    if (words.back().empty()) words.pop_back();
    return words;
}

const std::vector<std::string> kReplacedBySpace = {"'", "\"", "《", "》", "<", ">", "〈", "〉", "(", ")", "‘", "’"};

}  // namespace

std::string korquad_normalize(const std::string& text) {
    std::string kept;
    for (const auto& point : code_points(text)) {
        if (std::find(kReplacedBySpace.begin(), kReplacedBySpace.end(), point) != kReplacedBySpace.end()) {
            kept += ' ';
        } else if (point.size() == 1 && std::ispunct(static_cast<unsigned char>(point[0]))) {
            continue;  // string.punctuation is exactly ASCII's punctuation
        } else {
            kept += point.size() == 1 ? std::string(1, static_cast<char>(std::tolower(static_cast<unsigned char>(point[0]))))
                                      : point;
        }
    }
    std::string joined;
    for (const auto& word : split_whitespace(kept)) joined += (joined.empty() ? "" : " ") + word;
    return joined;
}

bool korquad_exact_match(const std::string& prediction, const std::string& truth) {
    return korquad_normalize(prediction) == korquad_normalize(truth);
}

double korquad_f1(const std::string& prediction, const std::string& truth) {
    auto characters = [](const std::string& text) {
        std::vector<std::string> all;
        for (const auto& word : split_whitespace(korquad_normalize(text))) {
            for (const auto& point : code_points(word)) all.push_back(point);
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
    if (tokens == RougeTokens::whitespace) return split_whitespace(text);
    std::vector<std::string> characters;
    for (const auto& point : code_points(text)) {
        if (!is_space(point)) characters.push_back(point);
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
