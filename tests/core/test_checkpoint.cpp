#include <gtest/gtest.h>

#include <filesystem>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include "core/io/files.h"
#include "core/io/safetensors.h"
#include "core/model/checkpoint.h"
#include "core/model/t5_cost.h"
#include "test_support.h"

namespace gs {
namespace {

namespace fs = std::filesystem;

const std::string kFixture = "hf_t5/t5-v1_1-gated-untied";

T5Config tiny_config() {
    T5Config c;
    c.vocab_size = 64, c.d_model = 16, c.d_kv = 4, c.num_heads = 2, c.d_ff = 24;
    c.num_layers = 2, c.num_decoder_layers = 1, c.dropout_rate = 0.0;
    return c;
}

std::string load_error(const std::string& directory) {
    try {
        load_t5_checkpoint(directory);
    } catch (const std::exception& e) {
        return e.what();
    }
    return "";
}

// Copies the fixture to `dir`, rewriting its weights through `edit`.
void write_edited_fixture(const test::TempDir& dir, const std::function<void(NamedTensors&)>& edit) {
    SafetensorsFile source(test::data_path(kFixture + "/model.safetensors"));
    NamedTensors tensors;
    for (const auto& name : source.names()) tensors.emplace_back(name, source.load(name));
    edit(tensors);
    save_safetensors(dir.file("model.safetensors"), tensors, {{"format", "pt"}});
    fs::copy_file(test::data_path(kFixture + "/config.json"), dir.file("config.json"));
}

TEST(Checkpoint, NamesMatchHuggingFaceLayout) {
    T5Model model(tiny_config());
    auto params = model->named_parameters();
    for (const char* name : {"shared.weight", "encoder.block.0.layer.0.SelfAttention.q.weight",
                             "encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight",
                             "encoder.block.1.layer.1.DenseReluDense.wi_0.weight", "encoder.final_layer_norm.weight",
                             "decoder.block.0.layer.1.EncDecAttention.k.weight",
                             "decoder.block.0.layer.2.DenseReluDense.wo.weight", "decoder.block.0.layer.2.layer_norm.weight",
                             "lm_head.weight"}) {
        EXPECT_TRUE(params.contains(name)) << name;
    }
    // Only block 0 of each stack owns the relative position bias.
    EXPECT_FALSE(params.contains("encoder.block.1.layer.0.SelfAttention.relative_attention_bias.weight"));
    EXPECT_FALSE(params.contains("encoder.embed_tokens.weight"));
}

TEST(Checkpoint, SavedCheckpointReloadsBitIdentically) {
    test::TempDir dir;
    T5Model model = load_t5_checkpoint(test::data_path(kFixture));
    save_t5_checkpoint(model, dir.path().string());
    T5Model reloaded = load_t5_checkpoint(dir.path().string());
    EXPECT_EQ(reloaded->config(), model->config());
    auto original = model->named_parameters();
    for (const auto& item : reloaded->named_parameters()) {
        EXPECT_TRUE(at::equal(item.value(), original[item.key()])) << item.key();
    }
    // Writing the reloaded model again gives the very same bytes.
    test::TempDir second;
    save_t5_checkpoint(reloaded, second.path().string());
    EXPECT_EQ(read_text_file(dir.file("model.safetensors")), read_text_file(second.file("model.safetensors")));
    EXPECT_EQ(SafetensorsFile(dir.file("model.safetensors")).metadata().at("format"), "pt");
}

TEST(Checkpoint, TiedModelSavesOnlyTheSharedEmbedding) {
    test::TempDir dir;
    T5Config config = tiny_config();
    config.tie_word_embeddings = true;
    T5Model model(config);
    save_t5_checkpoint(model, dir.path().string());
    SafetensorsFile file(dir.file("model.safetensors"));
    EXPECT_FALSE(file.contains("lm_head.weight"));
    EXPECT_TRUE(load_t5_checkpoint(dir.path().string())->config().tie_word_embeddings);
}

TEST(Checkpoint, HalfPrecisionWeightsLoadAsFloat) {
    for (auto dtype : {at::kHalf, at::kBFloat16}) {
        test::TempDir dir;
        write_edited_fixture(dir, [&](NamedTensors& tensors) {
            for (auto& [name, tensor] : tensors) tensor = tensor.to(dtype);
        });
        T5Model model = load_t5_checkpoint(dir.path().string());
        T5Model reference = load_t5_checkpoint(test::data_path(kFixture));
        at::Tensor loaded = model->shared->weight;
        EXPECT_EQ(loaded.scalar_type(), at::kFloat);
        EXPECT_TRUE(at::equal(loaded, reference->shared->weight.to(dtype).to(at::kFloat)));
    }
}

TEST(Checkpoint, EmbeddingStoredUnderStackNamesIsAccepted) {
    test::TempDir dir;
    write_edited_fixture(dir, [](NamedTensors& tensors) {
        for (auto& [name, tensor] : tensors) {
            if (name == "shared.weight") name = "encoder.embed_tokens.weight";
        }
    });
    T5Model model = load_t5_checkpoint(dir.path().string());
    T5Model reference = load_t5_checkpoint(test::data_path(kFixture));
    EXPECT_TRUE(at::equal(model->shared->weight, reference->shared->weight));
}

TEST(Checkpoint, MissingTensorIsNamed) {
    test::TempDir dir;
    write_edited_fixture(dir, [](NamedTensors& tensors) {
        tensors.erase(std::remove_if(tensors.begin(), tensors.end(),
                                     [](const auto& t) { return t.first == "decoder.block.1.layer.2.DenseReluDense.wi_1.weight"; }),
                      tensors.end());
    });
    std::string error = load_error(dir.path().string());
    EXPECT_NE(error.find("missing tensor 'decoder.block.1.layer.2.DenseReluDense.wi_1.weight'"), std::string::npos) << error;
    EXPECT_NE(error.find(dir.path().string()), std::string::npos) << error;
}

TEST(Checkpoint, WrongShapeIsNamedWithBothShapes) {
    test::TempDir dir;
    write_edited_fixture(dir, [](NamedTensors& tensors) {
        for (auto& [name, tensor] : tensors) {
            if (name == "encoder.block.2.layer.0.SelfAttention.v.weight") tensor = tensor.narrow(0, 0, 32);
        }
    });
    std::string error = load_error(dir.path().string());
    EXPECT_NE(error.find("model.safetensors: tensor 'encoder.block.2.layer.0.SelfAttention.v.weight' has shape [32, 64]"),
              std::string::npos)
        << error;
    EXPECT_NE(error.find("[64, 64]"), std::string::npos) << error;
}

TEST(Checkpoint, NonFloatTensorIsRejected) {
    test::TempDir dir;
    write_edited_fixture(dir, [](NamedTensors& tensors) {
        for (auto& [name, tensor] : tensors) {
            if (name == "encoder.final_layer_norm.weight") tensor = tensor.to(at::kLong);
        }
    });
    std::string error = load_error(dir.path().string());
    EXPECT_NE(error.find("'encoder.final_layer_norm.weight' has dtype I64"), std::string::npos) << error;
}

TEST(Checkpoint, ConfigThatContradictsTheTensorsIsReported) {
    // config.json claims fewer encoder layers than the file holds.
    test::TempDir fewer;
    write_edited_fixture(fewer, [](NamedTensors&) {});
    T5Config config = T5Config::load(fewer.file("config.json"));
    config.num_layers = 2;
    config.save(fewer.file("config.json"));
    std::string error = load_error(fewer.path().string());
    EXPECT_NE(error.find("unexpected tensor 'encoder.block.2."), std::string::npos) << error;

    // ... and more than it holds.
    config.num_layers = 4;
    config.save(fewer.file("config.json"));
    error = load_error(fewer.path().string());
    EXPECT_NE(error.find("missing tensor 'encoder.block.3."), std::string::npos) << error;

    // A wider FFN than the tensors have.
    config.num_layers = 3;
    config.d_ff = 128;
    config.save(fewer.file("config.json"));
    error = load_error(fewer.path().string());
    EXPECT_NE(error.find("DenseReluDense"), std::string::npos) << error;
    EXPECT_NE(error.find("has shape"), std::string::npos) << error;
}

TEST(Checkpoint, AConfigFarLargerThanItsWeightsIsRefusedBeforeTheModelIsBuilt) {
    test::TempDir dir;
    save_t5_checkpoint(T5Model(tiny_config()), dir.path().string());
    const T5Config stored = tiny_config();
    // A million layers take minutes and gigabytes to build; 2^40 wide asks for petabytes.
    for (const auto& [field, value] : {std::pair{"num_layers", int64_t{1000000}}, {"d_model", int64_t{1} << 40}}) {
        nlohmann::json config = read_json_file(dir.file("config.json"));
        config[field] = value;
        write_file_atomically(dir.file("config.json"), config.dump());
        const std::string error = load_error(dir.path().string());
        EXPECT_EQ(error.rfind(dir.file("config.json") + ": describes a model of ", 0), 0u) << error;
        EXPECT_NE(error.find(" parameters, more than twice the " + std::to_string(count_parameters(stored)) +
                             " values its weights files hold"),
                  std::string::npos)
            << error;
        stored.save(dir.file("config.json"));
    }
    EXPECT_EQ(load_t5_checkpoint(dir.path().string())->config(), stored);
}

TEST(Checkpoint, TruncatedWeightsFileIsReported) {
    test::TempDir dir;
    write_edited_fixture(dir, [](NamedTensors&) {});
    std::string bytes = read_text_file(dir.file("model.safetensors"));
    write_file_atomically(dir.file("model.safetensors"), bytes.substr(0, bytes.size() / 2));
    std::string error = load_error(dir.path().string());
    EXPECT_NE(error.find("model.safetensors"), std::string::npos) << error;
    EXPECT_NE(error.find("truncated"), std::string::npos) << error;
}

TEST(Checkpoint, ShardedCheckpointsLoad) {
    test::TempDir dir;
    SafetensorsFile source(test::data_path(kFixture + "/model.safetensors"));
    NamedTensors first, second;
    nlohmann::json weight_map;
    for (const auto& name : source.names()) {
        bool in_first = name.rfind("encoder", 0) == 0;
        (in_first ? first : second).emplace_back(name, source.load(name));
        weight_map[name] = in_first ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors";
    }
    save_safetensors(dir.file("model-00001-of-00002.safetensors"), first);
    save_safetensors(dir.file("model-00002-of-00002.safetensors"), second);
    write_file_atomically(dir.file("model.safetensors.index.json"), nlohmann::json{{"weight_map", weight_map}}.dump());
    fs::copy_file(test::data_path(kFixture + "/config.json"), dir.file("config.json"));
    T5Model model = load_t5_checkpoint(dir.path().string());
    T5Model reference = load_t5_checkpoint(test::data_path(kFixture));
    EXPECT_TRUE(at::equal(model->lm_head->weight, reference->lm_head->weight));
}

TEST(Checkpoint, FolderWithoutWeightsIsReported) {
    test::TempDir dir;
    fs::copy_file(test::data_path(kFixture + "/config.json"), dir.file("config.json"));
    EXPECT_NE(load_error(dir.path().string()).find("no model.safetensors"), std::string::npos);
}

}  // namespace
}  // namespace gs
