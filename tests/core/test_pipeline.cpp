// The pipeline specification: the study's names and budgets both ways, and the rules that
// validation reports with the stage they concern.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/pipeline/pipeline.h"

namespace gs {
namespace {

// Table 2 of the study: pipeline names and their "epochs or steps" column.
const std::vector<std::pair<std::string, std::string>> kTable2 = {
    {"T", "5"},           {"S", "5"},           {"S_a_B", "2-3"},          {"T_d_S_a_B", "1-1-3"},
    {"T_da_B", "2-3"},    {"B", "5"},           {"S_init-a_B", "28000"},   {"T_init-d_S_a_B", "2-3"},
    {"S_init-f_B", "5"},  {"S_init-a_B", "5"},  {"T_init-da_B", "5"},
};

TEST(Pipeline, TheElevenTable2NamesAndBudgetsRoundTrip) {
    const SizeCatalog sizes;
    for (const auto& [name, budget] : kTable2) {
        Pipeline pipeline = parse_pipeline_name(name, sizes);
        EXPECT_EQ(pipeline.name(), name);
        pipeline.apply_budget_notation(budget);
        EXPECT_EQ(pipeline.budget_notation(), budget) << name;
        EXPECT_TRUE(validate_pipeline(pipeline).empty()) << name << ": " << validate_pipeline(pipeline)[0].message;
        const Pipeline back = pipeline_from_json(nlohmann::json::parse(pipeline.to_json().dump()), "pipeline.json");
        EXPECT_EQ(back.name(), name);
        EXPECT_EQ(back.budget_notation(), budget);
    }
}

TEST(Pipeline, NamesBecomeStagesAndTransitions) {
    Pipeline p = parse_pipeline_name("T_init-d_S_a_B", SizeCatalog());
    ASSERT_EQ(p.stages.size(), 3u);
    ASSERT_EQ(p.transitions.size(), 2u);
    EXPECT_TRUE(p.stages[0].pretrained);
    EXPECT_EQ(p.stages[0].source, "T");
    EXPECT_EQ(p.stages[1].config.num_layers, 12);
    EXPECT_EQ(p.stages[2].config.d_ff, 3072);
    EXPECT_TRUE(p.transitions[0].from_pretrained);
    EXPECT_TRUE(p.transitions[0].growth.op.depth);
    EXPECT_EQ(p.transitions[0].growth.op.width, WidthOperator::none);
    EXPECT_FALSE(p.transitions[1].from_pretrained);
    EXPECT_EQ(p.transitions[1].growth.op.width, WidthOperator::aki);
    EXPECT_EQ(p.trained_stages(), (std::vector<size_t>{1, 2}));

    p.apply_budget_notation("2-3");
    EXPECT_EQ(p.stages[1].budget.kind, Budget::Kind::epochs);
    EXPECT_EQ(p.stages[1].budget.value, 2);
    EXPECT_EQ(p.stages[2].budget.value, 3);

    Pipeline steps = parse_pipeline_name("S_init-a_B", SizeCatalog());
    steps.apply_budget_notation("28000");
    EXPECT_EQ(steps.stages[1].budget.kind, Budget::Kind::steps);
    EXPECT_EQ(steps.stages[1].budget.value, 28000);
}

// Sizes make up a pipeline's name, the default name of its runs: the run-name rule applies.
TEST(Pipeline, CustomSizeNamesObeyTheRunNameRule) {
    SizeCatalog sizes;
    const T5Config config = T5Config::preset("small");
    for (const std::string bad : {"", "a b", "S[8]", "a/b", "..", "-x", "S$8", "S;8", "S\n8"}) {
        try {
            sizes.add(bad, config);
            ADD_FAILURE() << bad << " accepted";
        } catch (const PipelineError& error) {
            EXPECT_NE(std::string(error.what()).find("(it becomes part of a run's name)"), std::string::npos) << error.what();
        }
    }
    sizes.add("S+8.v2", config);
    sizes.add("소형", config);
    EXPECT_EQ(parse_pipeline_name("T_d_S+8.v2_a_소형", sizes).name(), "T_d_S+8.v2_a_소형");
}

TEST(Pipeline, CustomSizesPrintByTheirName) {
    SizeCatalog sizes;
    T5Config eight = T5Config::preset("small");
    eight.num_layers = eight.num_decoder_layers = 8;
    sizes.add("S8", eight);
    Pipeline p = parse_pipeline_name("T_d_S8_d_S", sizes);
    EXPECT_EQ(p.name(), "T_d_S8_d_S");
    p.apply_budget_notation("1-1-90min");
    EXPECT_TRUE(validate_pipeline(p).empty());
    EXPECT_EQ(p.budget_notation(), "1-1-90min");
    EXPECT_THROW(sizes.add("S_8", eight), PipelineError);
}

std::string parse_error(const std::string& name) {
    try {
        parse_pipeline_name(name, SizeCatalog());
    } catch (const PipelineError& error) {
        return error.what();
    }
    return "";
}

TEST(Pipeline, InvalidNamesSayWhatIsWrong) {
    EXPECT_EQ(parse_error("S_x_B"),
              "pipeline 'S_x_B': growth operator 'x': unknown letter 'x' (expected d = depth, f = width by FPI, a = width "
              "by AKI)");
    EXPECT_EQ(parse_error("T_d"), "pipeline 'T_d': ends with the operator 'd'; expected a stage after it");
    EXPECT_EQ(parse_error("Q_a_B"), "pipeline 'Q_a_B': unknown stage size 'Q' (expected one of B, S, T)");
    EXPECT_EQ(parse_error("T__S"), "pipeline 'T__S': empty operator at position 2");
    EXPECT_EQ(parse_error(""), "pipeline '': empty name; expected stages joined by operators, like S_a_B");
    EXPECT_NE(parse_error("S_fa_B").find("repeats a depth or width operator"), std::string::npos);
    EXPECT_NE(parse_error("S_init-_B").find("empty growth operator"), std::string::npos);
}

std::vector<PipelineProblem> problems_of(const std::string& name, const std::string& budget, const SizeCatalog& sizes = SizeCatalog()) {
    Pipeline p = parse_pipeline_name(name, sizes);
    p.apply_budget_notation(budget);
    return validate_pipeline(p);
}

TEST(Pipeline, ValidationNamesTheStageAndTheRule) {
    auto problems = problems_of("S_d_B", "2-3");
    ASSERT_EQ(problems.size(), 1u);
    EXPECT_EQ(problems[0].transition, 0);
    EXPECT_EQ(problems[0].stage, 1);
    EXPECT_EQ(problems[0].message,
              "operator 'd' from stage 1 (S) to stage 2 (B): operator 'd' cannot change d_model (512 -> 768); width "
              "needs f or a (df, da)");
    problems = problems_of("B_a_S", "2-3");
    ASSERT_FALSE(problems.empty());
    EXPECT_EQ(problems[0].message, "operator 'a' from stage 1 (B) to stage 2 (S): d_model 768 -> 512: a model may only grow");
    problems = problems_of("T_a_B", "2-3");
    ASSERT_EQ(problems.size(), 1u);
    EXPECT_EQ(problems[0].message,
              "operator 'a' from stage 1 (T) to stage 2 (B): operator 'a' cannot change num_layers (6 -> 12); depth "
              "needs d (df, da)");

    SizeCatalog sizes;
    T5Config odd = T5Config::preset("base");
    odd.num_heads = 10;
    sizes.add("B10", odd);
    problems = problems_of("S_a_B10", "2-3", sizes);
    ASSERT_EQ(problems.size(), 1u);
    EXPECT_EQ(problems[0].stage, 1);
    EXPECT_EQ(problems[0].message, "stage 2 (B10): num_heads 10 x d_kv 64 = 640 does not match d_model 768");

    Pipeline unbudgeted = parse_pipeline_name("S_a_B", SizeCatalog());
    problems = validate_pipeline(unbudgeted);
    ASSERT_EQ(problems.size(), 2u);
    EXPECT_EQ(problems[1].message, "stage 2 (B): no training budget (epochs, steps, time or a target loss)");
}

TEST(Budget, NotationItemsParseAndPrint) {
    struct Case {
        std::string text;
        Budget::Kind kind;
        double value;
        std::string printed;
    };
    for (const Case& c : std::vector<Case>{{"2", Budget::Kind::epochs, 2, "2"},
                                           {"0.5", Budget::Kind::epochs, 0.5, "0.5"},
                                           {"3ep", Budget::Kind::epochs, 3, "3"},
                                           {"28000", Budget::Kind::steps, 28000, "28000"},
                                           {"500steps", Budget::Kind::steps, 500, "500steps"},
                                           {"1.5h", Budget::Kind::seconds, 5400, "90min"},
                                           {"90min", Budget::Kind::seconds, 5400, "90min"},
                                           {"2h", Budget::Kind::seconds, 7200, "2h"},
                                           {"45s", Budget::Kind::seconds, 45, "45s"},
                                           {"loss<=1.0994", Budget::Kind::target_loss, 1.0994, "loss<=1.0994"}}) {
        const Budget budget = Budget::parse(c.text);
        EXPECT_EQ(budget.kind, c.kind) << c.text;
        EXPECT_DOUBLE_EQ(budget.value, c.value) << c.text;
        EXPECT_EQ(budget.notation(), c.printed) << c.text;
        EXPECT_EQ(Budget::parse(budget.notation()), budget) << c.text;
    }
    Pipeline p = parse_pipeline_name("S_init-a_B", SizeCatalog());
    p.apply_budget_notation("loss<=[S_init-a_B]");
    EXPECT_EQ(p.stages[1].budget.kind, Budget::Kind::reference_loss);
    EXPECT_EQ(p.stages[1].budget.reference_run, "S_init-a_B");
    EXPECT_EQ(p.budget_notation(), "loss<=[S_init-a_B]");
}

TEST(Budget, ReferenceRunsAreListedOnceInStageOrder) {
    Pipeline p = parse_pipeline_name("T_d_S_a_B", SizeCatalog());
    EXPECT_TRUE(p.reference_runs().empty());
    p.apply_budget_notation("loss<=[B]-2-loss<=[B]");
    EXPECT_EQ(p.reference_runs(), std::vector<std::string>{"B"});
    p.apply_budget_notation("loss<=[S_init-a_B]-loss<=1.5-loss<=[B]");
    EXPECT_EQ(p.reference_runs(), (std::vector<std::string>{"S_init-a_B", "B"}));
}

TEST(Budget, BadBudgetsAreRefusedWithTheItem) {
    for (const std::string bad : {"abc", "0", "2x", "1.5steps", "loss<=", "h"}) {
        EXPECT_THROW(Budget::parse(bad), PipelineError) << bad;
    }
    Pipeline p = parse_pipeline_name("T_d_S_a_B", SizeCatalog());
    try {
        p.apply_budget_notation("2-3");
        FAIL();
    } catch (const PipelineError& error) {
        EXPECT_STREQ(error.what(), "budget '2-3' has 2 value(s) but pipeline T_d_S_a_B trains 3 stage(s) (T, S, B)");
    }
    EXPECT_THROW(Budget::from_json(nlohmann::json{{"weeks", 2}}, "stages[0].budget"), PipelineError);
    EXPECT_EQ(Budget::from_json(nlohmann::json{{"minutes", 30}}, "b").value, 1800);
}

}  // namespace
}  // namespace gs
