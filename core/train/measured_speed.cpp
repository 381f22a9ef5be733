#include "core/train/measured_speed.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include <nlohmann/json.hpp>

namespace gs {

namespace {

// The stage's training rows: those with a step time.
std::vector<MetricRow> training_rows(Store& store, int64_t run_id, int64_t stage_index) {
    std::vector<MetricRow> rows;
    for (const MetricRow& row : store.metrics(run_id)) {
        if (row.stage_index == stage_index && row.step_seconds) rows.push_back(row);
    }
    return rows;
}

// FLOPs are counted in double precision from the same formula: equal up to rounding.
bool same_flops(double a, double b) { return std::abs(a - b) <= 1e-9 * std::max(std::abs(a), std::abs(b)); }

// The median step time of `rows` but the first, when the stage ran `flops_per_step` steps.
std::optional<MeasuredStepTime> stage_step_time(const std::vector<MetricRow>& rows, double flops_per_step) {
    if (rows.size() < 2) return std::nullopt;
    const double steps = static_cast<double>(rows.back().step - rows.front().step);
    if (!same_flops((rows.back().flops - rows.front().flops) / steps, flops_per_step)) return std::nullopt;
    std::vector<double> seconds;
    for (size_t i = 1; i < rows.size(); ++i) seconds.push_back(*rows[i].step_seconds);
    std::nth_element(seconds.begin(), seconds.begin() + seconds.size() / 2, seconds.end());
    return MeasuredStepTime{seconds[seconds.size() / 2], static_cast<int64_t>(seconds.size()), ""};
}

}  // namespace

std::optional<MeasuredStepTime> measured_step_time(Store& store, const std::string& host, const std::string& device,
                                                   const T5Config& config, double flops_per_step) {
    const nlohmann::json shape = config.to_hf_json();
    std::vector<RunSummary> runs = store.summaries();
    for (auto run = runs.rbegin(); run != runs.rend(); ++run) {  // the latest first
        if (run->run.host != host || run->run.device != device) continue;
        for (const StageRecord& stage : store.stages(run->run.id)) {
            if (nlohmann::json::parse(stage.config_json) != shape) continue;
            if (auto time = stage_step_time(training_rows(store, run->run.id, stage.stage_index), flops_per_step)) {
                time->run = run->run.name;
                return time;
            }
        }
    }
    return std::nullopt;
}

}  // namespace gs
