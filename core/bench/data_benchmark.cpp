#include "core/bench/data_benchmark.h"

#include <atomic>
#include <chrono>
#include <thread>

#include "core/data/batch_tensors.h"
#include "core/data/batches.h"
#include "core/data/token_file.h"
#include "core/tokenizer/tokenizer.h"

namespace gs {
namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

}  // namespace

std::vector<std::string> read_documents(const CorpusOptions& corpus) {
    CorpusReader reader(corpus);
    std::vector<std::string> documents;
    Document document;
    while (reader.next(document)) documents.push_back(document.text);
    return documents;
}

EncodeThroughput measure_encoding(const Tokenizer& tokenizer, const std::vector<std::string>& documents, int threads,
                                  double min_seconds) {
    std::atomic<uint64_t> bytes{0}, tokens{0};
    const auto start = Clock::now();
    auto work = [&](int first) {
        std::vector<int32_t> ids;
        // Each thread walks the documents from its own offset, round after round, until time is up.
        for (size_t n = first; since(start) < min_seconds; n += threads) {
            const std::string& text = documents[n % documents.size()];
            ids.clear();
            tokenizer.encode(text, ids);
            bytes += text.size();
            tokens += ids.size() + 1;
        }
    };
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) pool.emplace_back(work, t);
    for (auto& thread : pool) thread.join();
    const double seconds = since(start);
    return {threads, bytes / 1e6 / seconds, tokens / seconds};
}

BatchTiming measure_batches(const TokenFile& tokens, const SpanCorruptionOptions& options, int32_t first_sentinel,
                            int64_t batch_size, double min_seconds) {
    const SpanCorruptionDataset dataset(tokens, options, first_sentinel);
    BatchTiming timing;
    timing.batch_size = batch_size;
    DataPosition position{1, 0};
    int batches = 0;
    double tensor_seconds = 0;
    const auto start = Clock::now();
    while (since(start) < min_seconds || batches < 3) {
        const SpanBatch batch = dataset.batch(position, batch_size);
        const auto before_tensors = Clock::now();
        const TensorBatch tensors = to_tensors(batch, false);
        tensor_seconds += since(before_tensors);
        position = batch.next;
        ++batches;
    }
    const double seconds = since(start);
    timing.tensor_seconds_per_batch = tensor_seconds / batches;
    timing.seconds_per_batch = (seconds - tensor_seconds) / batches;
    return timing;
}

}  // namespace gs
