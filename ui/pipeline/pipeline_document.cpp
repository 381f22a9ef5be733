#include "ui/pipeline/pipeline_document.h"

#include <QUndoCommand>
#include <QUndoStack>

#include <fstream>

#include "core/data/prepare.h"
#include "core/io/files.h"
#include "core/train/experiment.h"
#include "core/train/run_name.h"

namespace gs::ui {

// Swaps whole snapshots (of the graph, or of the experiment's settings): cheap at canvas sizes,
// and undo gives back the very same state.
template <typename State>
class SnapshotCommand : public QUndoCommand {
public:
    using Assign = void (PipelineDocument::*)(const State&);

    SnapshotCommand(PipelineDocument* document, Assign assign, const QString& text, State before, State after,
                    int merge_id)
        : QUndoCommand(text), document_(document), assign_(assign), before_(std::move(before)),
          after_(std::move(after)), merge_id_(merge_id) {}

    void redo() override { (document_->*assign_)(after_); }
    void undo() override { (document_->*assign_)(before_); }
    int id() const override { return merge_id_; }
    // Spin boxes edit a value step by step; one undo step takes back the whole edit.
    bool mergeWith(const QUndoCommand* other) override {
        if (other->id() != id()) return false;
        after_ = static_cast<const SnapshotCommand*>(other)->after_;
        return true;
    }

private:
    PipelineDocument* document_;
    Assign assign_;
    State before_;
    State after_;
    int merge_id_;
};

namespace {

// Merge keys for edits that arrive value by value; QUndoCommand merges equal ids only.
enum MergeKind { kMergeBudget = 1, kMergeShape = 2 };
int merge_key(int node, MergeKind kind) { return node * 4 + kind; }
// Settings merge per field, on negative keys that no stage's key can equal.
int merge_key(const std::string& field) { return -1 - static_cast<int>(std::hash<std::string>()(field) % 1000000); }

nlohmann::json sizes_json(const Pipeline& pipeline, nlohmann::json sizes) {
    if (!sizes.is_object()) sizes = nlohmann::json::object();
    for (const auto& stage : pipeline.stages) {
        const bool kept = sizes.contains(stage.size) && read_size_entry(stage.size, sizes[stage.size], "") == stage.config;
        if (kept) continue;
        // The reader knows T, S and B without an entry; any other name needs one.
        if (T5Config::is_preset(stage.size) && stage.config == default_size_config(stage.size)) {
            sizes.erase(stage.size);
        } else {
            sizes[stage.size] = size_entry_json(stage.config);
        }
    }
    return sizes;
}

Budget default_budget() { return Budget::parse("1"); }

constexpr int kExperimentVersion = 1;

}  // namespace

PipelineDocument::PipelineDocument(QObject* parent) : QObject(parent), undo_(new QUndoStack(this)) {
    connect(undo_, &QUndoStack::cleanChanged, this, &PipelineDocument::fileChanged);
    newPipeline();
}

void PipelineDocument::assign(const PipelineGraph& graph) {
    graph_ = graph;
    recheck();
    emit documentChanged();
}

// The graph's problems, and the run name's once the graph is a pipeline that could run.
void PipelineDocument::recheck() {
    check_ = check_graph(graph_);
    if (!check_.is_chain) return;
    const std::string refusal = run_name_refusal(runName());
    if (!refusal.empty()) check_.problems.push_back({0, 0, refusal});
}

// The run's name follows the pipeline's unless the user gave it one of its own.
bool PipelineDocument::nameFollowsPipeline() const {
    return !settings_.contains("name") || settings_["name"] == settings_.value("pipeline", "");
}

std::string PipelineDocument::runName() const {
    if (nameFollowsPipeline()) return check_.name();
    return settings_["name"].is_string() ? settings_["name"].get<std::string>() : "";
}

void PipelineDocument::edit(const QString& text, const std::function<void(PipelineGraph&)>& change, int merge_id) {
    PipelineGraph after = graph_;
    change(after);
    if (after == graph_) return;
    undo_->push(new SnapshotCommand<PipelineGraph>(this, &PipelineDocument::assign, text, graph_, after, merge_id));
}

void PipelineDocument::assignSettings(const nlohmann::json& settings) {
    settings_ = settings;
    recheck();
    emit documentChanged();
}

void PipelineDocument::setSetting(const std::string& pointer, const nlohmann::json& value) {
    nlohmann::json after = settings_;
    after[nlohmann::json::json_pointer(pointer)] = value;
    if (after == settings_) return;
    undo_->push(new SnapshotCommand<nlohmann::json>(this, &PipelineDocument::assignSettings,
                                                    tr("Set %1").arg(QString::fromStdString(pointer.substr(1))),
                                                    settings_, after, merge_key(pointer)));
}

int PipelineDocument::addStage(StageNode node, const QString& text) {
    int id = 0;
    edit(text, [&](PipelineGraph& graph) { id = graph.add_node(node); });
    return id;
}

int PipelineDocument::connectStages(int from, int to) {
    const StageNode* source = graph_.node(from);
    const StageNode* target = graph_.node(to);
    if (!source || !target) return 0;
    const GrowthOperator op = default_operator(source->config, target->config);
    int id = 0;
    edit(tr("Connect %1 to %2").arg(QString::fromStdString(source->size), QString::fromStdString(target->size)),
         [&](PipelineGraph& graph) { id = graph.add_edge(from, to, op); });
    return id;
}

void PipelineDocument::removeItems(const std::set<int>& nodes, const std::set<int>& edges) {
    edit(tr("Delete"), [&](PipelineGraph& graph) {
        for (int id : edges) graph.remove_edge(id);
        for (int id : nodes) graph.remove_node(id);
    });
}

void PipelineDocument::moveStages(const std::map<int, QPointF>& positions) {
    edit(tr("Move"), [&](PipelineGraph& graph) {
        for (const auto& [id, position] : positions) {
            if (StageNode* node = graph.node(id)) node->x = position.x(), node->y = position.y();
        }
    });
}

void PipelineDocument::setOperator(int edge, const GrowthOperator& op) {
    edit(tr("Set operator %1").arg(QString::fromStdString(op.letters())), [&](PipelineGraph& graph) {
        if (GrowthEdge* item = graph.edge(edge)) item->op = op;
    });
}

void PipelineDocument::setGrowthFromPretrained(int edge, bool from_pretrained) {
    const GrowthEdge* item = graph_.edge(edge);
    if (!item) return;
    const StageNode* source = graph_.node(item->from);
    setPretrained(source->id, from_pretrained, source->source.empty() ? source->size : source->source);
}

void PipelineDocument::setBudget(int node, const Budget& budget) {
    edit(tr("Set budget"), [&](PipelineGraph& graph) {
        if (StageNode* item = graph.node(node)) item->budget = budget;
    }, merge_key(node, kMergeBudget));
}

void PipelineDocument::setPretrained(int node, bool pretrained, const std::string& source) {
    edit(pretrained ? tr("Use a pre-trained model") : tr("Train the stage"), [&](PipelineGraph& graph) {
        if (StageNode* item = graph.node(node)) item->pretrained = pretrained, item->source = source;
    });
}

void PipelineDocument::setStageShape(int node, const std::string& size, const T5Config& config) {
    edit(tr("Set stage size"), [&](PipelineGraph& graph) {
        if (StageNode* item = graph.node(node)) item->size = size, item->config = config;
    }, merge_key(node, kMergeShape));
}

QString PipelineDocument::setName(const QString& name) {
    if (name == this->name()) return {};
    SizeCatalog sizes;
    try {
        for (const auto& node : graph_.nodes) sizes.add(node.size, node.config);
    } catch (const PipelineError&) {
        // A stage with an invalid size name: the name then offers only the other sizes.
    }
    Pipeline pipeline;
    try {
        pipeline = parse_pipeline_name(name.trimmed().toStdString(), sizes);
    } catch (const std::exception& error) {
        return QString::fromStdString(error.what());
    }
    std::vector<Budget> budgets;
    for (size_t i : check_.pipeline.trained_stages()) budgets.push_back(check_.pipeline.stages[i].budget);
    const std::vector<size_t> trained = pipeline.trained_stages();
    for (size_t k = 0; k < trained.size(); ++k) {
        pipeline.stages[trained[k]].budget = k < budgets.size() ? budgets[k] : default_budget();
    }
    const bool same_source = check_.is_chain && check_.pipeline.stages.front().pretrained &&
                             pipeline.stages.front().size == check_.pipeline.stages.front().size;
    if (same_source) pipeline.stages.front().source = check_.pipeline.stages.front().source;
    replaceGraph(graph_from_pipeline(pipeline), tr("Rename to %1").arg(name));
    return {};
}

void PipelineDocument::arrange() {
    edit(tr("Arrange"), [](PipelineGraph& graph) { arrange_left_to_right(graph); });
}

std::set<int> PipelineDocument::paste(const PipelineGraph& fragment, QPointF offset) {
    std::set<int> added;
    edit(tr("Paste"), [&](PipelineGraph& graph) {
        std::map<int, int> new_id;
        for (StageNode node : fragment.nodes) {
            node.x += offset.x();
            node.y += offset.y();
            new_id[node.id] = graph.add_node(node);
            added.insert(new_id[node.id]);
        }
        for (const auto& edge : fragment.edges) graph.add_edge(new_id.at(edge.from), new_id.at(edge.to), edge.op);
    });
    return added;
}

void PipelineDocument::replaceGraph(const PipelineGraph& graph, const QString& text) {
    edit(text, [&](PipelineGraph& target) { target = graph; });
}

PipelineGraph subgraph(const PipelineGraph& graph, const std::set<int>& nodes) {
    PipelineGraph part;
    for (const auto& node : graph.nodes) {
        if (nodes.count(node.id)) part.nodes.push_back(node);
    }
    for (const auto& edge : graph.edges) {
        if (nodes.count(edge.from) && nodes.count(edge.to)) part.edges.push_back(edge);
    }
    return part;
}

// --- Files

nlohmann::json PipelineDocument::experimentJson() const {
    if (!check_.is_chain) throw PipelineError("the graph is not one chain of stages; fix the problems listed first");
    const Pipeline& pipeline = check_.pipeline;
    nlohmann::json json = settings_;
    json["format"] = "growthstudio-experiment";
    json["version"] = kExperimentVersion;
    if (nameFollowsPipeline()) json["name"] = pipeline.name();
    json["pipeline"] = pipeline.name();
    json["budgets"] = pipeline.budget_notation();
    nlohmann::json sizes = sizes_json(pipeline, settings_.value("sizes", nlohmann::json::object()));
    if (sizes.empty()) {
        json.erase("sizes");
    } else {
        json["sizes"] = sizes;
    }
    const Stage& first = pipeline.stages.front();
    if (first.pretrained) {
        json["pretrained"] = {{first.size, first.source}};
    } else {
        json.erase("pretrained");
    }
    return json;
}

QString PipelineDocument::save(const QString& path) {
    nlohmann::json json;
    try {
        json = experimentJson();
    } catch (const std::exception& error) {
        return QString::fromStdString(error.what());
    }
    std::ofstream out(path.toStdString());
    out << json.dump(2) << "\n";
    if (!out) return tr("cannot write %1").arg(path);
    out.close();
    settings_ = json;
    file_path_ = path;
    undo_->setClean();
    emit fileChanged();
    return {};
}

QString PipelineDocument::open(const QString& path) {
    nlohmann::json json;
    try {
        json = read_json_file(path.toStdString());
    } catch (const std::exception& error) {
        return QString::fromStdString(error.what());
    }
    const QString error = loadExperiment(json, path);
    if (error.isEmpty()) {
        file_path_ = path;
        emit fileChanged();
    }
    return error;
}

QString PipelineDocument::loadExperiment(const nlohmann::json& json, const QString& source) {
    Pipeline pipeline;
    try {
        pipeline = read_experiment_pipeline(json, source.toStdString());
    } catch (const std::exception& error) {
        return QString::fromStdString(error.what());  // as the CLI says it: file, field, what was expected
    }
    settings_ = json;
    file_path_.clear();
    undo_->clear();
    assign(graph_from_pipeline(pipeline));
    undo_->setClean();
    emit fileChanged();
    return {};
}

void PipelineDocument::newPipeline() {
    settings_ = {{"format", "growthstudio-experiment"}, {"version", kExperimentVersion}, {"name", ""},
                 {"pipeline", ""}};
    file_path_.clear();
    undo_->clear();
    assign(PipelineGraph());
    undo_->setClean();
    emit fileChanged();
}

bool PipelineDocument::isModified() const { return !undo_->isClean(); }

std::optional<int64_t> PipelineDocument::modelVocabSize() const {
    try {
        const TokenizerChoice choice =
            parse_tokenizer_choice(settings_.value("data", nlohmann::json::object()).value("tokenizer", DataSpec().tokenizer));
        if (choice.train) return Tokenizer::model_vocab_size_for_pieces(choice.train->vocab_size);
    } catch (const std::exception&) {  // not text, or not train:N: the Problems list reports it
    }
    return std::nullopt;
}

T5Config PipelineDocument::runConfig(const T5Config& config) const {
    T5Config run = config;
    if (const std::optional<int64_t> vocab_size = modelVocabSize()) run.vocab_size = *vocab_size;
    return run;
}

}  // namespace gs::ui
