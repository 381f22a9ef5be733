// Fast 64-bit hashing of byte ranges: document identities for the train/validation split,
// tokenizer and corpus fingerprints, cache checksums. Not cryptographic.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace gs {

uint64_t hash_bytes(const void* data, size_t size, uint64_t seed = 0);
inline uint64_t hash_text(std::string_view text, uint64_t seed = 0) { return hash_bytes(text.data(), text.size(), seed); }


}  // namespace gs
