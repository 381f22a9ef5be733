// The learning curves' data, without any widget: every run of a workspace database with its rows,
// growth events, stages and status, kept up to date by `sync()` (only the rows added since the
// last sync; a rewound run, or every run of a database file that was replaced, read whole again),
// the runs of cluster jobs not merged yet (each read from the job's own database until the
// merged run takes its place), the curves per stage as drawn (cached), the default reference and
// the time each run takes to reach the reference's final loss.
//
// The workspace is read through one long-lived read-only connection: the view never writes it
// and never creates it. A database that is missing, locked or corrupt at a sync keeps what was
// read, says why in problem(), and the next sync tries again (opening the file afresh and reading
// every run whole, since the file may have been replaced meanwhile).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/analysis/curves.h"
#include "core/cluster/job_follower.h"
#include "core/store/store.h"

namespace gs {

// A run as the curves show it.
struct CurveRun {
    std::string name;
    int64_t id = 0;
    RunStatus status = RunStatus::queued;
    std::vector<MetricRow> rows;
    std::vector<GrowthEventRecord> growth;
    std::vector<StageRecord> stages;
    // A cluster job's run not merged yet: its state ("waiting", "queued", "running", ...; ""
    // before its database could be read), why it could not be read at the last sync, and where
    // it is.
    bool cluster = false;
    std::string cluster_state, problem, database;
    int64_t generation = 0;  // the follower's: rows are extended while it stays the same
};

// How the curves are drawn: the x axis, which loss, the EMA weight, x counted from each stage's start.
struct CurveSettings {
    CurveAxis axis = CurveAxis::hours;
    CurveKind kind = CurveKind::validation;
    double smoothing = 0.0;  // 0 .. 0.99
    bool align_to_stage_start = false;
};

// One stage's curve as drawn: the raw points and the smoothed ones, both downsampled.
struct StageCurve {
    Curve raw;
    Curve shown;
};

// What a sync found.
struct CurvesChange {
    bool changed = false;              // anything drawn differs (rows, runs, statuses, cluster states)
    std::vector<std::string> added;    // runs seen for the first time
    std::vector<std::string> reread;   // runs read whole again (rewound, merged, the file replaced)
    bool problem_changed = false;      // problem() is not what it was before this sync
};

// When a run first reaches the reference's final validation loss, on the chosen axis.
struct RunReach {
    std::string run;
    bool has_validation = false;  // no validation loss yet: a run just started, a job still waiting
    std::optional<double> reach;
};
struct ReachTable {
    std::string reference;
    bool reference_known = false;       // the reference is one of the runs
    bool reference_has_validation = false;
    double target_loss = 0;             // the reference's final validation loss
    double reference_total = 0;         // where the reference ends on the axis
    std::vector<RunReach> runs;         // the other runs asked for, in that order
};

class CurvesModel {
public:
    CurvesModel();
    ~CurvesModel();
    CurvesModel(const CurvesModel&) = delete;
    CurvesModel& operator=(const CurvesModel&) = delete;

    // Forgets every run; the next sync reads `database_path` from the start.
    void open(const std::string& database_path);
    const std::string& databasePath() const { return path_; }
    // Reads what is new. Never throws: a database that cannot be read goes to problem().
    CurvesChange sync();
    // Why the last sync could not read the workspace; "" when it could.
    const std::string& problem() const { return problem_; }

    // Whether runs of cluster jobs not merged yet are read (on by default).
    void setFollowClusterJobs(bool on) { follow_cluster_jobs_ = on; }

    const std::map<std::string, CurveRun>& runs() const { return runs_; }
    const CurveRun* find(const std::string& name) const;
    // The latest finished Base run as of the last sync ("" when there is none).
    const std::string& defaultReference() const { return default_reference_; }

    // Changed in place by the view; the cached curves know which settings they were drawn for.
    CurveSettings& settings() { return settings_; }
    const CurveSettings& settings() const { return settings_; }

    // The run's curve at full resolution on the current settings: raw, or smoothed as drawn.
    Curve rawCurve(const std::string& run) const;
    Curve shownCurve(const std::string& run) const;
    // Each stage's curve as drawn; recomputed only when the run has new rows or a setting
    // changed, so a live append redraws the other runs from the cache.
    const std::map<int64_t, StageCurve>& stageCurves(const std::string& run);
    // When each of `runs` first reaches `reference`'s final validation loss (raw curves, never
    // the smoothed ones), on the current axis.
    ReachTable reachTable(const std::string& reference, const std::vector<std::string>& runs);

    // Downsampling keeps about this many buckets per stage curve: enough for a screen, spikes kept.
    static constexpr size_t kBuckets = 150;

private:
    struct CachedRun {
        std::string key;  // rows and settings it was computed for
        std::map<int64_t, StageCurve> stages;
        std::string validation_key;
        Curve validation;
    };
    struct WorkspaceRead;

    using FileIdentity = std::pair<uint64_t, uint64_t>;  // device and inode

    WorkspaceRead readWorkspace(Store& store, bool whole);
    bool readWhole(Store& store, const RunSummary& summary, bool has_new_rows) const;
    void apply(WorkspaceRead& read, CurvesChange& change);
    void followClusterJobs(const std::vector<ClusterJobRecord>& jobs, CurvesChange& change);
    void takeFollowedRun(const std::string& name, const JobRunFollower& follower);
    const Curve& validationCurve(const CurveRun& run);

    std::string path_;
    std::unique_ptr<Store> reader_;
    FileIdentity reader_file_;  // the file reader_ opened
    std::string problem_;
    std::map<std::string, CurveRun> runs_;
    int64_t last_rowid_ = 0;  // the metric rows read so far: a sync fetches only newer ones
    std::string default_reference_;
    std::map<std::string, CachedRun> cache_;
    std::map<std::string, JobRunFollower> followers_;  // by run name: the cluster jobs not merged yet
    bool follow_cluster_jobs_ = true;
    CurveSettings settings_;
};

}  // namespace gs
