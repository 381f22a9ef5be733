// What a training run handles as types but shows or reads as words: the phase of its progress
// (the CLI's progress line, the GUI's run queue) and the precision it computes in (an experiment
// file's "precision"). These functions are the only place the words are spelled.
#pragma once

#include <iosfwd>
#include <string>

namespace gs {

enum class RunPhase { preparing_data, training, validating, growing, checkpoint };

// "preparing data", "training", "validating", "growing", "checkpoint".
std::string to_string(RunPhase phase);
// std::invalid_argument naming `text` when it is no phase.
RunPhase parse_run_phase(const std::string& text);
std::ostream& operator<<(std::ostream& out, RunPhase phase);

// fp32, or bf16 compute over fp32 master weights.
enum class Precision { fp32, bf16 };

std::string to_string(Precision precision);
// std::invalid_argument naming `text` when it is no precision.
Precision parse_precision(const std::string& text);
std::ostream& operator<<(std::ostream& out, Precision precision);

}  // namespace gs
