#include "core/io/parquet.h"

#include <snappy-c.h>
#ifdef GS_WITH_ZSTD
#include <zstd.h>
#endif

#include <array>
#include <fstream>
#include <stdexcept>
#include <string_view>

#include "core/io/files.h"

namespace gs {

namespace {

// A problem inside the file; read_parquet adds the file's name (and the column's) to the message.
struct ParquetError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// The enumerations of parquet.thrift, by value, for the messages.
constexpr std::array<const char*, 8> type_names = {
    "BOOLEAN", "INT32", "INT64", "INT96", "FLOAT", "DOUBLE", "BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY"};
constexpr std::array<const char*, 10> encoding_names = {
    "PLAIN",          "GROUP_VAR_INT",       "PLAIN_DICTIONARY",        "RLE",
    "BIT_PACKED",     "DELTA_BINARY_PACKED", "DELTA_LENGTH_BYTE_ARRAY", "DELTA_BYTE_ARRAY",
    "RLE_DICTIONARY", "BYTE_STREAM_SPLIT"};
constexpr std::array<const char*, 8> codec_names = {
    "UNCOMPRESSED", "SNAPPY", "GZIP", "LZO", "BROTLI", "LZ4", "ZSTD", "LZ4_RAW"};

template <size_t N>
std::string name_of(const std::array<const char*, N>& names, int64_t value) {
    if (value >= 0 && static_cast<size_t>(value) < N) return names[static_cast<size_t>(value)];
    return "number " + std::to_string(value);
}

enum Type : int64_t { type_int32 = 1, type_int64 = 2, type_byte_array = 6 };
enum Encoding : int64_t { plain = 0, plain_dictionary = 2, rle = 3, rle_dictionary = 8 };
enum Codec : int64_t { uncompressed = 0, snappy = 1, zstd = 6 };
enum PageType : int64_t { data_page = 0, dictionary_page = 2, data_page_v2 = 3 };

// Bounds-checked little-endian reads from a span of the file or of a decompressed page.
class Bytes {
public:
    explicit Bytes(std::string_view data) : data_(data) {}

    size_t remaining() const { return data_.size() - position_; }
    std::string_view rest() const { return data_.substr(position_); }

    std::string_view take(uint64_t count) {
        if (count > remaining()) throw ParquetError("truncated data (needs " + std::to_string(count) + " bytes, " +
                                                    std::to_string(remaining()) + " left)");
        const std::string_view out = data_.substr(position_, count);
        position_ += count;
        return out;
    }
    uint8_t byte() { return static_cast<uint8_t>(take(1)[0]); }
    uint64_t little_endian(size_t width) {
        const std::string_view raw = take(width);
        uint64_t value = 0;
        for (size_t i = 0; i < width; ++i) value |= uint64_t(uint8_t(raw[i])) << (8 * i);
        return value;
    }
    uint64_t varint() {
        uint64_t value = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            const uint8_t b = byte();
            value |= uint64_t(b & 0x7f) << shift;
            if (!(b & 0x80)) return value;
        }
        throw ParquetError("invalid varint");
    }
    int64_t zigzag() {
        const uint64_t raw = varint();
        return static_cast<int64_t>(raw >> 1) ^ -static_cast<int64_t>(raw & 1);
    }

private:
    std::string_view data_;
    size_t position_ = 0;
};

// A value of the Thrift compact protocol, kept generically: the footer and page headers are
// small, and picking fields by id afterwards keeps the decoding in one place.
struct Thrift {
    int64_t integer = 0;
    std::string binary;
    std::vector<Thrift> list;
    std::vector<std::pair<int64_t, Thrift>> fields;

    const Thrift* field(int64_t id) const {
        for (const auto& [key, value] : fields) {
            if (key == id) return &value;
        }
        return nullptr;
    }
    const Thrift& required(int64_t id, const char* what) const {
        if (const Thrift* value = field(id)) return *value;
        throw ParquetError(std::string("missing ") + what);
    }
    int64_t integer_or(int64_t id, int64_t fallback) const {
        const Thrift* value = field(id);
        return value ? value->integer : fallback;
    }
};

Thrift read_thrift_struct(Bytes& in, int depth);

Thrift read_thrift_value(Bytes& in, uint8_t type, int depth) {
    if (depth > 32) throw ParquetError("Thrift data nested too deeply");
    Thrift value;
    switch (type) {
    case 1:
    case 2: value.integer = in.byte() == 1; break;  // a bool inside a list: one byte
    case 3: value.integer = static_cast<int8_t>(in.byte()); break;
    case 4:
    case 5:
    case 6: value.integer = in.zigzag(); break;
    case 7: in.take(8); break;  // double: no parquet field we read
    case 8: value.binary = std::string(in.take(in.varint())); break;
    case 9:
    case 10: {
        const uint8_t header = in.byte();
        uint64_t size = header >> 4;
        if (size == 15) size = in.varint();
        if (size > in.remaining()) throw ParquetError("invalid Thrift list size");
        for (uint64_t i = 0; i < size; ++i) value.list.push_back(read_thrift_value(in, header & 0x0f, depth + 1));
        break;
    }
    case 11: {
        const uint64_t size = in.varint();
        if (size > in.remaining()) throw ParquetError("invalid Thrift map size");
        const uint8_t types = size ? in.byte() : 0;
        for (uint64_t i = 0; i < size; ++i) {  // kept as key, value, key, value...
            value.list.push_back(read_thrift_value(in, types >> 4, depth + 1));
            value.list.push_back(read_thrift_value(in, types & 0x0f, depth + 1));
        }
        break;
    }
    case 12: return read_thrift_struct(in, depth + 1);
    default: throw ParquetError("invalid Thrift type " + std::to_string(type));
    }
    return value;
}

Thrift read_thrift_struct(Bytes& in, int depth) {
    Thrift value;
    int64_t last_id = 0;
    for (;;) {
        const uint8_t header = in.byte();
        const uint8_t type = header & 0x0f;
        if (type == 0) return value;
        last_id = (header >> 4) ? last_id + (header >> 4) : in.zigzag();
        if (type == 1 || type == 2) {  // a bool field carries its value in the type
            Thrift flag;
            flag.integer = type == 1;
            value.fields.emplace_back(last_id, flag);
        } else {
            value.fields.emplace_back(last_id, read_thrift_value(in, type, depth));
        }
    }
}

struct Column {
    std::string name;
    int64_t type = 0;
    bool optional = false;
};

// The leaf columns of a flat schema: the root and one element per column, none with children.
std::vector<Column> flat_columns(const Thrift& metadata) {
    const std::vector<Thrift>& schema = metadata.required(2, "schema").list;
    if (schema.empty()) throw ParquetError("empty schema");
    std::vector<Column> columns;
    for (size_t i = 1; i < schema.size(); ++i) {
        const std::string name = schema[i].required(4, "schema element name").binary;
        if (schema[i].integer_or(5, 0) > 0 || !schema[i].field(1)) {
            throw ParquetError("column '" + name + "': nested (group) columns are not supported");
        }
        if (schema[i].integer_or(3, 0) == 2) {
            throw ParquetError("column '" + name + "': repeated columns are not supported");
        }
        const int64_t type = schema[i].integer_or(1, 0);
        if (type != type_int32 && type != type_int64 && type != type_byte_array) {
            throw ParquetError("column '" + name + "': unsupported type " + name_of(type_names, type) +
                               " (supported: BYTE_ARRAY, INT32, INT64)");
        }
        columns.push_back({name, type, schema[i].integer_or(3, 0) == 1});
    }
    if (schema[0].integer_or(5, 0) != static_cast<int64_t>(columns.size())) {
        throw ParquetError("nested schemas are not supported");
    }
    return columns;
}

#ifdef GS_WITH_ZSTD
constexpr bool reads_zstd = true;
#else
constexpr bool reads_zstd = false;
#endif

void check_codec(int64_t codec) {
    if (codec == uncompressed || codec == snappy || (reads_zstd && codec == zstd)) return;
    throw ParquetError("unsupported compression " + name_of(codec_names, codec) + " (supported: UNCOMPRESSED, SNAPPY" +
                       (reads_zstd ? ", ZSTD)" : ")"));
}

// Pages of parquet writers are about 1 MiB; the cap keeps a corrupt size from allocating gigabytes.
constexpr int64_t max_page_size = int64_t(256) << 20;

std::string decompress(std::string_view data, int64_t codec, int64_t size) {
    if (codec == uncompressed) return std::string(data);
    if (size < 0 || size > max_page_size) throw ParquetError("invalid page size " + std::to_string(size));
    size_t length = 0;
    if (codec == snappy) {
        if (snappy_uncompressed_length(data.data(), data.size(), &length) != SNAPPY_OK ||
            length != static_cast<size_t>(size)) {
            throw ParquetError("corrupt SNAPPY page");
        }
        std::string out(length, '\0');
        if (snappy_uncompress(data.data(), data.size(), out.data(), &length) != SNAPPY_OK) {
            throw ParquetError("corrupt SNAPPY page");
        }
        return out;
    }
#ifdef GS_WITH_ZSTD
    std::string out(static_cast<size_t>(size), '\0');
    length = ZSTD_decompress(out.data(), out.size(), data.data(), data.size());
    if (ZSTD_isError(length) || length != out.size()) throw ParquetError("corrupt ZSTD page");
    return out;
#else
    throw ParquetError("unsupported compression " + name_of(codec_names, codec));
#endif
}

// `count` values of the RLE/bit-packed hybrid encoding (definition levels, dictionary indexes).
std::vector<uint32_t> rle_hybrid(Bytes& in, int bit_width, size_t count) {
    if (bit_width < 0 || bit_width > 32) throw ParquetError("invalid bit width " + std::to_string(bit_width));
    std::vector<uint32_t> out;
    out.reserve(std::min<size_t>(count, size_t(1) << 20));  // a corrupt count fails on the data, not here
    while (out.size() < count) {
        const uint64_t header = in.varint();
        if (header & 1) {  // groups of 8 values, bit_width bits each, least significant bit first
            const uint64_t groups = header >> 1;
            if (bit_width > 0 && groups > in.remaining()) throw ParquetError("truncated bit-packed run");
            const uint64_t values = groups * 8;
            const std::string_view packed = in.take(groups * bit_width);
            for (uint64_t i = 0; i < values && out.size() < count; ++i) {
                uint32_t value = 0;
                for (int bit = 0; bit < bit_width; ++bit) {
                    const uint64_t at = i * bit_width + bit;
                    value |= uint32_t((uint8_t(packed[at / 8]) >> (at % 8)) & 1) << bit;
                }
                out.push_back(value);
            }
        } else {  // a run of one value
            const uint32_t value = static_cast<uint32_t>(in.little_endian((bit_width + 7) / 8));
            const uint64_t run = std::min<uint64_t>(header >> 1, count - out.size());
            out.insert(out.end(), run, value);
        }
    }
    return out;
}

std::vector<ParquetCell> plain_values(Bytes& in, int64_t type, size_t count) {
    std::vector<ParquetCell> out;
    out.reserve(std::min(count, in.remaining()));
    for (size_t i = 0; i < count; ++i) {
        if (type == type_int32) {
            out.emplace_back(int64_t(static_cast<int32_t>(in.little_endian(4))));
        } else if (type == type_int64) {
            out.emplace_back(static_cast<int64_t>(in.little_endian(8)));
        } else {
            out.emplace_back(std::string(in.take(in.little_endian(4))));
        }
    }
    return out;
}

// Reads one column chunk's pages into its cells (nulls where an optional value is missing).
class ChunkReader {
public:
    ChunkReader(const Column& column, int64_t codec) : column_(column), codec_(codec) {}

    // Decodes one page; `left` is how many values the column chunk still holds.
    void page(const Thrift& header, std::string_view body, int64_t left) {
        const int64_t type = header.required(1, "page type").integer;
        const int64_t size = header.required(2, "uncompressed page size").integer;
        if (type == dictionary_page) {
            const Thrift& dictionary = header.required(7, "dictionary page header");
            check_encoding(dictionary.integer_or(2, plain), {plain, plain_dictionary}, "dictionary page");
            const std::string text = decompress(body, codec_, size);
            Bytes in(text);
            dictionary_ = plain_values(in, column_.type, dictionary.required(1, "dictionary size").integer);
        } else if (type == data_page) {
            const Thrift& data = header.required(5, "data page header");
            const std::string text = decompress(body, codec_, size);
            Bytes in(text);
            const int64_t count = value_count(data, left);
            std::vector<uint32_t> levels;
            if (column_.optional) {
                check_encoding(data.integer_or(3, rle), {rle}, "definition levels");
                Bytes level_bytes(in.take(in.little_endian(4)));
                levels = rle_hybrid(level_bytes, 1, count);
            }
            values(data.required(2, "encoding").integer, in, count, levels);
        } else if (type == data_page_v2) {
            const Thrift& data = header.required(8, "data page v2 header");
            const int64_t count = value_count(data, left);
            Bytes in(body);
            in.take(data.integer_or(6, 0));  // repetition levels: none in a flat schema
            std::vector<uint32_t> levels;
            Bytes level_bytes(in.take(data.required(5, "definition levels length").integer));
            if (column_.optional) levels = rle_hybrid(level_bytes, 1, count);
            const bool compressed = data.integer_or(7, 1) != 0;
            const std::string text = compressed ? decompress(in.rest(), codec_, size - (body.size() - in.remaining()))
                                                : std::string(in.rest());
            Bytes value_bytes(text);
            values(data.required(4, "encoding").integer, value_bytes, count, levels);
        }  // index pages carry no values
    }

    std::vector<ParquetCell> cells;

private:
    static int64_t value_count(const Thrift& page_header, int64_t left) {
        const int64_t count = page_header.required(1, "value count").integer;
        if (count < 0 || count > left) throw ParquetError("page of " + std::to_string(count) + " values, " +
                                                          std::to_string(left) + " left in the column chunk");
        return count;
    }

    void check_encoding(int64_t encoding, std::initializer_list<int64_t> allowed, const char* where) const {
        for (int64_t ok : allowed) {
            if (encoding == ok) return;
        }
        throw ParquetError(std::string("unsupported encoding ") + name_of(encoding_names, encoding) + " of the " +
                           where);
    }

    // Decodes a data page's values and spreads them over its definition levels.
    void values(int64_t encoding, Bytes& in, int64_t count, const std::vector<uint32_t>& levels) {
        size_t present = static_cast<size_t>(count);
        if (column_.optional) {
            present = 0;
            for (uint32_t level : levels) present += level != 0;
        }
        std::vector<ParquetCell> decoded;
        if (encoding == plain) {
            decoded = plain_values(in, column_.type, present);
        } else if (encoding == plain_dictionary || encoding == rle_dictionary) {
            if (dictionary_.empty() && present > 0) throw ParquetError("dictionary-encoded page without a dictionary");
            const int bit_width = in.byte();
            for (uint32_t index : rle_hybrid(in, bit_width, present)) {
                if (index >= dictionary_.size()) throw ParquetError("dictionary index out of range");
                decoded.push_back(dictionary_[index]);
            }
        } else {
            check_encoding(encoding, {plain, plain_dictionary, rle_dictionary}, "data page");
        }
        size_t next = 0;
        for (int64_t i = 0; i < count; ++i) {
            const bool is_null = column_.optional && levels[static_cast<size_t>(i)] == 0;
            cells.push_back(is_null ? ParquetCell{} : decoded[next++]);
        }
    }

    const Column& column_;
    int64_t codec_;
    std::vector<ParquetCell> dictionary_;
};

std::vector<ParquetCell> read_column_chunk(std::string_view file, const Column& column, const Thrift& chunk,
                                           int64_t rows) {
    const Thrift& meta = chunk.required(3, "column metadata (data in another file is not supported)");
    const int64_t codec = meta.required(4, "codec").integer;
    check_codec(codec);
    const int64_t dictionary_offset = meta.integer_or(11, 0);
    const int64_t start = dictionary_offset > 0 ? dictionary_offset : meta.required(9, "data page offset").integer;
    const int64_t length = meta.required(7, "compressed size").integer;
    if (start < 4 || length < 0 || uint64_t(start) + uint64_t(length) > file.size()) {
        throw ParquetError("column chunk outside the file");
    }
    Bytes in(file.substr(start, length));
    ChunkReader reader(column, codec);
    if (meta.required(5, "value count").integer != rows) {  // a flat column has one value per row
        throw ParquetError(std::to_string(meta.integer_or(5, 0)) + " values for " + std::to_string(rows) + " rows");
    }
    while (static_cast<int64_t>(reader.cells.size()) < rows) {
        const Thrift header = read_thrift_struct(in, 0);
        reader.page(header, in.take(header.required(3, "compressed page size").integer),
                    rows - static_cast<int64_t>(reader.cells.size()));
    }
    if (static_cast<int64_t>(reader.cells.size()) != rows) {
        throw ParquetError(std::to_string(reader.cells.size()) + " values for " + std::to_string(rows) + " rows");
    }
    return std::move(reader.cells);
}

void read_row_group(std::string_view file, const std::vector<Column>& columns, const Thrift& group,
                    ParquetTable& table) {
    const int64_t rows = group.required(3, "row count").integer;
    const std::vector<Thrift>& chunks = group.required(1, "column chunks").list;
    if (chunks.size() != columns.size()) throw ParquetError("row group with a column count unlike the schema's");
    std::vector<std::vector<ParquetCell>> cells;  // per column, each checked to hold `rows` values
    for (size_t c = 0; c < columns.size(); ++c) {
        try {
            cells.push_back(read_column_chunk(file, columns[c], chunks[c], rows));
        } catch (const ParquetError& error) {
            throw ParquetError("column '" + columns[c].name + "': " + error.what());
        }
    }
    for (int64_t r = 0; r < rows; ++r) {
        std::vector<ParquetCell>& row = table.rows.emplace_back();
        for (auto& column : cells) row.push_back(std::move(column[static_cast<size_t>(r)]));
    }
}

constexpr std::string_view magic = "PAR1";

}  // namespace

bool is_parquet_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::string head(4, '\0'), tail(4, '\0');
    if (!in.read(head.data(), 4) || !in.seekg(-4, std::ios::end) || !in.read(tail.data(), 4)) return false;
    return head == magic && tail == magic;
}

ParquetTable read_parquet(const std::string& path) {
    const std::string data = read_text_file(path);
    const std::string_view file(data);
    try {
        if (file.size() < 12 || file.substr(0, 4) != magic || file.substr(file.size() - 4) != magic) {
            throw ParquetError("not a parquet file (no PAR1 at its start and end)");
        }
        Bytes length(file.substr(file.size() - 8, 4));
        const uint64_t footer_size = length.little_endian(4);
        if (footer_size > file.size() - 12) throw ParquetError("footer length past the start of the file");
        Bytes footer(file.substr(file.size() - 8 - footer_size, footer_size));
        const Thrift metadata = read_thrift_struct(footer, 0);
        ParquetTable table;
        const std::vector<Column> columns = flat_columns(metadata);
        for (const Column& column : columns) table.columns.push_back(column.name);
        const Thrift* groups = metadata.field(4);
        for (size_t g = 0; groups && g < groups->list.size(); ++g) read_row_group(file, columns, groups->list[g], table);
        return table;
    } catch (const ParquetError& error) {
        throw std::invalid_argument(path + ": " + error.what());
    }
}

}  // namespace gs
