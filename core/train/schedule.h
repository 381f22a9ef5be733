// Learning-rate schedules: linear warm-up, then cosine, linear, inverse square root or constant.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json_fwd.hpp>

namespace gs {

struct ScheduleSettings {
    std::string kind = "cosine";  // "cosine", "linear", "inverse-sqrt", "constant"
    double peak_lr = 2e-2;
    double final_lr = 1e-5;       // cosine and linear end here at total_steps
    int64_t warmup_steps = 0;
    double warmup_start = 0.0;    // warm-up starts at warmup_start x peak_lr (nanoT5: 0.5)
    int64_t total_steps = 0;      // cosine and linear; 0 = unknown (the decay then never starts)

    // The rate for the update after `step` completed updates (0-based).
    double rate(int64_t step) const;

    nlohmann::json to_json() const;
    static ScheduleSettings from_json(const nlohmann::json& json, const std::string& field);
};

}  // namespace gs
