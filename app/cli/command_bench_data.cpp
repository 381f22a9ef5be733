#include <filesystem>
#include <iomanip>
#include <iostream>
#include <thread>

#include <nlohmann/json.hpp>

#include "app/cli/arguments.h"
#include "app/cli/commands.h"
#include "app/cli/data_options.h"
#include "core/bench/data_benchmark.h"
#include "core/data/prepare.h"
#include "core/data/token_file.h"

namespace gs::cli {
namespace {

// The Base preset's training step at batch 2 on one thread, measured with `bench` on the
// development machine (docs/benchmarks.md): the step the batches are compared against.
constexpr double kBaseStepSeconds = 15.39;
constexpr double kStudyCorpusMegabytes = 700;

ArgumentSpec bench_data_spec() {
    ArgumentSpec spec{{"tokenizer", "out", "threads", "batch", "step-s", "seconds"}, {"json"}};
    for (const auto& name : kCorpusOptionNames) spec.options.insert(name);
    for (const auto& name : kSpanOptionNames) spec.options.insert(name);
    return spec;
}

struct Figures {
    uint64_t corpus_bytes = 0;
    size_t documents = 0;
    int64_t pieces = 0;
    EncodeThroughput one_thread, all_threads;
    double cache_mb_per_s = 0;
    BatchTiming batches;
    double step_seconds = 0;

    double batch_seconds() const { return batches.seconds_per_batch + batches.tensor_seconds_per_batch; }
    double minutes_for_study_corpus() const { return kStudyCorpusMegabytes / cache_mb_per_s / 60; }
};

void print(const Figures& f, const SpanCorruptionOptions& span) {
    std::cout << std::fixed << std::setprecision(2) << "corpus            " << f.corpus_bytes / 1e6 << " MB, "
              << f.documents << " documents; tokenizer " << f.pieces << " pieces\n"
              << "encode            " << f.one_thread.megabytes_per_s << " MB/s on 1 thread (" << std::setprecision(0)
              << f.one_thread.tokens_per_s << " tokens/s), " << std::setprecision(2) << f.all_threads.megabytes_per_s
              << " MB/s on " << f.all_threads.threads << " threads\n"
              << "cache build       " << f.cache_mb_per_s << " MB/s with " << f.all_threads.threads
              << " threads (read, tokenize, write): " << std::setprecision(1) << f.minutes_for_study_corpus()
              << " min for the study's 700 MB\n"
              << std::defaultfloat << std::setprecision(3) << "batch             " << f.batches.batch_size << " x "
              << span.input_length << " inputs: " << f.batches.seconds_per_batch * 1e3 << " ms span corruption + "
              << f.batches.tensor_seconds_per_batch * 1e3 << " ms tensors, on one thread\n"
              << "against the step  " << f.batch_seconds() / f.step_seconds * 100 << " % of a " << f.step_seconds
              << " s training step\n";
}

nlohmann::json to_json(const Figures& f) {
    return {{"corpus_bytes", f.corpus_bytes},
            {"encode_mb_per_s_1_thread", f.one_thread.megabytes_per_s},
            {"encode_mb_per_s", f.all_threads.megabytes_per_s},
            {"threads", f.all_threads.threads},
            {"cache_mb_per_s", f.cache_mb_per_s},
            {"minutes_for_700_mb", f.minutes_for_study_corpus()},
            {"batch", f.batches.batch_size},
            {"batch_seconds", f.batch_seconds()},
            {"step_seconds", f.step_seconds},
            {"batch_share_of_step", f.batch_seconds() / f.step_seconds}};
}

// Rebuilds the cache from scratch, so that its time covers reading, tokenizing and writing.
TokenCacheSummary rebuild_cache(const std::string& dir, const Tokenizer& tokenizer, const TokenCacheOptions& cache) {
    std::filesystem::remove(dir + "/cache.json");
    return prepare_token_cache(dir, tokenizer, cache);
}

}  // namespace

int run_bench_data(const Words& words) {
    const Arguments args(words, bench_data_spec());
    const std::string dir = args.required("out");
    TokenCacheOptions cache;
    cache.corpus = corpus_options_from(args);
    cache.split = split_options_from(args);
    cache.threads = static_cast<int>(args.integer("threads", std::max(1u, std::thread::hardware_concurrency())));
    const TokenizerChoice choice = parse_tokenizer_choice(args.text("tokenizer", "train:4000"));
    const SpanCorruptionOptions span = span_options_from(args);
    const double seconds = real_number(args, "seconds", 2.0);

    const Tokenizer tokenizer = prepare_tokenizer(dir, choice, cache.corpus).tokenizer;
    const std::vector<std::string> documents = read_documents(cache.corpus);
    Figures f;
    f.documents = documents.size();
    f.pieces = tokenizer.piece_count();
    f.one_thread = measure_encoding(tokenizer, documents, 1, seconds);
    f.all_threads = measure_encoding(tokenizer, documents, cache.threads, seconds);
    const TokenCacheSummary built = rebuild_cache(dir, tokenizer, cache);
    f.corpus_bytes = built.corpus_bytes;
    f.cache_mb_per_s = built.corpus_bytes / 1e6 / built.seconds;
    const TokenFile train = TokenFile::open(train_tokens_path(dir));
    f.batches = measure_batches(train, span, tokenizer.sentinel_id(0), args.integer("batch", 2), seconds / 2);
    f.step_seconds = real_number(args, "step-s", kBaseStepSeconds);
    print(f, span);
    if (args.has("json")) std::cout << to_json(f).dump() << "\n";
    return 0;
}

}  // namespace gs::cli
