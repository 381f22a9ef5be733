#include "core/train/trainer.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <set>
#include <thread>

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <ATen/CPUGeneratorImpl.h>
#include <c10/util/Exception.h>

#include "core/common/random.h"
#include "core/common/shell.h"
#include "core/data/batch_tensors.h"
#include "core/data/batches.h"
#include "core/data/pretraining_data.h"
#include "core/distributed/communicator.h"
#include "core/distributed/overlapped_averaging.h"
#include "core/growth/growth_probe.h"
#include "core/growth/t5_growth.h"
#include "core/io/files.h"
#include "core/io/safetensors.h"
#include "core/model/checkpoint.h"
#include "core/model/t5_cost.h"
#include "core/pipeline/pipeline_estimate.h"
#include "core/runtime/runtime_info.h"
#include "core/train/metrics_writer.h"
#include "core/train/optimizer.h"
#include "core/train/run_lock.h"
#include "core/train/run_name.h"

namespace gs {

namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// Where a run stands; saved with every checkpoint.
struct TrainingState {
    int stage = 0;                 // the stage being trained (index in the pipeline)
    bool stage_done = false;       // its budget is spent; the next step is the growth into stage + 1
    int64_t step = 0;              // optimiser steps over the run
    int64_t stage_start_step = 0;
    int64_t schedule_step = 0;     // the schedule's own clock (restarts with the schedule)
    int64_t optimizer_steps = 0;   // the optimiser's bias-correction clock
    int64_t tokens = 0;
    double flops = 0;
    double wall_seconds = 0;
    double stage_seconds = 0;
    int64_t skipped_steps = 0;
    std::optional<double> valid_loss;
    DataPosition data;

    nlohmann::json to_json() const {
        return {{"stage", stage},
                {"stage_done", stage_done},
                {"step", step},
                {"stage_start_step", stage_start_step},
                {"schedule_step", schedule_step},
                {"optimizer_steps", optimizer_steps},
                {"tokens", tokens},
                {"flops", flops},
                {"wall_seconds", wall_seconds},
                {"stage_seconds", stage_seconds},
                {"skipped_steps", skipped_steps},
                {"valid_loss", valid_loss ? nlohmann::json(*valid_loss) : nlohmann::json()},
                {"data", data.to_json()}};
    }

    static TrainingState from_json(const nlohmann::json& j, const std::string& source) {
        TrainingState s;
        try {
            s.stage = j.at("stage"), s.stage_done = j.at("stage_done"), s.step = j.at("step");
            s.stage_start_step = j.at("stage_start_step"), s.schedule_step = j.at("schedule_step");
            s.optimizer_steps = j.at("optimizer_steps"), s.tokens = j.at("tokens"), s.flops = j.at("flops");
            s.wall_seconds = j.at("wall_seconds"), s.stage_seconds = j.at("stage_seconds");
            s.skipped_steps = j.at("skipped_steps");
            if (!j.at("valid_loss").is_null()) s.valid_loss = j.at("valid_loss").get<double>();
        } catch (const nlohmann::json::exception& error) {
            throw std::runtime_error(source + ": " + error.what());
        }
        s.data = DataPosition::from_json(j.at("data"), source);
        return s;
    }
};

// Builds (or reuses) the tokenizer and the token cache, then opens them for training.
std::unique_ptr<PretrainingData> prepare_data(const DataSpec& spec, const ProgressCallback& progress) {
    CorpusOptions corpus = spec.corpus;
    if (corpus.paths.empty()) corpus.paths.push_back(default_corpus_path());
    fs::create_directories(spec.cache_dir);
    const PreparedTokenizer prepared =
        prepare_tokenizer(spec.cache_dir, parse_tokenizer_choice(spec.tokenizer), corpus, progress);
    TokenCacheOptions cache;
    cache.corpus = corpus;
    cache.split = spec.split;
    cache.progress = progress;
    prepare_token_cache(spec.cache_dir, prepared.tokenizer, cache);
    auto data = PretrainingData::open(spec.cache_dir, spec.span);
    if (!data->validation()) {
        throw std::runtime_error(spec.cache_dir + ": the validation split has fewer tokens than one row of " +
                                 std::to_string(data->train().lengths().raw_length) +
                                 "; give it a larger share (data.split) or use a shorter data.input_length");
    }
    return data;
}

std::string checkpoint_name(int64_t step, int stage) {
    char name[64];
    std::snprintf(name, sizeof name, "step-%08lld-stage-%d", static_cast<long long>(step), stage);
    return name;
}

class PipelineTrainer {
public:
    PipelineTrainer(const ExperimentSpec& spec, Store& store, RunRecord run, const TrainerHooks& hooks,
                    Communicator* group)
        : spec_(spec), store_(store), run_(std::move(run)), hooks_(hooks), device_(run_.device), group_(group) {}

    // Starts from nothing, or from the checkpoint named in the run folder's latest.json.
    std::string run(bool resume) {
        report("preparing data");
        data_ = prepare_data_in_turn();
        vocab_size_ = data_->tokenizer().model_vocab_size();
        validation_ = validation_batches();
        if (leader()) metrics_ = std::make_unique<MetricsWriter>(store_.path());
        if (resume) {
            restore_latest();
        } else {
            state_.data = data_->train().start(spec_.seed);
            begin_first_stage();
        }
        while (true) {
            if (!state_.stage_done) {
                if (!train_stage()) return pause();
                finish_stage();
            }
            if (state_.stage + 1 >= static_cast<int>(spec_.pipeline.stages.size())) break;
            grow_into(state_.stage + 1);
        }
        flush_metrics();
        return "done";
    }

private:
    // --- Data-parallel runs: every rank trains the same model on its share of each batch;
    // rank 0 alone writes the store, the metrics and the checkpoints.

    bool leader() const { return !group_ || group_->leader(); }

    // The first process to prepare the data builds the tokenizer and the token cache; the
    // others wait for it and then find both ready.
    std::unique_ptr<PretrainingData> prepare_data_in_turn() {
        if (!group_) return prepare_data(spec_.data, hooks_.data_progress);
        std::unique_ptr<PretrainingData> data;
        if (leader()) data = prepare_data(spec_.data, hooks_.data_progress);
        group_->barrier("data prepared");
        if (!leader()) data = prepare_data(spec_.data, {});
        return data;
    }

    // Every rank must hold bit for bit the same parameters (same seed, same growth maps, the
    // same averaged gradients); a difference would make the ranks train different models.
    void check_ranks_identical(const std::string& when) {
        if (!group_) return;
        std::vector<at::Tensor> tensors;
        for (const auto& [name, parameter] : parameters_) tensors.push_back(parameter);
        if (!group_->all_equal(tensor_checksum(tensors))) {
            throw TrainingFailure("the ranks' parameters differ " + when + " (checksums disagree); the run stops");
        }
    }

    // Dropout draws from the default generator: one stream per rank, so that the shards of a
    // batch do not share their masks.
    void seed_dropout_for_rank() {
        if (group_) at::manual_seed(derive_seed(spec_.seed, group_->rank(), state_.step));
    }

    bool stop_requested() {
        if (!group_) return hooks_.stop_requested && hooks_.stop_requested();
        return stop_agreed_;
    }

    void record(const MetricRow& row) {
        if (metrics_) metrics_->add(row);
    }

    void flush_metrics() {
        if (metrics_) metrics_->flush();
    }

    // --- Stages

    T5Config stage_config(int stage) const {
        T5Config config = spec_.pipeline.stages[stage].config;
        config.vocab_size = vocab_size_;
        return config;
    }

    void begin_first_stage() {
        const Stage& first = spec_.pipeline.stages.front();
        if (first.pretrained) {
            model_ = load_pretrained(first);
            refresh_compute_model();
            state_.stage = 0;
            state_.stage_done = true;  // a finished model: the next step is its growth
            state_.valid_loss = validate();
            if (leader()) {
                store_.add_stage({run_.id, 0, first.size, model_->config().to_hf_json().dump(),
                                  "pre-trained: " + first.source, model_->parameter_count(), 0, 0});
            }
            return;
        }
        at::manual_seed(spec_.seed);
        model_ = T5Model(stage_config(0));
        model_->to(device_);
        refresh_compute_model();
        new_optimizer();
        check_ranks_identical("after initialisation");
        seed_dropout_for_rank();
        start_stage(0);
    }

    T5Model load_pretrained(const Stage& stage) {
        std::string folder = stage.source;
        if (!fs::exists(folder)) {
            // A cluster job of the same set keeps the run in its own database, beside its checkpoints
            // (looked for only under a name that can be a run's, so never outside the runs folder).
            std::unique_ptr<Store> job_store;
            if (!store_.find_run(stage.source) && run_name_problem(stage.source).empty()) {
                const fs::path job_database = run_folder(run_dir().parent_path(), stage.source) / (stage.source + ".db");
                if (fs::exists(job_database)) job_store = std::make_unique<Store>(job_database.string());
            }
            Store& store = job_store ? *job_store : store_;
            const auto run = store.find_run(stage.source);
            if (!run) {
                throw std::runtime_error("pre-trained stage " + stage.size + ": '" + stage.source +
                                         "' is neither a checkpoint folder nor a run in " + store_.path());
            }
            const auto checkpoints = store.checkpoints(run->id);
            if (checkpoints.empty() || checkpoints.back().kind != "final") {
                throw std::runtime_error("pre-trained stage " + stage.size + ": run '" + run->name + "' has no final checkpoint yet");
            }
            folder = checkpoints.back().path;
        }
        T5Model model = load_t5_checkpoint(folder);
        if (model->config().vocab_size != vocab_size_) {
            throw std::runtime_error(folder + ": vocab_size " + std::to_string(model->config().vocab_size) +
                                     " differs from the experiment's tokenizer (" + std::to_string(vocab_size_) + ")");
        }
        model->to(device_);
        return model;
    }

    bool schedule_restarts_at(int stage) const {
        if (stage == 0) return true;
        return spec_.pipeline.transitions[stage - 1].from_pretrained || spec_.restart_schedule_on_growth;
    }

    // The schedule of the segment of stages that `stage` belongs to: without a total_steps in
    // the experiment, the decay spans the budgets of the stages up to the next restart.
    ScheduleSettings schedule_for(int stage) const {
        ScheduleSettings schedule = spec_.schedule;
        if (schedule.total_steps > 0) return schedule;
        int first = stage;
        while (!schedule_restarts_at(first)) --first;
        int64_t total = 0;
        for (int s = first; s < static_cast<int>(spec_.pipeline.stages.size()); ++s) {
            if (s > first && schedule_restarts_at(s)) break;
            if (spec_.pipeline.stages[s].pretrained) continue;
            const int64_t steps = budget_steps(s);
            if (steps < 0) return schedule;  // a time or loss budget: no known end, no decay
            total += steps;
        }
        schedule.total_steps = total;
        return schedule;
    }

    void start_stage(int stage) {
        schedule_ = schedule_for(stage);
        state_.stage = stage;
        state_.stage_done = false;
        state_.stage_start_step = state_.step;
        state_.stage_seconds = 0;
        const Stage& s = spec_.pipeline.stages[stage];
        if (!leader()) return;
        store_.add_stage({run_.id, stage, s.size, stage_config(stage).to_hf_json().dump(), s.budget.notation(),
                          model_->parameter_count(), state_.step, std::nullopt});
    }

    int64_t steps_per_epoch() const {
        return gs::steps_per_epoch(data_->train().rows(), spec_.batch_size * spec_.gradient_accumulation);
    }

    // The stage's budget in steps, or -1 for time and loss budgets.
    int64_t budget_steps(int stage) const {
        return gs::budget_steps(spec_.pipeline.stages[stage].budget, steps_per_epoch()).value_or(-1);
    }

    std::optional<double> target_loss(int stage) {
        const Budget& budget = spec_.pipeline.stages[stage].budget;
        if (budget.kind == Budget::Kind::target_loss) return budget.value;
        if (budget.kind != Budget::Kind::reference_loss) return std::nullopt;
        for (const auto& row : store_.summaries()) {
            if (row.run.name == budget.reference_run && row.valid_loss) return row.valid_loss;
        }
        throw std::runtime_error("stage " + spec_.pipeline.stages[stage].size + ": reference run '" + budget.reference_run +
                                 "' has no validation loss in " + store_.path());
    }

    bool budget_spent(int stage, const std::optional<double>& target) const {
        const Budget& budget = spec_.pipeline.stages[stage].budget;
        const int64_t stage_steps = state_.step - state_.stage_start_step;
        switch (budget.kind) {
            case Budget::Kind::seconds: return state_.stage_seconds >= budget.value;
            case Budget::Kind::target_loss:
            case Budget::Kind::reference_loss: return state_.valid_loss && target && *state_.valid_loss <= *target;
            default: return stage_steps >= budget_steps(stage);
        }
    }

    // Returns false when a stop was requested (after a checkpoint).
    bool train_stage() {
        const int stage = state_.stage;
        const std::optional<double> target = target_loss(stage);
        const DataShard shard = group_ ? DataShard{group_->rank(), group_->world_size()} : DataShard{};
        BatchPrefetcher batches(data_->train(), spec_.batch_size, state_.data, 2, 4, shard);
        while (!budget_spent(stage, target)) {
            if (stop_requested()) {
                save_checkpoint("interval");
                return false;
            }
            train_step(batches);
            if (state_.step % spec_.validation_interval == 0) record_validation();
            // The stage's last step is saved by finish_stage() as its stage-end checkpoint.
            if (state_.step % spec_.checkpoint_interval == 0 && !budget_spent(stage, target)) save_checkpoint("interval");
        }
        return true;
    }

    void finish_stage() {
        if (!state_.valid_loss || last_validated_step_ != state_.step) record_validation();
        state_.stage_done = true;
        if (leader()) store_.end_stage(run_.id, state_.stage, state_.step);
        const bool last = state_.stage + 1 == static_cast<int>(spec_.pipeline.stages.size());
        save_checkpoint(last ? "final" : "stage-end");
    }

    // --- One optimiser step

    void train_step(BatchPrefetcher& batches) {
        const auto start = Clock::now();
        compute_->train();
        zero_gradients();
        double loss_sum = 0;
        for (int64_t micro = 0; micro < spec_.gradient_accumulation; ++micro) {
            if (group_ && micro + 1 == spec_.gradient_accumulation) gradient_averaging().arm(micro > 0);
            const SpanBatch batch = batches.next();
            const TensorBatch tensors = to_tensors(batch, device_.is_cuda());
            const at::Tensor input_ids = tensors.input_ids.to(device_, true);
            const at::Tensor labels = tensors.labels.to(device_, true);
            at::Tensor loss = compute_->forward(input_ids, at::ones_like(input_ids), labels).loss;
            (loss / static_cast<double>(spec_.gradient_accumulation)).backward();
            loss_sum += loss.item<double>();
            state_.data = batch.next;
        }
        if (group_) {
            gradient_averaging().finish();  // into the fp32 masters' gradients
            loss_sum = group_->sum({loss_sum})[0] / group_->world_size();
        } else {
            gradients_to_masters();
        }
        const double loss = loss_sum / static_cast<double>(spec_.gradient_accumulation);
        const double gradient_norm = clip_gradient_norm(parameters_, spec_.gradient_clip);
        const double lr = schedule_.rate(state_.schedule_step);
        const bool finite = std::isfinite(loss) && std::isfinite(gradient_norm);
        if (!finite && !spec_.skip_nonfinite_steps) {
            throw TrainingFailure("step " + std::to_string(state_.step + 1) + " (stage " + current_size() +
                                  "): the loss is " + std::to_string(loss) + " and the gradient norm " +
                                  std::to_string(gradient_norm) + "; no checkpoint was written after it");
        }
        if (finite) {
            optimizer_->step(lr);
            masters_to_compute_model();
            state_.optimizer_steps = optimizer_->steps_taken();
        } else {
            ++state_.skipped_steps;
        }
        count_step(start, loss, lr, gradient_norm);
    }

    // Each rank's gradient is the mean over its shard; their mean is the whole batch's. The
    // averaging hooks onto the parameters the backward pass computes, so a new compute model
    // (growth, loading, bf16 refresh) gets new hooks.
    OverlappedGradientAveraging& gradient_averaging() {
        if (!averaging_) {
            auto computed = compute_->named_parameters();
            std::vector<at::Tensor> hooked, masters;
            for (auto& [name, master] : parameters_) hooked.push_back(computed[name]), masters.push_back(master);
            averaging_ = std::make_unique<OverlappedGradientAveraging>(*group_, hooked, masters);
        }
        return *averaging_;
    }

    // The ranks agree on the step's time (time budgets end on every rank at the same step) and
    // on whether any of them was asked to stop.
    double agree_on_step(double seconds) {
        if (!group_) return seconds;
        const bool stop = hooks_.stop_requested && hooks_.stop_requested();
        const std::vector<double> sums = group_->sum({seconds, stop ? 1.0 : 0.0});
        stop_agreed_ = sums[1] > 0;
        return sums[0] / group_->world_size();
    }

    void zero_gradients() {
        for (auto& [name, parameter] : parameters_) {
            if (parameter.grad().defined()) parameter.mutable_grad().zero_();
        }
        for (auto& item : compute_->named_parameters()) {
            if (item.value().grad().defined()) item.value().mutable_grad().zero_();
        }
    }

    // --- bf16: the model computes in bf16 while the optimiser updates fp32 master weights
    // (model_), which are also what checkpoints and growth see.

    bool bf16() const { return spec_.precision == "bf16"; }

    void refresh_compute_model() {
        averaging_.reset();
        if (!bf16()) {
            compute_ = model_;
            return;
        }
        compute_ = T5Model(model_->config(), /*initialize=*/false);
        compute_->to(device_, at::kBFloat16);
        masters_to_compute_model();
    }

    void masters_to_compute_model() {
        if (!bf16()) return;
        at::NoGradGuard no_grad;
        auto masters = model_->named_parameters();
        for (auto& item : compute_->named_parameters()) item.value().copy_(masters[item.key()]);
    }

    void gradients_to_masters() {
        if (!bf16()) return;
        auto computed = compute_->named_parameters();
        for (auto& [name, master] : parameters_) {
            const at::Tensor& gradient = computed[name].grad();
            if (gradient.defined()) master.mutable_grad() = gradient.to(at::kFloat);
        }
    }

    void count_step(Clock::time_point start, double loss, double lr, double gradient_norm) {
        const T5Config& config = model_->config();
        const int64_t rows = spec_.batch_size * spec_.gradient_accumulation;
        const SpanLengths& lengths = data_->train().lengths();
        const double seconds = agree_on_step(seconds_since(start));
        ++state_.step;
        ++state_.schedule_step;
        state_.tokens += rows * (lengths.input_length + lengths.target_length);
        state_.flops += training_flops_per_step(config, rows, lengths.input_length, lengths.target_length);
        state_.wall_seconds += seconds;
        state_.stage_seconds += seconds;
        MetricRow row = metric_row();
        row.train_loss = loss, row.learning_rate = lr, row.gradient_norm = gradient_norm, row.step_seconds = seconds;
        record(row);
        step_seconds_ = step_seconds_ <= 0 ? seconds : 0.9 * step_seconds_ + 0.1 * seconds;
        report("training", loss, rows * (lengths.input_length + lengths.target_length) / seconds);
    }

    MetricRow metric_row() const {
        MetricRow row;
        row.run_id = run_.id, row.stage_index = state_.stage, row.step = state_.step, row.tokens = state_.tokens;
        row.flops = state_.flops, row.wall_seconds = state_.wall_seconds;
        return row;
    }

    // --- Validation

    std::vector<TensorBatch> validation_batches() const {
        std::vector<TensorBatch> batches;
        DataPosition position = data_->validation()->start(0);
        for (int64_t b = 0; b < spec_.validation_batches; ++b) {
            const SpanBatch batch = data_->validation()->batch(position, spec_.batch_size);
            position = batch.next;
            TensorBatch tensors = to_tensors(batch, false);
            batches.push_back({tensors.input_ids.to(device_), tensors.labels.to(device_)});
        }
        return batches;
    }

    double validate() {
        at::NoGradGuard no_grad;
        compute_->eval();
        // In a data-parallel run each rank scores every world_size-th batch.
        const size_t first = group_ ? group_->rank() : 0, stride = group_ ? group_->world_size() : 1;
        double total = 0;
        for (size_t b = first; b < validation_.size(); b += stride) {
            const TensorBatch& batch = validation_[b];
            total += compute_->forward(batch.input_ids, at::ones_like(batch.input_ids), batch.labels).loss.item<double>();
        }
        if (group_) total = group_->sum({total})[0];
        return total / static_cast<double>(validation_.size());
    }

    void record_validation() {
        report("validating");
        state_.valid_loss = validate();
        last_validated_step_ = state_.step;
        MetricRow row = metric_row();
        row.valid_loss = state_.valid_loss;
        record(row);
    }

    // --- Growth between stages

    void grow_into(int stage) {
        report("growing");
        const auto start = Clock::now();
        const Transition& transition = spec_.pipeline.transitions[stage - 1];
        const GrowthPlan plan = plan_growth(model_->config(), stage_config(stage), transition.growth);
        const ProbeBatch probe = make_probe_batch(vocab_size_, spec_.seed);
        T5Model source = model_;
        source->to(at::kCPU);
        T5Model grown = grow_t5_model(source, plan);
        GrowthEventRecord event;
        event.run_id = run_.id, event.stage_index = stage, event.step = state_.step, event.op = transition.notation();
        const ProbeComparison figures = compare_on_probe(source, grown, probe);
        event.probe_loss_before = figures.loss_before, event.probe_loss_after = figures.loss_after;
        event.probe_max_logit_difference = figures.max_logit_difference;
        event.valid_loss_before = state_.valid_loss;
        grown->to(device_);
        const bool fresh = transition.from_pretrained;
        carry_optimizer(plan, grown, fresh || !spec_.grow_optimizer_state);
        check_ranks_identical("after growing into stage " + std::to_string(stage + 1) + " (" +
                              spec_.pipeline.stages[stage].size + ")");
        if (schedule_restarts_at(stage)) state_.schedule_step = 0;
        start_stage(stage);
        event.valid_loss_after = validate();
        event.seconds = seconds_since(start);
        event.plan_json = plan.to_json().dump();
        if (leader()) store_.add_growth_event(event);
        MetricRow row = metric_row();
        row.valid_loss = event.valid_loss_after;
        record(row);
    }

    // The optimiser of the grown model: a fresh one, or the old state grown with the weights'
    // maps (Adam's moments; an optimiser without growable moments starts afresh).
    void carry_optimizer(const GrowthPlan& plan, T5Model& grown, bool reset) {
        std::map<std::string, at::Tensor> state;
        int64_t steps = 0;
        if (!reset && optimizer_ && !optimizer_->first_moment_slot().empty()) {
            steps = optimizer_->steps_taken();
            for (const std::string& slot : {optimizer_->first_moment_slot(), optimizer_->second_moment_slot()}) {
                TensorMap moments;
                const std::string prefix = slot + "/";
                for (const auto& [key, tensor] : optimizer_->state()) {
                    if (key.rfind(prefix, 0) == 0) moments[key.substr(prefix.size())] = tensor.cpu();
                }
                if (moments.size() != parameters_.size()) continue;  // no step taken yet
                const GrowthState kind = slot == optimizer_->first_moment_slot() ? GrowthState::first_moment : GrowthState::second_moment;
                for (auto& [name, tensor] : grow_tensors(plan, moments, kind)) state[prefix + name] = tensor;
            }
        }
        model_ = grown;
        new_optimizer();
        if (!state.empty()) optimizer_->load_state(state, steps);
        state_.optimizer_steps = optimizer_->steps_taken();
    }

    void new_optimizer() {
        refresh_compute_model();
        parameters_.clear();
        for (const auto& item : model_->named_parameters()) parameters_.emplace_back(item.key(), item.value());
        optimizer_ = make_optimizer(spec_.optimizer, parameters_);
    }

    // --- Checkpoints

    fs::path run_dir() const { return fs::path(run_.directory); }

    void save_checkpoint(const std::string& kind) {
        report("checkpoint");
        if (!leader()) return;
        flush_metrics();
        const std::string name = checkpoint_name(state_.step, state_.stage);
        const fs::path folder = run_dir() / "checkpoints" / name;
        const fs::path temporary = run_dir() / "checkpoints" / (name + ".tmp");
        fs::remove_all(temporary);
        save_t5_checkpoint(model_, temporary.string(), {{"run", run_.name}, {"step", std::to_string(state_.step)}});
        NamedTensors tensors;
        for (const auto& [key, tensor] : optimizer_->state()) tensors.emplace_back(key, tensor);
        tensors.emplace_back("rng/cpu", at::detail::getDefaultCPUGenerator().get_state());
        save_safetensors((temporary / "optimizer.safetensors").string(), tensors);
        write_file_atomically((temporary / "trainer_state.json").string(), state_.to_json().dump(1) + "\n");
        // The tokenizer travels with the weights, as in HF checkpoints: downstream tasks need it.
        fs::copy_file(tokenizer_model_path(spec_.data.cache_dir), temporary / "spiece.model");
        fs::remove_all(folder);
        fs::rename(temporary, folder);  // the checkpoint appears whole or not at all
        write_file_atomically((run_dir() / "latest.json").string(),
                              nlohmann::json{{"checkpoint", (fs::path("checkpoints") / name).string()}}.dump() + "\n");
        store_.add_checkpoint({run_.id, state_.stage, state_.step, folder.string(), kind});
        if (kind == "interval") prune_checkpoints();
    }

    // Keeps the newest interval checkpoints (stage ends and the final one stay).
    void prune_checkpoints() {
        std::vector<std::string> interval;
        std::set<std::string> kept;
        for (const auto& checkpoint : store_.checkpoints(run_.id)) {
            if (checkpoint.kind != "interval") kept.insert(checkpoint.path);
            if (checkpoint.kind == "interval" && fs::exists(checkpoint.path)) interval.push_back(checkpoint.path);
        }
        interval.erase(std::remove_if(interval.begin(), interval.end(), [&](const std::string& p) { return kept.count(p) > 0; }),
                       interval.end());
        for (size_t i = 0; i + spec_.keep_checkpoints < interval.size(); ++i) fs::remove_all(interval[i]);
    }

    void restore_latest() {
        const std::string latest = (run_dir() / "latest.json").string();
        if (!fs::exists(latest)) {  // killed before its first checkpoint: start over
            if (leader()) store_.rewind_run(run_.id, 0, /*including_growth_at_step=*/true);
            state_.data = data_->train().start(spec_.seed);
            begin_first_stage();
            return;
        }
        const fs::path folder = run_dir() / read_json_file(latest).at("checkpoint").get<std::string>();
        state_ = TrainingState::from_json(read_json_file((folder / "trainer_state.json").string()),
                                          (folder / "trainer_state.json").string());
        if (state_.data.dataset != data_->train().fingerprint()) {
            throw std::runtime_error(folder.string() + ": the checkpoint was made with other data (corpus, tokenizer or "
                                     "span settings changed since); the run cannot continue on this data");
        }
        model_ = load_t5_checkpoint(folder.string());
        model_->to(device_);
        refresh_compute_model();
        schedule_ = schedule_for(state_.stage);
        new_optimizer();
        SafetensorsFile file((folder / "optimizer.safetensors").string());
        std::map<std::string, at::Tensor> state;
        for (const auto& name : file.names()) {
            if (name != "rng/cpu") state[name] = file.load(name);
        }
        optimizer_->load_state(state, state_.optimizer_steps);
        at::Generator generator = at::detail::getDefaultCPUGenerator();  // a handle to the default one
        generator.set_state(file.load("rng/cpu"));
        // A growth that follows a stage end is replayed: drop what the killed attempt recorded.
        if (leader()) store_.rewind_run(run_.id, state_.step, /*including_growth_at_step=*/state_.stage_done);
        last_validated_step_ = state_.step;
        check_ranks_identical("after loading " + folder.string());
        seed_dropout_for_rank();
    }

    std::string pause() {
        flush_metrics();
        return "paused";
    }

    // --- Progress

    std::string current_size() const { return spec_.pipeline.stages[state_.stage].size; }

    void report(const std::string& phase, double loss = 0, double tokens_per_s = 0) {
        if (!hooks_.progress) return;
        RunProgress p;
        p.run = run_.name, p.phase = phase, p.stage = state_.stage;
        p.stages = static_cast<int>(spec_.pipeline.stages.size());
        p.size = spec_.pipeline.stages.empty() ? "" : current_size();
        p.step = state_.step, p.stage_step = state_.step - state_.stage_start_step, p.train_loss = loss;
        p.tokens_per_s = tokens_per_s;
        p.device = run_.device;
        p.memory_bytes = memory_in_use_bytes(run_.device);
        if (data_) {
            p.stage_steps = budget_steps(state_.stage);
            p.stage_eta_s = stage_eta();
            p.run_eta_s = run_eta(p.stage_eta_s);
        }
        hooks_.progress(p);
    }

    // A time budget's stage ends when its time is spent; a stage of known steps after as many
    // steps at the current pace; a loss target's, nobody knows (-1).
    double stage_eta() const {
        const Budget& budget = spec_.pipeline.stages[state_.stage].budget;
        if (budget.kind == Budget::Kind::seconds) return std::max(0.0, budget.value - state_.stage_seconds);
        const int64_t steps = budget_steps(state_.stage);
        if (steps < 0 || step_seconds_ <= 0) return -1;
        return step_seconds_ * static_cast<double>(std::max<int64_t>(0, steps - (state_.step - state_.stage_start_step)));
    }

    double run_eta(double stage_eta) const {
        if (stage_eta < 0) return -1;
        double eta = stage_eta;
        for (size_t s = state_.stage + 1; s < spec_.pipeline.stages.size(); ++s) {
            const Budget& budget = spec_.pipeline.stages[s].budget;
            if (budget.kind == Budget::Kind::seconds) {
                eta += budget.value;
                continue;
            }
            const int64_t steps = budget_steps(static_cast<int>(s));
            if (steps < 0 || step_seconds_ <= 0) return -1;
            // Later stages are larger: scale the step time by their FLOPs.
            const SpanLengths& l = data_->train().lengths();
            const double ratio = training_flops_per_step(stage_config(static_cast<int>(s)), 1, l.input_length, l.target_length) /
                                 training_flops_per_step(model_->config(), 1, l.input_length, l.target_length);
            eta += step_seconds_ * ratio * static_cast<double>(steps);
        }
        return eta;
    }

    const ExperimentSpec& spec_;
    Store& store_;
    RunRecord run_;
    TrainerHooks hooks_;
    at::Device device_;
    std::unique_ptr<PretrainingData> data_;
    int64_t vocab_size_ = 0;
    std::vector<TensorBatch> validation_;
    std::unique_ptr<MetricsWriter> metrics_;
    TrainingState state_;
    T5Model model_{nullptr};    // fp32 weights: the optimiser's, the checkpoints', growth's
    T5Model compute_{nullptr};  // the same model, or its bf16 copy (precision "bf16")
    NamedParameters parameters_;
    std::unique_ptr<Optimizer> optimizer_;
    ScheduleSettings schedule_;
    int64_t last_validated_step_ = -1;
    double step_seconds_ = 0;
    Communicator* group_;       // null: a single process
    std::unique_ptr<OverlappedGradientAveraging> averaging_;  // with group_, once training starts
    bool stop_agreed_ = false;  // some rank was asked to stop (agreed at the last step)
};

// A run's folder is taken once it holds a run's experiment.json. A second run there (from another
// database beside this one, or after the database was deleted) would overwrite that run's
// checkpoints, which its own database still points at.
bool run_folder_taken(const fs::path& folder) { return fs::exists(folder / "experiment.json"); }

std::string folder_taken_message(const std::string& folder) {
    return folder + ": this folder holds a run already (its experiment.json), whose checkpoints a new run would "
                    "overwrite; give the run another name (--name) or another runs folder (--runs-dir)";
}

// The folder of a new run, made and locked for this process; nullopt when another process owns
// it or it holds a run already. The lock decides between two processes claiming one name.
std::optional<RunLock> claim_run_folder(const fs::path& folder) {
    if (run_folder_taken(folder)) return std::nullopt;
    std::optional<RunLock> lock = RunLock::try_take(folder);
    if (lock && run_folder_taken(folder)) return std::nullopt;  // a run came and went before the lock
    return lock;
}

// The name the user gave: its folder claimed, or a refusal naming the folder or its owner.
RunLock claim_given_name(const std::string& name, const fs::path& folder) {
    if (run_folder_taken(folder)) throw std::runtime_error(folder_taken_message(folder.string()));
    RunLock lock = RunLock::take(folder, name);
    if (run_folder_taken(folder)) throw std::runtime_error(folder_taken_message(folder.string()));
    return lock;
}

// The experiment's name, or NAME-2, NAME-3, ...: the first that no run of the store has and
// whose folder under `runs_dir` this process claims (processes starting together get one each).
RunLock claim_free_name(Store& store, const std::string& base, const fs::path& runs_dir, std::string& name) {
    std::optional<RunLock> lock;
    name = first_free_run_name(base, [&](const std::string& candidate) {
        if (store.find_run(candidate)) return true;
        lock = claim_run_folder(run_folder(runs_dir, candidate));
        return !lock;
    });
    return std::move(*lock);
}

// The commit of the git checkout holding the experiment file, "+dirty" when it has changes; ""
// outside a checkout.
std::string experiment_commit(const std::string& experiment_path) {
    if (experiment_path.empty()) return "";
    const std::string folder = fs::absolute(experiment_path).parent_path().string();
    auto capture = [](const std::string& command) {
        std::string output;
        if (FILE* pipe = popen(command.c_str(), "r")) {
            char buffer[256];
            while (fgets(buffer, sizeof buffer, pipe)) output += buffer;
            pclose(pipe);
        }
        while (!output.empty() && (output.back() == '\n' || output.back() == ' ')) output.pop_back();
        return output;
    };
    const std::string quoted = shell_quote(folder);
    const std::string commit = capture("git -C " + quoted + " rev-parse HEAD 2>/dev/null");
    if (commit.empty()) return "";
    const bool dirty = !capture("git -C " + quoted + " status --porcelain --untracked-files=no -- . 2>/dev/null").empty();
    return commit + (dirty ? "+dirty" : "");
}

// Runs the trainer, keeping the run's status in the store whatever happens (rank 0 of a
// data-parallel run keeps it).
std::string execute(const ExperimentSpec& spec, Store& store, const RunRecord& run, const TrainerHooks& hooks, bool resume,
                    Communicator* group) {
    const bool leader = !group || group->leader();
    auto set_status = [&](const std::string& status, const std::string& error = "") {
        if (leader) store.set_run_status(run.id, status, error);
    };
    set_status("running");
    try {
        PipelineTrainer trainer(spec, store, run, hooks, group);
        const std::string status = trainer.run(resume);
        set_status(status);
        return status;
    } catch (const c10::Error& error) {
        const std::string message = error.what_without_backtrace();
        const bool memory = message.find("out of memory") != std::string::npos;
        set_status("failed", message);
        if (memory) throw TrainingFailure("out of memory with batch " + std::to_string(spec.batch_size) + " x " +
                                          std::to_string(spec.data.span.input_length) + " tokens: " + message);
        throw TrainingFailure(message);
    } catch (const std::exception& error) {
        set_status("failed", error.what());
        throw;
    }
}

void apply_runtime(const ExperimentSpec& spec, const RunOptions& options, RunRecord& run) {
    int threads = options.threads >= 0 ? options.threads : spec.threads;
    if (threads == 0 && options.communicator) {
        // "Every core" is shared between the ranks on this machine, not taken by each.
        const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
        threads = std::max(1, cores / options.communicator->local_world_size());
    }
    configure_threads(threads);
    const std::string device = options.device.empty() ? spec.device : options.device;
    if (Communicator* group = options.communicator) {
        if (spec.batch_size % group->world_size() != 0) {
            throw std::invalid_argument("batch_size " + std::to_string(spec.batch_size) + " cannot be split evenly into " +
                                        std::to_string(group->world_size()) + " processes");
        }
        // One GPU per process on a node: LOCAL_RANK picks it.
        const bool cuda = device.rfind("cuda", 0) == 0 || (device == "auto" && resolve_device_name("auto") != "cpu");
        run.device = cuda ? resolve_device_name("cuda:" + std::to_string(group->local_rank())) : "cpu";
        group->start_collectives(run.device);
    } else {
        run.device = resolve_device_name(device);
    }
    // TF32 matrix products on Ampere and later GPUs (no effect elsewhere).
    at::globalContext().setAllowTF32CuBLAS(spec.tf32);
    at::globalContext().setAllowTF32CuDNN(spec.tf32);
}

// The run rank 0 created, as another rank of the group sees it.
RunRecord joined_run(Store& store, const std::string& name, const std::string& device) {
    auto run = store.find_run(name);
    if (!run) throw std::runtime_error(store.path() + ": rank 0 created run '" + name + "', which this rank cannot find");
    run->device = device;
    return *run;
}

// What a new run records before it has a name: its pipeline, seed and where it runs.
void describe_new_run(const ExperimentSpec& spec, RunRecord& run) {
    run.pipeline = spec.pipeline.name();
    run.status = "queued";
    run.seed = static_cast<int64_t>(spec.seed);
    run.host = host_name();
    const RuntimeInfo info = collect_runtime_info();
    run.app_version = info.app_version, run.libtorch_version = info.libtorch_version, run.cuda_version = info.cuda_version;
    run.git_commit = experiment_commit(spec.source);
}

// Names the run, claims its folder (locked for this process) and creates it in the store, in
// that order: a name or folder refused, or owned by another process, leaves the store as it was.
// Processes sharing a store but not a runs folder can claim one name each in its own folder: the
// store's insert decides, and an automatic name moves on to the next.
RunLock claim_and_create_run(const ExperimentSpec& spec, Store& store, const RunOptions& options, RunRecord& run) {
    const fs::path runs_dir = options.runs_dir.empty() ? fs::absolute(store.path()).parent_path() / "runs" : fs::path(options.runs_dir);
    describe_new_run(spec, run);
    while (true) {
        std::optional<RunLock> lock;
        if (options.name.empty()) {
            lock = claim_free_name(store, spec.name, runs_dir, run.name);
        } else {
            run.name = options.name;
            lock = claim_given_name(run.name, run_folder(runs_dir, run.name));
        }
        run.directory = run_folder(runs_dir, run.name).string();
        run.experiment_id = store.add_experiment(spec.name, spec.json.dump());
        try {
            run.id = store.create_run(run);  // a name the store has already (or a read-only store) stops here
            return std::move(*lock);
        } catch (const StoreError&) {
            if (!options.name.empty() || !store.find_run(run.name)) throw;
        }
    }
}

// Takes an existing run's lock for this process, or for a data-parallel group: rank 0 holds it
// for every rank, and when it is refused every rank refuses together.
std::optional<RunLock> take_run_lock(const RunRecord& run, Communicator* group) {
    if (!group) return RunLock::take(run.directory, run.name);
    std::optional<RunLock> lock;
    std::string refusal;
    if (group->leader()) {
        try {
            lock = RunLock::take(run.directory, run.name);
        } catch (const RunBusy& busy) {
            refusal = busy.what();
        }
    }
    refusal = group->broadcast_text("run lock refusal", refusal);
    if (!refusal.empty()) throw RunBusy(refusal);
    return lock;
}

}  // namespace

std::string run_experiment(const ExperimentSpec& spec, Store& store, const RunOptions& options, const TrainerHooks& hooks,
                           int64_t* run_id) {
    RunRecord run;
    apply_runtime(spec, options, run);
    // What the device can hold is known before the run exists: a refusal leaves the store as it was.
    check_training_memory(spec, run.device);
    if (options.communicator && !options.communicator->leader()) {
        run = joined_run(store, options.communicator->broadcast_text("run", ""), run.device);
        if (run_id) *run_id = run.id;
        return execute(spec, store, run, hooks, /*resume=*/false, options.communicator);
    }
    const RunLock lock = claim_and_create_run(spec, store, options, run);
    write_file_atomically(run.directory + "/experiment.json",
                          nlohmann::json{{"source", spec.source}, {"folder", fs::absolute(spec.source).parent_path().string()},
                                         {"experiment", spec.json}}
                                  .dump(1) + "\n");
    if (run_id) *run_id = run.id;
    if (options.communicator) options.communicator->broadcast_text("run", run.name);
    return execute(spec, store, run, hooks, /*resume=*/false, options.communicator);
}

std::string resume_run(const std::string& name, Store& store, const TrainerHooks& hooks, const RunOptions& options) {
    const auto found = store.find_run(name);
    if (!found) throw std::runtime_error(store.path() + ": no run named '" + name + "'");
    const std::optional<RunLock> lock = take_run_lock(*found, options.communicator);
    RunRecord run = *store.find_run(found->name);  // as its last owner left it
    if (run.status == "done") throw std::runtime_error("run '" + run.name + "' is finished; nothing to resume");
    const std::string saved = run.directory + "/experiment.json";
    const nlohmann::json record = read_json_file(saved);
    const ExperimentSpec spec = ExperimentSpec::from_json(record.at("experiment"), record.at("source").get<std::string>(),
                                                          record.at("folder").get<std::string>());
    apply_runtime(spec, options, run);
    return execute(spec, store, run, hooks, /*resume=*/true, options.communicator);
}

}  // namespace gs
