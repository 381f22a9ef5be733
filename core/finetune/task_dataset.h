// The examples a fine-tune trains and scores on, and the prediction files it writes. Torch-free.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/eval/task_data.h"
#include "core/finetune/finetune.h"

namespace gs {

// The training and scoring examples of one task (only the vectors of that task are filled).
struct TaskDataset {
    std::vector<NliExample> nli_train, nli_dev;
    std::vector<QaParagraph> qa_train, qa_dev;
    std::vector<SummaryExample> summary_train, summary_dev;
};

// Reads the request's files, holds out the dev share when there is no dev file, and applies the
// example limits.
TaskDataset load_task_dataset(const FinetuneRequest& request);

// Scores on the dev examples and the predictions, keyed and ordered as the task's official
// prediction file has them.
struct TaskScores {
    std::map<std::string, double> metrics;
    std::vector<std::pair<std::string, std::string>> predictions;  // id -> answer, label or summary
};

// Writes the predictions in the task's official format: KorQuAD {id: answer} JSON, KLUE-NLI
// {guid: label} JSON, summaries JSON Lines {id, summary}. Returns the file's path.
std::string write_predictions(DownstreamTask task, const TaskScores& scores, const std::string& output_dir);

}  // namespace gs
