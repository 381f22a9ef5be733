// One preparer per data folder: a second run (another process of a study, another job of the
// run queue) that needs the same tokenizer or token cache waits while the first one builds it,
// then reuses what it built instead of building it again over the first one's files.
#pragma once

#include <memory>
#include <string>

#include "core/data/progress.h"
#include "core/io/files.h"

namespace gs {

// Locks `cache_dir` (its file ".lock"). While another holder has it, reports the stage
// "waiting for another preparer" every few seconds; a progress callback that returns false
// cancels (OperationCancelled).
std::unique_ptr<FileLock> lock_cache_dir(const std::string& cache_dir, const ProgressCallback& progress);

}  // namespace gs
