#include "core/store/results_table.h"

#include <iomanip>
#include <sstream>

namespace gs {

namespace {

std::optional<double> score(const RunSummary& summary, const std::string& key) {
    auto it = summary.results.find(key);
    if (it == summary.results.end()) return std::nullopt;
    return it->second;
}

std::string budget_of(Store& store, int64_t run_id) {
    std::string budget;
    for (const auto& stage : store.stages(run_id)) {
        if (stage.budget.rfind("pre-trained", 0) == 0) continue;
        budget += (budget.empty() ? "" : "-") + stage.budget;
    }
    return budget;
}

ResultsRow row_of(Store& store, const RunSummary& s) {
    ResultsRow row;
    row.run_id = s.run.id, row.run = s.run.name, row.pipeline = s.run.pipeline, row.status = s.run.status;
    row.budget = budget_of(store, s.run.id);
    row.train_hours = s.wall_seconds / 3600.0;
    row.valid_loss = s.valid_loss;
    row.klue_nli_accuracy = score(s, "klue-nli/accuracy");
    row.korquad_ext_em = score(s, "korquad-ext/em");
    row.korquad_ext_f1 = score(s, "korquad-ext/f1");
    row.korquad_gen_em = score(s, "korquad-gen/em");
    row.korquad_gen_f1 = score(s, "korquad-gen/f1");
    row.summarization_rouge_l_f1 = score(s, "summarization/rouge-l-f1");
    if (row.klue_nli_accuracy && row.korquad_ext_f1 && row.korquad_gen_f1 && row.summarization_rouge_l_f1) {
        row.average_score = (*row.klue_nli_accuracy + *row.korquad_ext_f1 + *row.korquad_gen_f1 +
                             *row.summarization_rouge_l_f1) / 4.0;
    }
    return row;
}

std::string cell(const std::optional<double>& value, int precision) {
    if (!value) return "";
    std::ostringstream out;
    out << std::fixed << std::setprecision(precision) << *value;
    return out.str();
}

std::string scientific(const std::optional<double>& value) {
    if (!value) return "";
    std::ostringstream out;
    out << std::scientific << std::setprecision(4) << *value;
    return out.str();
}

std::string quoted(const std::string& text) {
    if (text.find_first_of(",\"\n") == std::string::npos) return text;
    std::string out = "\"";
    for (char c : text) out += c == '"' ? std::string("\"\"") : std::string(1, c);
    return out + "\"";
}

}  // namespace

ResultsTable build_results_table(Store& store, const std::string& reference) {
    ResultsTable table;
    const std::vector<RunSummary> summaries = store.summaries();
    const RunSummary* base = nullptr;
    for (const auto& s : summaries) {
        const bool named = !reference.empty() && s.run.name == reference;
        const bool default_base = reference.empty() && s.run.pipeline == "B" && s.run.status == "done";
        if (named || default_base) base = &s;
    }
    if (base) table.reference_run = base->run.name, table.reference_loss = base->valid_loss;
    for (const auto& s : summaries) {
        ResultsRow row = row_of(store, s);
        if (base && base->wall_seconds > 0) row.ratio_to_reference_pct = 100.0 * s.wall_seconds / base->wall_seconds;
        if (table.reference_loss) {
            row.reach = time_to_reach(store.metrics(s.run.id), *table.reference_loss);
            if (row.reach.hours && base->wall_seconds > 0) {
                row.reach_ratio_pct = 100.0 * *row.reach.hours * 3600.0 / base->wall_seconds;
            }
        }
        table.rows.push_back(row);
    }
    return table;
}

std::string results_csv(const ResultsTable& table) {
    std::ostringstream out;
    out << "n,model,train_epochs_or_steps,train_time_h,ratio_to_base_pct,valid_loss,klue_nli_acc,korquad_ext_em,"
           "korquad_ext_f1,korquad_gen_em,korquad_gen_f1,summarization_rougeL_f1,avg_score,run,status,"
           "reach_base_loss_h,reach_base_loss_steps,reach_base_loss_flops,reach_ratio_pct\n";
    int n = 0;
    for (const auto& r : table.rows) {
        out << ++n << "," << quoted(r.pipeline) << "," << quoted(r.budget) << "," << cell(r.train_hours, 4) << ","
            << cell(r.ratio_to_reference_pct, 2) << "," << cell(r.valid_loss, 4) << "," << cell(r.klue_nli_accuracy, 2)
            << "," << cell(r.korquad_ext_em, 2) << "," << cell(r.korquad_ext_f1, 2) << "," << cell(r.korquad_gen_em, 2)
            << "," << cell(r.korquad_gen_f1, 2) << "," << cell(r.summarization_rouge_l_f1, 2) << ","
            << cell(r.average_score, 2) << "," << quoted(r.run) << "," << r.status << "," << cell(r.reach.hours, 4)
            << "," << cell(r.reach.steps, 1) << "," << scientific(r.reach.flops) << "," << cell(r.reach_ratio_pct, 2)
            << "\n";
    }
    return out.str();
}

}  // namespace gs
