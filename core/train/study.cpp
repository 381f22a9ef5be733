#include "core/train/study.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <stdexcept>

namespace gs {

namespace fs = std::filesystem;

namespace {

std::vector<StudyEntry> read_entries(const std::string& folder) {
    if (!fs::is_directory(folder)) throw std::runtime_error(folder + ": not a folder of experiment files");
    std::vector<std::string> files;
    for (const auto& entry : fs::directory_iterator(folder)) {
        if (entry.path().extension() == ".json") files.push_back(entry.path().string());
    }
    std::sort(files.begin(), files.end());
    if (files.empty()) throw std::runtime_error(folder + ": no experiment files (*.json)");
    std::vector<StudyEntry> entries;
    for (const auto& file : files) entries.push_back({file, ExperimentSpec::load(file), ""});
    return entries;
}

// Links each entry to the experiment its pre-trained first stage comes from.
void link_dependencies(std::vector<StudyEntry>& entries) {
    std::map<std::string, std::string> file_of;
    for (const auto& e : entries) {
        if (!file_of.emplace(e.spec.name, e.file).second) {
            throw std::runtime_error(e.file + ": name '" + e.spec.name + "' is also the name of " + file_of[e.spec.name]);
        }
    }
    for (auto& e : entries) {
        const Stage& first = e.spec.pipeline.stages.front();
        if (!first.pretrained || fs::exists(first.source)) continue;
        if (!file_of.count(first.source)) {
            throw std::runtime_error(e.file + ": field 'pretrained': '" + first.source +
                                     "' is neither a checkpoint folder nor the name of an experiment of the set");
        }
        e.depends_on = first.source;
    }
}

}  // namespace

std::vector<StudyEntry> load_study(const std::string& folder) {
    std::vector<StudyEntry> pending = read_entries(folder);
    link_dependencies(pending);
    // Repeatedly take the first entry whose dependency is already placed: file order otherwise.
    std::vector<StudyEntry> ordered;
    auto placed = [&](const std::string& name) {
        return name.empty() || std::any_of(ordered.begin(), ordered.end(), [&](const StudyEntry& e) { return e.spec.name == name; });
    };
    std::set<std::string> names;
    for (const auto& e : pending) names.insert(e.spec.name);
    // A `loss<=[RUN]` budget naming an experiment of the set waits for it as an `init-` waits for its source.
    auto ready = [&](const StudyEntry& e) {
        const std::vector<std::string> references = e.spec.pipeline.reference_runs();
        return placed(e.depends_on) && std::all_of(references.begin(), references.end(), [&](const std::string& run) {
                   return !names.count(run) || placed(run);
               });
    };
    while (!pending.empty()) {
        auto next = std::find_if(pending.begin(), pending.end(), ready);
        if (next == pending.end()) {
            throw std::runtime_error(pending.front().file + ": its pre-trained source or the run of its loss<=[RUN] "
                                     "budget depends on it in turn (a cycle)");
        }
        ordered.push_back(*next);
        pending.erase(next);
    }
    return ordered;
}

void check_study_references(const std::vector<StudyEntry>& entries, std::set<std::string> known_runs,
                            const std::string& database) {
    for (const auto& e : entries) {
        check_reference_runs(e.spec, known_runs, database + " nor an experiment of the set");
        known_runs.insert(e.spec.name);
    }
}

std::string study_reference(const std::vector<StudyEntry>& entries) {
    for (const auto& e : entries) {
        if (e.spec.pipeline.name() == "B") return e.spec.name;
    }
    return "";
}

}  // namespace gs
