#include "core/pipeline/pipeline_graph.h"

#include <algorithm>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

namespace gs {

namespace {

constexpr double kColumnSpacing = 280;  // a stage's width and room for the operator's label
constexpr double kRowSpacing = 150;

template <typename Item>
auto find_by_id(std::vector<Item>& items, int id) -> Item* {
    auto it = std::find_if(items.begin(), items.end(), [id](const Item& item) { return item.id == id; });
    return it == items.end() ? nullptr : &*it;
}

}  // namespace

bool StageNode::operator==(const StageNode& other) const {
    return id == other.id && size == other.size && config == other.config && budget == other.budget &&
           pretrained == other.pretrained && source == other.source && x == other.x && y == other.y;
}

bool GrowthEdge::operator==(const GrowthEdge& other) const {
    return id == other.id && from == other.from && to == other.to && op == other.op;
}

const StageNode* PipelineGraph::node(int id) const { return const_cast<PipelineGraph*>(this)->node(id); }
StageNode* PipelineGraph::node(int id) { return find_by_id(nodes, id); }
const GrowthEdge* PipelineGraph::edge(int id) const { return const_cast<PipelineGraph*>(this)->edge(id); }
GrowthEdge* PipelineGraph::edge(int id) { return find_by_id(edges, id); }

int PipelineGraph::add_node(StageNode node) {
    node.id = next_id++;
    nodes.push_back(node);
    return node.id;
}

int PipelineGraph::add_edge(int from, int to, const GrowthOperator& op) {
    edges.push_back({next_id, from, to, op});
    return next_id++;
}

void PipelineGraph::remove_node(int id) {
    edges.erase(std::remove_if(edges.begin(), edges.end(), [id](const GrowthEdge& e) { return e.from == id || e.to == id; }),
                edges.end());
    nodes.erase(std::remove_if(nodes.begin(), nodes.end(), [id](const StageNode& n) { return n.id == id; }), nodes.end());
}

void PipelineGraph::remove_edge(int id) {
    edges.erase(std::remove_if(edges.begin(), edges.end(), [id](const GrowthEdge& e) { return e.id == id; }), edges.end());
}

bool PipelineGraph::operator==(const PipelineGraph& other) const {
    return nodes == other.nodes && edges == other.edges && next_id == other.next_id;
}

// --- Checking

namespace {

struct Degrees {
    std::map<int, std::vector<int>> in;   // node id -> edge ids
    std::map<int, std::vector<int>> out;
};

Degrees degrees_of(const PipelineGraph& graph) {
    Degrees degrees;
    for (const auto& edge : graph.edges) {
        degrees.in[edge.to].push_back(edge.id);
        degrees.out[edge.from].push_back(edge.id);
    }
    return degrees;
}

std::string stage_text(const StageNode& node) { return "stage " + node.size; }

// Kahn's algorithm: the nodes left once every node without inputs is peeled off lie on a cycle
// or after one.
std::set<int> nodes_on_or_after_cycles(const PipelineGraph& graph, const Degrees& degrees) {
    std::map<int, size_t> remaining_inputs;
    std::vector<int> ready;
    for (const auto& node : graph.nodes) {
        remaining_inputs[node.id] = degrees.in.count(node.id) ? degrees.in.at(node.id).size() : 0;
        if (remaining_inputs[node.id] == 0) ready.push_back(node.id);
    }
    while (!ready.empty()) {
        const int id = ready.back();
        ready.pop_back();
        remaining_inputs.erase(id);
        if (!degrees.out.count(id)) continue;
        for (int edge_id : degrees.out.at(id)) {
            const int to = graph.edge(edge_id)->to;
            if (remaining_inputs.count(to) && --remaining_inputs[to] == 0) ready.push_back(to);
        }
    }
    std::set<int> left;
    for (const auto& [id, count] : remaining_inputs) left.insert(id);
    return left;
}

void check_structure(const PipelineGraph& graph, const Degrees& degrees, std::vector<GraphProblem>& problems) {
    for (const auto& node : graph.nodes) {
        if (degrees.in.count(node.id) && degrees.in.at(node.id).size() > 1) {
            problems.push_back({node.id, 0, stage_text(node) + " has two inputs: a stage grows from one model only"});
        }
        if (degrees.out.count(node.id) && degrees.out.at(node.id).size() > 1) {
            problems.push_back({node.id, 0, stage_text(node) + " has two outputs: a pipeline is one chain of growths"});
        }
    }
    const std::set<int> cyclic = nodes_on_or_after_cycles(graph, degrees);
    for (const auto& edge : graph.edges) {
        if (cyclic.count(edge.from) && cyclic.count(edge.to)) {
            problems.push_back({0, edge.id, "the connection " + graph.node(edge.from)->size + " -> " +
                                                graph.node(edge.to)->size + " closes a cycle: a model cannot grow back"});
        }
    }
}

std::vector<int> chain_from(const PipelineGraph& graph, const Degrees& degrees, int start) {
    std::vector<int> chain{start};
    while (degrees.out.count(chain.back())) chain.push_back(graph.edge(degrees.out.at(chain.back()).front())->to);
    return chain;
}

// Every stage must belong to the one chain; the longest chain is taken as the pipeline.
std::vector<int> main_chain(const PipelineGraph& graph, const Degrees& degrees, std::vector<GraphProblem>& problems) {
    std::vector<std::vector<int>> chains;
    for (const auto& node : graph.nodes) {
        if (!degrees.in.count(node.id)) chains.push_back(chain_from(graph, degrees, node.id));
    }
    auto longest = std::max_element(chains.begin(), chains.end(),
                                    [](const auto& a, const auto& b) { return a.size() < b.size(); });
    for (const auto& chain : chains) {
        if (&chain == &*longest) continue;
        for (int id : chain) {
            problems.push_back({id, 0, stage_text(*graph.node(id)) + " is not connected to the pipeline"});
        }
    }
    return *longest;
}

void check_sizes(const PipelineGraph& graph, std::vector<GraphProblem>& problems) {
    std::map<std::string, const StageNode*> first_of_size;
    for (const auto& node : graph.nodes) {
        try {
            SizeCatalog().add(node.size, node.config);
        } catch (const PipelineError& error) {
            problems.push_back({node.id, 0, error.what()});
            continue;
        }
        auto [it, inserted] = first_of_size.emplace(node.size, &node);
        if (!inserted && it->second->config != node.config) {
            problems.push_back({node.id, 0, "size " + node.size +
                                                " has another shape in another stage: one size name, one shape"});
        }
    }
}

Pipeline pipeline_of_chain(const PipelineGraph& graph, const std::vector<int>& chain_nodes,
                           std::vector<int>& chain_edges, const Degrees& degrees) {
    Pipeline pipeline;
    for (size_t i = 0; i < chain_nodes.size(); ++i) {
        const StageNode& node = *graph.node(chain_nodes[i]);
        pipeline.stages.push_back({node.size, node.config, node.budget, node.pretrained, node.source});
        if (i + 1 == chain_nodes.size()) break;
        const GrowthEdge& edge = *graph.edge(degrees.out.at(node.id).front());
        chain_edges.push_back(edge.id);
        Transition transition;
        transition.growth.op = edge.op;
        transition.from_pretrained = node.pretrained;  // init-: growth from a finished model
        pipeline.transitions.push_back(transition);
    }
    return pipeline;
}

}  // namespace

GraphCheck check_graph(const PipelineGraph& graph) {
    GraphCheck check;
    if (graph.nodes.empty()) {
        check.problems.push_back({0, 0, "the pipeline has no stage: drag one from the palette"});
        return check;
    }
    const Degrees degrees = degrees_of(graph);
    check_structure(graph, degrees, check.problems);
    check_sizes(graph, check.problems);
    if (!check.problems.empty()) return check;
    check.chain_nodes = main_chain(graph, degrees, check.problems);
    check.pipeline = pipeline_of_chain(graph, check.chain_nodes, check.chain_edges, degrees);
    check.is_chain = true;
    for (const auto& problem : validate_pipeline(check.pipeline)) {
        const int node = problem.stage >= 0 ? check.chain_nodes[problem.stage] : 0;
        const int edge = problem.transition >= 0 ? check.chain_edges[problem.transition] : 0;
        check.problems.push_back({edge ? 0 : node, edge, problem.message});
    }
    return check;
}

// --- Building and arranging

PipelineGraph graph_from_pipeline(const Pipeline& pipeline) {
    PipelineGraph graph;
    int previous = 0;
    for (size_t i = 0; i < pipeline.stages.size(); ++i) {
        const Stage& stage = pipeline.stages[i];
        StageNode node;
        node.size = stage.size;
        node.config = stage.config;
        node.budget = stage.budget;
        node.pretrained = stage.pretrained;
        node.source = stage.source;
        const int id = graph.add_node(node);
        if (i > 0) graph.add_edge(previous, id, pipeline.transitions[i - 1].growth.op);
        previous = id;
    }
    arrange_left_to_right(graph);
    return graph;
}

void arrange_left_to_right(PipelineGraph& graph) {
    const Degrees degrees = degrees_of(graph);
    std::set<int> placed;
    int row = 0;
    auto place_chain = [&](int start) {
        int column = 0;
        for (int id = start; id && !placed.count(id); ++column) {
            placed.insert(id);
            graph.node(id)->x = column * kColumnSpacing;
            graph.node(id)->y = row * kRowSpacing;
            id = degrees.out.count(id) ? graph.edge(degrees.out.at(id).front())->to : 0;
        }
        ++row;
    };
    for (const auto& node : graph.nodes) {
        if (!degrees.in.count(node.id)) place_chain(node.id);
    }
    for (const auto& node : graph.nodes) {  // what only cycles reach
        if (!placed.count(node.id)) place_chain(node.id);
    }
}

GrowthOperator default_operator(const T5Config& from, const T5Config& to) {
    GrowthOperator op;
    op.depth = to.num_layers > from.num_layers || to.num_decoder_layers > from.num_decoder_layers;
    const bool wider = to.d_model > from.d_model || to.d_ff > from.d_ff || to.num_heads > from.num_heads;
    op.width = wider ? WidthOperator::aki : WidthOperator::none;
    if (!op.depth && !wider) op.depth = true;  // same shape: a no-op d still reads as growth
    return op;
}

T5Config default_size_config(const std::string& size) {
    const SizeCatalog presets;
    return presets.contains(size) ? presets.config(size) : T5Config();
}

nlohmann::json graph_to_json(const PipelineGraph& graph) {
    nlohmann::json nodes = nlohmann::json::array();
    for (const auto& node : graph.nodes) {
        nodes.push_back({{"id", node.id}, {"size", node.size}, {"config", node.config.to_hf_json()},
                         {"budget", node.budget.notation()}, {"pretrained", node.pretrained}, {"source", node.source},
                         {"x", node.x}, {"y", node.y}});
    }
    nlohmann::json edges = nlohmann::json::array();
    for (const auto& edge : graph.edges) {
        edges.push_back({{"id", edge.id}, {"from", edge.from}, {"to", edge.to}, {"op", edge.op.letters()}});
    }
    return {{"nodes", nodes}, {"edges", edges}, {"next_id", graph.next_id}};
}

PipelineGraph graph_from_json(const nlohmann::json& json) {
    PipelineGraph graph;
    for (const auto& item : json.at("nodes")) {
        StageNode node;
        node.id = item.at("id");
        node.size = item.at("size");
        node.config = T5Config::from_hf_json(item.at("config"), "clipboard");
        const std::string budget = item.at("budget");
        if (!budget.empty()) node.budget = Budget::parse(budget);
        node.pretrained = item.at("pretrained");
        node.source = item.at("source");
        node.x = item.at("x");
        node.y = item.at("y");
        graph.nodes.push_back(node);
    }
    for (const auto& item : json.at("edges")) {
        graph.edges.push_back({item.at("id"), item.at("from"), item.at("to"), GrowthOperator::parse(item.at("op"))});
    }
    graph.next_id = json.at("next_id");
    return graph;
}

}  // namespace gs
