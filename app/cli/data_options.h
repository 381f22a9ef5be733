// Options shared by the data commands (prepare, bench-data): the corpus, its split, the
// span-corruption settings.
#pragma once

#include "app/cli/arguments.h"
#include "core/data/span_corruption.h"
#include "core/data/token_cache.h"

namespace gs::cli {

// --corpus PATH [PATH...] (further paths may follow as plain words), --layout, --json-field,
// --on-bad-input; the default Korean corpus when no path is given.
CorpusOptions corpus_options_from(const Arguments& args);
// --split TRAIN:VALIDATION (default 199:1), --split-seed.
SplitOptions split_options_from(const Arguments& args);
// --input-len, --noise-density, --mean-span.
SpanCorruptionOptions span_options_from(const Arguments& args);
double real_number(const Arguments& args, const std::string& name, double fallback);

extern const std::vector<std::string> kCorpusOptionNames;
extern const std::vector<std::string> kSpanOptionNames;

// Progress with an ETA on one stderr line (unless `quiet`). The first Ctrl-C (SIGINT) or SIGTERM
// cancels the operation cleanly at its next report, so that no half-written file is left; a
// second one ends the process at once.
ProgressCallback terminal_progress(bool quiet);

// The same lines for data prepared inside another operation (a run preparing its corpus), which
// handles the signals itself: the preparation is never cancelled from here.
ProgressCallback data_progress_lines(bool quiet);

}  // namespace gs::cli
