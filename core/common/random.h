// A small fixed pseudo-random generator, so that the same seed gives the same data on every
// machine and standard library (std:: distributions are implementation-defined).
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace gs {

// splitmix64's output function: a strong 64-bit mixer, also used to derive seeds.
inline uint64_t mix64(uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

// Combines a seed with stream identifiers (epoch, row, ...) into an independent seed.
inline uint64_t derive_seed(uint64_t seed, uint64_t a, uint64_t b = 0) { return mix64(mix64(seed ^ mix64(a)) + b); }

// xoshiro256** (Blackman and Vigna), seeded through splitmix64.
class Random {
public:
    explicit Random(uint64_t seed) {
        for (auto& word : state_) {
            seed += 0x9e3779b97f4a7c15ULL;
            word = mix64(seed - 0x9e3779b97f4a7c15ULL);
        }
    }

    uint64_t next() {
        const uint64_t result = rotl(state_[1] * 5, 7) * 9;
        const uint64_t t = state_[1] << 17;
        state_[2] ^= state_[0];
        state_[3] ^= state_[1];
        state_[1] ^= state_[2];
        state_[0] ^= state_[3];
        state_[2] ^= t;
        state_[3] = rotl(state_[3], 45);
        return result;
    }

    // Uniform in [0, bound), without modulo bias (bound > 0).
    uint64_t below(uint64_t bound) {
        const uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
        uint64_t value;
        do {
            value = next();
        } while (value >= limit);
        return value % bound;
    }

private:
    static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
    uint64_t state_[4];
};

// 0 .. size-1 shuffled by Fisher-Yates with `random`: the same order for a seed on every machine.
inline std::vector<int64_t> random_permutation(int64_t size, Random& random) {
    std::vector<int64_t> order(static_cast<size_t>(size));
    for (int64_t i = 0; i < size; ++i) order[static_cast<size_t>(i)] = i;
    for (int64_t i = size - 1; i > 0; --i) {
        std::swap(order[static_cast<size_t>(i)], order[random.below(static_cast<uint64_t>(i + 1))]);
    }
    return order;
}

}  // namespace gs
