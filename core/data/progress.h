// Progress reports and cancellation for long data operations (tokenizer training, caching).
#pragma once

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>

namespace gs {

struct OperationCancelled : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct Progress {
    std::string stage;      // "reading", "training", "tokenizing", ...
    uint64_t done = 0;      // in `unit`s
    uint64_t total = 0;     // 0 when unknown
    std::string unit;       // "bytes", "sentences"
    double elapsed_s = 0;
    double eta_s = -1;      // -1 when unknown
};

// Called from the working thread; returns false to cancel the operation, which then throws
// OperationCancelled after cleaning up.
using ProgressCallback = std::function<bool(const Progress&)>;

// Estimates the remaining time from the share done so far.
inline double estimate_eta(double elapsed_s, uint64_t done, uint64_t total) {
    if (done == 0 || total == 0 || done > total) return -1;
    return elapsed_s * static_cast<double>(total - done) / static_cast<double>(done);
}

}  // namespace gs
