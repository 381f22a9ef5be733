// The whole preparation of a pre-training corpus, as `growthstudio-cli prepare` and the GUI run
// it: the tokenizer (trained from the corpus or loaded from a .model file) and the tokenized
// cache, both kept in one folder and reused while their inputs are unchanged.
#pragma once

#include <optional>
#include <string>

#include "core/data/token_cache.h"
#include "core/tokenizer/tokenizer.h"

namespace gs {

struct TokenizerChoice {
    std::string model_path;                          // an existing .model file, or
    std::optional<TokenizerTrainingOptions> train;   // train one from the corpus,
    // on a sample of about this many megabytes of it (a corpus file's size on disk counts, so
    // gzip files give more text than this). Training needs about 10x its input in memory.
    double training_megabytes = 200;
};

// "train:VOCAB" (VOCAB sentencepiece pieces, sentinels not counted) or a .model file.
TokenizerChoice parse_tokenizer_choice(const std::string& text);

struct PreparedTokenizer {
    Tokenizer tokenizer;
    bool reused = false;   // an earlier training result (or copy) was current
    bool trained = false;
    double seconds = 0;
};

// Writes the tokenizer to `cache_dir`/spiece.model. A trained one is reused while the corpus
// and the training options are the ones recorded in `cache_dir`/tokenizer.json.
PreparedTokenizer prepare_tokenizer(const std::string& cache_dir, const TokenizerChoice& choice,
                                    const CorpusOptions& corpus, const ProgressCallback& progress = {});

std::string tokenizer_model_path(const std::string& cache_dir);

// The vocabulary a model trained on this data gets (Tokenizer::model_vocab_size, as the trainer
// sizes it): that of the tokenizer prepared in `cache_dir`, or of the .model file chosen, or
// before a train:N tokenizer is trained, what N pieces will give.
struct ExpectedVocabulary {
    int64_t model_vocab_size = 0;
    int64_t tokenizer_size = 0;  // pieces and sentinels
    std::string tokenizer_path;  // where it was read; "" : not trained yet
};
ExpectedVocabulary expected_vocabulary(const std::string& cache_dir, const TokenizerChoice& choice);

// The Korean corpus that ships with GrowthStudio (resources/corpus), used when none is given.
std::string default_corpus_path();

}  // namespace gs
