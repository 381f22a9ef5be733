#include "core/train/stage_plan.h"

#include <algorithm>

#include "core/pipeline/pipeline_estimate.h"

namespace gs {

StagePlan::StagePlan(Pipeline pipeline, bool restart_schedule_on_growth, int64_t steps_per_epoch)
    : pipeline_(std::move(pipeline)), restart_on_growth_(restart_schedule_on_growth), steps_per_epoch_(steps_per_epoch) {}

int64_t StagePlan::budget_steps(int stage) const {
    return gs::budget_steps(pipeline_.stages[stage].budget, steps_per_epoch_).value_or(-1);
}

bool StagePlan::schedule_restarts_at(int stage) const {
    if (stage == 0) return true;
    return pipeline_.transitions[stage - 1].from_pretrained || restart_on_growth_;
}

std::optional<int64_t> StagePlan::schedule_span(int stage) const {
    int first = stage;
    while (!schedule_restarts_at(first)) --first;
    int64_t total = 0;
    for (int s = first; s < stages(); ++s) {
        if (s > first && schedule_restarts_at(s)) break;
        if (pipeline_.stages[s].pretrained) continue;  // a finished model trains no steps
        const int64_t steps = budget_steps(s);
        if (steps < 0) return std::nullopt;
        total += steps;
    }
    return total;
}

bool StagePlan::budget_spent(int stage, const StageProgress& progress, std::optional<double> target) const {
    const Budget& budget = pipeline_.stages[stage].budget;
    switch (budget.kind) {
        case Budget::Kind::seconds: return progress.seconds >= budget.value;
        case Budget::Kind::target_loss:
        case Budget::Kind::reference_loss: return progress.valid_loss && target && *progress.valid_loss <= *target;
        default: return progress.steps >= budget_steps(stage);
    }
}

double StagePlan::stage_eta(int stage, const StageProgress& progress, double step_seconds) const {
    const Budget& budget = pipeline_.stages[stage].budget;
    if (budget.kind == Budget::Kind::seconds) return std::max(0.0, budget.value - progress.seconds);
    const int64_t steps = budget_steps(stage);
    if (steps < 0 || step_seconds <= 0) return -1;
    return step_seconds * static_cast<double>(std::max<int64_t>(0, steps - progress.steps));
}

double StagePlan::run_eta(int stage, double stage_eta, double step_seconds, const std::vector<double>& flops_per_step) const {
    if (stage_eta < 0) return -1;
    double eta = stage_eta;
    for (int s = stage + 1; s < stages(); ++s) {
        const Budget& budget = pipeline_.stages[s].budget;
        if (budget.kind == Budget::Kind::seconds) {
            eta += budget.value;
            continue;
        }
        const int64_t steps = budget_steps(s);
        if (steps < 0 || step_seconds <= 0) return -1;
        // Later stages are larger: their steps take longer in proportion to their FLOPs.
        eta += step_seconds * flops_per_step[s] / flops_per_step[stage] * static_cast<double>(steps);
    }
    return eta;
}

}  // namespace gs
