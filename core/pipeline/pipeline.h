// A growth pipeline: model stages joined by growth transitions, in the study's naming grammar
// ("T_init-d_S_a_B") and with its budget notation ("2-3"). Plain C++: the canvas, the
// experiment files and the trainer share it.
#pragma once

#include <cstddef>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/growth/growth_options.h"
#include "core/model/t5_config.h"

namespace gs {

class PipelineError : public std::invalid_argument {
public:
    using std::invalid_argument::invalid_argument;
};

// How long a stage trains.
struct Budget {
    enum class Kind { none, epochs, steps, seconds, target_loss, reference_loss };
    Kind kind = Kind::none;
    double value = 0;           // epochs, steps, seconds or the loss to reach
    std::string reference_run;  // reference_loss: until the final validation loss of this run

    // One item of the notation: "2" or "2ep" epochs; "28000" (a bare number of 1000 or more)
    // or "500steps" steps; "1.5h", "90min", "45s" wall-clock time; "loss<=1.1"; "loss<=[B]".
    static Budget parse(const std::string& text);  // throws PipelineError
    std::string notation() const;                   // parse(notation()) == *this

    nlohmann::json to_json() const;
    static Budget from_json(const nlohmann::json& json, const std::string& field);
    bool operator==(const Budget& other) const;
};

struct Stage {
    std::string size;  // "T", "S", "B" or a custom size's name
    T5Config config;
    Budget budget;
    // A finished model that initialises the next stage (the first stage of an `init-`
    // pipeline): loaded from `source`, a checkpoint folder or a run name, not trained here.
    bool pretrained = false;
    std::string source;
};

struct Transition {
    GrowthOptions growth;          // the operator letters and how they apply
    bool from_pretrained = false;  // init-: the next stage starts afresh from a finished model
    std::string notation() const;  // "init-da", "a"
};

struct Pipeline {
    std::vector<Stage> stages;
    std::vector<Transition> transitions;  // transitions[i] joins stages[i] and stages[i + 1]

    std::string name() const;  // the study's grammar
    std::vector<size_t> trained_stages() const;
    // The runs whose final validation loss ends a stage (`loss<=[RUN]`), each once, in stage order.
    std::vector<std::string> reference_runs() const;
    // "2-3": one budget per trained stage, in order.
    std::string budget_notation() const;
    void apply_budget_notation(const std::string& notation);  // throws PipelineError

    nlohmann::json to_json() const;
};

// The sizes a pipeline name may use: T, S and B (the study's presets, with the vocabulary and
// FFN type of a base config) and any custom sizes the user names.
class SizeCatalog {
public:
    explicit SizeCatalog(const T5Config& base = T5Config());
    void add(const std::string& name, const T5Config& config);  // throws PipelineError on a bad name
    bool contains(const std::string& name) const { return sizes_.count(name) > 0; }
    const T5Config& config(const std::string& name) const;      // throws PipelineError
    std::vector<std::string> names() const;

private:
    std::map<std::string, T5Config> sizes_;
};

// Parses "S_init-a_B" and the like; errors name the token and what was expected.
Pipeline parse_pipeline_name(const std::string& name, const SizeCatalog& sizes);

// Reads a pipeline written by Pipeline::to_json; custom sizes come from the stages' configs.
Pipeline pipeline_from_json(const nlohmann::json& json, const std::string& source);

// A broken rule, located at a stage or a transition (index, or -1).
struct PipelineProblem {
    int stage = -1;
    int transition = -1;
    std::string message;
};

// Every problem at once, for live validation in an editor; empty when the pipeline can run.
std::vector<PipelineProblem> validate_pipeline(const Pipeline& pipeline);

}  // namespace gs
