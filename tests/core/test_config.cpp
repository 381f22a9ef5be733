#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/io/files.h"
#include "core/model/t5_config.h"
#include "test_support.h"

namespace gs {
namespace {

TEST(T5Config, StudyPresetsHaveThePaperSizes) {
    T5Config tiny = T5Config::preset("tiny"), small = T5Config::preset("S"), base = T5Config::preset("Base");
    EXPECT_EQ(tiny.num_layers, 6);
    EXPECT_EQ(tiny.num_decoder_layers, 6);
    EXPECT_EQ(tiny.d_model, 512);
    EXPECT_EQ(tiny.num_heads, 8);
    EXPECT_EQ(tiny.d_ff, 1024);
    EXPECT_EQ(small.num_layers, 12);
    EXPECT_EQ(small.d_model, 512);
    EXPECT_EQ(small.d_ff, 1024);
    EXPECT_EQ(base.num_layers, 12);
    EXPECT_EQ(base.d_model, 768);
    EXPECT_EQ(base.num_heads, 12);
    EXPECT_EQ(base.d_ff, 3072);
    for (const auto& c : {tiny, small, base}) {
        EXPECT_EQ(c.d_kv, 64);
        EXPECT_EQ(c.feed_forward_proj, "gated-gelu");
        EXPECT_FALSE(c.tie_word_embeddings);
    }
    EXPECT_THROW(T5Config::preset("large"), std::invalid_argument);
}

TEST(T5Config, AbsentKeysTakeHuggingFaceDefaults) {
    // KE-T5's configs carry neither tie_word_embeddings nor relative_attention_max_distance.
    const auto json = nlohmann::json::parse(R"({"model_type": "t5", "num_layers": 4, "d_model": 64, "d_kv": 16,
        "num_heads": 4, "d_ff": 128, "vocab_size": 100, "feed_forward_proj": "gated-gelu"})");
    T5Config c = T5Config::from_hf_json(json, "config.json");
    EXPECT_TRUE(c.tie_word_embeddings);
    EXPECT_EQ(c.num_decoder_layers, 4);
    EXPECT_EQ(c.relative_attention_max_distance, 128);
    EXPECT_EQ(c.relative_attention_num_buckets, 32);
    EXPECT_DOUBLE_EQ(c.dropout_rate, 0.1);
    EXPECT_EQ(c.activation(), "gelu_new");
    EXPECT_TRUE(c.is_gated());
    T5Config relu = T5Config::from_hf_json(nlohmann::json::parse("{}"), "config.json");
    EXPECT_EQ(relu.feed_forward_proj, "relu");
    EXPECT_FALSE(relu.is_gated());
    EXPECT_EQ(relu.activation(), "relu");
}

TEST(T5Config, HuggingFaceJsonRoundTrips) {
    T5Config c = T5Config::preset("base");
    c.vocab_size = 64128;
    c.tie_word_embeddings = true;
    EXPECT_EQ(T5Config::from_hf_json(c.to_hf_json(), "x"), c);
    test::TempDir dir;
    c.save(dir.file("config.json"));
    EXPECT_EQ(T5Config::load(dir.file("config.json")), c);
}

TEST(T5Config, WrongTypeNamesFileAndField) {
    const auto json = nlohmann::json::parse(R"({"d_model": "512"})");
    try {
        T5Config::from_hf_json(json, "/models/x/config.json");
        FAIL() << "no error";
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("/models/x/config.json"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("'d_model'"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("integer"), std::string::npos) << e.what();
    }
}

TEST(T5Config, InvalidValuesAreRejectedWithTheField) {
    auto expect_field_error = [](const std::string& text, const std::string& field) {
        try {
            T5Config::from_hf_json(nlohmann::json::parse(text), "config.json");
            ADD_FAILURE() << "no error for " << text;
        } catch (const std::invalid_argument& e) {
            EXPECT_NE(std::string(e.what()).find(field), std::string::npos) << e.what();
        }
    };
    expect_field_error(R"({"d_model": 0})", "d_model");
    expect_field_error(R"({"feed_forward_proj": "gated-swish"})", "feed_forward_proj");
    expect_field_error(R"({"dropout_rate": 1.5})", "dropout_rate");
    expect_field_error(R"({"model_type": "bert"})", "model_type");
    expect_field_error(R"({"relative_attention_num_buckets": 7})", "relative_attention_num_buckets");
}

TEST(JsonFile, SyntaxErrorReportsLineAndColumn) {
    test::TempDir dir;
    write_file_atomically(dir.file("bad.json"), "{\n  \"a\": 1,\n  \"b\": ,\n}\n");
    try {
        read_json_file(dir.file("bad.json"));
        FAIL() << "no error";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("bad.json:3:"), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace gs
