#include <iostream>

#include "app/cli/arguments.h"
#include "app/cli/commands.h"
#include "core/eval/evaluate.h"
#include "core/finetune/finetune.h"

namespace gs::cli {

// Prints the metrics on stdout as one JSON line, as the official scripts do (KorQuAD's
// evaluate-v1.0.py: {"exact_match": .., "f1": ..}); what was missing or unknown goes to stderr.
int run_evaluate(const Words& words) {
    Arguments args(words, {{"task", "data", "predictions", "rouge-tokens"}, {}});
    const DownstreamTask task = parse_downstream_task(args.required("task"));
    const std::string data = args.required("data");
    const std::string predictions = args.required("predictions");
    if (args.has("rouge-tokens") && task != DownstreamTask::summarization) {
        throw UsageError("--rouge-tokens applies to the summarisation task (sum) only");
    }
    Evaluation evaluation;
    switch (task) {
        case DownstreamTask::nli: evaluation = evaluate_nli(data, predictions); break;
        case DownstreamTask::extractive_qa:
        case DownstreamTask::generative_qa: evaluation = evaluate_korquad(data, predictions); break;
        case DownstreamTask::summarization:
            evaluation = evaluate_summaries(data, predictions, parse_rouge_tokens(args.text("rouge-tokens", "whitespace")));
            break;
    }
    if (evaluation.missing > 0) {
        std::cerr << evaluation.missing << " of " << evaluation.examples
                  << " examples have no prediction and count as wrong\n";
    }
    if (evaluation.unknown > 0) {
        std::cerr << evaluation.unknown << " predictions name ids that " << data << " does not hold; ignored\n";
    }
    std::cout << evaluation.json() << "\n";
    return 0;
}

}  // namespace gs::cli
