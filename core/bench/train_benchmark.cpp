#include "core/bench/train_benchmark.h"

#include <chrono>

#include <ATen/ATen.h>
#include <torch/cuda.h>
#include <torch/optim/adamw.h>
#include <torch/utils.h>

#include "core/distributed/communicator.h"
#include "core/distributed/overlapped_averaging.h"
#include "core/model/t5_cost.h"
#include "core/model/t5_model.h"
#include "core/runtime/runtime_info.h"

namespace gs {

namespace {

using Clock = std::chrono::steady_clock;

void synchronize(const at::Device& device) {
    if (device.is_cuda()) torch::cuda::synchronize(device.index());
}

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

double measure_matmul_peak(const std::string& device_name, bool bf16) {
    const at::Device device(resolve_device_name(device_name));
    const int64_t n = device.is_cuda() ? 8192 : 1536;
    const int repeats = device.is_cuda() ? 20 : 4;
    auto options = at::TensorOptions().device(device).dtype(bf16 ? at::kBFloat16 : at::kFloat);
    at::Tensor a = at::randn({n, n}, options), b = at::randn({n, n}, options);
    at::Tensor c = at::mm(a, b);  // warm-up
    synchronize(device);
    auto start = Clock::now();
    for (int i = 0; i < repeats; ++i) c = at::mm(a, b);
    synchronize(device);
    return 2.0 * n * n * n * repeats / seconds_since(start);
}

TrainBenchmarkResult run_train_benchmark(const TrainBenchmarkOptions& options) {
    TrainBenchmarkResult result;
    result.device = resolve_device_name(options.device);
    result.threads = at::get_num_threads();
    const at::Device device(result.device);
    torch::manual_seed(options.seed);

    T5Model model(options.config);
    model->to(device, options.bf16_weights ? at::kBFloat16 : at::kFloat);
    model->train();
    result.parameters = model->parameter_count();
    torch::optim::AdamW optimizer(model->parameters(), torch::optim::AdamWOptions(1e-4));

    const T5Config& c = options.config;
    auto ids = at::TensorOptions().dtype(at::kLong).device(device);
    // Every rank has the same model and its own batch, as in training.
    if (options.communicator) torch::manual_seed(options.seed + 1 + options.communicator->rank());
    // Ids from 2 upwards: random text, no pad (0) or eos (1).
    at::Tensor input_ids = at::randint(2, c.vocab_size, {options.batch, options.input_length}, ids);
    at::Tensor labels = at::randint(2, c.vocab_size, {options.batch, options.target_length}, ids);

    std::unique_ptr<OverlappedGradientAveraging> averaging;
    if (options.communicator && options.overlap_communication) {
        averaging = std::make_unique<OverlappedGradientAveraging>(*options.communicator, model->parameters(),
                                                                  model->parameters());
    }
    auto train_step = [&]() {
        optimizer.zero_grad();
        if (averaging) averaging->arm(false);
        at::Tensor loss = model->forward(input_ids, {}, labels).loss;
        loss.backward();
        if (averaging) {
            averaging->finish();
        } else if (options.communicator) {
            std::vector<at::Tensor> gradients;
            for (const auto& parameter : model->parameters()) {
                if (parameter.grad().defined()) gradients.push_back(parameter.grad());
            }
            options.communicator->average_gradients(gradients);
        }
        optimizer.step();
        return loss.item<double>();
    };
    for (int64_t i = 0; i < options.warmup_steps; ++i) result.first_loss = train_step();
    synchronize(device);
    auto start = Clock::now();
    for (int64_t i = 0; i < options.steps; ++i) result.last_loss = train_step();
    synchronize(device);
    const double elapsed = seconds_since(start);

    result.seconds_per_step = elapsed / static_cast<double>(options.steps);
    result.steps_per_s = 1.0 / result.seconds_per_step;
    result.tokens_per_s = result.steps_per_s * options.batch * (options.input_length + options.target_length);
    result.flops_per_s =
        result.steps_per_s * training_flops_per_step(c, options.batch, options.input_length, options.target_length);
    result.peak_flops_per_s = measure_matmul_peak(result.device, options.bf16_weights);
    result.mfu = result.flops_per_s / result.peak_flops_per_s;
    return result;
}

}  // namespace gs
