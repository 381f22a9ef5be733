// Index maps of width growth: which source unit each target unit copies, and a seeded,
// portable random source to draw them (the same seed gives the same maps on any machine).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace gs {

enum class MapSampling {
    balanced,  // new units drawn without replacement: copy counts differ by at most one
    uniform,   // each new unit drawn uniformly with replacement (bert2BERT's literal rule)
};

std::string to_string(MapSampling sampling);
MapSampling parse_map_sampling(const std::string& text);  // throws std::invalid_argument

// g: [0, target) -> [0, source) with g(j) = j for j < source.
struct IndexMap {
    std::vector<int64_t> source_of;  // per target unit
    std::vector<int64_t> copies;     // per source unit: how many target units map to it (>= 1)

    int64_t source_size() const { return static_cast<int64_t>(copies.size()); }
    int64_t target_size() const { return static_cast<int64_t>(source_of.size()); }
    bool is_identity() const { return source_size() == target_size(); }
    int64_t copies_of_target(int64_t target_unit) const { return copies[source_of[target_unit]]; }

    static IndexMap identity(int64_t size);
    // Throws std::invalid_argument when target < source.
    static IndexMap sample(int64_t source, int64_t target, MapSampling sampling, uint64_t seed);
    // Rebuilds the counts from `source_of` (after loading a saved map); validates it.
    static IndexMap from_sources(int64_t source, std::vector<int64_t> source_of);
};

}  // namespace gs
