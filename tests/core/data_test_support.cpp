#include "data_test_support.h"

#include <zlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "core/data/corpus.h"
#include "core/common/hash.h"

namespace gs::test {

void write_text(const std::string& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary);
    out << text;
    if (!out) throw std::runtime_error(path + ": cannot write");
}

void write_gzip(const std::string& path, const std::string& text) {
    gzFile file = gzopen(path.c_str(), "wb");
    if (file == nullptr || gzwrite(file, text.data(), static_cast<unsigned>(text.size())) != int(text.size())) {
        throw std::runtime_error(path + ": cannot write");
    }
    gzclose(file);
}

namespace {

TokenizerTrainingOptions korean_options() {
    TokenizerTrainingOptions options;
    options.vocab_size = kKoreanVocab;
    options.num_threads = 2;
    return options;
}

Tokenizer train_korean_tokenizer() {
    const auto options = korean_options();
    const std::string key = std::to_string(options.vocab_size) + "-" +
                            std::to_string(std::filesystem::file_size(korean_corpus_path()));
    const std::string cached = std::string(GS_TEST_OUTPUT_DIR) + "/korean-test-tokenizer-" + key + ".model";
    if (std::filesystem::exists(cached)) return Tokenizer::load(cached);
    CorpusOptions corpus;
    corpus.paths = {korean_corpus_path()};
    CorpusReader reader(corpus);
    TrainingSentences sentences(reader);
    Tokenizer tokenizer = Tokenizer::train(options, [&](std::string& s) { return sentences.next(s); });
    tokenizer.save(cached);
    return tokenizer;
}

}  // namespace

const Tokenizer& korean_tokenizer() {
    static const Tokenizer tokenizer = train_korean_tokenizer();
    return tokenizer;
}

std::string shared_data_dir() {
    const char* dir = std::getenv("GS_SHARED_DATA_DIR");
    return dir ? dir : "";
}

}  // namespace gs::test
