// A small reader for flat Apache Parquet files (the Hugging Face datasets export), without Arrow.
// Supported: the Thrift compact footer, data pages v1 and v2, dictionary pages, PLAIN and
// PLAIN_DICTIONARY/RLE_DICTIONARY values, RLE definition levels of optional columns, BYTE_ARRAY,
// INT32 and INT64 columns, UNCOMPRESSED, SNAPPY and (when built with libzstd) ZSTD pages.
// Anything else (nested or repeated columns, other types, encodings or codecs) is an error that
// names the file, the column and what is unsupported.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace gs {

// One cell: null (an optional column's missing value), a whole number (INT32/INT64) or bytes
// (BYTE_ARRAY, UTF-8 for strings).
using ParquetCell = std::variant<std::monostate, int64_t, std::string>;

struct ParquetTable {
    std::vector<std::string> columns;            // leaf column names, in schema order
    std::vector<std::vector<ParquetCell>> rows;  // rows[row][column]
};

// Whether the file starts and ends with the parquet magic "PAR1".
bool is_parquet_file(const std::string& path);

// Reads every row group of the file. Errors name the file (and the column where there is one).
ParquetTable read_parquet(const std::string& path);

}  // namespace gs
