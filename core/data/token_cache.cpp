#include "core/data/token_cache.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <exception>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/data/cache_lock.h"
#include "core/data/token_file.h"
#include "core/io/files.h"
#include "core/tokenizer/tokenizer.h"

namespace gs {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr int kCacheFormat = 1;
constexpr size_t kChunkBytes = 1 << 20;

std::string manifest_path(const std::string& dir) { return dir + "/cache.json"; }

const char* layout_name(TextLayout layout) { return layout == TextLayout::line_per_document ? "line" : "blank"; }

// What the cache is built from; its hash is the corpus fingerprint in the token files.
json describe_source(const std::vector<CorpusFile>& files, const TokenCacheOptions& options) {
    json described = json::array();
    for (const auto& file : files) {
        described.push_back({{"path", file.path}, {"size", file.size}, {"modified_ns", file.modified_ns},
                             {"format", format_name(file.format)}});
    }
    return {{"files", described},
            {"layout", layout_name(options.corpus.layout)},
            {"json_field", options.corpus.json_field},
            {"on_bad_input", options.corpus.on_bad_input == BadInputPolicy::stop ? "stop" : "skip"},
            {"split", {{"train_parts", options.split.train_parts},
                       {"validation_parts", options.split.validation_parts},
                       {"seed", options.split.seed}}}};
}

uint64_t fingerprint(const json& source) { return hash_text(source.dump()); }

// Names the first difference between the recorded and the current corpus description.
std::string describe_change(const json& recorded, const json& current) {
    std::map<std::string, json> before, now;
    for (const auto& file : recorded.at("files")) before[file.at("path")] = file;
    for (const auto& file : current.at("files")) now[file.at("path")] = file;
    for (const auto& [path, file] : now) {
        auto it = before.find(path);
        if (it == before.end()) return "corpus file added: " + path;
        if (it->second.at("size") != file.at("size")) return "corpus file changed size: " + path;
        if (it->second.at("modified_ns") != file.at("modified_ns")) return "corpus file modified: " + path;
    }
    for (const auto& [path, file] : before) {
        if (!now.count(path)) return "corpus file removed: " + path;
    }
    return "corpus reading or split options changed";
}

// `corpus_fingerprints`: the corpus description as cache.json records it and as it is now, which
// differ only in the form of the modification times (an earlier version's record).
std::string check_token_file(const std::string& path, uint64_t tokenizer_fingerprint,
                             const std::vector<uint64_t>& corpus_fingerprints) {
    try {
        const TokenFile file = TokenFile::open(path);
        const auto& accepted = corpus_fingerprints;
        if (file.header().tokenizer_fingerprint != tokenizer_fingerprint ||
            std::find(accepted.begin(), accepted.end(), file.header().corpus_fingerprint) == accepted.end()) {
            return path + ": built from another corpus or tokenizer than cache.json records";
        }
    } catch (const std::exception& error) {
        return error.what();
    }
    return "";
}

std::string staleness(const std::string& dir, const Tokenizer& tokenizer, const json& source) {
    if (!fs::exists(manifest_path(dir))) return "no cache yet";
    json manifest;
    try {
        manifest = read_json_file(manifest_path(dir));
        if (manifest.value("format", 0) != kCacheFormat) return "cache format changed";
        if (manifest.at("tokenizer_fingerprint") != to_hex(tokenizer.fingerprint())) return "the tokenizer changed";
        json recorded = manifest.at("source");
        for (json& file : recorded.at("files")) file["modified_ns"] = recorded_modified_ns(file.at("modified_ns"));
        if (recorded != source) return describe_change(recorded, source);
    } catch (const std::exception& error) {
        return std::string("unreadable cache.json: ") + error.what();
    }
    // Token files an earlier version built carry the fingerprint of the description in its form.
    const std::vector<uint64_t> corpus_fingerprints = {fingerprint(source), fingerprint(manifest.at("source"))};
    for (const auto& path : {train_tokens_path(dir), validation_tokens_path(dir)}) {
        const std::string problem = check_token_file(path, tokenizer.fingerprint(), corpus_fingerprints);
        if (!problem.empty()) return problem;
    }
    return "";
}

// A run of documents tokenized together by one worker.
struct Chunk {
    uint64_t sequence = 0;
    size_t bytes = 0;
    std::vector<std::string> texts;
    std::vector<int32_t> ids;           // every document's ids, eos appended
    std::vector<uint32_t> lengths;      // per document
    std::vector<uint8_t> validation;    // per document
};

// Tokenizes chunks on worker threads and hands them back in submission order, so that the
// token files do not depend on the number of threads.
class TokenizingPipeline {
public:
    TokenizingPipeline(const Tokenizer& tokenizer, const SplitOptions& split, int threads)
        : tokenizer_(tokenizer), split_(split), limit_(static_cast<size_t>(threads) * 3) {
        for (int i = 0; i < threads; ++i) workers_.emplace_back([this] { work(); });
    }
    ~TokenizingPipeline() {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            stop_ = true;
        }
        changed_.notify_all();
        for (auto& worker : workers_) worker.join();
    }

    void submit(std::unique_ptr<Chunk> chunk) {
        std::lock_guard<std::mutex> lock(mutex_);
        chunk->sequence = submitted_++;
        pending_.push_back(std::move(chunk));
        changed_.notify_all();
    }

    // The next chunk in order, waiting for it when `wait` or when too many are in flight;
    // nullptr when none is due.
    std::unique_ptr<Chunk> next_finished(bool wait) {
        std::unique_lock<std::mutex> lock(mutex_);
        auto due = [&] { return error_ || finished_.count(delivered_) || delivered_ == submitted_; };
        if (wait || submitted_ - delivered_ >= limit_) changed_.wait(lock, due);
        if (error_) std::rethrow_exception(error_);
        auto it = finished_.find(delivered_);
        if (it == finished_.end()) return nullptr;
        auto chunk = std::move(it->second);
        finished_.erase(it);
        ++delivered_;
        return chunk;
    }

private:
    void work() {
        for (;;) {
            std::unique_ptr<Chunk> chunk;
            {
                std::unique_lock<std::mutex> lock(mutex_);
                changed_.wait(lock, [&] { return stop_ || !pending_.empty(); });
                if (stop_) return;
                chunk = std::move(pending_.front());
                pending_.pop_front();
            }
            try {
                tokenize(*chunk);
            } catch (...) {
                std::lock_guard<std::mutex> lock(mutex_);
                if (!error_) error_ = std::current_exception();
            }
            std::lock_guard<std::mutex> lock(mutex_);
            finished_[chunk->sequence] = std::move(chunk);
            changed_.notify_all();
        }
    }

    void tokenize(Chunk& chunk) const {
        chunk.ids.reserve(chunk.bytes / 2);
        for (const auto& text : chunk.texts) {
            const size_t before = chunk.ids.size();
            tokenizer_.encode(text, chunk.ids);
            chunk.ids.push_back(Tokenizer::kEosId);
            chunk.lengths.push_back(static_cast<uint32_t>(chunk.ids.size() - before));
            chunk.validation.push_back(is_validation_document(text, split_));
        }
        chunk.texts.clear();
    }

    const Tokenizer& tokenizer_;
    SplitOptions split_;
    size_t limit_;
    std::vector<std::thread> workers_;
    std::mutex mutex_;
    std::condition_variable changed_;
    std::deque<std::unique_ptr<Chunk>> pending_;
    std::map<uint64_t, std::unique_ptr<Chunk>> finished_;
    uint64_t submitted_ = 0;
    uint64_t delivered_ = 0;
    bool stop_ = false;
    std::exception_ptr error_;
};

struct SplitWriters {
    TokenFileWriter train;
    TokenFileWriter validation;

    void write(const Chunk& chunk, TokenCacheSummary& summary) {
        const int32_t* ids = chunk.ids.data();
        for (size_t d = 0; d < chunk.lengths.size(); ++d) {
            (chunk.validation[d] ? validation : train).add_document(ids, chunk.lengths[d]);
            SplitCounts& counts = chunk.validation[d] ? summary.validation : summary.train;
            counts.documents += 1;
            counts.tokens += chunk.lengths[d];
            ids += chunk.lengths[d];
        }
    }
};

class ProgressReporter {
public:
    explicit ProgressReporter(const ProgressCallback& callback, uint64_t total)
        : callback_(callback), total_(total) {}
    double elapsed() const { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count(); }

    // Reports at most five times a second; throws OperationCancelled when the callback asks.
    void report(uint64_t done, bool force = false) {
        if (!callback_) return;
        const auto now = std::chrono::steady_clock::now();
        if (!force && now - last_ < std::chrono::milliseconds(200)) return;
        last_ = now;
        Progress p{"tokenizing", done, total_, "bytes", elapsed(), estimate_eta(elapsed(), done, total_)};
        if (!callback_(p)) throw OperationCancelled("tokenizing cancelled");
    }

private:
    const ProgressCallback& callback_;
    uint64_t total_;
    std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
    std::chrono::steady_clock::time_point last_ = start_ - std::chrono::seconds(1);  // the first report is due
};

int thread_count(int requested) {
    return requested > 0 ? requested : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

// Temporary files of a build that a crash or a kill interrupted.
void remove_leftovers(const std::string& dir) {
    for (const auto& entry : fs::directory_iterator(dir)) {
        const std::string name = entry.path().filename().string();
        if (name.find(".tokens.tmp-") != std::string::npos) fs::remove(entry.path());
    }
}

TokenCacheSummary build(const std::string& dir, const Tokenizer& tokenizer, const TokenCacheOptions& options,
                        const json& source) {
    fs::create_directories(dir);
    std::remove(manifest_path(dir).c_str());  // the old files are stale from here on
    remove_leftovers(dir);
    CorpusReader reader(options.corpus);
    TokenFileHeader header;
    header.token_bytes = tokenizer.size() <= 65536 ? 2 : 4;
    header.vocab_size = static_cast<uint64_t>(tokenizer.size());
    header.tokenizer_fingerprint = tokenizer.fingerprint();
    header.corpus_fingerprint = fingerprint(source);
    SplitWriters writers{TokenFileWriter(train_tokens_path(dir), header),
                         TokenFileWriter(validation_tokens_path(dir), header)};
    TokenCacheSummary summary;
    summary.threads = thread_count(options.threads);
    ProgressReporter progress(options.progress, reader.total_bytes());
    TokenizingPipeline pipeline(tokenizer, options.split, summary.threads);
    auto chunk = std::make_unique<Chunk>();
    auto drain = [&](bool wait) {
        while (auto done = pipeline.next_finished(wait)) writers.write(*done, summary);
    };
    Document document;
    while (reader.next(document)) {
        chunk->bytes += document.text.size();
        chunk->texts.push_back(std::move(document.text));
        if (chunk->bytes >= kChunkBytes) {
            pipeline.submit(std::move(chunk));
            chunk = std::make_unique<Chunk>();
            drain(false);
            progress.report(reader.bytes_read());
        }
    }
    pipeline.submit(std::move(chunk));
    drain(true);
    if (summary.train.documents + summary.validation.documents == 0) throw std::runtime_error("the corpus has no documents");
    progress.report(reader.total_bytes(), true);
    writers.train.commit();
    writers.validation.commit();
    summary.corpus_bytes = reader.total_bytes();
    summary.skipped_documents = reader.skipped_documents();
    summary.warnings = reader.warnings();
    summary.seconds = progress.elapsed();
    return summary;
}

json counts_json(const SplitCounts& counts) { return {{"documents", counts.documents}, {"tokens", counts.tokens}}; }

SplitCounts counts_from(const json& j) { return {j.at("documents").get<uint64_t>(), j.at("tokens").get<uint64_t>()}; }

void write_manifest(const std::string& dir, const Tokenizer& tokenizer, const json& source,
                    const TokenCacheSummary& summary) {
    const json manifest = {{"format", kCacheFormat},
                           {"tokenizer_fingerprint", to_hex(tokenizer.fingerprint())},
                           {"tokenizer_size", tokenizer.size()},
                           {"source", source},
                           {"corpus_bytes", summary.corpus_bytes},
                           {"skipped_documents", summary.skipped_documents},
                           {"warnings", summary.warnings},
                           {"train", counts_json(summary.train)},
                           {"validation", counts_json(summary.validation)}};
    write_file_atomically(manifest_path(dir), manifest.dump(2) + "\n");
}

TokenCacheSummary reused_summary(const std::string& dir) {
    const json manifest = read_json_file(manifest_path(dir));
    TokenCacheSummary summary;
    summary.reused = true;
    summary.train = counts_from(manifest.at("train"));
    summary.validation = counts_from(manifest.at("validation"));
    summary.corpus_bytes = manifest.at("corpus_bytes");
    summary.skipped_documents = manifest.at("skipped_documents");
    summary.warnings = manifest.at("warnings").get<std::vector<std::string>>();
    return summary;
}

}  // namespace

std::string train_tokens_path(const std::string& cache_dir) { return cache_dir + "/train.tokens"; }
std::string validation_tokens_path(const std::string& cache_dir) { return cache_dir + "/validation.tokens"; }

std::string token_cache_staleness(const std::string& cache_dir, const Tokenizer& tokenizer,
                                  const TokenCacheOptions& options) {
    return staleness(cache_dir, tokenizer, describe_source(list_corpus_files(options.corpus), options));
}

TokenCacheSummary prepare_token_cache(const std::string& cache_dir, const Tokenizer& tokenizer,
                                      const TokenCacheOptions& options) {
    const auto lock = lock_cache_dir(cache_dir, options.progress);
    const json source = describe_source(list_corpus_files(options.corpus), options);
    const std::string reason = staleness(cache_dir, tokenizer, source);
    if (reason.empty()) return reused_summary(cache_dir);
    TokenCacheSummary summary = build(cache_dir, tokenizer, options, source);
    summary.rebuild_reason = reason == "no cache yet" ? "" : reason;
    write_manifest(cache_dir, tokenizer, source, summary);
    return summary;
}

}  // namespace gs
