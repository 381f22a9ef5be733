// The stages of a pipeline as a run walks them, without torch: each stage's budget in steps
// (once the data's epoch is known), where the learning-rate schedule restarts and how many steps
// its decay spans, when a stage's budget is spent, and the time left.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "core/pipeline/pipeline.h"

namespace gs {

// Where a stage stands, as its budget measures it.
struct StageProgress {
    int64_t steps = 0;                 // optimiser steps taken in the stage
    double seconds = 0;                // training time spent in it
    std::optional<double> valid_loss;  // the latest validation loss
};

class StagePlan {
public:
    // `restart_schedule_on_growth`: the schedule starts again at every growth (on_growth.schedule
    // "restart"); it always does at the first stage and after an init- transition.
    StagePlan(Pipeline pipeline, bool restart_schedule_on_growth, int64_t steps_per_epoch);

    int stages() const { return static_cast<int>(pipeline_.stages.size()); }
    // The stage's budget in steps; -1 for a time or loss budget.
    int64_t budget_steps(int stage) const;
    bool schedule_restarts_at(int stage) const;
    // The steps the schedule's decay spans for the stages from the last restart at or before
    // `stage` up to the next: the sum of their budgets; nullopt when one of them is a time or
    // loss budget (no known end).
    std::optional<int64_t> schedule_span(int stage) const;
    // `target`: the loss a loss budget trains down to (its own, or the reference run's).
    bool budget_spent(int stage, const StageProgress& progress, std::optional<double> target) const;
    // Seconds left in the stage at `step_seconds` a step; -1 when nobody can know (a loss budget,
    // no step timed yet).
    double stage_eta(int stage, const StageProgress& progress, double step_seconds) const;
    // Seconds left in the run: the stage's `stage_eta`, then each later stage's budget, its steps
    // timed at `step_seconds` scaled by its FLOPs per step against this stage's
    // (`flops_per_step[i]`: stage i's); -1 when a stage's time cannot be known.
    double run_eta(int stage, double stage_eta, double step_seconds, const std::vector<double>& flops_per_step) const;

private:
    Pipeline pipeline_;
    bool restart_on_growth_;
    int64_t steps_per_epoch_;
};

}  // namespace gs
