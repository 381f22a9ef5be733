#include "core/growth/t5_growth.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>
#include <stdexcept>

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <ATen/CPUGeneratorImpl.h>
#include <nlohmann/json.hpp>

#include "core/common/hash.h"
#include "core/io/files.h"

namespace gs {

namespace {

const char* kPlanFile = "growth.json";

// Which map an axis of a tensor follows, and whether the tensor writes that axis (rows of a
// projection), reads it (columns) or scales it elementwise (an RMS norm gain).
enum class Axis { keep, hidden, heads, ffn };
enum class Role { output, input, gain };

struct AxisUse {
    Axis axis = Axis::keep;
    Role role = Role::output;
};

struct TensorLayout {
    std::string stack;   // "encoder" or "decoder" for block tensors, "" for model-level ones
    int64_t layer = -1;  // block index
    std::string local;   // name inside the block: "layer.0.SelfAttention.q.weight"
    AxisUse axes[2];     // rows, columns (a 1-D tensor uses the first only)
    bool relative_bias = false;
    bool output_projection = false;  // attention o and FFN wo: zero in identity blocks
};

bool ends_with(const std::string& text, const std::string& suffix) {
    return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

void set_block_axes(TensorLayout& layout, const std::string& name) {
    const std::string& local = layout.local;
    auto projection = [&](Axis rows, Role row_role, Axis cols, Role col_role) {
        layout.axes[0] = {rows, row_role};
        layout.axes[1] = {cols, col_role};
    };
    if (ends_with(local, "layer_norm.weight")) {
        layout.axes[0] = {Axis::hidden, Role::gain};
    } else if (ends_with(local, "relative_attention_bias.weight")) {
        projection(Axis::keep, Role::output, Axis::heads, Role::output);
        layout.relative_bias = true;
    } else if (ends_with(local, "Attention.q.weight") || ends_with(local, "Attention.k.weight") ||
               ends_with(local, "Attention.v.weight")) {
        projection(Axis::heads, Role::output, Axis::hidden, Role::input);
    } else if (ends_with(local, "Attention.o.weight")) {
        projection(Axis::hidden, Role::output, Axis::heads, Role::input);
        layout.output_projection = true;
    } else if (ends_with(local, "DenseReluDense.wi.weight") || ends_with(local, "DenseReluDense.wi_0.weight") ||
               ends_with(local, "DenseReluDense.wi_1.weight")) {
        projection(Axis::ffn, Role::output, Axis::hidden, Role::input);
    } else if (ends_with(local, "DenseReluDense.wo.weight")) {
        projection(Axis::hidden, Role::output, Axis::ffn, Role::input);
        layout.output_projection = true;
    } else {
        throw std::invalid_argument("growth: unknown T5 tensor '" + name + "'");
    }
}

TensorLayout layout_of(const std::string& name) {
    TensorLayout layout;
    if (name == "shared.weight") {
        layout.axes[0] = {Axis::keep, Role::output};
        layout.axes[1] = {Axis::hidden, Role::output};
        return layout;
    }
    if (name == "lm_head.weight") {
        layout.axes[0] = {Axis::keep, Role::output};
        layout.axes[1] = {Axis::hidden, Role::input};
        return layout;
    }
    if (name == "encoder.final_layer_norm.weight" || name == "decoder.final_layer_norm.weight") {
        layout.axes[0] = {Axis::hidden, Role::gain};
        return layout;
    }
    const std::string block = ".block.";
    const size_t at = name.find(block);
    const std::string stack = name.substr(0, at == std::string::npos ? 0 : at);
    if (at == std::string::npos || (stack != "encoder" && stack != "decoder")) {
        throw std::invalid_argument("growth: unknown T5 tensor '" + name + "'");
    }
    const size_t layer_end = name.find('.', at + block.size());
    layout.stack = stack;
    layout.layer = std::stoll(name.substr(at + block.size(), layer_end - at - block.size()));
    layout.local = name.substr(layer_end + 1);
    set_block_axes(layout, name);
    return layout;
}

std::string block_name(const std::string& stack, int64_t layer, const std::string& local) {
    return stack + ".block." + std::to_string(layer) + "." + local;
}

const StackGrowthPlan& stack_plan(const GrowthPlan& plan, const std::string& stack) {
    return stack == "encoder" ? plan.encoder : plan.decoder;
}

const DimensionMap* map_of(const GrowthPlan& plan, const TensorLayout& layout, Axis axis) {
    switch (axis) {
        case Axis::hidden: return &plan.hidden;
        case Axis::heads: return &stack_plan(plan, layout.stack).heads;
        case Axis::ffn: return &stack_plan(plan, layout.stack).ffn.at(layout.layer);
        case Axis::keep: break;
    }
    return nullptr;
}

// The factor of target unit j along an axis, for weights or for the optimiser's moments.
double unit_factor(const DimensionMap& map, int64_t j, Role role, GrowthState state) {
    const double write = map.write_scale[j];
    const double read = map.read_scale[j];
    if (state == GrowthState::weights) return role == Role::output ? write : role == Role::input ? read : 1.0;
    const double gradient = role == Role::output ? read : role == Role::input ? write : read * write;
    return state == GrowthState::first_moment ? gradient : gradient * gradient;
}

// Index and factor of every target position along one tensor dimension: heads span d_kv rows.
struct AxisExpansion {
    std::vector<int64_t> index;
    std::vector<double> factor;
    bool trivial = true;  // identity index, factors all 1
};

AxisExpansion expansion(const DimensionMap& map, Role role, GrowthState state, int64_t unit_width) {
    AxisExpansion out;
    for (int64_t j = 0; j < map.index.target_size(); ++j) {
        const double factor = unit_factor(map, j, role, state);
        for (int64_t t = 0; t < unit_width; ++t) {
            out.index.push_back(map.index.source_of[j] * unit_width + t);
            out.factor.push_back(factor);
        }
        out.trivial = out.trivial && factor == 1.0;
    }
    out.trivial = out.trivial && map.index.is_identity();
    return out;
}

at::Tensor expand_dimension(const at::Tensor& tensor, int64_t dim, const AxisExpansion& axis) {
    if (axis.trivial) return tensor;
    const auto count = static_cast<int64_t>(axis.index.size());
    at::Tensor index = at::tensor(axis.index, at::kLong);
    at::Tensor grown = tensor.index_select(dim, index);
    std::vector<int64_t> shape(tensor.dim(), 1);
    shape[dim] = count;
    at::Tensor factor = at::tensor(axis.factor, at::kDouble).to(tensor.scalar_type()).view(shape);
    return grown.mul_(factor);
}

// Width growth of one tensor at the source depth.
at::Tensor widen(const GrowthPlan& plan, const TensorLayout& layout, at::Tensor tensor, GrowthState state) {
    for (int64_t dim = 0; dim < tensor.dim(); ++dim) {
        const AxisUse& use = layout.axes[dim];
        const DimensionMap* map = map_of(plan, layout, use.axis);
        if (!map) continue;
        const int64_t unit_width = use.axis == Axis::heads && !layout.relative_bias ? plan.source.d_kv : 1;
        tensor = expand_dimension(tensor, dim, expansion(*map, use.role, state, unit_width));
    }
    return tensor;
}

// A tied LM head rescales decoder states by d_model^-0.5 and reads the grown embedding whose
// copies sum to D/d times the source: the final norm gain absorbs sqrt(d / D).
double tied_head_factor(const GrowthPlan& plan, GrowthState state) {
    const double factor = std::sqrt(static_cast<double>(plan.source.d_model) / plan.target.d_model);
    if (state == GrowthState::weights) return factor;
    return state == GrowthState::first_moment ? 1.0 / factor : 1.0 / (factor * factor);
}

TensorMap widen_all(const GrowthPlan& plan, const TensorMap& source, GrowthState state) {
    TensorMap widened;
    for (const auto& [name, tensor] : source) widened[name] = widen(plan, layout_of(name), tensor, state);
    if (plan.source.tie_word_embeddings && plan.source.d_model != plan.target.d_model) {
        at::Tensor& gain = widened.at("decoder.final_layer_norm.weight");
        gain = gain * tied_head_factor(plan, state);
    }
    return widened;
}

// AKI: the new heads and FFN neurons of layer l take the (widened) weights of the same units
// in layer l+1: their incoming rows always, their outgoing columns in the whole-unit variant.
// Ascending layer order reads layer l+1 before it is changed itself; the top layer stays FPI.
void borrow_from_upper_layers(const GrowthPlan& plan, TensorMap& widened) {
    const bool whole_unit = plan.options.aki_variant == AkiVariant::whole_unit;
    std::vector<std::pair<int64_t, std::string>> by_layer;  // names sort block.10 before block.2
    for (const auto& [name, tensor] : widened) by_layer.emplace_back(layout_of(name).layer, name);
    std::sort(by_layer.begin(), by_layer.end());
    for (const auto& [layer, name] : by_layer) {
        at::Tensor& tensor = widened.at(name);
        const TensorLayout layout = layout_of(name);
        if (layout.layer < 0 || layout.relative_bias) continue;
        const int64_t layers = static_cast<int64_t>(stack_plan(plan, layout.stack).ffn.size());
        if (layout.layer + 1 >= layers) continue;
        const at::Tensor& upper = widened.at(block_name(layout.stack, layout.layer + 1, layout.local));
        for (int64_t dim = 0; dim < tensor.dim(); ++dim) {
            const AxisUse& use = layout.axes[dim];
            if (use.axis != Axis::heads && use.axis != Axis::ffn) continue;
            if (use.role == Role::input && !whole_unit) continue;
            const DimensionMap& map = *map_of(plan, layout, use.axis);
            const int64_t unit_width = use.axis == Axis::heads ? plan.source.d_kv : 1;
            const int64_t first_new = map.index.source_size() * unit_width;
            const int64_t end = map.index.target_size() * unit_width;
            if (first_new == end) continue;
            tensor.slice(dim, first_new, end).copy_(upper.slice(dim, first_new, end));
        }
    }
}

// Pairs of copies of one source unit along a read axis: (first, second) target positions.
std::vector<std::pair<int64_t, int64_t>> copy_pairs(const DimensionMap& map, int64_t unit_width) {
    std::vector<std::vector<int64_t>> copies(map.index.source_size());
    for (int64_t j = 0; j < map.index.target_size(); ++j) copies[map.index.source_of[j]].push_back(j);
    std::vector<std::pair<int64_t, int64_t>> pairs;
    for (const auto& units : copies) {
        for (size_t k = 0; k + 1 < units.size(); k += 2) {
            for (int64_t t = 0; t < unit_width; ++t) {
                pairs.emplace_back(units[k] * unit_width + t, units[k + 1] * unit_width + t);
            }
        }
    }
    return pairs;
}

// Adds +n to one copy's input column and -n to its partner's: both copies see the same input
// (same scale), so the sum they contribute is unchanged while their weights differ.
void add_paired_noise(const GrowthPlan& plan, TensorMap& widened) {
    for (auto& [name, tensor] : widened) {
        const TensorLayout layout = layout_of(name);
        if (tensor.dim() != 2 || layout.axes[1].role != Role::input) continue;
        const AxisUse& use = layout.axes[1];
        const int64_t unit_width = use.axis == Axis::heads ? plan.source.d_kv : 1;
        const auto pairs = copy_pairs(*map_of(plan, layout, use.axis), unit_width);
        if (pairs.empty()) continue;
        std::vector<int64_t> first, second;
        for (const auto& [a, b] : pairs) {
            first.push_back(a);
            second.push_back(b);
        }
        at::Generator generator = at::detail::createCPUGenerator(hash_text(name, plan.options.seed));
        const double scale = plan.options.noise * tensor.std().item<double>();
        const at::Tensor noise =
            at::randn({tensor.size(0), static_cast<int64_t>(pairs.size())}, generator, tensor.options()) * scale;
        tensor.index_add_(1, at::tensor(first, at::kLong), noise);
        tensor.index_add_(1, at::tensor(second, at::kLong), -noise);
    }
}

// Depth: each target block copies its source block by the stack's layer table; only block 0
// keeps the relative position bias; identity blocks start with zero output projections.
TensorMap deepen(const GrowthPlan& plan, const TensorMap& widened) {
    std::map<std::string, std::map<int64_t, std::vector<std::pair<std::string, at::Tensor>>>> blocks;
    TensorMap grown;
    for (const auto& [name, tensor] : widened) {
        const TensorLayout layout = layout_of(name);
        if (layout.layer < 0) {
            grown[name] = tensor;
        } else {
            blocks[layout.stack][layout.layer].emplace_back(layout.local, tensor);
        }
    }
    for (const std::string stack : {"encoder", "decoder"}) {
        const DepthMap& depth = stack_plan(plan, stack).depth;
        for (int64_t l = 0; l < static_cast<int64_t>(depth.source_of.size()); ++l) {
            for (const auto& [local, tensor] : blocks[stack][depth.source_of[l]]) {
                const TensorLayout layout = layout_of(block_name(stack, 0, local));
                if (layout.relative_bias && l != 0) continue;
                const bool zero = depth.inserted[l] && layout.output_projection;
                grown[block_name(stack, l, local)] = zero ? at::zeros_like(tensor) : tensor;
            }
        }
    }
    return grown;
}

}  // namespace

TensorMap grow_tensors(const GrowthPlan& plan, const TensorMap& source, GrowthState state) {
    at::NoGradGuard no_grad;
    TensorMap widened = widen_all(plan, source, state);
    if (plan.options.op.width == WidthOperator::aki) borrow_from_upper_layers(plan, widened);
    if (state == GrowthState::weights && plan.options.noise > 0) add_paired_noise(plan, widened);
    return deepen(plan, widened);
}

TensorMap parameters_by_name(const T5Model& model) {
    TensorMap tensors;
    for (const auto& item : model->named_parameters()) tensors[item.key()] = item.value();
    return tensors;
}

T5Model grow_t5_model(const T5Model& source, const GrowthPlan& plan) {
    if (source->config() != plan.source) {
        throw GrowthError("growth plan was drawn for a different source configuration");
    }
    TensorMap source_tensors = parameters_by_name(source);
    std::set<const void*> taken;  // storage the new model must not share: the source's, or used once already
    for (const auto& [name, tensor] : source_tensors) taken.insert(tensor.data_ptr());
    TensorMap grown = grow_tensors(plan, source_tensors);
    source_tensors.clear();
    // The new model's parameters are allocated but never written: each adopts its grown
    // tensor instead of copying it, so the peak stays near one grown model.
    T5Model target(plan.target, /*initialize=*/false);
    at::NoGradGuard no_grad;
    for (auto& item : target->named_parameters()) {
        auto found = grown.find(item.key());
        if (found == grown.end()) throw std::logic_error("growth produced no tensor '" + item.key() + "'");
        at::Tensor tensor = std::move(found->second);
        grown.erase(found);
        if (!taken.insert(tensor.data_ptr()).second) tensor = tensor.clone();
        item.value().set_data(tensor.contiguous());
    }
    return target;
}

void save_growth_plan(const GrowthPlan& plan, const std::string& directory) {
    write_file_atomically((std::filesystem::path(directory) / kPlanFile).string(), plan.to_json().dump(1) + "\n");
}

GrowthPlan load_growth_plan(const std::string& directory) {
    const std::string path = (std::filesystem::path(directory) / kPlanFile).string();
    return GrowthPlan::from_json(read_json_file(path), path);
}

}  // namespace gs
