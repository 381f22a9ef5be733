// What happens before a run trains: the process's threads and device, the run's name and folder
// claimed for this process (its lock), its record created in the store, and for a resumed or
// data-parallel run the lock taken or the run rank 0 created found.
#pragma once

#include <optional>
#include <string>

#include "core/store/store.h"
#include "core/train/experiment.h"
#include "core/train/run_lock.h"
#include "core/train/trainer.h"

namespace gs {

class Communicator;

// Threads, device (one GPU per rank of a node) and TF32 for this process; the device goes to `run`.
void apply_runtime(const ExperimentSpec& spec, const RunOptions& options, RunRecord& run);

// Names the run, claims its folder (locked for this process) and creates it in the store, in
// that order: a name or folder refused, or owned by another process, leaves the store as it was.
// Processes sharing a store but not a runs folder can claim one name each in its own folder: the
// store's insert decides, and an automatic name moves on to the next.
RunLock claim_and_create_run(const ExperimentSpec& spec, Store& store, const RunOptions& options, RunRecord& run);

// The run rank 0 created, as another rank of the group sees it.
RunRecord joined_run(Store& store, const std::string& name, const std::string& device);

// Takes an existing run's lock for this process, or for a data-parallel group: rank 0 holds it
// for every rank, and when it is refused every rank refuses together.
std::optional<RunLock> take_run_lock(const RunRecord& run, Communicator* group);

}  // namespace gs
