#include "core/eval/evaluate.h"

#include <set>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "core/io/files.h"

namespace gs {

namespace {

// The predictions of KorQuAD and KLUE-NLI: one JSON object keyed by the example's id.
nlohmann::json read_prediction_object(const std::string& path, const std::string& shape) {
    nlohmann::json json = read_json_file(path);
    if (!json.is_object()) throw std::invalid_argument(path + ": expected a JSON object " + shape);
    return json;
}

NliLabel predicted_label(const nlohmann::json& value, const std::string& where) {
    if (value.is_string()) {
        const std::string name = value.get<std::string>();
        if (name == "entailment") return NliLabel::entailment;
        if (name == "neutral") return NliLabel::neutral;
        if (name == "contradiction") return NliLabel::contradiction;
    } else if (value.is_number_integer() && value.get<int64_t>() >= 0 && value.get<int64_t>() <= 2) {
        return static_cast<NliLabel>(value.get<int>());
    }
    throw std::invalid_argument(where + ": label " + value.dump() +
                                ", expected entailment, neutral, contradiction or 0, 1, 2");
}

// How many of `ids` have no prediction, and how many predictions name no id of the dev file.
template <typename Value>
void count_coverage(const std::vector<std::string>& ids, const std::map<std::string, Value>& predictions,
                    Evaluation& evaluation) {
    const std::set<std::string> known(ids.begin(), ids.end());
    evaluation.examples = static_cast<int>(ids.size());
    for (const auto& id : ids) evaluation.missing += predictions.count(id) == 0;
    for (const auto& entry : predictions) evaluation.unknown += known.count(entry.first) == 0;
}

}  // namespace

std::map<std::string, std::string> read_korquad_predictions(const std::string& path) {
    std::map<std::string, std::string> predictions;
    const nlohmann::json json = read_prediction_object(path, "{question id: answer text}");
    for (const auto& [id, answer] : json.items()) {
        if (!answer.is_string()) {
            throw std::invalid_argument(path + ": question '" + id + "': expected the answer text (a string), got " +
                                        answer.dump());
        }
        predictions[id] = answer.get<std::string>();
    }
    return predictions;
}

std::map<std::string, NliLabel> read_nli_predictions(const std::string& path) {
    std::map<std::string, NliLabel> predictions;
    const nlohmann::json json = read_prediction_object(path, "{guid: label}");
    for (const auto& [id, label] : json.items()) {
        predictions[id] = predicted_label(label, path + ": guid '" + id + "'");
    }
    return predictions;
}

std::map<std::string, std::string> read_summary_predictions(const std::string& path) {
    std::map<std::string, std::string> predictions;
    const std::vector<nlohmann::json> records = read_json_records(path);
    for (size_t i = 0; i < records.size(); ++i) {
        const std::string where = path + ": record " + std::to_string(i + 1);
        const nlohmann::json& record = records[i];
        if (!record.is_object()) throw std::invalid_argument(where + ": expected an object {\"id\": ..., \"summary\": ...}");
        if (!record.contains("id") || !(record.at("id").is_string() || record.at("id").is_number_integer())) {
            throw std::invalid_argument(where + ": field 'id': expected a string or a whole number");
        }
        if (!record.contains("summary") || !record.at("summary").is_string()) {
            throw std::invalid_argument(where + ": field 'summary': expected a string");
        }
        const std::string id = record.at("id").is_string() ? record.at("id").get<std::string>() : record.at("id").dump();
        if (!predictions.emplace(id, record.at("summary").get<std::string>()).second) {
            throw std::invalid_argument(where + ": field 'id': '" + id + "' already has a summary");
        }
    }
    return predictions;
}

double nli_accuracy(const std::vector<NliExample>& examples, const std::map<std::string, NliLabel>& predictions) {
    if (examples.empty()) return 0.0;
    int correct = 0;
    for (const auto& example : examples) {
        const auto it = predictions.find(example.guid);
        correct += it != predictions.end() && it->second == example.label;
    }
    return 100.0 * correct / static_cast<double>(examples.size());
}

double mean_rouge_l_f1(const std::vector<SummaryExample>& examples, const std::map<std::string, std::string>& predictions,
                       RougeTokens tokens) {
    if (examples.empty()) return 0.0;
    double total = 0;
    for (const auto& example : examples) {
        const auto it = predictions.find(example.id);
        if (it != predictions.end()) total += rouge_l_f1(it->second, example.summary, tokens);
    }
    return 100.0 * total / static_cast<double>(examples.size());
}

RougeTokens parse_rouge_tokens(const std::string& text) {
    if (text == "whitespace") return RougeTokens::whitespace;
    if (text == "characters") return RougeTokens::characters;
    throw std::invalid_argument("Rouge tokens '" + text + "': expected whitespace or characters");
}

std::string rouge_tokens_name(RougeTokens tokens) {
    return tokens == RougeTokens::whitespace ? "whitespace" : "characters";
}

// Python's json.dumps separators (", " and ": ") and shortest round-trip floats, which is what
// nlohmann writes for a double too (100.0, 81.23456).
std::string Evaluation::json() const {
    std::string line = "{";
    for (const auto& [name, value] : metrics) {
        line += (line.size() > 1 ? ", " : "") + nlohmann::json(name).dump() + ": " + nlohmann::json(value).dump();
    }
    if (!rouge_tokens.empty()) line += ", \"tokens\": " + nlohmann::json(rouge_tokens).dump();
    return line + "}";
}

Evaluation evaluate_korquad(const std::string& dev_path, const std::string& predictions_path) {
    const std::vector<QuestionAnswers> questions = korquad_questions(read_korquad(dev_path));
    const std::map<std::string, std::string> predictions = read_korquad_predictions(predictions_path);
    const QaScore score = korquad_score(questions, predictions);
    Evaluation evaluation;
    evaluation.metrics = {{"exact_match", score.exact_match}, {"f1", score.f1}};
    std::vector<std::string> ids;
    for (const auto& question : questions) ids.push_back(question.id);
    count_coverage(ids, predictions, evaluation);
    return evaluation;
}

Evaluation evaluate_nli(const std::string& dev_path, const std::string& predictions_path) {
    const std::vector<NliExample> examples = read_klue_nli(dev_path);
    const std::map<std::string, NliLabel> predictions = read_nli_predictions(predictions_path);
    Evaluation evaluation;
    evaluation.metrics = {{"accuracy", nli_accuracy(examples, predictions)}};
    std::vector<std::string> ids;
    for (const auto& example : examples) ids.push_back(example.guid);
    count_coverage(ids, predictions, evaluation);
    return evaluation;
}

Evaluation evaluate_summaries(const std::string& dev_path, const std::string& predictions_path, RougeTokens tokens) {
    const std::vector<SummaryExample> examples = read_summaries(dev_path);
    const std::map<std::string, std::string> predictions = read_summary_predictions(predictions_path);
    Evaluation evaluation;
    evaluation.metrics = {{"rouge-l-f1", mean_rouge_l_f1(examples, predictions, tokens)}};
    evaluation.rouge_tokens = rouge_tokens_name(tokens);
    std::vector<std::string> ids;
    for (const auto& example : examples) ids.push_back(example.id);
    count_coverage(ids, predictions, evaluation);
    return evaluation;
}

}  // namespace gs
