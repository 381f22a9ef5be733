#include "core/eval/scoring.h"

#include <fstream>
#include <stdexcept>

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <nlohmann/json.hpp>

#include "core/io/files.h"

namespace gs {

namespace {

std::vector<int64_t> read_id_list(const nlohmann::json& record, const std::string& field, bool allow_ignore,
                                  int64_t vocab_size, const std::string& where) {
    if (!record.contains(field)) throw std::runtime_error(where + ": missing field '" + field + "'");
    const auto& list = record[field];
    if (!list.is_array() || list.empty()) throw std::runtime_error(where + ": field '" + field + "': expected a non-empty list of token ids");
    std::vector<int64_t> ids;
    for (const auto& value : list) {
        if (!value.is_number_integer()) throw std::runtime_error(where + ": field '" + field + "': " + value.dump() + " is not an integer");
        const int64_t id = value.get<int64_t>();
        const bool ignored = allow_ignore && id == -100;
        if (!ignored && (id < 0 || id >= vocab_size)) {
            throw std::runtime_error(where + ": field '" + field + "': id " + std::to_string(id) +
                                     " is outside the vocabulary [0, " + std::to_string(vocab_size) + ")");
        }
        ids.push_back(id);
    }
    return ids;
}

}  // namespace

std::vector<ScoringExample> read_scoring_examples(const std::string& path, int64_t vocab_size) {
    std::ifstream in = open_input_file(path);
    std::vector<ScoringExample> examples;
    std::string text;
    for (int64_t line = 1; std::getline(in, text); ++line) {
        if (text.find_first_not_of(" \t\r") == std::string::npos) continue;
        const std::string where = path + ":" + std::to_string(line);
        const nlohmann::json record = parse_json_line(text, path, line);
        if (!record.is_object()) throw std::runtime_error(where + ": expected a JSON object");
        ScoringExample example;
        example.line = line;
        example.input_ids = read_id_list(record, "input_ids", false, vocab_size, where);
        example.labels = read_id_list(record, "labels", true, vocab_size, where);
        examples.push_back(std::move(example));
    }
    return examples;
}

ExampleScore score_example(T5Model& model, const ScoringExample& example) {
    at::NoGradGuard no_grad;
    const at::Device device = model->shared->weight.device();
    at::Tensor input_ids = at::tensor(example.input_ids, at::kLong).unsqueeze(0).to(device);
    at::Tensor labels = at::tensor(example.labels, at::kLong).unsqueeze(0).to(device);
    Seq2SeqOutput out = model->forward(input_ids, at::ones_like(input_ids), labels);
    ExampleScore score;
    score.scored_tokens = (labels != -100).sum().item<int64_t>();
    score.mean_loss = score.scored_tokens > 0 ? out.loss.item<double>() : 0.0;
    score.logits = out.logits.squeeze(0).to(at::kCPU, at::kFloat);
    return score;
}

}  // namespace gs
