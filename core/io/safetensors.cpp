#include "core/io/safetensors.h"

#include <algorithm>
#include <cstring>
#include <optional>
#include <set>
#include <stdexcept>
#include <system_error>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include "core/io/files.h"

namespace gs {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "safetensors I/O assumes a little-endian host");

namespace {

// Header sizes above this are corrupt, not real (HF's reader uses the same 100 MB bound).
constexpr uint64_t kMaxHeaderBytes = 100'000'000;

const std::map<std::string, at::ScalarType>& dtype_table() {
    static const std::map<std::string, at::ScalarType> table = {
        {"F64", at::kDouble}, {"F32", at::kFloat}, {"F16", at::kHalf},  {"BF16", at::kBFloat16},
        {"I64", at::kLong},   {"I32", at::kInt},   {"I16", at::kShort}, {"I8", at::kChar},
        {"U8", at::kByte},    {"BOOL", at::kBool},
    };
    return table;
}

at::ScalarType scalar_type_of(const std::string& dtype) { return dtype_table().at(dtype); }

std::string dtype_name_of(at::ScalarType type) {
    for (const auto& [name, scalar] : dtype_table()) {
        if (scalar == type) return name;
    }
    throw std::invalid_argument(std::string("safetensors cannot store dtype ") + c10::toString(type));
}

// The bytes of a tensor of `shape`, or nothing when the count does not fit in 64 bits.
std::optional<uint64_t> byte_count(const std::vector<int64_t>& shape, uint64_t element_bytes) {
    if (std::find(shape.begin(), shape.end(), 0) != shape.end()) return 0;
    uint64_t bytes = element_bytes;
    for (int64_t dim : shape) {
        if (__builtin_mul_overflow(bytes, static_cast<uint64_t>(dim), &bytes)) return std::nullopt;
    }
    return bytes;
}

[[noreturn]] void fail(const std::string& path, const std::string& what) {
    throw std::runtime_error(path + ": " + what);
}

std::string byte_range(const SafetensorsEntry& entry) {
    return "[" + std::to_string(entry.begin) + ", " + std::to_string(entry.end) + ")";
}

// The format has the tensors' bytes cover the data section exactly, each byte once (as HF's
// reader requires): a byte of two tensors would tie them together, and bytes of none are
// something other than what a writer wrote. Checked in the order of the offsets.
void check_data_coverage(const std::string& path, const std::map<std::string, SafetensorsEntry>& entries,
                         uint64_t data_size) {
    std::vector<std::pair<const std::string*, const SafetensorsEntry*>> by_offset;
    for (const auto& [name, entry] : entries) by_offset.emplace_back(&name, &entry);
    std::stable_sort(by_offset.begin(), by_offset.end(), [](const auto& a, const auto& b) {
        return std::make_pair(a.second->begin, a.second->end) < std::make_pair(b.second->begin, b.second->end);
    });
    uint64_t covered = 0;
    std::string previous;  // the tensor that ends at `covered`, as the messages name it
    for (const auto& [name, entry] : by_offset) {
        const std::string tensor = "tensor '" + *name + "' " + byte_range(*entry);
        if (entry->begin < covered) fail(path, previous + " and " + tensor + " overlap");
        if (entry->begin > covered) {
            fail(path, "bytes [" + std::to_string(covered) + ", " + std::to_string(entry->begin) +
                           ") of the data section belong to no tensor (" +
                           (previous.empty() ? "before " : "between " + previous + " and ") + tensor + ")");
        }
        covered = entry->end;
        previous = tensor;
    }
    if (covered != data_size) {
        fail(path, "bytes [" + std::to_string(covered) + ", " + std::to_string(data_size) +
                       ") of the data section belong to no tensor" + (previous.empty() ? "" : " (after " + previous + ")"));
    }
}

}  // namespace

SafetensorsFile::SafetensorsFile(const std::string& path) : path_(path) {
    check_input_file(path);
    int fd = ::open(path.c_str(), O_RDONLY);
    if (fd < 0) throw std::system_error(errno, std::generic_category(), path + ": cannot open");
    struct stat info {};
    if (::fstat(fd, &info) != 0) {
        ::close(fd);
        throw std::system_error(errno, std::generic_category(), path + ": cannot stat");
    }
    mapped_size_ = static_cast<size_t>(info.st_size);
    if (mapped_size_ < 8) {
        ::close(fd);
        fail(path, "file is " + std::to_string(mapped_size_) + " bytes, too short for a safetensors header");
    }
    void* map = ::mmap(nullptr, mapped_size_, PROT_READ, MAP_PRIVATE, fd, 0);
    ::close(fd);
    if (map == MAP_FAILED) throw std::system_error(errno, std::generic_category(), path + ": mmap failed");
    mapped_ = static_cast<const uint8_t*>(map);

    try {
        uint64_t header_size = 0;
        std::memcpy(&header_size, mapped_, 8);
        if (header_size > kMaxHeaderBytes || 8 + header_size > mapped_size_) {
            fail(path, "header length " + std::to_string(header_size) + " does not fit in a file of " +
                           std::to_string(mapped_size_) + " bytes (truncated or not safetensors)");
        }
        data_start_ = 8 + header_size;
        parse_header(std::string(reinterpret_cast<const char*>(mapped_ + 8), header_size));
    } catch (...) {
        ::munmap(const_cast<uint8_t*>(mapped_), mapped_size_);
        mapped_ = nullptr;
        throw;
    }
}

SafetensorsFile::~SafetensorsFile() {
    if (mapped_) ::munmap(const_cast<uint8_t*>(mapped_), mapped_size_);
}

void SafetensorsFile::parse_header(const std::string& header_json) {
    nlohmann::json header;
    try {
        header = parse_json(header_json, "header");
    } catch (const std::invalid_argument& error) {
        fail(path_, std::string("header is not valid JSON: ") + error.what());
    }
    if (!header.is_object()) fail(path_, "header is not a JSON object");

    const uint64_t data_size = mapped_size_ - data_start_;
    for (const auto& [name, value] : header.items()) {
        if (name == "__metadata__") {
            if (!value.is_object()) fail(path_, "__metadata__ is not an object");
            for (const auto& [key, text] : value.items()) {
                if (!text.is_string()) fail(path_, "__metadata__ value '" + key + "' is not a string");
                metadata_[key] = text.get<std::string>();
            }
            continue;
        }
        const std::string where = "tensor '" + name + "': ";
        if (!value.is_object() || !value.contains("dtype") || !value.contains("shape") ||
            !value.contains("data_offsets")) {
            fail(path_, where + "entry needs dtype, shape and data_offsets");
        }
        SafetensorsEntry entry;
        if (!value["dtype"].is_string()) fail(path_, where + "dtype is not a string");
        entry.dtype = value["dtype"].get<std::string>();
        if (!dtype_table().count(entry.dtype)) fail(path_, where + "unsupported dtype '" + entry.dtype + "'");
        if (!value["shape"].is_array()) fail(path_, where + "bad shape " + value["shape"].dump());
        for (const auto& dim : value["shape"]) {
            if (!dim.is_number_integer() || dim.get<int64_t>() < 0) fail(path_, where + "bad shape " + value["shape"].dump());
            entry.shape.push_back(dim.get<int64_t>());
        }
        const uint64_t element_bytes = c10::elementSize(scalar_type_of(entry.dtype));
        const std::optional<uint64_t> expected = byte_count(entry.shape, element_bytes);
        // A byte count that wraps around 2^64 could match small offsets and ask load() for exabytes.
        if (!expected) fail(path_, where + "shape " + value["shape"].dump() + " of " + entry.dtype + " has more bytes than a file can");
        const auto& offsets = value["data_offsets"];
        if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
            !offsets[1].is_number_unsigned()) {
            fail(path_, where + "data_offsets must be two non-negative integers");
        }
        entry.begin = offsets[0].get<uint64_t>();
        entry.end = offsets[1].get<uint64_t>();
        const uint64_t expected_bytes = *expected;
        if (entry.end < entry.begin || entry.end - entry.begin != expected_bytes) {
            fail(path_, where + "data_offsets [" + std::to_string(entry.begin) + ", " + std::to_string(entry.end) +
                            "] do not hold " + std::to_string(expected_bytes) + " bytes of " + entry.dtype +
                            " " + value["shape"].dump());
        }
        if (entry.end > data_size) {
            fail(path_, where + "data ends at byte " + std::to_string(entry.end) + " of the data section, which has only " +
                            std::to_string(data_size) + " bytes (file truncated?)");
        }
        entries_.emplace(name, std::move(entry));
    }
    check_data_coverage(path_, entries_, data_size);
}

std::vector<std::string> SafetensorsFile::names() const {
    std::vector<std::string> result;
    for (const auto& [name, entry] : entries_) result.push_back(name);
    return result;
}

const SafetensorsEntry& SafetensorsFile::entry(const std::string& name) const {
    auto it = entries_.find(name);
    if (it == entries_.end()) fail(path_, "missing tensor '" + name + "'");
    return it->second;
}

at::Tensor SafetensorsFile::load(const std::string& name) const {
    const SafetensorsEntry& e = entry(name);
    at::Tensor tensor = at::empty(e.shape, at::TensorOptions().dtype(scalar_type_of(e.dtype)));
    if (e.end > e.begin) std::memcpy(tensor.data_ptr(), mapped_ + data_start_ + e.begin, e.end - e.begin);
    return tensor;
}

void save_safetensors(const std::string& path, const NamedTensors& tensors,
                      const std::map<std::string, std::string>& metadata) {
    std::vector<std::pair<std::string, at::Tensor>> cpu_tensors;
    std::set<std::string> seen;
    for (const auto& [name, tensor] : tensors) {
        if (!seen.insert(name).second) throw std::invalid_argument(path + ": tensor name '" + name + "' given twice");
        cpu_tensors.emplace_back(name, tensor.detach().to(at::kCPU).contiguous());
    }
    // Data in name order, matching the header's (sorted) key order.
    std::sort(cpu_tensors.begin(), cpu_tensors.end(), [](const auto& a, const auto& b) { return a.first < b.first; });

    nlohmann::json header = nlohmann::json::object();
    if (!metadata.empty()) header["__metadata__"] = metadata;
    uint64_t offset = 0;
    for (const auto& [name, tensor] : cpu_tensors) {
        const uint64_t bytes = tensor.numel() * tensor.element_size();
        header[name] = {{"dtype", dtype_name_of(tensor.scalar_type())},
                        {"shape", tensor.sizes().vec()},
                        {"data_offsets", {offset, offset + bytes}}};
        offset += bytes;
    }
    std::string header_text = header.dump();
    // Pad with spaces so the data section starts 8-byte aligned, as HF's writer does.
    header_text.append((8 - header_text.size() % 8) % 8, ' ');
    const uint64_t header_size = header_text.size();

    AtomicFileWriter writer(path);
    writer.write(&header_size, sizeof(header_size));
    writer.write(header_text);
    for (const auto& [name, tensor] : cpu_tensors) {
        writer.write(tensor.data_ptr(), tensor.numel() * tensor.element_size());
    }
    writer.commit();
}

}  // namespace gs
