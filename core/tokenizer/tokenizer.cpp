#include "core/tokenizer/tokenizer.h"

#include <dlfcn.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "core/common/hash.h"
#include "core/io/files.h"
#include "core/tokenizer/sentencepiece_shim.h"

namespace gs {
namespace {

// The shim's functions, resolved once per process.
struct ShimApi {
    std::string path;
    decltype(&gs_sp_load) load;
    decltype(&gs_sp_free) free;
    decltype(&gs_sp_free_bytes) free_bytes;
    decltype(&gs_sp_piece_count) piece_count;
    decltype(&gs_sp_special_ids) special_ids;
    decltype(&gs_sp_piece_to_id) piece_to_id;
    decltype(&gs_sp_id_to_piece) id_to_piece;
    decltype(&gs_sp_encode) encode;
    decltype(&gs_sp_encode_spans) encode_spans;
    decltype(&gs_sp_decode) decode;
    decltype(&gs_sp_train) train;
};

std::string executable_dir() {
    std::error_code error;
    auto exe = std::filesystem::read_symlink("/proc/self/exe", error);
    return error ? std::string() : exe.parent_path().string();
}

// GS_SENTENCEPIECE_SHIM overrides; then beside the executable, the install folder, the build tree.
std::vector<std::string> shim_candidates() {
    const std::string name = "gs_sentencepiece_shim.so";
    std::vector<std::string> paths;
    if (const char* env = std::getenv("GS_SENTENCEPIECE_SHIM"); env && *env) return {env};
    const std::string exe_dir = executable_dir();
    if (!exe_dir.empty()) {
        paths.push_back(exe_dir + "/" + name);
        paths.push_back(exe_dir + "/../lib/growthstudio/" + name);
    }
#ifdef GS_SENTENCEPIECE_SHIM_BUILD_PATH
    paths.push_back(GS_SENTENCEPIECE_SHIM_BUILD_PATH);
#endif
    return paths;
}

template <typename Function>
void resolve(void* handle, const char* name, Function& function, const std::string& path) {
    function = reinterpret_cast<Function>(::dlsym(handle, name));
    if (function == nullptr) throw std::runtime_error(path + ": missing symbol " + name);
}

ShimApi open_shim() {
    std::string tried;
    for (const auto& path : shim_candidates()) {
        if (!std::filesystem::exists(path)) {
            tried += "\n  " + path + " (absent)";
            continue;
        }
        // RTLD_DEEPBIND: the shim's sentencepiece binds to its own protobuf, not LibTorch's.
        void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
        if (handle == nullptr) {
            tried += "\n  " + path + " (" + ::dlerror() + ")";
            continue;
        }
        auto version = reinterpret_cast<decltype(&gs_sp_abi_version)>(::dlsym(handle, "gs_sp_abi_version"));
        if (version == nullptr || version() != GS_SP_SHIM_ABI_VERSION) {
            tried += "\n  " + path + " (another version of the shim)";
            continue;
        }
        ShimApi api;
        api.path = path;
        resolve(handle, "gs_sp_load", api.load, path);
        resolve(handle, "gs_sp_free", api.free, path);
        resolve(handle, "gs_sp_free_bytes", api.free_bytes, path);
        resolve(handle, "gs_sp_piece_count", api.piece_count, path);
        resolve(handle, "gs_sp_special_ids", api.special_ids, path);
        resolve(handle, "gs_sp_piece_to_id", api.piece_to_id, path);
        resolve(handle, "gs_sp_id_to_piece", api.id_to_piece, path);
        resolve(handle, "gs_sp_encode", api.encode, path);
        resolve(handle, "gs_sp_encode_spans", api.encode_spans, path);
        resolve(handle, "gs_sp_decode", api.decode, path);
        resolve(handle, "gs_sp_train", api.train, path);
        return api;  // never dlclose()d: models may live until exit
    }
    throw std::runtime_error("cannot load the sentencepiece module gs_sentencepiece_shim.so (set GS_SENTENCEPIECE_SHIM "
                             "to its path); tried:" + tried);
}

const ShimApi& shim() {
    static const ShimApi api = open_shim();
    return api;
}

// Takes ownership of a malloc()ed error message from the shim.
std::string take_error(char* error) {
    std::string message = error ? error : "unknown error";
    shim().free_bytes(error);
    return message;
}

constexpr std::string_view kSentinelPrefix = "<extra_id_";

}  // namespace

struct Tokenizer::Model {
    std::string bytes;
    gs_sp_model* handle = nullptr;
    int64_t pieces = 0;
    ~Model() {
        if (handle) shim().free(handle);
    }
};

Tokenizer::Tokenizer(std::shared_ptr<const Model> model)
    : model_(std::move(model)), fingerprint_(hash_text(model_->bytes)) {}

Tokenizer Tokenizer::from_bytes(std::string model_bytes, const std::string& source) {
    auto model = std::make_shared<Model>();
    model->bytes = std::move(model_bytes);
    char* error = nullptr;
    model->handle = shim().load(model->bytes.data(), model->bytes.size(), &error);
    if (model->handle == nullptr) throw std::runtime_error(source + ": not a sentencepiece model: " + take_error(error));
    model->pieces = shim().piece_count(model->handle);
    int pad, eos, unk, bos;
    shim().special_ids(model->handle, &pad, &eos, &unk, &bos);
    if (pad != kPadId || eos != kEosId || unk != kUnkId || bos != -1) {
        throw std::runtime_error(source + ": special ids pad=" + std::to_string(pad) + " eos=" + std::to_string(eos) +
                                 " unk=" + std::to_string(unk) + " bos=" + std::to_string(bos) +
                                 "; T5 needs pad=0 eos=1 unk=2 and no bos (-1)");
    }
    return Tokenizer(std::move(model));
}

Tokenizer Tokenizer::load(const std::string& model_path) { return from_bytes(read_text_file(model_path), model_path); }

void Tokenizer::save(const std::string& model_path) const { write_file_atomically(model_path, model_->bytes); }

const std::string& Tokenizer::model_bytes() const { return model_->bytes; }

int64_t Tokenizer::piece_count() const { return model_->pieces; }

int64_t Tokenizer::model_vocab_size() const { return model_vocab_size_for(size()); }

int64_t Tokenizer::model_vocab_size_for(int64_t size) { return (size + kVocabMultiple - 1) / kVocabMultiple * kVocabMultiple; }

int32_t Tokenizer::sentinel_id(int index) const {
    if (index < 0 || index >= kSentinelCount) throw std::out_of_range("sentinel index " + std::to_string(index));
    return static_cast<int32_t>(size() - 1 - index);
}

void Tokenizer::encode(std::string_view text, std::vector<int32_t>& ids) const {
    const size_t start = ids.size();
    // Generous first guess (a piece is at least one byte, plus the dummy prefix) saves a retry.
    ids.resize(start + text.size() / 2 + 16);
    long count = shim().encode(model_->handle, text.data(), text.size(), ids.data() + start, ids.size() - start);
    if (count >= 0 && static_cast<size_t>(count) > ids.size() - start) {
        ids.resize(start + count);
        count = shim().encode(model_->handle, text.data(), text.size(), ids.data() + start, count);
    }
    if (count < 0) throw std::runtime_error("sentencepiece could not encode a text of " + std::to_string(text.size()) +
                                            " bytes");
    ids.resize(start + count);
}

std::vector<int32_t> Tokenizer::encode(std::string_view text) const {
    std::vector<int32_t> ids;
    encode(text, ids);
    return ids;
}

std::vector<int32_t> Tokenizer::encode_with_spans(std::string_view text, std::vector<PieceSpan>& spans) const {
    std::vector<int32_t> ids(text.size() + 16);
    std::vector<size_t> begins(ids.size()), ends(ids.size());
    const long count = shim().encode_spans(model_->handle, text.data(), text.size(), ids.data(), begins.data(),
                                           ends.data(), ids.size());
    // A piece is at least one byte, so text.size() + 1 (the dummy prefix) ids always fit.
    if (count < 0 || static_cast<size_t>(count) > ids.size()) {
        throw std::runtime_error("sentencepiece could not encode a text of " + std::to_string(text.size()) + " bytes");
    }
    ids.resize(count);
    spans.clear();
    for (long i = 0; i < count; ++i) spans.push_back({begins[i], ends[i]});
    return ids;
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids) const {
    std::string text;
    std::vector<int32_t> run;  // consecutive ordinary ids, decoded together
    auto flush = [&] {
        if (run.empty()) return;
        std::string part(run.size() * 8 + 16, '\0');
        long size = shim().decode(model_->handle, run.data(), run.size(), part.data(), part.size());
        if (size > static_cast<long>(part.size())) {
            part.resize(size);
            size = shim().decode(model_->handle, run.data(), run.size(), part.data(), part.size());
        }
        if (size < 0) throw std::runtime_error("sentencepiece could not decode ids");
        part.resize(size);
        text += part;
        run.clear();
    };
    for (int32_t id : ids) {
        if (is_sentinel(id)) {
            flush();
            text += piece(id);
        } else {
            run.push_back(id);
        }
    }
    flush();
    return text;
}

std::string Tokenizer::piece(int32_t id) const {
    if (is_sentinel(id)) return std::string(kSentinelPrefix) + std::to_string(size() - 1 - id) + ">";
    std::string text(64, '\0');
    long size = shim().id_to_piece(model_->handle, id, text.data(), text.size());
    if (size > static_cast<long>(text.size())) {
        text.resize(size);
        size = shim().id_to_piece(model_->handle, id, text.data(), text.size());
    }
    if (size < 0) throw std::out_of_range("token id " + std::to_string(id) + " outside the vocabulary of " +
                                          std::to_string(this->size()));
    text.resize(size);
    return text;
}

int32_t Tokenizer::piece_to_id(const std::string& piece) const {
    if (piece.rfind(kSentinelPrefix, 0) == 0 && piece.size() > kSentinelPrefix.size() + 1 && piece.back() == '>') {
        const std::string digits = piece.substr(kSentinelPrefix.size(), piece.size() - kSentinelPrefix.size() - 1);
        if (digits.find_first_not_of("0123456789") == std::string::npos && digits.size() <= 2) {
            return sentinel_id(std::stoi(digits));
        }
    }
    const int id = shim().piece_to_id(model_->handle, piece.data(), piece.size());
    // sentencepiece answers unk for an unknown piece.
    return id == kUnkId && piece != this->piece(kUnkId) ? -1 : id;
}

namespace {

// sentencepiece trains without reporting. Its unigram trainer took about 205 s for the 55 MB of
// NSMC reviews on 2 cores (`growthstudio-cli prepare`), 3.7 s per MB of sentences, and spreads
// its work over its threads: the estimate scales that rate by the threads in use. It is only an
// estimate (the vocabulary size and the text change it), and is shown as one.
constexpr double kTrainingSecondsPerMegabyteOnTwoThreads = 3.7;

double estimated_training_seconds(uint64_t bytes, unsigned threads) {
    return kTrainingSecondsPerMegabyteOnTwoThreads * static_cast<double>(bytes) / 1e6 * 2.0 / std::max(1u, threads);
}

unsigned training_threads(const TokenizerTrainingOptions& options) {
    return options.num_threads > 0 ? options.num_threads : std::max(1u, std::thread::hardware_concurrency());
}

// Reports the elapsed time and the estimate every second while sentencepiece trains. A cancel
// request cannot stop sentencepiece; it is remembered and honoured when the training returns.
class TrainingHeartbeat {
public:
    TrainingHeartbeat(const ProgressCallback& progress, double estimate_s)
        : progress_(progress), estimate_s_(estimate_s), thread_([this] { beat(); }) {}
    ~TrainingHeartbeat() {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            stopping_ = true;
        }
        wake_.notify_one();
        thread_.join();
    }
    bool cancelled() const { return cancelled_; }

private:
    void beat() {
        const auto start = std::chrono::steady_clock::now();
        std::unique_lock<std::mutex> lock(mutex_);
        do {
            const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            Progress p;
            p.stage = "training";
            p.unit = "seconds";
            p.done = static_cast<uint64_t>(elapsed);
            p.total = static_cast<uint64_t>(std::ceil(estimate_s_));
            p.elapsed_s = elapsed;
            p.eta_s = elapsed < estimate_s_ ? estimate_s_ - elapsed : -1;
            if (progress_ && !progress_(p)) cancelled_ = true;
        } while (!wake_.wait_for(lock, std::chrono::seconds(1), [this] { return stopping_; }));
    }

    const ProgressCallback& progress_;
    const double estimate_s_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::atomic<bool> cancelled_{false};
    std::thread thread_;  // last: started once the members above exist
};

struct TrainingFeed {
    const SentenceSource* source = nullptr;
    const ProgressCallback* progress = nullptr;
    unsigned threads = 1;
    std::string sentence;
    uint64_t sentences = 0;
    uint64_t bytes = 0;
    std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
    std::chrono::steady_clock::time_point last_report = start;
    std::unique_ptr<TrainingHeartbeat> heartbeat;  // from the end of reading to the end of training

    bool report_reading() {
        if (!*progress) return true;
        Progress p;
        p.stage = "reading";
        p.done = bytes;
        p.unit = "bytes";
        p.elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        return (*progress)(p);
    }

    // Every sentence is read: the last reading report, then sentencepiece trains.
    bool finish_reading() {
        if (!report_reading()) return false;
        heartbeat = std::make_unique<TrainingHeartbeat>(*progress, estimated_training_seconds(bytes, threads));
        return true;
    }

    static int next(void* context, const char** text, size_t* size) {
        auto* feed = static_cast<TrainingFeed*>(context);
        if (!(*feed->source)(feed->sentence)) return feed->finish_reading() ? 0 : -1;
        ++feed->sentences;
        feed->bytes += feed->sentence.size();
        const auto now = std::chrono::steady_clock::now();
        if (now - feed->last_report > std::chrono::milliseconds(200)) {
            feed->last_report = now;
            if (!feed->report_reading()) return -1;
        }
        *text = feed->sentence.data();
        *size = feed->sentence.size();
        return 1;
    }
};

std::vector<std::pair<std::string, std::string>> trainer_options(const TokenizerTrainingOptions& options) {
    const unsigned threads = training_threads(options);
    return {
        {"vocab_size", std::to_string(options.vocab_size)},
        {"model_type", options.model_type},
        {"character_coverage", std::to_string(options.character_coverage)},
        {"normalization_rule_name", options.normalization},
        {"byte_fallback", options.byte_fallback ? "true" : "false"},
        {"input_sentence_size", std::to_string(options.input_sentence_size)},
        {"shuffle_input_sentence", "true"},
        {"num_threads", std::to_string(threads)},
        // T5's ids: pad 0, eos 1, unk 2, no bos; the sentinels are added above the pieces.
        {"pad_id", "0"},
        {"eos_id", "1"},
        {"unk_id", "2"},
        {"bos_id", "-1"},
        {"pad_piece", "<pad>"},
        {"eos_piece", "</s>"},
        {"unk_piece", "<unk>"},
        {"random_seed", std::to_string(options.seed)},
        {"minloglevel", options.verbose ? "0" : "1"},
    };
}

}  // namespace

Tokenizer Tokenizer::train(const TokenizerTrainingOptions& options, const SentenceSource& source,
                           const ProgressCallback& progress) {
    const auto pairs = trainer_options(options);
    std::vector<const char*> keys, values;
    for (const auto& [key, value] : pairs) {
        keys.push_back(key.c_str());
        values.push_back(value.c_str());
    }
    TrainingFeed feed;
    feed.source = &source;
    feed.progress = &progress;
    feed.threads = training_threads(options);
    char* model = nullptr;
    size_t model_size = 0;
    char* error = nullptr;
    const int result = shim().train(keys.data(), values.data(), keys.size(), &TrainingFeed::next, &feed, &model,
                                    &model_size, &error);
    const bool cancelled_while_training = feed.heartbeat && feed.heartbeat->cancelled();
    feed.heartbeat.reset();
    if (result == 0 && cancelled_while_training) {
        shim().free_bytes(model);
        throw OperationCancelled("cancelled while the tokenizer trained");
    }
    if (result == 2) throw OperationCancelled(take_error(error));
    if (result != 0) throw TokenizerTrainingError("tokenizer training failed: " + take_error(error));
    std::string bytes(model, model_size);
    shim().free_bytes(model);
    return from_bytes(std::move(bytes), "trained tokenizer");
}

std::string sentencepiece_shim_path() { return shim().path; }

}  // namespace gs
