#include "core/data/prepare.h"

#include <chrono>
#include <filesystem>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "core/common/hash.h"
#include "core/data/cache_lock.h"
#include "core/io/files.h"

namespace gs {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string record_path(const std::string& dir) { return dir + "/tokenizer.json"; }

json describe_training(const TokenizerTrainingOptions& options, double megabytes, const CorpusOptions& corpus) {
    json files = json::array();
    for (const auto& file : list_corpus_files(corpus)) {
        files.push_back({{"path", file.path}, {"size", file.size}, {"modified_ns", file.modified_ns}});
    }
    return {{"vocab_size", options.vocab_size},
            {"model_type", options.model_type},
            {"character_coverage", options.character_coverage},
            {"normalization", options.normalization},
            {"byte_fallback", options.byte_fallback},
            {"input_sentence_size", options.input_sentence_size},
            {"training_megabytes", megabytes},
            {"seed", options.seed},
            {"corpus", files},
            {"layout", corpus.layout == TextLayout::line_per_document ? "line" : "blank"},
            {"json_field", corpus.json_field}};
}

// The tokenizer trained earlier from the same corpus with the same options, if any.
std::optional<Tokenizer> earlier_training(const std::string& dir, const json& training) {
    if (!fs::exists(record_path(dir)) || !fs::exists(tokenizer_model_path(dir))) return std::nullopt;
    try {
        const json record = read_json_file(record_path(dir));
        json recorded = record.value("training", json());
        for (json& file : recorded.at("corpus")) file["modified_ns"] = recorded_modified_ns(file.at("modified_ns"));
        if (recorded != training) return std::nullopt;
        Tokenizer tokenizer = Tokenizer::load(tokenizer_model_path(dir));
        if (record.value("fingerprint", std::string()) != to_hex(tokenizer.fingerprint())) return std::nullopt;
        return tokenizer;
    } catch (const std::exception&) {
        return std::nullopt;  // an unreadable record only costs a new training
    }
}

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Reports the reading of training sentences as a share of the corpus files, with an ETA.
ProgressCallback corpus_share(const ProgressCallback& progress, const CorpusReader& reader) {
    if (!progress) return progress;
    return [&progress, &reader](const Progress& p) {
        if (p.stage != "reading") return progress(p);
        Progress share = p;
        share.done = reader.bytes_read();
        share.total = reader.total_bytes();
        share.eta_s = estimate_eta(p.elapsed_s, share.done, share.total);
        return progress(share);
    };
}

// "a.txt", "a.txt, b.txt and 3 more files": the corpus, for an error about all of it.
std::string corpus_names(const CorpusOptions& corpus) {
    constexpr size_t kNamed = 2;
    std::string names;
    for (size_t i = 0; i < std::min(kNamed, corpus.paths.size()); ++i) names += (i ? ", " : "") + corpus.paths[i];
    if (corpus.paths.size() > kNamed) names += " and " + std::to_string(corpus.paths.size() - kNamed) + " more files";
    return names;
}

Tokenizer train_on_corpus(const TokenizerTrainingOptions& options, TrainingSentences& sentences,
                          const CorpusOptions& corpus, const ProgressCallback& progress) {
    try {
        return Tokenizer::train(options, [&](std::string& s) { return sentences.next(s); }, progress);
    } catch (const TokenizerTrainingError& error) {
        throw std::runtime_error(corpus_names(corpus) + ": " + error.what());
    }
}

PreparedTokenizer train_or_reuse(const std::string& dir, const TokenizerTrainingOptions& options, double megabytes,
                                 const CorpusOptions& corpus, const ProgressCallback& progress) {
    const auto start = std::chrono::steady_clock::now();
    const json training = describe_training(options, megabytes, corpus);
    if (auto earlier = earlier_training(dir, training)) return {*earlier, true, false, seconds_since(start)};
    CorpusReader reader(corpus);
    const double share = std::min(1.0, megabytes * 1e6 / std::max<double>(reader.total_bytes(), 1));
    TrainingSentences sentences(reader, 4000, share, options.seed);
    Tokenizer tokenizer = train_on_corpus(options, sentences, corpus, corpus_share(progress, reader));
    tokenizer.save(tokenizer_model_path(dir));
    write_file_atomically(record_path(dir),
                          json{{"training", training}, {"fingerprint", to_hex(tokenizer.fingerprint())}}.dump(2) + "\n");
    return {tokenizer, false, true, seconds_since(start)};
}

bool same_model_at(const std::string& path, const Tokenizer& tokenizer) {
    try {
        return fs::exists(path) && Tokenizer::load(path).fingerprint() == tokenizer.fingerprint();
    } catch (const std::exception&) {
        return false;  // unreadable: overwritten below
    }
}

PreparedTokenizer copy_model(const std::string& dir, const std::string& model_path) {
    const auto start = std::chrono::steady_clock::now();
    Tokenizer tokenizer = Tokenizer::load(model_path);
    const std::string target = tokenizer_model_path(dir);
    if (same_model_at(target, tokenizer)) return {tokenizer, true, false, seconds_since(start)};
    tokenizer.save(target);
    std::error_code ignored;
    fs::remove(record_path(dir), ignored);  // not a trained tokenizer any more
    return {tokenizer, false, false, seconds_since(start)};
}

}  // namespace

TokenizerChoice parse_tokenizer_choice(const std::string& text) {
    TokenizerChoice choice;
    if (text.rfind("train:", 0) != 0) {
        choice.model_path = text;
        return choice;
    }
    const std::string vocab = text.substr(6);
    size_t used = 0;
    int64_t size = 0;
    try {
        size = std::stoll(vocab, &used);
    } catch (const std::exception&) {
    }
    if (used != vocab.size() || size < 8) {
        throw std::invalid_argument("tokenizer '" + text + "': expected train:VOCAB with VOCAB a number of pieces");
    }
    choice.train = TokenizerTrainingOptions{};
    choice.train->vocab_size = size;
    return choice;
}

std::string tokenizer_model_path(const std::string& cache_dir) { return cache_dir + "/spiece.model"; }

PreparedTokenizer prepare_tokenizer(const std::string& cache_dir, const TokenizerChoice& choice,
                                    const CorpusOptions& corpus, const ProgressCallback& progress) {
    const auto lock = lock_cache_dir(cache_dir, progress);
    if (choice.train) return train_or_reuse(cache_dir, *choice.train, choice.training_megabytes, corpus, progress);
    return copy_model(cache_dir, choice.model_path);
}

ExpectedVocabulary expected_vocabulary(const std::string& cache_dir, const TokenizerChoice& choice) {
    const std::string prepared = tokenizer_model_path(cache_dir);
    const std::string path = !choice.train ? choice.model_path : fs::exists(prepared) ? prepared : "";
    if (path.empty()) {
        return {Tokenizer::model_vocab_size_for_pieces(choice.train->vocab_size),
                choice.train->vocab_size + Tokenizer::kSentinelCount, ""};
    }
    const Tokenizer tokenizer = Tokenizer::load(path);
    return {tokenizer.model_vocab_size(), tokenizer.size(), path};
}

std::string default_corpus_path() {
    const std::string relative = "corpus/ko-httpd-manual.jsonl";
    std::error_code error;
    const fs::path exe_dir = fs::read_symlink("/proc/self/exe", error).parent_path();
    for (const fs::path& dir : {exe_dir / "../share/growthstudio", fs::path(GS_RESOURCE_DIR)}) {
        if (fs::exists(dir / relative)) return (dir / relative).string();
    }
    throw std::runtime_error("the default corpus " + relative + " is missing from " + std::string(GS_RESOURCE_DIR));
}

}  // namespace gs
