// The binary token file of the tokenized cache: every document's ids (eos appended) one after
// the other as uint16 (when the vocabulary fits) or uint32, then the documents' start offsets,
// then a trailer with the counts, the tokenizer's and the corpus's fingerprints and a checksum
// of everything before it. Written sequentially to a temporary name and renamed when complete;
// read through mmap, after checking sizes and the checksum, so that a truncated or corrupt file
// is reported and never used.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace gs {

class AtomicFileWriter;

struct TokenFileHeader {
    uint32_t token_bytes = 2;             // 2 or 4
    uint64_t tokens = 0;
    uint64_t documents = 0;
    uint64_t vocab_size = 0;              // ids are below this
    uint64_t tokenizer_fingerprint = 0;
    uint64_t corpus_fingerprint = 0;
};

class TokenFileWriter {
public:
    TokenFileWriter(std::string path, const TokenFileHeader& header);
    ~TokenFileWriter();  // without commit(): the temporary file is removed
    TokenFileWriter(const TokenFileWriter&) = delete;
    TokenFileWriter& operator=(const TokenFileWriter&) = delete;

    void add_document(const int32_t* ids, size_t count);
    void commit();
    const TokenFileHeader& header() const { return header_; }

private:
    void append(const void* data, size_t size);
    void flush_block();

    std::unique_ptr<AtomicFileWriter> file_;
    std::string path_;
    TokenFileHeader header_;
    std::vector<uint64_t> offsets_{0};
    std::vector<char> block_;
    uint64_t checksum_ = 0;
    uint64_t blocks_ = 0;
};

class TokenFile {
public:
    // Throws, naming the file, when it is truncated, corrupt or of another format.
    static TokenFile open(const std::string& path);
    TokenFile(TokenFile&& other) noexcept;
    TokenFile& operator=(TokenFile&& other) noexcept;
    ~TokenFile();

    const std::string& path() const { return path_; }
    const TokenFileHeader& header() const { return header_; }
    uint64_t token_count() const { return header_.tokens; }
    uint64_t document_count() const { return header_.documents; }
    uint64_t document_start(uint64_t document) const { return offsets_[document]; }

    // Copies tokens [start, start + count) as int32.
    void read(uint64_t start, uint64_t count, int32_t* out) const;

private:
    TokenFile() = default;
    std::string path_;
    TokenFileHeader header_;
    void* map_ = nullptr;
    size_t map_size_ = 0;
    const unsigned char* tokens_ = nullptr;
    const uint64_t* offsets_ = nullptr;
};

}  // namespace gs
