// growthstudio-cli: the headless face of the engine, for servers and cluster nodes.
#include <csignal>
#include <cstring>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

#include <c10/util/Exception.h>

#include "app/cli/arguments.h"
#include "app/cli/commands.h"
#include "core/runtime/runtime_info.h"

namespace {

struct Command {
    const char* name;
    const char* usage;
    std::function<int(const gs::cli::Words&)> run;
};

const std::vector<Command>& commands() {
    static const std::vector<Command> table = {
        {"info", "info [--threads N] [--json]\n      versions, devices and the BLAS in use", gs::cli::run_info},
        {"score",
         "score --checkpoint DIR --input FILE.jsonl [--logits OUT.safetensors] [--device D] [--threads N]\n"
         "      mean token loss per line of {\"input_ids\": [...], \"labels\": [...]}",
         gs::cli::run_score},
        {"bench",
         "bench --preset tiny|small|base | --config CONFIG.json [--batch B] [--input-len N] [--target-len M]\n"
         "      [--steps K] [--warmup W] [--device D] [--threads N] [--bf16] [--seed S] [--json]\n"
         "      timed training steps (AdamW, random tokens): steps/s, tokens/s, FLOP/s, MFU",
         gs::cli::run_bench},
        {"bench-parallel",
         "bench-parallel --preset tiny|small|base | --config CONFIG.json [--batch B] [--nproc 2] [--threads T]\n"
         "      [--input-len N] [--target-len M] [--steps K] [--warmup W] [--seed S] [--json]\n"
         "      data-parallel scaling on the CPU: N Gloo processes with batch B each against one process with batch B,\n"
         "      and against one process with N x T threads on batch N x B",
         gs::cli::run_bench_parallel},
        {"grow",
         "grow --from CKPT --to tiny|small|base|CONFIG.json --op d|f|a|da|df --out DIR [--exact] [--seed N]\n"
         "      [--depth-strategy stack|interpolate|solar|identity] [--map-sampling balanced|uniform]\n"
         "      [--aki-variant literal|whole-unit] [--noise X] [--probe-seed N] [--threads N] [--json]\n"
         "      writes a grown checkpoint (with its maps in growth.json); prints the probe loss before and after",
         gs::cli::run_grow},
        {"run",
         "run EXPERIMENT.json [--db FILE] [--name RUN] [--runs-dir DIR] [--device D] [--threads N] [--nproc N]\n"
         "      [--quiet] [--dry-run]\n"
         "      trains the experiment's pipeline; --dry-run validates the file and prints the plan (parameters with\n"
         "      the experiment's tokenizer's vocabulary, steps, FLOPs and time per step, measured by earlier runs in\n"
         "      the workspace or guessed from the matmul peak, as each line says); --nproc N trains it data-parallel\n"
         "      in N processes (batch_size split between them; a launcher's RANK, WORLD_SIZE, LOCAL_RANK,\n"
         "      MASTER_ADDR and MASTER_PORT do the same across machines). Progress: one line on a terminal, a log\n"
         "      line every 10 s otherwise. A run name (--name, the file's \"name\") is 1-100 letters, digits and\n"
         "      _ - . +, not starting with . or -",
         gs::cli::run_run},
        {"resume", "resume RUN [--db FILE] [--device D] [--threads N] [--nproc N] [--quiet]\n"
         "      continues a run from its last checkpoint, in any number of processes; refused, naming the\n"
         "      process, while another process trains the run",
         gs::cli::run_resume},
        {"list", "list [--db FILE]\n      the runs in the workspace (a run whose process is gone shows interrupted)", gs::cli::run_list},
        {"submit",
         "submit SET_FOLDER --slurm [--partition P] [--gpus-per-run G] [--nodes N] [--tasks-per-node T] [--time HH:MM]\n"
         "      [--runs-dir DIR] [--db FILE] [--dry-run]\n"
         "      one sbatch script per experiment of the folder, chained with --dependency=afterok where a run starts\n"
         "      from another's model; submits them and records the job ids (--dry-run prints the scripts only).\n"
         "      Each run spans N nodes with one rank per GPU (or T ranks without GPUs), started by srun",
         gs::cli::run_submit},
        {"sync", "sync [--db FILE]\n      the submitted jobs' states; merges finished jobs' databases into the workspace",
         gs::cli::run_sync},
        {"show", "show RUN [--db FILE]\n      a run's stages, growth events and checkpoints", gs::cli::run_show},
        {"export", "export [--db FILE] [--format csv|md|tex] [--out FILE] [--reference RUN]\n      the results table, with the data behind each downstream score",
         gs::cli::run_export},
        {"import-results", "import-results --csv FILE [--label NAME] [--db FILE]\n"
         "      results from elsewhere (columns of the study's Table 2), shown beside the runs as a marked set",
         gs::cli::run_import_results},
        {"study",
         "study FOLDER [--db FILE] [--report DIR] [--reference RUN] [--runs-dir DIR] [--device D] [--threads N]\n"
         "      [--seed N] [--quiet] [--dry-run] [--report-only]\n"
         "      runs a folder of experiments in dependency order (finished runs skipped, interrupted ones resumed),\n"
         "      then writes the report: results table (Markdown, CSV), curves (CSV), figures (PNG, SVG);\n"
         "      --seed runs the whole set with another seed (into a database and runs folder of its own)",
         gs::cli::run_study},
        {"evaluate",
         "evaluate --task nli|ext|gen|sum --data DEV_FILE --predictions PRED_FILE [--rouge-tokens whitespace|characters]\n"
         "      scores predictions made by any system, printed as the official scripts print them: KorQuAD\n"
         "      {question id: answer text}, KLUE-NLI {guid: label}, summaries JSON Lines {id, summary}",
         gs::cli::run_evaluate},
        {"bench-store", "bench-store [--rows N] [--db FILE]\n      the store's cost per training step", gs::cli::run_bench_store},
        {"bench-grow",
         "bench-grow --from tiny|small|base|CONFIG.json --to tiny|small|base|CONFIG.json --op OPS [growth options]\n"
         "      [--repeats N] [--threads N] [--json]\n"
         "      time and peak memory of growing a randomly initialised model",
         gs::cli::run_bench_grow},
        {"prepare",
         "prepare [--corpus] PATH... --tokenizer train:VOCAB|FILE.model --out DIR [--layout line|blank]\n"
         "      [--json-field text] [--on-bad-input stop|skip] [--split 199:1] [--split-seed S] [--threads N]\n"
         "      [--character-coverage 0.9995] [--model-type unigram] [--byte-fallback] [--sentences N]\n"
         "      [--training-mb 200] [--input-len 512] [--noise-density 0.15] [--mean-span 3] [--quiet] [--json]\n"
         "      tokenizer and tokenized cache of a corpus (default: the bundled Korean corpus); each phase shows\n"
         "      its progress and ETA (the tokenizer's training: elapsed time against an estimate)",
         gs::cli::run_prepare},
        {"bench-data",
         "bench-data --out DIR [--corpus PATH...] [--tokenizer train:4000|FILE.model] [--threads N] [--batch 2]\n"
         "      [--step-s 15.39] [--seconds 2] [--input-len 512] [--json]\n"
         "      tokenization throughput and batch production time against a training step",
         gs::cli::run_bench_data},
        {"finetune",
         "finetune --model RUN|DIR --task nli|ext|gen|sum --data PATH [--dev PATH] [--db FILE] [--output DIR]\n"
         "      [--settings JSON|FILE] [--epochs N] [--lr X] [--weight-decay X] [--batch N] [--max-input N]\n"
         "      [--max-target N] [--doc-stride N] [--beams N] [--max-train N] [--max-eval N] [--seed S]\n"
         "      [--rouge-tokens whitespace|characters] [--device D] [--threads N] [--no-before] [--no-weights] [--quiet]\n"
         "      fine-tunes and scores a downstream task; the scores go into the store when the model is a run's,\n"
         "      with the data behind them (the files' paths, hashes and sizes, the split, the example counts)",
         gs::cli::run_finetune},
        {"bench-finetune",
         "bench-finetune --data-dir DIR --tokenizer FILE.model [--preset tiny|small|base|CONFIG.json] [--task all|nli|ext|gen|sum]\n"
         "      [--examples 32] [--batch 8] [--max-input N] [--max-target N] [--doc-stride N] [--beams N] [--device D] [--threads N]\n"
         "      fine-tuning and scoring examples/s per task (random weights; DIR laid out as GS_SHARED_DATA_DIR)",
         gs::cli::run_bench_finetune},
    };
    return table;
}

void print_usage(std::ostream& out) {
    out << "usage: growthstudio-cli COMMAND [OPTIONS]\n\ncommands:\n";
    for (const auto& command : commands()) out << "  " << command.usage << "\n";
    out << "\nevery command takes --help (its usage) and --threads N (LibTorch's CPU threads, 0: every core;\n"
           "commands that compute nothing on tensors -- list, show, export, import-results, submit, sync,\n"
           "evaluate, bench-store -- accept it and ignore it)\n";
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "help")) {
        print_usage(argc < 2 ? std::cerr : std::cout);
        return argc < 2 ? 2 : 0;
    }
    gs::configure_allocator();
    // The ranks of a data-parallel run talk over sockets: a peer that dies must surface as a
    // failed write (EPIPE), which the communicator reports naming the rank, not kill this one.
    std::signal(SIGPIPE, SIG_IGN);
    const std::string name = argv[1];
    const gs::cli::Words words(argv + 2, argv + argc);
    for (const auto& command : commands()) {
        if (name != command.name) continue;
        try {
            return command.run(words);
        } catch (const gs::cli::HelpRequested&) {
            std::cout << "usage: growthstudio-cli " << command.usage << "\n";
            return 0;
        } catch (const gs::cli::UsageError& error) {
            std::cerr << "growthstudio-cli " << name << ": " << error.what() << "\nusage: growthstudio-cli "
                      << command.usage << "\n";
            return 2;
        } catch (const c10::Error& error) {
            // LibTorch's own message without its C++ backtrace.
            std::cerr << "growthstudio-cli " << name << ": error: " << error.what_without_backtrace() << "\n";
            return 1;
        } catch (const std::exception& error) {
            std::cerr << "growthstudio-cli " << name << ": error: " << error.what() << "\n";
            return 1;
        }
    }
    std::cerr << "growthstudio-cli: unknown command '" << name << "'\n";
    print_usage(std::cerr);
    return 2;
}
