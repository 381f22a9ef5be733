// The parquet reader on files written by other parquet writers (hyparquet-writer, parquetjs-lite:
// tests/data/downstream/make-parquet-samples.js), checked against the JSON they were written from.
#include <gtest/gtest.h>

#include <fstream>
#include <map>

#include <nlohmann/json.hpp>

#include "core/eval/task_data.h"
#include "core/io/files.h"
#include "core/io/parquet.h"
#include "test_support.h"

namespace gs {
namespace {

std::string sample(const std::string& name) { return test::data_path("downstream/" + name); }

// The rows the samples were written from, as cells in the HF klue/nli columns.
std::vector<std::vector<ParquetCell>> expected_rows() {
    const std::map<std::string, int64_t> hf_labels = {{"entailment", 0}, {"neutral", 1}, {"contradiction", 2}};
    std::vector<std::vector<ParquetCell>> rows;
    for (const auto& record : read_json_file(sample("klue-nli-v1.1_sample.json"))) {
        rows.push_back({record.at("guid").get<std::string>(), record.at("source").get<std::string>(),
                        record.at("premise").get<std::string>(), record.at("hypothesis").get<std::string>(),
                        hf_labels.at(record.at("gold_label").get<std::string>())});
    }
    return rows;
}

// The message of the std::invalid_argument that `read` throws on `path`, without the leading
// path (or marked when the message does not start with it).
template <typename Read>
std::string error_of(const std::string& path, Read read) {
    try {
        read(path);
    } catch (const std::invalid_argument& error) {
        const std::string message = error.what();
        return message.rfind(path + ": ", 0) == 0 ? message.substr(path.size() + 2) : "(no file name) " + message;
    }
    return "no error";
}

TEST(Parquet, ReadsExactlyTheRowsEachWriterWrote) {
    const std::vector<std::string> files = {
        "klue-nli_dict_uncompressed.parquet",  // data pages v2, RLE_DICTIONARY and PLAIN, required columns
        "klue-nli_dict_snappy.parquet",        // the same, SNAPPY
        "klue-nli_plain_v1_snappy.parquet",    // data pages v1, PLAIN, optional columns, SNAPPY
        "klue-nli_plain_v2_snappy.parquet",    // data pages v2, PLAIN, optional columns, SNAPPY
        "klue-nli_row_groups_snappy.parquet",  // three row groups, several pages a column chunk
    };
    const auto expected = expected_rows();
    ASSERT_EQ(expected.size(), 9u);
    for (const auto& file : files) {
        ASSERT_TRUE(is_parquet_file(sample(file))) << file;
        const ParquetTable table = read_parquet(sample(file));
        EXPECT_EQ(table.columns, (std::vector<std::string>{"guid", "source", "premise", "hypothesis", "label"})) << file;
        EXPECT_EQ(table.rows, expected) << file;
    }
    EXPECT_FALSE(is_parquet_file(sample("klue-nli_hf_sample.json")));
}

TEST(Parquet, ZstdPagesWhenBuiltWithLibzstd) {
#ifdef GS_WITH_ZSTD
    EXPECT_EQ(read_parquet(sample("klue-nli_dict_zstd.parquet")).rows, expected_rows());
#else
    EXPECT_NE(error_of(sample("klue-nli_dict_zstd.parquet"), read_parquet).find("unsupported compression ZSTD"),
              std::string::npos);
#endif
}

TEST(Parquet, NullsOfAnOptionalColumnAndInt32) {
    const ParquetTable table = read_parquet(sample("klue-nli_null_hypothesis.parquet"));
    ASSERT_EQ(table.rows.size(), 3u);
    const auto expected = expected_rows();
    EXPECT_EQ(table.rows[0], expected[0]);
    EXPECT_EQ(table.rows[2], expected[2]);
    EXPECT_TRUE(std::holds_alternative<std::monostate>(table.rows[1][3]));
    EXPECT_EQ(table.rows[1][4], expected[1][4]);  // the INT32 label
    EXPECT_EQ(error_of(sample("klue-nli_null_hypothesis.parquet"), read_klue_nli),
              "record 2: field 'hypothesis': expected a string");
}

TEST(Parquet, UnsupportedCodecTypeAndLayoutNameTheFileAndColumn) {
    EXPECT_EQ(error_of(sample("klue-nli_plain_v1_gzip.parquet"), read_parquet)
                  .rfind("column 'guid': unsupported compression GZIP (supported: UNCOMPRESSED, SNAPPY", 0),
              0u);
    EXPECT_EQ(error_of(sample("klue-nli_double_column.parquet"), read_klue_nli),
              "column 'score': unsupported type DOUBLE (supported: BYTE_ARRAY, INT32, INT64)");
    EXPECT_EQ(error_of(sample("klue-nli_repeated_column.parquet"), read_parquet),
              "column 'annotations': repeated columns are not supported");
    EXPECT_EQ(error_of(sample("klue-nli_nested_column.parquet"), read_parquet),
              "column 'meta': nested (group) columns are not supported");
}

TEST(Parquet, TruncatedAndCorruptFilesNameTheFile) {
    test::TempDir dir;
    const std::string good = read_text_file(sample("klue-nli_dict_snappy.parquet"));
    write_file_atomically(dir.file("cut.parquet"), good.substr(0, good.size() / 2));
    EXPECT_EQ(error_of(dir.file("cut.parquet"), read_klue_nli), "not a parquet file (no PAR1 at its start and end)");
    std::string long_footer = good;
    long_footer[good.size() - 5] = '\x7f';  // the footer length's high byte
    write_file_atomically(dir.file("footer.parquet"), long_footer);
    EXPECT_EQ(error_of(dir.file("footer.parquet"), read_parquet), "footer length past the start of the file");
    // Every single damaged byte of two writers' files either still reads or gives an error that
    // names the file: never a crash, a hang or another kind of exception.
    for (const std::string name : {"klue-nli_dict_snappy.parquet", "klue-nli_plain_v1_snappy.parquet"}) {
        const std::string bytes = read_text_file(sample(name));
        for (size_t at = 0; at < bytes.size(); ++at) {
            std::string damaged = bytes;
            damaged[at] = static_cast<char>(~damaged[at]);
            std::ofstream(dir.file("damaged.parquet"), std::ios::binary | std::ios::trunc) << damaged;
            const std::string error = error_of(dir.file("damaged.parquet"), read_parquet);
            EXPECT_EQ(error.rfind("(no file name)", 0), std::string::npos) << name << " byte " << at << ": " << error;
        }
    }
}

TEST(Parquet, KlueNliFromParquetEqualsTheJson) {
    const auto json = read_klue_nli(sample("klue-nli-v1.1_sample.json"));
    ASSERT_EQ(json.size(), 9u);
    for (const std::string name : {"klue-nli_dict_snappy.parquet", "klue-nli_plain_v1_snappy.parquet"}) {
        const auto parquet = read_klue_nli(sample(name));
        ASSERT_EQ(parquet.size(), json.size()) << name;
        for (size_t i = 0; i < json.size(); ++i) {
            EXPECT_EQ(parquet[i].guid, json[i].guid) << name << " " << i;
            EXPECT_EQ(parquet[i].premise, json[i].premise) << name << " " << i;
            EXPECT_EQ(parquet[i].hypothesis, json[i].hypothesis) << name << " " << i;
            EXPECT_EQ(parquet[i].label, json[i].label) << name << " " << i;
        }
    }
    // Recognised by its magic bytes, whatever the name.
    test::TempDir dir;
    write_file_atomically(dir.file("dev.data"), read_text_file(sample("klue-nli_dict_uncompressed.parquet")));
    EXPECT_EQ(read_klue_nli(dir.file("dev.data")).at(8).hypothesis, json[8].hypothesis);
}

}  // namespace
}  // namespace gs
