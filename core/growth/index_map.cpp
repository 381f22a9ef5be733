#include "core/growth/index_map.h"

#include <numeric>
#include <stdexcept>

#include "core/common/random.h"

namespace gs {

std::string to_string(MapSampling sampling) { return sampling == MapSampling::balanced ? "balanced" : "uniform"; }

MapSampling parse_map_sampling(const std::string& text) {
    if (text == "balanced") return MapSampling::balanced;
    if (text == "uniform") return MapSampling::uniform;
    throw std::invalid_argument("map sampling '" + text + "': expected balanced or uniform");
}

IndexMap IndexMap::identity(int64_t size) {
    IndexMap map;
    map.source_of.resize(size);
    std::iota(map.source_of.begin(), map.source_of.end(), 0);
    map.copies.assign(size, 1);
    return map;
}

namespace {

}  // namespace

IndexMap IndexMap::sample(int64_t source, int64_t target, MapSampling sampling, uint64_t seed) {
    if (source <= 0 || target < source) {
        throw std::invalid_argument("cannot map " + std::to_string(source) + " units onto " + std::to_string(target) +
                                    ": width may only grow");
    }
    std::vector<int64_t> source_of(target);
    std::iota(source_of.begin(), source_of.begin() + source, 0);
    Random random(seed);
    std::vector<int64_t> round;
    for (int64_t j = source; j < target; ++j) {
        if (sampling == MapSampling::uniform) {
            source_of[j] = static_cast<int64_t>(random.below(source));
            continue;
        }
        // Balanced: successive random permutations, so no unit gets a second extra copy
        // before every unit has its first.
        if (round.empty()) round = random_permutation(source, random);
        source_of[j] = round.back();
        round.pop_back();
    }
    return from_sources(source, std::move(source_of));
}

IndexMap IndexMap::from_sources(int64_t source, std::vector<int64_t> source_of) {
    IndexMap map;
    map.copies.assign(source, 0);
    for (size_t j = 0; j < source_of.size(); ++j) {
        const int64_t unit = source_of[j];
        if (unit < 0 || unit >= source || (static_cast<int64_t>(j) < source && unit != static_cast<int64_t>(j))) {
            throw std::invalid_argument("index map entry " + std::to_string(j) + " = " + std::to_string(unit) +
                                        ": expected the identity on the first " + std::to_string(source) +
                                        " units and a unit below " + std::to_string(source) + " after them");
        }
        ++map.copies[unit];
    }
    map.source_of = std::move(source_of);
    return map;
}

}  // namespace gs
