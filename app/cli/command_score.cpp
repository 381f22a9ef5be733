#include <iomanip>
#include <iostream>

#include "app/cli/arguments.h"
#include "app/cli/commands.h"
#include "core/eval/scoring.h"
#include "core/io/safetensors.h"
#include "core/model/checkpoint.h"
#include "core/runtime/runtime_info.h"

namespace gs::cli {

int run_score(const Words& words) {
    Arguments args(words, {{"checkpoint", "input", "logits", "device", "threads"}, {}});
    apply_thread_option(args);
    const std::string checkpoint = args.required("checkpoint");
    const std::string input = args.required("input");
    const std::string device = resolve_device_name(args.text("device", "auto"));

    T5Model model = load_t5_checkpoint(checkpoint);
    model->to(at::Device(device));
    model->eval();
    const std::vector<ScoringExample> examples = read_scoring_examples(input, model->config().vocab_size);

    NamedTensors logits;
    double total_loss = 0;
    int64_t total_tokens = 0;
    std::cout << std::setprecision(8);
    for (size_t n = 0; n < examples.size(); ++n) {
        ExampleScore score = score_example(model, examples[n]);
        std::cout << "line " << examples[n].line << "\tloss " << score.mean_loss << "\ttokens " << score.scored_tokens
                  << "\n";
        total_loss += score.mean_loss * static_cast<double>(score.scored_tokens);
        total_tokens += score.scored_tokens;
        if (args.has("logits")) logits.emplace_back("logits." + std::to_string(n), score.logits);
    }
    std::cout << "mean\tloss " << (total_tokens > 0 ? total_loss / total_tokens : 0.0) << "\ttokens " << total_tokens
              << "\texamples " << examples.size() << "\n";
    if (args.has("logits")) {
        save_safetensors(args.text("logits"), logits, {{"checkpoint", checkpoint}, {"input", input}});
    }
    return 0;
}

}  // namespace gs::cli
