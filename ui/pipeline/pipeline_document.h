// The pipeline being edited: its graph, the rest of its experiment file, and the undo stack.
// Every edit is one QUndoCommand that swaps whole snapshots of the graph (or of the settings),
// so undo restores exactly what it replaced; views listen to documentChanged() and redraw.
#pragma once

#include <QObject>
#include <QPointF>
#include <QString>

#include <functional>
#include <map>
#include <optional>
#include <set>

#include <nlohmann/json.hpp>

#include "core/pipeline/pipeline_graph.h"

class QUndoStack;

namespace gs::ui {

class PipelineDocument : public QObject {
    Q_OBJECT
public:
    explicit PipelineDocument(QObject* parent = nullptr);

    const PipelineGraph& graph() const { return graph_; }
    const GraphCheck& check() const { return check_; }
    QString name() const { return QString::fromStdString(check_.name()); }
    // The name the run will have: the experiment's "name", or the pipeline's when it has none of
    // its own. A name the run-name rule refuses is one of check()'s problems.
    std::string runName() const;
    QUndoStack* undoStack() const { return undo_; }
    // The experiment file's other fields (data, optimiser, schedule, ...), kept as read.
    const nlohmann::json& settings() const { return settings_; }
    // The model vocabulary a "train:N" tokenizer gives (N pieces plus T5's sentinels, padded as
    // the trainer pads them); unset for a tokenizer file, whose size the sizes' vocab_size stands for.
    std::optional<int64_t> modelVocabSize() const;
    // A stage's config with the vocabulary the run will give it (modelVocabSize when known).
    T5Config runConfig(const T5Config& config) const;

    // Edits: each is one undoable step; invalid targets (unknown ids) are ignored.
    int addStage(StageNode node, const QString& text = tr("Add stage"));
    int connectStages(int from, int to);  // with the operator inferred from the two sizes; 0 if refused
    void removeItems(const std::set<int>& nodes, const std::set<int>& edges);
    void moveStages(const std::map<int, QPointF>& positions);
    void setOperator(int edge, const GrowthOperator& op);
    void setGrowthFromPretrained(int edge, bool from_pretrained);
    void setBudget(int node, const Budget& budget);
    void setPretrained(int node, bool pretrained, const std::string& source);
    void setStageShape(int node, const std::string& size, const T5Config& config);
    // Rebuilds the graph from a name in the study's grammar; budgets stay with the trained
    // stages in order, and a pre-trained first stage of the same size keeps its source.
    // Returns the parse error, or an empty string.
    QString setName(const QString& name);
    void arrange();
    // Adds a copy of `fragment` with fresh ids, shifted by `offset`; returns the new node ids.
    std::set<int> paste(const PipelineGraph& fragment, QPointF offset);
    void replaceGraph(const PipelineGraph& graph, const QString& text);
    // One field of the experiment file, by JSON pointer ("/batch_size", "/data/input_length").
    void setSetting(const std::string& pointer, const nlohmann::json& value);

    // Files: the experiment JSON that `growthstudio-cli run` reads.
    nlohmann::json experimentJson() const;
    QString open(const QString& path);  // the error, or empty
    QString save(const QString& path);
    QString loadExperiment(const nlohmann::json& json, const QString& source);
    void newPipeline();
    QString filePath() const { return file_path_; }
    bool isModified() const;

signals:
    void documentChanged();  // the graph or the settings
    void fileChanged();  // path or saved state

private:
    template <typename State>
    friend class SnapshotCommand;
    void edit(const QString& text, const std::function<void(PipelineGraph&)>& change, int merge_id = -1);
    void assign(const PipelineGraph& graph);
    void assignSettings(const nlohmann::json& settings);
    void recheck();
    bool nameFollowsPipeline() const;

    PipelineGraph graph_;
    GraphCheck check_;
    nlohmann::json settings_;
    QUndoStack* undo_ = nullptr;
    QString file_path_;
};

// A fragment of the graph for copy and paste: the given nodes and the edges between them.
PipelineGraph subgraph(const PipelineGraph& graph, const std::set<int>& nodes);

}  // namespace gs::ui
