#include "core/store/score_provenance.h"

#include <algorithm>
#include <filesystem>
#include <iomanip>
#include <sstream>
#include <stdexcept>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/common/hash.h"
#include "core/io/json_fields.h"

namespace gs {

namespace fs = std::filesystem;

namespace {

// A folder's files in name order; its hash covers each one's name and hash, so a renamed,
// added or changed file changes it.
DataFileRecord folder_record(const fs::path& folder) {
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(folder)) {
        if (entry.is_regular_file()) files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    DataFileRecord record{folder.string(), "", 0};
    std::string listing;
    for (const auto& file : files) {
        uint64_t size = 0;
        listing += file.filename().string() + "\t" + to_hex(hash_file(file.string(), size)) + "\n";
        record.bytes += size;
    }
    record.hash = to_hex(hash_text(listing));
    return record;
}

nlohmann::json file_json(const DataFileRecord& file) {
    return {{"path", file.path}, {"hash", file.hash}, {"bytes", file.bytes}};
}

DataFileRecord read_file_json(const JsonFields& fields, const std::string& key, const std::string& source) {
    if (!fields.at(key).is_object()) fields.fail(key, "expected an object {path, hash, bytes}");
    const JsonFields file(fields.at(key), source, fields.path(key), {"path", "hash", "bytes"});
    DataFileRecord record;
    for (const char* required : {"path", "hash", "bytes"}) {
        if (!file.has(required)) file.fail(required, "missing");
    }
    file.text("path", record.path);
    file.text("hash", record.hash);
    file.whole("bytes", record.bytes, 0);
    return record;
}

std::string file_and_count(const DataFileRecord& file, int64_t examples, const std::optional<int64_t>& windows) {
    std::string text = file.path + " (hash " + file.hash + ", " + with_thousands(examples) + " examples";
    if (windows) text += " in " + with_thousands(*windows) + " windows";
    return text;
}

}  // namespace

DataFileRecord data_file_record(const std::string& path) {
    const fs::path absolute = fs::absolute(path).lexically_normal();
    if (fs::is_directory(absolute)) return folder_record(absolute);
    uint64_t size = 0;
    const uint64_t hash = hash_file(absolute.string(), size);
    return {absolute.string(), to_hex(hash), size};
}

std::string with_thousands(int64_t value) {
    std::string digits = std::to_string(value < 0 ? -value : value);
    for (int i = static_cast<int>(digits.size()) - 3; i > 0; i -= 3) digits.insert(static_cast<size_t>(i), ",");
    return (value < 0 ? "-" : "") + digits;
}

std::string ScoreProvenance::split() const {
    if (dev_file) return "dev file";
    std::ostringstream text;
    text << "held-out share of the training file, seed " << held_out_seed << ", fraction " << held_out_fraction;
    return text.str();
}

std::string ScoreProvenance::describe() const {
    return "on " + file_and_count(eval_file(), eval_examples, eval_windows) + ", " + split() + "); trained on " +
           file_and_count(train_file, train_examples, train_windows) + ")";
}

std::string ScoreProvenance::to_json() const {
    nlohmann::ordered_json json{{"train", file_json(train_file)}};
    if (dev_file) {
        json["dev"] = file_json(*dev_file);
    } else {
        json["held_out_fraction"] = held_out_fraction;
        json["held_out_seed"] = held_out_seed;
    }
    json["train_examples"] = train_examples;
    json["eval_examples"] = eval_examples;
    if (train_windows) json["train_windows"] = *train_windows;
    if (eval_windows) json["eval_windows"] = *eval_windows;
    return json.dump();
}

ScoreProvenance ScoreProvenance::from_json(const std::string& json_text, const std::string& source) {
    const nlohmann::json json = nlohmann::json::parse(json_text, nullptr, /*allow_exceptions=*/false);
    if (!json.is_object()) throw std::invalid_argument(source + ": provenance is not a JSON object");
    const JsonFields fields(json, source, "",
                            {"train", "dev", "held_out_fraction", "held_out_seed", "train_examples", "eval_examples",
                             "train_windows", "eval_windows"});
    ScoreProvenance p;
    for (const char* required : {"train", "train_examples", "eval_examples"}) {
        if (!fields.has(required)) fields.fail(required, "missing");
    }
    p.train_file = read_file_json(fields, "train", source);
    if (fields.has("dev")) p.dev_file = read_file_json(fields, "dev", source);
    fields.number("held_out_fraction", p.held_out_fraction, 0.0);
    fields.whole("held_out_seed", p.held_out_seed, 0);
    fields.whole("train_examples", p.train_examples, 0);
    fields.whole("eval_examples", p.eval_examples, 0);
    for (auto [key, target] : {std::pair{"train_windows", &p.train_windows}, std::pair{"eval_windows", &p.eval_windows}}) {
        int64_t windows = 0;
        if (fields.has(key)) fields.whole(key, windows, 0), *target = windows;
    }
    return p;
}

}  // namespace gs
