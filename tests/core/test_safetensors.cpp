#include <gtest/gtest.h>

#include <cstring>
#include <fstream>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include "core/io/files.h"
#include "core/io/safetensors.h"
#include "test_support.h"

namespace gs {
namespace {

std::string error_of(const std::function<void()>& action) {
    try {
        action();
    } catch (const std::exception& e) {
        return e.what();
    }
    return "";
}

// A file with an 8-byte length, the given header text and `data_bytes` zero bytes.
void write_raw(const std::string& path, const std::string& header, size_t data_bytes) {
    uint64_t length = header.size();
    std::string content(reinterpret_cast<const char*>(&length), 8);
    content += header;
    content += std::string(data_bytes, '\0');
    write_file_atomically(path, content);
}

TEST(Safetensors, RoundTripsEveryDtypeBitExactly) {
    test::TempDir dir;
    at::manual_seed(7);
    NamedTensors tensors = {
        {"f32", at::randn({3, 5})},
        {"f16", at::randn({4}).to(at::kHalf)},
        {"bf16", at::randn({2, 2, 2}).to(at::kBFloat16)},
        {"i64", at::arange(-3, 9, at::kLong).view({3, 4})},
        {"flag", at::tensor({1, 0, 1}) > 0},
        {"scalar", at::tensor(3.5)},
        {"empty", at::zeros({0, 4})},
        {"strided", at::randn({6, 4}).t()},  // non-contiguous input
    };
    save_safetensors(dir.file("t.safetensors"), tensors, {{"format", "pt"}, {"note", "héllo"}});
    SafetensorsFile file(dir.file("t.safetensors"));
    EXPECT_EQ(file.names().size(), tensors.size());
    EXPECT_EQ(file.metadata().at("note"), "héllo");
    for (const auto& [name, tensor] : tensors) {
        at::Tensor loaded = file.load(name);
        EXPECT_EQ(loaded.scalar_type(), tensor.scalar_type()) << name;
        EXPECT_TRUE(at::equal(loaded, tensor)) << name;
    }
    EXPECT_EQ(file.entry("bf16").dtype, "BF16");
    EXPECT_EQ(file.entry("i64").shape, (std::vector<int64_t>{3, 4}));
}

TEST(Safetensors, HeaderIsAlignedAndReadableByTheFormat) {
    test::TempDir dir;
    save_safetensors(dir.file("t.safetensors"), {{"a", at::ones({3})}});
    std::ifstream in(dir.file("t.safetensors"), std::ios::binary);
    uint64_t header_size = 0;
    in.read(reinterpret_cast<char*>(&header_size), 8);
    EXPECT_EQ(header_size % 8, 0u);
    std::string header(header_size, ' ');
    in.read(header.data(), header_size);
    auto json = nlohmann::json::parse(header);
    EXPECT_EQ(json["a"]["dtype"], "F32");
    EXPECT_EQ(json["a"]["data_offsets"], nlohmann::json({0, 12}));
    float values[3];
    in.read(reinterpret_cast<char*>(values), 12);
    EXPECT_EQ(values[2], 1.0f);
}

TEST(Safetensors, ReadsFilesWrittenByHuggingFace) {
    SafetensorsFile file(test::data_path("hf_t5/t5-v1_1-gated-untied/model.safetensors"));
    EXPECT_TRUE(file.contains("shared.weight"));
    EXPECT_EQ(file.entry("shared.weight").shape, (std::vector<int64_t>{384, 64}));
    EXPECT_EQ(file.load("lm_head.weight").sizes(), at::IntArrayRef({384, 64}));
}

TEST(Safetensors, TruncatedDataNamesFileAndTensor) {
    test::TempDir dir;
    save_safetensors(dir.file("t.safetensors"), {{"first", at::ones({4})}, {"second", at::ones({100})}});
    std::string bytes = read_text_file(dir.file("t.safetensors"));
    write_file_atomically(dir.file("t.safetensors"), bytes.substr(0, bytes.size() - 10));
    std::string error = error_of([&] { SafetensorsFile f(dir.file("t.safetensors")); });
    EXPECT_NE(error.find("t.safetensors"), std::string::npos) << error;
    EXPECT_NE(error.find("'second'"), std::string::npos) << error;
    EXPECT_NE(error.find("truncated"), std::string::npos) << error;
}

TEST(Safetensors, CorruptHeadersAreRejected) {
    test::TempDir dir;
    const std::string path = dir.file("bad.safetensors");
    write_file_atomically(path, "abc");
    EXPECT_NE(error_of([&] { SafetensorsFile f(path); }).find("too short"), std::string::npos);

    write_raw(path, "{not json", 0);
    EXPECT_NE(error_of([&] { SafetensorsFile f(path); }).find("not valid JSON"), std::string::npos);

    write_raw(path, R"({"w": {"dtype": "F8_E4M3", "shape": [2], "data_offsets": [0, 2]}})", 2);
    std::string error = error_of([&] { SafetensorsFile f(path); });
    EXPECT_NE(error.find("unsupported dtype 'F8_E4M3'"), std::string::npos) << error;
    EXPECT_NE(error.find("'w'"), std::string::npos) << error;

    write_raw(path, R"({"w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}})", 8);
    error = error_of([&] { SafetensorsFile f(path); });
    EXPECT_NE(error.find("do not hold 12 bytes"), std::string::npos) << error;

    // A header length pointing past the end of the file.
    std::string content(8, '\0');
    content[0] = static_cast<char>(200);
    write_file_atomically(path, content + "{}");
    EXPECT_NE(error_of([&] { SafetensorsFile f(path); }).find("does not fit"), std::string::npos);
}

TEST(Safetensors, AShapeWhoseByteCountWrapsAroundIsRefusedBeforeAnyAllocation) {
    test::TempDir dir;
    const std::string path = dir.file("huge.safetensors");
    // 2^62 x 4 floats: 2^66 bytes, which wrap around 2^64 to 0 and would match empty offsets.
    write_raw(path, R"({"w": {"dtype": "F32", "shape": [4611686018427387904, 4], "data_offsets": [0, 0]}})", 0);
    std::string error = error_of([&] { SafetensorsFile f(path); });
    EXPECT_EQ(error, path + ": tensor 'w': shape [4611686018427387904,4] of F32 has more bytes than a file can");

    // A zero dimension makes any other one empty, as at::empty does.
    write_raw(path, R"({"w": {"dtype": "F32", "shape": [4611686018427387904, 0], "data_offsets": [0, 0]}})", 0);
    EXPECT_EQ(SafetensorsFile(path).load("w").numel(), 0);

    write_raw(path, R"({"w": {"dtype": "F32", "shape": 3, "data_offsets": [0, 12]}})", 12);
    error = error_of([&] { SafetensorsFile f(path); });
    EXPECT_EQ(error, path + ": tensor 'w': bad shape 3");
}

// The data section must hold each tensor's bytes once and nothing else, as the format requires.
TEST(Safetensors, OverlappingOrUncoveredDataIsRefusedNamingBothTensors) {
    test::TempDir dir;
    const std::string path = dir.file("bad.safetensors");
    auto error_with = [&](const std::string& header, size_t data_bytes) {
        write_raw(path, header, data_bytes);
        return error_of([&] { SafetensorsFile f(path); });
    };

    std::string error = error_with(R"({"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]},
                                         "b": {"dtype": "F32", "shape": [4], "data_offsets": [8, 24]}})", 24);
    EXPECT_EQ(error, path + ": tensor 'a' [0, 16) and tensor 'b' [8, 24) overlap");
    // The same bytes twice, listed in the other order.
    error = error_with(R"({"z": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                          "y": {"dtype": "I64", "shape": [1], "data_offsets": [0, 8]}})", 8);
    EXPECT_NE(error.find("tensor 'y' [0, 8) and tensor 'z' [0, 8) overlap"), std::string::npos) << error;

    error = error_with(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                          "b": {"dtype": "F32", "shape": [2], "data_offsets": [12, 20]}})", 20);
    EXPECT_EQ(error, path + ": bytes [8, 12) of the data section belong to no tensor (between tensor 'a' [0, 8) and tensor 'b' [12, 20))");
    error = error_with(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}})", 12);
    EXPECT_EQ(error, path + ": bytes [0, 4) of the data section belong to no tensor (before tensor 'a' [4, 12))");
    error = error_with(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}})", 10);
    EXPECT_EQ(error, path + ": bytes [8, 10) of the data section belong to no tensor (after tensor 'a' [0, 8))");

    // Offsets out of the header's order but covering the data once are the format's own.
    error = error_with(R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]},
                          "b": {"dtype": "F32", "shape": [0], "data_offsets": [8, 8]},
                          "c": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}})", 8);
    EXPECT_EQ(error, "");
}

TEST(Safetensors, MissingTensorNamesFileAndTensor) {
    test::TempDir dir;
    save_safetensors(dir.file("t.safetensors"), {{"a", at::ones({1})}});
    SafetensorsFile file(dir.file("t.safetensors"));
    std::string error = error_of([&] { file.load("b"); });
    EXPECT_NE(error.find("t.safetensors"), std::string::npos);
    EXPECT_NE(error.find("'b'"), std::string::npos);
}

TEST(Safetensors, DuplicateNamesAreRefusedAndNothingIsWritten) {
    test::TempDir dir;
    EXPECT_THROW(save_safetensors(dir.file("t.safetensors"), {{"a", at::ones({1})}, {"a", at::ones({1})}}),
                 std::invalid_argument);
    EXPECT_FALSE(std::filesystem::exists(dir.file("t.safetensors")));
}

}  // namespace
}  // namespace gs
