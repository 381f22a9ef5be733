// The tokenized cache of a corpus: a folder with the tokenizer (spiece.model), one token file
// per split (train.tokens, validation.tokens) and cache.json, which records what they were
// built from (tokenizer fingerprint, the corpus files' sizes and modification times, the reading
// and split options) and is written last. A changed corpus, tokenizer or option is detected and
// the cache rebuilt; a cancelled or failed build leaves no half-written file.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/data/corpus.h"
#include "core/data/progress.h"
#include "core/data/split.h"

namespace gs {

class Tokenizer;

struct TokenCacheOptions {
    CorpusOptions corpus;
    SplitOptions split;
    int threads = 0;  // tokenizing threads; 0: every core
    ProgressCallback progress;
};

struct SplitCounts {
    uint64_t documents = 0;
    uint64_t tokens = 0;  // eos included
};

struct TokenCacheSummary {
    bool reused = false;
    std::string rebuild_reason;  // why an existing cache was not reused ("" when none existed)
    SplitCounts train;
    SplitCounts validation;
    uint64_t corpus_bytes = 0;
    uint64_t skipped_documents = 0;
    std::vector<std::string> warnings;
    double seconds = 0;
    int threads = 0;
};

std::string train_tokens_path(const std::string& cache_dir);
std::string validation_tokens_path(const std::string& cache_dir);

// Why the cache in `cache_dir` cannot serve `options` with `tokenizer` ("" when it can).
std::string token_cache_staleness(const std::string& cache_dir, const Tokenizer& tokenizer,
                                  const TokenCacheOptions& options);

// Reuses the cache when it is current, else tokenizes the corpus (in parallel) and writes it.
// Throws OperationCancelled when the progress callback cancels.
TokenCacheSummary prepare_token_cache(const std::string& cache_dir, const Tokenizer& tokenizer,
                                      const TokenCacheOptions& options);

}  // namespace gs
