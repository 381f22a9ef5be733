// The pieces of run_finetune shared by the tasks: the data each task trains and scores on, the
// training loop (AdamW, linear warm-up and decay, seeded shuffling) and the task interface.
// Includes LibTorch: only the engine's .cpp files include it.
#pragma once

#include <algorithm>
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <numeric>
#include <string>
#include <utility>
#include <vector>

#include <ATen/core/Tensor.h>

#include "core/finetune/finetune.h"
#include "core/finetune/task_dataset.h"
#include "core/model/t5_model.h"
#include "core/tokenizer/tokenizer.h"
#include "core/train/optimizer.h"

namespace gs {

struct FinetuneContext {
    const FinetuneSettings& settings;
    T5Model& model;
    const Tokenizer& tokenizer;
    at::Device device;
};

// Told after each scoring batch how many units of how many are done; may throw to cancel.
using BatchReport = std::function<void(int64_t done, int64_t total)>;

// One task's model head, batches and scoring.
class FinetuneTask {
public:
    virtual ~FinetuneTask() = default;
    // Training units (examples, or windows for extractive QA).
    virtual int64_t train_size() const = 0;
    // Scoring units, counted the same way.
    virtual int64_t eval_size() const = 0;
    // Mean loss of the given training units, with gradients.
    virtual at::Tensor loss(const std::vector<int64_t>& units) = 0;
    // The parameters fine-tuning updates (encoder-only tasks leave the decoder alone).
    virtual NamedParameters parameters() = 0;
    virtual TaskScores evaluate(const BatchReport& report) = 0;
    // The head's tensors (none for the generative tasks), saved beside the model.
    virtual NamedParameters head() { return {}; }
};

std::unique_ptr<FinetuneTask> make_nli_task(const FinetuneContext& context, const TaskDataset& data);
std::unique_ptr<FinetuneTask> make_extractive_qa_task(const FinetuneContext& context, const TaskDataset& data);
std::unique_ptr<FinetuneTask> make_generative_qa_task(const FinetuneContext& context, const TaskDataset& data);
std::unique_ptr<FinetuneTask> make_summarization_task(const FinetuneContext& context, const TaskDataset& data);

// Rows of token ids padded into [B, L] int64 ids and a 0/1 mask on `device`.
struct PaddedBatch {
    at::Tensor ids, mask;
};
PaddedBatch pad_rows(const std::vector<const std::vector<int32_t>*>& rows, int64_t pad_value, at::Device device);

// The model's parameters whose names start with one of `prefixes` (all when empty).
NamedParameters model_parameters(T5Model& model, const std::vector<std::string>& prefixes = {});

// Runs `body` on consecutive index ranges [begin, end) of `count` in steps of `batch`, telling
// `report` (when given) after each.
template <typename Body>
void for_each_batch(int64_t count, int64_t batch, Body body, const BatchReport& report = {}) {
    for (int64_t begin = 0; begin < count; begin += batch) {
        const int64_t end = std::min(count, begin + batch);
        body(begin, end);
        if (report) report(end, count);
    }
}

inline size_t token_count(const std::vector<int32_t>& ids) { return ids.size(); }

// Indices of `items` from the shortest to the longest by `length(item)`, ties in their order:
// scoring batches of similar lengths pad less.
template <typename T, typename Length>
std::vector<int64_t> shortest_first(const std::vector<T>& items, Length length) {
    std::vector<int64_t> order(items.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](int64_t a, int64_t b) { return length(items[static_cast<size_t>(a)]) < length(items[static_cast<size_t>(b)]); });
    return order;
}

// Runs `body` on consecutive slices of `order`, `batch` indices each, telling `report` after each.
template <typename Body>
void for_each_batch_of(const std::vector<int64_t>& order, int64_t batch, Body body, const BatchReport& report = {}) {
    for_each_batch(static_cast<int64_t>(order.size()), batch, [&](int64_t begin, int64_t end) {
        body(std::vector<int64_t>(order.begin() + begin, order.begin() + end));
    }, report);
}

// Switches the model to inference (no dropout) for its lifetime, then back to training.
class InferenceMode {
public:
    explicit InferenceMode(T5Model& model) : model_(model) { model_->eval(); }
    ~InferenceMode() { model_->train(); }
    InferenceMode(const InferenceMode&) = delete;
    InferenceMode& operator=(const InferenceMode&) = delete;

private:
    T5Model& model_;
};

// Fine-tunes `task` for settings.epochs epochs; throws when `cancel` is set.
void train_task(FinetuneTask& task, const FinetuneSettings& settings, const FinetuneProgressCallback& progress,
                const std::atomic<bool>* cancel);

}  // namespace gs
