// The data behind every stored downstream score: a file's hash streamed in chunks equals the
// one-pass hash of its bytes; a database of the previous schema upgrades without losing a row,
// its old scores saying their provenance was not recorded; the exports carry each score's data
// files, and `sync` brings them along from a job's database.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

#include "core/cluster/slurm.h"
#include "core/common/hash.h"
#include "core/io/files.h"
#include "core/store/results_table.h"
#include "core/store/score_provenance.h"
#include "core/store/sqlite.h"
#include "core/store/store.h"
#include "test_support.h"

namespace gs {
namespace {

namespace fs = std::filesystem;

std::string sample(const std::string& name) { return test::data_path("downstream/" + name); }

// The hash of the file's bytes read whole, as the one-pass hash_bytes sees them.
std::string whole_file_hash(const std::string& path) {
    const std::string bytes = read_text_file(path);
    return to_hex(hash_bytes(bytes.data(), bytes.size()));
}

// NLI scored on the HF sample's three dev records after training on the v1.1 sample's nine.
ScoreProvenance nli_provenance() {
    ScoreProvenance p;
    p.train_file = data_file_record(sample("klue-nli-v1.1_sample.json"));
    p.dev_file = data_file_record(sample("klue-nli_hf_sample.jsonl"));
    p.train_examples = 9, p.eval_examples = 3;
    return p;
}

// Extractive QA scored on a share held out of the KorQuAD sample.
ScoreProvenance held_out_provenance() {
    ScoreProvenance p;
    p.train_file = data_file_record(sample("korquad-v1.0_sample.json"));
    p.held_out_fraction = 0.25, p.held_out_seed = 7;
    p.train_examples = 5, p.eval_examples = 2, p.train_windows = 9, p.eval_windows = 4;
    return p;
}

int64_t add_run(Store& store, const std::string& name) {
    RunRecord run;
    run.name = name, run.pipeline = name, run.status = RunStatus::done;
    return store.create_run(run);
}

// The fields of one CSV line: commas separate them except inside quotes, where "" is a quote.
std::vector<std::string> csv_line_fields(const std::string& line) {
    std::vector<std::string> fields(1);
    bool quoted = false;
    for (size_t i = 0; i < line.size(); ++i) {
        if (line[i] == '"' && quoted && i + 1 < line.size() && line[i + 1] == '"') {
            fields.back() += '"', ++i;
        } else if (line[i] == '"') {
            quoted = !quoted;
        } else if (line[i] == ',' && !quoted) {
            fields.emplace_back();
        } else {
            fields.back() += line[i];
        }
    }
    return fields;
}

// CSV records (no field here spans lines) as maps from the header's names to the fields.
std::vector<std::map<std::string, std::string>> csv_records(const std::string& csv) {
    std::istringstream in(csv);
    std::vector<std::vector<std::string>> lines;
    for (std::string line; std::getline(in, line);) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        lines.push_back(csv_line_fields(line));
    }
    std::vector<std::map<std::string, std::string>> records;
    for (size_t r = 1; r < lines.size(); ++r) {
        EXPECT_EQ(lines[r].size(), lines[0].size()) << "line " << r + 1;
        std::map<std::string, std::string> record;
        for (size_t c = 0; c < lines[0].size() && c < lines[r].size(); ++c) record[lines[0][c]] = lines[r][c];
        records.push_back(record);
    }
    return records;
}

TEST(ScoreProvenance, AFileHashedInChunksEqualsTheHashOfItsBytes) {
    test::TempDir dir;
    std::mt19937_64 random(5);
    // Empty, shorter than a word, whole words, one chunk, and chunks with a tail.
    for (const size_t size : {size_t{0}, size_t{7}, size_t{64}, size_t{1} << 20, (size_t{1} << 20) + 13, (size_t{3} << 20) + 5}) {
        std::string bytes(size, '\0');
        for (char& c : bytes) c = static_cast<char>(random());
        const std::string path = dir.file("data-" + std::to_string(size));
        write_file_atomically(path, bytes);
        uint64_t hashed_size = 0;
        EXPECT_EQ(hash_file(path, hashed_size), hash_bytes(bytes.data(), bytes.size())) << size;
        EXPECT_EQ(hashed_size, size);
    }
    uint64_t size = 0;
    EXPECT_THROW(
        try { hash_file(dir.file("missing.json"), size); } catch (const std::runtime_error& error) {
            EXPECT_NE(std::string(error.what()).find("missing.json"), std::string::npos) << error.what();
            throw;
        },
        std::runtime_error);
}

TEST(ScoreProvenance, RecordsOfFilesAndFoldersRoundTripThroughJson) {
    const std::string path = sample("klue-nli-v1.1_sample.json");
    const DataFileRecord file = data_file_record(path);
    EXPECT_EQ(file.path, fs::absolute(path).lexically_normal().string());
    EXPECT_EQ(file.hash, whole_file_hash(path));
    EXPECT_EQ(file.bytes, fs::file_size(path));

    // A folder: every file's name and hash, in name order; a changed file changes it.
    test::TempDir dir;
    fs::create_directories(dir.file("news"));
    write_file_atomically(dir.file("news/b.json"), "{\"b\": 1}");
    write_file_atomically(dir.file("news/a.json"), "{\"a\": 22}");
    const DataFileRecord folder = data_file_record(dir.file("news"));
    const std::string listing = "a.json\t" + whole_file_hash(dir.file("news/a.json")) + "\nb.json\t" +
                                whole_file_hash(dir.file("news/b.json")) + "\n";
    EXPECT_EQ(folder.hash, to_hex(hash_text(listing)));
    EXPECT_EQ(folder.bytes, 17u);
    write_file_atomically(dir.file("news/b.json"), "{\"b\": 2}");
    EXPECT_NE(data_file_record(dir.file("news")).hash, folder.hash);

    for (const ScoreProvenance& p : {nli_provenance(), held_out_provenance()}) {
        const ScoreProvenance back = ScoreProvenance::from_json(p.to_json(), "test");
        EXPECT_EQ(back.to_json(), p.to_json());
        EXPECT_EQ(back.describe(), p.describe());
    }
    EXPECT_EQ(held_out_provenance().split(), "held-out share of the training file, seed 7, fraction 0.25");
    EXPECT_EQ(with_thousands(24998), "24,998");
    EXPECT_EQ(with_thousands(3000000), "3,000,000");
    EXPECT_EQ(with_thousands(999), "999");
    try {
        ScoreProvenance::from_json(R"({"train": {"path": "/d/t.json", "hash": "ab"}, "train_examples": 1, "eval_examples": 1})",
                                   "ws.db: run 'S'");
        FAIL() << "a file without its size was accepted";
    } catch (const std::invalid_argument& error) {
        EXPECT_STREQ(error.what(), "ws.db: run 'S': field 'train.bytes': missing");
    }
}

// A workspace of schema version 3, as sqlite3 dumped it (tests/data/store/workspace-v3.sql).
std::string version_3_workspace(const test::TempDir& dir) {
    const std::string path = dir.file("ws.db");
    SqlDatabase(path, /*create=*/true).execute(read_text_file(test::data_path("store/workspace-v3.sql")));
    return path;
}

TEST(ScoreProvenance, AVersion3WorkspaceUpgradesWithEveryRowAndOldScoresSayNotRecorded) {
    test::TempDir dir;
    const std::string path = version_3_workspace(dir);
    ASSERT_EQ(Store(path, SqlAccess::read_only).file_version(), 3);
    Store store(path);
    EXPECT_EQ(store.file_version(), Store::schema_version());
    EXPECT_EQ(Store::schema_version(), 4);

    const auto s = store.find_run("S-1"), b = store.find_run("B-1");
    ASSERT_TRUE(s && b);
    EXPECT_EQ(s->seed, 42);
    EXPECT_EQ(s->ended_at, "2024-05-01T12:00:00Z");
    EXPECT_EQ(store.experiment_json(s->experiment_id), R"({"name": "S"})");
    EXPECT_EQ(store.stages(b->id).at(0).budget, "3");
    EXPECT_EQ(store.metrics(s->id).size(), 2u);
    EXPECT_EQ(store.checkpoints(s->id).at(0).path, "/runs/S-1/final");
    EXPECT_EQ(store.external_results().at(0).klue_nli_accuracy, 72.5);
    EXPECT_EQ(store.cluster_jobs().at(0).job_id, "1234");
    const std::vector<ResultRecord> results = store.results(s->id);
    ASSERT_EQ(results.size(), 3u);
    EXPECT_EQ(results[0].task + "/" + results[0].metric, "klue-nli/accuracy");
    EXPECT_EQ(results[0].value, 71.25);
    EXPECT_EQ(results[0].settings_json, R"({"epochs":3,"seed":42})");
    for (const ResultRecord& r : results) EXPECT_EQ(r.provenance_json, "");

    const ResultsTable table = build_results_table(store);
    const ResultsRow& row = table.rows.at(0);
    EXPECT_EQ(row.run, "S-1");
    EXPECT_EQ(row.korquad_ext_f1, 68.75);
    EXPECT_DOUBLE_EQ(*row.valid_loss, 4.25);
    EXPECT_TRUE(row.task_provenance.empty());
    EXPECT_EQ(task_data_text(row, "klue-nli"), "provenance not recorded");
    EXPECT_EQ(score_provenance_text(row, downstream_scores().at(0)), "KLUE-NLI accuracy 71.25: provenance not recorded");
    const auto records = csv_records(results_csv(table));
    EXPECT_EQ(records.at(0).at("klue_nli_split"), "provenance not recorded");
    EXPECT_EQ(records.at(0).at("klue_nli_data"), "");
    EXPECT_EQ(records.at(0).at("korquad_gen_split"), "");  // no score of that task

    // New scores carry their data beside the old ones.
    store.add_result({b->id, "klue-nli", "accuracy", 60.0, "{}", nli_provenance().to_json()});
    EXPECT_EQ(store.results(b->id).at(0).provenance_json, nli_provenance().to_json());
}

TEST(ScoreProvenance, ExportsCarryEachScoresDataAndReadBack) {
    test::TempDir dir;
    Store store(dir.file("ws.db"));
    const int64_t id = add_run(store, "S_a_B");
    store.add_result({id, "klue-nli", "accuracy", 71.3, "{}", nli_provenance().to_json()});
    store.add_result({id, "korquad-ext", "em", 40.0, "{}", held_out_provenance().to_json()});
    store.add_result({id, "korquad-ext", "f1", 55.5, "{}", held_out_provenance().to_json()});
    store.add_result({id, "summarization", "rouge-l-f1", 20.0, "{}"});  // stored before provenance was
    const ResultsTable table = build_results_table(store);

    const std::string csv = dir.file("results.csv");
    write_file_atomically(csv, results_csv(table));
    const auto records = csv_records(read_text_file(csv));
    ASSERT_EQ(records.size(), 1u);
    const auto& r = records[0];
    const std::string train = sample("klue-nli-v1.1_sample.json"), dev = sample("klue-nli_hf_sample.jsonl");
    EXPECT_EQ(r.at("klue_nli_acc"), "71.30");
    EXPECT_EQ(r.at("klue_nli_data"), fs::absolute(dev).lexically_normal().string());
    EXPECT_EQ(r.at("klue_nli_hash"), whole_file_hash(dev));
    EXPECT_EQ(r.at("klue_nli_bytes"), std::to_string(fs::file_size(dev)));
    EXPECT_EQ(r.at("klue_nli_examples"), "3");
    EXPECT_EQ(r.at("klue_nli_split"), "dev file");
    EXPECT_EQ(r.at("klue_nli_train_data"), fs::absolute(train).lexically_normal().string());
    EXPECT_EQ(r.at("klue_nli_train_hash"), whole_file_hash(train));
    EXPECT_EQ(r.at("klue_nli_train_examples"), "9");
    const std::string korquad = sample("korquad-v1.0_sample.json");
    EXPECT_EQ(r.at("korquad_ext_data"), fs::absolute(korquad).lexically_normal().string());  // held out of it
    EXPECT_EQ(r.at("korquad_ext_hash"), whole_file_hash(korquad));
    EXPECT_EQ(r.at("korquad_ext_split"), "held-out share of the training file, seed 7, fraction 0.25");
    EXPECT_EQ(r.at("korquad_ext_examples"), "2");
    EXPECT_EQ(r.at("summarization_split"), "provenance not recorded");
    EXPECT_EQ(r.at("korquad_gen_data"), "");
    // The export still imports: its data columns are read past.
    EXPECT_EQ(read_results_csv(csv, "again").at(0).klue_nli_accuracy, 71.3);

    const std::string markdown = results_markdown(table);
    EXPECT_NE(markdown.find("Data behind the downstream scores:\n\n- S_a_B, klue-nli: on " +
                            fs::absolute(dev).lexically_normal().string() + " (hash " + whole_file_hash(dev) +
                            ", 3 examples, dev file); trained on "),
              std::string::npos)
        << markdown;
    EXPECT_NE(markdown.find("- S_a_B, korquad-ext: on " + fs::absolute(korquad).lexically_normal().string() +
                            " (hash " + whole_file_hash(korquad) + ", 2 examples in 4 windows, held-out share"),
              std::string::npos)
        << markdown;
    EXPECT_NE(markdown.find("- S_a_B, summarization: provenance not recorded\n"), std::string::npos) << markdown;
    const std::string latex = results_latex(table);
    EXPECT_NE(latex.find("\\item S\\_a\\_B, klue-nli: on "), std::string::npos) << latex;
    EXPECT_NE(latex.find("klue-nli\\_hf\\_sample.jsonl (hash " + whole_file_hash(dev)), std::string::npos) << latex;
    EXPECT_LT(latex.find("\\end{tabular}"), latex.find("\\begin{itemize}"));
}

TEST(ScoreProvenance, SyncBringsTheDataOfAJobsScores) {
    test::TempDir dir;
    {
        Store job(dir.file("job.db"));
        const int64_t id = add_run(job, "B");
        job.add_result({id, "klue-nli", "accuracy", 71.25, R"({"epochs":3})", nli_provenance().to_json()});
        job.add_result({id, "korquad-ext", "f1", 42.5, ""});
    }
    Store job(dir.file("job.db"), SqlAccess::read_only);
    Store workspace(dir.file("ws.db"));
    merge_run(job, "B", workspace);
    const std::vector<ResultRecord> merged = workspace.results(workspace.find_run("B")->id);
    ASSERT_EQ(merged.size(), 2u);
    EXPECT_EQ(merged[0].provenance_json, nli_provenance().to_json());
    EXPECT_EQ(merged[1].provenance_json, "");
    const ResultsRow row = build_results_table(workspace).rows.at(0);
    EXPECT_EQ(row.task_provenance.at("klue-nli").to_json(), nli_provenance().to_json());
    EXPECT_EQ(task_data_text(row, "korquad-ext"), "provenance not recorded");
}

TEST(ScoreProvenance, ACorruptProvenanceNamesTheDatabaseRunAndField) {
    test::TempDir dir;
    Store store(dir.file("ws.db"));
    const int64_t id = add_run(store, "S");
    store.add_result({id, "klue-nli", "accuracy", 50.0, "{}", R"({"train": {"path": "/t", "hash": "00", "bytes": 1}})"});
    try {
        build_results_table(store);
        FAIL() << "a provenance without its counts was read";
    } catch (const std::invalid_argument& error) {
        EXPECT_EQ(std::string(error.what()), dir.file("ws.db") + ": run 'S', klue-nli: field 'train_examples': missing");
    }
}

}  // namespace
}  // namespace gs
