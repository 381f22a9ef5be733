#include "core/train/train_enums.h"

#include <ostream>

#include "core/common/enum_names.h"

namespace gs {

namespace {

const EnumName<RunPhase> kRunPhaseNames[] = {
    {RunPhase::preparing_data, "preparing data"}, {RunPhase::training, "training"},
    {RunPhase::validating, "validating"},         {RunPhase::growing, "growing"},
    {RunPhase::checkpoint, "checkpoint"},
};

const EnumName<Precision> kPrecisionNames[] = {{Precision::fp32, "fp32"}, {Precision::bf16, "bf16"}};

}  // namespace

std::string to_string(RunPhase phase) { return enum_name(kRunPhaseNames, phase); }
RunPhase parse_run_phase(const std::string& text) { return enum_value(kRunPhaseNames, text, "run phase"); }
std::ostream& operator<<(std::ostream& out, RunPhase phase) { return out << to_string(phase); }

std::string to_string(Precision precision) { return enum_name(kPrecisionNames, precision); }
Precision parse_precision(const std::string& text) { return enum_value(kPrecisionNames, text, "precision"); }
std::ostream& operator<<(std::ostream& out, Precision precision) { return out << to_string(precision); }

}  // namespace gs
