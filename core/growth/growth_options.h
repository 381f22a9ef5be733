// What a growth step does: the operator letters of the study (d, f, a) and the settings that
// the literature leaves open. Plain C++ so that the pipeline editor can use it without LibTorch.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/growth/index_map.h"

namespace gs {

struct T5Config;

// A growth request that no operator can satisfy; the message names the field and the rule.
class GrowthError : public std::invalid_argument {
public:
    using std::invalid_argument::invalid_argument;
};

enum class WidthOperator {
    none,
    fpi,  // f: Net2Net function-preserving initialisation, generalised by bert2BERT
    aki,  // a: bert2BERT advanced knowledge initialisation (new units from layer l+1)
};

// Letters as the study writes them: "d", "f", "a", "da", "df". Widening happens before deepening.
struct GrowthOperator {
    bool depth = false;
    WidthOperator width = WidthOperator::none;

    static GrowthOperator parse(const std::string& letters);  // throws GrowthError
    std::string letters() const;                              // canonical: depth letter first
    bool operator==(const GrowthOperator& other) const { return depth == other.depth && width == other.width; }
    bool operator!=(const GrowthOperator& other) const { return !(*this == other); }
};

enum class DepthStrategy {
    stack,        // whole stack copied on top of itself; a non-integer rest from the top layers
    interpolate,  // each layer duplicated in place: target l' <- source floor(l' * L / L')
    solar,        // two copies overlapping at the seam (SOLAR depth up-scaling): [0, L'/2) + [L - L'/2, L)
    identity,     // interpolation layout; the duplicates start as identity (output projections zero)
};

// Where the AKI reading of bert2BERT is ambiguous: whether a new unit also takes its outgoing
// weights (attention output columns, FFN wo columns) from layer l+1.
enum class AkiVariant {
    literal,     // incoming weights from layer l+1, outgoing from the unit's own layer (the paper's equation)
    whole_unit,  // the whole head/neuron from layer l+1
};

std::string to_string(DepthStrategy strategy);
DepthStrategy parse_depth_strategy(const std::string& text);
std::string to_string(AkiVariant variant);
AkiVariant parse_aki_variant(const std::string& text);

struct GrowthOptions {
    GrowthOperator op;
    DepthStrategy depth_strategy = DepthStrategy::stack;
    MapSampling sampling = MapSampling::balanced;
    // Scale hidden copies so that every RMS norm sees the same RMS (exact at any ratio).
    bool exact = false;
    // Paired +n/-n noise on copied input columns, n ~ N(0, (noise * std of the tensor)^2):
    // breaks the symmetry between copies while the function stays exactly the same.
    double noise = 0.0;
    AkiVariant aki_variant = AkiVariant::literal;
    uint64_t seed = 0;

    nlohmann::json to_json() const;
    // Absent fields keep their defaults; `source` names the file or field in errors.
    static GrowthOptions from_json(const nlohmann::json& json, const std::string& source);
};

// The layer table of depth growth: target layer l' copies source layer source_of[l'];
// inserted[l'] marks identity blocks (copies whose output projections start at zero).
struct DepthMap {
    std::vector<int64_t> source_of;
    std::vector<bool> inserted;

    static DepthMap build(int64_t source_layers, int64_t target_layers, DepthStrategy strategy);
};

// Checks that `op` can turn `source` into `target`; throws GrowthError naming the rule broken.
void validate_growth(const T5Config& source, const T5Config& target, const GrowthOperator& op);

}  // namespace gs
