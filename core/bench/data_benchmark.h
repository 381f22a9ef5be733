// Timings of the data pipeline: tokenization throughput and batch production, to set against
// the training step they feed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/data/corpus.h"
#include "core/data/span_corruption.h"

namespace gs {

class Tokenizer;
class TokenFile;

struct EncodeThroughput {
    int threads = 0;
    double megabytes_per_s = 0;   // of UTF-8 text
    double tokens_per_s = 0;
};

// Encodes the documents (held in memory, so that only sentencepiece is timed) on `threads`
// threads, repeating them until at least `min_seconds` have passed.
EncodeThroughput measure_encoding(const Tokenizer& tokenizer, const std::vector<std::string>& documents, int threads,
                                  double min_seconds = 2.0);

struct BatchTiming {
    int64_t batch_size = 0;
    double seconds_per_batch = 0;         // span corruption on one thread
    double tensor_seconds_per_batch = 0;  // copying into int64 tensors
};

BatchTiming measure_batches(const TokenFile& tokens, const SpanCorruptionOptions& options, int32_t first_sentinel,
                            int64_t batch_size, double min_seconds = 1.0);

std::vector<std::string> read_documents(const CorpusOptions& corpus);

}  // namespace gs
