#include "core/analysis/curves_model.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <set>
#include <utility>

#include "core/store/results_table.h"

namespace gs {

namespace {

// The file at `path` now. A deleted database is reported here: a connection still open on it
// would go on reading the deleted file as if nothing had happened.
std::pair<uint64_t, uint64_t> identify_file(const std::string& path) {
    struct stat info {};
    if (::stat(path.c_str(), &info) != 0) {
        throw StoreError(path + ": " + (errno == ENOENT ? std::string("no such database file") : std::strerror(errno)));
    }
    return {static_cast<uint64_t>(info.st_dev), static_cast<uint64_t>(info.st_ino)};
}

}  // namespace

// Everything one sync reads from the workspace, applied to the runs only once all of it was read,
// so that a read failing halfway loses nothing and skips no row.
struct CurvesModel::WorkspaceRead {
    int64_t last_rowid = 0;
    std::vector<RunSummary> summaries;
    std::vector<MetricRow> new_rows;                           // of the runs read in part
    std::map<int64_t, std::vector<MetricRow>> whole_rows;      // run id -> its rows up to last_rowid
    std::map<int64_t, std::vector<GrowthEventRecord>> growth;  // by run id
    std::map<int64_t, std::vector<StageRecord>> stages;        // by run id
    std::vector<ClusterJobRecord> jobs;
};

CurvesModel::CurvesModel() = default;
CurvesModel::~CurvesModel() = default;

void CurvesModel::open(const std::string& database_path) {
    path_ = database_path;
    reader_.reset();
    problem_.clear();
    runs_.clear();
    last_rowid_ = 0;
    default_reference_.clear();
    cache_.clear();
    followers_.clear();
}

const CurveRun* CurvesModel::find(const std::string& name) const {
    auto it = runs_.find(name);
    return it == runs_.end() ? nullptr : &it->second;
}

CurvesChange CurvesModel::sync() {
    CurvesChange change;
    if (path_.empty()) return change;
    const std::string before = problem_;
    try {
        const FileIdentity file = identify_file(path_);
        if (reader_ && reader_file_ != file) reader_.reset();  // replaced: the connection reads the old file
        // A file opened afresh may be another one than the rows held came from (a deleted file's
        // inode can come back with the next file), so everything is read again.
        const bool whole = !reader_;
        if (!reader_) {
            reader_ = std::make_unique<Store>(path_, SqlAccess::read_only);
            reader_file_ = file;
        }
        WorkspaceRead read = readWorkspace(*reader_, whole);
        apply(read, change);
        followClusterJobs(read.jobs, change);
        problem_.clear();
    } catch (const std::exception& error) {
        reader_.reset();  // opened afresh at the next sync: the lock may be gone, the file back
        problem_ = error.what();
    }
    change.problem_changed = problem_ != before;
    return change;
}

// The rows added since the last sync, in one read (only those after the last row seen); runs
// seen for the first time or rewound are read whole, up to the same row. `whole`: every run.
CurvesModel::WorkspaceRead CurvesModel::readWorkspace(Store& store, bool whole) {
    WorkspaceRead read;
    read.last_rowid = last_rowid_;
    if (whole) {
        read.last_rowid = store.last_metric_rowid();
    } else {
        read.new_rows = store.metrics_since(read.last_rowid);
    }
    std::set<int64_t> runs_with_new_rows;
    for (const MetricRow& row : read.new_rows) runs_with_new_rows.insert(row.run_id);
    read.summaries = store.summaries();
    for (const RunSummary& summary : read.summaries) {
        const int64_t id = summary.run.id;
        if (whole || readWhole(store, summary, runs_with_new_rows.count(id) > 0)) {
            read.whole_rows[id] = store.metrics(id, read.last_rowid);
        }
        read.growth[id] = store.growth_events(id);
        read.stages[id] = store.stages(id);
    }
    if (follow_cluster_jobs_) read.jobs = store.cluster_jobs();
    return read;
}

// Whether the rows held for the run must be replaced: a run not seen before (or a cluster job's
// run, now merged), or one resumed from a checkpoint since (its rows after it were dropped).
bool CurvesModel::readWhole(Store& store, const RunSummary& summary, bool has_new_rows) const {
    const CurveRun* known = find(summary.run.name);
    if (!known || known->cluster || known->id != summary.run.id) return true;
    if (known->rows.empty()) return false;
    if (summary.step < known->rows.back().step) return true;  // rewound, nothing new written yet
    // Rewound, and new rows written since: fewer of the rows read before are still there.
    return has_new_rows && store.metric_count(summary.run.id, last_rowid_) != static_cast<int64_t>(known->rows.size());
}

void CurvesModel::apply(WorkspaceRead& read, CurvesChange& change) {
    last_rowid_ = read.last_rowid;
    default_reference_.clear();
    std::map<int64_t, CurveRun*> extended;  // by run id: the runs the new rows go to
    for (const RunSummary& summary : read.summaries) {
        const int64_t id = summary.run.id;
        auto [it, added] = runs_.try_emplace(summary.run.name);
        CurveRun& run = it->second;
        auto whole = read.whole_rows.find(id);
        if (whole != read.whole_rows.end()) {
            (added ? change.added : change.reread).push_back(summary.run.name);
            run = CurveRun();
            run.name = summary.run.name, run.id = id;
            run.rows = std::move(whole->second);
            cache_.erase(run.name);  // its curves may differ at the same number of rows
            change.changed = true;
        } else {
            extended[id] = &run;
        }
        run.growth = std::move(read.growth[id]);
        run.stages = std::move(read.stages[id]);
        change.changed = change.changed || run.status != summary.run.status;
        run.status = summary.run.status;
        if (is_default_reference(summary.run)) default_reference_ = run.name;
    }
    for (MetricRow& row : read.new_rows) {
        auto it = extended.find(row.run_id);
        if (it == extended.end()) continue;
        it->second->rows.push_back(std::move(row));
        change.changed = true;
    }
}

// The runs of cluster jobs not merged yet, each read from its job's own database (only the rows
// added since the last sync; a database that cannot be read now keeps what was read and says
// why). A resubmitted run's latest job counts; a merged job's run is the workspace's.
void CurvesModel::followClusterJobs(const std::vector<ClusterJobRecord>& jobs, CurvesChange& change) {
    std::map<std::string, ClusterJobRecord> latest;
    for (const ClusterJobRecord& job : jobs) latest[job.run_name] = job;
    std::map<std::string, JobRunFollower> followers;
    for (const auto& [name, job] : latest) {
        auto known = runs_.find(name);
        const bool in_workspace = known != runs_.end() && !known->second.cluster;
        if (job.state == "merged" || in_workspace) continue;
        auto it = followers_.find(name);
        if (it == followers_.end() || it->second.database() != job.database) {
            it = followers_.insert_or_assign(name, JobRunFollower(job.database, job.run_name)).first;
        }
        if (known == runs_.end()) change.added.push_back(name);
        if (it->second.poll() || known == runs_.end()) {
            takeFollowedRun(name, it->second);
            change.changed = true;
        }
        followers.emplace(name, std::move(it->second));
    }
    followers_ = std::move(followers);
}

// The follower's run into runs_: new rows appended, or all of them after the job read its run
// whole again.
void CurvesModel::takeFollowedRun(const std::string& name, const JobRunFollower& follower) {
    CurveRun& run = runs_[name];
    const FollowedRun& followed = follower.run();
    if (!run.cluster || run.generation != follower.generation() || run.rows.size() > followed.rows.size()) {
        run.rows.clear();
        cache_.erase(name);
    }
    run.rows.insert(run.rows.end(), followed.rows.begin() + static_cast<std::ptrdiff_t>(run.rows.size()),
                    followed.rows.end());
    run.name = name;
    run.id = followed.run.id;
    run.status = followed.run.status;
    run.growth = followed.growth;
    run.stages = followed.stages;
    run.cluster = true;
    run.cluster_state = follower.state();
    run.problem = follower.problem();
    run.database = follower.database();
    run.generation = follower.generation();
}

Curve CurvesModel::rawCurve(const std::string& run) const {
    const CurveRun* found = find(run);
    if (!found) return {};
    return extract_curve(found->rows, settings_.axis, settings_.kind, settings_.align_to_stage_start);
}

Curve CurvesModel::shownCurve(const std::string& run) const {
    const Curve raw = rawCurve(run);
    return settings_.smoothing > 0 ? smooth_ema(raw, settings_.smoothing) : raw;
}

// Smoothed on the raw points, then both downsampled.
const std::map<int64_t, StageCurve>& CurvesModel::stageCurves(const std::string& name) {
    static const std::map<int64_t, StageCurve> none;
    const CurveRun* run = find(name);
    if (!run) return none;
    const CurveSettings& s = settings_;
    const std::string key = std::to_string(run->rows.size()) + "|" + std::to_string(static_cast<int>(s.axis)) + "|" +
                            std::to_string(static_cast<int>(s.kind)) + "|" + std::to_string(s.align_to_stage_start) +
                            "|" + std::to_string(s.smoothing);
    CachedRun& cached = cache_[name];
    if (cached.key == key) return cached.stages;
    cached.key = key;
    cached.stages.clear();
    std::map<int64_t, std::vector<MetricRow>> by_stage;
    for (const auto& row : run->rows) by_stage[row.stage_index].push_back(row);
    for (const auto& [stage, rows] : by_stage) {
        const Curve raw = extract_curve(rows, s.axis, s.kind, s.align_to_stage_start);
        const Curve shown = s.smoothing > 0 ? smooth_ema(raw, s.smoothing) : raw;
        cached.stages[stage] = {downsample_min_max(raw, kBuckets), downsample_min_max(shown, kBuckets)};
    }
    return cached.stages;
}

// The run's raw validation curve on the current axis, cached like the stage curves.
const Curve& CurvesModel::validationCurve(const CurveRun& run) {
    const std::string key = std::to_string(run.rows.size()) + "|" + std::to_string(static_cast<int>(settings_.axis));
    CachedRun& cached = cache_[run.name];
    if (cached.validation_key != key) {
        cached.validation = extract_curve(run.rows, settings_.axis, CurveKind::validation);
        cached.validation_key = key;
    }
    return cached.validation;
}

ReachTable CurvesModel::reachTable(const std::string& reference, const std::vector<std::string>& runs) {
    ReachTable table;
    table.reference = reference;
    const CurveRun* base = find(reference);
    table.reference_known = base != nullptr;
    if (!base) return table;
    const Curve& base_curve = validationCurve(*base);
    table.reference_has_validation = !base_curve.empty();
    if (base_curve.empty()) return table;
    table.target_loss = base_curve.back().y;
    table.reference_total = base_curve.back().x;
    for (const std::string& name : runs) {
        const CurveRun* run = find(name);
        if (name == reference || !run) continue;
        const Curve& curve = validationCurve(*run);
        table.runs.push_back({name, !curve.empty(), curve.empty() ? std::nullopt : first_reach(curve, table.target_loss)});
    }
    return table;
}

}  // namespace gs
