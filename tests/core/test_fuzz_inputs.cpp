// Fuzzing every kind of file the app reads: experiments, corpora, checkpoints, scoring inputs,
// results CSVs, predictions and task data, growth maps. Hostile variants of valid files, drawn
// from a seed, go through the readers the CLI calls (in this process, thousands a minute) and a
// share of them through growthstudio-cli itself. Each must be read, or refused with an error
// that names its file; a signal, a hang, an allocation failure or an error without a name fails
// the test, naming the seed and the input, whose files are kept for a rerun.
//
// GS_FUZZ_SEED (1), GS_FUZZ_INPUTS (in-process inputs, 3000), GS_FUZZ_CLI_INPUTS (30) and
// GS_FUZZ_FIRST (the first input's number, 0) size a run; input i of a seed is the same on
// every machine, so GS_FUZZ_FIRST=i GS_FUZZ_INPUTS=1 reruns one.
//
// Not generated here, each covered by a focused test of HostileInputs, Safetensors or Corpus
// instead: a folder where a file is expected (--predictions DIR), databases (another program's
// SQLite file, a read-only one), lines of many megabytes, safetensors tensors whose byte ranges
// overlap. The generated results CSVs may hold nan, inf, invalid UTF-8 or a repeated column,
// which import-results refuses naming the file.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <functional>
#include <iostream>
#include <new>
#include <sstream>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include "core/data/corpus.h"
#include "core/eval/evaluate.h"
#include "core/eval/scoring.h"
#include "core/eval/task_data.h"
#include "core/growth/growth_plan.h"
#include "core/growth/t5_growth.h"
#include "core/io/files.h"
#include "core/io/safetensors.h"
#include "core/model/checkpoint.h"
#include "core/pipeline/pipeline_estimate.h"
#include "core/store/results_table.h"
#include "core/train/experiment.h"
#include "data_test_support.h"
#include "fuzz_inputs.h"
#include "test_support.h"

namespace gs {
namespace {

namespace fs = std::filesystem;
using test::FileLayout;
using test::InputFiles;

// One valid input: its files, and which of them are mutated, with their layout (a file listed
// twice is mutated twice as often).
struct SeedInput {
    InputFiles files;
    std::vector<std::pair<std::string, FileLayout>> mutable_files;
};

// A kind of input: valid seeds, the in-process reader the CLI calls on them, and the CLI
// command that reads them (empty: none, or one too slow to run often).
struct InputKind {
    std::string name;
    std::vector<SeedInput> seeds;
    std::function<void(const std::string& folder, const InputFiles& files)> read;
    std::function<std::vector<std::string>(const InputFiles& files)> cli_arguments;
};

std::string file_text(const std::string& path) { return read_text_file(path); }

bool has_file(const InputFiles& files, const std::string& name) { return files.count(name) > 0; }

// --- seeds

std::vector<SeedInput> experiment_seeds() {
    std::vector<SeedInput> seeds;
    std::vector<fs::path> paths = {test::data_path("experiments/tiny_T_d_S.json")};
    for (const auto& entry : fs::recursive_directory_iterator(std::string(GS_SOURCE_DIR) + "/experiments")) {
        if (entry.path().extension() == ".json") paths.push_back(entry.path());
    }
    std::sort(paths.begin() + 1, paths.end());  // directory order is not stable
    for (const auto& path : paths) {
        seeds.push_back({{{"experiment.json", file_text(path.string())}}, {{"experiment.json", FileLayout::json}}});
    }
    return seeds;
}

// The first few documents of the bundled Korean corpus, in each format the corpus reader knows.
std::vector<SeedInput> corpus_seeds() {
    std::istringstream records(file_text(test::korean_corpus_path()));
    std::string jsonl, lines, paragraphs, wiki, record;
    for (int n = 0; n < 6 && std::getline(records, record); ++n) {
        std::string text = nlohmann::json::parse(record).at("text").get<std::string>().substr(0, 1500);
        while (!text.empty() && (text.back() & 0xC0) == 0x80) text.pop_back();  // a character cut in two
        if (!text.empty() && (text.back() & 0x80)) text.pop_back();
        jsonl += nlohmann::json{{"text", text}}.dump() + "\n";
        std::string one_line = text;
        std::replace(one_line.begin(), one_line.end(), '\n', ' ');
        lines += one_line + "\n";
        paragraphs += text + "\n\n";
        wiki += "<doc id=\"" + std::to_string(n) + "\" title=\"t\">\n" + text + "\n</doc>\n";
    }
    return {
        {{{"corpus.txt", lines}}, {{"corpus.txt", FileLayout::text}}},
        {{{"corpus.txt", paragraphs}}, {{"corpus.txt", FileLayout::text}}},
        {{{"corpus.jsonl", jsonl}}, {{"corpus.jsonl", FileLayout::json_lines}}},
        {{{"wiki.txt", wiki}}, {{"wiki.txt", FileLayout::text}}},
        {{{"corpus.txt.gz", test::gzip_bytes(lines)}}, {{"corpus.txt.gz", FileLayout::gzip_text}}},
        {{{"corpus.jsonl.gz", test::gzip_bytes(jsonl)}}, {{"corpus.jsonl.gz", FileLayout::gzip_text}}},
    };
}

T5Config tiny_config() {
    T5Config c;
    c.vocab_size = 64, c.d_model = 8, c.d_kv = 4, c.num_heads = 2, c.d_ff = 16;
    c.num_layers = c.num_decoder_layers = 1;
    c.dropout_rate = 0.0;
    return c;
}

// A tiny checkpoint folder (config.json, model.safetensors) and lines that score on it.
InputFiles checkpoint_files(const test::TempDir& dir, bool tied) {
    T5Config config = tiny_config();
    config.tie_word_embeddings = tied;
    at::manual_seed(3);
    save_t5_checkpoint(T5Model(config), dir.file("ckpt"));
    return {{"ckpt/config.json", file_text(dir.file("ckpt/config.json"))},
            {"ckpt/model.safetensors", file_text(dir.file("ckpt/model.safetensors"))},
            {"examples.jsonl", "{\"input_ids\": [5, 9, 1], \"labels\": [7, 1]}\n\n"
                               "{\"input_ids\": [12, 1], \"labels\": [3, -100, 1]}\n"}};
}

std::vector<SeedInput> checkpoint_seeds() {
    std::vector<SeedInput> seeds;
    for (bool tied : {false, true}) {
        test::TempDir dir;
        seeds.push_back({checkpoint_files(dir, tied),
                         {{"ckpt/config.json", FileLayout::json}, {"ckpt/model.safetensors", FileLayout::safetensors},
                          {"ckpt/model.safetensors", FileLayout::binary}}});
    }
    return seeds;
}

std::vector<SeedInput> scoring_seeds() {
    test::TempDir dir;
    return {{checkpoint_files(dir, false), {{"examples.jsonl", FileLayout::json_lines}}}};
}

std::vector<SeedInput> results_csv_seeds() {
    const std::string shipped = file_text(std::string(GS_SOURCE_DIR) + "/experiments/reference/ko-bert2bert-table2.csv");
    return {{{{"results.csv", shipped}}, {{"results.csv", FileLayout::text}}},
            {{{"results.csv", "model,train_epochs_or_steps,valid_loss,klue_nli_acc\n\"T, grown\",5,1.25,70.5\nS,3,1.5,\n"}},
             {{"results.csv", FileLayout::text}}}};
}

// A dev file and predictions of it, in each task's format.
std::vector<SeedInput> prediction_seeds() {
    std::vector<SeedInput> seeds;
    const std::pair<std::string, std::string> pairs[] = {{"korquad_dev.json", "korquad_predictions.json"},
                                                         {"klue_nli_dev.json", "klue_nli_predictions.json"},
                                                         {"summaries_dev.jsonl", "summaries_predictions.jsonl"}};
    for (const auto& [dev, predictions] : pairs) {
        const FileLayout layout = predictions.find(".jsonl") != std::string::npos ? FileLayout::json_lines : FileLayout::json;
        seeds.push_back({{{dev, file_text(test::data_path("evaluate/" + dev))},
                          {predictions, file_text(test::data_path("evaluate/" + predictions))}},
                         {{predictions, layout}, {predictions, layout}, {dev, layout}}});
    }
    return seeds;
}

std::vector<SeedInput> task_data_seeds() {
    std::vector<SeedInput> seeds;
    for (const auto& entry : fs::directory_iterator(test::data_path("downstream"))) {
        const std::string name = entry.path().filename().string();
        const std::string extension = entry.path().extension().string();
        if (extension != ".json" && extension != ".jsonl" && extension != ".parquet") continue;
        const FileLayout layout = extension == ".parquet" ? FileLayout::binary
                                  : extension == ".jsonl" ? FileLayout::json_lines
                                                          : FileLayout::json;
        seeds.push_back({{{name, file_text(entry.path().string())}}, {{name, layout}}});
    }
    std::sort(seeds.begin(), seeds.end(),
              [](const SeedInput& a, const SeedInput& b) { return a.files.begin()->first < b.files.begin()->first; });
    return seeds;
}

std::vector<SeedInput> growth_map_seeds() {
    T5Config target = tiny_config();
    target.d_model = 12, target.num_heads = 3, target.d_ff = 24, target.num_layers = target.num_decoder_layers = 2;
    GrowthOptions options;
    options.op = GrowthOperator::parse("da");
    options.seed = 4;
    test::TempDir dir;
    fs::create_directories(dir.file("growth"));
    save_growth_plan(plan_growth(tiny_config(), target, options), dir.file("growth"));
    return {{{{"growth/growth.json", file_text(dir.file("growth/growth.json"))}}, {{"growth/growth.json", FileLayout::json}}}};
}

// --- readers, as the CLI calls them

// `run --dry-run` up to the estimate, without measuring the machine.
void read_experiment(const std::string& folder, const InputFiles&) {
    const ExperimentSpec spec = ExperimentSpec::load(folder + "/experiment.json");
    check_training_memory(spec, "cpu");
    EstimateSettings settings;
    settings.batch_rows = spec.batch_size * spec.gradient_accumulation;
    const SpanLengths lengths = compute_span_lengths(spec.data.span);
    settings.input_length = lengths.input_length;
    settings.target_length = lengths.target_length;
    estimate_pipeline(spec.pipeline, settings);
}

// The whole corpus, and the tokenizer trainer's sentences of it, as `prepare` reads it.
void read_corpus(const std::string& folder, const InputFiles& files, TextLayout layout, BadInputPolicy policy) {
    CorpusOptions options;
    options.paths = {folder + "/" + files.begin()->first};
    options.layout = layout;
    options.on_bad_input = policy;
    CorpusReader reader(options);
    TrainingSentences sentences(reader, 100);
    std::string sentence;
    while (sentences.next(sentence)) {
    }
}

void read_checkpoint(const std::string& folder, const InputFiles&) {
    const SafetensorsFile file(folder + "/ckpt/model.safetensors");
    for (const auto& name : file.names()) file.load(name);
    load_t5_checkpoint(folder + "/ckpt");
}

void read_scoring_input(const std::string& folder, const InputFiles&) {
    read_scoring_examples(folder + "/examples.jsonl", tiny_config().vocab_size);
}

// The files of a predictions input in name order are the dev file, then the predictions.
void evaluate_predictions(const std::string& folder, const InputFiles& files) {
    const std::string dev = folder + "/" + files.begin()->first;
    const std::string predictions = folder + "/" + std::next(files.begin())->first;
    if (has_file(files, "korquad_dev.json")) evaluate_korquad(dev, predictions);
    if (has_file(files, "klue_nli_dev.json")) evaluate_nli(dev, predictions);
    if (has_file(files, "summaries_dev.jsonl")) {
        evaluate_summaries(dev, predictions, RougeTokens::whitespace);
        evaluate_summaries(dev, predictions, RougeTokens::characters);
    }
}

void read_task_data(const std::string& folder, const InputFiles& files) {
    const std::string& name = files.begin()->first;
    const std::string path = folder + "/" + name;
    if (name.rfind("klue-nli", 0) == 0) read_klue_nli(path);
    if (name.rfind("korquad", 0) == 0) korquad_questions(read_korquad(path));
    if (name.find("summary") != std::string::npos) read_summaries(path);
}

std::vector<std::string> cli(std::vector<std::string> words) {
    words.insert(words.begin(), GS_CLI_PATH);
    return words;
}

std::vector<std::string> evaluate_arguments(const InputFiles& files) {
    const std::string task = has_file(files, "korquad_dev.json") ? "ext" : has_file(files, "klue_nli_dev.json") ? "nli" : "sum";
    return cli({"evaluate", "--task", task, "--data", files.begin()->first, "--predictions", std::next(files.begin())->first});
}

const std::vector<InputKind>& input_kinds() {
    static const std::vector<InputKind> kinds = {
        {"experiment", experiment_seeds(), read_experiment,
         [](const InputFiles&) { return cli({"run", "experiment.json", "--db", "ws.db", "--dry-run"}); }},
        {"corpus", corpus_seeds(),
         [](const std::string& folder, const InputFiles& files) {
             read_corpus(folder, files, TextLayout::line_per_document, BadInputPolicy::stop);
             read_corpus(folder, files, TextLayout::blank_line_separated, BadInputPolicy::skip);
         },
         [](const InputFiles& files) {
             return cli({"prepare", "--corpus", files.begin()->first, "--tokenizer", "train:400", "--out", "data", "--quiet"});
         }},
        {"checkpoint", checkpoint_seeds(), read_checkpoint,
         [](const InputFiles&) { return cli({"score", "--checkpoint", "ckpt", "--input", "examples.jsonl"}); }},
        {"scoring input", scoring_seeds(), read_scoring_input,
         [](const InputFiles&) { return cli({"score", "--checkpoint", "ckpt", "--input", "examples.jsonl"}); }},
        {"results csv", results_csv_seeds(),
         [](const std::string& folder, const InputFiles&) { read_results_csv(folder + "/results.csv", "fuzz"); },
         [](const InputFiles&) { return cli({"import-results", "--csv", "results.csv", "--db", "ws.db"}); }},
        {"predictions", prediction_seeds(), evaluate_predictions, evaluate_arguments},
        {"task data", task_data_seeds(), read_task_data, nullptr},
        {"growth map", growth_map_seeds(),
         [](const std::string& folder, const InputFiles&) { load_growth_plan(folder + "/growth"); }, nullptr},
    };
    return kinds;
}

// --- one input

struct FuzzInput {
    const InputKind* kind = nullptr;
    InputFiles files;
};

// Input `index` of `seed`: a kind, one of its seeds, one of that seed's files mutated. Depends on
// nothing but the two numbers.
FuzzInput generate_input(uint64_t seed, uint64_t index, bool for_cli) {
    Random random(derive_seed(seed, index, for_cli ? 1 : 0));
    std::vector<const InputKind*> kinds;
    for (const auto& kind : input_kinds()) {
        if (!for_cli || kind.cli_arguments) kinds.push_back(&kind);
    }
    FuzzInput input;
    input.kind = kinds[random.below(kinds.size())];
    const SeedInput& valid = input.kind->seeds[random.below(input.kind->seeds.size())];
    input.files = valid.files;
    const auto& [name, layout] = valid.mutable_files[random.below(valid.mutable_files.size())];
    test::InputMutator mutator(random);
    input.files[name] = mutator.mutate(input.files[name], layout);
    return input;
}

// An error names its input when it holds the input's folder or one of its files' names.
bool names_input(const std::string& message, const std::string& folder, const InputFiles& files) {
    if (!folder.empty() && message.find(folder) != std::string::npos) return true;
    for (const auto& [name, bytes] : files) {
        if (message.find(fs::path(name).filename().string()) != std::string::npos) return true;
        if (message.find(fs::path(name).begin()->string()) != std::string::npos) return true;
    }
    return false;
}

struct Tally {
    uint64_t tried = 0, read = 0, named_errors = 0, failures = 0;
};

struct FuzzRun {
    uint64_t seed = test::environment_number("GS_FUZZ_SEED", 1);
    uint64_t first = test::environment_number("GS_FUZZ_FIRST", 0);
    std::string work = std::string(GS_TEST_OUTPUT_DIR) + "/fuzz-work";
    std::string kept = std::string(GS_TEST_OUTPUT_DIR) + "/fuzz-failures";
    std::map<std::string, Tally> tallies;
    std::vector<std::string> failures;

    std::string describe(uint64_t index, const FuzzInput& input, const std::string& folder, bool for_cli) const {
        std::ostringstream text;
        text << "input " << index << " (" << input.kind->name << ") of GS_FUZZ_SEED=" << seed << ", files in " << folder
             << "; rerun: GS_FUZZ_SEED=" << seed << " GS_FUZZ_FIRST=" << index
             << (for_cli ? " GS_FUZZ_INPUTS=0 GS_FUZZ_CLI_INPUTS=1" : " GS_FUZZ_INPUTS=1 GS_FUZZ_CLI_INPUTS=0");
        return text.str();
    }

    // Keeps the input's files for a rerun and records the failure.
    void fail(const std::string& what, const std::string& description, const std::string& folder) {
        const std::string keep = kept + "/" + fs::path(folder).filename().string();
        fs::remove_all(keep);
        fs::create_directories(kept);
        fs::copy(folder, keep, fs::copy_options::recursive);
        failures.push_back(what + ": " + description + " (kept in " + keep + ")");
    }

    void record(Tally& tally, const std::string& error, const std::string& description, const std::string& folder,
                const InputFiles& files) {
        ++tally.tried;
        if (error.empty()) {
            ++tally.read;
        } else if (error.find("can't allocate") != std::string::npos || error.find("bad_alloc") != std::string::npos) {
            ++tally.failures, fail("an allocation of absurd size (" + error.substr(0, 300) + ")", description, folder);
        } else if (!names_input(error, folder, files)) {
            ++tally.failures, fail("an error that names no file (" + error.substr(0, 300) + ")", description, folder);
        } else {
            ++tally.named_errors;
        }
    }
};

// The reader's error message; "" when it read the input; "bad_alloc ..." for an allocation failure.
std::string read_input(const InputKind& kind, const std::string& folder, const InputFiles& files) {
    try {
        kind.read(folder, files);
        return "";
    } catch (const std::bad_alloc& error) {
        return std::string("bad_alloc: ") + error.what();
    } catch (const std::length_error& error) {  // a size taken from the file, unchecked
        return std::string("bad_alloc (length_error): ") + error.what();
    } catch (const c10::Error& error) {
        return error.what_without_backtrace();
    } catch (const std::exception& error) {
        const std::string message = error.what();
        return message.empty() ? std::string("an exception without a message") : message;
    } catch (...) {
        return "an exception that is not a std::exception";
    }
}

void print_tallies(const FuzzRun& run, const std::string& title, double seconds) {
    std::cout << title << " (GS_FUZZ_SEED=" << run.seed << ", " << seconds << " s)\n";
    Tally total;
    for (const auto& [kind, t] : run.tallies) {
        std::cout << "  " << kind << ": " << t.tried << " tried, " << t.read << " read, " << t.named_errors
                  << " named errors, " << t.failures << " failures\n";
        total.tried += t.tried, total.read += t.read, total.named_errors += t.named_errors, total.failures += t.failures;
    }
    std::cout << "  all: " << total.tried << " tried, " << total.read << " read, " << total.named_errors << " named errors, "
              << total.failures << " failures\n";
}

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

TEST(FuzzInputs, ReadersReadOrNameTheirFileForThousandsOfHostileInputs) {
    FuzzRun run;
    const uint64_t count = test::environment_number("GS_FUZZ_INPUTS", 3000);
    const auto start = std::chrono::steady_clock::now();
    at::set_num_threads(1);
    test::InputGuard guard(/*limit_seconds=*/20);
    for (uint64_t index = run.first; index < run.first + count; ++index) {
        const FuzzInput input = generate_input(run.seed, index, /*for_cli=*/false);
        const std::string folder = run.work + "/input-" + std::to_string(index);
        test::write_input_files(folder, input.files);
        const std::string description = run.describe(index, input, folder, false);
        guard.begin(description);
        const std::string error = read_input(*input.kind, folder, input.files);
        guard.end();
        run.record(run.tallies[input.kind->name], error, description, folder, input.files);
        fs::remove_all(folder);
    }
    print_tallies(run, "in-process readers", seconds_since(start));
    for (const auto& failure : run.failures) ADD_FAILURE() << failure;
}

// The CLI's end of one input: "" for exit 0 or a named error; else what went wrong.
std::string cli_failure(const test::ProcessEnd& end, const InputFiles& files, double limit_seconds) {
    if (end.timed_out) return "still running after " + std::to_string(limit_seconds) + " s (a hang)";
    if (end.signal != 0) return "killed by signal " + std::to_string(end.signal);
    if (end.exit_code == 0) return "";
    const size_t error = end.output.find("error: ");
    if (end.exit_code != 1 || error == std::string::npos) {
        return "exit code " + std::to_string(end.exit_code) + " without an error line: " + end.output.substr(0, 500);
    }
    const std::string line = end.output.substr(error, end.output.find('\n', error) - error);
    if (line.find("can't allocate") != std::string::npos || line.find("bad_alloc") != std::string::npos) {
        return "an allocation of absurd size: " + line.substr(0, 300);
    }
    if (!names_input(line, "", files)) return "an error that names no file: " + line.substr(0, 300);
    return "";
}

TEST(FuzzInputs, TheCliEndsInExitZeroOrANamedErrorNeverASignalOrAHang) {
    FuzzRun run;
    const uint64_t count = test::environment_number("GS_FUZZ_CLI_INPUTS", 30);
    const double limit_seconds = 60;
    const auto start = std::chrono::steady_clock::now();
    for (uint64_t index = run.first; index < run.first + count; ++index) {
        const FuzzInput input = generate_input(run.seed, index, /*for_cli=*/true);
        const std::string folder = run.work + "/cli-input-" + std::to_string(index);
        test::write_input_files(folder, input.files);
        const test::ProcessEnd end = test::run_process(input.kind->cli_arguments(input.files), folder, limit_seconds);
        const std::string failure = cli_failure(end, input.files, limit_seconds);
        Tally& tally = run.tallies[input.kind->name];
        ++tally.tried;
        if (!failure.empty()) {
            ++tally.failures, run.fail(failure, run.describe(index, input, folder, true), folder);
        } else if (end.exit_code == 0) {
            ++tally.read;
        } else {
            ++tally.named_errors;
        }
        fs::remove_all(folder);
    }
    print_tallies(run, "growthstudio-cli", seconds_since(start));
    for (const auto& failure : run.failures) ADD_FAILURE() << failure;
}

}  // namespace
}  // namespace gs
