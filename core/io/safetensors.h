// Reader and writer for the safetensors format: an 8-byte little-endian header length, a JSON
// header mapping tensor names to {dtype, shape, data_offsets}, then raw little-endian data.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <ATen/core/Tensor.h>

namespace gs {

struct SafetensorsEntry {
    std::string dtype;           // "F32", "BF16", "I64", ...
    std::vector<int64_t> shape;
    uint64_t begin = 0;          // byte offsets relative to the start of the data section
    uint64_t end = 0;
};

// A memory-mapped safetensors file. Opening validates the whole header (dtypes, shapes,
// offsets against the file size), so a truncated or corrupt file fails here, naming the file
// and the tensor.
class SafetensorsFile {
public:
    explicit SafetensorsFile(const std::string& path);
    ~SafetensorsFile();
    SafetensorsFile(const SafetensorsFile&) = delete;
    SafetensorsFile& operator=(const SafetensorsFile&) = delete;

    const std::string& path() const { return path_; }
    std::vector<std::string> names() const;
    bool contains(const std::string& name) const { return entries_.count(name) > 0; }
    const SafetensorsEntry& entry(const std::string& name) const;
    const std::map<std::string, std::string>& metadata() const { return metadata_; }

    // A CPU tensor that owns a copy of the data, in the stored dtype.
    at::Tensor load(const std::string& name) const;

private:
    void parse_header(const std::string& header_json);

    std::string path_;
    std::map<std::string, SafetensorsEntry> entries_;
    std::map<std::string, std::string> metadata_;
    const uint8_t* mapped_ = nullptr;
    size_t mapped_size_ = 0;
    size_t data_start_ = 0;
};

using NamedTensors = std::vector<std::pair<std::string, at::Tensor>>;

// Writes tensors (any device; copied to CPU, made contiguous) atomically. Names must be unique.
void save_safetensors(const std::string& path, const NamedTensors& tensors,
                      const std::map<std::string, std::string>& metadata = {});

}  // namespace gs
