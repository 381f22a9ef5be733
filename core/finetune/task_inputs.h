// What the model reads for each downstream task, made from the task's examples with the
// tokenizer: token ids, and for extractive QA the windows over a context with each token's span
// of characters in it. Torch-free, so the offset mapping is tested without a model.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/tokenizer/tokenizer.h"

namespace gs {

// A token's place in the text it came from: bytes [begin, end) of the UTF-8 string, without the
// whitespace before a word. A piece that is only the word-boundary mark "▁" is empty.
using TokenSpan = Tokenizer::PieceSpan;

struct EncodedText {
    std::vector<int32_t> ids;
    std::vector<TokenSpan> spans;  // one per id
};

// The tokenizer's ids for `text` with each piece's byte span, as sentencepiece aligns pieces with
// the input through its normalisation (NFKC: "Ａ" is the piece "A", "㈜" the pieces "(", "주",
// ")", which all span the one character).
EncodedText encode_with_offsets(const Tokenizer& tokenizer, const std::string& text);

// Code points <-> byte offsets of a UTF-8 string (KorQuAD's answer_start counts code points).
size_t byte_offset_of_character(const std::string& text, size_t character);
size_t character_offset_of_byte(const std::string& text, size_t byte);

// `text`'s ids cut to max_length - 1, then eos.
std::vector<int32_t> encode_with_eos(const Tokenizer& tokenizer, const std::string& text, int64_t max_length);

// NLI: premise, eos, hypothesis, eos in at most max_length tokens, the longer side shortened first.
std::vector<int32_t> encode_pair(const Tokenizer& tokenizer, const std::string& first, const std::string& second,
                                 int64_t max_length);

// Generative QA's and summarisation's encoder inputs (T5's text-to-text prefixes).
std::string generative_qa_input(const std::string& question, const std::string& context);
std::string summarization_input(const std::string& document);

// One window of extractive QA: question, eos, a stretch of the context, eos.
struct QaWindow {
    size_t question = 0;             // index of the question it belongs to
    std::vector<int32_t> input_ids;
    int64_t context_begin = 0;       // position in input_ids of the window's first context token
    std::vector<TokenSpan> spans;    // byte spans in the context of the window's context tokens
    // Gold answer positions in input_ids; both at the separator (the eos after the question) when
    // the answer is not wholly inside this window, as the "no answer here" target.
    int64_t start_position = 0, end_position = 0;
    bool has_answer = false;
};

// The windows of one question over its tokenized context: the question is cut to a quarter of
// max_input_length, each window holds as much context as fits, and consecutive windows overlap by
// doc_stride tokens. `answer` is the gold answer's byte span in the context, if known.
std::vector<QaWindow> make_qa_windows(const std::vector<int32_t>& question_ids, const EncodedText& context,
                                      std::optional<TokenSpan> answer, size_t question_index,
                                      int64_t max_input_length, int64_t doc_stride);

// The gold answer's byte span: at answer_start (in characters) when the text is there, else its
// first occurrence in the context; nothing when the context does not hold it.
std::optional<TokenSpan> locate_answer(const std::string& context, const std::string& answer, size_t answer_start);

struct SpanChoice {
    int64_t start = 0, end = 0;  // positions in the window's input_ids, inclusive
    double score = 0;            // start logit + end logit
};

// The best start <= end among the window's context tokens, at most max_answer_tokens long.
std::optional<SpanChoice> best_span(const std::vector<float>& start_logits, const std::vector<float>& end_logits,
                                    const QaWindow& window, int64_t max_answer_tokens);

// The context's characters a span of the window covers.
std::string span_text(const std::string& context, const QaWindow& window, const SpanChoice& span);

}  // namespace gs
