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

std::string sample(const std::string& name) { return test::data_path("downstream/" + name); }

TEST(TaskData, TheShippedSamplesReadInEveryFormat) {
    const auto klue = read_klue_nli(sample("klue-nli-v1.1_sample.json"));
    ASSERT_EQ(klue.size(), 9u);
    EXPECT_EQ(klue[0].guid, "klue-nli-v1_sample_00000");
    int per_label[3] = {0, 0, 0};
    for (const auto& e : klue) ++per_label[static_cast<int>(e.label)];
    EXPECT_EQ(per_label[0], 3);
    EXPECT_EQ(per_label[1], 3);
    EXPECT_EQ(per_label[2], 3);
    // The HF export (JSON Lines and a JSON array) numbers the same records' labels 0, 1, 2.
    auto hf = read_klue_nli(sample("klue-nli_hf_sample.jsonl"));
    const auto hf_array = read_klue_nli(sample("klue-nli_hf_sample.json"));
    hf.insert(hf.end(), hf_array.begin(), hf_array.end());
    ASSERT_EQ(hf.size(), 5u);
    for (size_t i = 0; i < hf.size(); ++i) {
        EXPECT_EQ(hf[i].guid, klue[i].guid);
        EXPECT_EQ(hf[i].hypothesis, klue[i].hypothesis);
        EXPECT_EQ(hf[i].label, klue[i].label) << i;
    }
    const auto paragraphs = read_korquad(sample("korquad-v1.0_sample.json"));
    ASSERT_EQ(paragraphs.size(), 3u);
    EXPECT_EQ(korquad_questions(paragraphs).size(), 7u);
    EXPECT_EQ(paragraphs[0].questions[1].answers[0], "교향곡 9번");
    EXPECT_EQ(paragraphs[0].questions[1].answer_starts[0], 40u);  // counted in characters by hand
    // The AIHub file and the JSON Lines file hold the same three articles.
    const auto aihub = read_summaries(sample("aihub-news-summary_sample.json"));
    const auto lines = read_summaries(sample("summary_sample.jsonl"));
    ASSERT_EQ(aihub.size(), 3u);
    ASSERT_EQ(lines.size(), 3u);
    for (size_t i = 0; i < 3; ++i) {
        EXPECT_EQ(lines[i].id, "news-" + aihub[i].id);
        EXPECT_EQ(lines[i].document, aihub[i].document);
        EXPECT_EQ(lines[i].summary, aihub[i].summary);
    }
    EXPECT_EQ(aihub[1].summary, "서울시가 심야 버스 노선을 열 개 늘린다.");
}

// The message of the error reading `text` as a file with `read`.
template <typename Read>
std::string error_reading(const test::TempDir& dir, const std::string& name, const std::string& text, Read read) {
    write_file_atomically(dir.file(name), text);
    try {
        read(dir.file(name));
    } catch (const std::invalid_argument& error) {
        const std::string message = error.what();
        return message.rfind(dir.file(name), 0) == 0 ? message.substr(dir.file(name).size()) : "(no file name) " + message;
    }
    return "no error";
}

TEST(TaskData, MalformedFilesAreRefusedNamingFileRecordAndField) {
    test::TempDir dir;
    EXPECT_EQ(error_reading(dir, "a.json", R"([{"premise": "a", "hypothesis": "b", "gold_label": "neutral"}, {"premise": "a", "gold_label": "neutral"}])",
                            read_klue_nli),
              ": record 2: field 'hypothesis': expected a string");
    EXPECT_EQ(error_reading(dir, "b.jsonl", "{\"premise\": \"a\", \"hypothesis\": \"b\", \"label\": 5}\n", read_klue_nli),
              ": record 1: expected 'gold_label' (a string) or 'label' (0, 1 or 2)");
    EXPECT_EQ(error_reading(dir, "c.jsonl", "{\"guid\": {}, \"premise\": \"a\", \"hypothesis\": \"b\", \"label\": 0}\n", read_klue_nli),
              ": record 1: field 'guid': expected a string or a whole number");
    EXPECT_EQ(error_reading(dir, "d.jsonl", "{\"premise\": \"a\", \"hypothesis\": \"b\", \"label\": 0}\n{\"premise\": \n", read_klue_nli)
                  .substr(0, 17),
              ":2: invalid JSON:");

    EXPECT_EQ(error_reading(dir, "e.json", R"({"data": [{"title": "t", "paragraphs": {}}]})", read_korquad),
              ": article 1: field 'paragraphs': expected a list");
    EXPECT_EQ(error_reading(dir, "f.json", R"({"data": [{"paragraphs": [{"context": "c", "qas": []}, {"qas": []}]}]})", read_korquad),
              ": article 1, paragraph 2: field 'context': expected a string");
    EXPECT_EQ(error_reading(dir, "g.json", R"({"data": [{"paragraphs": [{"context": "c", "qas": [{"id": "q7", "question": "?",
                  "answers": [{"text": "c"}]}]}]}]})", read_korquad),
              ": article 1, paragraph 1, question q7: field 'answer_start': expected a whole number >= 0");
    EXPECT_EQ(error_reading(dir, "h.json", R"({"data": [{"paragraphs": [{"context": "c", "qas": [{"id": "q8", "answers": []}]}]}]})", read_korquad),
              ": article 1, paragraph 1, question q8: field 'question': expected a string");
    EXPECT_EQ(error_reading(dir, "h2.json", R"({"data": [{"title": 3, "paragraphs": [{"context": "c", "qas": []}]}]})", read_korquad),
              ": article 1: field 'title': expected a string");
    EXPECT_EQ(error_reading(dir, "h3.json", R"({"data": [{"paragraphs": [{"context": "c", "qas": [7, {"id": []}]}]}]})", read_korquad),
              ": article 1, paragraph 1, question ?: field 'id': expected a string");

    EXPECT_EQ(error_reading(dir, "i.json", R"({"documents": [{"text": [[{"sentence": "a"}]], "abstractive": ["s"]},
                  {"text": [[{"sentence": "a"}]], "abstractive": []}]})", read_summaries),
              ": document 2: field 'abstractive': expected a list holding the summary");
    EXPECT_EQ(error_reading(dir, "j.json", R"({"documents": [{"text": [[{"index": 0}]], "abstractive": ["s"]}]})", read_summaries),
              ": document 1: field 'sentence': expected a string");
    EXPECT_EQ(error_reading(dir, "k.json", R"({"documents": [{"abstractive": ["s"]}]})", read_summaries),
              ": document 1: field 'text': expected a list");
    EXPECT_EQ(error_reading(dir, "l.jsonl", "{\"document\": \"d\", \"summary\": \"s\"}\n{\"document\": \"d\"}\n", read_summaries),
              ": record 2: field 'summary': expected a string");
    std::filesystem::create_directories(dir.path() / "sci");
    EXPECT_EQ(error_reading(dir, "sci/01.json", R"({"sentences": ["a"], "summaries": [3]})",
                            [&](const std::string&) { return read_summaries(dir.file("sci")); }),
              ": field 'summaries': sentence 3 does not exist");
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
