#include "core/data/pretraining_data.h"

#include <stdexcept>

#include "core/data/prepare.h"
#include "core/data/token_cache.h"

namespace gs {
namespace {

TokenFile open_matching(const std::string& path, const Tokenizer& tokenizer, const std::string& tokenizer_path) {
    TokenFile file = TokenFile::open(path);
    if (file.header().tokenizer_fingerprint != tokenizer.fingerprint()) {
        throw std::runtime_error(path + ": tokenized with another tokenizer than " + tokenizer_path +
                                 "; run prepare again");
    }
    return file;
}

}  // namespace

PretrainingData::PretrainingData(Tokenizer tokenizer, TokenFile train, TokenFile validation)
    : tokenizer_(std::move(tokenizer)), train_tokens_(std::move(train)), validation_tokens_(std::move(validation)) {}

std::unique_ptr<PretrainingData> PretrainingData::open(const std::string& cache_dir,
                                                       const SpanCorruptionOptions& options) {
    const std::string tokenizer_path = tokenizer_model_path(cache_dir);
    Tokenizer tokenizer = Tokenizer::load(tokenizer_path);
    TokenFile train = open_matching(train_tokens_path(cache_dir), tokenizer, tokenizer_path);
    TokenFile validation = open_matching(validation_tokens_path(cache_dir), tokenizer, tokenizer_path);
    std::unique_ptr<PretrainingData> data(new PretrainingData(tokenizer, std::move(train), std::move(validation)));
    const int32_t first_sentinel = data->tokenizer_.sentinel_id(0);
    data->train_ = std::make_unique<SpanCorruptionDataset>(data->train_tokens_, options, first_sentinel);
    const int64_t raw_length = data->train_->lengths().raw_length;
    if (data->validation_tokens_.token_count() >= static_cast<uint64_t>(raw_length)) {
        data->validation_ = std::make_unique<SpanCorruptionDataset>(data->validation_tokens_, options, first_sentinel);
    }
    return data;
}

}  // namespace gs
