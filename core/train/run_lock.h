// A run is owned by one process at a time: the one holding the advisory lock (flock) on
// `run.lock` in the run's folder. The kernel drops the lock when its process ends, however it
// ends (a signal, SIGKILL, the out-of-memory killer), so a lock nobody holds means nobody trains
// the run, whatever the store still says. The owner writes its pid and host into the file for
// the messages that refuse a second process. See docs/experiments.md.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>

#include "core/store/store.h"

namespace gs {

struct RunOwner {
    int64_t pid = 0;   // 0 while the owner has not written itself into the file yet
    std::string host;
};

// "pid 123 on host-a", for messages.
std::string describe_owner(const RunOwner& owner);

// Another process owns the run.
class RunBusy : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// "run 'NAME' is in use by pid 123 on host-a; ..." : the one refusal every place gives.
std::string run_busy_message(const std::string& run, const RunOwner& owner);

class RunLock {
public:
    static constexpr const char* kFileName = "run.lock";

    // Takes the lock of the run folder `folder` (created when missing) for this process and
    // writes the owner into it; nullopt when another process holds it.
    static std::optional<RunLock> try_take(const std::filesystem::path& folder);
    // As try_take; another owner throws RunBusy naming run `run` and that owner.
    static RunLock take(const std::filesystem::path& folder, const std::string& run);

    RunLock(RunLock&& other) noexcept;
    RunLock& operator=(RunLock&& other) noexcept;
    RunLock(const RunLock&) = delete;
    RunLock& operator=(const RunLock&) = delete;
    ~RunLock();  // releases the lock (the file stays: removing it would race with a new owner)

private:
    explicit RunLock(int descriptor) : descriptor_(descriptor) {}
    int descriptor_ = -1;
};

// The process that holds the lock of run folder `folder`, or nullopt when none does (no lock
// file: a run recorded before runs were locked, or one that never started).
std::optional<RunOwner> run_owner(const std::filesystem::path& folder);

// The status to show for `run`: the store's, but interrupted for a run the store says is
// running whose owner is gone (killed, out of memory, the machine went down). Such a run
// resumes like a paused one. Computed on every read: a listing writes nothing.
RunStatus live_run_status(const RunRecord& run);

}  // namespace gs
