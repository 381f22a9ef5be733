// A sentencepiece tokenizer with T5's conventions: pad 0, eos 1, unk 2, no bos, and 100
// sentinels <extra_id_0..99> above the sentencepiece pieces, <extra_id_0> the highest id, as
// HuggingFace's T5Tokenizer numbers them. No torch here, no sentencepiece either: the model
// runs inside gs_sentencepiece_shim (see sentencepiece_shim.h for why).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "core/data/progress.h"

namespace gs {

struct TokenizerTrainingOptions {
    int64_t vocab_size = 32000;             // sentencepiece pieces, without the 100 sentinels
    std::string model_type = "unigram";     // unigram | bpe | char | word
    double character_coverage = 0.9995;     // the usual value for Korean's large alphabet
    std::string normalization = "nmt_nfkc";
    bool byte_fallback = false;
    int64_t input_sentence_size = 2000000;  // sentences sampled from the corpus (0: all)
    int num_threads = 0;                    // 0: every core
    uint32_t seed = 1;                      // sentence sampling and shuffling
    bool verbose = false;                   // sentencepiece's own log on stderr
};

// Yields the next training sentence into `sentence`; false at the end.
using SentenceSource = std::function<bool(std::string& sentence)>;

// sentencepiece refused to train on the sentences it was given (a vocabulary larger than they
// can fill, or smaller than their characters): the caller knows which corpus they came from.
struct TokenizerTrainingError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

class Tokenizer {
public:
    static constexpr int32_t kPadId = 0;
    static constexpr int32_t kEosId = 1;
    static constexpr int32_t kUnkId = 2;
    static constexpr int kSentinelCount = 100;
    static constexpr int64_t kVocabMultiple = 128;

    // A .model file (KE-T5's or google's spiece.model); its special ids must be T5's.
    static Tokenizer load(const std::string& model_path);
    static Tokenizer from_bytes(std::string model_bytes, const std::string& source);
    // Trains on the sentences `source` yields. Progress covers reading the sentences (stage
    // "reading", in bytes), then, every second while sentencepiece trains (stage "training", in
    // seconds), the elapsed time against an estimate from the sentences' size, since
    // sentencepiece reports nothing. A cancel request while it trains takes effect when it ends.
    static Tokenizer train(const TokenizerTrainingOptions& options, const SentenceSource& source,
                           const ProgressCallback& progress = {});

    void save(const std::string& model_path) const;

    int64_t piece_count() const;
    // len(tokenizer) in HuggingFace's terms: pieces + sentinels.
    int64_t size() const { return piece_count() + kSentinelCount; }
    // The model's vocab_size: size() rounded up to a multiple of 128, as HF checkpoints do.
    int64_t model_vocab_size() const;
    // The same for a tokenizer of `size` ids (pieces and sentinels).
    static int64_t model_vocab_size_for(int64_t size);
    // The same for one trained with `pieces` sentencepiece pieces (train:PIECES), before it is.
    static int64_t model_vocab_size_for_pieces(int64_t pieces) { return model_vocab_size_for(pieces + kSentinelCount); }
    int32_t sentinel_id(int index) const;
    bool is_sentinel(int32_t id) const { return id >= piece_count() && id < size(); }

    // Appends the ids of `text` (no eos) to `ids`. Thread-safe.
    void encode(std::string_view text, std::vector<int32_t>& ids) const;
    std::vector<int32_t> encode(std::string_view text) const;
    // The ids of `text` with each piece's bytes [begin, end) in it, as sentencepiece aligns them
    // through its normalisation; a piece's span includes the whitespace its "▁" stands for.
    struct PieceSpan {
        size_t begin = 0, end = 0;
    };
    std::vector<int32_t> encode_with_spans(std::string_view text, std::vector<PieceSpan>& spans) const;
    // Sentinels decode as "<extra_id_N>".
    std::string decode(const std::vector<int32_t>& ids) const;
    std::string piece(int32_t id) const;
    // -1 when the piece is not in the vocabulary; "<extra_id_N>" gives the sentinel.
    int32_t piece_to_id(const std::string& piece) const;

    // Identifies the model (a hash of its serialized bytes), for cache invalidation.
    uint64_t fingerprint() const { return fingerprint_; }
    const std::string& model_bytes() const;

private:
    struct Model;
    explicit Tokenizer(std::shared_ptr<const Model> model);
    std::shared_ptr<const Model> model_;
    uint64_t fingerprint_ = 0;
};

// Where gs_sentencepiece_shim was found (or the error naming every place looked at).
std::string sentencepiece_shim_path();

}  // namespace gs
