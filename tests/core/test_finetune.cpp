// Downstream fine-tuning: a tiny T5 (random weights, the test Korean tokenizer, and once a model
// pre-trained by the trainer) fine-tuned on the hand-written sample of each task learns it, scored on the same sample (the samples are too small
// to hold out a dev share, so this measures fitting, the learning signal these tests are after);
// prediction files are re-scored from disk; the CLI writes rows the results table shows; and a
// short fine-tune of each task runs on the real dev sets when GS_SHARED_DATA_DIR has them.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include "cli_test_support.h"
#include "core/common/hash.h"
#include "core/eval/task_data.h"
#include "core/finetune/finetune.h"
#include "core/finetune/finetune_engine.h"
#include "core/finetune/task_dataset.h"
#include "core/finetune/task_inputs.h"
#include "core/io/files.h"
#include "core/model/checkpoint.h"
#include "core/store/results_table.h"
#include "core/store/store.h"
#include "data_test_support.h"
#include "test_support.h"

namespace gs {
namespace {

std::string sample(const std::string& name) { return test::data_path("downstream/" + name); }

// A 2+2-layer T5 with d_model 64 over the test tokenizer, saved as a checkpoint with spiece.model.
std::string tiny_checkpoint(const test::TempDir& dir) {
    const Tokenizer& tokenizer = test::korean_tokenizer();
    T5Config config;
    config.vocab_size = tokenizer.model_vocab_size();
    config.d_model = 64, config.d_kv = 16, config.num_heads = 4, config.d_ff = 128;
    config.num_layers = 2, config.num_decoder_layers = 2;
    config.dropout_rate = 0.0;  // a handful of examples: fit them without noise
    at::manual_seed(11);
    T5Model model(config);
    const std::string path = dir.file("tiny");
    save_t5_checkpoint(model, path);
    tokenizer.save(path + "/spiece.model");
    return path;
}

FinetuneSettings quick_settings(DownstreamTask task, int64_t epochs, int64_t batch) {
    FinetuneSettings s = FinetuneSettings::defaults_for(task);
    s.epochs = epochs, s.batch_size = batch, s.learning_rate = 3e-3, s.warmup_fraction = 0.1;
    s.threads = 1, s.device = "cpu";  // tiny tensors: a second thread only waits
    return s;
}

// What each task's sample test trains with: enough epochs to fit a handful of examples.
FinetuneSettings sample_settings(DownstreamTask task) {
    switch (task) {
    case DownstreamTask::nli: {
        FinetuneSettings s = quick_settings(task, 25, 9);
        s.max_input_length = 64;
        return s;
    }
    case DownstreamTask::extractive_qa: {
        FinetuneSettings s = quick_settings(task, 30, 8);
        s.max_input_length = 48, s.doc_stride = 12;
        return s;
    }
    case DownstreamTask::generative_qa: {
        FinetuneSettings s = quick_settings(task, 40, 7);
        s.max_input_length = 96, s.max_target_length = 12;
        return s;
    }
    case DownstreamTask::summarization: {
        FinetuneSettings s = quick_settings(task, 50, 3);
        s.max_input_length = 96, s.max_target_length = 24, s.num_beams = 2;
        return s;
    }
    }
    throw std::logic_error("unknown task");
}

std::string sample_file(DownstreamTask task) {
    switch (task) {
    case DownstreamTask::nli: return sample("klue-nli-v1.1_sample.json");
    case DownstreamTask::extractive_qa:
    case DownstreamTask::generative_qa: return sample("korquad-v1.0_sample.json");
    case DownstreamTask::summarization: return sample("aihub-news-summary_sample.json");
    }
    throw std::logic_error("unknown task");
}

// Fine-tunes `model_dir` on its task's sample and scores on the same file.
FinetuneResult finetune_model_on_sample(const std::string& model_dir, const std::string& output_dir, DownstreamTask task) {
    FinetuneRequest request;
    request.task = task;
    request.model_dir = model_dir;
    request.train_path = request.dev_path = sample_file(task);
    request.output_dir = output_dir;
    request.settings = sample_settings(task);
    const FinetuneResult result = run_finetune(request);
    for (const auto& [metric, value] : result.metrics) {
        std::cout << task_code(task) << " " << metric << ": " << result.before_training.at(metric) << " -> " << value << "\n";
    }
    return result;
}

// The same from the random tiny checkpoint, into dir/out.
FinetuneResult finetune_sample(const test::TempDir& dir, DownstreamTask task) {
    return finetune_model_on_sample(tiny_checkpoint(dir), dir.file("out"), task);
}

std::set<std::string> stored_fields(DownstreamTask task) {
    const nlohmann::json stored = nlohmann::json::parse(FinetuneSettings::defaults_for(task).to_json(task));
    std::set<std::string> names;
    for (const auto& item : stored.items()) names.insert(item.key());
    return names;
}

TEST(Finetune, StoredSettingsHoldTheFieldsTheirTaskReads) {
    const std::set<std::string> common = {"epochs", "learning_rate", "weight_decay", "warmup_fraction", "batch_size",
                                          "max_input_length", "max_train_examples", "max_eval_examples", "dev_fraction",
                                          "seed", "device", "threads", "score_before_training", "save_weights"};
    auto with = [&](std::set<std::string> extra) {
        extra.insert(common.begin(), common.end());
        return extra;
    };
    EXPECT_EQ(stored_fields(DownstreamTask::nli), common);
    EXPECT_EQ(stored_fields(DownstreamTask::extractive_qa), with({"doc_stride", "max_answer_tokens"}));
    EXPECT_EQ(stored_fields(DownstreamTask::generative_qa), with({"max_target_length", "num_beams"}));
    EXPECT_EQ(stored_fields(DownstreamTask::summarization), with({"max_target_length", "num_beams", "rouge_tokens"}));
    // Rows stored with every field, as earlier versions wrote them, still load: NLI's carried
    // max_target_length, doc_stride and rouge_tokens.
    for (const DownstreamTask task : all_downstream_tasks()) {
        FinetuneSettings settings = FinetuneSettings::defaults_for(task);
        settings.epochs = 2;
        nlohmann::json every_field = nlohmann::json::parse(settings.to_json(DownstreamTask::extractive_qa));
        every_field.update(nlohmann::json::parse(settings.to_json(DownstreamTask::summarization)));
        ASSERT_EQ(every_field.size(), common.size() + 5);
        const FinetuneSettings loaded = FinetuneSettings::from_json(every_field.dump(), task, "row");
        EXPECT_EQ(loaded.to_json(task), settings.to_json(task)) << task_code(task);
    }
}

TEST(Finetune, TaskNamesAndSettingsRoundTrip) {
    for (const DownstreamTask task : all_downstream_tasks()) {
        EXPECT_EQ(parse_downstream_task(task_code(task)), task);
        EXPECT_EQ(parse_downstream_task(task_store_name(task)), task);
    }
    EXPECT_THROW(parse_downstream_task("qa"), std::invalid_argument);
    FinetuneSettings s = FinetuneSettings::defaults_for(DownstreamTask::summarization);
    s.epochs = 7, s.learning_rate = 1.5e-4, s.num_beams = 4, s.rouge_tokens = RougeTokens::characters, s.seed = 9;
    const FinetuneSettings back = FinetuneSettings::from_json(s.to_json(DownstreamTask::summarization), DownstreamTask::summarization, "s.json");
    EXPECT_EQ(back.to_json(DownstreamTask::summarization), s.to_json(DownstreamTask::summarization));
    EXPECT_EQ(back.rouge_tokens, RougeTokens::characters);
    // Missing fields take the task's defaults.
    const FinetuneSettings partial = FinetuneSettings::from_json(R"({"epochs": 1})", DownstreamTask::extractive_qa, "s.json");
    EXPECT_EQ(partial.epochs, 1);
    EXPECT_EQ(partial.doc_stride, FinetuneSettings::defaults_for(DownstreamTask::extractive_qa).doc_stride);
    auto error_of = [](const std::string& json) {
        try {
            FinetuneSettings::from_json(json, DownstreamTask::nli, "s.json");
        } catch (const std::invalid_argument& error) {
            return std::string(error.what());
        }
        return std::string("no error");
    };
    EXPECT_EQ(error_of(R"({"epoch": 1})").rfind("s.json: field 'epoch': unknown field", 0), 0u);
    EXPECT_EQ(error_of(R"({"batch_size": 0})"), "s.json: field 'batch_size': expected a whole number >= 1");
    EXPECT_EQ(error_of(R"({"rouge_tokens": "words"})"),
              "s.json: field 'rouge_tokens': 'words', expected one of characters, whitespace");
    EXPECT_EQ(error_of(R"({"doc_stride": -1})"), "s.json: field 'doc_stride': expected a whole number >= 0");
    try {
        FinetuneSettings::from_json(R"({"max_input_length": 64, "doc_stride": 33})", DownstreamTask::extractive_qa, "s.json");
        ADD_FAILURE() << "no error";
    } catch (const std::invalid_argument& error) {
        EXPECT_EQ(std::string(error.what()), "s.json: fine-tuning setting 'doc_stride': expected at most max_input_length / 2 (32)");
    }
}

TEST(Finetune, WithoutADevFileASeededShareIsHeldOut) {
    FinetuneRequest request;
    request.task = DownstreamTask::nli;
    request.train_path = sample("klue-nli-v1.1_sample.json");
    request.settings = FinetuneSettings::defaults_for(DownstreamTask::nli);
    request.settings.dev_fraction = 0.3;
    const TaskDataset a = load_task_dataset(request);
    ASSERT_EQ(a.nli_dev.size(), 3u);  // round(0.3 x 9)
    ASSERT_EQ(a.nli_train.size(), 6u);
    std::set<std::string> guids;
    for (const auto& e : a.nli_train) guids.insert(e.guid);
    for (const auto& e : a.nli_dev) EXPECT_TRUE(guids.insert(e.guid).second) << e.guid << " in both";
    EXPECT_EQ(guids.size(), 9u);
    const TaskDataset again = load_task_dataset(request);
    for (size_t i = 0; i < 3; ++i) EXPECT_EQ(again.nli_dev[i].guid, a.nli_dev[i].guid);
    // Another seed holds out another share (these two seeds differ on this file).
    request.settings.seed = 7;
    const TaskDataset other = load_task_dataset(request);
    bool differs = false;
    for (size_t i = 0; i < 3; ++i) differs = differs || other.nli_dev[i].guid != a.nli_dev[i].guid;
    EXPECT_TRUE(differs);
    // KorQuAD is held out by paragraph, and the limits count questions.
    request.task = DownstreamTask::generative_qa;
    request.train_path = sample("korquad-v1.0_sample.json");
    request.settings.max_train_examples = 1;
    const TaskDataset qa = load_task_dataset(request);
    ASSERT_EQ(qa.qa_dev.size(), 1u);
    ASSERT_EQ(qa.qa_train.size(), 1u);
    EXPECT_EQ(qa.qa_train[0].questions.size(), 1u);
    EXPECT_NE(qa.qa_train[0].context, qa.qa_dev[0].context);
    request.train_path = sample("klue-nli_hf_sample.json");  // two records: one each way at most
    request.task = DownstreamTask::nli;
    request.settings.max_train_examples = 0;
    EXPECT_EQ(load_task_dataset(request).nli_dev.size(), 1u);
}

TEST(Finetune, ModelsResolveToARunsFinalOrLatestCheckpoint) {
    test::TempDir dir;
    Store store(dir.file("ws.db"));
    RunRecord run;
    run.name = "r1";
    const int64_t r1 = store.create_run(run);
    std::filesystem::create_directories(dir.path() / "late");
    write_file_atomically(dir.file("late/config.json"), "{}");
    store.add_checkpoint({r1, 0, 10, dir.file("a"), CheckpointKind::interval});
    store.add_checkpoint({r1, 0, 30, dir.file("late"), CheckpointKind::interval});
    store.add_checkpoint({r1, 0, 20, dir.file("b"), CheckpointKind::interval});
    EXPECT_EQ(resolve_finetune_model(store, "r1").model_dir, dir.file("late"));
    store.add_checkpoint({r1, 0, 25, dir.file("final"), CheckpointKind::final});
    const ResolvedModel final_one = resolve_finetune_model(store, std::to_string(r1));  // by id too
    EXPECT_EQ(final_one.model_dir, dir.file("final"));
    EXPECT_EQ(final_one.run_id, r1);
    // A folder that is one of the run's checkpoints belongs to the run; any other does not.
    EXPECT_EQ(resolve_finetune_model(store, dir.file("late")).run_id, r1);
    std::filesystem::create_directories(dir.path() / "elsewhere");
    write_file_atomically(dir.file("elsewhere/config.json"), "{}");
    EXPECT_FALSE(resolve_finetune_model(store, dir.file("elsewhere")).run_id);
    run.name = "empty";
    store.create_run(run);
    EXPECT_THROW(resolve_finetune_model(store, "empty"), std::runtime_error);
    EXPECT_THROW(resolve_finetune_model(store, "nothing"), std::runtime_error);
}

// Scoring batches rows of similar lengths: the shortest first, ties in their order, each row once.
TEST(Finetune, ScoringBatchesGoFromTheShortestRowsToTheLongest) {
    const std::vector<std::vector<int32_t>> rows = {{5, 5, 5}, {7}, {2, 2}, {9}, {4, 4, 4, 4}};
    const std::vector<int64_t> order = shortest_first(rows, token_count);
    EXPECT_EQ(order, (std::vector<int64_t>{1, 3, 2, 0, 4}));
    std::vector<std::vector<int64_t>> batches;
    std::vector<std::pair<int64_t, int64_t>> reports;
    for_each_batch_of(order, 2, [&](const std::vector<int64_t>& batch) { batches.push_back(batch); },
                      [&](int64_t done, int64_t total) { reports.emplace_back(done, total); });
    EXPECT_EQ(batches, (std::vector<std::vector<int64_t>>{{1, 3}, {2, 0}, {4}}));
    EXPECT_EQ(reports, (std::vector<std::pair<int64_t, int64_t>>{{2, 5}, {4, 5}, {5, 5}}));
}

TEST(Finetune, NliLearnsTheSampleAndWritesGuidLabels) {
    test::TempDir dir;
    const FinetuneResult result = finetune_sample(dir, DownstreamTask::nli);
    EXPECT_EQ(result.train_examples, 9);
    EXPECT_EQ(result.eval_examples, 9);
    EXPECT_GE(result.metrics.at("accuracy"), result.before_training.at("accuracy") + 30);
    EXPECT_GE(result.metrics.at("accuracy"), 88.0);
    // The prediction file scores the same accuracy against the gold labels.
    const nlohmann::json predictions = read_json_file(result.predictions_path);
    const auto gold = read_klue_nli(sample("klue-nli-v1.1_sample.json"));
    const char* names[] = {"entailment", "neutral", "contradiction"};
    int correct = 0;
    ASSERT_EQ(predictions.size(), gold.size());
    for (const auto& e : gold) correct += predictions.at(e.guid).get<std::string>() == names[static_cast<int>(e.label)];
    EXPECT_DOUBLE_EQ(result.metrics.at("accuracy"), 100.0 * correct / 9.0);
    // The fine-tuned encoder and its classifier are saved beside the predictions.
    EXPECT_TRUE(std::filesystem::exists(dir.file("out/model/head.safetensors")));
    EXPECT_NO_THROW(load_t5_checkpoint(dir.file("out/model")));
}

TEST(Finetune, ExtractiveQaLearnsSpansOverSeveralWindows) {
    test::TempDir dir;
    for (const auto& paragraph : read_korquad(sample("korquad-v1.0_sample.json"))) {  // several windows each
        const EncodedText context = encode_with_offsets(test::korean_tokenizer(), paragraph.context);
        const auto question = test::korean_tokenizer().encode(paragraph.questions[0].question);
        EXPECT_GE(make_qa_windows(question, context, std::nullopt, 0, 48, 12).size(), 2u);
    }
    const FinetuneResult result = finetune_sample(dir, DownstreamTask::extractive_qa);
    EXPECT_EQ(result.eval_examples, 7);
    EXPECT_GE(result.metrics.at("f1"), result.before_training.at("f1") + 30);
    EXPECT_GE(result.metrics.at("f1"), 70.0);
    EXPECT_GE(result.metrics.at("em"), result.before_training.at("em") + 30);
    // The official {id: answer} file gives the same scores.
    const nlohmann::json file = read_json_file(result.predictions_path);
    std::map<std::string, std::string> predictions;
    for (const auto& [id, answer] : file.items()) predictions[id] = answer.get<std::string>();
    const QaScore score = korquad_score(korquad_questions(read_korquad(sample("korquad-v1.0_sample.json"))), predictions);
    EXPECT_DOUBLE_EQ(score.f1, result.metrics.at("f1"));
    EXPECT_DOUBLE_EQ(score.exact_match, result.metrics.at("em"));
}

TEST(Finetune, GenerativeQaLearnsToWriteTheAnswers) {
    test::TempDir dir;
    const FinetuneResult result = finetune_sample(dir, DownstreamTask::generative_qa);
    EXPECT_GE(result.metrics.at("f1"), result.before_training.at("f1") + 30);
    EXPECT_GE(result.metrics.at("f1"), 50.0);
    const nlohmann::json file = read_json_file(result.predictions_path);
    EXPECT_EQ(file.size(), 7u);
}

TEST(Finetune, SummarizationLearnsTheSummariesWithBeamSearch) {
    test::TempDir dir;
    const FinetuneResult result = finetune_sample(dir, DownstreamTask::summarization);
    EXPECT_GE(result.metrics.at("rouge-l-f1"), result.before_training.at("rouge-l-f1") + 30);
    EXPECT_GE(result.metrics.at("rouge-l-f1"), 50.0);
    // JSON Lines {id, summary} in document order; Rouge-L recomputed from the file agrees.
    const auto gold = read_summaries(sample("aihub-news-summary_sample.json"));
    std::ifstream lines(result.predictions_path);
    std::string line;
    double total = 0;
    size_t n = 0;
    while (std::getline(lines, line)) {
        const nlohmann::json record = nlohmann::json::parse(line);
        ASSERT_LT(n, gold.size());
        EXPECT_EQ(record.at("id"), gold[n].id);
        total += rouge_l_f1(record.at("summary").get<std::string>(), gold[n].summary);
        ++n;
    }
    EXPECT_EQ(n, gold.size());
    // A mean of n values in [0, 1], summed in double perhaps in another order: n ulps of 100.
    EXPECT_NEAR(100.0 * total / static_cast<double>(n), result.metrics.at("rouge-l-f1"), 1e-9);
}

// The issue's proof as stated: a model pre-trained by the trainer (the test experiment, T grown to S
// by stacking, on the bundled corpus with its own tokenizer) improves on each task's sample over
// its untrained head.
TEST(Finetune, AModelPreTrainedByTheTrainerLearnsEverySampleTask) {
    test::TempDir dir;
    std::filesystem::copy_file(test::data_path("experiments/tiny_T_d_S.json"), dir.path() / "experiment.json");
    const std::string db = dir.file("runs.db");
    const test::CliResult pretrain = test::run_growthstudio_cli("run experiment.json --quiet --db " + db, dir.path().string());
    ASSERT_EQ(pretrain.exit_code, 0) << pretrain.output;
    Store store(db);
    const ResolvedModel model = resolve_finetune_model(store, "tiny-T_d_S");
    ASSERT_TRUE(model.run_id.has_value());
    for (const DownstreamTask task : all_downstream_tasks()) {
        const FinetuneResult result = finetune_model_on_sample(model.model_dir, dir.file("out-" + task_code(task)), task);
        for (const auto& [metric, value] : result.metrics) {
            EXPECT_GE(value, result.before_training.at(metric) + 20) << task_code(task) << " " << metric;
        }
    }
}

TEST(Finetune, ProgressCountsStepsAndCancellingStopsAtTheNextStep) {
    test::TempDir dir;
    FinetuneRequest request;
    request.task = DownstreamTask::nli;
    request.model_dir = tiny_checkpoint(dir);
    request.train_path = request.dev_path = sample("klue-nli-v1.1_sample.json");
    request.settings = quick_settings(DownstreamTask::nli, 3, 4);  // 9 examples: 3 steps an epoch
    std::vector<FinetuneProgress> reports;
    run_finetune(request, [&](const FinetuneProgress& p) { reports.push_back(p); });
    ASSERT_FALSE(reports.empty());
    EXPECT_EQ(reports.front().phase, "loading");
    std::vector<int64_t> steps;
    int finished_scorings = 0;
    for (const auto& p : reports) {
        if (p.phase == "training") {
            steps.push_back(p.step);
            EXPECT_EQ(p.total_steps, 9);
            EXPECT_GT(p.loss, 0);
        }
        finished_scorings += p.phase == "evaluating" && p.total_steps == 9 && p.step == 9;  // 9 dev examples
    }
    EXPECT_EQ(steps, (std::vector<int64_t>{1, 2, 3, 4, 5, 6, 7, 8, 9}));
    EXPECT_EQ(finished_scorings, 2);  // before and after training
    EXPECT_EQ(reports.back().phase, "evaluating");

    std::atomic<bool> cancel{false};
    int64_t last_step = 0;
    try {
        run_finetune(request, [&](const FinetuneProgress& p) {
            if (p.phase != "training") return;
            last_step = p.step;
            if (p.step == 2) cancel = true;
        }, &cancel);
        ADD_FAILURE() << "not cancelled";
    } catch (const std::runtime_error& error) {
        EXPECT_EQ(std::string(error.what()), "fine-tuning cancelled");
    }
    EXPECT_EQ(last_step, 2);
}

TEST(Finetune, CliStoresScoresTheResultsTableShows) {
    test::TempDir dir;
    const std::string model = tiny_checkpoint(dir);
    const std::string db = dir.file("ws.db");
    {
        Store store(db);
        RunRecord run;
        run.name = "tiny-T", run.pipeline = "T", run.status = RunStatus::done;
        const int64_t id = store.create_run(run);
        store.add_checkpoint({id, 0, 40, model, CheckpointKind::final});
    }
    const std::string training = " --epochs 25 --batch 9 --lr 3e-3 --max-input 64 --threads 1 --device cpu --no-weights --quiet";
    const std::string data = " --data " + sample("klue-nli-v1.1_sample.json") + " --dev " + sample("klue-nli_hf_sample.jsonl");
    const test::CliResult run = test::run_growthstudio_cli("finetune --model tiny-T --task nli --db " + db + " --output " +
                                                           dir.file("out") + data + training);
    ASSERT_EQ(run.exit_code, 0) << run.output;
    EXPECT_NE(run.output.find("stored against run #1"), std::string::npos) << run.output;
    Store store(db);
    const ResultsTable table = build_results_table(store);
    ASSERT_EQ(table.rows.size(), 1u);
    ASSERT_TRUE(table.rows[0].klue_nli_accuracy);
    // Scored on the three HF-format dev records: the stored accuracy is the prediction file's.
    const nlohmann::json predictions = read_json_file(dir.file("out/klue-nli-predictions.json"));
    const auto dev = read_klue_nli(sample("klue-nli_hf_sample.jsonl"));
    const char* names[] = {"entailment", "neutral", "contradiction"};
    int correct = 0;
    for (const auto& e : dev) correct += predictions.at(e.guid).get<std::string>() == names[static_cast<int>(e.label)];
    EXPECT_DOUBLE_EQ(*table.rows[0].klue_nli_accuracy, 100.0 * correct / 3.0);
    EXPECT_FALSE(table.rows[0].average_score);  // three tasks still missing

    // A checkpoint folder outside the store scores without storing; bad options are usage errors.
    const test::CliResult by_folder = test::run_growthstudio_cli("finetune --model " + model + " --task klue-nli --db " +
                                                                 dir.file("other.db") + " --output " + dir.file("out2") +
                                                                 data + training);
    ASSERT_EQ(by_folder.exit_code, 0) << by_folder.output;
    EXPECT_EQ(by_folder.output.find("stored against"), std::string::npos);
    // --settings as a file (epochs 0: score only, so both lines agree; labels are padded to 16
    // columns), then as inline JSON with an error.
    write_file_atomically(dir.file("settings.json"), R"({"epochs": 0, "max_input_length": 64, "threads": 1})");
    const test::CliResult score_only = test::run_growthstudio_cli("finetune --model tiny-T --task nli --db " + db + data +
                                                                  " --settings " + dir.file("settings.json") + " --output " +
                                                                  dir.file("out3") + " --quiet --no-weights");
    ASSERT_EQ(score_only.exit_code, 0) << score_only.output;
    const size_t before = score_only.output.find("before training"), after = score_only.output.find("fine-tuned");
    ASSERT_NE(before, std::string::npos);
    ASSERT_NE(after, std::string::npos);
    EXPECT_EQ(score_only.output.substr(before + 16, 17), score_only.output.substr(after + 16, 17)) << score_only.output;
    const test::CliResult bad_settings = test::run_growthstudio_cli("finetune --model tiny-T --task nli --db " + db + data +
                                                                    " --settings '{\"batch_size\": 0}'");
    EXPECT_EQ(bad_settings.exit_code, 1);
    EXPECT_NE(bad_settings.output.find("--settings: field 'batch_size': expected a whole number >= 1"), std::string::npos)
        << bad_settings.output;
    const test::CliResult bad = test::run_growthstudio_cli("finetune --model tiny-T --task qa --data x --db " + db);
    EXPECT_EQ(bad.exit_code, 2);
    EXPECT_NE(bad.output.find("unknown task 'qa'"), std::string::npos) << bad.output;
}

TEST(Finetune, ShortRunsOnTheRealDevSets) {
    const std::string root = test::shared_data_dir();
    if (root.empty()) GTEST_SKIP() << "GS_SHARED_DATA_DIR with the Korean dev sets is not set";
    test::TempDir dir;
    const std::string model = tiny_checkpoint(dir);
    const std::map<DownstreamTask, std::string> files = {
        {DownstreamTask::nli, root + "/klue-nli/klue-nli-v1.1_dev.json"},
        {DownstreamTask::extractive_qa, root + "/korquad-1.0/KorQuAD_v1.0_dev.json"},
        {DownstreamTask::generative_qa, root + "/korquad-1.0/KorQuAD_v1.0_dev.json"},
        {DownstreamTask::summarization, root + "/sci-news-sum-kr-50"},
    };
    for (const auto& [task, path] : files) {
        FinetuneRequest request;
        request.task = task;
        request.model_dir = model;
        request.train_path = path;  // a seeded fifth held out for scoring
        request.output_dir = dir.file("out-" + task_code(task));
        request.settings = FinetuneSettings::defaults_for(task);
        request.settings.epochs = 1, request.settings.batch_size = 4, request.settings.threads = 1;
        request.settings.max_train_examples = 16, request.settings.max_eval_examples = 8;
        request.settings.max_input_length = 128, request.settings.doc_stride = 32, request.settings.max_target_length = 16;
        request.settings.device = "cpu", request.settings.save_weights = false, request.settings.score_before_training = false;
        const FinetuneResult result = run_finetune(request);
        EXPECT_EQ(result.train_examples, 16) << task_code(task);
        EXPECT_EQ(result.eval_examples, 8) << task_code(task);
        for (const auto& [metric, value] : result.metrics) {
            EXPECT_GE(value, 0.0) << metric;
            EXPECT_LE(value, 100.0) << metric;
        }
        EXPECT_TRUE(std::filesystem::exists(result.predictions_path)) << task_code(task);
    }
}

// --- The data behind the stored scores

// The file's bytes hashed in one pass (a fine-tune streams them in chunks).
std::string hash_of_bytes(const std::string& path) {
    const std::string bytes = read_text_file(path);
    return to_hex(hash_bytes(bytes.data(), bytes.size()));
}

std::string absolute_path(const std::string& path) {
    return std::filesystem::absolute(path).lexically_normal().string();
}

int64_t non_empty_lines(const std::string& path) {
    std::istringstream in(read_text_file(path));
    int64_t count = 0;
    for (std::string line; std::getline(in, line);) count += !line.empty();
    return count;
}

// The questions of a SQuAD-format file, counted from its JSON.
int64_t squad_questions(const std::string& path) {
    const nlohmann::json file = read_json_file(path);
    int64_t count = 0;
    for (const auto& article : file.at("data")) {
        for (const auto& paragraph : article.at("paragraphs")) count += static_cast<int64_t>(paragraph.at("qas").size());
    }
    return count;
}

// A fine-tune of the tiny checkpoint on `train` (and `dev`), scored once, after training.
FinetuneRequest tiny_request(const test::TempDir& dir, DownstreamTask task, const std::string& train, const std::string& dev,
                             FinetuneSettings settings) {
    FinetuneRequest request;
    request.task = task;
    request.model_dir = tiny_checkpoint(dir);
    request.train_path = train, request.dev_path = dev;
    request.settings = settings;
    request.settings.score_before_training = false;
    return request;
}

ScoreProvenance stored_provenance(Store& store, int64_t run_id, size_t index) {
    return ScoreProvenance::from_json(store.results(run_id).at(index).provenance_json, "stored result");
}

TEST(FinetuneProvenance, AStoredScoreNamesItsFilesHashesCountsAndSplit) {
    test::TempDir dir;
    Store store(dir.file("ws.db"));
    RunRecord run;
    run.name = "tiny", run.pipeline = "T";
    const int64_t id = store.create_run(run);
    FinetuneRequest request = tiny_request(dir, DownstreamTask::nli, sample("klue-nli-v1.1_sample.json"),
                                           sample("klue-nli_hf_sample.jsonl"), quick_settings(DownstreamTask::nli, 1, 9));
    request.settings.max_input_length = 64;
    record_finetune_result(store, id, request, run_finetune(request));
    // The same file without a dev file: a third held out.
    request.dev_path.clear();
    request.settings.dev_fraction = 1.0 / 3.0, request.settings.seed = 5;
    record_finetune_result(store, id, request, run_finetune(request));

    const int64_t train_records = static_cast<int64_t>(read_json_file(request.train_path).size());
    const ScoreProvenance with_dev = stored_provenance(store, id, 0);
    EXPECT_EQ(with_dev.train_file.path, absolute_path(request.train_path));
    EXPECT_EQ(with_dev.train_file.hash, hash_of_bytes(request.train_path));
    EXPECT_EQ(with_dev.train_file.bytes, std::filesystem::file_size(request.train_path));
    ASSERT_TRUE(with_dev.dev_file);
    EXPECT_EQ(with_dev.dev_file->path, absolute_path(sample("klue-nli_hf_sample.jsonl")));
    EXPECT_EQ(with_dev.dev_file->hash, hash_of_bytes(sample("klue-nli_hf_sample.jsonl")));
    EXPECT_EQ(with_dev.split(), "dev file");
    EXPECT_EQ(with_dev.train_examples, train_records);
    EXPECT_EQ(with_dev.eval_examples, non_empty_lines(sample("klue-nli_hf_sample.jsonl")));
    EXPECT_FALSE(with_dev.eval_windows);

    const ScoreProvenance held_out = stored_provenance(store, id, 1);
    EXPECT_FALSE(held_out.dev_file);
    EXPECT_EQ(held_out.eval_file().hash, hash_of_bytes(request.train_path));
    EXPECT_EQ(held_out.split(), "held-out share of the training file, seed 5, fraction 0.333333");
    EXPECT_EQ(held_out.eval_examples, train_records / 3);  // a third of nine records
    EXPECT_EQ(held_out.train_examples + held_out.eval_examples, train_records);
    // The results table shows the latest, held-out score with its data.
    const ResultsRow row = build_results_table(store).rows.at(0);
    EXPECT_EQ(task_data_text(row, "klue-nli"), held_out.describe());
}

TEST(FinetuneProvenance, ExtractiveQaCountsQuestionsAndTheirWindows) {
    test::TempDir dir;
    const std::string korquad = sample("korquad-v1.0_sample.json");
    FinetuneRequest request = tiny_request(dir, DownstreamTask::extractive_qa, korquad, korquad,
                                           sample_settings(DownstreamTask::extractive_qa));
    request.settings.epochs = 0;  // scoring alone counts them
    const ScoreProvenance p = run_finetune(request).provenance;
    const int64_t questions = squad_questions(request.train_path);
    EXPECT_EQ(p.train_examples, questions);
    EXPECT_EQ(p.eval_examples, questions);
    // Every question has a window, and the sample's long contexts need more than one.
    ASSERT_TRUE(p.train_windows && p.eval_windows);
    EXPECT_GT(*p.eval_windows, questions);
    EXPECT_GE(*p.train_windows, questions);
    EXPECT_NE(p.describe().find(with_thousands(questions) + " examples in " + with_thousands(*p.eval_windows) + " windows"),
              std::string::npos)
        << p.describe();
}

}  // namespace
}  // namespace gs
