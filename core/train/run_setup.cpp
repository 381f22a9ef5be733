#include "core/train/run_setup.h"

#include <algorithm>
#include <filesystem>
#include <thread>

#include <ATen/Context.h>

#include "core/common/shell.h"
#include "core/distributed/communicator.h"
#include "core/runtime/runtime_info.h"
#include "core/train/run_name.h"

namespace gs {

namespace fs = std::filesystem;

namespace {

// A run's folder is taken once it holds a run's experiment.json. A second run there (from another
// database beside this one, or after the database was deleted) would overwrite that run's
// checkpoints, which its own database still points at.
bool run_folder_taken(const fs::path& folder) { return fs::exists(folder / "experiment.json"); }

std::string folder_taken_message(const std::string& folder) {
    return folder + ": this folder holds a run already (its experiment.json), whose checkpoints a new run would "
                    "overwrite; give the run another name (--name) or another runs folder (--runs-dir)";
}

// The folder of a new run, made and locked for this process; nullopt when another process owns
// it or it holds a run already. The lock decides between two processes claiming one name.
std::optional<RunLock> claim_run_folder(const fs::path& folder) {
    if (run_folder_taken(folder)) return std::nullopt;
    std::optional<RunLock> lock = RunLock::try_take(folder);
    if (lock && run_folder_taken(folder)) return std::nullopt;  // a run came and went before the lock
    return lock;
}

// The name the user gave: its folder claimed, or a refusal naming the folder or its owner.
RunLock claim_given_name(const std::string& name, const fs::path& folder) {
    if (run_folder_taken(folder)) throw std::runtime_error(folder_taken_message(folder.string()));
    RunLock lock = RunLock::take(folder, name);
    if (run_folder_taken(folder)) throw std::runtime_error(folder_taken_message(folder.string()));
    return lock;
}

// The experiment's name, or NAME-2, NAME-3, ...: the first that no run of the store has and
// whose folder under `runs_dir` this process claims (processes starting together get one each).
RunLock claim_free_name(Store& store, const std::string& base, const fs::path& runs_dir, std::string& name) {
    std::optional<RunLock> lock;
    name = first_free_run_name(base, [&](const std::string& candidate) {
        if (store.find_run(candidate)) return true;
        lock = claim_run_folder(run_folder(runs_dir, candidate));
        return !lock;
    });
    return std::move(*lock);
}

// The commit of the git checkout holding the experiment file, "+dirty" when it has changes; ""
// outside a checkout.
std::string experiment_commit(const std::string& experiment_path) {
    if (experiment_path.empty()) return "";
    const std::string folder = fs::absolute(experiment_path).parent_path().string();
    const std::string quoted = shell_quote(folder);
    const std::string commit = capture_output("git -C " + quoted + " rev-parse HEAD 2>/dev/null");
    if (commit.empty()) return "";
    const bool dirty = !capture_output("git -C " + quoted + " status --porcelain --untracked-files=no -- . 2>/dev/null").empty();
    return commit + (dirty ? "+dirty" : "");
}

// What a new run records before it has a name: its pipeline, seed and where it runs.
void describe_new_run(const ExperimentSpec& spec, RunRecord& run) {
    run.pipeline = spec.pipeline.name();
    run.status = RunStatus::queued;
    run.seed = static_cast<int64_t>(spec.seed);
    run.host = host_name();
    const RuntimeInfo info = collect_runtime_info();
    run.app_version = info.app_version, run.libtorch_version = info.libtorch_version, run.cuda_version = info.cuda_version;
    run.git_commit = experiment_commit(spec.source);
}

}  // namespace

void apply_runtime(const ExperimentSpec& spec, const RunOptions& options, RunRecord& run) {
    int threads = options.threads >= 0 ? options.threads : spec.threads;
    if (threads == 0 && options.communicator) {
        // "Every core" is shared between the ranks on this machine, not taken by each.
        const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
        threads = std::max(1, cores / options.communicator->local_world_size());
    }
    configure_threads(threads);
    const std::string device = options.device.empty() ? spec.device : options.device;
    if (Communicator* group = options.communicator) {
        if (spec.batch_size % group->world_size() != 0) {
            throw std::invalid_argument("batch_size " + std::to_string(spec.batch_size) + " cannot be split evenly into " +
                                        std::to_string(group->world_size()) + " processes");
        }
        // One GPU per process on a node: LOCAL_RANK picks it.
        const bool cuda = device.rfind("cuda", 0) == 0 || (device == "auto" && resolve_device_name("auto") != "cpu");
        run.device = cuda ? resolve_device_name("cuda:" + std::to_string(group->local_rank())) : "cpu";
        group->start_collectives(run.device);
    } else {
        run.device = resolve_device_name(device);
    }
    // TF32 matrix products on Ampere and later GPUs (no effect elsewhere).
    at::globalContext().setAllowTF32CuBLAS(spec.tf32);
    at::globalContext().setAllowTF32CuDNN(spec.tf32);
}

RunRecord joined_run(Store& store, const std::string& name, const std::string& device) {
    auto run = store.find_run(name);
    if (!run) throw std::runtime_error(store.path() + ": rank 0 created run '" + name + "', which this rank cannot find");
    run->device = device;
    return *run;
}

RunLock claim_and_create_run(const ExperimentSpec& spec, Store& store, const RunOptions& options, RunRecord& run) {
    const fs::path runs_dir = options.runs_dir.empty() ? fs::absolute(store.path()).parent_path() / "runs" : fs::path(options.runs_dir);
    describe_new_run(spec, run);
    while (true) {
        std::optional<RunLock> lock;
        if (options.name.empty()) {
            lock = claim_free_name(store, spec.name, runs_dir, run.name);
        } else {
            run.name = options.name;
            lock = claim_given_name(run.name, run_folder(runs_dir, run.name));
        }
        run.directory = run_folder(runs_dir, run.name).string();
        run.experiment_id = store.add_experiment(spec.name, spec.json.dump());
        try {
            run.id = store.create_run(run);  // a name the store has already (or a read-only store) stops here
            return std::move(*lock);
        } catch (const StoreError&) {
            if (!options.name.empty() || !store.find_run(run.name)) throw;
        }
    }
}

std::optional<RunLock> take_run_lock(const RunRecord& run, Communicator* group) {
    if (!group) return RunLock::take(run.directory, run.name);
    std::optional<RunLock> lock;
    std::string refusal;
    if (group->leader()) {
        try {
            lock = RunLock::take(run.directory, run.name);
        } catch (const RunBusy& busy) {
            refusal = busy.what();
        }
    }
    refusal = group->broadcast_text("run lock refusal", refusal);
    if (!refusal.empty()) throw RunBusy(refusal);
    return lock;
}

}  // namespace gs
