#include "core/data/token_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstring>
#include <stdexcept>

#include "core/common/hash.h"
#include "core/common/random.h"
#include "core/io/files.h"

namespace gs {
namespace {

constexpr char kMagic[8] = {'G', 'S', 'T', 'O', 'K', 'E', 'N', '1'};
constexpr char kTrailerMagic[8] = {'G', 'S', 'T', 'O', 'K', 'E', 'N', 'D'};
constexpr size_t kPrefixSize = 16;  // magic, token_bytes, reserved
constexpr size_t kBlockSize = 1 << 20;

// What follows the offsets; `checksum` covers every byte before the trailer.
struct Trailer {
    uint64_t tokens;
    uint64_t documents;
    uint64_t vocab_size;
    uint64_t tokenizer_fingerprint;
    uint64_t corpus_fingerprint;
    uint64_t checksum;
    uint64_t trailer_hash;  // of the fields above
    char magic[8];
};
static_assert(sizeof(Trailer) == 64, "fixed trailer layout");

// The checksum of a byte stream in kBlockSize blocks, the same whether streamed or mapped.
uint64_t fold_block(uint64_t checksum, const void* data, size_t size, uint64_t index) {
    return mix64(checksum + hash_bytes(data, size, index));
}

uint64_t checksum_of(const unsigned char* data, size_t size) {
    uint64_t checksum = 0, index = 0;
    for (size_t at = 0; at < size; at += kBlockSize) {
        checksum = fold_block(checksum, data + at, std::min(kBlockSize, size - at), index++);
    }
    return checksum;
}

size_t padded_to_8(size_t size) { return (size + 7) / 8 * 8; }

}  // namespace

TokenFileWriter::TokenFileWriter(std::string path, const TokenFileHeader& header)
    : file_(std::make_unique<AtomicFileWriter>(path)), path_(std::move(path)), header_(header) {
    if (header_.token_bytes != 2 && header_.token_bytes != 4) throw std::invalid_argument("token width must be 2 or 4");
    header_.tokens = header_.documents = 0;
    block_.reserve(kBlockSize);
    char prefix[kPrefixSize] = {};
    std::memcpy(prefix, kMagic, 8);
    std::memcpy(prefix + 8, &header_.token_bytes, 4);
    append(prefix, sizeof prefix);
}

TokenFileWriter::~TokenFileWriter() = default;

void TokenFileWriter::append(const void* data, size_t size) {
    const char* bytes = static_cast<const char*>(data);
    while (size > 0) {
        const size_t n = std::min(size, kBlockSize - block_.size());
        block_.insert(block_.end(), bytes, bytes + n);
        bytes += n;
        size -= n;
        if (block_.size() == kBlockSize) flush_block();
    }
}

void TokenFileWriter::flush_block() {
    if (block_.empty()) return;
    checksum_ = fold_block(checksum_, block_.data(), block_.size(), blocks_++);
    file_->write(block_.data(), block_.size());
    block_.clear();
}

void TokenFileWriter::add_document(const int32_t* ids, size_t count) {
    if (header_.token_bytes == 4) {
        append(ids, count * 4);
    } else {
        uint16_t narrow[1024];
        for (size_t at = 0; at < count; at += 1024) {
            const size_t n = std::min<size_t>(1024, count - at);
            for (size_t i = 0; i < n; ++i) narrow[i] = static_cast<uint16_t>(ids[at + i]);
            append(narrow, n * 2);
        }
    }
    header_.tokens += count;
    header_.documents += 1;
    offsets_.push_back(header_.tokens);
}

void TokenFileWriter::commit() {
    const size_t token_end = kPrefixSize + header_.tokens * header_.token_bytes;
    const char zeros[8] = {};
    append(zeros, padded_to_8(token_end) - token_end);
    append(offsets_.data(), offsets_.size() * sizeof(uint64_t));
    flush_block();
    Trailer trailer{header_.tokens, header_.documents, header_.vocab_size, header_.tokenizer_fingerprint,
                    header_.corpus_fingerprint, checksum_, 0, {}};
    trailer.trailer_hash = hash_bytes(&trailer, offsetof(Trailer, trailer_hash));
    std::memcpy(trailer.magic, kTrailerMagic, 8);
    file_->write(&trailer, sizeof trailer);
    file_->commit();
}

TokenFile TokenFile::open(const std::string& path) {
    TokenFile file;
    file.path_ = path;
    const int fd = ::open(path.c_str(), O_RDONLY);
    if (fd < 0) throw std::runtime_error(path + ": cannot open the token file");
    struct stat info{};
    ::fstat(fd, &info);
    const size_t size = static_cast<size_t>(info.st_size);
    if (size < kPrefixSize + sizeof(Trailer)) {
        ::close(fd);
        throw std::runtime_error(path + ": truncated token file (" + std::to_string(size) + " bytes)");
    }
    file.map_ = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
    ::close(fd);
    if (file.map_ == MAP_FAILED) {
        file.map_ = nullptr;
        throw std::runtime_error(path + ": cannot map the token file");
    }
    file.map_size_ = size;
    const auto* bytes = static_cast<const unsigned char*>(file.map_);
    auto fail = [&](const std::string& why) { throw std::runtime_error(path + ": " + why + "; delete it to rebuild"); };
    if (std::memcmp(bytes, kMagic, 8) != 0) fail("not a GrowthStudio token file");
    Trailer trailer;
    std::memcpy(&trailer, bytes + size - sizeof trailer, sizeof trailer);
    if (std::memcmp(trailer.magic, kTrailerMagic, 8) != 0 ||
        trailer.trailer_hash != hash_bytes(&trailer, offsetof(Trailer, trailer_hash))) {
        fail("truncated or corrupt token file (no valid trailer)");
    }
    auto& header = file.header_;
    std::memcpy(&header.token_bytes, bytes + 8, 4);
    header.tokens = trailer.tokens;
    header.documents = trailer.documents;
    header.vocab_size = trailer.vocab_size;
    header.tokenizer_fingerprint = trailer.tokenizer_fingerprint;
    header.corpus_fingerprint = trailer.corpus_fingerprint;
    const size_t offsets_at = padded_to_8(kPrefixSize + header.tokens * header.token_bytes);
    if ((header.token_bytes != 2 && header.token_bytes != 4) ||
        offsets_at + (header.documents + 1) * 8 + sizeof(Trailer) != size) {
        fail("corrupt token file (sizes do not add up)");
    }
    if (checksum_of(bytes, size - sizeof(Trailer)) != trailer.checksum) fail("corrupt token file (checksum mismatch)");
    file.tokens_ = bytes + kPrefixSize;
    file.offsets_ = reinterpret_cast<const uint64_t*>(bytes + offsets_at);
    if (file.offsets_[header.documents] != header.tokens) fail("corrupt token file (document index)");
    ::madvise(file.map_, size, MADV_RANDOM);
    return file;
}

TokenFile::TokenFile(TokenFile&& other) noexcept { *this = std::move(other); }

TokenFile& TokenFile::operator=(TokenFile&& other) noexcept {
    std::swap(path_, other.path_);
    std::swap(header_, other.header_);
    std::swap(map_, other.map_);
    std::swap(map_size_, other.map_size_);
    std::swap(tokens_, other.tokens_);
    std::swap(offsets_, other.offsets_);
    return *this;
}

TokenFile::~TokenFile() {
    if (map_) ::munmap(map_, map_size_);
}

void TokenFile::read(uint64_t start, uint64_t count, int32_t* out) const {
    if (start + count > header_.tokens) throw std::out_of_range(path_ + ": read past the last token");
    if (header_.token_bytes == 4) {
        std::memcpy(out, tokens_ + start * 4, count * 4);
        return;
    }
    const auto* narrow = reinterpret_cast<const uint16_t*>(tokens_) + start;
    for (uint64_t i = 0; i < count; ++i) out[i] = narrow[i];
}

}  // namespace gs
