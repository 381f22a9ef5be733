// Writes metric rows to the store from a thread of its own, in batches, so that the training
// loop never waits on SQLite. flush() blocks until everything handed over is committed.
#pragma once

#include <condition_variable>
#include <exception>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/store/store.h"

namespace gs {

class MetricsWriter {
public:
    explicit MetricsWriter(const std::string& database_path);
    ~MetricsWriter();  // flushes
    MetricsWriter(const MetricsWriter&) = delete;
    MetricsWriter& operator=(const MetricsWriter&) = delete;

    void add(const MetricRow& row);  // queued; written within about half a second
    void flush();                    // rethrows a write error

private:
    void work();

    Store store_;  // its own connection
    std::mutex mutex_;
    std::condition_variable changed_;
    std::vector<MetricRow> pending_;
    size_t in_flight_ = 0;
    bool stop_ = false;
    bool flush_requested_ = false;
    std::exception_ptr error_;
    std::thread thread_;
};

}  // namespace gs
