// Per-example loss (and logits) of a T5 model on tokenised examples: lets anyone compare the
// engine with another implementation line by line.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include "core/model/t5_model.h"

namespace gs {

struct ScoringExample {
    int64_t line = 0;                 // 1-based line in the source file
    std::vector<int64_t> input_ids;
    std::vector<int64_t> labels;      // -100 marks positions that are not scored
};

// Reads JSON Lines of {"input_ids": [...], "labels": [...]}; blank lines are skipped. Errors
// name the file, the line and the field. Ids must lie in [0, vocab_size).
std::vector<ScoringExample> read_scoring_examples(const std::string& path, int64_t vocab_size);

struct ExampleScore {
    double mean_loss = 0;      // mean cross-entropy over the labels that are not -100
    int64_t scored_tokens = 0;
    at::Tensor logits;         // [labels length, vocab], CPU float
};

ExampleScore score_example(T5Model& model, const ScoringExample& example);

}  // namespace gs
