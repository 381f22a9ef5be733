// Scoring predictions files as the official scripts do: hand-written dev and prediction samples in
// tests/data/evaluate (scores worked out by hand below), malformed files, and the real dev sets
// when GS_SHARED_DATA_DIR points at them.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "cli_test_support.h"
#include "core/eval/evaluate.h"
#include "core/eval/unicode_text.h"
#include "core/io/files.h"
#include "test_support.h"

namespace gs {
namespace {

const std::string kSamples = std::string(GS_TEST_DATA_DIR) + "/evaluate/";

std::string shared_data(const std::string& relative) {
    const char* root = std::getenv("GS_SHARED_DATA_DIR");
    if (!root || !std::filesystem::exists(std::string(root) + "/" + relative)) return "";
    return std::string(root) + "/" + relative;
}

// The message of what `call` throws ("" when it does not).
template <typename Call>
std::string error_of(Call call) {
    try {
        call();
    } catch (const std::exception& error) {
        return error.what();
    }
    return "";
}

TEST(Evaluate, KorQuadSampleByHand) {
    // 4 questions. 6566495-0-0: "《교향곡 9번》" normalises to "교향곡 9번", the first gold answer:
    // EM 1, F1 1. 6566495-0-1: "1824년에" against "1824년": characters {1,8,2,4,년,에} against
    // {1,8,2,4,년}, 5 shared, P = 5/6, R = 1, F1 = 10/11, EM 0. 6566518-0-0: "부산" against
    // "서울특별시": 0. 6566518-0-1 has no prediction: 0. 9999999-0-0 is not a dev question.
    // EM = 100 * 1/4 = 25, F1 = 100 * (1 + 10/11) / 4 = 47.7272...
    const Evaluation evaluation = evaluate_korquad(kSamples + "korquad_dev.json", kSamples + "korquad_predictions.json");
    ASSERT_EQ(evaluation.metrics.size(), 2u);
    EXPECT_EQ(evaluation.metrics[0].first, "exact_match");
    EXPECT_DOUBLE_EQ(evaluation.metrics[0].second, 25.0);
    EXPECT_EQ(evaluation.metrics[1].first, "f1");
    // Here and below: a handful of double operations on values up to 100, written in another
    // order than the scorer's: ulps of 1e-14, far below the bound (1e-9 where a JSON line printed
    // the figure with its shortest round-trip digits).
    EXPECT_NEAR(evaluation.metrics[1].second, 100.0 * (1 + 10.0 / 11) / 4, 1e-12);
    EXPECT_EQ(evaluation.examples, 4);
    EXPECT_EQ(evaluation.missing, 1);
    EXPECT_EQ(evaluation.unknown, 1);
    // Printed as evaluate-v1.0.py prints json.dumps of its result.
    EXPECT_EQ(evaluation.json().rfind("{\"exact_match\": 25.0, \"f1\": 47.72727272727", 0), 0u) << evaluation.json();
}

// The printed line is the script's to the last digit: it divides 100 * sum by the total, and
// (1 + 2/3) * (100/3) would print 55.55555555555556 where the script prints 55.55555555555555.
TEST(Evaluate, KorQuadLineMatchesTheScriptToTheLastDigit) {
    test::TempDir dir;
    write_file_atomically(dir.file("dev.json"), R"({"data": [{"title": "t", "paragraphs": [{"context": "1989년 2월 15일 서울",
        "qas": [{"id": "a", "question": "?", "answers": [{"text": "서울", "answer_start": 13}]},
                {"id": "b", "question": "?", "answers": [{"text": "1989년 2월 15일", "answer_start": 0}]},
                {"id": "c", "question": "?", "answers": [{"text": "서울", "answer_start": 13}]}]}]}]})");
    // a: exact (EM 1, F1 1). b: "2월 15일" has 5 of the gold's 10 characters, P = 1, R = 1/2,
    // F1 = 2/3 (EM 0). c: no prediction. EM = 100 * 1 / 3, F1 = 100 * (1 + 2/3) / 3, which
    // evaluate-v1.0.py prints as below (Python floats, json.dumps).
    write_file_atomically(dir.file("predictions.json"), R"({"a": "서울", "b": "2월 15일"})");
    EXPECT_EQ(evaluate_korquad(dir.file("dev.json"), dir.file("predictions.json")).json(),
              "{\"exact_match\": 33.333333333333336, \"f1\": 55.55555555555555}");
}

// The last line of a file that is not a comment.
std::string last_data_line(const std::string& path) {
    std::ifstream in(path);
    std::string last;
    for (std::string line; std::getline(in, line);) {
        if (!line.empty() && line[0] != '#') last = line;
    }
    return last;
}

// Predictions that only Python's full Unicode str.lower() and str.split() score as the official
// script does: capital Latin, Greek (final sigma), full-width and dotted letters, the Kelvin and
// ohm signs, exotic spaces, and U+200B, U+FEFF and U+180E, which are not spaces. The figures are
// the script's (korquad_evaluate_v1_0.py, run as korquad_unicode_expected.txt says). Both sides add
// the same 36 values in [0, 1] in the same order, so they differ by rounding alone: below 1e-12
// relative, and 1e-9 leaves room for any order of addition.
TEST(Evaluate, KorQuadUnicodeSampleScoresAsTheOfficialScript) {
    const auto expected = nlohmann::json::parse(last_data_line(kSamples + "korquad_unicode_expected.txt"));
    const Evaluation evaluation = evaluate_korquad(kSamples + "korquad_unicode_dev.json", kSamples + "korquad_unicode_predictions.json");
    ASSERT_EQ(evaluation.metrics.size(), 2u);
    for (const auto& [name, value] : evaluation.metrics) {
        const double script = expected.at(name).get<double>();
        EXPECT_NEAR(value, script, 1e-9 * script) << name;
    }
    EXPECT_EQ(evaluation.examples, 36);
    EXPECT_EQ(evaluation.missing, 1);
    EXPECT_EQ(evaluation.unknown, 1);
}

TEST(Evaluate, KlueNliSampleByHand) {
    // 5 dev pairs. 00000 "contradiction": right. 00001 0 = entailment: right. 00002 2 =
    // contradiction against neutral: wrong. 00003 "neutral" against entailment: wrong. 00004 has
    // no prediction: wrong. 00099 is not in the dev set. Accuracy 2/5 = 40 %.
    const Evaluation evaluation = evaluate_nli(kSamples + "klue_nli_dev.json", kSamples + "klue_nli_predictions.json");
    EXPECT_EQ(evaluation.json(), "{\"accuracy\": 40.0}");
    EXPECT_EQ(evaluation.examples, 5);
    EXPECT_EQ(evaluation.missing, 1);
    EXPECT_EQ(evaluation.unknown, 1);
}

TEST(Evaluate, SummarySampleByHandInBothTokenisations) {
    // a1: "정부는 오늘 정책을 발표했다" against "정부는 새로운 경제 대책을 발표했다". Words: LCS
    // "정부는 발표했다" = 2, P = 2/4, R = 2/5, F1 = 4/9. Characters (12 against 15, spaces
    // dropped): LCS 정부는 + 책을발표했다 = 9, P = 9/12, R = 9/15, F1 = 2/3.
    // a2: identical, 1 in both. Document 7 (an integer id) has no summary: 0. "zz" is unknown.
    // Whitespace: 100 * (4/9 + 1 + 0) / 3 = 48.148...; characters: 100 * (2/3 + 1) / 3 = 55.555...
    const std::string dev = kSamples + "summaries_dev.jsonl", predictions = kSamples + "summaries_predictions.jsonl";
    const Evaluation words = evaluate_summaries(dev, predictions, RougeTokens::whitespace);
    ASSERT_EQ(words.metrics.size(), 1u);
    EXPECT_EQ(words.metrics[0].first, "rouge-l-f1");
    EXPECT_NEAR(words.metrics[0].second, 100.0 * (4.0 / 9 + 1) / 3, 1e-12);
    EXPECT_EQ(words.json().rfind("{\"rouge-l-f1\": 48.14814814814", 0), 0u) << words.json();
    EXPECT_NE(words.json().find("\"tokens\": \"whitespace\"}"), std::string::npos) << words.json();
    EXPECT_EQ(words.missing, 1);
    EXPECT_EQ(words.unknown, 1);
    const Evaluation characters = evaluate_summaries(dev, predictions, RougeTokens::characters);
    EXPECT_NEAR(characters.metrics[0].second, 100.0 * (2.0 / 3 + 1) / 3, 1e-12);
    EXPECT_EQ(characters.rouge_tokens, "characters");
}

TEST(Evaluate, ExampleIdsOfEachDevFormat) {
    test::TempDir dir;
    // KLUE keeps its guid; a file without one names the records by their number from 1.
    EXPECT_EQ(read_klue_nli(kSamples + "klue_nli_dev.json").at(3).guid, "klue-nli-v1_dev_00003");
    write_file_atomically(dir.file("hf.jsonl"), "{\"premise\": \"a\", \"hypothesis\": \"b\", \"label\": 1}\n"
                                                "{\"premise\": \"c\", \"hypothesis\": \"d\", \"label\": 2}\n");
    EXPECT_EQ(read_klue_nli(dir.file("hf.jsonl")).at(1).guid, "2");
    // Summaries: the id field (an integer written in decimal), else the number.
    EXPECT_EQ(read_summaries(kSamples + "summaries_dev.jsonl").at(2).id, "7");
    write_file_atomically(dir.file("pairs.jsonl"), "{\"document\": \"가\", \"summary\": \"나\"}\n"
                                                   "{\"document\": \"다\", \"summary\": \"라\"}\n");
    EXPECT_EQ(read_summaries(dir.file("pairs.jsonl")).at(1).id, "2");
    write_file_atomically(dir.file("aihub.json"), R"({"documents": [{"id": "290741778", "text": [[{"sentence": "문장."}]],
        "abstractive": ["요약."]}]})");
    EXPECT_EQ(read_summaries(dir.file("aihub.json")).at(0).id, "290741778");
    std::filesystem::create_directories(dir.path() / "sci");
    write_file_atomically(dir.file("sci/07.json"), R"({"sentences": ["가.", "나."], "summaries": [1]})");
    EXPECT_EQ(read_summaries(dir.file("sci")).at(0).id, "07");
    write_file_atomically(dir.file("bad_id.jsonl"), "{\"id\": 1.5, \"document\": \"가\", \"summary\": \"나\"}\n");
    EXPECT_EQ(error_of([&] { read_summaries(dir.file("bad_id.jsonl")); }),
              dir.file("bad_id.jsonl") + ": record 1: field 'id': expected a string or a whole number");
}

TEST(Evaluate, MalformedPredictionsNameFileRecordAndField) {
    test::TempDir dir;
    const std::string file = dir.file("predictions.json");
    write_file_atomically(file, R"(["교향곡 9번"])");
    EXPECT_EQ(error_of([&] { read_korquad_predictions(file); }),
              file + ": expected a JSON object {question id: answer text}");
    write_file_atomically(file, R"({"6566495-0-0": ["교향곡 9번"]})");
    EXPECT_EQ(error_of([&] { read_korquad_predictions(file); }),
              file + ": question '6566495-0-0': expected the answer text (a string), got [\"교향곡 9번\"]");
    write_file_atomically(file, "{\"q1\": \"a\",\n \"q2\": }");
    EXPECT_EQ(error_of([&] { read_korquad_predictions(file); }).rfind(file + ":2:8: invalid JSON", 0), 0u);
    // An answer that is not UTF-8 (0xFF after 한) never reaches the metrics: the parser names its place.
    write_file_atomically(file, "{\"q1\": \"a\",\n \"q2\": \"\xED\x95\x9C\xFF\"}");
    const std::string not_utf8 = error_of([&] { read_korquad_predictions(file); });
    EXPECT_EQ(not_utf8.rfind(file + ":2:12: invalid JSON", 0), 0u) << not_utf8;
    EXPECT_NE(not_utf8.find("ill-formed UTF-8"), std::string::npos) << not_utf8;
    write_file_atomically(file, R"({"g1": "maybe"})");
    EXPECT_EQ(error_of([&] { read_nli_predictions(file); }),
              file + ": guid 'g1': label \"maybe\", expected entailment, neutral, contradiction or 0, 1, 2");
    write_file_atomically(file, R"({"g1": 3})");
    EXPECT_NE(error_of([&] { read_nli_predictions(file); }).find("guid 'g1': label 3"), std::string::npos);

    const std::string lines = dir.file("summaries.jsonl");
    write_file_atomically(lines, "{\"id\": \"a1\", \"summary\": \"요약\"}\n{\"id\": \"a2\", \"text\": \"요약\"}\n");
    EXPECT_EQ(error_of([&] { read_summary_predictions(lines); }), lines + ": record 2: field 'summary': expected a string");
    write_file_atomically(lines, "{\"summary\": \"요약\"}\n");
    EXPECT_EQ(error_of([&] { read_summary_predictions(lines); }),
              lines + ": record 1: field 'id': expected a string or a whole number");
    write_file_atomically(lines, "{\"id\": 3, \"summary\": \"가\"}\n{\"id\": \"3\", \"summary\": \"나\"}\n");
    EXPECT_EQ(error_of([&] { read_summary_predictions(lines); }), lines + ": record 2: field 'id': '3' already has a summary");
    write_file_atomically(lines, "{\"id\": \"a1\", \"summary\": \"요약\"}\nnot json\n");
    EXPECT_EQ(error_of([&] { read_summary_predictions(lines); }).rfind(lines + ":2: invalid JSON", 0), 0u);
    EXPECT_EQ(error_of([] { parse_rouge_tokens("words"); }), "Rouge tokens 'words': expected whitespace or characters");
}

// The command prints the official script's JSON line last; what is missing goes to stderr.
TEST(Evaluate, CommandPrintsTheOfficialJsonLine) {
    const std::string samples = "--data " + kSamples;
    auto run = [&](const std::string& task, const std::string& files) {
        return test::run_growthstudio_cli("evaluate --task " + task + " " + files);
    };
    test::CliResult qa = run("ext", samples + "korquad_dev.json --predictions " + kSamples + "korquad_predictions.json");
    ASSERT_EQ(qa.exit_code, 0) << qa.output;
    const auto scores = nlohmann::json::parse(test::last_output_line(qa.output));
    EXPECT_DOUBLE_EQ(scores.at("exact_match").get<double>(), 25.0);
    EXPECT_NEAR(scores.at("f1").get<double>(), 100.0 * (1 + 10.0 / 11) / 4, 1e-9);
    EXPECT_NE(qa.output.find("1 of 4 examples have no prediction and count as wrong"), std::string::npos) << qa.output;
    // The generative task reads the same files and scores them the same way.
    EXPECT_EQ(test::last_output_line(run("gen", samples + "korquad_dev.json --predictions " + kSamples + "korquad_predictions.json").output),
              test::last_output_line(qa.output));
    EXPECT_EQ(test::last_output_line(run("nli", samples + "klue_nli_dev.json --predictions " + kSamples + "klue_nli_predictions.json").output),
              "{\"accuracy\": 40.0}");
    const test::CliResult sum = run("sum", samples + "summaries_dev.jsonl --predictions " + kSamples +
                                               "summaries_predictions.jsonl --rouge-tokens characters");
    ASSERT_EQ(sum.exit_code, 0) << sum.output;
    EXPECT_NEAR(nlohmann::json::parse(test::last_output_line(sum.output)).at("rouge-l-f1").get<double>(), 500.0 / 9, 1e-9);

    const test::CliResult wrong_file = run("nli", samples + "klue_nli_dev.json --predictions " + kSamples + "summaries_predictions.jsonl");
    EXPECT_EQ(wrong_file.exit_code, 1);
    // JSON Lines are not the one JSON object NLI predictions are: the parser names where it stopped.
    EXPECT_NE(wrong_file.output.find("summaries_predictions.jsonl:2:1: invalid JSON"), std::string::npos) << wrong_file.output;
    const test::CliResult misplaced = run("nli", samples + "klue_nli_dev.json --predictions x --rouge-tokens characters");
    EXPECT_EQ(misplaced.exit_code, 2);
    EXPECT_NE(misplaced.output.find("--rouge-tokens applies to the summarisation task (sum) only"), std::string::npos);
    EXPECT_EQ(run("nli", samples + "klue_nli_dev.json").exit_code, 2);  // no --predictions
}

// The real dev sets: their gold labels as predictions score 100; a constant label scores the
// share of that label (the KLUE-NLI dev set holds 1,000 of each of its three labels).
TEST(Evaluate, RealDevSetsScoreTheirOwnGoldAnswersFull) {
    const std::string klue = shared_data("klue-nli/klue-nli-v1.1_dev.json");
    const std::string korquad = shared_data("korquad-1.0/KorQuAD_v1.0_dev.json");
    const std::string news = shared_data("sci-news-sum-kr-50");
    if (klue.empty() || korquad.empty() || news.empty()) GTEST_SKIP() << "GS_SHARED_DATA_DIR with the dev sets is not set";
    test::TempDir dir;

    nlohmann::json gold_labels = nlohmann::json::object(), constant = nlohmann::json::object();
    for (const auto& example : read_klue_nli(klue)) {
        gold_labels[example.guid] = static_cast<int>(example.label);
        constant[example.guid] = "entailment";
    }
    write_file_atomically(dir.file("nli.json"), gold_labels.dump());
    write_file_atomically(dir.file("nli_constant.json"), constant.dump());
    EXPECT_EQ(evaluate_nli(klue, dir.file("nli.json")).json(), "{\"accuracy\": 100.0}");
    EXPECT_NEAR(evaluate_nli(klue, dir.file("nli_constant.json")).metrics[0].second, 100.0 / 3, 1e-9);

    nlohmann::json answers = nlohmann::json::object();
    for (const auto& question : korquad_questions(read_korquad(korquad))) answers[question.id] = question.answers[0];
    write_file_atomically(dir.file("korquad.json"), answers.dump());
    const Evaluation qa = evaluate_korquad(korquad, dir.file("korquad.json"));
    EXPECT_EQ(qa.json(), "{\"exact_match\": 100.0, \"f1\": 100.0}");
    EXPECT_EQ(qa.examples, 5774);
    write_file_atomically(dir.file("none.json"), "{}");
    EXPECT_EQ(evaluate_korquad(korquad, dir.file("none.json")).json(), "{\"exact_match\": 0.0, \"f1\": 0.0}");

    std::ofstream summaries(dir.file("news.jsonl"));
    for (const auto& example : read_summaries(news)) {
        summaries << nlohmann::json{{"id", example.id}, {"summary", example.summary}}.dump() << "\n";
    }
    summaries.close();
    const Evaluation sum = evaluate_summaries(news, dir.file("news.jsonl"), RougeTokens::characters);
    EXPECT_DOUBLE_EQ(sum.metrics[0].second, 100.0);
    EXPECT_EQ(sum.examples, 50);
    EXPECT_EQ(sum.missing, 0);
}

// A prediction made from question `index`'s first gold answer, deterministically, for the kinds of
// text that take full Unicode to score: upper-case or full-width letters, exotic spaces, U+200B and
// U+FEFF (no spaces to Python), Greek capitals with a final sigma, or another question's answer.
std::string mixed_prediction(const std::vector<QuestionAnswers>& questions, size_t index) {
    const std::vector<char32_t> exotic_spaces = {0x2003, 0x85, 0x1680, 0x2028, 0x202F, 0x205F, 0x1F, 0x3000};
    std::string prediction;
    size_t spaces = 0;
    for (char32_t c : utf8_decode(questions[index].answers[0])) {
        switch (index % 7) {
            case 1: c = c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c; break;
            case 2: c = c > ' ' && c <= '~' ? c + 0xFEE0 : c; break;  // ASCII's full-width forms
            case 3: c = c == ' ' ? exotic_spaces[spaces++ % exotic_spaces.size()] : c; break;
            case 4: c = c == ' ' ? 0x200B : c; break;
        }
        append_utf8(c, prediction);
    }
    if (index % 7 == 4) return "\ufeff" + prediction;
    if (index % 7 == 5) return questions[(index + 1) % questions.size()].answers[0];
    if (index % 7 == 6) return "《" + prediction + "》 ΟΔΥΣΣΕΥΣ, ÉΣ.";
    return prediction;
}

// The real dev set with predictions that only full Unicode scores right, against the official
// script's scoring run by Python here. Both add 5,774 values in [0, 1] in the same order: they
// differ by rounding alone, far below 1e-9 relative.
TEST(Evaluate, RealKorQuadMixedPredictionsScoreAsTheOfficialScript) {
    const std::string korquad = shared_data("korquad-1.0/KorQuAD_v1.0_dev.json");
    if (korquad.empty()) GTEST_SKIP() << "GS_SHARED_DATA_DIR with korquad-1.0/KorQuAD_v1.0_dev.json is not set";
    if (test::run_shell("python3 --version").exit_code != 0) GTEST_SKIP() << "python3, which runs the official scoring, is not installed";
    test::TempDir dir;
    const std::vector<QuestionAnswers> questions = korquad_questions(read_korquad(korquad));
    nlohmann::json predictions = nlohmann::json::object();
    for (size_t i = 0; i < questions.size(); ++i) predictions[questions[i].id] = mixed_prediction(questions, i);
    write_file_atomically(dir.file("mixed.json"), predictions.dump());

    const test::CliResult script = test::run_shell("python3 " + kSamples + "korquad_evaluate_v1_0.py " + korquad + " " + dir.file("mixed.json"));
    ASSERT_EQ(script.exit_code, 0) << script.output;
    const auto expected = nlohmann::json::parse(test::last_output_line(script.output));
    const Evaluation evaluation = evaluate_korquad(korquad, dir.file("mixed.json"));
    for (const auto& [name, value] : evaluation.metrics) {
        const double figure = expected.at(name).get<double>();
        EXPECT_NEAR(value, figure, 1e-9 * figure) << name << ": the script printed " << script.output;
    }
    EXPECT_LT(evaluation.metrics[0].second, 90.0);  // the transformations do change the score
}

}  // namespace
}  // namespace gs
