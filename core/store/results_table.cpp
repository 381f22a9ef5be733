#include "core/store/results_table.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <iomanip>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>

#include "core/data/corpus.h"
#include "core/io/files.h"
#include "core/train/run_lock.h"

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

// The provenance stored with each task's latest score, read as the store's file names it.
std::map<std::string, ScoreProvenance> provenance_of(Store& store, const RunSummary& s) {
    std::map<std::string, ScoreProvenance> provenance;
    for (const auto& [task, json] : s.task_provenance) {
        if (json.empty()) continue;  // stored before it was recorded
        provenance[task] = ScoreProvenance::from_json(json, store.path() + ": run '" + s.run.name + "', " + task);
    }
    return provenance;
}

ResultsRow row_of(Store& store, const RunSummary& s) {
    ResultsRow row;
    row.run_id = s.run.id, row.run = s.run.name, row.pipeline = s.run.pipeline;
    row.status = live_run_status(s.run);  // "interrupted" for a run its process no longer trains
    row.budget = budget_of(store, s.run.id);
    row.train_hours = s.wall_seconds / 3600.0;
    row.train_flops = s.flops;
    row.valid_loss = s.valid_loss;
    for (const DownstreamScore& d : downstream_scores()) row.*d.value = score(s, d.task + "/" + d.metric);
    row.task_provenance = provenance_of(store, s);
    row.average_score = study_average(row);
    row.seed = s.run.seed, row.started_at = s.run.started_at;
    row.experiment_hash = s.run.experiment_id > 0 ? store.experiment_hash(s.run.experiment_id) : "";
    return row;
}

ResultsRow row_of(const ExternalResult& r) {
    ResultsRow row;
    row.source = r.source, row.run = r.model, row.pipeline = r.model, row.budget = r.budget;
    row.train_hours = r.train_time_h, row.valid_loss = r.valid_loss;
    row.klue_nli_accuracy = r.klue_nli_accuracy, row.korquad_ext_em = r.korquad_ext_em;
    row.korquad_ext_f1 = r.korquad_ext_f1, row.korquad_gen_em = r.korquad_gen_em;
    row.korquad_gen_f1 = r.korquad_gen_f1, row.summarization_rouge_l_f1 = r.summarization_rouge_l_f1;
    row.average_score = study_average(row);
    return row;
}

// Imported rows compare with the Base row of their own set.
void add_external_rows(Store& store, ResultsTable& table) {
    const std::vector<ExternalResult> external = store.external_results();
    std::map<std::string, double> base_hours;
    for (const auto& r : external) {
        if (r.model == "B" && r.train_time_h) base_hours[r.source] = *r.train_time_h;
    }
    for (const auto& r : external) {
        ResultsRow row = row_of(r);
        auto base = base_hours.find(r.source);
        if (base != base_hours.end() && row.train_hours && base->second > 0) {
            row.ratio_to_reference_pct = 100.0 * *row.train_hours / base->second;
        }
        table.rows.push_back(row);
    }
}

// The tasks of downstream_scores, each once, in order.
std::vector<std::string> score_tasks() {
    std::vector<std::string> tasks;
    for (const DownstreamScore& d : downstream_scores()) {
        if (std::find(tasks.begin(), tasks.end(), d.task) == tasks.end()) tasks.push_back(d.task);
    }
    return tasks;
}

bool has_scores(const ResultsRow& row, const std::string& task) {
    for (const DownstreamScore& d : downstream_scores()) {
        if (d.task == task && row.*d.value) return true;
    }
    return false;
}

const ScoreProvenance* provenance_of(const ResultsRow& row, const std::string& task) {
    auto it = row.task_provenance.find(task);
    return it == row.task_provenance.end() ? nullptr : &it->second;
}

}  // namespace

const std::vector<DownstreamScore>& downstream_scores() {
    static const std::vector<DownstreamScore> scores = {
        {"klue-nli", "accuracy", "KLUE-NLI accuracy", &ResultsRow::klue_nli_accuracy},
        {"korquad-ext", "em", "KorQuAD extractive EM", &ResultsRow::korquad_ext_em},
        {"korquad-ext", "f1", "KorQuAD extractive F1", &ResultsRow::korquad_ext_f1},
        {"korquad-gen", "em", "KorQuAD generative EM", &ResultsRow::korquad_gen_em},
        {"korquad-gen", "f1", "KorQuAD generative F1", &ResultsRow::korquad_gen_f1},
        {"summarization", "rouge-l-f1", "Summarization Rouge-L F1", &ResultsRow::summarization_rouge_l_f1},
    };
    return scores;
}

std::string task_data_text(const ResultsRow& row, const std::string& task) {
    const ScoreProvenance* provenance = provenance_of(row, task);
    return provenance ? provenance->describe() : kProvenanceNotRecorded;
}

std::string score_provenance_text(const ResultsRow& row, const DownstreamScore& score) {
    const std::optional<double>& value = row.*score.value;
    if (!value) return "";
    std::ostringstream text;
    text << score.title << " " << std::fixed << std::setprecision(2) << *value;
    const ScoreProvenance* provenance = provenance_of(row, score.task);
    return text.str() + (provenance ? " " + provenance->describe() : std::string(": ") + kProvenanceNotRecorded);
}

std::optional<double> study_average(const ResultsRow& row) {
    if (!row.klue_nli_accuracy || !row.korquad_ext_f1 || !row.korquad_gen_f1 || !row.summarization_rouge_l_f1) {
        return std::nullopt;
    }
    return (*row.klue_nli_accuracy + *row.korquad_ext_f1 + *row.korquad_gen_f1 + *row.summarization_rouge_l_f1) / 4.0;
}

bool is_default_reference(const RunRecord& run) { return run.pipeline == "B" && run.status == RunStatus::done; }

ResultsTable build_results_table(Store& store, const std::string& reference) {
    ResultsTable table;
    const std::vector<RunSummary> summaries = store.summaries();
    const RunSummary* base = nullptr;
    for (const auto& s : summaries) {
        const bool named = !reference.empty() && s.run.name == reference;
        const bool default_base = reference.empty() && is_default_reference(s.run);
        if (named || default_base) base = &s;
    }
    if (base) table.reference_run = base->run.name, table.reference_loss = base->valid_loss;
    for (const auto& s : summaries) {
        ResultsRow row = row_of(store, s);
        if (base && base->wall_seconds > 0) row.ratio_to_reference_pct = 100.0 * s.wall_seconds / base->wall_seconds;
        if (base && base->flops > 0) row.flops_ratio_pct = 100.0 * s.flops / base->flops;
        if (table.reference_loss) {
            row.reach = time_to_reach(store.metrics(s.run.id), *table.reference_loss);
            if (row.reach.hours && base->wall_seconds > 0) {
                row.reach_ratio_pct = 100.0 * *row.reach.hours * 3600.0 / base->wall_seconds;
            }
            if (row.reach.flops && base->flops > 0) row.reach_flops_ratio_pct = 100.0 * *row.reach.flops / base->flops;
        }
        table.rows.push_back(row);
    }
    add_external_rows(store, table);
    return table;
}

// --- Export: one column list serves CSV, Markdown and LaTeX.

namespace {

std::string fixed(const std::optional<double>& value, int precision) {
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

struct Column {
    std::string header;  // CSV header, units in the name
    std::string title;   // Markdown and LaTeX
    bool table2;         // one of the study's own columns (shown in Markdown and LaTeX)
    std::function<std::string(const ResultsRow&, int n)> cell;
};

// The data behind a task's scores, one field of one of its files a column (klue_nli_data, ...);
// empty where the row has no score of the task or its provenance was not recorded.
std::vector<Column> task_data_columns(const std::string& task) {
    std::string prefix = task;
    std::replace(prefix.begin(), prefix.end(), '-', '_');
    using Field = std::function<std::string(const ScoreProvenance&)>;
    const std::vector<std::pair<std::string, Field>> fields = {
        {"data", [](const ScoreProvenance& p) { return p.eval_file().path; }},
        {"hash", [](const ScoreProvenance& p) { return p.eval_file().hash; }},
        {"bytes", [](const ScoreProvenance& p) { return std::to_string(p.eval_file().bytes); }},
        {"examples", [](const ScoreProvenance& p) { return std::to_string(p.eval_examples); }},
        {"split", [](const ScoreProvenance& p) { return p.split(); }},
        {"train_data", [](const ScoreProvenance& p) { return p.train_file.path; }},
        {"train_hash", [](const ScoreProvenance& p) { return p.train_file.hash; }},
        {"train_bytes", [](const ScoreProvenance& p) { return std::to_string(p.train_file.bytes); }},
        {"train_examples", [](const ScoreProvenance& p) { return std::to_string(p.train_examples); }},
    };
    std::vector<Column> data_columns;
    for (const auto& [name, field] : fields) {
        const bool split = name == "split";
        data_columns.push_back({prefix + "_" + name, task + " " + name, false, [=](const ResultsRow& r, int) {
                                    const ScoreProvenance* provenance = provenance_of(r, task);
                                    if (provenance) return field(*provenance);
                                    return split && has_scores(r, task) ? std::string(kProvenanceNotRecorded) : std::string();
                                }});
    }
    return data_columns;
}

std::vector<Column> all_task_data_columns() {
    std::vector<Column> list;
    for (const std::string& task : score_tasks()) {
        for (Column& column : task_data_columns(task)) list.push_back(std::move(column));
    }
    return list;
}

// The study's columns, then the run's identity.
std::vector<Column> run_columns() {
    return {
        {"n", "n", true, [](const ResultsRow&, int n) { return std::to_string(n); }},
        {"model", "Model", true, [](const ResultsRow& r, int) { return r.pipeline; }},
        {"train_epochs_or_steps", "Epochs/steps", true, [](const ResultsRow& r, int) { return r.budget; }},
        {"train_time_h", "Time (h)", true, [](const ResultsRow& r, int) { return fixed(r.train_hours, 4); }},
        {"ratio_to_base_pct", "Ratio (%)", true, [](const ResultsRow& r, int) { return fixed(r.ratio_to_reference_pct, 2); }},
        {"valid_loss", "Valid loss", true, [](const ResultsRow& r, int) { return fixed(r.valid_loss, 4); }},
        {"klue_nli_acc", "NLI acc", true, [](const ResultsRow& r, int) { return fixed(r.klue_nli_accuracy, 2); }},
        {"korquad_ext_em", "Ext EM", true, [](const ResultsRow& r, int) { return fixed(r.korquad_ext_em, 2); }},
        {"korquad_ext_f1", "Ext F1", true, [](const ResultsRow& r, int) { return fixed(r.korquad_ext_f1, 2); }},
        {"korquad_gen_em", "Gen EM", true, [](const ResultsRow& r, int) { return fixed(r.korquad_gen_em, 2); }},
        {"korquad_gen_f1", "Gen F1", true, [](const ResultsRow& r, int) { return fixed(r.korquad_gen_f1, 2); }},
        {"summarization_rougeL_f1", "Rouge-L F1", true, [](const ResultsRow& r, int) { return fixed(r.summarization_rouge_l_f1, 2); }},
        {"avg_score", "Avg", true, [](const ResultsRow& r, int) { return fixed(r.average_score, 2); }},
        {"source", "Source", false, [](const ResultsRow& r, int) { return r.source; }},
        {"run", "Run", false, [](const ResultsRow& r, int) { return r.source.empty() ? r.run : ""; }},
        {"run_id", "Run id", false, [](const ResultsRow& r, int) { return r.run_id ? std::to_string(r.run_id) : ""; }},
        {"status", "Status", false, [](const ResultsRow& r, int) { return r.status ? to_string(*r.status) : "external"; }},
        {"seed", "Seed", false, [](const ResultsRow& r, int) { return r.source.empty() ? std::to_string(r.seed) : ""; }},
        {"started_at", "Started", false, [](const ResultsRow& r, int) { return r.started_at; }},
        {"experiment_hash", "Experiment hash", false, [](const ResultsRow& r, int) { return r.experiment_hash; }},
    };
}

// When the run first reached the reference's final loss, and its FLOPs.
std::vector<Column> reach_columns() {
    return {
        {"reach_base_loss_h", "Reach (h)", false, [](const ResultsRow& r, int) { return fixed(r.reach.hours, 4); }},
        {"reach_base_loss_steps", "Reach (steps)", false, [](const ResultsRow& r, int) { return fixed(r.reach.steps, 1); }},
        {"reach_base_loss_flops", "Reach (FLOPs)", false, [](const ResultsRow& r, int) { return scientific(r.reach.flops); }},
        {"reach_ratio_pct", "Reach (%)", false, [](const ResultsRow& r, int) { return fixed(r.reach_ratio_pct, 2); }},
        {"train_flops", "FLOPs", false, [](const ResultsRow& r, int) { return scientific(r.train_flops); }},
        {"flops_ratio_pct", "FLOPs ratio (%)", false, [](const ResultsRow& r, int) { return fixed(r.flops_ratio_pct, 2); }},
        {"reach_flops_ratio_pct", "Reach FLOPs (%)", false,
         [](const ResultsRow& r, int) { return fixed(r.reach_flops_ratio_pct, 2); }},
    };
}

const std::vector<Column>& columns() {
    static const std::vector<Column> list = [] {
        std::vector<Column> all = run_columns();
        for (Column& column : all_task_data_columns()) all.push_back(std::move(column));
        for (Column& column : reach_columns()) all.push_back(std::move(column));
        return all;
    }();
    return list;
}

std::string csv_field(const std::string& text) {
    if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
    std::string out = "\"";
    for (char c : text) out += c == '"' ? std::string("\"\"") : std::string(1, c);
    return out + "\"";
}

// Rows, each with its number, written by `line` with the cells of `shown`, in that order; the
// header row has the columns' titles, or their CSV headers with `csv_headers`.
std::string render(const ResultsTable& table, const std::vector<const Column*>& shown, bool csv_headers,
                   const std::function<std::string(const std::vector<std::string>&)>& line) {
    std::vector<std::string> header;
    for (const Column* c : shown) header.push_back(csv_headers ? c->header : c->title);
    std::string out = line(header);
    int n = 0;
    for (const auto& row : table.rows) {
        ++n;
        std::vector<std::string> cells;
        for (const Column* c : shown) cells.push_back(c->cell(row, n));
        out += line(cells);
    }
    return out;
}

// The columns `keep` accepts, in the list's order.
std::vector<const Column*> columns_where(const std::function<bool(const Column&)>& keep) {
    std::vector<const Column*> shown;
    for (const auto& c : columns()) {
        if (keep(c)) shown.push_back(&c);
    }
    return shown;
}

// The columns with these CSV headers, in this order.
std::vector<const Column*> columns_named(const std::vector<std::string>& names) {
    std::vector<const Column*> shown;
    for (const auto& name : names) {
        auto it = std::find_if(columns().begin(), columns().end(), [&](const Column& c) { return c.header == name; });
        if (it == columns().end()) throw std::invalid_argument("results table: no column '" + name + "'");
        shown.push_back(&*it);
    }
    return shown;
}

std::vector<const Column*> table2_columns() { return columns_where([](const Column& c) { return c.table2; }); }

std::string joined(const std::vector<std::string>& cells, const std::string& separator,
                   const std::function<std::string(const std::string&)>& escape) {
    std::string out;
    for (size_t i = 0; i < cells.size(); ++i) out += (i ? separator : "") + escape(cells[i]);
    return out;
}

std::string latex_escape(const std::string& text) {
    std::string out;
    for (char c : text) {
        if (c == '\\') {
            out += "\\textbackslash{}";
        } else if (c == '~' || c == '^') {
            out += c == '~' ? "\\textasciitilde{}" : "\\textasciicircum{}";
        } else {
            const bool special = std::string("_%&#${}").find(c) != std::string::npos;
            out += special ? std::string("\\") + c : std::string(1, c);
        }
    }
    return out;
}

// "run, task: what its scores were computed on", for every score of this workspace's runs.
std::vector<std::string> score_data_lines(const ResultsTable& table) {
    std::vector<std::string> lines;
    for (const ResultsRow& row : table.rows) {
        if (!row.source.empty()) continue;  // imported rows have no data files here
        for (const std::string& task : score_tasks()) {
            if (has_scores(row, task)) lines.push_back(row.run + ", " + task + ": " + task_data_text(row, task));
        }
    }
    return lines;
}

const char* kScoreDataHeading = "Data behind the downstream scores:";

}  // namespace

std::string results_csv(const ResultsTable& table) {
    return render(table, columns_where([](const Column&) { return true; }), true,
                  [](const std::vector<std::string>& cells) { return joined(cells, ",", csv_field) + "\r\n"; });
}

std::string results_markdown(const ResultsTable& table, const std::vector<std::string>& names) {
    const std::vector<const Column*> shown = names.empty() ? table2_columns() : columns_named(names);
    bool header = true;
    std::string data;
    for (const std::string& line : score_data_lines(table)) data += "- " + line + "\n";
    if (!data.empty()) data = std::string("\n") + kScoreDataHeading + "\n\n" + data;
    return render(table, shown, false, [&](const std::vector<std::string>& cells) {
        std::string line = "| " + joined(cells, " | ", [](const std::string& s) { return s; }) + " |\n";
        if (header) {
            line += "|";
            for (size_t i = 0; i < cells.size(); ++i) line += i < 3 ? "---|" : "---:|";  // numbers right-aligned
            line += "\n";
        }
        header = false;
        return line;
    }) + data;
}

std::string results_latex(const ResultsTable& table) {
    bool header = true;
    const std::string body = render(table, table2_columns(), false, [&](const std::vector<std::string>& cells) {
        std::string line = joined(cells, " & ", latex_escape) + " \\\\\n";
        if (header) line += "\\midrule\n";
        header = false;
        return line;
    });
    size_t count = 0;
    for (const auto& c : columns()) count += c.table2 ? 1 : 0;
    std::string data;
    for (const std::string& line : score_data_lines(table)) data += "\\item " + latex_escape(line) + "\n";
    if (!data.empty()) {
        data = std::string("\n\\par\\medskip\\noindent ") + kScoreDataHeading + "\n\\begin{itemize}\n" + data +
               "\\end{itemize}\n";
    }
    return "\\begin{tabular}{lll" + std::string(count - 3, 'r') + "}\n\\toprule\n" + body +
           "\\bottomrule\n\\end{tabular}\n" + data;
}

// --- Import

namespace {

// One CSV record (RFC 4180: quoted fields, doubled quotes); no newlines inside fields.
std::vector<std::string> csv_fields(const std::string& line) {
    std::vector<std::string> fields(1);
    bool quoted = false;
    for (size_t i = 0; i < line.size(); ++i) {
        const char c = line[i];
        if (quoted && c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
            fields.back() += '"';
            ++i;
        } else if (c == '"') {
            quoted = !quoted;
        } else if (c == ',' && !quoted) {
            fields.emplace_back();
        } else if (c != '\r') {
            fields.back() += c;
        }
    }
    return fields;
}

using Setter = std::function<void(ExternalResult&, std::optional<double>)>;

const std::map<std::string, Setter>& number_columns() {
    static const std::map<std::string, Setter> setters = {
        {"train_time_h", [](ExternalResult& r, std::optional<double> v) { r.train_time_h = v; }},
        {"valid_loss", [](ExternalResult& r, std::optional<double> v) { r.valid_loss = v; }},
        {"klue_nli_acc", [](ExternalResult& r, std::optional<double> v) { r.klue_nli_accuracy = v; }},
        {"korquad_ext_em", [](ExternalResult& r, std::optional<double> v) { r.korquad_ext_em = v; }},
        {"korquad_ext_f1", [](ExternalResult& r, std::optional<double> v) { r.korquad_ext_f1 = v; }},
        {"korquad_gen_em", [](ExternalResult& r, std::optional<double> v) { r.korquad_gen_em = v; }},
        {"korquad_gen_f1", [](ExternalResult& r, std::optional<double> v) { r.korquad_gen_f1 = v; }},
        {"summarization_rougeL_f1", [](ExternalResult& r, std::optional<double> v) { r.summarization_rouge_l_f1 = v; }},
    };
    return setters;
}

// Derived or provenance columns of an export: read past, never trusted.
const std::set<std::string> kIgnoredColumns = {"n", "ratio_to_base_pct", "avg_score", "source", "run", "run_id",
                                               "status", "seed", "started_at", "experiment_hash", "reach_base_loss_h",
                                               "reach_base_loss_steps", "reach_base_loss_flops", "reach_ratio_pct",
                                               "train_flops", "flops_ratio_pct", "reach_flops_ratio_pct"};

bool is_task_data_column(const std::string& header) {
    for (const Column& column : all_task_data_columns()) {
        if (column.header == header) return true;
    }
    return false;
}

// A score: a finite number ("nan" and "inf", which std::stod reads, are no one's score).
std::optional<double> number(const std::string& text, const std::string& where) {
    if (text.empty()) return std::nullopt;
    size_t used = 0;
    double value = 0;
    try {
        value = std::stod(text, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (used != text.size()) throw std::invalid_argument(where + ": '" + text + "' is not a number");
    if (!std::isfinite(value)) throw std::invalid_argument(where + ": '" + text + "' is not a finite number");
    return value;
}

// The header's columns, each named once: a second column of a name would leave one of the two
// values unread.
std::vector<std::string> header_columns(const std::string& line, const std::string& path) {
    const std::vector<std::string> header = csv_fields(line);
    std::set<std::string> seen;
    for (const std::string& column : header) {
        if (!seen.insert(column).second) throw std::invalid_argument(path + ":1: column '" + column + "' appears twice");
    }
    return header;
}

// Every field is UTF-8, as the table and the database hold only text of that encoding.
void check_utf8(const std::vector<std::string>& fields, const std::vector<std::string>& header, const std::string& where) {
    for (size_t c = 0; c < fields.size(); ++c) {
        const size_t offset = find_invalid_utf8(fields[c]);
        if (offset == std::string::npos) continue;
        const std::string column = c < header.size() ? "column '" + header[c] + "'" : "field " + std::to_string(c + 1);
        throw std::invalid_argument(where + ": " + column + ": invalid UTF-8 at byte " + std::to_string(offset + 1));
    }
}

// The file's text without the UTF-8 byte-order mark spreadsheet programs put first.
std::string text_without_bom(const std::string& path) {
    std::string text = read_text_file(path);
    if (text.rfind("\xEF\xBB\xBF", 0) == 0) text.erase(0, 3);
    return text;
}

}  // namespace

std::vector<ExternalResult> read_results_csv(const std::string& path, const std::string& source) {
    std::istringstream in(text_without_bom(path));
    std::string line;
    if (!std::getline(in, line)) throw std::invalid_argument(path + ": empty file; expected a header row");
    const std::vector<std::string> header = header_columns(line, path);
    check_utf8(header, {}, path + ":1");
    bool has_model = false;
    for (size_t c = 0; c < header.size(); ++c) {
        has_model = has_model || header[c] == "model";
        if (header[c] != "model" && header[c] != "train_epochs_or_steps" && !number_columns().count(header[c]) &&
            !kIgnoredColumns.count(header[c]) && !is_task_data_column(header[c])) {
            throw std::invalid_argument(path + ":1: unknown column '" + header[c] + "' (expected the columns of seed_table2.csv)");
        }
    }
    if (!has_model) throw std::invalid_argument(path + ":1: no 'model' column");
    std::vector<ExternalResult> rows;
    for (int number_of_line = 2; std::getline(in, line); ++number_of_line) {
        if (line.empty() || line == "\r") continue;
        const std::vector<std::string> fields = csv_fields(line);
        const std::string where = path + ":" + std::to_string(number_of_line);
        if (fields.size() != header.size()) {
            throw std::invalid_argument(where + ": " + std::to_string(fields.size()) + " fields, the header has " +
                                        std::to_string(header.size()));
        }
        check_utf8(fields, header, where);
        ExternalResult row;
        row.source = source;
        row.row_index = static_cast<int64_t>(rows.size()) + 1;
        for (size_t c = 0; c < header.size(); ++c) {
            if (header[c] == "model") row.model = fields[c];
            if (header[c] == "train_epochs_or_steps") row.budget = fields[c];
            auto setter = number_columns().find(header[c]);
            if (setter != number_columns().end()) setter->second(row, number(fields[c], where + ": column '" + header[c] + "'"));
        }
        if (row.model.empty()) throw std::invalid_argument(where + ": column 'model' is empty");
        rows.push_back(row);
    }
    return rows;
}

}  // namespace gs
