#include "core/store/store_enums.h"

#include <ostream>

#include "core/common/enum_names.h"

namespace gs {

namespace {

const EnumName<RunStatus> kRunStatusNames[] = {
    {RunStatus::queued, "queued"}, {RunStatus::running, "running"}, {RunStatus::paused, "paused"},
    {RunStatus::done, "done"},     {RunStatus::failed, "failed"},   {RunStatus::cancelled, "cancelled"},
    {RunStatus::interrupted, "interrupted"},
};

const EnumName<CheckpointKind> kCheckpointKindNames[] = {
    {CheckpointKind::interval, "interval"},
    {CheckpointKind::stage_end, "stage-end"},
    {CheckpointKind::final, "final"},
};

}  // namespace

std::string to_string(RunStatus status) { return enum_name(kRunStatusNames, status); }
RunStatus parse_run_status(const std::string& text) { return enum_value(kRunStatusNames, text, "run status"); }
std::ostream& operator<<(std::ostream& out, RunStatus status) { return out << to_string(status); }

bool is_finished(RunStatus status) {
    return status == RunStatus::done || status == RunStatus::failed || status == RunStatus::cancelled;
}

std::string to_string(CheckpointKind kind) { return enum_name(kCheckpointKindNames, kind); }
CheckpointKind parse_checkpoint_kind(const std::string& text) {
    return enum_value(kCheckpointKindNames, text, "checkpoint kind");
}
std::ostream& operator<<(std::ostream& out, CheckpointKind kind) { return out << to_string(kind); }

}  // namespace gs
