// The downstream tasks' file formats: small samples written here, and the real dev sets when
// GS_SHARED_DATA_DIR points at them.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "core/eval/task_data.h"
#include "core/io/files.h"
#include "test_support.h"

namespace gs {
namespace {

std::string shared_data(const std::string& relative) {
    const char* root = std::getenv("GS_SHARED_DATA_DIR");
    if (!root || !std::filesystem::exists(std::string(root) + "/" + relative)) return "";
    return std::string(root) + "/" + relative;
}

TEST(TaskData, KlueNliInBothFormats) {
    test::TempDir dir;
    write_file_atomically(dir.file("dev.json"),
                          R"([{"guid": "g1", "premise": "비가 온다.", "hypothesis": "날씨가 맑다.", "gold_label": "contradiction"},
                              {"guid": "g2", "premise": "고양이가 잔다.", "hypothesis": "동물이 잔다.", "gold_label": "entailment"}])");
    const auto klue = read_klue_nli(dir.file("dev.json"));
    ASSERT_EQ(klue.size(), 2u);
    EXPECT_EQ(klue[0].label, NliLabel::contradiction);
    EXPECT_EQ(klue[1].hypothesis, "동물이 잔다.");
    write_file_atomically(dir.file("hf.jsonl"), "{\"premise\": \"a\", \"hypothesis\": \"b\", \"label\": 1}\n");
    EXPECT_EQ(read_klue_nli(dir.file("hf.jsonl")).at(0).label, NliLabel::neutral);
    write_file_atomically(dir.file("bad.json"), R"([{"premise": "a", "hypothesis": "b", "gold_label": "maybe"}])");
    try {
        read_klue_nli(dir.file("bad.json"));
        FAIL();
    } catch (const std::invalid_argument& error) {
        EXPECT_EQ(std::string(error.what()), dir.file("bad.json") +
                                                 ": record 1: field 'gold_label': 'maybe', expected entailment, neutral or contradiction");
    }
}

TEST(TaskData, KorQuadAndSummaries) {
    test::TempDir dir;
    write_file_atomically(dir.file("squad.json"), R"({"version": "KorQuAD_v1.0_dev", "data": [{"title": "베토벤",
        "paragraphs": [{"context": "베토벤은 교향곡 9번을 작곡했다.", "qas": [{"id": "q1", "question": "무엇을 작곡했나?",
        "answers": [{"text": "교향곡 9번", "answer_start": 5}]}]}]}]})");
    const auto paragraphs = read_korquad(dir.file("squad.json"));
    ASSERT_EQ(paragraphs.size(), 1u);
    EXPECT_EQ(paragraphs[0].questions[0].answer_starts[0], 5u);
    EXPECT_EQ(korquad_questions(paragraphs)[0].answers[0], "교향곡 9번");

    write_file_atomically(dir.file("aihub.json"), R"({"documents": [{"id": "1", "text": [[{"index": 0, "sentence": "첫 문장."},
        {"index": 1, "sentence": "둘째 문장."}], [{"index": 2, "sentence": "셋째 문장."}]], "abstractive": ["요약이다."]}]})");
    const auto aihub = read_summaries(dir.file("aihub.json"));
    ASSERT_EQ(aihub.size(), 1u);
    EXPECT_EQ(aihub[0].document, "첫 문장. 둘째 문장. 셋째 문장.");
    EXPECT_EQ(aihub[0].summary, "요약이다.");
    write_file_atomically(dir.file("pairs.jsonl"), "{\"document\": \"본문\", \"summary\": \"요약\"}\n");
    EXPECT_EQ(read_summaries(dir.file("pairs.jsonl")).at(0).summary, "요약");
    std::filesystem::create_directories(dir.path() / "sci");
    write_file_atomically(dir.file("sci/01.json"), R"({"title": "t", "sentences": ["가.", "나.", "다."], "summaries": [0, 2]})");
    EXPECT_EQ(read_summaries(dir.file("sci")).at(0).summary, "가. 다.");
}

TEST(TaskData, TheRealDevSetsRead) {
    const std::string klue = shared_data("klue-nli/klue-nli-v1.1_dev.json");
    const std::string korquad = shared_data("korquad-1.0/KorQuAD_v1.0_dev.json");
    const std::string news = shared_data("sci-news-sum-kr-50");
    if (klue.empty() || korquad.empty() || news.empty()) GTEST_SKIP() << "GS_SHARED_DATA_DIR with the dev sets is not set";
    const auto nli = read_klue_nli(klue);
    ASSERT_EQ(nli.size(), 3000u);
    int entailment = 0;
    for (const auto& e : nli) entailment += e.label == NliLabel::entailment;
    EXPECT_EQ(entailment, 1000);  // the dev set is balanced
    const auto paragraphs = read_korquad(korquad);
    EXPECT_EQ(paragraphs.size(), 964u);
    const auto questions = korquad_questions(paragraphs);
    EXPECT_EQ(questions.size(), 5774u);
    // Every gold answer sits in its context where answer_start says (counted in characters).
    for (const auto& p : paragraphs) {
        for (const auto& q : p.questions) EXPECT_NE(p.context.find(q.answers[0]), std::string::npos) << q.id;
    }
    // Answering with the first gold answer scores 100 on both metrics.
    std::map<std::string, std::string> gold;
    for (const auto& q : questions) gold[q.id] = q.answers[0];
    const QaScore score = korquad_score(questions, gold);
    EXPECT_DOUBLE_EQ(score.exact_match, 100.0);
    EXPECT_DOUBLE_EQ(score.f1, 100.0);
    EXPECT_EQ(read_summaries(news).size(), 50u);
}

}  // namespace
}  // namespace gs
