// The rule for a run's name, and where a name enters: experiment files, --name, the suffixes of
// automatic names, the run's folder.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli_test_support.h"
#include "core/io/files.h"
#include "core/store/store.h"
#include "core/train/run_name.h"
#include "test_support.h"

namespace gs {
namespace {

namespace fs = std::filesystem;

// Every experiment name of the repository's experiment sets and test data stays a valid run name.
TEST(RunName, TheRepositorysExperimentNamesAreValid) {
    int names = 0;
    for (const std::string folder : {test::data_path("../../experiments"), test::data_path("experiments")}) {
        for (const auto& entry : fs::recursive_directory_iterator(folder)) {
            if (entry.path().extension() != ".json") continue;
            const std::string name = read_json_file(entry.path().string()).at("name");
            EXPECT_EQ(run_name_problem(name), "") << entry.path() << ": " << name;
            ++names;
        }
    }
    EXPECT_GT(names, 40);
    // Names the tests, the docs and automatic suffixes use, and names in other scripts.
    for (const std::string& name : std::vector<std::string>{"T_init-d_S_a_B", "tiny-T_d_S-2", "S_init-a_B-28000steps", "B-running", "r1", "S+v1.2",
                                   "문서요약", "한국어_T_d_S", "Ölçüm-3", "モデル", "模型", "Модель", "μοντέλο",
                                   std::string(kMaxRunNameCharacters, 'x'), std::string("\xea\xb0\x80") + "-100"}) {
        EXPECT_EQ(run_name_problem(name), "") << name;
    }
    std::string hangul;
    for (size_t i = 0; i < kMaxRunNameCharacters; ++i) hangul += "\xea\xb0\x80";  // 가: characters, not bytes, count
    EXPECT_EQ(run_name_problem(hangul), "");
}

TEST(RunName, RefusesNamesThatLeaveTheRunsFolderOrEndALine) {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"", "is empty"},
        {".", "starts with '.'"},
        {"..", "starts with '.'"},
        {".hidden", "starts with '.'"},
        {"../../x", "contains '/', which would make it a path"},
        {"a/b", "contains '/'"},
        {"a\\b", "contains '\\'"},
        {"-x", "starts with '-', which a command line reads as an option"},
        {"nl\ntouch /tmp/PWNED\n#", "contains a control character (U+000A)"},
        {"a\rb", "contains a control character (U+000D)"},
        {"tab\tb", "contains a control character (U+0009)"},
        {std::string("a\0b", 3), "contains a NUL character"},
        {"$(touch PWNED)", "contains '$'; a run name is letters, digits and _ - . +"},
        {"`touch PWNED`", "contains '`'"},
        {"it's", "contains '''"},
        {"say\"hi\"", "contains '\"'"},
        {"a;b", "contains ';'"},
        {"a b", "contains a space"},
        {"a*b", "contains '*'"},
        {"S@seed7", "contains '@'"},
        {"a\xc2\xa0" "b", "contains U+00A0, which is not a letter"},        // no-break space
        {"a\xe2\x80\xae" "b", "contains U+202E, which is not a letter"},    // right-to-left override
        {"a\xe3\x80\x80" "b", "contains U+3000, which is not a letter"},    // ideographic space
        {"a\xc3\x97" "b", "contains U+00D7, which is not a letter"},        // multiplication sign
        {"\xff", "is not valid UTF-8"},
        {"\xea\xb0", "is not valid UTF-8"},
        {std::string(kMaxRunNameCharacters + 1, 'x'), "has 101 characters, more than 100"},
    };
    for (const auto& [name, reason] : cases) {
        const std::string problem = run_name_problem(name);
        EXPECT_NE(problem.find(reason), std::string::npos) << printable(name) << ": " << problem;
    }
}

TEST(RunName, RefusalsQuoteTheNameWithItsControlCharactersVisible) {
    EXPECT_EQ(run_name_refusal(std::string("a\0b", 3)), "run name 'a\\0b' contains a NUL character");
    EXPECT_EQ(run_name_refusal("x\ny"), "run name 'x\\ny' contains a control character (U+000A)");
    EXPECT_EQ(run_name_refusal("S_a_B"), "");
    try {
        check_run_name("a/b", "exp.json: field 'name'");
        FAIL() << "a/b accepted";
    } catch (const std::invalid_argument& error) {
        EXPECT_STREQ(error.what(), "exp.json: field 'name': run name 'a/b' contains '/', which would make it a path");
    }
}

TEST(RunName, AutomaticSuffixesEndWhenEveryNameIsTaken) {
    std::vector<std::string> tried;
    auto first_two_taken = [&](const std::string& name) {
        tried.push_back(name);
        return tried.size() <= 2;
    };
    EXPECT_EQ(first_free_run_name("S_a_B", first_two_taken), "S_a_B-3");
    EXPECT_EQ(tried, (std::vector<std::string>{"S_a_B", "S_a_B-2", "S_a_B-3"}));

    int calls = 0;
    try {
        first_free_run_name("S_a_B", [&](const std::string&) { return ++calls > 0; });
        FAIL() << "a name was found where every name is taken";
    } catch (const std::runtime_error& error) {
        EXPECT_NE(std::string(error.what()).find("runs 'S_a_B' to 'S_a_B-10000' all exist"), std::string::npos)
            << error.what();
    }
    EXPECT_EQ(calls, kMaxRunNameSuffix);
}

TEST(RunName, ARunFolderLiesDirectlyInsideTheRunsFolder) {
    test::TempDir dir;
    const fs::path runs = dir.path() / "runs";
    EXPECT_EQ(run_folder(runs, "S_a_B"), runs / "S_a_B");
    EXPECT_EQ(run_folder(runs.string() + "/", "문서요약"), fs::path(runs.string() + "/") / "문서요약");
    EXPECT_EQ(run_folder(runs / "sub" / "..", "a..b"), runs / "sub" / ".." / "a..b");  // ".." inside a name is plain text
    for (const std::string name : {"..", ".", "../x", "a/../../b", "/etc"}) {
        try {
            run_folder(runs, name);
            ADD_FAILURE() << name << " accepted";
        } catch (const std::invalid_argument& error) {
            EXPECT_NE(std::string(error.what()).find("runs folder " + runs.string() + ": run name '" + name + "'"),
                      std::string::npos)
                << error.what();
        }
    }
    EXPECT_FALSE(fs::exists(runs));  // nothing made on the way
}

// A minimal experiment that loads (training needs more, but every refusal here comes first).
void write_experiment(const fs::path& file, const std::string& name) {
    nlohmann::json json = read_json_file(test::data_path("experiments/tiny_T_d_S.json"));
    json["name"] = name;
    write_file_atomically(file.string(), json.dump(1));
}

// Every file and folder under `dir`.
std::vector<std::string> listing(const test::TempDir& dir) {
    std::vector<std::string> paths;
    for (const auto& entry : fs::recursive_directory_iterator(dir.path())) paths.push_back(entry.path().string());
    std::sort(paths.begin(), paths.end());
    return paths;
}

TEST(RunName, ExperimentFilesAndNameOptionsAreRefusedBeforeAnythingIsWritten) {
    test::TempDir dir;
    fs::create_directories(dir.path() / "work" / "runs");
    const std::vector<std::pair<std::string, std::string>> files = {
        {"../../x", "field 'name': run name '../../x' contains '/', which would make it a path"},
        {"..", "field 'name': run name '..' starts with '.'"},
        {"a/b", "field 'name': run name 'a/b' contains '/'"},
        {"nl\ntouch PWNED\n#", "field 'name': run name 'nl\\ntouch PWNED\\n#' contains a control character (U+000A)"},
    };
    for (const auto& [name, message] : files) {
        write_experiment(dir.path() / "work" / "exp.json", name);
        const auto before = listing(dir);
        const auto r = test::run_growthstudio_cli("run exp.json --db ws.db --runs-dir runs --quiet", (dir.path() / "work").string());
        EXPECT_EQ(r.exit_code, 1) << r.output;
        EXPECT_NE(r.output.find("exp.json: " + message), std::string::npos) << r.output;
        EXPECT_EQ(listing(dir), before);  // no database, no folder, inside or outside
    }
    write_experiment(dir.path() / "work" / "exp.json", "tiny-T_d_S");
    for (const std::string name : {"..", "../../x", "a/b", "'x;y'"}) {
        const auto before = listing(dir);
        const auto r = test::run_growthstudio_cli("run exp.json --db ws.db --runs-dir runs --quiet --name " + name,
                                                  (dir.path() / "work").string());
        EXPECT_EQ(r.exit_code, 2) << r.output;
        EXPECT_NE(r.output.find("option --name: run name '"), std::string::npos) << r.output;
        EXPECT_EQ(listing(dir), before);  // no database, no folder, inside or outside
    }
}

// A NUL in the name once sent the search for a free name round forever: the folder's path ended
// at the NUL ("runs/a"), which existed, so every suffix looked taken.
TEST(RunName, ANameWithNulIsRefusedPromptly) {
    test::TempDir dir;
    fs::create_directories(dir.path() / "runs" / "a");
    std::ofstream(dir.file("exp.json")) << R"({"format": "growthstudio-experiment", "version": 1, "name": "a\u0000b",
                                              "pipeline": "T", "budgets": "2steps"})";
    const auto r = test::run_shell(std::string("timeout -s KILL 60 ") + GS_CLI_PATH + " run exp.json --db ws.db --runs-dir runs",
                                   dir.path().string());
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_NE(r.output.find("exp.json: field 'name': run name 'a\\0b' contains a NUL character"), std::string::npos)
        << r.output;
    EXPECT_FALSE(fs::exists(dir.file("ws.db")));
}

}  // namespace
}  // namespace gs
