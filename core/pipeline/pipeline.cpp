#include "core/pipeline/pipeline.h"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/train/run_name.h"

namespace gs {

namespace {

// A bare number in the study's notation is epochs below this, steps from it on: no stage of
// the study trained for a thousand epochs, and its step counts are in the tens of thousands.
constexpr double kBareStepThreshold = 1000;

// The largest number a budget may give (steps, epochs, seconds): step counters are 64-bit
// integers, and a larger count would wrap around to a budget that is already spent.
constexpr double kMaxBudgetNumber = 1e15;

// Refuses a budget number that is not positive or too large; `what` names it in the error.
void check_budget_number(double value, const std::string& what) {
    if (!(value > 0)) throw PipelineError(what + " is not a positive number");
    if (value > kMaxBudgetNumber) throw PipelineError(what + " is larger than 10^15, more than a run can count");
}

double parse_number(const std::string& text, const std::string& item) {
    double value = NAN;
    try {
        size_t used = 0;
        value = std::stod(text, &used);
        if (used != text.size()) value = NAN;
    } catch (const std::exception&) {  // not a number, or out of double's range
    }
    if (std::isnan(value) && text.find_first_not_of("0123456789") == std::string::npos && !text.empty()) {
        value = INFINITY;  // digits beyond double's range
    }
    check_budget_number(value, "budget '" + item + "': '" + text + "'");
    return value;
}

bool strip_suffix(std::string& text, const std::string& suffix) {
    if (text.size() <= suffix.size() || text.compare(text.size() - suffix.size(), suffix.size(), suffix) != 0) {
        return false;
    }
    text.resize(text.size() - suffix.size());
    return true;
}

std::string number_text(double value) {
    std::ostringstream out;
    out << std::setprecision(12) << value;
    return out.str();
}

bool is_whole(double value) { return std::floor(value) == value; }

Budget make_budget(Budget::Kind kind, double value, std::string reference = "") {
    Budget budget;
    budget.kind = kind;
    budget.value = value;
    budget.reference_run = std::move(reference);
    return budget;
}

}  // namespace

Budget Budget::parse(const std::string& text) {
    const std::string loss_prefix = "loss<=";
    if (text.rfind(loss_prefix, 0) == 0) {
        const std::string target = text.substr(loss_prefix.size());
        if (target.size() > 2 && target.front() == '[' && target.back() == ']') {
            return make_budget(Kind::reference_loss, 0, target.substr(1, target.size() - 2));
        }
        return make_budget(Kind::target_loss, parse_number(target, text));
    }
    std::string number = text;
    if (strip_suffix(number, "steps")) {
        const double steps = parse_number(number, text);
        if (!is_whole(steps)) throw PipelineError("budget '" + text + "': steps must be a whole number");
        return make_budget(Kind::steps, steps);
    }
    if (strip_suffix(number, "ep")) return make_budget(Kind::epochs, parse_number(number, text));
    if (strip_suffix(number, "min")) return make_budget(Kind::seconds, 60 * parse_number(number, text));
    if (strip_suffix(number, "h")) return make_budget(Kind::seconds, 3600 * parse_number(number, text));
    if (strip_suffix(number, "s")) return make_budget(Kind::seconds, parse_number(number, text));
    if (text.empty() || !(std::isdigit(static_cast<unsigned char>(text[0])) || text[0] == '.')) {
        throw PipelineError("budget '" + text +
                            "': expected epochs (2, 2ep), steps (28000, 500steps), time (1.5h, 90min, 45s), "
                            "loss<=X or loss<=[RUN]");
    }
    const double value = parse_number(text, text);
    if (value >= kBareStepThreshold && is_whole(value)) return make_budget(Kind::steps, value);
    return make_budget(Kind::epochs, value);
}

std::string Budget::notation() const {
    switch (kind) {
        case Kind::none: return "";
        case Kind::epochs: return number_text(value) + (value >= kBareStepThreshold ? "ep" : "");
        case Kind::steps: return number_text(value) + (value < kBareStepThreshold ? "steps" : "");
        case Kind::seconds:
            if (is_whole(value / 3600)) return number_text(value / 3600) + "h";
            if (is_whole(value / 60)) return number_text(value / 60) + "min";
            return number_text(value) + "s";
        case Kind::target_loss: return "loss<=" + number_text(value);
        case Kind::reference_loss: return "loss<=[" + reference_run + "]";
    }
    return "";
}

bool Budget::operator==(const Budget& other) const {
    return kind == other.kind && value == other.value && reference_run == other.reference_run;
}

nlohmann::json Budget::to_json() const {
    switch (kind) {
        case Kind::none: return nullptr;
        case Kind::epochs: return {{"epochs", value}};
        case Kind::steps: return {{"steps", static_cast<int64_t>(value)}};
        case Kind::seconds: return {{"hours", value / 3600}};
        case Kind::target_loss: return {{"target_loss", value}};
        case Kind::reference_loss: return {{"reference_run", reference_run}};
    }
    return nullptr;
}

Budget Budget::from_json(const nlohmann::json& json, const std::string& field) {
    if (json.is_null()) return {};
    const std::string expected = "expected one of {\"epochs\": N}, {\"steps\": N}, {\"hours\": H}, {\"minutes\": M}, "
                                 "{\"target_loss\": X}, {\"reference_run\": NAME} or a notation string like \"2ep\"";
    if (json.is_string()) return parse(json.get<std::string>());
    if (!json.is_object() || json.size() != 1) throw PipelineError("field '" + field + "': " + expected);
    const auto& [key, value] = *json.items().begin();
    if (key == "reference_run" && value.is_string()) return make_budget(Kind::reference_loss, 0, value.get<std::string>());
    if (!value.is_number()) throw PipelineError("field '" + field + "." + key + "': expected a positive number");
    const double number = value.get<double>();
    check_budget_number(number, "field '" + field + "." + key + "': " + value.dump());
    if (key == "epochs") return make_budget(Kind::epochs, number);
    if (key == "steps" && is_whole(number)) return make_budget(Kind::steps, number);
    if (key == "hours") return make_budget(Kind::seconds, number * 3600);
    if (key == "minutes") return make_budget(Kind::seconds, number * 60);
    if (key == "target_loss") return make_budget(Kind::target_loss, number);
    throw PipelineError("field '" + field + "': " + expected);
}

// --- Pipelines

std::string Transition::notation() const { return (from_pretrained ? "init-" : "") + growth.op.letters(); }

std::string Pipeline::name() const {
    std::string name;
    for (size_t i = 0; i < stages.size(); ++i) {
        if (i > 0) name += "_" + transitions[i - 1].notation() + "_";
        name += stages[i].size;
    }
    return name;
}

std::vector<size_t> Pipeline::trained_stages() const {
    std::vector<size_t> trained;
    for (size_t i = 0; i < stages.size(); ++i) {
        if (!stages[i].pretrained) trained.push_back(i);
    }
    return trained;
}

std::vector<std::string> Pipeline::reference_runs() const {
    std::vector<std::string> runs;
    for (const Stage& stage : stages) {
        const bool named = stage.budget.kind == Budget::Kind::reference_loss;
        if (named && std::find(runs.begin(), runs.end(), stage.budget.reference_run) == runs.end()) {
            runs.push_back(stage.budget.reference_run);
        }
    }
    return runs;
}

std::string Pipeline::budget_notation() const {
    std::string notation;
    for (size_t i : trained_stages()) notation += (notation.empty() ? "" : "-") + stages[i].budget.notation();
    return notation;
}

namespace {

// Splits on '-' outside brackets, so that "loss<=[S_init-a_B]" stays one item.
std::vector<std::string> budget_items(const std::string& notation) {
    std::vector<std::string> items(1);
    int depth = 0;
    for (char c : notation) {
        depth += c == '[' ? 1 : c == ']' ? -1 : 0;
        if (c == '-' && depth == 0) {
            items.emplace_back();
        } else {
            items.back() += c;
        }
    }
    return items;
}

}  // namespace

void Pipeline::apply_budget_notation(const std::string& notation) {
    const std::vector<std::string> items = budget_items(notation);
    const std::vector<size_t> trained = trained_stages();
    if (items.size() != trained.size()) {
        std::string sizes;
        for (size_t i : trained) sizes += (sizes.empty() ? "" : ", ") + stages[i].size;
        throw PipelineError("budget '" + notation + "' has " + std::to_string(items.size()) + " value(s) but pipeline " +
                            name() + " trains " + std::to_string(trained.size()) + " stage(s) (" + sizes + ")");
    }
    std::vector<Budget> budgets;
    for (const auto& item : items) budgets.push_back(Budget::parse(item));
    for (size_t k = 0; k < trained.size(); ++k) stages[trained[k]].budget = budgets[k];
}

nlohmann::json Pipeline::to_json() const {
    nlohmann::json stage_list = nlohmann::json::array();
    for (const auto& stage : stages) {
        nlohmann::json item = {{"size", stage.size}, {"config", stage.config.to_hf_json()}};
        if (stage.pretrained) item["pretrained_source"] = stage.source;
        if (stage.budget.kind != Budget::Kind::none) item["budget"] = stage.budget.to_json();
        stage_list.push_back(item);
    }
    nlohmann::json transition_list = nlohmann::json::array();
    for (const auto& transition : transitions) {
        nlohmann::json item = transition.growth.to_json();
        item["init"] = transition.from_pretrained;
        transition_list.push_back(item);
    }
    return {{"name", name()}, {"stages", stage_list}, {"transitions", transition_list}};
}

// --- Sizes and names

SizeCatalog::SizeCatalog(const T5Config& base) {
    for (const char* name : {"T", "S", "B"}) sizes_[name] = base.with_shape_of(T5Config::preset(name));
}

void SizeCatalog::add(const std::string& name, const T5Config& config) {
    // '_' joins a pipeline's stages and transitions, and "init-" starts a transition.
    if (name.find('_') != std::string::npos || name.rfind("init-", 0) == 0) {
        throw PipelineError("size name '" + printable(name) + "': a size needs a name without '_' or a leading 'init-'");
    }
    // A pipeline's name, made of its sizes' names, is the default name of its runs (which also
    // keeps out spaces and brackets, read by the budget grammar).
    if (const std::string problem = run_name_problem(name); !problem.empty()) {
        throw PipelineError("size name '" + printable(name) + "' " + problem + " (it becomes part of a run's name)");
    }
    sizes_[name] = config;
}

const T5Config& SizeCatalog::config(const std::string& name) const {
    auto it = sizes_.find(name);
    if (it != sizes_.end()) return it->second;
    std::string known;
    for (const auto& [size, config] : sizes_) known += (known.empty() ? "" : ", ") + size;
    throw PipelineError("unknown stage size '" + name + "' (expected one of " + known + ")");
}

std::vector<std::string> SizeCatalog::names() const {
    std::vector<std::string> names;
    for (const auto& [name, config] : sizes_) names.push_back(name);
    return names;
}

namespace {

std::vector<std::string> split_tokens(const std::string& name) {
    std::vector<std::string> tokens(1);
    for (char c : name) {
        if (c == '_') {
            tokens.emplace_back();
        } else {
            tokens.back() += c;
        }
    }
    return tokens;
}

Transition parse_transition(const std::string& token) {
    Transition transition;
    std::string letters = token;
    if (letters.rfind("init-", 0) == 0) {
        transition.from_pretrained = true;
        letters = letters.substr(5);
    }
    transition.growth.op = GrowthOperator::parse(letters);
    return transition;
}

}  // namespace

Pipeline parse_pipeline_name(const std::string& name, const SizeCatalog& sizes) {
    const std::vector<std::string> tokens = split_tokens(name);
    auto fail = [&](const std::string& message) { throw PipelineError("pipeline '" + name + "': " + message); };
    if (name.empty()) fail("empty name; expected stages joined by operators, like S_a_B");
    if (tokens.size() % 2 == 0) fail("ends with the operator '" + tokens.back() + "'; expected a stage after it");
    Pipeline pipeline;
    for (size_t i = 0; i < tokens.size(); ++i) {
        const std::string& token = tokens[i];
        if (token.empty()) fail("empty " + std::string(i % 2 ? "operator" : "stage") + " at position " + std::to_string(i + 1));
        try {
            if (i % 2 == 0) {
                Stage stage;
                stage.size = token;
                stage.config = sizes.config(token);
                pipeline.stages.push_back(stage);
            } else {
                pipeline.transitions.push_back(parse_transition(token));
            }
        } catch (const std::invalid_argument& error) {
            fail(error.what());
        }
    }
    if (!pipeline.transitions.empty() && pipeline.transitions.front().from_pretrained) {
        pipeline.stages.front().pretrained = true;
        pipeline.stages.front().source = pipeline.stages.front().size;  // the finished run of that size
    }
    return pipeline;
}

Pipeline pipeline_from_json(const nlohmann::json& json, const std::string& source) {
    Pipeline pipeline;
    std::string field = "stages";
    try {
        for (size_t i = 0; i < json.at("stages").size(); ++i) {
            const auto& item = json.at("stages").at(i);
            field = "stages[" + std::to_string(i) + "]";
            Stage stage;
            stage.size = item.at("size").get<std::string>();
            stage.config = T5Config::from_hf_json(item.at("config"), source + ": " + field + ".config");
            if (item.contains("budget")) stage.budget = Budget::from_json(item.at("budget"), field + ".budget");
            stage.pretrained = item.contains("pretrained_source");
            if (stage.pretrained) stage.source = item.at("pretrained_source").get<std::string>();
            pipeline.stages.push_back(stage);
        }
        for (size_t i = 0; i < json.at("transitions").size(); ++i) {
            const auto& item = json.at("transitions").at(i);
            field = "transitions[" + std::to_string(i) + "]";
            Transition transition;
            transition.growth = GrowthOptions::from_json(item, source + ": " + field);
            transition.from_pretrained = item.value("init", false);
            pipeline.transitions.push_back(transition);
        }
    } catch (const nlohmann::json::exception& error) {
        throw PipelineError(source + ": field '" + field + "': " + error.what());
    }
    if (pipeline.stages.empty() || pipeline.transitions.size() + 1 != pipeline.stages.size()) {
        throw PipelineError(source + ": " + std::to_string(pipeline.stages.size()) + " stages need " +
                            std::to_string(pipeline.stages.empty() ? 0 : pipeline.stages.size() - 1) +
                            " transitions, found " + std::to_string(pipeline.transitions.size()));
    }
    return pipeline;
}

// --- Validation

namespace {

std::string stage_label(const Pipeline& pipeline, size_t i) {
    return "stage " + std::to_string(i + 1) + " (" + pipeline.stages[i].size + ")";
}

void check_stage(const Pipeline& pipeline, size_t i, std::vector<PipelineProblem>& problems) {
    const Stage& stage = pipeline.stages[i];
    auto report = [&](const std::string& rule) {
        problems.push_back({static_cast<int>(i), -1, stage_label(pipeline, i) + ": " + rule});
    };
    try {
        stage.config.validate();
    } catch (const std::invalid_argument& error) {
        report(error.what());
        return;
    }
    if (stage.config.num_heads * stage.config.d_kv != stage.config.d_model) {
        report("num_heads " + std::to_string(stage.config.num_heads) + " x d_kv " + std::to_string(stage.config.d_kv) +
               " = " + std::to_string(stage.config.inner_dim()) + " does not match d_model " +
               std::to_string(stage.config.d_model));
    }
    if (stage.pretrained && i != 0) report("only the first stage can be a pre-trained model");
    if (stage.pretrained && stage.source.empty()) report("a pre-trained stage needs a source (a checkpoint or a run)");
    if (!stage.pretrained && stage.budget.kind == Budget::Kind::none) {
        report("no training budget (epochs, steps, time or a target loss)");
    }
}

void check_transition(const Pipeline& pipeline, size_t i, std::vector<PipelineProblem>& problems) {
    const Transition& transition = pipeline.transitions[i];
    const Stage& from = pipeline.stages[i];
    const Stage& to = pipeline.stages[i + 1];
    const std::string label = "operator '" + transition.notation() + "' from " + stage_label(pipeline, i) + " to " +
                              stage_label(pipeline, i + 1);
    try {
        validate_growth(from.config, to.config, transition.growth.op);
    } catch (const GrowthError& error) {
        problems.push_back({static_cast<int>(i + 1), static_cast<int>(i), label + ": " + error.what()});
    }
    if (from.pretrained && !transition.from_pretrained) {
        problems.push_back({static_cast<int>(i), static_cast<int>(i),
                            label + ": a pre-trained stage initialises the next one, so the operator needs init-"});
    }
}

}  // namespace

std::vector<PipelineProblem> validate_pipeline(const Pipeline& pipeline) {
    std::vector<PipelineProblem> problems;
    if (pipeline.stages.empty()) problems.push_back({-1, -1, "the pipeline has no stage"});
    if (!pipeline.stages.empty() && pipeline.transitions.size() + 1 != pipeline.stages.size()) {
        problems.push_back({-1, -1, "every pair of consecutive stages needs one transition"});
        return problems;
    }
    for (size_t i = 0; i < pipeline.stages.size(); ++i) check_stage(pipeline, i, problems);
    for (size_t i = 0; i < pipeline.transitions.size(); ++i) check_transition(pipeline, i, problems);
    return problems;
}

}  // namespace gs
