// Fast 64-bit hashing of byte ranges, the same on every machine: document identities for the
// train/validation split, tokenizer and corpus fingerprints, cache checksums, seeds of growth
// maps, experiment identities, the data files behind downstream scores. Not cryptographic.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace gs {

uint64_t hash_bytes(const void* data, size_t size, uint64_t seed = 0);
inline uint64_t hash_text(std::string_view text, uint64_t seed = 0) { return hash_bytes(text.data(), text.size(), seed); }
// hash_bytes (seed 0) of a file's bytes, read a chunk at a time; `size` is set to its size in
// bytes. Errors name the file.
uint64_t hash_file(const std::string& path, uint64_t& size);

// 16 lower-case hex digits: fingerprints in JSON files, where a 64-bit number would lose
// digits in many readers.
std::string to_hex(uint64_t value);

}  // namespace gs
