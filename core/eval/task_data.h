// Readers for the downstream tasks' own public file formats, from local paths. Errors name the
// file and the record (and the field) that is wrong.
#pragma once

#include <string>
#include <vector>

#include "core/eval/task_metrics.h"

namespace gs {

enum class NliLabel { entailment = 0, neutral = 1, contradiction = 2 };  // HF klue/nli's numbering

struct NliExample {
    std::string guid;  // the record's "guid"; without one, its number in the file ("1", "2", ...)
    std::string premise, hypothesis;
    NliLabel label = NliLabel::entailment;
};

// KLUE-NLI v1.1 JSON (an array of {premise, hypothesis, gold_label: "entailment"|...}) or the HF
// export as JSON, JSON Lines or parquet ({premise, hypothesis, label: 0|1|2}); a parquet file is
// recognised by its PAR1 magic bytes, whatever its extension.
std::vector<NliExample> read_klue_nli(const std::string& path);

struct QaParagraph {
    std::string title;
    std::string context;
    struct Question {
        std::string id, question;
        std::vector<std::string> answers;
        std::vector<size_t> answer_starts;  // character offsets (code points) into the context
    };
    std::vector<Question> questions;
};

// SQuAD v1.1 JSON, as KorQuAD 1.0 ships it.
std::vector<QaParagraph> read_korquad(const std::string& path);
std::vector<QuestionAnswers> korquad_questions(const std::vector<QaParagraph>& paragraphs);

struct SummaryExample {
    std::string id;  // the record's "id" (or the file's name); without one, its number ("1", "2", ...)
    std::string document;
    std::string summary;
};

// AIHub news summarisation JSON ({"documents": [{text: [[{sentence}...]...], abstractive: [s]}]}),
// JSON Lines of {document, summary}, or a folder of sci-news-sum-kr files ({sentences, summaries:
// the indices of the summary sentences}).
std::vector<SummaryExample> read_summaries(const std::string& path);

}  // namespace gs
