// Experiment sets on Slurm: one sbatch script per experiment of a folder, chained with
// --dependency=afterok where a pipeline starts from another run of the set (S_init-a_B needs S).
// Each job keeps its own SQLite database beside its checkpoints (SQLite must not be shared over
// a network file system); sync_cluster_jobs merges the finished ones into the workspace store.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/store/store.h"

namespace gs {

struct SlurmOptions {
    std::string partition;   // "" : the cluster's default
    int gpus_per_run = 0;    // GPUs of each node, one task (rank) per GPU
    int nodes = 1;           // nodes of each job
    int tasks_per_node = 0;  // without GPUs: ranks on each node (0: one)
    std::string time;        // "HH:MM", "" : the partition's limit
    std::string cli;         // growthstudio-cli as the jobs will call it
    std::string runs_dir;    // where the run folders (checkpoints, job databases) go
    std::string scripts_dir; // where the sbatch scripts are written
};

struct SlurmJob {
    std::string run_name;
    std::string experiment;          // absolute path of its file
    std::vector<std::string> after;  // runs of the set it starts from
    std::string database;            // the job's own database
    std::string script_path;
    std::string script;
};

// The ranks each node of a job runs: one per GPU, else tasks_per_node (at least one).
int slurm_tasks_per_node(const SlurmOptions& options);
// Whether a job has several ranks, which srun starts (one process per task; each reads its
// rank from SLURM_PROCID, ...) after the script exports MASTER_ADDR and MASTER_PORT.
bool srun_launches_ranks(const SlurmOptions& options);

// The set's jobs, each after the runs it needs. Errors name the file: an unreadable experiment,
// two experiments with one name, a pre-trained reference that is neither a folder nor a run of the
// set, a cycle.
std::vector<SlurmJob> plan_slurm_jobs(const std::string& set_folder, const SlurmOptions& options);

// Submits a written script with `sbatch --parsable` (the sbatch found on PATH), after the given
// job ids; returns the new job's id.
std::string submit_with_sbatch(const std::string& script_path, const std::vector<std::string>& after_job_ids);

// Where each submitted job stands; a finished one ("done") is merged into the workspace. The
// jobs' databases are only read.
struct ClusterJobStatus {
    ClusterJobRecord job;
    std::string state;  // "waiting" (no database yet), "queued", "running", "paused", "failed", "merged",
                        // "unreadable" (detail says why; tried again at the next sync)
    int64_t step = 0;
    std::string detail;
};
std::vector<ClusterJobStatus> sync_cluster_jobs(Store& workspace);

// Copies run `name` (experiment, stages, curves, growth events, checkpoints, downstream scores
// with the data behind them) from a job's database into `into`. A run of that name already in
// `into` is an error.
void merge_run(Store& from, const std::string& name, Store& into);

}  // namespace gs
