// A cluster job's run as the job's own database holds it while the job trains, so that views can
// show it before `sync` merges it into the workspace. The job writes that database on a shared
// file system, so a reader never writes it and holds it only briefly: each poll opens it
// read-only, reads the rows added since the last poll, and closes it. A database that is missing,
// locked or unreadable keeps what was read before and says why; the next poll tries again.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/store/store.h"

namespace gs {

// The run `run_name` in a job's own database; nullopt while the job has not written it yet, or
// not even the database's schema (the job creates the file, then the schema: a reader may come
// in between).
std::optional<RunRecord> find_job_run(Store& job_database, const std::string& run_name);

// The run as read so far (its id is the job database's, not the workspace's).
struct FollowedRun {
    RunRecord run;
    std::vector<StageRecord> stages;
    std::vector<GrowthEventRecord> growth;
    std::vector<MetricRow> rows;
};

class JobRunFollower {
public:
    JobRunFollower(std::string database, std::string run_name);

    // Reads what is new. True when anything shown changed: rows, stages, growth events, state
    // or problem. Problems with the database never throw; they go to problem().
    bool poll();

    const FollowedRun& run() const { return run_; }
    // "waiting" (no database yet), "queued" (no run in it yet) or the run's status (running,
    // paused, failed, done, ...), as of the last poll that could read the database; "" while
    // none could.
    const std::string& state() const { return state_; }
    // Why the last poll could not read the database; "" when it could.
    const std::string& problem() const { return problem_; }
    const std::string& database() const { return database_; }
    // Changes when the rows were read whole again (a rewound run): a copy of run().rows must then
    // be replaced, not extended.
    int64_t generation() const { return rereads_; }

private:
    void read();
    bool rewound(Store& store, int64_t run_id) const;

    std::string database_;
    std::string run_name_;
    FollowedRun run_;
    int64_t last_rowid_ = 0;  // rows up to this one are in run_.rows
    int64_t rereads_ = 0;     // times the run was read whole again (a change even at equal sizes)
    std::string state_;
    std::string problem_;
};

}  // namespace gs
