// The encoder-only tasks: KLUE-NLI (masked mean pool + linear classifier) and KorQuAD extractive
// QA (a start/end span head over sliding windows of the context).
#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <torch/nn/functional/loss.h>
#include <torch/nn/modules/linear.h>

#include "core/eval/task_metrics.h"
#include "core/finetune/finetune_engine.h"
#include "core/finetune/task_inputs.h"

namespace gs {

namespace {

namespace F = torch::nn::functional;

const char* const kNliLabels[] = {"entailment", "neutral", "contradiction"};

// The encoder's parameters (and the shared embedding it reads) plus a head's.
NamedParameters encoder_and_head(T5Model& model, torch::nn::Linear& head, const std::string& head_name) {
    NamedParameters parameters = model_parameters(model, {"shared.", "encoder."});
    for (const auto& item : head->named_parameters()) parameters.emplace_back(head_name + "." + item.key(), item.value());
    return parameters;
}

NamedParameters head_tensors(torch::nn::Linear& head, const std::string& head_name) {
    NamedParameters tensors;
    for (const auto& item : head->named_parameters()) tensors.emplace_back(head_name + "." + item.key(), item.value());
    return tensors;
}

template <typename T>
std::vector<const T*> pick(const std::vector<T>& items, const std::vector<int64_t>& indices) {
    std::vector<const T*> picked;
    for (const int64_t i : indices) picked.push_back(&items[static_cast<size_t>(i)]);
    return picked;
}

class NliTask : public FinetuneTask {
public:
    NliTask(const FinetuneContext& context, const TaskDataset& data)
        : c_(context), head_(context.model->config().d_model, 3) {
        head_->to(c_.device);
        for (const auto& e : data.nli_train) {
            train_inputs_.push_back(encode_pair(c_.tokenizer, e.premise, e.hypothesis, c_.settings.max_input_length));
            train_labels_.push_back(static_cast<int64_t>(e.label));
        }
        for (const auto& e : data.nli_dev) {
            dev_inputs_.push_back(encode_pair(c_.tokenizer, e.premise, e.hypothesis, c_.settings.max_input_length));
            dev_labels_.push_back(static_cast<int64_t>(e.label));
            dev_guids_.push_back(e.guid);
        }
    }

    int64_t train_size() const override { return static_cast<int64_t>(train_inputs_.size()); }
    int64_t eval_size() const override { return static_cast<int64_t>(dev_inputs_.size()); }

    at::Tensor loss(const std::vector<int64_t>& units) override {
        std::vector<int64_t> labels;
        for (const int64_t i : units) labels.push_back(train_labels_[static_cast<size_t>(i)]);
        const at::Tensor target = at::tensor(labels, at::kLong).to(c_.device);
        return F::cross_entropy(logits(pick(train_inputs_, units)), target);
    }

    NamedParameters parameters() override { return encoder_and_head(c_.model, head_, "classifier"); }
    NamedParameters head() override { return head_tensors(head_, "classifier"); }

    TaskScores evaluate(const BatchReport& report) override {
        InferenceMode inference(c_.model);
        at::NoGradGuard no_grad;
        std::vector<int64_t> predicted(dev_inputs_.size());
        for_each_batch_of(shortest_first(dev_inputs_, token_count), c_.settings.batch_size, [&](const std::vector<int64_t>& rows) {
            const at::Tensor labels = logits(pick(dev_inputs_, rows)).argmax(-1).to(at::kCPU);
            for (size_t b = 0; b < rows.size(); ++b) predicted[static_cast<size_t>(rows[b])] = labels[static_cast<int64_t>(b)].item<int64_t>();
        }, report);
        TaskScores scores;
        int64_t correct = 0;
        for (size_t i = 0; i < predicted.size(); ++i) {
            correct += predicted[i] == dev_labels_[i];
            scores.predictions.emplace_back(dev_guids_[i], kNliLabels[predicted[i]]);
        }
        const double count = static_cast<double>(predicted.size());
        scores.metrics["accuracy"] = count > 0 ? 100.0 * static_cast<double>(correct) / count : 0.0;
        return scores;
    }

private:
    // Class logits [B, 3] from the encoder states averaged over the real (unpadded) tokens.
    at::Tensor logits(const std::vector<const std::vector<int32_t>*>& rows) {
        const PaddedBatch batch = pad_rows(rows, Tokenizer::kPadId, c_.device);
        const at::Tensor states = c_.model->encode(batch.ids, batch.mask);
        const at::Tensor mask = batch.mask.unsqueeze(-1).to(states.scalar_type());
        const at::Tensor pooled = (states * mask).sum(1) / mask.sum(1).clamp_min(1);
        return head_->forward(pooled);
    }

    const FinetuneContext& c_;
    torch::nn::Linear head_;
    std::vector<std::vector<int32_t>> train_inputs_, dev_inputs_;
    std::vector<int64_t> train_labels_, dev_labels_;
    std::vector<std::string> dev_guids_;
};

struct DevQuestion {
    QuestionAnswers gold;
    size_t paragraph = 0;
};

class ExtractiveQaTask : public FinetuneTask {
public:
    ExtractiveQaTask(const FinetuneContext& context, const TaskDataset& data)
        : c_(context), head_(context.model->config().d_model, 2), dev_paragraphs_(data.qa_dev) {
        head_->to(c_.device);
        for (const auto& paragraph : data.qa_train) add_windows(paragraph, true, train_windows_);
        for (size_t p = 0; p < dev_paragraphs_.size(); ++p) {
            for (const auto& q : dev_paragraphs_[p].questions) dev_questions_.push_back({{q.id, q.answers}, p});
        }
        for (const auto& paragraph : dev_paragraphs_) add_windows(paragraph, false, dev_windows_);
    }

    int64_t train_size() const override { return static_cast<int64_t>(train_windows_.size()); }
    int64_t eval_size() const override { return static_cast<int64_t>(dev_windows_.size()); }

    at::Tensor loss(const std::vector<int64_t>& units) override {
        const std::vector<const QaWindow*> windows = pick(train_windows_, units);
        std::vector<int64_t> starts, ends;
        for (const auto* w : windows) starts.push_back(w->start_position), ends.push_back(w->end_position);
        const auto [start_logits, end_logits] = span_logits(windows);
        return (F::cross_entropy(start_logits, at::tensor(starts, at::kLong).to(c_.device)) +
                F::cross_entropy(end_logits, at::tensor(ends, at::kLong).to(c_.device))) / 2;
    }

    NamedParameters parameters() override { return encoder_and_head(c_.model, head_, "qa_outputs"); }
    NamedParameters head() override { return head_tensors(head_, "qa_outputs"); }

    TaskScores evaluate(const BatchReport& report) override {
        InferenceMode inference(c_.model);
        at::NoGradGuard no_grad;
        std::vector<std::optional<SpanChoice>> best(dev_questions_.size());
        std::vector<std::string> answers(dev_questions_.size());
        const auto window_length = [](const QaWindow& w) { return w.input_ids.size(); };
        for_each_batch_of(shortest_first(dev_windows_, window_length), c_.settings.batch_size, [&](const std::vector<int64_t>& rows) {
            const std::vector<const QaWindow*> windows = pick(dev_windows_, rows);
            const auto [start_logits, end_logits] = span_logits(windows);
            const at::Tensor starts = start_logits.to(at::kCPU).to(at::kFloat).contiguous();
            const at::Tensor ends = end_logits.to(at::kCPU).to(at::kFloat).contiguous();
            for (size_t b = 0; b < windows.size(); ++b) {
                const QaWindow& w = *windows[b];
                const auto span = best_span(row_values(starts, b), row_values(ends, b), w, c_.settings.max_answer_tokens);
                if (!span || (best[w.question] && best[w.question]->score >= span->score)) continue;
                best[w.question] = span;
                answers[w.question] = span_text(dev_paragraphs_[dev_questions_[w.question].paragraph].context, w, *span);
            }
        }, report);
        TaskScores scores;
        std::vector<QuestionAnswers> gold;
        std::map<std::string, std::string> predicted;
        for (size_t q = 0; q < dev_questions_.size(); ++q) {
            gold.push_back(dev_questions_[q].gold);
            predicted[dev_questions_[q].gold.id] = answers[q];
            scores.predictions.emplace_back(dev_questions_[q].gold.id, answers[q]);
        }
        const QaScore score = korquad_score(gold, predicted);
        scores.metrics = {{"em", score.exact_match}, {"f1", score.f1}};
        return scores;
    }

private:
    // Windows of every question of a paragraph (question indices count on from those already added).
    void add_windows(const QaParagraph& paragraph, bool training, std::vector<QaWindow>& windows) {
        const EncodedText context = encode_with_offsets(c_.tokenizer, paragraph.context);
        for (const auto& q : paragraph.questions) {
            std::optional<TokenSpan> answer;
            if (training && !q.answers.empty()) answer = locate_answer(paragraph.context, q.answers[0], q.answer_starts[0]);
            const size_t index = training ? question_count_++ : dev_question_count_++;
            for (auto& window : make_qa_windows(c_.tokenizer.encode(q.question), context, answer, index,
                                                c_.settings.max_input_length, c_.settings.doc_stride)) {
                windows.push_back(std::move(window));
            }
        }
    }

    static std::vector<float> row_values(const at::Tensor& matrix, size_t row) {
        const at::Tensor r = matrix[static_cast<int64_t>(row)];
        return std::vector<float>(r.data_ptr<float>(), r.data_ptr<float>() + r.numel());
    }

    // Start and end logits [B, L], padding ruled out.
    std::pair<at::Tensor, at::Tensor> span_logits(const std::vector<const QaWindow*>& windows) {
        std::vector<const std::vector<int32_t>*> rows;
        for (const auto* w : windows) rows.push_back(&w->input_ids);
        const PaddedBatch batch = pad_rows(rows, Tokenizer::kPadId, c_.device);
        at::Tensor logits = head_->forward(c_.model->encode(batch.ids, batch.mask)).to(at::kFloat);
        logits = logits.masked_fill(batch.mask.unsqueeze(-1) == 0, -1e4);
        return {logits.select(-1, 0), logits.select(-1, 1)};
    }

    const FinetuneContext& c_;
    torch::nn::Linear head_;
    std::vector<QaParagraph> dev_paragraphs_;
    std::vector<DevQuestion> dev_questions_;
    std::vector<QaWindow> train_windows_, dev_windows_;
    size_t question_count_ = 0, dev_question_count_ = 0;
};

}  // namespace

std::unique_ptr<FinetuneTask> make_nli_task(const FinetuneContext& context, const TaskDataset& data) {
    return std::make_unique<NliTask>(context, data);
}

std::unique_ptr<FinetuneTask> make_extractive_qa_task(const FinetuneContext& context, const TaskDataset& data) {
    return std::make_unique<ExtractiveQaTask>(context, data);
}

}  // namespace gs
