// Scores predictions made by any system against a task's dev file, as the official scripts do, so
// that the app's numbers can be set beside anyone else's. Each task reads the prediction format its
// community uses:
//   KorQuAD 1.0 (extractive or generative): the official {question id: answer text} JSON object;
//   KLUE-NLI: a JSON object {guid: label}, the label a name (entailment, neutral, contradiction)
//             or HF klue/nli's number (0, 1, 2);
//   summaries: JSON Lines of {id, summary} (or a JSON array of them), the id as SummaryExample
//              defines it (the document's "id" field, a sci-news-sum-kr file's name, else the
//              document's number in the file, from 1).
// Examples without a prediction count as wrong, as in KorQuAD's evaluate-v1.0.py; predictions of
// ids the dev file does not hold are ignored (and counted). A malformed predictions file is an
// error naming the file, the record and the field.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/eval/task_data.h"
#include "core/eval/task_metrics.h"

namespace gs {

std::map<std::string, std::string> read_korquad_predictions(const std::string& path);
std::map<std::string, NliLabel> read_nli_predictions(const std::string& path);
std::map<std::string, std::string> read_summary_predictions(const std::string& path);

// Accuracy in percent (0..100); a missing prediction is wrong.
double nli_accuracy(const std::vector<NliExample>& examples, const std::map<std::string, NliLabel>& predictions);
// Mean Rouge-L F1 over the examples in percent (0..100); a missing summary scores 0.
double mean_rouge_l_f1(const std::vector<SummaryExample>& examples, const std::map<std::string, std::string>& predictions,
                       RougeTokens tokens);

RougeTokens parse_rouge_tokens(const std::string& text);  // "whitespace" or "characters"; throws otherwise
std::string rouge_tokens_name(RougeTokens tokens);

struct Evaluation {
    // In the order and with the names printed: "exact_match" and "f1" (KorQuAD's own), "accuracy",
    // "rouge-l-f1"; all in percent.
    std::vector<std::pair<std::string, double>> metrics;
    std::string rouge_tokens;  // summaries: the tokenisation the score was computed with
    int examples = 0;          // in the dev file
    int missing = 0;           // of them, without a prediction
    int unknown = 0;           // predictions of ids the dev file does not hold

    // One line as the official script prints it: json.dumps's layout, {"exact_match": 81.2, "f1": 90.1}.
    std::string json() const;
};

Evaluation evaluate_korquad(const std::string& dev_path, const std::string& predictions_path);
Evaluation evaluate_nli(const std::string& dev_path, const std::string& predictions_path);
Evaluation evaluate_summaries(const std::string& dev_path, const std::string& predictions_path, RougeTokens tokens);

}  // namespace gs
