// submit and sync: experiment sets on a Slurm cluster, each job with its own database until
// merged into the workspace.
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <map>

#include "app/cli/arguments.h"
#include "app/cli/commands.h"
#include "core/cluster/slurm.h"
#include "core/distributed/launcher.h"
#include "core/io/files.h"
#include "core/store/store.h"

namespace gs::cli {

namespace fs = std::filesystem;

namespace {

// --gpus-per-run, --nodes and --tasks-per-node: the ranks of each job.
void read_job_shape(const Arguments& args, SlurmOptions& options) {
    options.gpus_per_run = static_cast<int>(args.integer("gpus-per-run", 0));
    if (options.gpus_per_run < 0) throw UsageError("option --gpus-per-run must not be negative");
    options.nodes = static_cast<int>(args.integer("nodes", 1));
    if (options.nodes < 1) throw UsageError("option --nodes: expected a whole number >= 1");
    if (!args.has("tasks-per-node")) return;
    options.tasks_per_node = static_cast<int>(args.integer("tasks-per-node", 1));
    if (options.tasks_per_node < 1) throw UsageError("option --tasks-per-node: expected a whole number >= 1");
    if (options.gpus_per_run > 0 && options.tasks_per_node != options.gpus_per_run) {
        throw UsageError("option --tasks-per-node: with --gpus-per-run " + std::to_string(options.gpus_per_run) +
                         " each node runs one task per GPU; leave --tasks-per-node out");
    }
}

}  // namespace

int run_submit(const Words& words) {
    Arguments args(words, {{"db", "partition", "gpus-per-run", "nodes", "tasks-per-node", "time", "runs-dir"},
                           {"slurm", "dry-run"}});
    if (args.positional().size() != 1) throw UsageError("expected one folder of experiment files");
    if (!args.has("slurm")) throw UsageError("--slurm is required (Slurm is the scheduler this build submits to)");
    const std::string database = args.text("db", default_database_path());
    const fs::path workspace = fs::absolute(database).parent_path();
    SlurmOptions options;
    options.partition = args.text("partition");
    read_job_shape(args, options);
    options.time = args.text("time");
    options.cli = current_executable();
    options.runs_dir = fs::absolute(args.text("runs-dir", (workspace / "runs").string())).string();
    options.scripts_dir = (workspace / "slurm").string();
    const std::vector<SlurmJob> jobs = plan_slurm_jobs(args.positional()[0], options);

    if (args.has("dry-run")) {
        for (const SlurmJob& job : jobs) {
            std::cout << "# " << job.script_path << ": sbatch --parsable";
            for (size_t i = 0; i < job.after.size(); ++i) {
                std::cout << (i == 0 ? " --dependency=afterok:" : ":") << "<job of " << job.after[i] << ">";
            }
            std::cout << "\n" << job.script << "\n";
        }
        return 0;
    }
    Store store(database);
    fs::create_directories(options.scripts_dir);
    std::map<std::string, std::string> job_ids;  // run -> Slurm job id
    for (const SlurmJob& job : jobs) {
        fs::create_directories(fs::path(options.runs_dir) / job.run_name);  // the job's output file goes there
        write_file_atomically(job.script_path, job.script);
        std::vector<std::string> after;
        for (const std::string& run : job.after) after.push_back(job_ids.at(run));
        const std::string id = submit_with_sbatch(job.script_path, after);
        job_ids[job.run_name] = id;
        ClusterJobRecord record;
        record.run_name = job.run_name, record.job_id = id, record.script = job.script_path;
        record.database = job.database, record.state = "submitted";
        for (const std::string& a : after) record.depends_on += (record.depends_on.empty() ? "" : ",") + a;
        store.add_cluster_job(record);
        std::cout << "job " << id << "  " << job.run_name
                  << (record.depends_on.empty() ? "" : "  (after job " + record.depends_on + ")") << "\n";
    }
    std::cout << jobs.size() << " jobs submitted; merge finished ones with: growthstudio-cli sync --db " << database << "\n";
    return 0;
}

int run_sync(const Words& words) {
    Arguments args(words, {{"db"}, {}});
    if (!args.positional().empty()) throw UsageError("sync takes no positional arguments");
    Store store(args.text("db", default_database_path()));
    const std::vector<ClusterJobStatus> statuses = sync_cluster_jobs(store);
    std::cout << std::left << std::setw(12) << "job" << std::setw(28) << "run" << std::setw(10) << "state" << std::right
              << std::setw(8) << "step" << "\n";
    for (const ClusterJobStatus& s : statuses) {
        std::cout << std::left << std::setw(12) << s.job.job_id << std::setw(28) << s.job.run_name << std::setw(10) << s.state
                  << std::right << std::setw(8) << s.step << (s.detail.empty() ? "" : "  " + s.detail) << "\n";
    }
    return 0;
}

}  // namespace gs::cli
