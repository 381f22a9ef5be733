// The pipeline canvas's data model: stage nodes with positions and growth edges between them.
// It may hold what core's Pipeline cannot (branches, cycles, loose stages); check_graph turns a
// graph into a Pipeline when it is a chain and reports, per node or edge, everything that
// keeps it from running. No Qt and no torch: the undo commands copy it by value.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/growth/growth_options.h"
#include "core/model/t5_config.h"
#include "core/pipeline/pipeline.h"

namespace gs {

struct StageNode {
    int id = 0;
    std::string size;  // "T", "S", "B" or a custom size's name
    T5Config config;
    Budget budget;
    bool pretrained = false;  // a finished model (checkpoint folder or run), not trained here
    std::string source;
    double x = 0;
    double y = 0;

    bool operator==(const StageNode& other) const;
};

struct GrowthEdge {
    int id = 0;
    int from = 0;  // node ids
    int to = 0;
    GrowthOperator op;

    bool operator==(const GrowthEdge& other) const;
};

struct PipelineGraph {
    std::vector<StageNode> nodes;
    std::vector<GrowthEdge> edges;
    int next_id = 1;

    const StageNode* node(int id) const;
    StageNode* node(int id);
    const GrowthEdge* edge(int id) const;
    GrowthEdge* edge(int id);
    int add_node(StageNode node);  // assigns a fresh id
    int add_edge(int from, int to, const GrowthOperator& op);
    void remove_node(int id);  // with its edges
    void remove_edge(int id);

    bool operator==(const PipelineGraph& other) const;
    bool operator!=(const PipelineGraph& other) const { return !(*this == other); }
};

// A problem located at a node or an edge (ids, or 0 for the whole graph).
struct GraphProblem {
    int node = 0;
    int edge = 0;
    std::string message;
};

struct GraphCheck {
    bool is_chain = false;     // one chain of stages: `pipeline` and the chain ids are set
    Pipeline pipeline;
    std::vector<int> chain_nodes;  // node id of pipeline.stages[i]
    std::vector<int> chain_edges;  // edge id of pipeline.transitions[i]
    std::vector<GraphProblem> problems;

    std::string name() const { return is_chain ? pipeline.name() : ""; }
    bool ok() const { return problems.empty(); }
};

GraphCheck check_graph(const PipelineGraph& graph);

// The graph of a pipeline, laid out left to right.
PipelineGraph graph_from_pipeline(const Pipeline& pipeline);

// What a researcher most likely means between two sizes: d where only depth grows, a (AKI,
// the study's best width operator) where only width grows, da where both grow.
GrowthOperator default_operator(const T5Config& from, const T5Config& to);

// Places chains left to right in rows, in the order of their edges.
void arrange_left_to_right(PipelineGraph& graph);

// The config a size name has in an experiment without a "sizes" entry for it: the preset's
// shape for T/S/B (SizeCatalog's), else T5's defaults.
T5Config default_size_config(const std::string& size);

// The graph with its positions, for the clipboard; graph_from_json throws on a foreign document.
nlohmann::json graph_to_json(const PipelineGraph& graph);
PipelineGraph graph_from_json(const nlohmann::json& json);

}  // namespace gs
