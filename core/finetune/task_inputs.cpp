#include "core/finetune/task_inputs.h"

#include <algorithm>

namespace gs {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

size_t utf8_length(unsigned char lead) {
    if (lead >= 0xF0) return 4;
    if (lead >= 0xE0) return 3;
    if (lead >= 0xC0) return 2;
    return 1;
}

}  // namespace

EncodedText encode_with_offsets(const Tokenizer& tokenizer, const std::string& text) {
    EncodedText encoded;
    std::vector<Tokenizer::PieceSpan> spans;
    encoded.ids = tokenizer.encode_with_spans(text, spans);
    for (const auto& span : spans) {
        size_t begin = span.begin;
        while (begin < span.end && is_space(text[begin])) ++begin;  // the whitespace "▁" stands for
        encoded.spans.push_back({begin, span.end});
    }
    return encoded;
}

size_t byte_offset_of_character(const std::string& text, size_t character) {
    size_t byte = 0;
    for (size_t c = 0; c < character && byte < text.size(); ++c) byte += utf8_length(static_cast<unsigned char>(text[byte]));
    return std::min(byte, text.size());
}

size_t character_offset_of_byte(const std::string& text, size_t byte) {
    size_t characters = 0;
    for (size_t i = 0; i < byte && i < text.size(); i += utf8_length(static_cast<unsigned char>(text[i]))) ++characters;
    return characters;
}

std::vector<int32_t> encode_with_eos(const Tokenizer& tokenizer, const std::string& text, int64_t max_length) {
    std::vector<int32_t> ids = tokenizer.encode(text);
    if (static_cast<int64_t>(ids.size()) > max_length - 1) ids.resize(static_cast<size_t>(std::max<int64_t>(0, max_length - 1)));
    ids.push_back(Tokenizer::kEosId);
    return ids;
}

std::vector<int32_t> encode_pair(const Tokenizer& tokenizer, const std::string& first, const std::string& second,
                                 int64_t max_length) {
    std::vector<int32_t> a = tokenizer.encode(first), b = tokenizer.encode(second);
    const size_t budget = static_cast<size_t>(std::max<int64_t>(0, max_length - 2));
    while (a.size() + b.size() > budget) (a.size() >= b.size() ? a : b).pop_back();
    a.push_back(Tokenizer::kEosId);
    a.insert(a.end(), b.begin(), b.end());
    a.push_back(Tokenizer::kEosId);
    return a;
}

std::string generative_qa_input(const std::string& question, const std::string& context) {
    return "question: " + question + " context: " + context;
}

std::string summarization_input(const std::string& document) { return "summarize: " + document; }

std::optional<TokenSpan> locate_answer(const std::string& context, const std::string& answer, size_t answer_start) {
    if (answer.empty()) return std::nullopt;
    const size_t at = byte_offset_of_character(context, answer_start);
    if (context.compare(at, answer.size(), answer) == 0) return TokenSpan{at, at + answer.size()};
    const size_t found = context.find(answer);
    if (found == std::string::npos) return std::nullopt;
    return TokenSpan{found, found + answer.size()};
}

namespace {

// The first and last context tokens overlapping the answer's bytes, if any.
std::optional<std::pair<int64_t, int64_t>> answer_tokens(const EncodedText& context, const TokenSpan& answer) {
    int64_t first = -1, last = -1;
    for (size_t i = 0; i < context.spans.size(); ++i) {
        const TokenSpan& s = context.spans[i];
        if (s.end <= answer.begin || s.begin >= answer.end || s.begin == s.end) continue;
        if (first < 0) first = static_cast<int64_t>(i);
        last = static_cast<int64_t>(i);
    }
    if (first < 0) return std::nullopt;
    return std::make_pair(first, last);
}

}  // namespace

std::vector<QaWindow> make_qa_windows(const std::vector<int32_t>& question_ids, const EncodedText& context,
                                      std::optional<TokenSpan> answer, size_t question_index,
                                      int64_t max_input_length, int64_t doc_stride) {
    std::vector<int32_t> question = question_ids;
    question.resize(std::min(question.size(), static_cast<size_t>(max_input_length / 4)));
    const int64_t separator = static_cast<int64_t>(question.size());
    const int64_t window_length = max_input_length - separator - 2;
    const int64_t step = std::max<int64_t>(1, window_length - doc_stride);
    const auto gold = answer ? answer_tokens(context, *answer) : std::nullopt;
    const int64_t count = static_cast<int64_t>(context.ids.size());
    std::vector<QaWindow> windows;
    for (int64_t start = 0;; start += step) {
        const int64_t end = std::min(count, start + window_length);
        QaWindow window;
        window.question = question_index;
        window.input_ids = question;
        window.input_ids.push_back(Tokenizer::kEosId);
        window.input_ids.insert(window.input_ids.end(), context.ids.begin() + start, context.ids.begin() + end);
        window.input_ids.push_back(Tokenizer::kEosId);
        window.context_begin = separator + 1;
        window.spans.assign(context.spans.begin() + start, context.spans.begin() + end);
        window.start_position = window.end_position = separator;
        if (gold && gold->first >= start && gold->second < end) {
            window.start_position = window.context_begin + gold->first - start;
            window.end_position = window.context_begin + gold->second - start;
            window.has_answer = true;
        }
        windows.push_back(std::move(window));
        if (end >= count) break;
    }
    return windows;
}

std::optional<SpanChoice> best_span(const std::vector<float>& start_logits, const std::vector<float>& end_logits,
                                    const QaWindow& window, int64_t max_answer_tokens) {
    std::optional<SpanChoice> best;
    const int64_t tokens = static_cast<int64_t>(window.spans.size());
    for (int64_t i = 0; i < tokens; ++i) {
        for (int64_t j = i; j < std::min(tokens, i + max_answer_tokens); ++j) {
            if (window.spans[j].end <= window.spans[i].begin) continue;  // no characters
            const int64_t start = window.context_begin + i, end = window.context_begin + j;
            const double score = static_cast<double>(start_logits[start]) + static_cast<double>(end_logits[end]);
            if (!best || score > best->score) best = SpanChoice{start, end, score};
        }
    }
    return best;
}

std::string span_text(const std::string& context, const QaWindow& window, const SpanChoice& span) {
    const size_t begin = window.spans[span.start - window.context_begin].begin;
    const size_t end = window.spans[span.end - window.context_begin].end;
    return context.substr(begin, end - begin);
}

}  // namespace gs
