// The examples of a fine-tune and its prediction files (torch-free).
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "core/common/random.h"
#include "core/finetune/task_dataset.h"
#include "core/io/files.h"

namespace gs {

namespace {

// Moves a seeded `fraction` of `train` (at least one, never all) to `dev`; both keep file order.
template <typename T>
void hold_out(std::vector<T>& train, std::vector<T>& dev, double fraction, uint64_t seed, const std::string& path) {
    const size_t count = train.size();
    if (count < 2) throw std::invalid_argument(path + ": too few examples to hold out a dev share (give --dev)");
    Random random(derive_seed(seed, 0x5e1ec7));
    const std::vector<int64_t> order = random_permutation(static_cast<int64_t>(count), random);
    const size_t dev_count = std::clamp<size_t>(static_cast<size_t>(std::lround(fraction * count)), 1, count - 1);
    std::vector<bool> held(count, false);
    for (size_t i = 0; i < dev_count; ++i) held[static_cast<size_t>(order[i])] = true;
    std::vector<T> kept;
    for (size_t i = 0; i < count; ++i) (held[i] ? dev : kept).push_back(std::move(train[i]));
    train = std::move(kept);
}

template <typename T>
void limit(std::vector<T>& examples, int64_t max_examples) {
    if (max_examples > 0 && examples.size() > static_cast<size_t>(max_examples)) examples.resize(max_examples);
}

// Keeps the first `max_questions` questions (and the paragraphs that hold them).
void limit_questions(std::vector<QaParagraph>& paragraphs, int64_t max_questions) {
    if (max_questions <= 0) return;
    size_t left = static_cast<size_t>(max_questions), kept = 0;
    for (; kept < paragraphs.size() && left > 0; ++kept) {
        auto& questions = paragraphs[kept].questions;
        if (questions.size() > left) questions.resize(left);
        left -= questions.size();
    }
    paragraphs.resize(kept);
}

// Reads the training (and dev) examples, holds out dev when there is no dev file, and cuts both
// to the settings' limits with `limit`.
template <typename T, typename Read, typename Limit>
void load_split(const FinetuneRequest& request, std::vector<T>& train, std::vector<T>& dev, Read read, Limit limit) {
    const FinetuneSettings& s = request.settings;
    train = read(request.train_path);
    if (request.dev_path.empty()) {
        hold_out(train, dev, s.dev_fraction, s.seed, request.train_path);
    } else {
        dev = read(request.dev_path);
    }
    limit(train, s.max_train_examples);
    limit(dev, s.max_eval_examples);
}

}  // namespace

TaskDataset load_task_dataset(const FinetuneRequest& request) {
    TaskDataset data;
    switch (request.task) {
        case DownstreamTask::nli:
            load_split(request, data.nli_train, data.nli_dev, read_klue_nli, limit<NliExample>);
            break;
        case DownstreamTask::extractive_qa:
        case DownstreamTask::generative_qa:
            load_split(request, data.qa_train, data.qa_dev, read_korquad, limit_questions);
            break;
        case DownstreamTask::summarization:
            load_split(request, data.summary_train, data.summary_dev, read_summaries, limit<SummaryExample>);
            break;
    }
    return data;
}

std::string write_predictions(DownstreamTask task, const TaskScores& scores, const std::string& output_dir) {
    std::filesystem::create_directories(output_dir);
    const bool lines = task == DownstreamTask::summarization;
    const std::string path = output_dir + "/" + task_store_name(task) + "-predictions" + (lines ? ".jsonl" : ".json");
    std::string text;
    if (lines) {
        for (const auto& [id, summary] : scores.predictions) {
            text += nlohmann::ordered_json{{"id", id}, {"summary", summary}}.dump() + "\n";
        }
    } else {
        nlohmann::ordered_json json = nlohmann::ordered_json::object();
        for (const auto& [id, answer] : scores.predictions) json[id] = answer;
        text = json.dump(1) + "\n";
    }
    write_file_atomically(path, text);
    return path;
}

}  // namespace gs
