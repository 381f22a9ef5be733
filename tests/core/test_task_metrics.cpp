// Downstream metrics against values worked out by hand.
#include <gtest/gtest.h>

#include <stdexcept>

#include "core/eval/task_metrics.h"

namespace gs {
namespace {

TEST(KorQuadMetrics, NormalisationFollowsTheOfficialScript) {
    EXPECT_EQ(korquad_normalize("《경성방직》"), "경성방직");
    EXPECT_EQ(korquad_normalize("‘The’  Beatles (밴드)."), "the beatles 밴드");
    EXPECT_EQ(korquad_normalize("a, b;c!"), "a bc");      // ASCII punctuation is deleted, not spaced
    EXPECT_EQ(korquad_normalize("〈1989〉년"), "1989 년");  // the listed brackets become spaces
    EXPECT_EQ(korquad_normalize("the answer"), "the answer");  // no article removal
}

TEST(KorQuadMetrics, CharacterLevelF1AndExactMatch) {
    EXPECT_TRUE(korquad_exact_match("1989년 2월 15일", "1989년  2월 15일."));
    // "2월 15일" = {2,월,1,5,일}; "1989년 2월 15일" = {1,9,8,9,년,2,월,1,5,일}: 5 shared characters,
    // precision 5/5, recall 5/10, F1 = 2/3.
    // Here and below: the same few double operations on counts, perhaps in another order: ulps
    // of values below 100, far below the bounds.
    EXPECT_NEAR(korquad_f1("2월 15일", "1989년 2월 15일"), 2.0 / 3.0, 1e-12);
    EXPECT_DOUBLE_EQ(korquad_f1("서울", "부산"), 0.0);
    // Spaces do not count: "교향 곡" against "교향곡" is a full match of characters.
    EXPECT_DOUBLE_EQ(korquad_f1("교향 곡", "교향곡"), 1.0);
    const QaScore score = korquad_score({{"q1", {"교향곡", "교향곡 9번"}}, {"q2", {"베토벤"}}, {"q3", {"빈"}}},
                                        {{"q1", "교향곡 9번"}, {"q2", "베토벤과"}});
    EXPECT_EQ(score.questions, 3);
    EXPECT_NEAR(score.exact_match, 100.0 / 3, 1e-9);  // q1 matches its second answer; q3 is missing
    EXPECT_NEAR(score.f1, 100.0 * (1.0 + 2 * (3.0 / 4) * 1.0 / (3.0 / 4 + 1.0)) / 3, 1e-9);
}

// Python's str.lower() and str.split() over all of Unicode; unicode_text's tests hold them to
// Python's own tables, these to the script's normalisation order.
TEST(KorQuadMetrics, LowerCaseAndSpacesOfAllUnicode) {
    EXPECT_TRUE(korquad_exact_match("É", "é"));
    EXPECT_TRUE(korquad_exact_match("ＡＢＣ", "ａｂｃ"));  // full-width letters lower to full-width ones
    EXPECT_FALSE(korquad_exact_match("ＡＢＣ", "abc"));
    EXPECT_EQ(korquad_normalize("ΟΔΥΣΣΕΥΣ"), "οδυσσευς");  // the last sigma ends the word
    // lower() runs after the brackets became spaces and before punctuation goes: "Α-Σ" has no
    // letter right before its sigma, "ΑΣ.Β" has one after it (a full stop is case-ignorable), and
    // in "ΑΣ(Β" the bracket is already a space.
    EXPECT_EQ(korquad_normalize("Α-Σ"), "ασ");
    EXPECT_EQ(korquad_normalize("ΑΣ.Β"), "ασβ");
    EXPECT_EQ(korquad_normalize("ΑΣ(Β"), "ας β");
    EXPECT_EQ(korquad_normalize("서울\u2003특별시\xC2\x85\x1C"), "서울 특별시");
    EXPECT_EQ(korquad_normalize("서울\u200b특별시\ufeff"), "서울\u200b특별시\ufeff");  // not spaces to Python
    // "İSTANBUL" lowers to i, U+0307, s, t, a, n, b, u, l: 9 characters holding the 8 of "istanbul".
    // P = 8/9, R = 1, F1 = 2PR/(P+R) = 16/17.
    EXPECT_NEAR(korquad_f1("İSTANBUL", "istanbul"), 16.0 / 17, 1e-12);
    EXPECT_THROW(korquad_normalize("\xC3("), std::invalid_argument);  // not UTF-8
}

TEST(RougeL, TokensSplitWhereStrSplitDoes) {
    EXPECT_EQ(rouge_tokens("정부는\u2003오늘\xC2\x85\u3000정책을\u200b발표", RougeTokens::whitespace),
              (std::vector<std::string>{"정부는", "오늘", "정책을\u200b발표"}));
    EXPECT_EQ(rouge_tokens("가\u1680나\u202f다\ufeff", RougeTokens::characters),
              (std::vector<std::string>{"가", "나", "다", "\ufeff"}));
    EXPECT_DOUBLE_EQ(rouge_l_f1("정부는\u2028발표했다", "정부는 발표했다"), 1.0);
    // Case is kept: Rouge-L compares tokens as they are.
    EXPECT_DOUBLE_EQ(rouge_l_f1("ÉCOLE", "école"), 0.0);
}

TEST(RougeL, LongestCommonSubsequenceByHand) {
    EXPECT_EQ(longest_common_subsequence({"a", "b", "c", "d", "e"}, {"a", "c", "e"}), 3u);
    EXPECT_EQ(longest_common_subsequence({"a", "b"}, {"b", "a"}), 1u);
    EXPECT_EQ(longest_common_subsequence({}, {"a"}), 0u);
    // Whitespace tokens: candidate 4 tokens, reference 5, LCS "정부는 발표했다" = 2.
    // P = 2/4, R = 2/5, F1 = 2PR/(P+R) = 0.4444...
    EXPECT_NEAR(rouge_l_f1("정부는 오늘 정책을 발표했다", "정부는 새로운 경제 대책을 발표했다"), 2 * 0.5 * 0.4 / 0.9, 1e-12);
    // Characters: "가나다라" against "가다라마": LCS 가다라 = 3, P = R = 3/4.
    EXPECT_NEAR(rouge_l_f1("가나다라", "가다라마", RougeTokens::characters), 0.75, 1e-12);
    EXPECT_DOUBLE_EQ(rouge_l_f1("", "가"), 0.0);
    EXPECT_DOUBLE_EQ(rouge_l_f1("같은 문장", "같은 문장"), 1.0);
}

}  // namespace
}  // namespace gs
