// The workspace database: experiments, runs, stages, growth events, metrics, checkpoints and
// results, in one SQLite file that several processes and the GUI share (WAL mode). The schema is
// versioned (PRAGMA user_version) and migrated forward on open.
#pragma once

#include <climits>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/store/sqlite.h"
#include "core/store/store_enums.h"

namespace gs {

struct RunRecord {
    int64_t id = 0;
    int64_t experiment_id = 0;
    std::string name;
    std::string pipeline;              // the study's grammar
    RunStatus status = RunStatus::queued;  // stored as its word (store_enums.h)
    std::string device, host;
    std::string app_version, libtorch_version, cuda_version;
    int64_t seed = 0;
    std::string git_commit;            // of the experiment's folder, when it is a git checkout
    std::string directory;             // where checkpoints go
    std::string started_at, ended_at;  // UTC, ISO 8601
    std::string error;
};

struct StageRecord {
    int64_t run_id = 0;
    int64_t stage_index = 0;
    std::string size;
    std::string config_json;
    std::string budget;
    int64_t parameters = 0;
    int64_t start_step = 0;
    std::optional<int64_t> end_step;
};

struct MetricRow {
    int64_t run_id = 0;
    int64_t stage_index = 0;
    int64_t step = 0;
    int64_t tokens = 0;
    double flops = 0;
    double wall_seconds = 0;
    std::optional<double> train_loss, valid_loss, learning_rate, gradient_norm, step_seconds;
};

struct GrowthEventRecord {
    int64_t run_id = 0;
    int64_t stage_index = 0;  // the stage the model grows into
    int64_t step = 0;
    std::string op;
    std::optional<double> valid_loss_before, valid_loss_after;
    double probe_loss_before = 0, probe_loss_after = 0, probe_max_logit_difference = 0;
    double seconds = 0;
    std::string plan_json;
};

struct CheckpointRecord {
    int64_t run_id = 0;
    int64_t stage_index = 0;
    int64_t step = 0;
    std::string path;
    CheckpointKind kind = CheckpointKind::interval;
};

struct ResultRecord {
    int64_t run_id = 0;
    std::string task;    // "klue-nli", "korquad-ext", ...
    std::string metric;  // "accuracy", "f1", ...
    double value = 0;
    std::string settings_json;
    // Which data produced it (ScoreProvenance's JSON, core/store/score_provenance.h); "" for a
    // score stored before that was recorded.
    std::string provenance_json;
};

// A row of results produced elsewhere (a paper's table, another codebase), kept apart from the
// runs of this workspace and marked as such wherever it is shown.
struct ExternalResult {
    std::string source;  // the set it belongs to, e.g. "Ko-bert2BERT Table 2"
    int64_t row_index = 0;
    std::string model;   // the pipeline name
    std::string budget;
    std::optional<double> train_time_h, valid_loss;
    std::optional<double> klue_nli_accuracy, korquad_ext_em, korquad_ext_f1, korquad_gen_em, korquad_gen_f1,
        summarization_rouge_l_f1;
};

// A run submitted to a cluster scheduler. The job writes its own database (`database`, beside
// its checkpoints) until `sync` merges it into the workspace.
struct ClusterJobRecord {
    int64_t id = 0;
    std::string run_name;
    std::string scheduler = "slurm";
    std::string job_id;       // the scheduler's
    std::string script;       // the job script's path
    std::string database;
    std::string depends_on;   // the job ids it waits for, comma-separated
    std::string state;        // "submitted", "merged"
    std::string submitted_at, merged_at;
};

// One row of the results table: a run with its latest figures.
struct RunSummary {
    RunRecord run;
    int64_t step = 0;
    int64_t tokens = 0;
    double flops = 0;
    double wall_seconds = 0;
    std::optional<double> train_loss, valid_loss, best_valid_loss;
    std::map<std::string, double> results;  // "task/metric" -> value
    // task -> the provenance JSON of its latest score ("" when not recorded).
    std::map<std::string, std::string> task_provenance;
};

// $XDG_DATA_HOME/growthstudio/workspace.db (~/.local/share/growthstudio/workspace.db).
std::string default_database_path();

class Store {
public:
    // Opens or creates the database and migrates it. A file from a newer version, a file that
    // is not a database, a database of another program (tables, but not the workspace's), or a
    // file or folder that cannot be written gives a StoreError naming the file, which is left
    // untouched.
    explicit Store(const std::string& path);
    // `SqlAccess::read_only`: an existing database read without creating, migrating or writing
    // anything (a cluster job's that someone else writes, the workspace of a command that only
    // reads, a read-only file or folder). A missing file, one of another program, or one from a
    // newer version gives a StoreError naming the file. (`read_write`: as above, for a file that
    // must exist already.)
    Store(const std::string& path, SqlAccess access);
    static int schema_version();
    // The schema version of the file: 0 while whoever creates it has not written the schema yet
    // (only a read-only Store sees that).
    int64_t file_version();
    const std::string& path() const { return db_.path(); }

    // Experiments are kept once per distinct content (hash of the JSON text).
    int64_t add_experiment(const std::string& name, const std::string& json_text);
    std::string experiment_json(int64_t experiment_id);

    int64_t create_run(const RunRecord& run);  // names are unique in a workspace
    void set_run_status(int64_t run_id, RunStatus status, const std::string& error = "");
    // A run copied from another database keeps the time it ended there.
    void set_run_ended_at(int64_t run_id, const std::string& ended_at);
    std::optional<RunRecord> find_run(const std::string& name_or_id);
    std::set<std::string> run_names();
    std::vector<RunSummary> summaries();

    void add_stage(const StageRecord& stage);
    void end_stage(int64_t run_id, int64_t stage_index, int64_t end_step);
    std::vector<StageRecord> stages(int64_t run_id);

    void add_metrics(const std::vector<MetricRow>& rows);  // one transaction
    // `up_to_rowid`: only rows stored up to that one (a snapshot consistent with metrics_since).
    std::vector<MetricRow> metrics(int64_t run_id, int64_t up_to_rowid = INT64_MAX);
    // The rows of every run (or of `run_id`) stored after `after_rowid` (updated to the last one
    // read), for views that follow live runs without reading their whole history again.
    std::vector<MetricRow> metrics_since(int64_t& after_rowid, std::optional<int64_t> run_id = std::nullopt);
    // How many rows of the run are stored up to `rowid`: fewer than a reader holds means the run
    // was rewound (resumed from a checkpoint) since it read them.
    int64_t metric_count(int64_t run_id, int64_t up_to_rowid);
    std::optional<MetricRow> metric_at(int64_t rowid);
    int64_t last_metric_rowid();
    void add_growth_event(const GrowthEventRecord& event);
    std::vector<GrowthEventRecord> growth_events(int64_t run_id);
    void add_checkpoint(const CheckpointRecord& checkpoint);
    std::vector<CheckpointRecord> checkpoints(int64_t run_id);
    void add_result(const ResultRecord& result);
    std::vector<ResultRecord> results(int64_t run_id);  // oldest first
    // Replaces the rows of `source` (a re-import does not duplicate them).
    void replace_external_results(const std::string& source, const std::vector<ExternalResult>& rows);
    std::vector<ExternalResult> external_results();
    std::string experiment_hash(int64_t experiment_id);

    int64_t add_cluster_job(const ClusterJobRecord& job);
    std::vector<ClusterJobRecord> cluster_jobs();
    void set_cluster_job_state(int64_t id, const std::string& state);

    // A resumed run continues from a checkpoint at `step`: what was recorded after it is
    // dropped, so the curves hold each step once.
    // `including_growth_at_step`: also a growth event recorded at `step` itself (it will be replayed).
    void rewind_run(int64_t run_id, int64_t step, bool including_growth_at_step = false);

private:
    void migrate();
    // Runs `sql` with `parameters` and turns each result row into a Row with `read`.
    template <typename Row, typename Read>
    std::vector<Row> query(const std::string& sql, const std::vector<SqlValue>& parameters, Read read);
    RunRecord read_run(const SqlStatement& statement);

    SqlDatabase db_;
};

}  // namespace gs
