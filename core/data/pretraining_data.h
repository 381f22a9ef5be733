// What a pre-training run reads from a folder that `prepare` wrote: the tokenizer, both token
// files, and span-corruption datasets over them, checked to belong together.
#pragma once

#include <memory>
#include <string>

#include "core/data/batches.h"
#include "core/data/token_file.h"
#include "core/tokenizer/tokenizer.h"

namespace gs {

class PretrainingData {
public:
    // Throws, naming the file, when a part is missing, corrupt, or built with another tokenizer.
    static std::unique_ptr<PretrainingData> open(const std::string& cache_dir, const SpanCorruptionOptions& options);

    const Tokenizer& tokenizer() const { return tokenizer_; }
    const SpanCorruptionDataset& train() const { return *train_; }
    // Null when the validation split has less than one row.
    const SpanCorruptionDataset* validation() const { return validation_.get(); }

private:
    PretrainingData(Tokenizer tokenizer, TokenFile train, TokenFile validation);

    Tokenizer tokenizer_;
    TokenFile train_tokens_;
    TokenFile validation_tokens_;
    std::unique_ptr<SpanCorruptionDataset> train_;
    std::unique_ptr<SpanCorruptionDataset> validation_;
};

}  // namespace gs
