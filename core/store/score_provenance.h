// Which data produced a stored downstream score: the files a fine-tune read (path, content hash,
// size), where the scored examples came from (a dev file, or a seeded share held out of the
// training file) and how many examples each side had. Kept as JSON with every result row; rows
// stored before it was recorded have none.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace gs {

struct DataFileRecord {
    std::string path;  // absolute
    std::string hash;  // 16 hex digits of hash_file (core/common/hash.h) over the bytes
    uint64_t bytes = 0;
};

// The file at `path` as it is now, its bytes streamed once. A folder (a set of summary files)
// counts every file in it, in name order: the hash is over their names and hashes, the size
// their sum. Errors name the file.
DataFileRecord data_file_record(const std::string& path);

struct ScoreProvenance {
    DataFileRecord train_file;
    std::optional<DataFileRecord> dev_file;  // none: scored on a share held out of train_file
    double held_out_fraction = 0;            // without a dev file: the share, and the seed that drew it
    uint64_t held_out_seed = 0;
    int64_t train_examples = 0, eval_examples = 0;  // as used (after limits); KorQuAD counts questions
    std::optional<int64_t> train_windows, eval_windows;  // extractive QA: the windows of those questions

    const DataFileRecord& eval_file() const { return dev_file ? *dev_file : train_file; }
    // "dev file", or "held-out share of the training file, seed 42, fraction 0.2".
    std::string split() const;
    // "on /d/dev.json (hash …, 3,000 examples, dev file); trained on /d/train.json (hash …, 24,998 examples)".
    std::string describe() const;
    std::string to_json() const;
    // Throws std::invalid_argument naming `source` and the field that is missing or wrong.
    static ScoreProvenance from_json(const std::string& json_text, const std::string& source);
};

// What a score without provenance (stored by an earlier version) says instead.
inline constexpr const char* kProvenanceNotRecorded = "provenance not recorded";

// 24998 -> "24,998".
std::string with_thousands(int64_t value);

}  // namespace gs
