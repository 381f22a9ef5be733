// A study: a folder of experiment files run as one set, like the eleven runs of the study's
// Table 2. The set is ordered so that an `init-` experiment runs after the run it starts from.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "core/train/experiment.h"

namespace gs {

struct StudyEntry {
    std::string file;
    ExperimentSpec spec;
    std::string depends_on;  // the set's experiment whose final checkpoint the first stage loads; "" if none
};

// Every *.json file of `folder`, checked, in file-name order except that an experiment comes after
// the one it depends on (its `init-` source, the runs its `loss<=[RUN]` budgets name). Errors name the file: a name used twice, a pre-trained source that is
// neither a folder nor an experiment of the set, a dependency cycle.
std::vector<StudyEntry> load_study(const std::string& folder);

// Refuses, before anything trains, an experiment whose `loss<=[RUN]` budget names neither a run
// of `known_runs` (those of `database`) nor an experiment that runs before it.
void check_study_references(const std::vector<StudyEntry>& entries, std::set<std::string> known_runs,
                            const std::string& database);

// The set's reference run: its experiment whose pipeline is the single stage "B" (the study's
// Base); "" when there is none.
std::string study_reference(const std::vector<StudyEntry>& entries);

}  // namespace gs
