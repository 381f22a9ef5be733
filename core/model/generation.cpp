#include "core/model/generation.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

namespace gs {

at::Tensor generate(T5Model& model, const at::Tensor& input_ids, const at::Tensor& attention_mask,
                    const GenerationOptions& options) {
    if (options.num_beams < 1) throw std::invalid_argument("num_beams must be at least 1");
    if (options.max_new_tokens < 1) throw std::invalid_argument("max_new_tokens must be at least 1");
    if (options.num_beams == 1) return greedy_search(model, input_ids, attention_mask, options);
    return beam_search(model, input_ids, attention_mask, options);
}

namespace {

// Next-token scores with every token but eos ruled out on the last allowed step.
at::Tensor constrain_last_step(at::Tensor scores, const GenerationOptions& options, int64_t step, int64_t eos) {
    if (!options.force_eos_at_limit || step != options.max_new_tokens - 1) return scores;
    at::Tensor forced = at::full_like(scores, -std::numeric_limits<float>::infinity());
    forced.select(-1, eos).copy_(scores.select(-1, eos));
    return forced;
}

}  // namespace

at::Tensor greedy_search(T5Model& model, const at::Tensor& input_ids, const at::Tensor& attention_mask,
                         const GenerationOptions& options) {
    at::NoGradGuard no_grad;
    const T5Config& config = model->config();
    const int64_t batch = input_ids.size(0);
    at::Tensor encoder_states = model->encode(input_ids, attention_mask);
    DecoderCache cache = model->new_cache();

    at::Tensor sequences = at::full({batch, 1}, config.decoder_start_token_id, input_ids.options().dtype(at::kLong));
    at::Tensor unfinished = at::ones({batch}, sequences.options());
    for (int64_t step = 0; step < options.max_new_tokens; ++step) {
        at::Tensor states = model->decode(sequences.narrow(1, step, 1), encoder_states, attention_mask, &cache);
        at::Tensor logits = model->lm_logits(states).select(1, 0);
        at::Tensor next = constrain_last_step(logits, options, step, config.eos_token_id).argmax(-1);
        // Finished rows keep emitting pad, as HF does.
        next = next * unfinished + config.pad_token_id * (1 - unfinished);
        sequences = at::cat({sequences, next.unsqueeze(1)}, 1);
        unfinished = unfinished * (next != config.eos_token_id).to(at::kLong);
        if (unfinished.max().item<int64_t>() == 0) break;
    }
    return sequences;
}

namespace {

struct Hypothesis {
    std::vector<int64_t> tokens;  // start token first, eos last when finished
    double score;
};

// The finished hypotheses of one batch row, best `capacity` kept (HF's BeamHypotheses).
class FinishedBeams {
public:
    FinishedBeams(int64_t capacity, double length_penalty, bool early_stopping)
        : capacity_(capacity), length_penalty_(length_penalty), early_stopping_(early_stopping) {}

    double score_of(double sum_logprobs, int64_t generated_length) const {
        return sum_logprobs / std::pow(static_cast<double>(generated_length), length_penalty_);
    }

    void add(std::vector<int64_t> tokens, double sum_logprobs) {
        const double score = score_of(sum_logprobs, static_cast<int64_t>(tokens.size()) - 1);
        if (static_cast<int64_t>(hypotheses_.size()) >= capacity_ && score <= worst_score()) return;
        hypotheses_.push_back({std::move(tokens), score});
        std::sort(hypotheses_.begin(), hypotheses_.end(), [](const auto& a, const auto& b) { return a.score > b.score; });
        if (static_cast<int64_t>(hypotheses_.size()) > capacity_) hypotheses_.pop_back();
    }

    // Done when no running beam can beat the worst finished hypothesis any more.
    bool is_done(double best_running_sum_logprobs, int64_t generated_length) const {
        if (static_cast<int64_t>(hypotheses_.size()) < capacity_) return false;
        if (early_stopping_) return true;
        return score_of(best_running_sum_logprobs, generated_length) <= worst_score();
    }

    const Hypothesis& best() const { return hypotheses_.front(); }
    bool empty() const { return hypotheses_.empty(); }

private:
    double worst_score() const { return hypotheses_.back().score; }

    int64_t capacity_;
    double length_penalty_;
    bool early_stopping_;
    std::vector<Hypothesis> hypotheses_;
};

at::Tensor pad_to_matrix(const std::vector<std::vector<int64_t>>& rows, int64_t pad, const at::TensorOptions& options) {
    size_t width = 0;
    for (const auto& row : rows) width = std::max(width, row.size());
    at::Tensor out = at::full({static_cast<int64_t>(rows.size()), static_cast<int64_t>(width)}, pad,
                              at::TensorOptions().dtype(at::kLong));
    for (size_t r = 0; r < rows.size(); ++r) {
        for (size_t c = 0; c < rows[r].size(); ++c) out[r][c] = rows[r][c];
    }
    return out.to(options.device());
}

}  // namespace

at::Tensor beam_search(T5Model& model, const at::Tensor& input_ids, const at::Tensor& attention_mask,
                       const GenerationOptions& options) {
    at::NoGradGuard no_grad;
    const T5Config& config = model->config();
    const int64_t batch = input_ids.size(0);
    const int64_t beams = options.num_beams;
    const int64_t vocab = config.vocab_size;

    // Every batch row becomes `beams` rows: [b0 beam0, b0 beam1, ..., b1 beam0, ...].
    at::Tensor expanded_ids = input_ids.repeat_interleave(beams, 0);
    at::Tensor expanded_mask = attention_mask.defined() ? attention_mask.repeat_interleave(beams, 0) : at::Tensor();
    at::Tensor encoder_states = model->encode(expanded_ids, expanded_mask);
    DecoderCache cache = model->new_cache();

    std::vector<std::vector<int64_t>> running(batch * beams, std::vector<int64_t>{config.decoder_start_token_id});
    // Only beam 0 is live at first, so the first step does not pick the same token `beams` times.
    std::vector<double> running_scores(batch * beams, -1e9);
    for (int64_t b = 0; b < batch; ++b) running_scores[b * beams] = 0.0;
    std::vector<FinishedBeams> finished(batch, FinishedBeams(beams, options.length_penalty, options.early_stopping));
    std::vector<bool> done(batch, false);

    at::Tensor last_tokens = at::full({batch * beams, 1}, config.decoder_start_token_id, input_ids.options().dtype(at::kLong));
    for (int64_t step = 0; step < options.max_new_tokens; ++step) {
        at::Tensor states = model->decode(last_tokens, encoder_states, expanded_mask, &cache);
        at::Tensor logprobs = at::log_softmax(model->lm_logits(states).select(1, 0).to(at::kFloat), -1).to(at::kCPU);
        logprobs = constrain_last_step(logprobs, options, step, config.eos_token_id);
        at::Tensor scores = logprobs + at::tensor(running_scores, at::kDouble).to(at::kFloat).unsqueeze(1);
        auto [top_scores, top_indices] = scores.view({batch, beams * vocab}).topk(2 * beams, 1);
        auto top_scores_a = top_scores.accessor<float, 2>();
        auto top_indices_a = top_indices.accessor<int64_t, 2>();

        std::vector<int64_t> source_rows(batch * beams), next_tokens(batch * beams);
        std::vector<double> next_scores(batch * beams);
        const int64_t generated = step + 1;
        for (int64_t b = 0; b < batch; ++b) {
            int64_t filled = 0;
            for (int64_t rank = 0; rank < 2 * beams && filled < beams; ++rank) {
                const int64_t source = b * beams + top_indices_a[b][rank] / vocab;
                const int64_t token = top_indices_a[b][rank] % vocab;
                const double score = top_scores_a[b][rank];
                if (token == config.eos_token_id) {
                    // An eos below the top `beams` candidates is not a hypothesis HF would keep.
                    if (!done[b] && rank < beams) {
                        std::vector<int64_t> tokens = running[source];
                        tokens.push_back(token);
                        finished[b].add(std::move(tokens), score);
                    }
                    continue;
                }
                const int64_t row = b * beams + filled++;
                source_rows[row] = source, next_tokens[row] = token, next_scores[row] = score;
            }
            if (!done[b]) done[b] = finished[b].is_done(next_scores[b * beams], generated);
        }

        std::vector<std::vector<int64_t>> next_running(batch * beams);
        for (int64_t row = 0; row < batch * beams; ++row) {
            next_running[row] = running[source_rows[row]];
            next_running[row].push_back(next_tokens[row]);
        }
        running = std::move(next_running);
        running_scores = std::move(next_scores);
        if (std::all_of(done.begin(), done.end(), [](bool d) { return d; })) break;
        at::Tensor rows = at::tensor(source_rows, at::kLong).to(input_ids.device());
        cache.select_rows(rows);
        last_tokens = at::tensor(next_tokens, at::kLong).to(input_ids.device()).unsqueeze(1);
    }

    // Rows still running at the length limit compete with what has finished.
    std::vector<std::vector<int64_t>> best(batch);
    for (int64_t b = 0; b < batch; ++b) {
        if (!done[b]) {
            for (int64_t beam = 0; beam < beams; ++beam) {
                finished[b].add(running[b * beams + beam], running_scores[b * beams + beam]);
            }
        }
        best[b] = finished[b].best().tokens;
    }
    return pad_to_matrix(best, config.pad_token_id, input_ids.options());
}

}  // namespace gs
