#include "test_support.h"

#include <random>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include "core/io/files.h"

namespace gs::test {

TempDir::TempDir() {
    std::random_device device;
    path_ = std::filesystem::temp_directory_path() / ("gs-test-" + std::to_string(device()));
    std::filesystem::create_directories(path_);
}

TempDir::~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
}

double max_abs_diff(const at::Tensor& a, const at::Tensor& b) {
    return (a.to(at::kDouble) - b.to(at::kDouble)).abs().max().item<double>();
}

// What summation order can change between one process and two in the tiny experiment (its
// larger stage S, batch 8 x 64 tokens, peak learning rate 0.02; tolerance.h).
TrainingBounds tiny_experiment_bounds(int64_t gradient_accumulation) {
    const nlohmann::json json = read_json_file(data_path("experiments/tiny_T_d_S.json"));
    T5Config s;
    s.d_model = json["sizes"]["S"]["d_model"], s.d_kv = json["sizes"]["S"]["d_kv"], s.num_heads = json["sizes"]["S"]["num_heads"];
    s.d_ff = json["sizes"]["S"]["d_ff"], s.num_layers = json["sizes"]["S"]["num_layers"];
    s.num_decoder_layers = json["sizes"]["S"]["num_decoder_layers"];
    const int64_t rows = json["batch_size"].get<int64_t>() * gradient_accumulation;
    return training_bounds(s, json["data"]["input_length"], rows, json["schedule"]["peak_lr"]);
}

}  // namespace gs::test
