#include "core/pipeline/pipeline_estimate.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/model/t5_cost.h"

namespace gs {

std::optional<int64_t> budget_steps(const Budget& budget, std::optional<int64_t> steps_per_epoch) {
    if (budget.kind == Budget::Kind::steps) return static_cast<int64_t>(budget.value);
    if (budget.kind == Budget::Kind::epochs && steps_per_epoch) {
        // Capped so that many epochs of a large corpus cannot wrap the count around.
        const double steps = std::min(budget.value * static_cast<double>(*steps_per_epoch), 1e18);
        return std::max<int64_t>(1, std::llround(steps));
    }
    return std::nullopt;
}

namespace {

// A stage's steps and time from its budget: a time budget fixes the time and the steps follow
// from the time per step; the other budgets fix the steps and the time follows.
void apply_budget(const Budget& budget, const EstimateSettings& settings, StageEstimate& stage) {
    if (budget.kind == Budget::Kind::seconds) {
        stage.steps = budget.value / stage.step_seconds;
    } else if (const std::optional<int64_t> steps = budget_steps(budget, settings.steps_per_epoch)) {
        stage.steps = static_cast<double>(*steps);
    } else {
        stage.known = false;
        return;
    }
    stage.flops = stage.steps * stage.flops_per_step;
    stage.seconds = stage.steps * stage.step_seconds;
}

}  // namespace

PipelineEstimate estimate_pipeline(const Pipeline& pipeline_as_given, const EstimateSettings& settings) {
    Pipeline pipeline = pipeline_as_given;
    if (settings.vocab_size) {
        for (Stage& stage : pipeline.stages) stage.config.vocab_size = *settings.vocab_size;
    }
    PipelineEstimate estimate;
    for (const Stage& stage : pipeline.stages) {
        StageEstimate item;
        item.size = stage.size;
        item.parameters = count_parameters(stage.config);
        item.trained = !stage.pretrained;
        if (item.trained) {
            item.flops_per_step = training_flops_per_step(stage.config, settings.batch_rows, settings.input_length,
                                                          settings.target_length);
            const auto measured = settings.measured_step_seconds.find(estimate.stages.size());
            item.measured = measured != settings.measured_step_seconds.end();
            item.step_seconds = item.measured ? measured->second : item.flops_per_step / settings.flops_per_second;
            apply_budget(stage.budget, settings, item);
            estimate.known = estimate.known && item.known;
            estimate.flops += item.flops;
            estimate.seconds += item.seconds;
            estimate.steps += item.steps;
        }
        estimate.stages.push_back(item);
    }
    if (!pipeline.stages.empty()) {
        estimate.base_flops = estimate.steps * training_flops_per_step(pipeline.stages.back().config, settings.batch_rows,
                                                                      settings.input_length, settings.target_length);
        estimate.base_seconds = estimate.base_flops / settings.flops_per_second;
    }
    return estimate;
}

std::string flops_text(double flops) {
    const char* units[] = {"FLOP", "kFLOP", "MFLOP", "GFLOP", "TFLOP", "PFLOP", "EFLOP", "ZFLOP"};
    int unit = 0;
    while (flops >= 1000 && unit < 7) flops /= 1000, ++unit;
    char text[32];
    std::snprintf(text, sizeof text, "%.3g %s", flops, units[unit]);
    return text;
}

std::string duration_text(double seconds) {
    char text[48];
    if (seconds < 60) {
        std::snprintf(text, sizeof text, "%.0f s", seconds);
    } else if (seconds < 3600) {
        std::snprintf(text, sizeof text, "%.0f min", seconds / 60);
    } else if (seconds < 48 * 3600) {
        std::snprintf(text, sizeof text, "%.0f h %02.0f min", std::floor(seconds / 3600), std::floor(std::fmod(seconds, 3600) / 60));
    } else {
        std::snprintf(text, sizeof text, "%.1f days", seconds / 86400);
    }
    return text;
}

}  // namespace gs
