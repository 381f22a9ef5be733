// Starts the processes of a data-parallel run on this machine, as torchrun does: N copies of a
// program with RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR and MASTER_PORT set.
// Plain POSIX, no LibTorch.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace gs {

// A TCP port on 127.0.0.1 that was free a moment ago.
int free_local_port();

// Runs `processes` copies of `program` with `arguments` (argv without argv[0]) and waits for
// them. SIGINT and SIGTERM sent to this process are passed on to every rank. When a rank fails
// (a non-zero exit, a signal), the others get 30 s to stop on their own before they are killed,
// and the failure is written to `log` naming the rank. Returns 0 when every rank exits with 0,
// otherwise the failed rank's exit code (1 for a signal); rank 0's code when none failed
// (3: the run paused).
int launch_local_ranks(const std::string& program, const std::vector<std::string>& arguments, int processes,
                       std::ostream& log);

// This executable's own path (/proc/self/exe).
std::string current_executable();

}  // namespace gs
