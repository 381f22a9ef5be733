// The rule for a run's name. A name becomes a folder under the runs folder, a database row, a
// Slurm job name and an argument of generated scripts, so it is one plain word: letters, digits
// and `_ - . +`, nothing a path, a shell or an option parser reads as structure. Every place a
// name enters (experiment files, --name, names made from a pipeline, a job database read back
// at sync) checks it here. See docs/experiments.md.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <string>

namespace gs {

constexpr size_t kMaxRunNameCharacters = 100;

// Why `name` cannot name a run, or "" when it can.
std::string run_name_problem(const std::string& name);

// "run name '<name>' <reason>", or "" when the name can name a run.
std::string run_name_refusal(const std::string& name);

// Throws std::invalid_argument "<where>: run name '<name>' <reason>" when the name is refused;
// `where` says where the name came from (a file and field, an option).
void check_run_name(const std::string& name, const std::string& where);

// `text` with control characters written as \n, \0, \xNN, for messages that quote what was given.
std::string printable(const std::string& text);

// Suffixes first_free_run_name tries: more runs of one experiment than one folder ever holds.
constexpr int kMaxRunNameSuffix = 10000;

// `base`, or base-2, base-3, ... up to base-kMaxRunNameSuffix: the first that `taken` does not
// claim. Throws when all are taken (a name that every check claims ends, never loops).
std::string first_free_run_name(const std::string& base, const std::function<bool(const std::string&)>& taken);

// The folder of run `name` under `runs_dir` (made absolute). Refused, naming both, when the name
// breaks the rule or the folder would not lie directly inside the runs folder.
std::filesystem::path run_folder(const std::filesystem::path& runs_dir, const std::string& name);

}  // namespace gs
