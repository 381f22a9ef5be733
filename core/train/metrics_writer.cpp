#include "core/train/metrics_writer.h"

#include <chrono>

namespace gs {

MetricsWriter::MetricsWriter(const std::string& database_path) : store_(database_path), thread_([this] { work(); }) {}

MetricsWriter::~MetricsWriter() {
    try {
        flush();
    } catch (...) {  // the error was reported by an earlier flush() or is lost with the run
    }
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stop_ = true;
    }
    changed_.notify_all();
    thread_.join();
}

void MetricsWriter::add(const MetricRow& row) {
    std::lock_guard<std::mutex> lock(mutex_);
    pending_.push_back(row);
    if (pending_.size() >= 256) changed_.notify_all();
}

void MetricsWriter::flush() {
    std::unique_lock<std::mutex> lock(mutex_);
    flush_requested_ = true;
    changed_.notify_all();
    changed_.wait(lock, [this] { return (pending_.empty() && in_flight_ == 0) || error_; });
    if (error_) std::rethrow_exception(error_);
}

void MetricsWriter::work() {
    std::unique_lock<std::mutex> lock(mutex_);
    while (true) {
        changed_.wait_for(lock, std::chrono::milliseconds(500),
                          [this] { return stop_ || flush_requested_ || pending_.size() >= 256; });
        if (pending_.empty()) {
            flush_requested_ = false;
            changed_.notify_all();
            if (stop_) return;
            continue;
        }
        std::vector<MetricRow> batch;
        batch.swap(pending_);
        in_flight_ = batch.size();
        lock.unlock();
        try {
            store_.add_metrics(batch);
        } catch (...) {
            lock.lock();
            error_ = std::current_exception();
            in_flight_ = 0;
            changed_.notify_all();
            return;
        }
        lock.lock();
        in_flight_ = 0;
        changed_.notify_all();
    }
}

}  // namespace gs
