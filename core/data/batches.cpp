#include "core/data/batches.h"

#include <stdexcept>

#include <nlohmann/json.hpp>

#include "core/common/hash.h"
#include "core/common/random.h"
#include "core/data/token_file.h"
#include "core/tokenizer/tokenizer.h"

namespace gs {

nlohmann::json DataPosition::to_json() const {
    return {{"seed", seed}, {"rows_consumed", rows_consumed}, {"dataset", to_hex(dataset)}};
}

DataPosition DataPosition::from_json(const nlohmann::json& json, const std::string& source) {
    DataPosition position;
    for (const char* key : {"seed", "rows_consumed"}) {
        if (!json.contains(key) || !json.at(key).is_number_unsigned()) {
            throw std::runtime_error(source + ": data position needs an unsigned integer \"" + key + "\"");
        }
    }
    position.seed = json.at("seed").get<uint64_t>();
    position.rows_consumed = json.at("rows_consumed").get<uint64_t>();
    const auto dataset = json.find("dataset");
    if (dataset != json.end()) {
        const std::string digits = dataset->is_string() ? dataset->get<std::string>() : "";
        if (digits.size() != 16 || digits.find_first_not_of("0123456789abcdef") != std::string::npos) {
            throw std::runtime_error(source + ": data position \"dataset\" must be 16 hex digits");
        }
        position.dataset = std::stoull(digits, nullptr, 16);
    }
    return position;
}

RowPermutation::RowPermutation(uint64_t size, uint64_t seed) : size_(size), seed_(seed), half_bits_(1) {
    while ((uint64_t(1) << (2 * half_bits_)) < size) ++half_bits_;
}

uint64_t RowPermutation::round(uint64_t half, int round_index) const {
    return mix64(half ^ derive_seed(seed_, round_index)) & ((uint64_t(1) << half_bits_) - 1);
}

uint64_t RowPermutation::operator()(uint64_t index) const {
    const uint64_t mask = (uint64_t(1) << half_bits_) - 1;
    uint64_t value = index;
    do {  // cycle walking: re-encrypt until the value falls inside [0, size)
        uint64_t left = value >> half_bits_, right = value & mask;
        for (int r = 0; r < 4; ++r) {
            const uint64_t next = left ^ round(right, r);
            left = right;
            right = next;
        }
        value = (left << half_bits_) | right;
    } while (value >= size_);
    return value;
}

SpanCorruptionDataset::SpanCorruptionDataset(const TokenFile& tokens, const SpanCorruptionOptions& options,
                                             int32_t first_sentinel)
    : tokens_(tokens), options_(options), lengths_(compute_span_lengths(options)), first_sentinel_(first_sentinel) {
    if (tokens.header().vocab_size != static_cast<uint64_t>(first_sentinel) + 1) {
        throw std::runtime_error(tokens.path() + ": tokenized with a tokenizer of " +
                                 std::to_string(tokens.header().vocab_size) + " ids, not the one given (" +
                                 std::to_string(first_sentinel + 1) + " ids)");
    }
    rows_ = tokens.token_count() / lengths_.raw_length;
    const uint64_t settings[] = {tokens.header().tokenizer_fingerprint, tokens.header().corpus_fingerprint,
                                 tokens.token_count(), static_cast<uint64_t>(options.input_length),
                                 static_cast<uint64_t>(options.noise_density * 1e9),
                                 static_cast<uint64_t>(options.mean_span_length * 1e9)};
    fingerprint_ = hash_bytes(settings, sizeof settings);
    if (rows_ == 0) {
        throw std::runtime_error(tokens.path() + ": " + std::to_string(tokens.token_count()) +
                                 " tokens, fewer than one row of " + std::to_string(lengths_.raw_length));
    }
}

std::vector<int32_t> SpanCorruptionDataset::raw_row(uint64_t row) const {
    std::vector<int32_t> raw(lengths_.raw_length);
    tokens_.read(row * lengths_.raw_length, lengths_.raw_length, raw.data());
    return raw;
}

uint64_t SpanCorruptionDataset::row_at(uint64_t seed, uint64_t position) const {
    const uint64_t epoch = position / rows_;
    return RowPermutation(rows_, derive_seed(seed, epoch, 0x0e90c4))(position % rows_);
}

void SpanCorruptionDataset::example(uint64_t seed, uint64_t position, int32_t* inputs, int32_t* targets) const {
    const std::vector<int32_t> raw = raw_row(row_at(seed, position));
    Random random(derive_seed(seed, position, 0x5a05));
    const auto mask = random_spans_noise_mask(lengths_.raw_length, options_.noise_density, options_.mean_span_length,
                                              random);
    std::vector<int32_t> corrupted_inputs, corrupted_targets;
    corrupt_spans(raw.data(), mask, first_sentinel_, Tokenizer::kEosId, corrupted_inputs, corrupted_targets);
    if (static_cast<int64_t>(corrupted_inputs.size()) != lengths_.input_length ||
        static_cast<int64_t>(corrupted_targets.size()) != lengths_.target_length) {
        throw std::logic_error("span corruption produced lengths other than computed");
    }
    std::copy(corrupted_inputs.begin(), corrupted_inputs.end(), inputs);
    std::copy(corrupted_targets.begin(), corrupted_targets.end(), targets);
}

SpanBatch SpanCorruptionDataset::batch(const DataPosition& start, int64_t batch_size) const {
    if (start.dataset != 0 && start.dataset != fingerprint_) {
        throw std::runtime_error("the data position was saved with another dataset (corpus, tokenizer or span "
                                 "settings differ), so resuming from it would not continue the same batches");
    }
    SpanBatch batch;
    batch.batch_size = batch_size;
    batch.input_length = lengths_.input_length;
    batch.target_length = lengths_.target_length;
    batch.inputs.resize(batch_size * lengths_.input_length);
    batch.targets.resize(batch_size * lengths_.target_length);
    for (int64_t b = 0; b < batch_size; ++b) {
        example(start.seed, start.rows_consumed + b, batch.inputs.data() + b * lengths_.input_length,
                batch.targets.data() + b * lengths_.target_length);
    }
    batch.next = {start.seed, start.rows_consumed + static_cast<uint64_t>(batch_size), fingerprint_};
    return batch;
}

BatchPrefetcher::BatchPrefetcher(const SpanCorruptionDataset& dataset, int64_t batch_size, DataPosition start,
                                 int threads, int depth, DataShard shard)
    : dataset_(dataset), batch_size_(batch_size), shard_(shard), start_(start), depth_(std::max(depth, 1)) {
    if (batch_size < 1) throw std::invalid_argument("batch size must be at least 1");
    if (shard.count < 1 || shard.index < 0 || shard.index >= shard.count || batch_size % shard.count != 0) {
        throw std::invalid_argument("a batch of " + std::to_string(batch_size) + " rows cannot be split evenly into " +
                                    std::to_string(shard.count) + " processes");
    }
    for (int i = 0; i < std::max(threads, 1); ++i) workers_.emplace_back([this] { work(); });
}

BatchPrefetcher::~BatchPrefetcher() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stop_ = true;
    }
    changed_.notify_all();
    for (auto& worker : workers_) worker.join();
}

void BatchPrefetcher::work() {
    for (;;) {
        uint64_t index;
        {
            std::unique_lock<std::mutex> lock(mutex_);
            changed_.wait(lock, [&] { return stop_ || claimed_ < delivered_ + depth_; });
            if (stop_) return;
            index = claimed_++;
        }
        const uint64_t first = start_.rows_consumed + index * static_cast<uint64_t>(batch_size_);
        const int64_t rows = batch_size_ / shard_.count;
        SpanBatch batch;
        std::exception_ptr error;
        try {
            batch = dataset_.batch({start_.seed, first + static_cast<uint64_t>(shard_.index * rows), start_.dataset}, rows);
            batch.next.rows_consumed = first + static_cast<uint64_t>(batch_size_);
        } catch (...) {
            error = std::current_exception();
        }
        std::lock_guard<std::mutex> lock(mutex_);
        if (error && !error_) error_ = error;
        ready_.emplace(index, std::move(batch));
        changed_.notify_all();
    }
}

SpanBatch BatchPrefetcher::next() {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait(lock, [&] { return error_ || ready_.count(delivered_) > 0; });
    if (error_) std::rethrow_exception(error_);
    SpanBatch batch = std::move(ready_.at(delivered_));
    ready_.erase(delivered_++);
    changed_.notify_all();
    return batch;
}

}  // namespace gs
