#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include "core/io/safetensors.h"
#include "core/model/checkpoint.h"
#include "core/model/generation.h"
#include "test_support.h"

namespace gs {
namespace {

struct Inputs {
    T5Model model{nullptr};
    at::Tensor input_ids, attention_mask;
};

Inputs fixture_inputs() {
    const std::string dir = test::data_path("hf_t5/t5-v1_1-gated-untied");
    Inputs in;
    in.model = load_t5_checkpoint(dir);
    in.model->eval();
    SafetensorsFile expected(dir + "/expected.safetensors");
    in.input_ids = expected.load("input_ids");
    in.attention_mask = expected.load("attention_mask");
    return in;
}

std::vector<int64_t> row_tokens(const at::Tensor& ids, int64_t row, int64_t pad, int64_t eos) {
    std::vector<int64_t> tokens;
    for (int64_t i = 0; i < ids.size(1); ++i) {
        int64_t t = ids[row][i].item<int64_t>();
        if (i > 0 && t == pad && !tokens.empty() && tokens.back() == eos) break;  // padding after eos
        tokens.push_back(t);
    }
    return tokens;
}

// Beam search written the slow, obvious way: one row at a time, the whole decoder rerun on
// every hypothesis at every step, no cache. Same ranking rule as the engine documents.
std::vector<int64_t> reference_beam_search(T5Model& model, const at::Tensor& ids, const at::Tensor& mask,
                                           int64_t beams, int64_t max_new, double length_penalty) {
    at::NoGradGuard no_grad;
    const T5Config& c = model->config();
    at::Tensor encoder_states = model->encode(ids, mask);
    struct Beam { std::vector<int64_t> tokens; double logprob; };
    std::vector<Beam> running = {{{c.decoder_start_token_id}, 0.0}};
    std::vector<std::pair<double, std::vector<int64_t>>> finished;
    auto score = [&](double logprob, size_t tokens) { return logprob / std::pow(double(tokens - 1), length_penalty); };
    for (int64_t step = 0; step < max_new; ++step) {
        struct Candidate { double logprob; int64_t beam, token; };
        std::vector<Candidate> candidates;
        for (size_t b = 0; b < running.size(); ++b) {
            at::Tensor decoder_ids = at::tensor(running[b].tokens, at::kLong).unsqueeze(0);
            at::Tensor logits = model->lm_logits(model->decode(decoder_ids, encoder_states, mask));
            at::Tensor logprobs = at::log_softmax(logits[0][-1], -1);
            for (int64_t v = 0; v < c.vocab_size; ++v) {
                candidates.push_back({float(running[b].logprob) + logprobs[v].item<float>(), int64_t(b), v});
            }
        }
        std::stable_sort(candidates.begin(), candidates.end(), [](auto& a, auto& b) { return a.logprob > b.logprob; });
        std::vector<Beam> next;
        for (int64_t rank = 0; rank < 2 * beams && int64_t(next.size()) < beams; ++rank) {
            const Candidate& cand = candidates[rank];
            std::vector<int64_t> tokens = running[cand.beam].tokens;
            tokens.push_back(cand.token);
            if (cand.token == c.eos_token_id) {
                if (rank < beams) finished.push_back({score(cand.logprob, tokens.size()), tokens});
            } else {
                next.push_back({tokens, cand.logprob});
            }
        }
        running = next;
        std::sort(finished.begin(), finished.end(), [](auto& a, auto& b) { return a.first > b.first; });
        if (int64_t(finished.size()) > beams) finished.resize(beams);
        if (int64_t(finished.size()) == beams &&
            score(running.front().logprob, running.front().tokens.size()) <= finished.back().first) {
            return finished.front().second;
        }
    }
    for (auto& beam : running) finished.push_back({score(beam.logprob, beam.tokens.size()), beam.tokens});
    std::sort(finished.begin(), finished.end(), [](auto& a, auto& b) { return a.first > b.first; });
    return finished.front().second;
}

TEST(Generation, OneBeamIsGreedy) {
    Inputs in = fixture_inputs();
    GenerationOptions options;
    options.max_new_tokens = 30;
    options.num_beams = 1;
    at::Tensor greedy = generate(in.model, in.input_ids, in.attention_mask, options);
    options.num_beams = 1;
    at::Tensor beam = beam_search(in.model, in.input_ids, in.attention_mask, options);
    const T5Config& c = in.model->config();
    for (int64_t row = 0; row < in.input_ids.size(0); ++row) {
        EXPECT_EQ(row_tokens(beam, row, c.pad_token_id, c.eos_token_id),
                  row_tokens(greedy, row, c.pad_token_id, c.eos_token_id))
            << "row " << row;
    }
}

TEST(Generation, BatchedGreedyEqualsOneRowAtATime) {
    Inputs in = fixture_inputs();
    GenerationOptions options;
    options.max_new_tokens = 25;
    at::Tensor batched = greedy_search(in.model, in.input_ids, in.attention_mask, options);
    const T5Config& c = in.model->config();
    for (int64_t row = 0; row < in.input_ids.size(0); ++row) {
        at::Tensor single =
            greedy_search(in.model, in.input_ids.narrow(0, row, 1), in.attention_mask.narrow(0, row, 1), options);
        EXPECT_EQ(row_tokens(batched, row, c.pad_token_id, c.eos_token_id),
                  row_tokens(single, 0, c.pad_token_id, c.eos_token_id))
            << "row " << row;
    }
}

TEST(Generation, CachedBatchedBeamSearchMatchesUncachedReference) {
    Inputs in = fixture_inputs();
    const T5Config& c = in.model->config();
    for (double length_penalty : {1.0, 0.0}) {
        GenerationOptions options;
        options.num_beams = 3;
        options.max_new_tokens = 12;
        options.length_penalty = length_penalty;
        at::Tensor batched = beam_search(in.model, in.input_ids, in.attention_mask, options);
        for (int64_t row = 0; row < in.input_ids.size(0); ++row) {
            auto expected = reference_beam_search(in.model, in.input_ids.narrow(0, row, 1),
                                                  in.attention_mask.narrow(0, row, 1), 3, 12, length_penalty);
            EXPECT_EQ(row_tokens(batched, row, c.pad_token_id, c.eos_token_id), expected)
                << "row " << row << " length_penalty " << length_penalty;
        }
    }
}

TEST(Generation, InvalidOptionsAreRejected) {
    Inputs in = fixture_inputs();
    GenerationOptions options;
    options.num_beams = 0;
    EXPECT_THROW(generate(in.model, in.input_ids, in.attention_mask, options), std::invalid_argument);
}

}  // namespace
}  // namespace gs
