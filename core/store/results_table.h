// The study's Table 2 computed from the store: per run its budget, training time, time as a share
// of the reference (Base) run's, validation loss and downstream scores, with the average score
// defined as the study defines it (mean of KLUE-NLI accuracy, KorQuAD extractive F1, KorQuAD
// generative F1 and summarisation Rouge-L F1).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/analysis/curves.h"
#include "core/store/store.h"

namespace gs {

struct ResultsRow {
    int64_t run_id = 0;
    std::string run;
    std::string pipeline;
    std::string status;
    std::string budget;  // the study's notation, "2-3"
    double train_hours = 0;
    std::optional<double> ratio_to_reference_pct;
    std::optional<double> valid_loss;
    std::optional<double> klue_nli_accuracy, korquad_ext_em, korquad_ext_f1, korquad_gen_em, korquad_gen_f1,
        summarization_rouge_l_f1;
    std::optional<double> average_score;
    // When the run first reached the reference run's final validation loss, and that time as a
    // share of the reference run's whole training time.
    ReachFigures reach;
    std::optional<double> reach_ratio_pct;
};

struct ResultsTable {
    std::string reference_run;  // "" when none was found
    std::optional<double> reference_loss;  // its final validation loss
    std::vector<ResultsRow> rows;
};

// `reference`: a run name; "" picks the latest finished run whose pipeline is "B".
ResultsTable build_results_table(Store& store, const std::string& reference = "");

// CSV with the columns of the study's seed_table2.csv (n, model, train_epochs_or_steps,
// train_time_h, ratio_to_base_pct, valid_loss, the downstream scores, avg_score), then the run,
// its status and when it first reached the reference's final loss (hours, steps, FLOPs, % of the
// reference's time).
std::string results_csv(const ResultsTable& table);

}  // namespace gs
