#include "core/eval/task_data.h"

#include <algorithm>
#include <filesystem>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "core/io/files.h"
#include "core/io/parquet.h"

namespace gs {

namespace fs = std::filesystem;

namespace {

std::string text_field(const nlohmann::json& record, const char* field, const std::string& where) {
    if (!record.contains(field) || !record.at(field).is_string()) {
        throw std::invalid_argument(where + ": field '" + field + "': expected a string");
    }
    return record.at(field).get<std::string>();
}

// The record's id field (a string or a number), or its 1-based number when it has none.
std::string record_id(const nlohmann::json& record, const char* field, size_t index, const std::string& where) {
    if (!record.contains(field)) return std::to_string(index + 1);
    const nlohmann::json& id = record.at(field);
    if (id.is_string()) return id.get<std::string>();
    if (id.is_number_integer()) return std::to_string(id.get<int64_t>());
    throw std::invalid_argument(where + ": field '" + field + "': expected a string or a whole number");
}

// The array `field` of `record`, or an error naming where and which field.
const nlohmann::json& array_field(const nlohmann::json& record, const char* field, const std::string& where) {
    if (!record.is_object() || !record.contains(field) || !record.at(field).is_array()) {
        throw std::invalid_argument(where + ": field '" + field + "': expected a list");
    }
    return record.at(field);
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

// A parquet file's rows as JSON records (a null is left out), so that every format goes through
// the same field checks.
std::vector<nlohmann::json> parquet_records(const std::string& path) {
    const ParquetTable table = read_parquet(path);
    std::vector<nlohmann::json> records;
    for (const auto& row : table.rows) {
        nlohmann::json record = nlohmann::json::object();
        for (size_t c = 0; c < row.size(); ++c) {
            if (const auto* text = std::get_if<std::string>(&row[c])) record[table.columns[c]] = *text;
            if (const auto* number = std::get_if<int64_t>(&row[c])) record[table.columns[c]] = *number;
        }
        records.push_back(std::move(record));
    }
    return records;
}

QaParagraph::Question korquad_question(const nlohmann::json& qa, const std::string& where) {
    QaParagraph::Question question{text_field(qa, "id", where), text_field(qa, "question", where), {}, {}};
    for (const auto& answer : array_field(qa, "answers", where)) {
        question.answers.push_back(text_field(answer, "text", where));
        if (!answer.contains("answer_start") || !answer.at("answer_start").is_number_unsigned()) {
            throw std::invalid_argument(where + ": field 'answer_start': expected a whole number >= 0");
        }
        question.answer_starts.push_back(answer.at("answer_start").get<size_t>());
    }
    return question;
}

}  // namespace

std::vector<NliExample> read_klue_nli(const std::string& path) {
    std::vector<NliExample> examples;
    const bool parquet = is_parquet_file(path) || fs::path(path).extension() == ".parquet";
    const std::vector<nlohmann::json> records = parquet ? parquet_records(path) : read_json_records(path);
    for (size_t i = 0; i < records.size(); ++i) {
        const std::string where = path + ": record " + std::to_string(i + 1);
        examples.push_back({record_id(records[i], "guid", i, where), text_field(records[i], "premise", where),
                            text_field(records[i], "hypothesis", where), nli_label(records[i], where)});
    }
    return examples;
}

std::vector<QaParagraph> read_korquad(const std::string& path) {
    const nlohmann::json json = read_json_file(path);
    if (!json.is_object() || !json.contains("data") || !json.at("data").is_array()) {
        throw std::invalid_argument(path + ": field 'data': expected the SQuAD v1.1 list of articles");
    }
    std::vector<QaParagraph> paragraphs;
    const auto& articles = json.at("data");
    for (size_t a = 0; a < articles.size(); ++a) {
        const std::string article_where = path + ": article " + std::to_string(a + 1);
        const auto& article = articles[a];
        const auto& article_paragraphs = array_field(article, "paragraphs", article_where);
        for (size_t p = 0; p < article_paragraphs.size(); ++p) {
            const std::string where = article_where + ", paragraph " + std::to_string(p + 1);
            QaParagraph paragraph;
            paragraph.title = article.contains("title") ? text_field(article, "title", article_where) : "";
            paragraph.context = text_field(article_paragraphs[p], "context", where);
            for (const auto& qa : array_field(article_paragraphs[p], "qas", where)) {
                const bool has_id = qa.is_object() && qa.contains("id") && qa.at("id").is_string();
                paragraph.questions.push_back(korquad_question(qa, where + ", question " + (has_id ? qa.at("id").get<std::string>() : "?")));
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

SummaryExample aihub_document(const nlohmann::json& document, size_t index, const std::string& where) {
    SummaryExample example;
    example.id = record_id(document, "id", index, where);
    for (const auto& paragraph : array_field(document, "text", where)) {
        if (!paragraph.is_array()) throw std::invalid_argument(where + ": field 'text': expected lists of sentences");
        for (const auto& sentence : paragraph) {
            example.document += (example.document.empty() ? "" : " ") + text_field(sentence, "sentence", where);
        }
    }
    const auto& abstractive = array_field(document, "abstractive", where);
    if ( abstractive.empty() || !abstractive.at(0).is_string()) {
        throw std::invalid_argument(where + ": field 'abstractive': expected a list holding the summary");
    }
    example.summary = abstractive.at(0).get<std::string>();
    return example;
}

SummaryExample sci_news_document(const nlohmann::json& json, const std::string& id, const std::string& where) {
    SummaryExample example;
    example.id = id;
    const auto& sentences = array_field(json, "sentences", where);
    for (const auto& sentence : sentences) {
        if (!sentence.is_string()) throw std::invalid_argument(where + ": field 'sentences': expected strings");
        example.document += (example.document.empty() ? "" : " ") + sentence.get<std::string>();
    }
    for (const auto& index : array_field(json, "summaries", where)) {
        const size_t i = index.is_number_unsigned() ? index.get<size_t>() : sentences.size();
        if (i >= sentences.size()) {
            throw std::invalid_argument(where + ": field 'summaries': sentence " + index.dump() + " does not exist");
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
            examples.push_back(sci_news_document(read_json_file(file.string()), file.stem().string(), file.string()));
        }
        return examples;
    }
    const std::string text = read_text_file(path);
    const size_t first = text.find_first_not_of(" \t\r\n");
    if (first != std::string::npos && text[first] == '{' && text.find("\"documents\"") != std::string::npos) {
        const nlohmann::json json = read_json_file(path);
        const auto& documents = array_field(json, "documents", path);
        for (size_t i = 0; i < documents.size(); ++i) {
            examples.push_back(aihub_document(documents[i], i, path + ": document " + std::to_string(i + 1)));
        }
        return examples;
    }
    const std::vector<nlohmann::json> records = read_json_records(path);
    for (size_t i = 0; i < records.size(); ++i) {
        const std::string where = path + ": record " + std::to_string(i + 1);
        examples.push_back({record_id(records[i], "id", i, where), text_field(records[i], "document", where),
                            text_field(records[i], "summary", where)});
    }
    return examples;
}

}  // namespace gs
