#include "core/common/hash.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <vector>

#include "core/common/random.h"
#include "core/io/files.h"

namespace gs {

namespace {

// hash_bytes in three steps, so that a file can be hashed a chunk at a time with the same result.
uint64_t hash_start(uint64_t size, uint64_t seed) { return mix64(seed ^ (size * 0x9e3779b97f4a7c15ULL)); }

// Word at a time: checksumming a multi-GB token file stays a fraction of reading it.
uint64_t hash_words(uint64_t h, const unsigned char* bytes, size_t words) {
    for (size_t i = 0; i < words; ++i) {
        uint64_t word;
        std::memcpy(&word, bytes + 8 * i, 8);
        h = (h ^ (word * 0x87c37b91114253d5ULL)) * 0x4cf5ad432745937fULL;
        h = (h << 31) | (h >> 33);
    }
    return h;
}

// The last size % 8 bytes.
uint64_t hash_finish(uint64_t h, const unsigned char* tail_bytes, size_t count) {
    uint64_t tail = 0;
    for (size_t i = 0; i < count; ++i) tail |= uint64_t(tail_bytes[i]) << (8 * i);
    return mix64(h ^ tail);
}

}  // namespace

uint64_t hash_bytes(const void* data, size_t size, uint64_t seed) {
    const auto* bytes = static_cast<const unsigned char*>(data);
    const uint64_t h = hash_words(hash_start(size, seed), bytes, size / 8);
    return hash_finish(h, bytes + size / 8 * 8, size % 8);
}

uint64_t hash_file(const std::string& path, uint64_t& size) {
    std::ifstream in = open_input_file(path);
    in.seekg(0, std::ios::end);
    size = static_cast<uint64_t>(in.tellg());
    in.seekg(0);
    uint64_t h = hash_start(size, 0);
    std::vector<unsigned char> chunk(size_t{1} << 20);  // a multiple of 8: words never straddle two chunks
    for (uint64_t left = size; left > 0;) {
        const size_t count = static_cast<size_t>(std::min<uint64_t>(left, chunk.size()));
        if (!in.read(reinterpret_cast<char*>(chunk.data()), static_cast<std::streamsize>(count))) {
            throw std::runtime_error(path + ": the file changed size while it was hashed");
        }
        left -= count;
        h = hash_words(h, chunk.data(), count / 8);
        if (left == 0) return hash_finish(h, chunk.data() + count / 8 * 8, count % 8);
    }
    return hash_finish(h, nullptr, 0);
}

std::string to_hex(uint64_t value) {
    char text[17];
    std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(value));
    return text;
}

}  // namespace gs
