// The study's Table 2 computed from the store: per run its budget, training time, time as a share
// of the reference (Base) run's, validation loss and downstream scores, with the average score
// defined as the study defines it (mean of KLUE-NLI accuracy, KorQuAD extractive F1, KorQuAD
// generative F1 and summarisation Rouge-L F1). Results imported from elsewhere appear beside the
// workspace's runs, marked with their source; their average and ratio are recomputed too.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/analysis/curves.h"
#include "core/store/score_provenance.h"
#include "core/store/store.h"

namespace gs {

struct ResultsRow {
    std::string source;  // "" for this workspace's runs, else the imported set's name
    int64_t run_id = 0;
    std::string run;
    std::string pipeline;
    std::optional<RunStatus> status;  // none for a row imported from elsewhere
    std::string budget;  // the study's notation, "2-3"
    std::optional<double> train_hours;
    std::optional<double> ratio_to_reference_pct;
    // Training FLOPs, and as a share of the reference run's: unlike hours, free of machine load.
    std::optional<double> train_flops;
    std::optional<double> flops_ratio_pct;
    std::optional<double> valid_loss;
    std::optional<double> klue_nli_accuracy, korquad_ext_em, korquad_ext_f1, korquad_gen_em, korquad_gen_f1,
        summarization_rouge_l_f1;
    std::optional<double> average_score;
    // Which data produced each task's scores, by task ("klue-nli"); a task whose latest score was
    // stored before this was recorded has none.
    std::map<std::string, ScoreProvenance> task_provenance;
    // When the run first reached the reference run's final validation loss, and that time as a
    // share of the reference run's whole training time.
    ReachFigures reach;
    std::optional<double> reach_ratio_pct;
    std::optional<double> reach_flops_ratio_pct;  // the FLOPs to get there, over the reference's total
    int64_t seed = 0;
    std::string started_at;
    std::string experiment_hash;
};

struct ResultsTable {
    std::string reference_run;             // "" when none was found
    std::optional<double> reference_loss;  // its final validation loss
    std::vector<ResultsRow> rows;
};

// A downstream score of the table: where the store keeps it and what it is called.
struct DownstreamScore {
    std::string task;    // "klue-nli"
    std::string metric;  // "accuracy"
    std::string title;   // "KLUE-NLI accuracy"
    std::optional<double> ResultsRow::*value;
};
// In the table's order: NLI accuracy, Ext EM and F1, Gen EM and F1, Rouge-L F1.
const std::vector<DownstreamScore>& downstream_scores();

// What the row's scores of `task` were computed on (ScoreProvenance::describe), or
// kProvenanceNotRecorded.
std::string task_data_text(const ResultsRow& row, const std::string& task);
// "KLUE-NLI accuracy 71.30 on /d/dev.json (…); trained on …"; "" when the row has no such score.
std::string score_provenance_text(const ResultsRow& row, const DownstreamScore& score);

// The runs other runs are compared with when no reference is named: a finished run of the
// pipeline "B" (the study's Base), the latest such run. The results table and the curves share it.
bool is_default_reference(const RunRecord& run);

// `reference`: a run name; "" picks the latest finished run whose pipeline is "B".
ResultsTable build_results_table(Store& store, const std::string& reference = "");

// The mean of NLI accuracy, Ext F1, Gen F1 and Rouge-L F1, when all four are there.
std::optional<double> study_average(const ResultsRow& row);

// CSV (RFC 4180, UTF-8, header row): the columns of the study's seed_table2.csv (n, model,
// train_epochs_or_steps, train_time_h, ratio_to_base_pct, valid_loss, the scores, avg_score),
// then provenance (source, run, run_id, status, seed, started_at, experiment_hash, and per task
// the data its scores were computed on: klue_nli_data, _hash, _bytes, _examples, _split and the
// same of the training file, klue_nli_train_data, ...) and when the run first reached the
// reference's final loss.
std::string results_csv(const ResultsTable& table);
// Markdown: the study's own columns, or the columns named (by their CSV header) in `columns`;
// then, when any run has downstream scores, a list of the data behind each run's scores.
std::string results_markdown(const ResultsTable& table, const std::vector<std::string>& columns = {});
// LaTeX: the study's columns as a booktabs tabular, then the same list of the scores' data.
std::string results_latex(const ResultsTable& table);

// Reads a CSV with the columns of seed_table2.csv (or an export of this table) as external
// results of `source`. avg_score and ratio_to_base_pct are ignored: they are recomputed from
// the components. Errors name the file, the line and the column.
std::vector<ExternalResult> read_results_csv(const std::string& path, const std::string& source);

}  // namespace gs
