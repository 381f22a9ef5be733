// The model inputs of the downstream tasks: sentencepiece pieces mapped back to the characters of
// the context, sliding windows over long contexts, gold spans through tokenisation and back, and
// the choice of the best answer span.
#include <gtest/gtest.h>

#include "core/eval/task_data.h"
#include "core/finetune/task_inputs.h"
#include "data_test_support.h"
#include "test_support.h"

namespace gs {
namespace {

const std::string kMark = "\xE2\x96\x81";

std::string piece_text(const Tokenizer& tokenizer, int32_t id) {
    std::string piece = tokenizer.piece(id);
    return piece.rfind(kMark, 0) == 0 ? piece.substr(kMark.size()) : piece;
}

std::vector<std::string> sample_contexts() {
    std::vector<std::string> contexts;
    for (const auto& paragraph : read_korquad(test::data_path("downstream/korquad-v1.0_sample.json"))) {
        contexts.push_back(paragraph.context);
    }
    return contexts;
}

TEST(TaskInputs, OffsetsGiveTheTokenizersIdsAndEachPiecesCharacters) {
    const Tokenizer& tokenizer = test::korean_tokenizer();
    for (const std::string& text : sample_contexts()) {
        const EncodedText encoded = encode_with_offsets(tokenizer, text);
        // Word by word gives exactly the ids of the whole text.
        EXPECT_EQ(encoded.ids, tokenizer.encode(text));
        ASSERT_EQ(encoded.spans.size(), encoded.ids.size());
        size_t previous_end = 0;
        for (size_t i = 0; i < encoded.ids.size(); ++i) {
            const TokenSpan& span = encoded.spans[i];
            EXPECT_LE(previous_end, span.begin);
            // Plain Korean text is unchanged by normalisation: each span is its piece's text (a
            // character the small test vocabulary lacks is <unk>, and spans that character).
            const std::string covered = text.substr(span.begin, span.end - span.begin);
            if (encoded.ids[i] == Tokenizer::kUnkId) {
                EXPECT_EQ(covered.size(), 3u) << i;  // one Hangul syllable
            } else {
                EXPECT_EQ(covered, piece_text(tokenizer, encoded.ids[i])) << i;
            }
            previous_end = span.end;
        }
        EXPECT_EQ(previous_end, text.size());
    }
}

TEST(TaskInputs, NormalisedAndUnknownCharactersStillTileTheirWord) {
    const Tokenizer& tokenizer = test::korean_tokenizer();
    // Full-width letters become ASCII under NFKC; 𝄞 and 龘 are not in the vocabulary (<unk>).
    const std::string text = "ＡＢＣ회사는  𝄞음악을 龘좋아한다";
    const EncodedText encoded = encode_with_offsets(tokenizer, text);
    EXPECT_EQ(encoded.ids, tokenizer.encode(text));
    // The words' bytes, found by hand: ＡＢＣ (3 x 3 bytes) and 3 syllables, two spaces, ...
    const std::vector<TokenSpan> words = {{0, 18}, {20, 33}, {34, 49}};
    ASSERT_EQ(text.substr(20, 13), "𝄞음악을");
    ASSERT_EQ(text.substr(34), "龘좋아한다");
    // Each word's pieces tile it: no gap, no overlap, from its first byte to its last.
    size_t word = 0, position = words[0].begin;
    for (const TokenSpan& span : encoded.spans) {
        if (span.begin >= words[word].end) {
            EXPECT_EQ(position, words[word].end);
            position = words[++word].begin;
        }
        EXPECT_EQ(span.begin, position);
        EXPECT_LE(span.end, words[word].end);
        position = span.end;
    }
    EXPECT_EQ(word, 2u);
    EXPECT_EQ(position, text.size());
    // "㈜" normalises to the three pieces "(", "주", ")": together they span the one character.
    const std::string company = "㈜회사";
    const EncodedText parts = encode_with_offsets(tokenizer, company);
    ASSERT_GE(parts.ids.size(), 4u);
    EXPECT_EQ(piece_text(tokenizer, parts.ids[0]) + piece_text(tokenizer, parts.ids[1]) + piece_text(tokenizer, parts.ids[2]),
              "(주)");
    EXPECT_EQ(parts.spans[0].begin, 0u);
    EXPECT_EQ(parts.spans[2].end, 3u);
    EXPECT_EQ(parts.spans[3].begin, 3u);
}

TEST(TaskInputs, CharacterAndByteOffsets) {
    const std::string text = "베토벤은 1770년";  // 3-byte Hangul, 1-byte digits
    EXPECT_EQ(byte_offset_of_character(text, 0), 0u);
    EXPECT_EQ(byte_offset_of_character(text, 3), 9u);
    EXPECT_EQ(byte_offset_of_character(text, 5), 13u);
    EXPECT_EQ(byte_offset_of_character(text, 100), text.size());
    for (size_t c = 0; c <= 10; ++c) EXPECT_EQ(character_offset_of_byte(text, byte_offset_of_character(text, c)), c);
}

TEST(TaskInputs, GoldAnswersRoundTripThroughTheWindows) {
    const Tokenizer& tokenizer = test::korean_tokenizer();
    int exact = 0, answers = 0;
    for (const auto& paragraph : read_korquad(test::data_path("downstream/korquad-v1.0_sample.json"))) {
        const EncodedText context = encode_with_offsets(tokenizer, paragraph.context);
        for (const auto& q : paragraph.questions) {
            const auto gold = locate_answer(paragraph.context, q.answers[0], q.answer_starts[0]);
            ASSERT_TRUE(gold) << q.id;
            EXPECT_EQ(paragraph.context.substr(gold->begin, gold->end - gold->begin), q.answers[0]);
            EXPECT_EQ(character_offset_of_byte(paragraph.context, gold->begin), q.answer_starts[0]);
            // Small windows, so that most answers fall in several of them.
            const auto windows = make_qa_windows(tokenizer.encode(q.question), context, gold, 0, 32, 8);
            int holding = 0;
            for (const auto& w : windows) {
                if (!w.has_answer) {
                    EXPECT_EQ(w.start_position, w.context_begin - 1);  // the separator
                    EXPECT_EQ(w.input_ids[w.start_position], Tokenizer::kEosId);
                    continue;
                }
                ++holding;
                const std::string text = span_text(paragraph.context, w, {w.start_position, w.end_position, 0});
                // The tokens cover the answer, widened at most to the pieces it starts and ends in.
                const TokenSpan first = w.spans[w.start_position - w.context_begin];
                const TokenSpan last = w.spans[w.end_position - w.context_begin];
                EXPECT_LE(first.begin, gold->begin);
                EXPECT_GT(first.end, gold->begin);
                EXPECT_GE(last.end, gold->end);
                EXPECT_LT(last.begin, gold->end);
                EXPECT_NE(text.find(q.answers[0]), std::string::npos) << text;
                exact += text == q.answers[0];
            }
            EXPECT_GE(holding, 1) << q.id;
            ++answers;
        }
    }
    EXPECT_EQ(answers, 7);
    EXPECT_GT(exact, 0);  // most sample answers end where a piece ends
}

TEST(TaskInputs, AnswerAtAWordBoundaryComesBackExactly) {
    const Tokenizer& tokenizer = test::korean_tokenizer();
    const std::string context = "서버 설정 파일 httpd.conf 를 고친 뒤 서버를 다시 시작한다.";
    const EncodedText encoded = encode_with_offsets(tokenizer, context);
    const auto gold = locate_answer(context, "httpd.conf", 9);
    ASSERT_TRUE(gold);
    const auto windows = make_qa_windows(tokenizer.encode("무엇을 고치나?"), encoded, gold, 0, 64, 16);
    ASSERT_EQ(windows.size(), 1u);
    ASSERT_TRUE(windows[0].has_answer);
    EXPECT_EQ(span_text(context, windows[0], {windows[0].start_position, windows[0].end_position, 0}), "httpd.conf");
}

TEST(TaskInputs, WindowsCoverTheContextWithTheStatedOverlap) {
    const Tokenizer& tokenizer = test::korean_tokenizer();
    const std::string context = sample_contexts()[0] + " " + sample_contexts()[1];
    const EncodedText encoded = encode_with_offsets(tokenizer, context);
    const std::vector<int32_t> question = tokenizer.encode("베토벤이 태어난 해는?");
    const int64_t max_input = 24, stride = 6;
    const auto windows = make_qa_windows(question, encoded, std::nullopt, 3, max_input, stride);
    const int64_t question_tokens = std::min<int64_t>(question.size(), max_input / 4);
    const int64_t window_tokens = max_input - question_tokens - 2;
    ASSERT_GT(windows.size(), 2u);
    size_t covered = 0;  // context tokens before the current window's first new one
    for (size_t i = 0; i < windows.size(); ++i) {
        const QaWindow& w = windows[i];
        EXPECT_EQ(w.question, 3u);
        EXPECT_LE(static_cast<int64_t>(w.input_ids.size()), max_input);
        EXPECT_EQ(w.context_begin, question_tokens + 1);
        EXPECT_EQ(w.input_ids.back(), Tokenizer::kEosId);
        const size_t first = i * static_cast<size_t>(window_tokens - stride);  // the window's first context token
        EXPECT_EQ(w.spans.front().begin, encoded.spans[first].begin);
        for (size_t t = 0; t < w.spans.size(); ++t) EXPECT_EQ(w.input_ids[w.context_begin + t], encoded.ids[first + t]);
        if (i + 1 < windows.size()) {
            EXPECT_EQ(static_cast<int64_t>(w.spans.size()), window_tokens);
            // The next window starts `stride` tokens before this one ends.
            EXPECT_EQ(windows[i + 1].spans.front().begin, w.spans[w.spans.size() - stride].begin);
        }
        covered = first + w.spans.size();
    }
    EXPECT_EQ(covered, encoded.ids.size());  // the last window reaches the end
}

TEST(TaskInputs, BestSpanKeepsToTheContextAndTheLengthLimit) {
    QaWindow window;
    window.input_ids = {7, 1, 10, 11, 12, 13, 1, 0};  // question, eos, 4 context tokens, eos, pad
    window.context_begin = 2;
    window.spans = {{0, 3}, {3, 6}, {7, 10}, {10, 13}};
    // The highest start logit is on the question, the highest end on the padding: both ignored.
    const std::vector<float> start = {9, 0, 1, 2, 0, 0, 0, 0};
    const std::vector<float> end = {0, 0, 0, 1, 0, 4, 0, 9};
    auto span = best_span(start, end, window, 30);
    ASSERT_TRUE(span);
    EXPECT_EQ(span->start, 3);
    EXPECT_EQ(span->end, 5);
    EXPECT_DOUBLE_EQ(span->score, 6.0);
    // At most two tokens: 3..3 scores 2 + 1, 4..5 scores 0 + 4 (3..5 would be three tokens).
    span = best_span(start, end, window, 2);
    ASSERT_TRUE(span);
    EXPECT_EQ(span->start, 4);
    EXPECT_EQ(span->end, 5);
    EXPECT_DOUBLE_EQ(span->score, 4.0);
    // End before start is never chosen: 5..2 would score 10, 5..5 scores 6.
    const std::vector<float> backwards = {0, 0, 0, 0, 0, 5, 0, 0};
    const std::vector<float> forwards = {0, 0, 5, 0, 0, 1, 0, 0};
    span = best_span(backwards, forwards, window, 30);
    EXPECT_EQ(span->start, 5);
    EXPECT_EQ(span->end, 5);
    EXPECT_EQ(span_text("abcdef ghijkl", window, *span), "jkl");
}

TEST(TaskInputs, PairsAndSingleInputsAreCutToTheirLength) {
    const Tokenizer& tokenizer = test::korean_tokenizer();
    const std::string premise = sample_contexts()[0], hypothesis = "베토벤은 음악을 만들었다.";
    const auto full_premise = tokenizer.encode(premise), full_hypothesis = tokenizer.encode(hypothesis);
    const auto pair = encode_pair(tokenizer, premise, hypothesis, 24);
    ASSERT_EQ(pair.size(), 24u);
    // The longer premise is cut; the short hypothesis is kept whole, each followed by eos.
    const size_t kept = 22 - full_hypothesis.size();
    EXPECT_EQ(std::vector<int32_t>(pair.begin(), pair.begin() + kept), std::vector<int32_t>(full_premise.begin(), full_premise.begin() + kept));
    EXPECT_EQ(pair[kept], Tokenizer::kEosId);
    EXPECT_EQ(std::vector<int32_t>(pair.begin() + kept + 1, pair.end() - 1), full_hypothesis);
    EXPECT_EQ(pair.back(), Tokenizer::kEosId);
    const auto single = encode_with_eos(tokenizer, premise, 10);
    ASSERT_EQ(single.size(), 10u);
    EXPECT_EQ(std::vector<int32_t>(single.begin(), single.end() - 1), std::vector<int32_t>(full_premise.begin(), full_premise.begin() + 9));
    EXPECT_EQ(encode_with_eos(tokenizer, "짧다", 10).size(), tokenizer.encode("짧다").size() + 1);
}

}  // namespace
}  // namespace gs
