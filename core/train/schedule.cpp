#include "core/train/schedule.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "core/io/json_fields.h"

namespace gs {

double ScheduleSettings::rate(int64_t step) const {
    if (step < warmup_steps) {
        const double progress = static_cast<double>(step) / static_cast<double>(warmup_steps);
        return peak_lr * (warmup_start + (1.0 - warmup_start) * progress);
    }
    if (kind == "constant") return peak_lr;
    if (kind == "inverse-sqrt") {
        // T5's rule: 1/sqrt(step) once past the warm-up, continuous with the peak.
        const double start = static_cast<double>(std::max<int64_t>(warmup_steps, 1));
        return peak_lr * std::sqrt(start / std::max(start, static_cast<double>(step)));
    }
    const int64_t decay_steps = total_steps - warmup_steps;
    if (decay_steps <= 0) return peak_lr;
    const double progress = std::min(1.0, static_cast<double>(step - warmup_steps) / static_cast<double>(decay_steps));
    if (kind == "linear") return peak_lr + (final_lr - peak_lr) * progress;
    return final_lr + (peak_lr - final_lr) * 0.5 * (1.0 + std::cos(M_PI * progress));  // cosine
}

nlohmann::json ScheduleSettings::to_json() const {
    return {{"kind", kind},           {"peak_lr", peak_lr},         {"final_lr", final_lr},
            {"warmup_steps", warmup_steps}, {"warmup_start", warmup_start}, {"total_steps", total_steps}};
}

ScheduleSettings ScheduleSettings::from_json(const nlohmann::json& json, const std::string& field) {
    ScheduleSettings s;
    const JsonFields f(json, "", field);
    if (json.contains("kind")) s.kind = json.at("kind").is_string() ? json.at("kind").get<std::string>() : "?";
    if (s.kind != "cosine" && s.kind != "linear" && s.kind != "inverse-sqrt" && s.kind != "constant") {
        throw std::invalid_argument("field '" + field + ".kind': expected cosine, linear, inverse-sqrt or constant");
    }
    f.number("peak_lr", s.peak_lr, 0);
    f.number("final_lr", s.final_lr, 0);
    f.number("warmup_start", s.warmup_start, 0);
    f.whole("warmup_steps", s.warmup_steps, 0);
    f.whole("total_steps", s.total_steps, 0);
    return s;
}

}  // namespace gs
