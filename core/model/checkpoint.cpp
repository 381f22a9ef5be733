#include "core/model/checkpoint.h"

#include <filesystem>
#include <iomanip>
#include <memory>
#include <set>
#include <sstream>
#include <stdexcept>

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <nlohmann/json.hpp>

#include "core/io/files.h"
#include "core/io/safetensors.h"
#include "core/model/t5_cost.h"

namespace gs {

namespace fs = std::filesystem;

namespace {

const char* kWeightsFile = "model.safetensors";
const char* kShardIndexFile = "model.safetensors.index.json";

std::string shape_text(at::IntArrayRef shape) {
    std::ostringstream out;
    out << "[";
    for (size_t i = 0; i < shape.size(); ++i) out << (i ? ", " : "") << shape[i];
    out << "]";
    return out.str();
}

std::string shape_text(const std::vector<int64_t>& shape) { return shape_text(at::IntArrayRef(shape)); }

// Names HF writes or accepts beside the model's own parameters, which carry nothing new.
bool is_redundant_tensor(const std::string& name, const T5Config& config) {
    return name == "encoder.embed_tokens.weight" || name == "decoder.embed_tokens.weight" ||
           name == "decoder.block.0.layer.1.EncDecAttention.relative_attention_bias.weight" ||
           (config.tie_word_embeddings && name == "lm_head.weight");
}

// The safetensors files of a checkpoint folder, and which file holds each tensor.
class CheckpointFiles {
public:
    explicit CheckpointFiles(const fs::path& directory) {
        const fs::path single = directory / kWeightsFile;
        const fs::path index = directory / kShardIndexFile;
        if (fs::exists(single)) {
            open(single.string());
        } else if (fs::exists(index)) {
            const nlohmann::json json = read_json_file(index.string());
            if (!json.contains("weight_map") || !json["weight_map"].is_object()) {
                throw std::runtime_error(index.string() + ": field 'weight_map': expected an object");
            }
            std::set<std::string> shards;
            for (const auto& [name, file] : json["weight_map"].items()) shards.insert(file.get<std::string>());
            for (const auto& shard : shards) open((directory / shard).string());
        } else if (fs::exists(directory / "pytorch_model.bin")) {
            throw std::runtime_error(directory.string() + ": only safetensors weights can be read; convert "
                                     "pytorch_model.bin with HF's save_pretrained(safe_serialization=True)");
        } else {
            throw std::runtime_error(directory.string() + ": no " + kWeightsFile + " or " + kShardIndexFile);
        }
    }

    const std::map<std::string, const SafetensorsFile*>& owners() const { return owner_; }

    const SafetensorsFile* find(const std::string& name) const {
        auto it = owner_.find(name);
        return it == owner_.end() ? nullptr : it->second;
    }

private:
    void open(const std::string& path) {
        files_.push_back(std::make_unique<SafetensorsFile>(path));
        for (const auto& name : files_.back()->names()) owner_[name] = files_.back().get();
    }

    std::vector<std::unique_ptr<SafetensorsFile>> files_;
    std::map<std::string, const SafetensorsFile*> owner_;
};

const SafetensorsFile* find_with_aliases(const CheckpointFiles& files, const std::string& name, std::string& found_as) {
    std::vector<std::string> candidates = {name};
    // Older exports keep only the per-stack copies of the shared embedding.
    if (name == "shared.weight") candidates = {name, "encoder.embed_tokens.weight", "decoder.embed_tokens.weight"};
    for (const auto& candidate : candidates) {
        if (const SafetensorsFile* file = files.find(candidate)) {
            found_as = candidate;
            return file;
        }
    }
    return nullptr;
}

// Every parameter of the model config.json describes comes from the weights files, so they hold
// at least as many values. A config that differs from them in a layer or a width is best reported
// by the tensor it gets wrong, once the model is built; one that describes more than twice the
// values they hold is refused before, since building it could take all memory or minutes (a
// corrupt or hostile config.json).
void require_weights_for(const T5Config& config, const std::string& config_path, const CheckpointFiles& files) {
    double stored_values = 0;
    for (const auto& [name, file] : files.owners()) {
        double values = 1;
        for (int64_t dim : file->entry(name).shape) values *= static_cast<double>(dim);
        stored_values += values;
    }
    const double parameters = count_parameters_unbounded(config);
    if (parameters <= 2 * stored_values) return;
    std::ostringstream message;
    message << config_path << ": describes a model of " << std::setprecision(15) << parameters
            << " parameters, more than twice the " << stored_values << " values its weights files hold";
    throw std::runtime_error(message.str());
}

void load_weights_from(T5Model& model, const CheckpointFiles& files, const std::string& directory) {
    const T5Config& config = model->config();
    std::set<std::string> used;
    at::NoGradGuard no_grad;
    for (auto& item : model->named_parameters()) {
        const std::string& name = item.key();
        at::Tensor& parameter = item.value();
        std::string stored_name;
        const SafetensorsFile* file = find_with_aliases(files, name, stored_name);
        if (!file) {
            throw std::runtime_error(directory + ": missing tensor '" + name + "' (config.json describes a model with " +
                                     std::to_string(config.num_layers) + "+" + std::to_string(config.num_decoder_layers) +
                                     " layers, feed_forward_proj " + config.feed_forward_proj + ")");
        }
        const SafetensorsEntry& entry = file->entry(stored_name);
        if (entry.dtype != "F32" && entry.dtype != "F16" && entry.dtype != "BF16") {
            throw std::runtime_error(file->path() + ": tensor '" + stored_name + "' has dtype " + entry.dtype +
                                     ", expected F32, F16 or BF16");
        }
        if (at::IntArrayRef(entry.shape) != parameter.sizes()) {
            throw std::runtime_error(file->path() + ": tensor '" + stored_name + "' has shape " + shape_text(entry.shape) +
                                     " but config.json implies " + shape_text(parameter.sizes()));
        }
        parameter.copy_(file->load(stored_name));
        used.insert(stored_name);
    }
    for (const auto& [name, file] : files.owners()) {
        if (used.count(name) || is_redundant_tensor(name, config)) continue;
        throw std::runtime_error(file->path() + ": unexpected tensor '" + name +
                                 "': not part of a T5 model with the configuration in config.json");
    }
}

}  // namespace

void load_t5_weights(T5Model& model, const std::string& directory) {
    load_weights_from(model, CheckpointFiles{fs::path(directory)}, directory);
}

T5Model load_t5_checkpoint(const std::string& directory) {
    const std::string config_path = (fs::path(directory) / "config.json").string();
    const T5Config config = T5Config::load(config_path);
    const CheckpointFiles files{fs::path(directory)};
    require_weights_for(config, config_path, files);
    T5Model model(config, /*initialize=*/false);
    load_weights_from(model, files, directory);
    return model;
}

void save_t5_checkpoint(const T5Model& model, const std::string& directory,
                        const std::map<std::string, std::string>& metadata) {
    fs::create_directories(directory);
    NamedTensors tensors;
    for (const auto& item : model->named_parameters()) tensors.emplace_back(item.key(), item.value());
    std::map<std::string, std::string> header_metadata = metadata;
    header_metadata["format"] = "pt";  // HF's loader refuses safetensors files without it
    save_safetensors((fs::path(directory) / kWeightsFile).string(), tensors, header_metadata);
    model->config().save((fs::path(directory) / "config.json").string());
}

}  // namespace gs
