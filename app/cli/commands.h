// The subcommands of growthstudio-cli. Each takes the words after its name and returns the
// process exit code; usage mistakes throw UsageError, failures std::exception.
#pragma once

#include <set>
#include <string>
#include <vector>

namespace gs {
struct RunOptions;
struct TrainerHooks;
}

namespace gs::cli {

class Arguments;

using Words = std::vector<std::string>;

int run_info(const Words& words);
int run_score(const Words& words);
int run_bench(const Words& words);
int run_bench_parallel(const Words& words);
int run_grow(const Words& words);
int run_bench_grow(const Words& words);
int run_prepare(const Words& words);
int run_bench_data(const Words& words);
int run_run(const Words& words);
int run_resume(const Words& words);
int run_list(const Words& words);
int run_show(const Words& words);
int run_export(const Words& words);
int run_import_results(const Words& words);
int run_bench_store(const Words& words);
int run_evaluate(const Words& words);
int run_finetune(const Words& words);
int run_bench_finetune(const Words& words);
int run_submit(const Words& words);
int run_sync(const Words& words);
int run_study(const Words& words);

// Applies --threads (0 or absent: every core); shared by the commands that compute.
void apply_thread_option(const Arguments& args);

// --- Shared by run, resume and study.
// The workspace database: --db, else the default one.
std::string database_of(const Arguments& args);
// Progress on stderr (a line rewritten in place on a terminal; in a log, a line at each phase change
// and every 10 s of training)
// and a stop request once SIGINT or SIGTERM arrived (see stop_on_signals).
TrainerHooks terminal_hooks(bool quiet);
// The runs of `database`, read without creating it; none when there is no such file.
std::set<std::string> stored_run_names(const std::string& database);
// --name, refused (a UsageError naming the option) when it breaks the run-name rule.
std::string name_option(const Arguments& args);
// --runs-dir, --device, --threads and --name.
RunOptions run_options(const Arguments& args);
// SIGINT and SIGTERM make the trainer checkpoint and pause instead of killing the process.
void stop_on_signals();

}  // namespace gs::cli
