#include "core/growth/growth_probe.h"

#include <vector>

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include "core/common/random.h"

namespace gs {

namespace {

at::Tensor random_tokens(Random& random, int64_t vocab_size, int64_t rows, int64_t columns) {
    const int64_t first_ordinary = vocab_size > 3 ? 3 : 0;  // skip pad, eos and unk
    std::vector<int64_t> ids(rows * columns);
    for (auto& id : ids) id = first_ordinary + static_cast<int64_t>(random.below(vocab_size - first_ordinary));
    return at::tensor(ids, at::kLong).view({rows, columns});
}

at::Tensor probe_logits(T5Model& model, const ProbeBatch& probe) {
    at::NoGradGuard no_grad;
    model->eval();
    return model->forward(probe.input_ids, probe.attention_mask, probe.labels).logits;
}

}  // namespace

ProbeBatch make_probe_batch(int64_t vocab_size, uint64_t seed, int64_t batch, int64_t input_length,
                            int64_t target_length) {
    Random random(seed);
    ProbeBatch probe;
    probe.input_ids = random_tokens(random, vocab_size, batch, input_length);
    probe.labels = random_tokens(random, vocab_size, batch, target_length);
    probe.attention_mask = at::ones({batch, input_length}, at::kLong);
    // Padding in the last row, so that the masks take part too.
    if (batch > 1) probe.attention_mask[batch - 1].slice(0, input_length * 3 / 4).fill_(0);
    return probe;
}

double probe_loss(T5Model& model, const ProbeBatch& probe) {
    at::NoGradGuard no_grad;
    model->eval();
    return model->forward(probe.input_ids, probe.attention_mask, probe.labels).loss.item<double>();
}

ProbeComparison compare_on_probe(T5Model& before, T5Model& after, const ProbeBatch& probe) {
    ProbeComparison comparison;
    comparison.loss_before = probe_loss(before, probe);
    comparison.loss_after = probe_loss(after, probe);
    const at::Tensor difference = probe_logits(after, probe).to(at::kDouble) - probe_logits(before, probe).to(at::kDouble);
    comparison.max_logit_difference = difference.abs().max().item<double>();
    return comparison;
}

}  // namespace gs
