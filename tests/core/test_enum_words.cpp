// The words the enums stand for in the database, in files and in the CLI's output: each value
// reads back as itself, the words are exactly the ones old databases and files hold, and a word
// that is no value is refused by name.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "core/store/store_enums.h"
#include "core/train/train_enums.h"

namespace gs {
namespace {

template <typename Enum, typename Parse>
void expect_words(const std::vector<std::pair<Enum, std::string>>& words, Parse parse) {
    for (const auto& [value, word] : words) {
        EXPECT_EQ(to_string(value), word);
        EXPECT_EQ(parse(word), value) << word;
    }
}

// The message of what `parse` throws for `word`.
template <typename Parse>
std::string refusal(Parse parse, const std::string& word) {
    try {
        parse(word);
    } catch (const std::invalid_argument& error) {
        return error.what();
    }
    return "accepted";
}

TEST(EnumWords, RunStatusesAreTheWordsStored) {
    expect_words<RunStatus>({{RunStatus::queued, "queued"},
                             {RunStatus::running, "running"},
                             {RunStatus::paused, "paused"},
                             {RunStatus::done, "done"},
                             {RunStatus::failed, "failed"},
                             {RunStatus::cancelled, "cancelled"},
                             {RunStatus::interrupted, "interrupted"}},
                            parse_run_status);
    EXPECT_EQ(refusal(parse_run_status, "finished"),
              "unknown run status 'finished' (expected queued, running, paused, done, failed, cancelled, interrupted)");
    EXPECT_NE(refusal(parse_run_status, "Done").find("'Done'"), std::string::npos);  // words are exact
}

TEST(EnumWords, OnlyDoneFailedAndCancelledRunsHaveEnded) {
    for (RunStatus status : {RunStatus::done, RunStatus::failed, RunStatus::cancelled}) EXPECT_TRUE(is_finished(status));
    for (RunStatus status : {RunStatus::queued, RunStatus::running, RunStatus::paused, RunStatus::interrupted}) {
        EXPECT_FALSE(is_finished(status)) << status;
    }
}

TEST(EnumWords, CheckpointKindsAreTheWordsStored) {
    expect_words<CheckpointKind>(
        {{CheckpointKind::interval, "interval"}, {CheckpointKind::stage_end, "stage-end"}, {CheckpointKind::final, "final"}},
        parse_checkpoint_kind);
    EXPECT_EQ(refusal(parse_checkpoint_kind, "stage_end"),
              "unknown checkpoint kind 'stage_end' (expected interval, stage-end, final)");
}

TEST(EnumWords, RunPhasesAreTheWordsShown) {
    expect_words<RunPhase>({{RunPhase::preparing_data, "preparing data"},
                            {RunPhase::training, "training"},
                            {RunPhase::validating, "validating"},
                            {RunPhase::growing, "growing"},
                            {RunPhase::checkpoint, "checkpoint"}},
                           parse_run_phase);
    EXPECT_EQ(refusal(parse_run_phase, "loading"),
              "unknown run phase 'loading' (expected preparing data, training, validating, growing, checkpoint)");
}

TEST(EnumWords, PrecisionsAreTheWordsOfExperimentFiles) {
    expect_words<Precision>({{Precision::fp32, "fp32"}, {Precision::bf16, "bf16"}}, parse_precision);
    EXPECT_EQ(refusal(parse_precision, "fp16"), "unknown precision 'fp16' (expected fp32, bf16)");
}

}  // namespace
}  // namespace gs
