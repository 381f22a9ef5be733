// The subcommands of growthstudio-cli. Each takes the words after its name and returns the
// process exit code; usage mistakes throw UsageError, failures std::exception.
#pragma once

#include <string>
#include <vector>

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

// Applies --threads (0 or absent: every core); shared by the commands that compute.
void apply_thread_option(const Arguments& args);

}  // namespace gs::cli
