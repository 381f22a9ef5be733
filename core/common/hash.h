// A stable 64-bit hash (FNV-1a): the same value on every machine and standard library.
#pragma once

#include <cstdint>
#include <string>

namespace gs {

inline uint64_t fnv1a64(const std::string& text, uint64_t seed = 0) {
    uint64_t hash = 0xCBF29CE484222325ULL ^ seed;
    for (unsigned char c : text) {
        hash ^= c;
        hash *= 0x100000001B3ULL;
    }
    return hash;
}

}  // namespace gs
