// gs_sentencepiece_shim: sentencepiece behind a plain C interface (see sentencepiece_shim.h).
#include "core/tokenizer/sentencepiece_shim.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>
#include <unordered_map>
#include <vector>

#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

// Exported by libsentencepiece but absent from its public headers.
namespace sentencepiece::logging {
void SetMinLogLevel(int level);
}

struct gs_sp_model {
    sentencepiece::SentencePieceProcessor processor;
};

namespace {

char* copy_bytes(const std::string& text) {
    char* bytes = static_cast<char*>(std::malloc(text.size() + 1));
    if (bytes == nullptr) return nullptr;
    std::memcpy(bytes, text.data(), text.size());
    bytes[text.size()] = '\0';
    return bytes;
}

void set_error(char** error, const std::string& message) {
    if (error != nullptr) *error = copy_bytes(message);
}

// Feeds the trainer from the caller's callback; a cancel turns into an error status, which
// makes SentencePieceTrainer::Train return before it starts the EM iterations.
class CallbackSentences : public sentencepiece::SentenceIterator {
public:
    CallbackSentences(gs_sp_next_sentence next, void* context) : next_(next), context_(context) { Next(); }
    bool done() const override { return done_; }
    void Next() override {
        const char* text = nullptr;
        size_t size = 0;
        const int result = next_(context_, &text, &size);
        if (result == 1) {
            value_.assign(text, size);
            return;
        }
        done_ = true;
        cancelled_ = result < 0;
    }
    const std::string& value() const override { return value_; }
    sentencepiece::util::Status status() const override {
        if (cancelled_) return sentencepiece::util::Status(sentencepiece::util::StatusCode::kCancelled, "cancelled");
        return sentencepiece::util::Status();
    }
    bool cancelled() const { return cancelled_; }

private:
    gs_sp_next_sentence next_;
    void* context_;
    std::string value_;
    bool done_ = false;
    bool cancelled_ = false;
};

}  // namespace

extern "C" {

int gs_sp_abi_version(void) { return GS_SP_SHIM_ABI_VERSION; }

gs_sp_model* gs_sp_load(const char* data, size_t size, char** error) {
    auto* model = new gs_sp_model;
    const auto status = model->processor.LoadFromSerializedProto(std::string(data, size));
    if (!status.ok()) {
        set_error(error, status.ToString());
        delete model;
        return nullptr;
    }
    return model;
}

void gs_sp_free(gs_sp_model* model) { delete model; }

void gs_sp_free_bytes(char* bytes) { std::free(bytes); }

int gs_sp_piece_count(const gs_sp_model* model) { return model->processor.GetPieceSize(); }

void gs_sp_special_ids(const gs_sp_model* model, int* pad, int* eos, int* unk, int* bos) {
    *pad = model->processor.pad_id();
    *eos = model->processor.eos_id();
    *unk = model->processor.unk_id();
    *bos = model->processor.bos_id();
}

int gs_sp_piece_to_id(const gs_sp_model* model, const char* piece, size_t size) {
    return model->processor.PieceToId(std::string(piece, size));
}

long gs_sp_id_to_piece(const gs_sp_model* model, int id, char* out, size_t capacity) {
    if (id < 0 || id >= model->processor.GetPieceSize()) return -1;
    const std::string& piece = model->processor.IdToPiece(id);
    std::memcpy(out, piece.data(), std::min(capacity, piece.size()));
    return static_cast<long>(piece.size());
}

long gs_sp_encode(const gs_sp_model* model, const char* text, size_t size, int* ids, size_t capacity) {
    std::vector<int> encoded;
    if (!model->processor.Encode(std::string(text, size), &encoded).ok()) return -1;
    std::memcpy(ids, encoded.data(), std::min(capacity, encoded.size()) * sizeof(int));
    return static_cast<long>(encoded.size());
}

long gs_sp_encode_spans(const gs_sp_model* model, const char* text, size_t size, int* ids, size_t* begins,
                        size_t* ends, size_t capacity) {
    const sentencepiece::ImmutableSentencePieceText encoded =
        model->processor.EncodeAsImmutableProto(absl::string_view(text, size));
    const size_t count = encoded.pieces_size();
    for (size_t i = 0; i < std::min(capacity, count); ++i) {
        const auto piece = encoded.pieces(static_cast<int>(i));
        ids[i] = static_cast<int>(piece.id());
        begins[i] = piece.begin();
        ends[i] = piece.end();
    }
    return static_cast<long>(count);
}

long gs_sp_decode(const gs_sp_model* model, const int* ids, size_t count, char* out, size_t capacity) {
    std::string text;
    if (!model->processor.Decode(std::vector<int>(ids, ids + count), &text).ok()) return -1;
    std::memcpy(out, text.data(), std::min(capacity, text.size()));
    return static_cast<long>(text.size());
}

int gs_sp_train(const char* const* keys, const char* const* values, size_t count, gs_sp_next_sentence next,
                void* context, char** model, size_t* model_size, char** error) {
    std::unordered_map<std::string, std::string> options;
    for (size_t i = 0; i < count; ++i) options[keys[i]] = values[i];
    // Two settings that are process flags, not TrainerSpec fields.
    if (auto level = options.find("minloglevel"); level != options.end()) {
        sentencepiece::logging::SetMinLogLevel(std::stoi(level->second));
        options.erase(level);
    }
    if (auto seed = options.find("random_seed"); seed != options.end()) {
        sentencepiece::SetRandomGeneratorSeed(static_cast<unsigned>(std::stoul(seed->second)));
        options.erase(seed);
    }
    CallbackSentences sentences(next, context);
    std::string serialized;
    const auto status = sentencepiece::SentencePieceTrainer::Train(options, &sentences, &serialized);
    if (sentences.cancelled()) {
        set_error(error, "tokenizer training cancelled");
        return 2;
    }
    if (!status.ok()) {
        set_error(error, status.ToString());
        return 1;
    }
    *model = copy_bytes(serialized);
    *model_size = serialized.size();
    return 0;
}

}  // extern "C"
