#include "core/cluster/slurm.h"

#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "core/cluster/job_follower.h"
#include "core/common/shell.h"
#include "core/io/files.h"
#include "core/train/experiment.h"
#include "core/train/run_name.h"

namespace gs {

namespace fs = std::filesystem;

namespace {

// Every value written into a job script passes here first, its field named in the error. A line
// break would end its line (a #SBATCH line or a comment cannot be quoted against that), and bash
// stops reading a script's line at NUL.
void check_script_value(const std::string& field, const std::string& value) {
    if (value.find_first_of(std::string("\n\r\0", 3)) != std::string::npos) {
        throw std::invalid_argument(field + " '" + printable(value) + "': a job script cannot hold a line break or NUL");
    }
}

// A value in a #SBATCH line as sbatch reads it. bash skips these lines as comments, so shell
// quoting does not apply; sbatch splits them at white space, reads quotes and backslashes itself
// and ignores everything after an unquoted '#'. A backslash before each such character keeps
// the value one word, as given.
std::string sbatch_word(const std::string& value) {
    std::string word;
    for (char c : value) {
        if (c == ' ' || c == '\t' || c == '\\' || c == '"' || c == '\'' || c == '#') word += '\\';
        word += c;
    }
    return word;
}

// Slurm's output file: the run folder with its '%' doubled (Slurm expands %j, %u, ... in the
// name), then slurm-<job id>.out.
std::string slurm_output_pattern(const fs::path& folder) {
    std::string escaped;
    for (char c : folder.string()) escaped += c == '%' ? std::string("%%") : std::string(1, c);
    return escaped + "/slurm-%j.out";
}

// The #SBATCH lines of the allocation: one task, or tasks_per_node tasks on each of the nodes.
void write_resources(std::ostream& s, const SlurmOptions& options) {
    if (srun_launches_ranks(options)) {
        s << "#SBATCH --nodes=" << options.nodes << "\n"
          << "#SBATCH --ntasks-per-node=" << slurm_tasks_per_node(options) << "\n";
    } else {
        s << "#SBATCH --nodes=1\n"
          << "#SBATCH --ntasks=1\n";
    }
    if (!options.partition.empty()) s << "#SBATCH --partition=" << sbatch_word(options.partition) << "\n";
    if (options.gpus_per_run > 0) s << "#SBATCH --gres=gpu:" << options.gpus_per_run << "\n";
    if (!options.time.empty()) s << "#SBATCH --time=" << options.time << ":00\n";
}

// Where the ranks of a multi-task job meet: rank 0's node, the job's first. The port follows the
// job id so that two jobs sharing a node do not collide. srun gives each task its SLURM_PROCID,
// SLURM_LOCALID, ..., which growthstudio-cli reads as its rank.
void write_rendezvous(std::ostream& s) {
    s << "# The ranks meet at the job's first node, on a port of this job's own.\n"
      << "hosts=($(scontrol show hostnames \"$SLURM_JOB_NODELIST\"))\n"
      << "export MASTER_ADDR=\"${hosts[0]}\" MASTER_PORT=$((20000 + SLURM_JOB_ID % 20000))\n";
}

std::string write_script(const SlurmJob& job, const SlurmOptions& options) {
    const fs::path folder = run_folder(options.runs_dir, job.run_name);
    const bool srun = srun_launches_ranks(options);
    // One process per task under srun; the check for a run to resume stays in the batch step.
    // No --kill-on-bad-exit: a rank that pauses first (a signal) exits non-zero, and would have
    // rank 0 killed mid-checkpoint. A rank that dies is noticed by the communicator instead.
    const std::string launch = srun ? "exec srun \"$cli\" " : "exec \"$cli\" ";
    std::ostringstream s;
    s << "#!/bin/bash\n"
      << "#SBATCH --job-name=gs-" << sbatch_word(job.run_name) << "\n"
      << "#SBATCH --output=" << sbatch_word(slurm_output_pattern(folder)) << "\n";
    write_resources(s, options);
    s << "# GrowthStudio run " << job.run_name << " of " << job.experiment << ".\n"
      << "# Its database stays beside its checkpoints until `growthstudio-cli sync` merges it.\n"
      << "set -euo pipefail\n"
      << "cli=" << shell_quote(options.cli) << "\n"
      << "database=" << shell_quote(job.database) << "\n"
      << "mkdir -p " << shell_quote(folder.string()) << "\n";
    if (srun) write_rendezvous(s);
    s << "# A requeued job continues from its last checkpoint.\n"
      << "if [ -f \"$database\" ] && \"$cli\" show " << shell_quote(job.run_name) << " --db \"$database\" >/dev/null 2>&1; then\n"
      << "  " << launch << "resume " << shell_quote(job.run_name) << " --db \"$database\" --quiet\n"
      << "fi\n"
      << launch << "run " << shell_quote(job.experiment) << " --db \"$database\" --runs-dir "
      << shell_quote(options.runs_dir) << " --name " << shell_quote(job.run_name) << " --quiet\n";
    return s.str();
}

// Each rank trains batch_size / ranks rows: refused here rather than when the job starts.
void check_batch_splits(const std::string& file, int64_t batch_size, const SlurmOptions& options) {
    const int per_node = slurm_tasks_per_node(options), ranks = options.nodes * per_node;
    if (batch_size % ranks != 0) {
        throw std::runtime_error(file + ": field 'batch_size': " + std::to_string(batch_size) +
                                 " cannot be split evenly into the job's " + std::to_string(ranks) + " ranks (" +
                                 std::to_string(options.nodes) + " node(s) x " + std::to_string(per_node) + ")");
    }
}

// A job writes a database of its own, so a `loss<=[RUN]` budget would find no run to read the
// loss of; refused before anything is submitted rather than failing after the job's first stage.
void check_no_reference_budgets(const ExperimentSpec& spec) {
    for (const std::string& run : spec.pipeline.reference_runs()) {
        throw std::invalid_argument(spec.source + ": field 'budgets': 'loss<=[" + printable(run) +
                                    "]' needs run " + printable(run) + "'s loss, which a cluster job cannot read (each "
                                    "job writes a database of its own); give the loss as a number, loss<=X");
    }
}

// Depth-first: each job after the jobs it needs.
std::vector<SlurmJob> in_dependency_order(const std::map<std::string, SlurmJob>& jobs) {
    std::vector<SlurmJob> ordered;
    std::set<std::string> done, visiting;
    std::function<void(const std::string&)> visit = [&](const std::string& name) {
        if (done.count(name)) return;
        if (!visiting.insert(name).second) throw std::runtime_error("run '" + name + "' depends on itself through its pre-trained stages");
        for (const auto& needed : jobs.at(name).after) visit(needed);
        visiting.erase(name);
        done.insert(name);
        ordered.push_back(jobs.at(name));
    };
    for (const auto& [name, job] : jobs) visit(name);
    return ordered;
}

}  // namespace

int slurm_tasks_per_node(const SlurmOptions& options) {
    return options.gpus_per_run > 0 ? options.gpus_per_run : std::max(1, options.tasks_per_node);
}

bool srun_launches_ranks(const SlurmOptions& options) { return options.nodes > 1 || slurm_tasks_per_node(options) > 1; }

std::vector<SlurmJob> plan_slurm_jobs(const std::string& set_folder, const SlurmOptions& options) {
    if (!fs::is_directory(set_folder)) throw std::runtime_error(set_folder + ": not a folder of experiment files");
    if (!options.time.empty() && !std::regex_match(options.time, std::regex("[0-9]+:[0-5][0-9]"))) {
        throw std::invalid_argument("time limit '" + printable(options.time) + "': expected HH:MM");
    }
    check_script_value("partition", options.partition);
    check_script_value("growthstudio-cli path", options.cli);
    check_script_value("runs folder", options.runs_dir);
    check_script_value("scripts folder", options.scripts_dir);
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(set_folder)) {
        if (entry.path().extension() == ".json") files.push_back(fs::absolute(entry.path()));
    }
    std::sort(files.begin(), files.end());
    if (files.empty()) throw std::runtime_error(set_folder + ": no experiment files (*.json)");
    std::map<std::string, SlurmJob> jobs;
    std::map<std::string, std::vector<std::string>> references;  // run -> pre-trained run names
    for (const fs::path& file : files) {
        check_script_value("experiment file", file.string());
        const ExperimentSpec spec = ExperimentSpec::load(file.string());  // its name obeys the run-name rule
        check_batch_splits(file.string(), spec.batch_size, options);
        check_no_reference_budgets(spec);
        SlurmJob job;
        job.run_name = spec.name;
        job.experiment = file.string();
        job.database = (run_folder(options.runs_dir, spec.name) / (spec.name + ".db")).string();
        job.script_path = (fs::path(options.scripts_dir) / (spec.name + ".sbatch")).string();
        if (!jobs.emplace(spec.name, job).second) {
            throw std::runtime_error(file.string() + ": another experiment of the set is also named '" + spec.name + "'");
        }
        for (const Stage& stage : spec.pipeline.stages) {
            if (stage.pretrained && !fs::exists(stage.source)) references[spec.name].push_back(stage.source);
        }
    }
    for (const auto& [name, sources] : references) {
        for (const std::string& source : sources) {
            if (!jobs.count(source)) {
                throw std::runtime_error(jobs.at(name).experiment + ": field 'pretrained': '" + source +
                                         "' is neither a checkpoint folder nor a run of the set in " + set_folder);
            }
            jobs.at(name).after.push_back(source);
        }
    }
    std::vector<SlurmJob> ordered = in_dependency_order(jobs);
    for (SlurmJob& job : ordered) job.script = write_script(job, options);
    return ordered;
}

std::string submit_with_sbatch(const std::string& script_path, const std::vector<std::string>& after_job_ids) {
    std::string command = "sbatch --parsable";
    if (!after_job_ids.empty()) {
        command += " --dependency=afterok";
        for (const std::string& id : after_job_ids) command += ":" + id;
    }
    command += " " + shell_quote(script_path) + " 2>&1";
    int status = 0;
    const std::string output = capture_output(command, &status);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        throw std::runtime_error(script_path + ": sbatch failed" + (output.empty() ? "" : ": " + output));
    }
    const std::string id = output.substr(0, output.find(';'));  // "id" or "id;cluster"
    if (id.empty() || id.find_first_not_of("0123456789_") != std::string::npos) {
        throw std::runtime_error(script_path + ": sbatch answered '" + output + "', not a job id");
    }
    return id;
}

void merge_run(Store& from, const std::string& name, Store& into) {
    const auto run = from.find_run(name);
    if (!run) throw std::runtime_error(from.path() + ": no run named '" + printable(name) + "'");
    check_run_name(run->name, from.path());  // a job's database is a file anyone could have written
    if (into.find_run(name)) throw std::runtime_error(into.path() + ": a run named '" + name + "' exists already");
    RunRecord copy = *run;
    if (run->experiment_id > 0) {
        const std::string json = from.experiment_json(run->experiment_id);
        copy.experiment_id = into.add_experiment(parse_json(json, from.path() + ": run '" + name + "' experiment").value("name", name), json);
    }
    const int64_t id = into.create_run(copy);
    for (StageRecord stage : from.stages(run->id)) {
        stage.run_id = id;
        into.add_stage(stage);
        if (stage.end_step) into.end_stage(id, stage.stage_index, *stage.end_step);
    }
    std::vector<MetricRow> metrics = from.metrics(run->id);
    for (MetricRow& row : metrics) row.run_id = id;
    into.add_metrics(metrics);
    for (GrowthEventRecord event : from.growth_events(run->id)) {
        event.run_id = id;
        into.add_growth_event(event);
    }
    for (CheckpointRecord checkpoint : from.checkpoints(run->id)) {
        checkpoint.run_id = id;
        into.add_checkpoint(checkpoint);
    }
    for (ResultRecord result : from.results(run->id)) {  // fine-tuned where the job ran
        result.run_id = id;
        into.add_result(result);
    }
    into.set_run_status(id, run->status, run->error);
    into.set_run_ended_at(id, run->ended_at);  // when the job ended, not when it was merged
}

std::vector<ClusterJobStatus> sync_cluster_jobs(Store& workspace) {
    std::vector<ClusterJobStatus> statuses;
    std::map<std::string, int64_t> merged_steps;
    for (const RunSummary& summary : workspace.summaries()) merged_steps[summary.run.name] = summary.step;
    for (const ClusterJobRecord& job : workspace.cluster_jobs()) {
        ClusterJobStatus status{job, job.state, 0, ""};
        if (job.state == "merged") {
            status.step = merged_steps[job.run_name];
            statuses.push_back(status);
            continue;
        }
        if (const std::string refusal = run_name_refusal(job.run_name); !refusal.empty()) {
            status.state = "unreadable";
            status.detail = refusal;
            statuses.push_back(status);
            continue;
        }
        if (!fs::exists(job.database)) {
            status.state = "waiting";
            statuses.push_back(status);
            continue;
        }
        // The job's own file, on a shared file system and maybe being written: read, never written.
        std::optional<Store> store;
        std::optional<RunRecord> run;
        try {
            store.emplace(job.database, SqlAccess::read_only);
            run = find_job_run(*store, job.run_name);
            for (const RunSummary& summary : run ? store->summaries() : std::vector<RunSummary>()) {
                if (summary.run.name == job.run_name) status.step = summary.step;
            }
        } catch (const StoreError& error) {  // locked, corrupt, too new: the other jobs still count
            status.state = "unreadable";
            status.detail = error.what();
            statuses.push_back(status);
            continue;
        }
        status.state = to_string(run ? run->status : RunStatus::queued);
        if (run && run->status == RunStatus::failed) status.detail = run->error;
        if (run && run->status == RunStatus::done) {
            merge_run(*store, job.run_name, workspace);
            workspace.set_cluster_job_state(job.id, "merged");
            status.state = "merged";
        }
        statuses.push_back(status);
    }
    return statuses;
}

}  // namespace gs
