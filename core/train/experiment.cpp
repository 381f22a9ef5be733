#include "core/train/experiment.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <stdexcept>

#include "core/io/files.h"
#include "core/io/json_fields.h"
#include "core/common/hash.h"
#include "core/model/t5_cost.h"
#include "core/runtime/runtime_info.h"
#include "core/train/run_name.h"

namespace gs {

namespace fs = std::filesystem;

namespace {

const std::set<std::string> kShapeKeys = {"d_model", "d_kv", "d_ff", "num_heads", "num_layers", "num_decoder_layers",
                                          "dropout_rate", "feed_forward_proj", "tie_word_embeddings"};

std::string resolve(const std::string& folder, const std::string& path) {
    if (path.empty() || fs::path(path).is_absolute()) return path;
    return (fs::path(folder) / path).lexically_normal().string();
}

// One cache per distinct corpus, tokenizer and split, shared by the experiments that use them:
// $XDG_CACHE_HOME/growthstudio/data/HASH (~/.cache/...), never inside the experiment's folder.
std::string default_cache_dir(const DataSpec& data) {
    std::string identity = data.tokenizer + "|" + std::to_string(data.split.train_parts) + ":" +
                           std::to_string(data.split.validation_parts) + "|" + std::to_string(data.split.seed) + "|" +
                           std::to_string(static_cast<int>(data.corpus.layout)) + "|" + data.corpus.json_field;
    for (const auto& path : data.corpus.paths) identity += "|" + fs::absolute(path).string();
    const char* cache_home = std::getenv("XDG_CACHE_HOME");
    const char* home = std::getenv("HOME");
    const std::string base = cache_home && *cache_home ? cache_home : std::string(home ? home : ".") + "/.cache";
    return base + "/growthstudio/data/" + to_hex(hash_text(identity));
}

DataSpec read_data(const nlohmann::json& json, const std::string& source, const std::string& folder) {
    const JsonFields f(json, source, "data",
                   {"corpus", "layout", "json_field", "on_bad_input", "tokenizer", "split", "split_seed",
                    "input_length", "noise_density", "mean_span_length", "cache_dir"});
    DataSpec data;
    // An empty path would name no file, and the cache folder is derived from the absolute paths.
    const auto add_corpus_path = [&](const nlohmann::json& path) {
        if (!path.is_string() || path.get<std::string>().empty()) f.fail("corpus", "expected file or folder paths");
        data.corpus.paths.push_back(resolve(folder, path.get<std::string>()));
    };
    if (f.has("corpus")) {
        const auto& corpus = f.at("corpus");
        if (corpus.is_string()) {
            add_corpus_path(corpus);
        } else if (corpus.is_array() && !corpus.empty()) {
            for (const auto& path : corpus) add_corpus_path(path);
        } else {
            f.fail("corpus", "expected a path or a list of paths");
        }
    }
    std::string layout = "line", on_bad_input = "stop";
    f.choice("layout", layout, {"line", "blank"});
    data.corpus.layout = parse_text_layout(layout);
    f.choice("on_bad_input", on_bad_input, {"stop", "skip"});
    data.corpus.on_bad_input = parse_bad_input_policy(on_bad_input);
    f.text("json_field", data.corpus.json_field);
    f.text("tokenizer", data.tokenizer);
    f.nested("tokenizer", [&] {
        TokenizerChoice choice = parse_tokenizer_choice(data.tokenizer);
        if (!choice.train) data.tokenizer = resolve(folder, choice.model_path);
        return 0;
    });
    std::string split = "199:1";
    f.text("split", split);
    if (!parse_split_ratio(split, data.split)) {
        f.fail("split", "'" + split + "' is not TRAIN:VALIDATION with both parts above 0, e.g. 199:1");
    }
    f.whole("split_seed", data.split.seed, 0);
    f.whole("input_length", data.span.input_length, 8);
    f.number("noise_density", data.span.noise_density, 0.0);
    f.number("mean_span_length", data.span.mean_span_length, 1.0);
    if (data.span.noise_density <= 0 || data.span.noise_density >= 1) f.fail("noise_density", "expected a number in (0, 1)");
    f.nested("input_length", [&] { return compute_span_lengths(data.span); });
    f.text("cache_dir", data.cache_dir);
    data.cache_dir = data.cache_dir.empty() ? default_cache_dir(data) : resolve(folder, data.cache_dir);
    return data;
}

Pipeline read_pipeline(const JsonFields& f, const std::string& source, const std::string& folder) {
    SizeCatalog sizes;
    if (f.has("sizes") && !f.at("sizes").is_object()) f.fail("sizes", "expected an object of size name -> config");
    if (f.has("sizes")) {
        for (const auto& [name, config] : f.at("sizes").items()) {
            const T5Config size = read_size_entry(name, config, source);
            f.nested("sizes", [&] {
                sizes.add(name, size);
                return 0;
            });
        }
    }
    std::string name;
    f.text("pipeline", name);
    if (name.empty()) f.fail("pipeline", "expected a pipeline name in the study's grammar, e.g. \"T_d_S\"");
    Pipeline pipeline = f.nested("pipeline", [&] { return parse_pipeline_name(name, sizes); });
    if (f.has("budgets")) {
        std::string budgets;
        f.text("budgets", budgets);
        f.nested("budgets", [&] {
            pipeline.apply_budget_notation(budgets);
            return 0;
        });
    }
    GrowthOptions defaults;
    if (f.has("growth")) {
        defaults = f.nested("growth", [&] { return GrowthOptions::from_json(f.at("growth"), source + ": field 'growth'"); });
        if (f.at("growth").contains("operator")) f.fail("growth", "the operators come from the pipeline name");
    }
    for (auto& transition : pipeline.transitions) {
        const GrowthOperator op = transition.growth.op;
        transition.growth = defaults;
        transition.growth.op = op;
    }
    if (f.has("pretrained")) {
        const JsonFields sources(f.at("pretrained"), source, "pretrained", {pipeline.stages.front().size});
        std::string path;
        sources.text(pipeline.stages.front().size, path);
        // A folder relative to the experiment when it exists there, else a run name.
        const std::string resolved = resolve(folder, path);
        pipeline.stages.front().source = fs::exists(resolved) ? resolved : path;
    }
    return pipeline;
}

}  // namespace

T5Config read_size_entry(const std::string& name, const nlohmann::json& json, const std::string& source) {
    const JsonFields f(json, source, "sizes." + name, kShapeKeys);
    T5Config config = T5Config::is_preset(name) ? T5Config::preset(name) : T5Config();
    f.whole("d_model", config.d_model, 1);
    f.whole("d_kv", config.d_kv, 1);
    f.whole("d_ff", config.d_ff, 1);
    f.whole("num_heads", config.num_heads, 1);
    f.whole("num_layers", config.num_layers, 1);
    f.whole("num_decoder_layers", config.num_decoder_layers, 1);
    f.number("dropout_rate", config.dropout_rate, 0.0);
    f.text("feed_forward_proj", config.feed_forward_proj);
    f.flag("tie_word_embeddings", config.tie_word_embeddings);
    f.nested("", [&] {
        config.validate();
        return 0;
    });
    return config;
}

nlohmann::json size_entry_json(const T5Config& config) {
    const nlohmann::json hf = config.to_hf_json();
    nlohmann::json entry = nlohmann::json::object();
    for (const std::string& key : kShapeKeys) entry[key] = hf.at(key);
    return entry;
}

TrainingMemory training_memory(const ExperimentSpec& spec, size_t stage) {
    const SpanLengths lengths = compute_span_lengths(spec.data.span);
    return estimate_training_memory(spec.pipeline.stages[stage].config, spec.batch_size, lengths.input_length,
                                    lengths.target_length, spec.optimizer.moment_tensors(), spec.precision == Precision::bf16);
}

void check_training_memory(const ExperimentSpec& spec, const std::string& device) {
    const int64_t capacity = memory_capacity_bytes(device);
    if (capacity <= 0) return;
    for (size_t i : spec.pipeline.trained_stages()) {
        const TrainingMemory memory = training_memory(spec, i);
        if (memory.total() <= static_cast<double>(capacity)) continue;
        const std::string size = spec.pipeline.stages[i].size;
        throw std::invalid_argument(spec.source + ": field 'sizes." + size + "': stage " + size + " at batch_size " +
                                    std::to_string(spec.batch_size) + " and data.input_length " +
                                    std::to_string(spec.data.span.input_length) + " needs about " + memory.text() +
                                    " to train, more than the " + bytes_text(static_cast<double>(capacity)) + " of " +
                                    device + " memory");
    }
}

void check_reference_runs(const ExperimentSpec& spec, const std::set<std::string>& known_runs, const std::string& where) {
    for (const Stage& stage : spec.pipeline.stages) {
        if (stage.budget.kind != Budget::Kind::reference_loss || known_runs.count(stage.budget.reference_run)) continue;
        throw std::invalid_argument(spec.source + ": field 'budgets': stage " + stage.size + " trains until '" +
                                    stage.budget.notation() + "', but '" + printable(stage.budget.reference_run) +
                                    "' is not a run of " + where);
    }
}

int64_t allowed_skipped_steps(const ExperimentSpec& spec, int64_t steps) {
    constexpr int64_t kShortestCount = 100;
    return static_cast<int64_t>(spec.max_skipped_share * static_cast<double>(std::max(steps, kShortestCount)));
}

Pipeline read_experiment_pipeline(const nlohmann::json& json, const std::string& source) {
    const std::string folder = fs::absolute(source).parent_path().string();
    Pipeline pipeline = ExperimentSpec::read(json, source, folder, /*check_pipeline=*/false).pipeline;
    Stage& first = pipeline.stages.front();
    if (first.pretrained && json.contains("pretrained")) first.source = json["pretrained"][first.size].get<std::string>();
    return pipeline;
}

ExperimentSpec ExperimentSpec::load(const std::string& path) {
    const nlohmann::json json = read_json_file(path);
    return from_json(json, path, fs::absolute(path).parent_path().string());
}

ExperimentSpec ExperimentSpec::from_json(const nlohmann::json& json, const std::string& source, const std::string& folder) {
    return read(json, source, folder, /*check_pipeline=*/true);
}

ExperimentSpec ExperimentSpec::read(const nlohmann::json& json, const std::string& source, const std::string& folder,
                                    bool check_pipeline) {
    const JsonFields f(json, source, "",
                   {"format", "version", "name", "description", "data", "sizes", "pipeline", "budgets", "growth",
                    "pretrained", "optimizer", "schedule", "on_growth", "batch_size", "gradient_accumulation",
                    "gradient_clip", "validation", "checkpoint_interval_steps", "keep_checkpoints", "seed", "device",
                    "threads", "precision", "tf32", "on_nonfinite", "max_skipped_share"});
    ExperimentSpec spec;
    spec.source = source;
    spec.json = json;
    std::string format;
    f.text("format", format);
    if (format != "growthstudio-experiment") f.fail("format", "expected \"growthstudio-experiment\"");
    int version = 0;
    f.whole("version", version, 1);
    if (version != kVersion) f.fail("version", "expected " + std::to_string(kVersion) + " (this build reads version 1)");
    f.text("name", spec.name);
    const std::string refusal = run_name_refusal(spec.name);
    if (!refusal.empty()) f.fail("name", refusal);
    spec.data = read_data(f.has("data") ? f.at("data") : nlohmann::json::object(), source, folder);
    spec.pipeline = read_pipeline(f, source, folder);
    if (f.has("optimizer")) spec.optimizer = f.nested("optimizer", [&] { return OptimizerSettings::from_json(f.at("optimizer"), "optimizer"); });
    if (f.has("schedule")) spec.schedule = f.nested("schedule", [&] { return ScheduleSettings::from_json(f.at("schedule"), "schedule"); });
    if (f.has("on_growth")) {
        const JsonFields g(f.at("on_growth"), source, "on_growth", {"optimizer", "schedule"});
        std::string optimizer = "grow", schedule = "continue";
        g.choice("optimizer", optimizer, {"grow", "reset"});
        g.choice("schedule", schedule, {"continue", "restart"});
        spec.grow_optimizer_state = optimizer == "grow";
        spec.restart_schedule_on_growth = schedule == "restart";
    }
    f.whole("batch_size", spec.batch_size, 1);
    f.whole("gradient_accumulation", spec.gradient_accumulation, 1);
    f.number("gradient_clip", spec.gradient_clip, 0.0);
    if (f.has("validation")) {
        const JsonFields v(f.at("validation"), source, "validation", {"interval_steps", "batches"});
        v.whole("interval_steps", spec.validation_interval, 1);
        v.whole("batches", spec.validation_batches, 1);
    }
    f.whole("checkpoint_interval_steps", spec.checkpoint_interval, 1);
    f.whole("keep_checkpoints", spec.keep_checkpoints, 1);
    f.whole("seed", spec.seed, 0);
    f.text("device", spec.device);
    f.whole("threads", spec.threads, 0);
    std::string precision = to_string(spec.precision);
    f.choice("precision", precision, {to_string(Precision::fp32), to_string(Precision::bf16)});
    spec.precision = parse_precision(precision);
    f.flag("tf32", spec.tf32);
    std::string nonfinite = "stop";
    f.choice("on_nonfinite", nonfinite, {"stop", "skip"});
    spec.skip_nonfinite_steps = nonfinite == "skip";
    f.number("max_skipped_share", spec.max_skipped_share, 0.0);
    if (spec.max_skipped_share > 1) f.fail("max_skipped_share", "expected a share between 0 and 1");
    if (!check_pipeline) return spec;
    for (const auto& problem : validate_pipeline(spec.pipeline)) f.fail("pipeline", problem.message);
    return spec;
}

}  // namespace gs
