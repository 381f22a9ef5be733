#include "core/data/cache_lock.h"

#include <chrono>
#include <filesystem>
#include <thread>

namespace gs {

std::unique_ptr<FileLock> lock_cache_dir(const std::string& cache_dir, const ProgressCallback& progress) {
    std::filesystem::create_directories(cache_dir);
    const std::string path = cache_dir + "/.lock";
    const auto start = std::chrono::steady_clock::now();
    auto last_report = start - std::chrono::hours(1);
    while (true) {
        if (auto lock = FileLock::try_acquire(path)) return lock;
        const auto now = std::chrono::steady_clock::now();
        if (progress && now - last_report >= std::chrono::seconds(2)) {
            last_report = now;
            Progress p;
            p.stage = "waiting for another preparer of " + cache_dir;
            p.elapsed_s = std::chrono::duration<double>(now - start).count();
            if (!progress(p)) throw OperationCancelled("cancelled while waiting for " + path);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
}

}  // namespace gs
