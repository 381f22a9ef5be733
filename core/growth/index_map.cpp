#include "core/growth/index_map.h"

#include <numeric>
#include <stdexcept>

#include "core/io/hash.h"

namespace gs {

uint64_t SplitMix64::next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

uint64_t SplitMix64::below(uint64_t bound) {
    // Rejection sampling: drop the top partial range so every residue is equally likely.
    const uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
    uint64_t value;
    do {
        value = next();
    } while (value >= limit);
    return value % bound;
}

double SplitMix64::uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

uint64_t stable_hash(const std::string& text, uint64_t seed) { return fnv1a64(text, seed); }

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

// Fisher-Yates with the portable generator.
std::vector<int64_t> permutation(int64_t size, SplitMix64& random) {
    std::vector<int64_t> order(size);
    std::iota(order.begin(), order.end(), 0);
    for (int64_t i = size - 1; i > 0; --i) std::swap(order[i], order[random.below(i + 1)]);
    return order;
}

}  // namespace

IndexMap IndexMap::sample(int64_t source, int64_t target, MapSampling sampling, uint64_t seed) {
    if (source <= 0 || target < source) {
        throw std::invalid_argument("cannot map " + std::to_string(source) + " units onto " + std::to_string(target) +
                                    ": width may only grow");
    }
    std::vector<int64_t> source_of(target);
    std::iota(source_of.begin(), source_of.begin() + source, 0);
    SplitMix64 random(seed);
    std::vector<int64_t> round;
    for (int64_t j = source; j < target; ++j) {
        if (sampling == MapSampling::uniform) {
            source_of[j] = static_cast<int64_t>(random.below(source));
            continue;
        }
        // Balanced: successive random permutations, so no unit gets a second extra copy
        // before every unit has its first.
        if (round.empty()) round = permutation(source, random);
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
