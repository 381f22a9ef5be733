// The stage plan on its own, without a model or data: budgets in steps, the schedule's segments,
// when a budget is spent, and the time left, each against figures worked out by hand.
#include <gtest/gtest.h>

#include "core/pipeline/pipeline.h"
#include "core/train/stage_plan.h"

namespace gs {
namespace {

Pipeline pipeline_of(const std::string& name, const std::string& budgets) {
    Pipeline pipeline = parse_pipeline_name(name, SizeCatalog());
    pipeline.apply_budget_notation(budgets);
    return pipeline;
}

TEST(StagePlan, BudgetsCountStepsOnceTheEpochIsKnown) {
    const StagePlan plan(pipeline_of("T_d_S_a_B", "100steps-2-1.5h"), false, 50);
    EXPECT_EQ(plan.stages(), 3);
    EXPECT_EQ(plan.budget_steps(0), 100);
    EXPECT_EQ(plan.budget_steps(1), 100);  // 2 epochs of 50 steps
    EXPECT_EQ(plan.budget_steps(2), -1);   // a time budget
}

TEST(StagePlan, TheScheduleSpansTheStagesBetweenRestarts) {
    const Pipeline pipeline = pipeline_of("T_d_S_a_B", "100steps-2-300steps");
    const StagePlan continuing(pipeline, false, 50);
    for (int stage = 0; stage < 3; ++stage) {
        EXPECT_EQ(continuing.schedule_restarts_at(stage), stage == 0);
        EXPECT_EQ(continuing.schedule_span(stage), 500) << stage;  // 100 + 100 + 300
    }
    const StagePlan restarting(pipeline, true, 50);
    EXPECT_EQ(restarting.schedule_span(0), 100);
    EXPECT_EQ(restarting.schedule_span(1), 100);
    EXPECT_EQ(restarting.schedule_span(2), 300);

    // A time budget in the segment leaves its end open: no decay.
    EXPECT_EQ(StagePlan(pipeline_of("T_d_S_a_B", "100steps-2-1h"), false, 50).schedule_span(0), std::nullopt);
    EXPECT_EQ(StagePlan(pipeline_of("T_d_S_a_B", "100steps-2-1h"), true, 50).schedule_span(1), 100);

    // init-: the grown model starts a schedule of its own; the finished model trains no steps.
    const StagePlan init(pipeline_of("S_init-a_B", "300steps"), false, 50);
    EXPECT_TRUE(init.schedule_restarts_at(1));
    EXPECT_EQ(init.schedule_span(1), 300);
}

TEST(StagePlan, EachKindOfBudgetIsSpentByItsOwnMeasure) {
    const StagePlan plan(pipeline_of("T_d_S_a_B", "100steps-1.5h-loss<=1.1"), false, 50);
    auto progress = [](int64_t steps, double seconds, std::optional<double> loss) {
        StageProgress p;
        p.steps = steps, p.seconds = seconds, p.valid_loss = loss;
        return p;
    };
    EXPECT_FALSE(plan.budget_spent(0, progress(99, 1e9, 0.1), std::nullopt));
    EXPECT_TRUE(plan.budget_spent(0, progress(100, 0, std::nullopt), std::nullopt));
    EXPECT_FALSE(plan.budget_spent(1, progress(1000000, 5399, 0.1), std::nullopt));
    EXPECT_TRUE(plan.budget_spent(1, progress(1, 5400, std::nullopt), std::nullopt));
    EXPECT_FALSE(plan.budget_spent(2, progress(1000000, 1e9, 1.2), 1.1));
    EXPECT_TRUE(plan.budget_spent(2, progress(1, 0, 1.1), 1.1));
    EXPECT_FALSE(plan.budget_spent(2, progress(1, 0, std::nullopt), 1.1));  // not validated yet

    const StagePlan reference(pipeline_of("B", "loss<=[B0]"), false, 50);
    EXPECT_FALSE(reference.budget_spent(0, progress(1, 0, 0.5), std::nullopt));
    EXPECT_TRUE(reference.budget_spent(0, progress(1, 0, 1.2), 1.3));
}

TEST(StagePlan, TimeLeftCountsLaterStagesByTheirFlops) {
    const StagePlan plan(pipeline_of("T_d_S_a_B", "100steps-200steps-1h"), false, 50);
    StageProgress progress;
    progress.steps = 40;
    EXPECT_DOUBLE_EQ(plan.stage_eta(0, progress, 0.5), 30.0);  // 60 steps at 0.5 s
    EXPECT_DOUBLE_EQ(plan.stage_eta(0, progress, 0.0), -1.0);  // no step timed yet
    // Stage S's 200 steps take twice as long as T's, stage B's hour is an hour.
    EXPECT_DOUBLE_EQ(plan.run_eta(0, 30.0, 0.5, {1.0, 2.0, 4.0}), 30.0 + 200.0 + 3600.0);
    EXPECT_DOUBLE_EQ(plan.run_eta(0, -1.0, 0.5, {1.0, 2.0, 4.0}), -1.0);

    progress.seconds = 400;
    EXPECT_DOUBLE_EQ(plan.stage_eta(2, progress, 0.5), 3200.0);
    const StagePlan open(pipeline_of("T_d_S", "100steps-loss<=1.1"), false, 50);
    EXPECT_DOUBLE_EQ(open.stage_eta(1, progress, 0.5), -1.0);
    EXPECT_DOUBLE_EQ(open.run_eta(0, 30.0, 0.5, {1.0, 2.0}), -1.0);
}

}  // namespace
}  // namespace gs
