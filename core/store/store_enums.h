// What the store keeps as words but the program handles as types: a run's status and a
// checkpoint's kind. The words stored (and printed by the CLI) are the names of the values,
// "stage-end" for CheckpointKind::stage_end; these functions are the only place they are spelled.
#pragma once

#include <iosfwd>
#include <string>

namespace gs {

// `interrupted` is never stored: it is shown for a run the store says is running while no
// process holds it (live_run_status, core/train/run_lock.h).
enum class RunStatus { queued, running, paused, done, failed, cancelled, interrupted };

std::string to_string(RunStatus status);
// std::invalid_argument naming `text` when it is no status.
RunStatus parse_run_status(const std::string& text);
std::ostream& operator<<(std::ostream& out, RunStatus status);
// Done, failed or cancelled: the run has ended and has an end time.
bool is_finished(RunStatus status);

enum class CheckpointKind { interval, stage_end, final };

std::string to_string(CheckpointKind kind);
// std::invalid_argument naming `text` when it is no kind.
CheckpointKind parse_checkpoint_kind(const std::string& text);
std::ostream& operator<<(std::ostream& out, CheckpointKind kind);

}  // namespace gs
