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

}  // namespace

int run_bench_data(const Words& words) {
    const Arguments args(words, bench_data_spec());
    const std::string dir = args.required("out");
    const CorpusOptions corpus = corpus_options_from(args);
    const TokenizerChoice choice = parse_tokenizer_choice(args.text("tokenizer", "train:4000"));
    const SpanCorruptionOptions span = span_options_from(args);
    const int threads = static_cast<int>(args.integer("threads", std::max(1u, std::thread::hardware_concurrency())));
    const int64_t batch_size = args.integer("batch", 2);
    const double step_seconds = real_number(args, "step-s", kBaseStepSeconds);
    const double seconds = real_number(args, "seconds", 2.0);

    const PreparedTokenizer prepared = prepare_tokenizer(dir, choice, corpus);
    const Tokenizer& tokenizer = prepared.tokenizer;
    const std::vector<std::string> documents = read_documents(corpus);
    const EncodeThroughput one = measure_encoding(tokenizer, documents, 1, seconds);
    const EncodeThroughput all = measure_encoding(tokenizer, documents, threads, seconds);

    // The cache is rebuilt from scratch so that its time covers reading, tokenizing and writing.
    std::filesystem::remove(dir + "/cache.json");
    TokenCacheOptions cache;
    cache.corpus = corpus;
    cache.split = split_options_from(args);
    cache.threads = threads;
    const TokenCacheSummary built = prepare_token_cache(dir, tokenizer, cache);
    const double cache_mb_per_s = built.corpus_bytes / 1e6 / built.seconds;

    const TokenFile train = TokenFile::open(train_tokens_path(dir));
    const BatchTiming batches = measure_batches(train, span, tokenizer.sentinel_id(0), batch_size, seconds / 2);
    const double batch_total = batches.seconds_per_batch + batches.tensor_seconds_per_batch;

    std::cout << std::fixed << std::setprecision(2) << "corpus            " << built.corpus_bytes / 1e6 << " MB, "
              << documents.size() << " documents; tokenizer " << tokenizer.piece_count() << " pieces\n"
              << "encode            " << one.megabytes_per_s << " MB/s on 1 thread (" << std::setprecision(0)
              << one.tokens_per_s << " tokens/s), " << std::setprecision(2) << all.megabytes_per_s << " MB/s on "
              << threads << " threads\n"
              << "cache build       " << cache_mb_per_s << " MB/s with " << threads << " threads (read, tokenize, "
              << "write): " << std::setprecision(1) << kStudyCorpusMegabytes / cache_mb_per_s / 60
              << " min for the study's 700 MB\n"
              << std::defaultfloat << std::setprecision(3) << "batch             " << batch_size << " x "
              << span.input_length << " inputs: " << batches.seconds_per_batch * 1e3 << " ms span corruption + "
              << batches.tensor_seconds_per_batch * 1e3 << " ms tensors, on one thread\n"
              << "against the step  " << batch_total / step_seconds * 100 << " % of a " << step_seconds
              << " s training step\n";
    if (args.has("json")) {
        std::cout << nlohmann::json{{"corpus_bytes", built.corpus_bytes},
                                    {"encode_mb_per_s_1_thread", one.megabytes_per_s},
                                    {"encode_mb_per_s", all.megabytes_per_s},
                                    {"threads", threads},
                                    {"cache_mb_per_s", cache_mb_per_s},
                                    {"minutes_for_700_mb", kStudyCorpusMegabytes / cache_mb_per_s / 60},
                                    {"batch", batch_size},
                                    {"batch_seconds", batch_total},
                                    {"step_seconds", step_seconds},
                                    {"batch_share_of_step", batch_total / step_seconds}}
                         .dump()
                  << "\n";
    }
    return 0;
}

}  // namespace gs::cli
