#include "core/cluster/job_follower.h"

#include <filesystem>
#include <tuple>
#include <utility>

namespace gs {

namespace {

bool same_row(const MetricRow& a, const MetricRow& b) {
    return std::tie(a.run_id, a.stage_index, a.step, a.wall_seconds, a.train_loss, a.valid_loss) ==
           std::tie(b.run_id, b.stage_index, b.step, b.wall_seconds, b.train_loss, b.valid_loss);
}

}  // namespace

std::optional<RunRecord> find_job_run(Store& job_database, const std::string& run_name) {
    if (job_database.file_version() == 0) return std::nullopt;  // no schema yet
    return job_database.find_run(run_name);
}

JobRunFollower::JobRunFollower(std::string database, std::string run_name)
    : database_(std::move(database)), run_name_(std::move(run_name)) {}

bool JobRunFollower::poll() {
    const auto seen = [this] {
        return std::make_tuple(run_.rows.size(), rereads_, run_.stages.size(), run_.growth.size(), run_.run.status, state_,
                               problem_);
    };
    const auto before = seen();
    try {
        read();
        problem_.clear();
    } catch (const std::exception& error) {
        problem_ = error.what();
    }
    return seen() != before;
}

void JobRunFollower::read() {
    if (!std::filesystem::exists(database_)) {
        state_ = "waiting";
        return;
    }
    Store store(database_, SqlAccess::read_only);
    const auto run = find_job_run(store, run_name_);
    if (!run) {
        state_ = to_string(RunStatus::queued);
        return;
    }
    if (run->id != run_.run.id || rewound(store, run->id)) {
        run_.rows.clear();
        last_rowid_ = 0;
        ++rereads_;
    }
    run_.run = *run;
    run_.stages = store.stages(run->id);
    run_.growth = store.growth_events(run->id);
    for (MetricRow& row : store.metrics_since(last_rowid_, run->id)) run_.rows.push_back(std::move(row));
    state_ = to_string(run->status);
}

// A requeued job resumes from its last checkpoint and drops the rows after it; the rows it writes
// again may take the dropped rows' ids. Either shows in the rows held: fewer of them are left, or
// the last one read is not there as it was.
bool JobRunFollower::rewound(Store& store, int64_t run_id) const {
    if (run_.rows.empty()) return false;
    if (store.metric_count(run_id, last_rowid_) != static_cast<int64_t>(run_.rows.size())) return true;
    const auto last = store.metric_at(last_rowid_);
    return !last || !same_row(*last, run_.rows.back());
}

}  // namespace gs
