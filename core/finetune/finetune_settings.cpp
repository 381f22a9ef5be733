// Task names and the per-task fine-tuning settings (torch-free).
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "core/finetune/finetune.h"
#include "core/io/files.h"
#include "core/io/json_fields.h"

namespace gs {

namespace {

struct TaskNames {
    DownstreamTask task;
    const char* code;   // the CLI's --task
    const char* store;  // the task column of the results
    const char* title;
};

const TaskNames kTaskNames[] = {
    {DownstreamTask::nli, "nli", "klue-nli", "KLUE-NLI"},
    {DownstreamTask::extractive_qa, "ext", "korquad-ext", "KorQuAD extractive"},
    {DownstreamTask::generative_qa, "gen", "korquad-gen", "KorQuAD generative"},
    {DownstreamTask::summarization, "sum", "summarization", "Summarization"},
};

const TaskNames& names_of(DownstreamTask task) {
    for (const auto& names : kTaskNames) {
        if (names.task == task) return names;
    }
    throw std::invalid_argument("unknown downstream task");
}

}  // namespace

std::vector<DownstreamTask> all_downstream_tasks() {
    std::vector<DownstreamTask> tasks;
    for (const auto& names : kTaskNames) tasks.push_back(names.task);
    return tasks;
}

std::string task_code(DownstreamTask task) { return names_of(task).code; }
std::string task_store_name(DownstreamTask task) { return names_of(task).store; }
std::string task_title(DownstreamTask task) { return names_of(task).title; }

DownstreamTask parse_downstream_task(const std::string& text) {
    for (const DownstreamTask task : all_downstream_tasks()) {
        if (text == task_code(task) || text == task_store_name(task)) return task;
    }
    throw std::invalid_argument("unknown task '" + text +
                                "' (expected nli, ext, gen, sum or klue-nli, korquad-ext, korquad-gen, summarization)");
}

// AdamW with a linear warm-up and decay. T5 fine-tunes well at 1e-4..1e-3: the encoder-only
// heads start from scratch and take the middle of that range, the generative tasks (whose output
// layer is pre-trained) a little more; the lengths cover most of each dataset's inputs.
FinetuneSettings FinetuneSettings::defaults_for(DownstreamTask task) {
    FinetuneSettings s;
    switch (task) {
        case DownstreamTask::nli:
            s.epochs = 3, s.learning_rate = 3e-4, s.batch_size = 32, s.max_input_length = 128, s.max_target_length = 1;
            break;
        case DownstreamTask::extractive_qa:
            s.epochs = 2, s.learning_rate = 3e-4, s.batch_size = 16, s.max_input_length = 384, s.doc_stride = 128;
            s.max_target_length = 1;
            break;
        case DownstreamTask::generative_qa:
            s.epochs = 3, s.learning_rate = 5e-4, s.batch_size = 16, s.max_input_length = 512, s.max_target_length = 32;
            break;
        case DownstreamTask::summarization:
            s.epochs = 3, s.learning_rate = 1e-3, s.batch_size = 8, s.max_input_length = 512, s.max_target_length = 128;
            break;
    }
    return s;
}

void FinetuneSettings::validate(DownstreamTask task) const {
    auto fail = [](const std::string& field, const std::string& message) {
        throw std::invalid_argument("fine-tuning setting '" + field + "': " + message);
    };
    if (epochs < 0) fail("epochs", "expected a whole number >= 0");
    if (!(learning_rate > 0)) fail("learning_rate", "expected a number > 0");
    if (weight_decay < 0) fail("weight_decay", "expected a number >= 0");
    if (warmup_fraction < 0 || warmup_fraction > 1) fail("warmup_fraction", "expected a number from 0 to 1");
    if (batch_size < 1) fail("batch_size", "expected a whole number >= 1");
    if (max_input_length < 16) fail("max_input_length", "expected a whole number >= 16");
    if (max_target_length < 1) fail("max_target_length", "expected a whole number >= 1");
    if (doc_stride < 0) fail("doc_stride", "expected a whole number >= 0");
    // Windows hold at least 3/4 of max_input_length - 2 tokens of context: this keeps their step positive.
    if (task == DownstreamTask::extractive_qa && doc_stride > max_input_length / 2) {
        fail("doc_stride", "expected at most max_input_length / 2 (" + std::to_string(max_input_length / 2) + ")");
    }
    if (num_beams < 1) fail("num_beams", "expected a whole number >= 1");
    if (max_answer_tokens < 1) fail("max_answer_tokens", "expected a whole number >= 1");
    if (max_train_examples < 0) fail("max_train_examples", "expected a whole number >= 0");
    if (max_eval_examples < 0) fail("max_eval_examples", "expected a whole number >= 0");
    if (!(dev_fraction > 0 && dev_fraction < 1)) fail("dev_fraction", "expected a number between 0 and 1");
    if (threads < 0) fail("threads", "expected a whole number >= 0");
}

// Only the fields the task reads, so that a stored score shows the settings that made it.
std::string FinetuneSettings::to_json(DownstreamTask task) const {
    nlohmann::json json = {
        {"epochs", epochs},
        {"learning_rate", learning_rate},
        {"weight_decay", weight_decay},
        {"warmup_fraction", warmup_fraction},
        {"batch_size", batch_size},
        {"max_input_length", max_input_length},
        {"max_train_examples", max_train_examples},
        {"max_eval_examples", max_eval_examples},
        {"dev_fraction", dev_fraction},
        {"seed", seed},
        {"device", device},
        {"threads", threads},
        {"score_before_training", score_before_training},
        {"save_weights", save_weights},
    };
    if (task == DownstreamTask::extractive_qa) {
        json["doc_stride"] = doc_stride;
        json["max_answer_tokens"] = max_answer_tokens;
    }
    if (task == DownstreamTask::generative_qa || task == DownstreamTask::summarization) {
        json["max_target_length"] = max_target_length;
        json["num_beams"] = num_beams;
    }
    if (task == DownstreamTask::summarization) {
        json["rouge_tokens"] = rouge_tokens == RougeTokens::whitespace ? "whitespace" : "characters";
    }
    return json.dump();
}

FinetuneSettings FinetuneSettings::from_json(const std::string& json_text, DownstreamTask task, const std::string& source) {
    const nlohmann::json json = parse_json(json_text, source);
    FinetuneSettings s = defaults_for(task);
    const JsonFields f(json, source, "",
                       {"epochs", "learning_rate", "weight_decay", "warmup_fraction", "batch_size", "max_input_length",
                        "max_target_length", "doc_stride", "num_beams", "max_answer_tokens", "max_train_examples",
                        "max_eval_examples", "dev_fraction", "rouge_tokens", "seed", "device", "threads",
                        "score_before_training", "save_weights"});
    f.whole("epochs", s.epochs, 0);
    f.number("learning_rate", s.learning_rate, 0);
    f.number("weight_decay", s.weight_decay, 0);
    f.number("warmup_fraction", s.warmup_fraction, 0);
    f.whole("batch_size", s.batch_size, 1);
    f.whole("max_input_length", s.max_input_length, 16);
    f.whole("max_target_length", s.max_target_length, 1);
    f.whole("doc_stride", s.doc_stride, 0);
    f.whole("num_beams", s.num_beams, 1);
    f.whole("max_answer_tokens", s.max_answer_tokens, 1);
    f.whole("max_train_examples", s.max_train_examples, 0);
    f.whole("max_eval_examples", s.max_eval_examples, 0);
    f.number("dev_fraction", s.dev_fraction, 0);
    std::string tokens = s.rouge_tokens == RougeTokens::whitespace ? "whitespace" : "characters";
    f.choice("rouge_tokens", tokens, {"whitespace", "characters"});
    s.rouge_tokens = tokens == "whitespace" ? RougeTokens::whitespace : RougeTokens::characters;
    f.whole("seed", s.seed, 0);
    f.text("device", s.device);
    f.whole("threads", s.threads, 0);
    f.flag("score_before_training", s.score_before_training);
    f.flag("save_weights", s.save_weights);
    try {
        s.validate(task);
    } catch (const std::invalid_argument& error) {
        throw std::invalid_argument(source + ": " + error.what());
    }
    return s;
}

}  // namespace gs
