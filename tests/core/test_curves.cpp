// Learning-curve figures against values worked out by hand.
#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

#include "core/analysis/curves.h"
#include "core/store/results_table.h"
#include "core/io/files.h"
#include "test_support.h"

namespace gs {
namespace {

MetricRow row(int64_t stage, int64_t step, std::optional<double> train, std::optional<double> valid) {
    MetricRow r;
    r.stage_index = stage, r.step = step, r.tokens = step * 1000, r.flops = step * 1e12, r.wall_seconds = step * 36.0;
    r.train_loss = train, r.valid_loss = valid;
    return r;
}

TEST(Curves, FirstReachInterpolatesBetweenTheBracketingPoints) {
    const Curve curve = {{0, 5.0}, {10, 3.0}, {20, 2.0}, {30, 1.5}};
    EXPECT_DOUBLE_EQ(*first_reach(curve, 2.5), 15.0);   // halfway from 3.0 to 2.0
    EXPECT_DOUBLE_EQ(*first_reach(curve, 2.0), 20.0);   // exactly on a point
    EXPECT_DOUBLE_EQ(*first_reach(curve, 9.0), 0.0);    // already below at the start
    EXPECT_FALSE(first_reach(curve, 1.0));
    // The first crossing counts, not a later one after a growth jump.
    const Curve jump = {{0, 4.0}, {10, 2.0}, {10, 3.0}, {20, 1.8}};
    EXPECT_DOUBLE_EQ(*first_reach(jump, 2.5), 7.5);
}

TEST(Curves, ExtractionOnEveryAxisAndAlignedToStageStart) {
    const std::vector<MetricRow> rows = {row(0, 1, 6.0, std::nullopt), row(0, 2, 5.0, 4.8), row(1, 2, std::nullopt, 5.1),
                                         row(1, 3, 4.5, std::nullopt), row(1, 4, 4.0, 3.9)};
    const Curve valid = extract_curve(rows, CurveAxis::hours, CurveKind::validation);
    ASSERT_EQ(valid.size(), 3u);
    EXPECT_DOUBLE_EQ(valid[0].x, 0.02);  // 72 s
    EXPECT_DOUBLE_EQ(valid[2].y, 3.9);
    const Curve train = extract_curve(rows, CurveAxis::step, CurveKind::training, /*stage_start=*/true);
    ASSERT_EQ(train.size(), 4u);
    EXPECT_DOUBLE_EQ(train[2].x, 1.0);  // stage 1 starts at step 2
    EXPECT_DOUBLE_EQ(extract_curve(rows, CurveAxis::flops, CurveKind::validation)[1].x, 2e12);
    const ReachFigures reach = time_to_reach(rows, 4.0);
    // Validation points: (2, 4.8), (2, 5.1), (4, 3.9): the crossing lies between the last two.
    // Double arithmetic of a few operations on values below 10, written in another order: ulps
    // of 1e-15, far below 1e-12.
    EXPECT_NEAR(*reach.steps, 2.0 + (5.1 - 4.0) / (5.1 - 3.9) * 2.0, 1e-12);
    EXPECT_NEAR(*reach.hours, *reach.steps * 0.01, 1e-12);
}

TEST(Curves, DebiasedEmaMatchesTheHandComputation) {
    const Curve smoothed = smooth_ema({{0, 4.0}, {1, 2.0}, {2, 3.0}}, 0.5);
    EXPECT_DOUBLE_EQ(smoothed[0].y, 4.0);                            // debiasing keeps the first value
    EXPECT_DOUBLE_EQ(smoothed[1].y, (0.25 * 4.0 + 0.5 * 2.0) / 0.75);  // (0.5*0.5*4 + 0.5*2) / (1 - 0.25)
    EXPECT_DOUBLE_EQ(smoothed[2].y, (0.125 * 4.0 + 0.25 * 2.0 + 0.5 * 3.0) / 0.875);
    EXPECT_DOUBLE_EQ(smooth_ema({{0, 1.0}, {1, 7.0}}, 0.0)[1].y, 7.0);
}

TEST(Curves, MinMaxDownsamplingKeepsTheSpikeAndTheEnds) {
    Curve curve;
    for (int i = 0; i < 10000; ++i) curve.push_back({static_cast<double>(i), 3.0 - i * 1e-4});
    curve[6543].y = 9.0;  // the jump right after a growth step
    const Curve kept = downsample_min_max(curve, 100);
    EXPECT_LE(kept.size(), 400u);
    EXPECT_DOUBLE_EQ(kept.front().x, 0.0);
    EXPECT_DOUBLE_EQ(kept.back().x, 9999.0);
    bool spike = false;
    for (const auto& p : kept) spike = spike || (p.x == 6543.0 && p.y == 9.0);
    EXPECT_TRUE(spike);
    for (size_t i = 1; i < kept.size(); ++i) EXPECT_LT(kept[i - 1].x, kept[i].x);
}

TEST(Curves, ResamplingOntoACommonGridAndItsCsv) {
    const Curve a = {{0, 4.0}, {10, 2.0}};
    const Curve b = {{5, 3.0}, {15, 1.0}};
    const std::vector<double> grid = common_grid({a, b}, 4);
    EXPECT_EQ(grid, (std::vector<double>{0, 5, 10, 15}));
    const std::vector<double> values = resample(a, grid);
    EXPECT_DOUBLE_EQ(values[1], 3.0);
    EXPECT_TRUE(std::isnan(values[3]));
    EXPECT_EQ(curves_csv("step", {"a", "b"}, {a, b}, grid), "step,a,b\n0,4,\n5,3,3\n10,2,2\n15,,1\n");
}

TEST(ResultsTable, RatiosAndTimeToReachTheBaseLoss) {
    test::TempDir dir;
    Store store(dir.file("ws.db"));
    RunRecord base;
    base.name = "B", base.pipeline = "B";
    const int64_t base_id = store.create_run(base);
    std::vector<MetricRow> base_rows = {row(0, 50, 3.0, 3.0), row(0, 100, 2.0, 2.0)};  // 1 h in all, final loss 2.0
    for (auto& r : base_rows) r.run_id = base_id;
    store.add_metrics(base_rows);
    RunRecord grown;
    grown.name = "S_a_B", grown.pipeline = "S_a_B";
    const int64_t grown_id = store.create_run(grown);
    std::vector<MetricRow> rows = {row(0, 20, 3.0, 3.0), row(1, 40, 2.5, 2.5), row(1, 60, 1.5, 1.5)};
    for (auto& r : rows) r.run_id = grown_id;
    store.add_metrics(rows);
    store.set_run_status(base_id, RunStatus::done);
    store.add_result({grown_id, "klue-nli", "accuracy", 70.0, ""});
    store.add_result({grown_id, "korquad-ext", "f1", 86.0, ""});
    store.add_result({grown_id, "korquad-gen", "f1", 85.0, ""});
    store.add_result({grown_id, "summarization", "rouge-l-f1", 41.0, ""});

    const ResultsTable table = build_results_table(store);
    EXPECT_EQ(table.reference_run, "B");
    EXPECT_EQ(*table.reference_loss, 2.0);
    const ResultsRow& g = table.rows.at(1);
    EXPECT_DOUBLE_EQ(*g.ratio_to_reference_pct, 60.0);   // 0.6 h of 1 h
    EXPECT_DOUBLE_EQ(*g.reach.steps, 50.0);              // halfway from 2.5 (step 40) to 1.5 (step 60)
    EXPECT_DOUBLE_EQ(*g.reach_ratio_pct, 50.0);
    EXPECT_DOUBLE_EQ(*g.average_score, (70.0 + 86.0 + 85.0 + 41.0) / 4);
    EXPECT_DOUBLE_EQ(*table.rows.at(0).reach_ratio_pct, 100.0);
    const std::string csv = results_csv(table);
    EXPECT_NE(csv.find("2,S_a_B,,0.6000,60.00,1.5000,70.00,,86.00,,85.00,41.00,70.50,,S_a_B," + std::to_string(grown_id) +
                       ",queued,0,"),
              std::string::npos)
        << csv;
    // Reach: 0.5 h, step 50, 5e13 FLOPs, 50 % of Base's time; then 6e13 FLOPs in all, 60 % of
    // Base's 1e14, and the reach's 5e13 is 50 % of it.
    EXPECT_NE(csv.find(",0.5000,50.0,5.0000e+13,50.00,6.0000e+13,60.00,50.00\r\n"), std::string::npos) << csv;
    EXPECT_DOUBLE_EQ(*g.flops_ratio_pct, 60.0);
    EXPECT_DOUBLE_EQ(*g.reach_flops_ratio_pct, 50.0);
}

// The study's own table, imported: the averages and ratios recomputed from its components
// match the published ones to 0.01.
TEST(ResultsTable, TheStudysTableImportsWithItsOwnAveragesAndRatios) {
    const std::string shipped = std::string(GS_TEST_DATA_DIR) + "/../../experiments/reference/ko-bert2bert-table2.csv";
    test::TempDir dir;
    Store store(dir.file("ws.db"));
    store.replace_external_results("Table 2", read_results_csv(shipped, "Table 2"));
    store.replace_external_results("Table 2", read_results_csv(shipped, "Table 2"));  // a re-import replaces
    const ResultsTable table = build_results_table(store);
    ASSERT_EQ(table.rows.size(), 11u);
    std::istringstream published(read_text_file(shipped));
    std::string line;
    std::getline(published, line);
    for (const ResultsRow& row : table.rows) {
        ASSERT_TRUE(std::getline(published, line));
        std::vector<std::string> fields;
        std::stringstream fields_in(line);
        for (std::string field; std::getline(fields_in, field, ',');) fields.push_back(field);
        EXPECT_EQ(row.pipeline, fields[1]);
        EXPECT_EQ(row.source, "Table 2");
        // The seed table gives 2 decimals; the ratio is recomputed from its hours (half a unit of
        // the second decimal each way).
        EXPECT_NEAR(*row.ratio_to_reference_pct, std::stod(fields[4]), 0.01) << row.pipeline;
        EXPECT_NEAR(*row.average_score, std::stod(fields[12]), 0.01) << row.pipeline;
    }
    // An export reads back to the same values.
    const std::string exported = dir.file("export.csv");
    write_file_atomically(exported, results_csv(table));
    const std::vector<ExternalResult> back = read_results_csv(exported, "again");
    const std::vector<ExternalResult> original = store.external_results();
    ASSERT_EQ(back.size(), original.size());
    for (size_t i = 0; i < back.size(); ++i) {
        EXPECT_EQ(back[i].model, original[i].model);
        EXPECT_EQ(back[i].budget, original[i].budget);
        // The CSV writes doubles with enough digits to read back within 1e-9 of these values (< 100).
        EXPECT_NEAR(*back[i].valid_loss, *original[i].valid_loss, 1e-9);
        EXPECT_NEAR(*back[i].summarization_rouge_l_f1, *original[i].summarization_rouge_l_f1, 1e-9);
    }
    EXPECT_NE(results_markdown(table).find("| 11 | T_init-da_B | 5 | 23.4000 | 100.00 | 0.9870 |"), std::string::npos);
    EXPECT_NE(results_latex(table).find("T\\_init-da\\_B"), std::string::npos);
}

TEST(ResultsTable, BadImportsNameTheLineAndColumn) {
    test::TempDir dir;
    write_file_atomically(dir.file("typo.csv"), "model,valid_los\nB,1.0\n");
    try {
        read_results_csv(dir.file("typo.csv"), "x");
        FAIL();
    } catch (const std::invalid_argument& error) {
        EXPECT_EQ(std::string(error.what()), dir.file("typo.csv") + ":1: unknown column 'valid_los' (expected the columns of seed_table2.csv)");
    }
    write_file_atomically(dir.file("bad.csv"), "model,valid_loss\nB,1.0\nS,one\n");
    try {
        read_results_csv(dir.file("bad.csv"), "x");
        FAIL();
    } catch (const std::invalid_argument& error) {
        EXPECT_EQ(std::string(error.what()), dir.file("bad.csv") + ":3: column 'valid_loss': 'one' is not a number");
    }
}

}  // namespace
}  // namespace gs
