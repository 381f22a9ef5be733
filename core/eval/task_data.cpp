#include "core/eval/task_data.h"

#include <algorithm>
#include <filesystem>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "core/io/files.h"

namespace gs {

namespace fs = std::filesystem;

namespace {

std::string text_field(const nlohmann::json& record, const char* field, const std::string& where) {
    if (!record.contains(field) || !record.at(field).is_string()) {
        throw std::invalid_argument(where + ": field '" + field + "': expected a string");
    }
    return record.at(field).get<std::string>();
}

// The id a prediction names a record by: its `field` (a string or a whole number), else its
// position in the file counted from 0.
std::string record_id(const nlohmann::json& record, const char* field, size_t position, const std::string& where) {
    if (!record.is_object() || !record.contains(field)) return std::to_string(position);
    const nlohmann::json& id = record.at(field);
    if (id.is_string()) return id.get<std::string>();
    if (id.is_number_integer()) return id.dump();
    throw std::invalid_argument(where + ": field '" + field + "': expected a string or a whole number");
}

NliLabel nli_label(const nlohmann::json& record, const std::string& where) {
    if (record.contains("gold_label")) {
        const std::string label = text_field(record, "gold_label", where);
        if (label == "entailment") return NliLabel::entailment;
        if (label == "neutral") return NliLabel::neutral;
        if (label == "contradiction") return NliLabel::contradiction;
        throw std::invalid_argument(where + ": field 'gold_label': '" + label +
                                    "', expected entailment, neutral or contradiction");
    }
    if (record.contains("label") && record.at("label").is_number_integer()) {
        const int label = record.at("label").get<int>();
        if (label >= 0 && label <= 2) return static_cast<NliLabel>(label);
    }
    throw std::invalid_argument(where + ": expected 'gold_label' (a string) or 'label' (0, 1 or 2)");
}

}  // namespace

std::vector<NliExample> read_klue_nli(const std::string& path) {
    std::vector<NliExample> examples;
    const std::vector<nlohmann::json> records = read_json_records(path);
    for (size_t i = 0; i < records.size(); ++i) {
        const std::string where = path + ": record " + std::to_string(i + 1);
        examples.push_back({text_field(records[i], "premise", where), text_field(records[i], "hypothesis", where),
                            nli_label(records[i], where), record_id(records[i], "guid", i, where)});
    }
    return examples;
}

std::vector<QaParagraph> read_korquad(const std::string& path) {
    const nlohmann::json json = read_json_file(path);
    if (!json.contains("data") || !json.at("data").is_array()) {
        throw std::invalid_argument(path + ": field 'data': expected the SQuAD v1.1 list of articles");
    }
    std::vector<QaParagraph> paragraphs;
    for (const auto& article : json.at("data")) {
        for (const auto& p : article.at("paragraphs")) {
            QaParagraph paragraph;
            paragraph.title = article.value("title", "");
            paragraph.context = text_field(p, "context", path + ": article '" + paragraph.title + "'");
            for (const auto& qa : p.at("qas")) {
                const std::string where = path + ": question " + qa.value("id", "?");
                QaParagraph::Question question{text_field(qa, "id", where), text_field(qa, "question", where), {}, {}};
                for (const auto& answer : qa.at("answers")) {
                    question.answers.push_back(text_field(answer, "text", where));
                    question.answer_starts.push_back(answer.value("answer_start", 0));
                }
                paragraph.questions.push_back(question);
            }
            paragraphs.push_back(paragraph);
        }
    }
    return paragraphs;
}

std::vector<QuestionAnswers> korquad_questions(const std::vector<QaParagraph>& paragraphs) {
    std::vector<QuestionAnswers> questions;
    for (const auto& paragraph : paragraphs) {
        for (const auto& q : paragraph.questions) questions.push_back({q.id, q.answers});
    }
    return questions;
}

namespace {

SummaryExample aihub_document(const nlohmann::json& document, size_t position, const std::string& where) {
    SummaryExample example;
    example.id = record_id(document, "id", position, where);
    for (const auto& paragraph : document.at("text")) {
        for (const auto& sentence : paragraph) {
            example.document += (example.document.empty() ? "" : " ") + text_field(sentence, "sentence", where);
        }
    }
    const auto& abstractive = document.at("abstractive");
    if (!abstractive.is_array() || abstractive.empty() || !abstractive.at(0).is_string()) {
        throw std::invalid_argument(where + ": field 'abstractive': expected a list holding the summary");
    }
    example.summary = abstractive.at(0).get<std::string>();
    return example;
}

SummaryExample sci_news_document(const nlohmann::json& json, const std::string& where) {
    SummaryExample example;
    const auto& sentences = json.at("sentences");
    for (const auto& sentence : sentences) example.document += (example.document.empty() ? "" : " ") + sentence.get<std::string>();
    for (const auto& index : json.at("summaries")) {
        const size_t i = index.get<size_t>();
        if (i >= sentences.size()) {
            throw std::invalid_argument(where + ": field 'summaries': sentence " + std::to_string(i) + " does not exist");
        }
        example.summary += (example.summary.empty() ? "" : " ") + sentences.at(i).get<std::string>();
    }
    return example;
}

}  // namespace

std::vector<SummaryExample> read_summaries(const std::string& path) {
    std::vector<SummaryExample> examples;
    if (fs::is_directory(path)) {
        std::vector<fs::path> files;
        for (const auto& entry : fs::directory_iterator(path)) {
            if (entry.path().extension() == ".json") files.push_back(entry.path());
        }
        std::sort(files.begin(), files.end());
        for (const auto& file : files) {
            examples.push_back(sci_news_document(read_json_file(file.string()), file.string()));
            examples.back().id = file.stem().string();
        }
        return examples;
    }
    const std::string text = read_text_file(path);
    const size_t first = text.find_first_not_of(" \t\r\n");
    if (first != std::string::npos && text[first] == '{' && text.find("\"documents\"") != std::string::npos) {
        const nlohmann::json json = read_json_file(path);
        const auto& documents = json.at("documents");
        for (size_t i = 0; i < documents.size(); ++i) {
            examples.push_back(aihub_document(documents[i], i, path + ": document " + std::to_string(i + 1)));
        }
        return examples;
    }
    const std::vector<nlohmann::json> records = read_json_records(path);
    for (size_t i = 0; i < records.size(); ++i) {
        const std::string where = path + ": record " + std::to_string(i + 1);
        examples.push_back({text_field(records[i], "document", where), text_field(records[i], "summary", where),
                            record_id(records[i], "id", i, where)});
    }
    return examples;
}

}  // namespace gs
