// The downstream metrics of the study's table, exactly as their reference scripts compute them:
// KorQuAD 1.0's official EM and character-level F1 (evaluate-v1.0.py), Rouge-L F1 with the
// tokenisation stated (rouge_score's LCS F-measure; whitespace tokens by default, since its own
// tokenizer drops Hangul), and accuracy. Plain C++ on UTF-8 strings; lower-casing, whitespace
// and splitting are Python 3.11's for every code point (unicode_text.h), as in the scripts.
// Text that is not valid UTF-8 is refused (std::invalid_argument naming the byte).
#pragma once

#include <map>
#include <string>
#include <vector>

namespace gs {

// evaluate-v1.0.py's normalize_answer: the characters ' " 《 》 < > 〈 〉 ( ) ‘ ’ become spaces,
// str.lower() (all of Unicode: É, Σ, full-width Ａ), ASCII punctuation removed (string.punctuation),
// ' '.join(text.split()) (every Unicode space; not U+200B or U+FEFF). No article removal, unlike SQuAD.
std::string korquad_normalize(const std::string& text);
bool korquad_exact_match(const std::string& prediction, const std::string& truth);
// F1 over the characters of the normalised whitespace tokens (spaces do not count).
double korquad_f1(const std::string& prediction, const std::string& truth);

struct QuestionAnswers {
    std::string id;
    std::vector<std::string> answers;  // every gold answer; the best one counts
};

struct QaScore {
    double exact_match = 0;  // 0..100
    double f1 = 0;           // 0..100
    int questions = 0;
};

// Questions without a prediction count as wrong, as in the official script.
QaScore korquad_score(const std::vector<QuestionAnswers>& questions,
                      const std::map<std::string, std::string>& predictions);

enum class RougeTokens { whitespace, characters };

// Rouge-L F1 (0..1) of one candidate against one reference: LCS over tokens, F = 2PR/(P+R).
// Whitespace tokens are str.split()'s; characters are code points, str.isspace() ones left out.
double rouge_l_f1(const std::string& candidate, const std::string& reference, RougeTokens tokens = RougeTokens::whitespace);
std::vector<std::string> rouge_tokens(const std::string& text, RougeTokens tokens);
size_t longest_common_subsequence(const std::vector<std::string>& a, const std::vector<std::string>& b);

}  // namespace gs
