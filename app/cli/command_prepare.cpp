#include <iomanip>
#include <iostream>

#include <nlohmann/json.hpp>

#include "app/cli/arguments.h"
#include "app/cli/commands.h"
#include "app/cli/data_options.h"
#include "core/data/batches.h"
#include "core/data/prepare.h"
#include "core/data/token_file.h"

namespace gs::cli {
namespace {

ArgumentSpec prepare_spec() {
    ArgumentSpec spec{{"tokenizer", "out", "threads", "character-coverage", "model-type", "sentences", "training-mb"},
                      {"byte-fallback", "json", "quiet"}};
    for (const auto& name : kCorpusOptionNames) spec.options.insert(name);
    for (const auto& name : kSpanOptionNames) spec.options.insert(name);
    return spec;
}

TokenizerChoice tokenizer_choice_from(const Arguments& args) {
    TokenizerChoice choice;
    try {
        choice = parse_tokenizer_choice(args.required("tokenizer"));
    } catch (const std::invalid_argument& error) {
        throw UsageError(error.what());
    }
    if (choice.train) {
        choice.train->character_coverage = real_number(args, "character-coverage", choice.train->character_coverage);
        choice.train->model_type = args.text("model-type", choice.train->model_type);
        choice.train->byte_fallback = args.has("byte-fallback");
        choice.train->input_sentence_size = args.integer("sentences", choice.train->input_sentence_size);
        choice.training_megabytes = real_number(args, "training-mb", choice.training_megabytes);
        choice.train->num_threads = static_cast<int>(args.integer("threads", 0));
    }
    return choice;
}

void print_tokenizer(const PreparedTokenizer& prepared, const std::string& dir) {
    const Tokenizer& t = prepared.tokenizer;
    std::cout << "tokenizer     " << tokenizer_model_path(dir) << ": " << t.piece_count() << " pieces + "
              << Tokenizer::kSentinelCount << " sentinels = " << t.size() << " ids, model vocab_size "
              << t.model_vocab_size() << " ("
              << (prepared.reused ? "reused" : prepared.trained ? "trained" : "copied") << ", " << std::fixed
              << std::setprecision(1) << prepared.seconds << " s)\n";
}

void print_cache(const TokenCacheSummary& s) {
    const uint64_t documents = s.train.documents + s.validation.documents;
    std::cout << "cache         ";
    if (s.reused) {
        std::cout << "reused (corpus and tokenizer unchanged)\n";
    } else {
        if (!s.rebuild_reason.empty()) std::cout << "rebuilt (" << s.rebuild_reason << "), ";
        std::cout << std::setprecision(2) << s.corpus_bytes / 1e6 << " MB tokenized in " << s.seconds << " s with "
                  << s.threads << " threads: " << s.corpus_bytes / 1e6 / s.seconds << " MB/s, "
                  << (s.train.tokens + s.validation.tokens) / s.seconds / 1e6 << " M tokens/s\n";
    }
    std::cout << "documents     " << documents << " (train " << s.train.documents << ", validation "
              << s.validation.documents << ")";
    if (s.skipped_documents) std::cout << ", " << s.skipped_documents << " skipped";
    std::cout << "\ntokens        " << s.train.tokens + s.validation.tokens << " (train " << s.train.tokens
              << ", validation " << s.validation.tokens << "), eos included\n";
    for (const auto& warning : s.warnings) std::cerr << "warning: " << warning << "\n";
}

nlohmann::json summary_json(const PreparedTokenizer& tokenizer, const TokenCacheSummary& s, const SpanLengths& l,
                            uint64_t train_rows) {
    return {{"tokenizer_size", tokenizer.tokenizer.size()},
            {"model_vocab_size", tokenizer.tokenizer.model_vocab_size()},
            {"tokenizer_reused", tokenizer.reused},
            {"cache_reused", s.reused},
            {"documents", s.train.documents + s.validation.documents},
            {"train_documents", s.train.documents},
            {"validation_documents", s.validation.documents},
            {"train_tokens", s.train.tokens},
            {"validation_tokens", s.validation.tokens},
            {"skipped_documents", s.skipped_documents},
            {"corpus_bytes", s.corpus_bytes},
            {"seconds", s.seconds},
            {"raw_length", l.raw_length},
            {"input_length", l.input_length},
            {"target_length", l.target_length},
            {"train_rows", train_rows}};
}

}  // namespace

int run_prepare(const Words& words) try {
    const Arguments args(words, prepare_spec());
    const std::string dir = args.required("out");
    const CorpusOptions corpus = corpus_options_from(args);
    const TokenizerChoice choice = tokenizer_choice_from(args);
    const SpanCorruptionOptions span = span_options_from(args);
    SpanLengths lengths;
    try {
        lengths = compute_span_lengths(span);
    } catch (const std::invalid_argument& error) {
        throw UsageError(error.what());
    }
    TokenCacheOptions cache;
    cache.corpus = corpus;
    cache.split = split_options_from(args);
    cache.threads = static_cast<int>(args.integer("threads", 0));
    const ProgressCallback progress = terminal_progress(args.has("quiet"));
    cache.progress = progress;

    const PreparedTokenizer tokenizer = prepare_tokenizer(dir, choice, corpus, progress);
    print_tokenizer(tokenizer, dir);
    const TokenCacheSummary summary = prepare_token_cache(dir, tokenizer.tokenizer, cache);
    print_cache(summary);

    const TokenFile train = TokenFile::open(train_tokens_path(dir));
    const uint64_t rows = train.token_count() / lengths.raw_length;
    std::cout << std::defaultfloat << std::setprecision(6) << "batches       input " << lengths.input_length << ", noise density " << span.noise_density
              << ", mean span " << span.mean_span_length << ": rows of " << lengths.raw_length
              << " raw tokens, targets " << lengths.target_length << " tokens; " << rows << " train rows\n";
    if (args.has("json")) std::cout << summary_json(tokenizer, summary, lengths, rows).dump() << "\n";
    return 0;
} catch (const OperationCancelled&) {
    std::cerr << "\ngrowthstudio-cli prepare: cancelled; the previous files are kept, nothing half-written\n";
    return 130;
}

}  // namespace gs::cli
