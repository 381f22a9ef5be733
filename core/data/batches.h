// Pre-training batches from a token file: the packed token stream (documents concatenated, each
// ending with eos) cut into rows of the raw length T5 needs, rows visited in a seeded shuffled
// order per epoch, each row span-corrupted with a noise mask drawn from (seed, epoch, row). A
// batch depends only on the seed and its position, never on threads or timing, so a run
// resumed from a DataPosition continues with the very next batch.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/data/span_corruption.h"

namespace gs {

class TokenFile;

// Where a data stream stands: store it in a checkpoint and resume from it.
struct DataPosition {
    uint64_t seed = 0;
    uint64_t rows_consumed = 0;  // over all epochs
    // The dataset it belongs to (SpanCorruptionDataset::fingerprint()); 0 accepts any.
    uint64_t dataset = 0;

    nlohmann::json to_json() const;
    // `source` names the file in error messages.
    static DataPosition from_json(const nlohmann::json& json, const std::string& source);
    bool operator==(const DataPosition& other) const {
        return seed == other.seed && rows_consumed == other.rows_consumed && dataset == other.dataset;
    }
};

struct SpanBatch {
    int64_t batch_size = 0;
    int64_t input_length = 0;
    int64_t target_length = 0;
    std::vector<int32_t> inputs;   // batch_size x input_length, row-major
    std::vector<int32_t> targets;  // batch_size x target_length
    DataPosition next;             // the position after this batch
};

// A seeded bijection of [0, size): a small Feistel network with cycle walking, so that an
// epoch's row order needs no memory and any position is computed directly.
class RowPermutation {
public:
    RowPermutation(uint64_t size, uint64_t seed);
    uint64_t operator()(uint64_t index) const;

private:
    uint64_t round(uint64_t half, int round_index) const;
    uint64_t size_;
    uint64_t seed_;
    int half_bits_;
};

class SpanCorruptionDataset {
public:
    // `first_sentinel` is <extra_id_0>'s id (the tokenizer's size - 1).
    SpanCorruptionDataset(const TokenFile& tokens, const SpanCorruptionOptions& options, int32_t first_sentinel);

    const SpanLengths& lengths() const { return lengths_; }
    uint64_t rows() const { return rows_; }
    // Identifies the token stream and the span settings: a position saved with another
    // corpus, tokenizer or setting is refused rather than silently giving other batches.
    uint64_t fingerprint() const { return fingerprint_; }
    DataPosition start(uint64_t seed) const { return {seed, 0, fingerprint_}; }

    // The raw tokens of row `row` of the packed stream.
    std::vector<int32_t> raw_row(uint64_t row) const;
    // The stream position's row index: epoch = position / rows(), shuffled with the seed.
    uint64_t row_at(uint64_t seed, uint64_t position) const;
    // The corrupted example at a stream position, written into `inputs` / `targets`.
    void example(uint64_t seed, uint64_t position, int32_t* inputs, int32_t* targets) const;
    SpanBatch batch(const DataPosition& start, int64_t batch_size) const;

private:
    const TokenFile& tokens_;
    SpanCorruptionOptions options_;
    SpanLengths lengths_;
    int32_t first_sentinel_;
    uint64_t rows_;
    uint64_t fingerprint_;
};

// One process's part of each batch in data-parallel training: of a batch of B rows, shard i of
// n reads rows [i B/n, (i+1) B/n), so that the n shards together are the single-process batch
// and no row is read twice.
struct DataShard {
    int index = 0;
    int count = 1;
};

// Prepares the batches that follow `start` on background threads, `depth` ahead of the
// consumer, and hands them out in order. With a shard, each batch holds the shard's rows of
// the `batch_size` rows (which must divide evenly) and its `next` is the whole batch's.
class BatchPrefetcher {
public:
    BatchPrefetcher(const SpanCorruptionDataset& dataset, int64_t batch_size, DataPosition start, int threads = 2,
                    int depth = 4, DataShard shard = {});
    ~BatchPrefetcher();
    BatchPrefetcher(const BatchPrefetcher&) = delete;
    BatchPrefetcher& operator=(const BatchPrefetcher&) = delete;

    SpanBatch next();

private:
    void work();

    const SpanCorruptionDataset& dataset_;
    int64_t batch_size_;
    DataShard shard_;
    DataPosition start_;
    uint64_t depth_;
    std::mutex mutex_;
    std::condition_variable changed_;
    std::map<uint64_t, SpanBatch> ready_;
    uint64_t claimed_ = 0;    // batches handed to workers
    uint64_t delivered_ = 0;  // batches returned by next()
    bool stop_ = false;
    std::exception_ptr error_;
    std::vector<std::thread> workers_;
};

}  // namespace gs
