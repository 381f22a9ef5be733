#include "core/store/store.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <cstdlib>

#include "core/common/hash.h"

namespace gs {

namespace {

// Each entry moves the schema one version forward; never edit a released entry, append one.
const std::vector<std::string>& migrations() {
    static const std::vector<std::string> steps = {
        R"sql(
CREATE TABLE experiments (
  id INTEGER PRIMARY KEY, name TEXT NOT NULL, json TEXT NOT NULL, hash TEXT NOT NULL UNIQUE,
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')));
CREATE TABLE runs (
  id INTEGER PRIMARY KEY, experiment_id INTEGER REFERENCES experiments(id), name TEXT NOT NULL UNIQUE,
  pipeline TEXT NOT NULL, status TEXT NOT NULL, device TEXT, host TEXT, app_version TEXT,
  libtorch_version TEXT, cuda_version TEXT, seed INTEGER, git_commit TEXT, directory TEXT,
  started_at TEXT, ended_at TEXT, error TEXT);
CREATE TABLE stages (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE, stage_index INTEGER NOT NULL,
  size TEXT NOT NULL, config_json TEXT, budget TEXT, parameters INTEGER, start_step INTEGER, end_step INTEGER,
  PRIMARY KEY (run_id, stage_index));
CREATE TABLE growth_events (
  id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  stage_index INTEGER NOT NULL, step INTEGER NOT NULL, operator TEXT NOT NULL, valid_loss_before REAL,
  valid_loss_after REAL, probe_loss_before REAL, probe_loss_after REAL, probe_max_logit_difference REAL,
  seconds REAL, plan_json TEXT);
CREATE TABLE metrics (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE, stage_index INTEGER NOT NULL,
  step INTEGER NOT NULL, tokens INTEGER, flops REAL, wall_seconds REAL, train_loss REAL, valid_loss REAL,
  learning_rate REAL, gradient_norm REAL, step_seconds REAL);
CREATE INDEX metrics_by_run ON metrics(run_id, step);
CREATE TABLE checkpoints (
  id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  stage_index INTEGER NOT NULL, step INTEGER NOT NULL, path TEXT NOT NULL, kind TEXT NOT NULL,
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')));
CREATE TABLE downstream_results (
  id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE, task TEXT NOT NULL,
  metric TEXT NOT NULL, value REAL NOT NULL, settings_json TEXT,
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')));
CREATE TABLE external_results (
  id INTEGER PRIMARY KEY, label TEXT NOT NULL, source TEXT, metric TEXT NOT NULL, value REAL NOT NULL);
CREATE TABLE latest_metrics (
  run_id INTEGER PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE, step INTEGER, tokens INTEGER, flops REAL,
  wall_seconds REAL, train_loss REAL, valid_loss REAL, best_valid_loss REAL);
-- The results table reads this one row per run instead of scanning the curves.
CREATE TRIGGER metrics_latest AFTER INSERT ON metrics BEGIN
  INSERT INTO latest_metrics (run_id, step, tokens, flops, wall_seconds, train_loss, valid_loss, best_valid_loss)
  VALUES (NEW.run_id, NEW.step, NEW.tokens, NEW.flops, NEW.wall_seconds, NEW.train_loss, NEW.valid_loss,
          NEW.valid_loss)
  ON CONFLICT (run_id) DO UPDATE SET
    step = max(step, excluded.step), tokens = max(tokens, excluded.tokens), flops = max(flops, excluded.flops),
    wall_seconds = max(wall_seconds, excluded.wall_seconds),
    train_loss = coalesce(excluded.train_loss, train_loss),
    valid_loss = coalesce(excluded.valid_loss, valid_loss),
    best_valid_loss = min(coalesce(best_valid_loss, excluded.valid_loss), coalesce(excluded.valid_loss, best_valid_loss));
END;
)sql",
        // Version 2: results imported from elsewhere (a paper's table), one row per model.
        R"sql(
DROP TABLE external_results;
CREATE TABLE external_results (
  id INTEGER PRIMARY KEY, source TEXT NOT NULL, row_index INTEGER NOT NULL, model TEXT NOT NULL, budget TEXT,
  train_time_h REAL, valid_loss REAL, klue_nli_acc REAL, korquad_ext_em REAL, korquad_ext_f1 REAL,
  korquad_gen_em REAL, korquad_gen_f1 REAL, summarization_rouge_l_f1 REAL,
  imported_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
  UNIQUE (source, row_index));
)sql",
        // Version 3: runs submitted to a cluster scheduler, each with its own database until merged.
        R"sql(
CREATE TABLE cluster_jobs (
  id INTEGER PRIMARY KEY, run_name TEXT NOT NULL, scheduler TEXT NOT NULL, job_id TEXT NOT NULL,
  script TEXT NOT NULL, database TEXT NOT NULL, depends_on TEXT, state TEXT NOT NULL,
  submitted_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')), merged_at TEXT);
)sql",
        // Version 4: which data produced each downstream score (ScoreProvenance's JSON); NULL for
        // the scores stored before.
        R"sql(
ALTER TABLE downstream_results ADD COLUMN provenance_json TEXT;
)sql",
    };
    return steps;
}

SqlValue optional_value(const std::optional<double>& value) {
    if (value) return *value;
    return std::monostate{};
}

// The columns read_metric reads; queries add theirs.
const std::string kMetricColumns =
    "stage_index, step, tokens, flops, wall_seconds, train_loss, valid_loss, learning_rate, gradient_norm, step_seconds";

MetricRow read_metric(const SqlStatement& s, int64_t run_id) {
    MetricRow m;
    m.run_id = run_id, m.stage_index = s.integer("stage_index"), m.step = s.integer("step");
    m.tokens = s.integer("tokens"), m.flops = s.real("flops"), m.wall_seconds = s.real("wall_seconds");
    m.train_loss = s.optional_real("train_loss"), m.valid_loss = s.optional_real("valid_loss");
    m.learning_rate = s.optional_real("learning_rate"), m.gradient_norm = s.optional_real("gradient_norm");
    m.step_seconds = s.optional_real("step_seconds");
    return m;
}

SqlValue text_or_null(const std::string& text) {
    if (text.empty()) return std::monostate{};
    return text;
}

// The columns read_run reads, each under its own name also where runs is joined to another table.
const std::string kRunColumns =
    "runs.id AS id, runs.experiment_id AS experiment_id, runs.name AS name, runs.pipeline AS pipeline, "
    "runs.status AS status, runs.device AS device, runs.host AS host, runs.app_version AS app_version, "
    "runs.libtorch_version AS libtorch_version, runs.cuda_version AS cuda_version, runs.seed AS seed, "
    "runs.git_commit AS git_commit, runs.directory AS directory, runs.started_at AS started_at, "
    "runs.ended_at AS ended_at, runs.error AS error";

}  // namespace

namespace {

// The tables of the file besides SQLite's own.
std::vector<std::string> table_names(SqlDatabase& db) {
    SqlStatement statement = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name");
    std::vector<std::string> names;
    while (statement.step()) names.push_back(statement.text("name"));
    return names;
}

// A database another program made is refused before anything is written to it: adding the
// workspace's tables would change someone else's file. A workspace has a schema version and its
// runs table; a new file has no tables at all.
void check_is_workspace(SqlDatabase& db) {
    const std::vector<std::string> tables = table_names(db);
    if (tables.empty()) return;
    SqlStatement version = db.prepare("PRAGMA user_version");
    version.step();
    if (version.integer("user_version") > 0 && std::find(tables.begin(), tables.end(), "runs") != tables.end()) return;
    std::string listed;
    for (size_t i = 0; i < tables.size() && i < 5; ++i) listed += (i ? ", " : "") + tables[i];
    if (tables.size() > 5) listed += ", ...";
    throw StoreError(db.path() + ": not a GrowthStudio database (it holds other tables: " + listed + "); nothing was changed");
}

// Respects the permission bits even for root (who could write anyway): a database the user
// made read-only stays untouched. A file of another program is refused before it is opened for
// writing, since opening it so already changes its journal mode.
const std::string& writable_path(const std::string& path) {
    const std::string folder = std::filesystem::path(path).parent_path().string();
    if (!folder.empty()) std::filesystem::create_directories(folder);
    if (::access(folder.empty() ? "." : folder.c_str(), W_OK) != 0) {
        throw StoreError(path + ": the database's folder is read-only; nothing was changed");
    }
    struct stat info {};
    if (::stat(path.c_str(), &info) != 0) return path;  // a new database
    if ((info.st_mode & 0222) == 0 || ::access(path.c_str(), W_OK) != 0) {
        throw StoreError(path + ": the database is read-only; nothing was changed");
    }
    if (info.st_size > 0) {
        SqlDatabase existing(path, /*create=*/false, SqlAccess::read_only);
        existing.wait_when_busy(kWriterBusyTimeoutMs);  // another process may be creating it right now
        check_is_workspace(existing);
    }
    return path;
}

// A command that only reads needs a database that is there, and creates none.
const std::string& existing_path(const std::string& path) {
    struct stat info {};
    if (::stat(path.c_str(), &info) != 0) throw StoreError(path + ": no such database; nothing was created");
    if (S_ISDIR(info.st_mode)) throw StoreError(path + ": is a folder, not a database file");
    return path;
}

}  // namespace

template <typename Row, typename Read>
std::vector<Row> Store::query(const std::string& sql, const std::vector<SqlValue>& parameters, Read read) {
    SqlStatement statement = db_.prepare(sql);
    statement.bind(parameters);
    std::vector<Row> rows;
    while (statement.step()) rows.push_back(read(statement));
    return rows;
}

std::string default_database_path() {
    const char* data_home = std::getenv("XDG_DATA_HOME");
    const char* home = std::getenv("HOME");
    const std::string base = data_home && *data_home ? data_home : std::string(home ? home : ".") + "/.local/share";
    return base + "/growthstudio/workspace.db";
}

Store::Store(const std::string& path) : db_(writable_path(path), /*create=*/true) { migrate(); }

Store::Store(const std::string& path, SqlAccess access)
    : db_(access == SqlAccess::read_write ? writable_path(existing_path(path)) : existing_path(path), /*create=*/false,
          access) {
    check_is_workspace(db_);
    if (access == SqlAccess::read_write) {
        migrate();
    } else {
        file_version();  // checks that this build understands it
    }
}

// Checked to be one this build understands.
int64_t Store::file_version() {
    SqlStatement statement = db_.prepare("PRAGMA user_version");
    statement.step();
    const int64_t version = statement.integer("user_version");
    if (version > schema_version()) {
        throw StoreError(path() + ": database schema version " + std::to_string(version) +
                         " is newer than this GrowthStudio understands (" + std::to_string(schema_version()) + ")");
    }
    return version;
}

int Store::schema_version() { return static_cast<int>(migrations().size()); }

void Store::migrate() {
    if (file_version() >= schema_version()) return;  // the usual case, without taking the write lock
    // Another process may be creating or migrating the same file right now (a run and a viewer
    // opening a new database together): each step reads the version again inside its
    // write-locked transaction, so a step the other process took is not taken twice.
    while (true) {
        SqlTransaction transaction(db_);
        const int64_t version = file_version();
        if (version >= schema_version()) return;  // rolled back: nothing to write
        db_.execute(migrations()[version]);
        db_.execute("PRAGMA user_version = " + std::to_string(version + 1));
        transaction.commit();
    }
}

int64_t Store::add_experiment(const std::string& name, const std::string& json_text) {
    const std::string hash = to_hex(hash_text(json_text));
    SqlTransaction transaction(db_);
    SqlStatement find = db_.prepare("SELECT id FROM experiments WHERE hash = ?");
    if (find.bind({hash}).step()) return find.integer("id");  // rolled back: nothing was written
    db_.prepare("INSERT INTO experiments (name, json, hash) VALUES (?, ?, ?)").bind({name, json_text, hash}).run();
    const int64_t id = db_.last_insert_id();
    transaction.commit();
    return id;
}

std::string Store::experiment_json(int64_t experiment_id) {
    SqlStatement statement = db_.prepare("SELECT json FROM experiments WHERE id = ?");
    if (!statement.bind({experiment_id}).step()) throw StoreError(path() + ": no experiment " + std::to_string(experiment_id));
    return statement.text("json");
}

int64_t Store::create_run(const RunRecord& r) {
    SqlStatement insert = db_.prepare(
        "INSERT INTO runs (experiment_id, name, pipeline, status, device, host, app_version, libtorch_version, "
        "cuda_version, seed, git_commit, directory, started_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, COALESCE(?, strftime('%Y-%m-%dT%H:%M:%SZ', 'now')))");
    SqlValue experiment = r.experiment_id > 0 ? SqlValue(r.experiment_id) : SqlValue(std::monostate{});
    insert.bind({experiment, r.name, r.pipeline, to_string(r.status), r.device, r.host, r.app_version, r.libtorch_version,
                 text_or_null(r.cuda_version), r.seed, text_or_null(r.git_commit), r.directory,
                 text_or_null(r.started_at)});
    try {
        insert.run();
    } catch (const StoreError& error) {
        if (find_run(r.name)) throw StoreError(path() + ": a run named '" + r.name + "' exists already");
        throw;
    }
    return db_.last_insert_id();
}

void Store::set_run_status(int64_t run_id, RunStatus status, const std::string& error) {
    db_.prepare("UPDATE runs SET status = ?, error = ?, ended_at = CASE WHEN ? THEN strftime('%Y-%m-%dT%H:%M:%SZ', "
                "'now') ELSE NULL END WHERE id = ?")
        .bind({to_string(status), text_or_null(error), int64_t{is_finished(status)}, run_id})
        .run();
}

void Store::set_run_ended_at(int64_t run_id, const std::string& ended_at) {
    db_.prepare("UPDATE runs SET ended_at = ? WHERE id = ?").bind({text_or_null(ended_at), run_id}).run();
}

RunRecord Store::read_run(const SqlStatement& s) {
    RunRecord r;
    r.id = s.integer("id"), r.experiment_id = s.integer("experiment_id"), r.name = s.text("name");
    r.pipeline = s.text("pipeline"), r.device = s.text("device"), r.host = s.text("host");
    r.app_version = s.text("app_version"), r.libtorch_version = s.text("libtorch_version");
    r.cuda_version = s.text("cuda_version"), r.seed = s.integer("seed"), r.git_commit = s.text("git_commit");
    r.directory = s.text("directory"), r.started_at = s.text("started_at"), r.ended_at = s.text("ended_at");
    r.error = s.text("error");
    try {
        r.status = parse_run_status(s.text("status"));
    } catch (const std::invalid_argument& error) {
        throw StoreError(path() + ": run '" + r.name + "': " + error.what());
    }
    return r;
}

std::optional<RunRecord> Store::find_run(const std::string& name_or_id) {
    SqlStatement s = db_.prepare("SELECT " + kRunColumns + " FROM runs WHERE name = ? OR CAST(id AS TEXT) = ?");
    if (!s.bind({name_or_id, name_or_id}).step()) return std::nullopt;
    return read_run(s);
}

std::set<std::string> Store::run_names() {
    const auto names = query<std::string>("SELECT name FROM runs", {}, [](SqlStatement& s) { return s.text("name"); });
    return {names.begin(), names.end()};
}

std::vector<RunSummary> Store::summaries() {
    SqlStatement s = db_.prepare(
        "SELECT " + kRunColumns +
        ", l.step AS step, l.tokens AS tokens, l.flops AS flops, l.wall_seconds AS wall_seconds, "
        "l.train_loss AS train_loss, l.valid_loss AS valid_loss, l.best_valid_loss AS best_valid_loss "
        "FROM runs LEFT JOIN latest_metrics l ON l.run_id = runs.id ORDER BY runs.id");
    std::vector<RunSummary> rows;
    std::map<int64_t, size_t> by_id;
    while (s.step()) {
        RunSummary row;
        row.run = read_run(s);
        row.step = s.integer("step"), row.tokens = s.integer("tokens"), row.flops = s.real("flops");
        row.wall_seconds = s.real("wall_seconds"), row.train_loss = s.optional_real("train_loss");
        row.valid_loss = s.optional_real("valid_loss"), row.best_valid_loss = s.optional_real("best_valid_loss");
        by_id[row.run.id] = rows.size();
        rows.push_back(row);
    }
    SqlStatement results = db_.prepare(
        "SELECT run_id, task, metric, value, coalesce(provenance_json, '') AS provenance_json FROM downstream_results "
        "ORDER BY id");  // the latest score wins
    while (results.step()) {
        auto it = by_id.find(results.integer("run_id"));
        if (it == by_id.end()) continue;
        const std::string task = results.text("task");
        rows[it->second].results[task + "/" + results.text("metric")] = results.real("value");
        rows[it->second].task_provenance[task] = results.text("provenance_json");
    }
    return rows;
}

void Store::add_stage(const StageRecord& st) {
    db_.prepare("INSERT OR REPLACE INTO stages (run_id, stage_index, size, config_json, budget, parameters, start_step) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)")
        .bind({st.run_id, st.stage_index, st.size, st.config_json, st.budget, st.parameters, st.start_step})
        .run();
}

void Store::end_stage(int64_t run_id, int64_t stage_index, int64_t end_step) {
    db_.prepare("UPDATE stages SET end_step = ? WHERE run_id = ? AND stage_index = ?")
        .bind({end_step, run_id, stage_index})
        .run();
}

std::vector<StageRecord> Store::stages(int64_t run_id) {
    return query<StageRecord>(
        "SELECT stage_index, size, config_json, budget, parameters, start_step, end_step FROM stages WHERE run_id = ? "
        "ORDER BY stage_index",
        {run_id}, [&](const SqlStatement& s) {
            StageRecord st;
            st.run_id = run_id, st.stage_index = s.integer("stage_index"), st.size = s.text("size");
            st.config_json = s.text("config_json"), st.budget = s.text("budget"), st.parameters = s.integer("parameters");
            st.start_step = s.integer("start_step");
            if (!s.is_null("end_step")) st.end_step = s.integer("end_step");
            return st;
        });
}

void Store::add_metrics(const std::vector<MetricRow>& rows) {
    SqlTransaction transaction(db_);
    SqlStatement insert = db_.prepare(
        "INSERT INTO metrics (run_id, stage_index, step, tokens, flops, wall_seconds, train_loss, valid_loss, "
        "learning_rate, gradient_norm, step_seconds) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    for (const MetricRow& m : rows) {
        insert.bind({m.run_id, m.stage_index, m.step, m.tokens, m.flops, m.wall_seconds, optional_value(m.train_loss),
                     optional_value(m.valid_loss), optional_value(m.learning_rate), optional_value(m.gradient_norm),
                     optional_value(m.step_seconds)})
            .run();
    }
    transaction.commit();
}

std::vector<MetricRow> Store::metrics(int64_t run_id, int64_t up_to_rowid) {
    return query<MetricRow>(
        "SELECT " + kMetricColumns + " FROM metrics WHERE run_id = ? AND rowid <= ? ORDER BY step, rowid",
        {run_id, up_to_rowid}, [&](const SqlStatement& s) { return read_metric(s, run_id); });
}

std::vector<MetricRow> Store::metrics_since(int64_t& after_rowid, std::optional<int64_t> run_id) {
    int64_t last = after_rowid;
    const SqlValue run = run_id ? SqlValue(*run_id) : SqlValue(std::monostate{});
    std::vector<MetricRow> rows = query<MetricRow>(
        "SELECT " + kMetricColumns +
            ", rowid AS metric_rowid, run_id FROM metrics WHERE rowid > ? AND (?2 IS NULL OR run_id = ?2) ORDER BY rowid",
        {after_rowid, run}, [&](const SqlStatement& s) {
            last = std::max(last, s.integer("metric_rowid"));
            return read_metric(s, s.integer("run_id"));
        });
    after_rowid = last;
    return rows;
}

int64_t Store::metric_count(int64_t run_id, int64_t up_to_rowid) {
    SqlStatement statement = db_.prepare("SELECT count(*) AS row_count FROM metrics WHERE run_id = ? AND rowid <= ?");
    statement.bind({run_id, up_to_rowid}).step();
    return statement.integer("row_count");
}

std::optional<MetricRow> Store::metric_at(int64_t rowid) {
    auto rows = query<MetricRow>(
        "SELECT " + kMetricColumns + ", run_id FROM metrics WHERE rowid = ?",
        {rowid}, [](const SqlStatement& s) { return read_metric(s, s.integer("run_id")); });
    if (rows.empty()) return std::nullopt;
    return rows.front();
}

int64_t Store::last_metric_rowid() {
    SqlStatement statement = db_.prepare("SELECT coalesce(max(rowid), 0) AS last_rowid FROM metrics");
    statement.step();
    return statement.integer("last_rowid");
}

void Store::add_growth_event(const GrowthEventRecord& e) {
    db_.prepare("INSERT INTO growth_events (run_id, stage_index, step, operator, valid_loss_before, valid_loss_after, "
                "probe_loss_before, probe_loss_after, probe_max_logit_difference, seconds, plan_json) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
        .bind({e.run_id, e.stage_index, e.step, e.op, optional_value(e.valid_loss_before), optional_value(e.valid_loss_after),
               e.probe_loss_before, e.probe_loss_after, e.probe_max_logit_difference, e.seconds, e.plan_json})
        .run();
}

std::vector<GrowthEventRecord> Store::growth_events(int64_t run_id) {
    return query<GrowthEventRecord>(
        "SELECT stage_index, step, operator, valid_loss_before, valid_loss_after, probe_loss_before, probe_loss_after, "
        "probe_max_logit_difference, seconds, plan_json FROM growth_events WHERE run_id = ? ORDER BY step, id",
        {run_id}, [&](const SqlStatement& s) {
            GrowthEventRecord e;
            e.run_id = run_id, e.stage_index = s.integer("stage_index"), e.step = s.integer("step");
            e.op = s.text("operator"), e.valid_loss_before = s.optional_real("valid_loss_before");
            e.valid_loss_after = s.optional_real("valid_loss_after"), e.probe_loss_before = s.real("probe_loss_before");
            e.probe_loss_after = s.real("probe_loss_after");
            e.probe_max_logit_difference = s.real("probe_max_logit_difference");
            e.seconds = s.real("seconds"), e.plan_json = s.text("plan_json");
            return e;
        });
}

void Store::add_checkpoint(const CheckpointRecord& c) {
    db_.prepare("INSERT INTO checkpoints (run_id, stage_index, step, path, kind) VALUES (?, ?, ?, ?, ?)")
        .bind({c.run_id, c.stage_index, c.step, c.path, to_string(c.kind)})
        .run();
}

std::vector<CheckpointRecord> Store::checkpoints(int64_t run_id) {
    return query<CheckpointRecord>(
        "SELECT stage_index, step, path, kind FROM checkpoints WHERE run_id = ? ORDER BY step, id", {run_id},
        [&](const SqlStatement& s) {
            try {
                return CheckpointRecord{run_id, s.integer("stage_index"), s.integer("step"), s.text("path"),
                                        parse_checkpoint_kind(s.text("kind"))};
            } catch (const std::invalid_argument& error) {
                throw StoreError(path() + ": checkpoint of run " + std::to_string(run_id) + ": " + error.what());
            }
        });
}

void Store::add_result(const ResultRecord& r) {
    db_.prepare("INSERT INTO downstream_results (run_id, task, metric, value, settings_json, provenance_json) "
                "VALUES (?, ?, ?, ?, ?, ?)")
        .bind({r.run_id, r.task, r.metric, r.value, r.settings_json, text_or_null(r.provenance_json)})
        .run();
}

std::vector<ResultRecord> Store::results(int64_t run_id) {
    return query<ResultRecord>(
        "SELECT task, metric, value, settings_json, coalesce(provenance_json, '') AS provenance_json "
        "FROM downstream_results WHERE run_id = ? ORDER BY id",
        {run_id}, [&](const SqlStatement& s) {
            return ResultRecord{run_id,           s.text("task"),          s.text("metric"),
                                s.real("value"), s.text("settings_json"), s.text("provenance_json")};
        });
}

void Store::replace_external_results(const std::string& source, const std::vector<ExternalResult>& rows) {
    SqlTransaction transaction(db_);
    db_.prepare("DELETE FROM external_results WHERE source = ?").bind({source}).run();
    SqlStatement insert = db_.prepare(
        "INSERT INTO external_results (source, row_index, model, budget, train_time_h, valid_loss, klue_nli_acc, "
        "korquad_ext_em, korquad_ext_f1, korquad_gen_em, korquad_gen_f1, summarization_rouge_l_f1) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    for (const ExternalResult& r : rows) {
        insert.bind({source, r.row_index, r.model, r.budget, optional_value(r.train_time_h), optional_value(r.valid_loss),
                     optional_value(r.klue_nli_accuracy), optional_value(r.korquad_ext_em), optional_value(r.korquad_ext_f1),
                     optional_value(r.korquad_gen_em), optional_value(r.korquad_gen_f1),
                     optional_value(r.summarization_rouge_l_f1)})
            .run();
    }
    transaction.commit();
}

std::vector<ExternalResult> Store::external_results() {
    return query<ExternalResult>(
        "SELECT source, row_index, model, budget, train_time_h, valid_loss, klue_nli_acc, korquad_ext_em, "
        "korquad_ext_f1, korquad_gen_em, korquad_gen_f1, summarization_rouge_l_f1 FROM external_results "
        "ORDER BY source, row_index",
        {}, [](const SqlStatement& s) {
            ExternalResult r;
            r.source = s.text("source"), r.row_index = s.integer("row_index"), r.model = s.text("model");
            r.budget = s.text("budget"), r.train_time_h = s.optional_real("train_time_h");
            r.valid_loss = s.optional_real("valid_loss"), r.klue_nli_accuracy = s.optional_real("klue_nli_acc");
            r.korquad_ext_em = s.optional_real("korquad_ext_em"), r.korquad_ext_f1 = s.optional_real("korquad_ext_f1");
            r.korquad_gen_em = s.optional_real("korquad_gen_em"), r.korquad_gen_f1 = s.optional_real("korquad_gen_f1");
            r.summarization_rouge_l_f1 = s.optional_real("summarization_rouge_l_f1");
            return r;
        });
}

std::string Store::experiment_hash(int64_t experiment_id) {
    SqlStatement statement = db_.prepare("SELECT hash FROM experiments WHERE id = ?");
    return statement.bind({experiment_id}).step() ? statement.text("hash") : std::string();
}

void Store::rewind_run(int64_t run_id, int64_t step, bool including_growth_at_step) {
    SqlTransaction transaction(db_);
    for (const char* table : {"metrics", "growth_events", "checkpoints"}) {
        db_.prepare(std::string("DELETE FROM ") + table + " WHERE run_id = ? AND step > ?").bind({run_id, step}).run();
    }
    if (including_growth_at_step) {
        db_.prepare("DELETE FROM growth_events WHERE run_id = ? AND step = ?").bind({run_id, step}).run();
        // The validation after the growth is recorded at the same step, after the stage's own.
        db_.prepare("DELETE FROM metrics WHERE run_id = ? AND step = ? AND stage_index > (SELECT min(stage_index) "
                    "FROM metrics WHERE run_id = ? AND step = ?)")
            .bind({run_id, step, run_id, step})
            .run();
    }
    // Rebuild the summary row from the curves that remain.
    db_.prepare("DELETE FROM latest_metrics WHERE run_id = ?").bind({run_id}).run();
    db_.prepare(
           "INSERT INTO latest_metrics (run_id, step, tokens, flops, wall_seconds, train_loss, valid_loss, "
           "best_valid_loss) SELECT ?, max(step), max(tokens), max(flops), max(wall_seconds), "
           "(SELECT train_loss FROM metrics WHERE run_id = ? AND train_loss IS NOT NULL ORDER BY step DESC, rowid DESC LIMIT 1), "
           "(SELECT valid_loss FROM metrics WHERE run_id = ? AND valid_loss IS NOT NULL ORDER BY step DESC, rowid DESC LIMIT 1), "
           "min(valid_loss) FROM metrics WHERE run_id = ? HAVING count(*) > 0")
        .bind({run_id, run_id, run_id, run_id})
        .run();
    transaction.commit();
}

int64_t Store::add_cluster_job(const ClusterJobRecord& job) {
    db_.prepare("INSERT INTO cluster_jobs (run_name, scheduler, job_id, script, database, depends_on, state) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)")
        .bind({job.run_name, job.scheduler, job.job_id, job.script, job.database, text_or_null(job.depends_on), job.state})
        .run();
    return db_.last_insert_id();
}

std::vector<ClusterJobRecord> Store::cluster_jobs() {
    return query<ClusterJobRecord>(
        "SELECT id, run_name, scheduler, job_id, script, database, coalesce(depends_on, '') AS depends_on, state, "
        "submitted_at, coalesce(merged_at, '') AS merged_at FROM cluster_jobs ORDER BY id",
        {}, [](SqlStatement& s) {
            ClusterJobRecord job;
            job.id = s.integer("id"), job.run_name = s.text("run_name"), job.scheduler = s.text("scheduler");
            job.job_id = s.text("job_id"), job.script = s.text("script"), job.database = s.text("database");
            job.depends_on = s.text("depends_on"), job.state = s.text("state");
            job.submitted_at = s.text("submitted_at"), job.merged_at = s.text("merged_at");
            return job;
        });
}

void Store::set_cluster_job_state(int64_t id, const std::string& state) {
    db_.prepare("UPDATE cluster_jobs SET state = ?, merged_at = CASE WHEN ? = 'merged' THEN "
                "strftime('%Y-%m-%dT%H:%M:%SZ', 'now') ELSE merged_at END WHERE id = ?")
        .bind({state, state, id})
        .run();
}

}  // namespace gs
