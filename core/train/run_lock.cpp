#include "core/train/run_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/runtime/runtime_info.h"

namespace gs {

namespace fs = std::filesystem;

namespace {

fs::path lock_path(const fs::path& folder) { return folder / RunLock::kFileName; }

// A reader checking for an owner holds a shared lock for a moment; an owner-to-be retries
// through that moment rather than take the reader for an owner.
constexpr int kTakeAttempts = 50;
constexpr auto kTakeRetryPause = std::chrono::milliseconds(10);

bool lock_exclusively(int descriptor) {
    for (int attempt = 0; attempt < kTakeAttempts; ++attempt) {
        if (flock(descriptor, LOCK_EX | LOCK_NB) == 0) return true;
        if (errno != EWOULDBLOCK && errno != EINTR) {
            throw std::runtime_error(std::string("cannot lock the run: ") + std::strerror(errno));
        }
        std::this_thread::sleep_for(kTakeRetryPause);
    }
    return false;
}

void write_owner(int descriptor, const fs::path& path) {
    const std::string text = nlohmann::json{{"pid", static_cast<int64_t>(getpid())}, {"host", host_name()}}.dump() + "\n";
    if (ftruncate(descriptor, 0) != 0 || pwrite(descriptor, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size())) {
        throw std::runtime_error(path.string() + ": cannot write the run's owner: " + std::strerror(errno));
    }
}

RunOwner read_owner(int descriptor) {
    std::string text;
    char buffer[256];
    ssize_t read_bytes = 0;
    while ((read_bytes = pread(descriptor, buffer, sizeof buffer, static_cast<off_t>(text.size()))) > 0) {
        text.append(buffer, static_cast<size_t>(read_bytes));
    }
    RunOwner owner;
    const nlohmann::json json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (json.is_object()) {  // empty while the owner is still writing itself in
        owner.pid = json.value("pid", int64_t{0});
        owner.host = json.value("host", std::string());
    }
    return owner;
}

}  // namespace

std::string describe_owner(const RunOwner& owner) {
    if (owner.pid == 0) return "another process (starting)";
    return "pid " + std::to_string(owner.pid) + " on " + (owner.host.empty() ? "an unknown host" : owner.host);
}

std::string run_busy_message(const std::string& run, const RunOwner& owner) {
    return "run '" + run + "' is in use by " + describe_owner(owner) +
           "; one process trains a run at a time (wait for it to end, or stop it)";
}

std::optional<RunLock> RunLock::try_take(const fs::path& folder) {
    fs::create_directories(folder);
    const fs::path path = lock_path(folder);
    const int descriptor = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (descriptor < 0) throw std::runtime_error(path.string() + ": cannot open the run's lock: " + std::strerror(errno));
    RunLock lock(descriptor);  // closes the file on every way out
    if (!lock_exclusively(descriptor)) return std::nullopt;
    write_owner(descriptor, path);
    return lock;
}

RunLock RunLock::take(const fs::path& folder, const std::string& run) {
    std::optional<RunLock> lock = try_take(folder);
    if (!lock) throw RunBusy(run_busy_message(run, run_owner(folder).value_or(RunOwner{})));
    return std::move(*lock);
}

RunLock::RunLock(RunLock&& other) noexcept : descriptor_(other.descriptor_) { other.descriptor_ = -1; }

RunLock& RunLock::operator=(RunLock&& other) noexcept {
    if (this != &other) {
        if (descriptor_ >= 0) close(descriptor_);
        descriptor_ = other.descriptor_;
        other.descriptor_ = -1;
    }
    return *this;
}

RunLock::~RunLock() {
    if (descriptor_ >= 0) close(descriptor_);  // closing the last descriptor releases the flock
}

std::optional<RunOwner> run_owner(const fs::path& folder) {
    if (folder.empty()) return std::nullopt;
    const int descriptor = open(lock_path(folder).c_str(), O_RDONLY | O_CLOEXEC);
    if (descriptor < 0) return std::nullopt;
    std::optional<RunOwner> owner;
    // A shared lock is granted exactly when no process holds the exclusive one.
    if (flock(descriptor, LOCK_SH | LOCK_NB) != 0) owner = read_owner(descriptor);
    close(descriptor);
    return owner;
}

RunStatus live_run_status(const RunRecord& run) {
    if (run.status == RunStatus::running && !run_owner(run.directory)) return RunStatus::interrupted;
    return run.status;
}

}  // namespace gs
