// The fine-tuning loop shared by the four tasks.
#include <chrono>
#include <cmath>
#include <stdexcept>

#include <ATen/ATen.h>
#include <torch/nn/module.h>

#include "core/common/random.h"
#include "core/finetune/finetune_engine.h"
#include "core/train/schedule.h"

namespace gs {

PaddedBatch pad_rows(const std::vector<const std::vector<int32_t>*>& rows, int64_t pad_value, at::Device device) {
    size_t length = 1;
    for (const auto* row : rows) length = std::max(length, row->size());
    const int64_t batch = static_cast<int64_t>(rows.size());
    at::Tensor ids = at::full({batch, static_cast<int64_t>(length)}, pad_value, at::kLong);
    at::Tensor mask = at::zeros({batch, static_cast<int64_t>(length)}, at::kLong);
    auto id_data = ids.accessor<int64_t, 2>();
    auto mask_data = mask.accessor<int64_t, 2>();
    for (int64_t b = 0; b < batch; ++b) {
        const auto& row = *rows[static_cast<size_t>(b)];
        for (size_t i = 0; i < row.size(); ++i) {
            id_data[b][static_cast<int64_t>(i)] = row[i];
            mask_data[b][static_cast<int64_t>(i)] = 1;
        }
    }
    return {ids.to(device), mask.to(device)};
}

NamedParameters model_parameters(T5Model& model, const std::vector<std::string>& prefixes) {
    NamedParameters selected;
    for (const auto& item : model->named_parameters()) {
        bool wanted = prefixes.empty();
        for (const auto& prefix : prefixes) wanted = wanted || item.key().rfind(prefix, 0) == 0;
        if (wanted) selected.emplace_back(item.key(), item.value());
    }
    return selected;
}

namespace {

// The units of one epoch in a seeded order (the same for a seed on every machine).
std::vector<int64_t> epoch_order(int64_t count, uint64_t seed, int64_t epoch) {
    Random random(derive_seed(seed, static_cast<uint64_t>(epoch), 0xf17e));
    return random_permutation(count, random);
}

void zero_gradients(const NamedParameters& parameters) {
    for (const auto& [name, parameter] : parameters) {
        if (parameter.grad().defined()) parameter.mutable_grad().reset();
    }
}

}  // namespace

void train_task(FinetuneTask& task, const FinetuneSettings& settings, const FinetuneProgressCallback& progress,
                const std::atomic<bool>* cancel) {
    const int64_t units = task.train_size();
    if (settings.epochs == 0 || units == 0) return;
    const int64_t steps_per_epoch = (units + settings.batch_size - 1) / settings.batch_size;
    ScheduleSettings schedule;
    schedule.kind = "linear";
    schedule.peak_lr = settings.learning_rate;
    schedule.final_lr = 0;
    schedule.total_steps = steps_per_epoch * settings.epochs;
    schedule.warmup_steps = std::llround(settings.warmup_fraction * static_cast<double>(schedule.total_steps));
    OptimizerSettings adamw;
    adamw.kind = "adamw";
    adamw.eps = 1e-8;
    adamw.weight_decay = settings.weight_decay;
    const NamedParameters parameters = task.parameters();
    const auto optimizer = make_optimizer(adamw, parameters);

    const auto start = std::chrono::steady_clock::now();
    int64_t step = 0, seen = 0;
    for (int64_t epoch = 0; epoch < settings.epochs; ++epoch) {
        const std::vector<int64_t> order = epoch_order(units, settings.seed, epoch);
        for_each_batch(units, settings.batch_size, [&](int64_t begin, int64_t end) {
            if (cancel && cancel->load()) throw std::runtime_error("fine-tuning cancelled");
            zero_gradients(parameters);
            at::Tensor loss = task.loss(std::vector<int64_t>(order.begin() + begin, order.begin() + end));
            loss.backward();
            clip_gradient_norm(parameters, 1.0);  // the usual fine-tuning guard against a bad batch
            optimizer->step(schedule.rate(step));
            ++step;
            seen += end - begin;
            if (!progress) return;
            const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            progress({"training", step, schedule.total_steps, loss.item<double>(), seconds > 0 ? seen / seconds : 0});
        });
    }
    zero_gradients(parameters);
}

}  // namespace gs
