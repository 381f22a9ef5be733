#include "core/common/hash.h"

#include <cstdio>
#include <cstring>

#include "core/common/random.h"

namespace gs {

uint64_t hash_bytes(const void* data, size_t size, uint64_t seed) {
    const auto* bytes = static_cast<const unsigned char*>(data);
    uint64_t h = mix64(seed ^ (size * 0x9e3779b97f4a7c15ULL));
    size_t i = 0;
    // Word at a time: checksumming a multi-GB token file stays a fraction of reading it.
    for (; i + 8 <= size; i += 8) {
        uint64_t word;
        std::memcpy(&word, bytes + i, 8);
        h = (h ^ (word * 0x87c37b91114253d5ULL)) * 0x4cf5ad432745937fULL;
        h = (h << 31) | (h >> 33);
    }
    uint64_t tail = 0;
    for (size_t shift = 0; i < size; ++i, shift += 8) tail |= uint64_t(bytes[i]) << shift;
    return mix64(h ^ tail);
}

std::string to_hex(uint64_t value) {
    char text[17];
    std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(value));
    return text;
}

}  // namespace gs
