// The encoder-decoder tasks: KorQuAD generative QA ("question: ... context: ..." -> answer) and
// summarisation ("summarize: document" -> summary), trained with teacher forcing and scored on
// text generated with the key/value cache (greedy or beam search).
#include <algorithm>
#include <functional>

#include <ATen/ATen.h>

#include "core/eval/task_metrics.h"
#include "core/finetune/finetune_engine.h"
#include "core/finetune/task_inputs.h"
#include "core/model/generation.h"

namespace gs {

namespace {

// Inputs and targets to train on; inputs, ids and a scorer of the predictions for dev.
struct Seq2SeqData {
    std::vector<std::vector<int32_t>> train_inputs, train_targets, dev_inputs;
    std::vector<std::string> dev_ids;
    std::function<std::map<std::string, double>(const std::vector<std::pair<std::string, std::string>>&)> score;
};

class Seq2SeqTask : public FinetuneTask {
public:
    Seq2SeqTask(const FinetuneContext& context, Seq2SeqData data) : c_(context), data_(std::move(data)) {}

    int64_t train_size() const override { return static_cast<int64_t>(data_.train_inputs.size()); }
    int64_t eval_size() const override { return static_cast<int64_t>(data_.dev_inputs.size()); }

    at::Tensor loss(const std::vector<int64_t>& units) override {
        std::vector<const std::vector<int32_t>*> inputs, targets;
        for (const int64_t i : units) {
            inputs.push_back(&data_.train_inputs[static_cast<size_t>(i)]);
            targets.push_back(&data_.train_targets[static_cast<size_t>(i)]);
        }
        const PaddedBatch batch = pad_rows(inputs, Tokenizer::kPadId, c_.device);
        const at::Tensor labels = pad_rows(targets, -100, c_.device).ids;  // padding is not scored
        return c_.model->forward(batch.ids, batch.mask, labels).loss;
    }

    NamedParameters parameters() override { return model_parameters(c_.model); }

    TaskScores evaluate(const BatchReport& report) override {
        InferenceMode inference(c_.model);
        GenerationOptions options;
        options.max_new_tokens = c_.settings.max_target_length;
        options.num_beams = c_.settings.num_beams;
        std::vector<std::string> texts(data_.dev_inputs.size());
        for_each_batch_of(shortest_first(data_.dev_inputs, token_count), c_.settings.batch_size, [&](const std::vector<int64_t>& rows) {
            std::vector<const std::vector<int32_t>*> inputs;
            for (const int64_t i : rows) inputs.push_back(&data_.dev_inputs[static_cast<size_t>(i)]);
            const PaddedBatch batch = pad_rows(inputs, Tokenizer::kPadId, c_.device);
            const at::Tensor generated = generate(c_.model, batch.ids, batch.mask, options).to(at::kCPU).contiguous();
            for (size_t b = 0; b < rows.size(); ++b) texts[static_cast<size_t>(rows[b])] = decode_row(generated[static_cast<int64_t>(b)]);
        }, report);
        TaskScores scores;
        for (size_t i = 0; i < texts.size(); ++i) scores.predictions.emplace_back(data_.dev_ids[i], texts[i]);
        scores.metrics = data_.score(scores.predictions);
        return scores;
    }

private:
    // The text of one generated row: after the start token, up to eos. Like HF's decode with
    // skip_special_tokens, <unk> is left out, and so are the ids past the tokenizer's (the
    // model's vocabulary is rounded up to a multiple of 128), which have no text.
    std::string decode_row(const at::Tensor& row) const {
        std::vector<int32_t> ids;
        const int64_t* data = row.data_ptr<int64_t>();
        for (int64_t t = 1; t < row.size(0); ++t) {
            if (data[t] == Tokenizer::kEosId) break;
            const bool special = data[t] == Tokenizer::kPadId || data[t] == Tokenizer::kUnkId;
            if (!special && data[t] < c_.tokenizer.size()) ids.push_back(static_cast<int32_t>(data[t]));
        }
        return c_.tokenizer.decode(ids);
    }

    const FinetuneContext& c_;
    Seq2SeqData data_;
};

}  // namespace

std::unique_ptr<FinetuneTask> make_generative_qa_task(const FinetuneContext& context, const TaskDataset& data) {
    const FinetuneSettings& s = context.settings;
    const Tokenizer& tokenizer = context.tokenizer;
    Seq2SeqData d;
    for (const auto& paragraph : data.qa_train) {
        for (const auto& q : paragraph.questions) {
            if (q.answers.empty()) continue;
            d.train_inputs.push_back(encode_with_eos(tokenizer, generative_qa_input(q.question, paragraph.context), s.max_input_length));
            d.train_targets.push_back(encode_with_eos(tokenizer, q.answers[0], s.max_target_length));
        }
    }
    std::vector<QuestionAnswers> gold = korquad_questions(data.qa_dev);
    for (const auto& paragraph : data.qa_dev) {
        for (const auto& q : paragraph.questions) {
            d.dev_inputs.push_back(encode_with_eos(tokenizer, generative_qa_input(q.question, paragraph.context), s.max_input_length));
            d.dev_ids.push_back(q.id);
        }
    }
    d.score = [gold](const std::vector<std::pair<std::string, std::string>>& predictions) {
        const QaScore score = korquad_score(gold, std::map<std::string, std::string>(predictions.begin(), predictions.end()));
        return std::map<std::string, double>{{"em", score.exact_match}, {"f1", score.f1}};
    };
    return std::make_unique<Seq2SeqTask>(context, std::move(d));
}

std::unique_ptr<FinetuneTask> make_summarization_task(const FinetuneContext& context, const TaskDataset& data) {
    const FinetuneSettings& s = context.settings;
    const Tokenizer& tokenizer = context.tokenizer;
    Seq2SeqData d;
    for (const auto& e : data.summary_train) {
        d.train_inputs.push_back(encode_with_eos(tokenizer, summarization_input(e.document), s.max_input_length));
        d.train_targets.push_back(encode_with_eos(tokenizer, e.summary, s.max_target_length));
    }
    std::vector<std::string> references;
    for (const auto& e : data.summary_dev) {
        d.dev_inputs.push_back(encode_with_eos(tokenizer, summarization_input(e.document), s.max_input_length));
        d.dev_ids.push_back(e.id);
        references.push_back(e.summary);
    }
    const RougeTokens tokens = s.rouge_tokens;
    d.score = [references, tokens](const std::vector<std::pair<std::string, std::string>>& predictions) {
        double total = 0;
        for (size_t i = 0; i < predictions.size(); ++i) total += rouge_l_f1(predictions[i].second, references[i], tokens);
        const double mean = predictions.empty() ? 0.0 : total / static_cast<double>(predictions.size());
        return std::map<std::string, double>{{"rouge-l-f1", 100.0 * mean}};
    };
    return std::make_unique<Seq2SeqTask>(context, std::move(d));
}

}  // namespace gs
