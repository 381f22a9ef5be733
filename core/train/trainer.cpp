#include "core/train/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <memory>
#include <optional>
#include <sstream>

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <ATen/CPUGeneratorImpl.h>
#include <c10/util/Exception.h>

#include "core/common/random.h"
#include "core/data/batch_tensors.h"
#include "core/data/batches.h"
#include "core/data/pretraining_data.h"
#include "core/distributed/communicator.h"
#include "core/distributed/overlapped_averaging.h"
#include "core/growth/growth_probe.h"
#include "core/growth/t5_growth.h"
#include "core/io/files.h"
#include "core/model/checkpoint.h"
#include "core/model/t5_cost.h"
#include "core/pipeline/pipeline_estimate.h"
#include "core/runtime/runtime_info.h"
#include "core/train/metrics_writer.h"
#include "core/train/mixed_precision.h"
#include "core/train/optimizer.h"
#include "core/train/run_checkpoints.h"
#include "core/train/run_lock.h"
#include "core/train/run_name.h"
#include "core/train/run_setup.h"
#include "core/train/stage_plan.h"

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

class PipelineTrainer {
public:
    PipelineTrainer(const ExperimentSpec& spec, Store& store, RunRecord run, const TrainerHooks& hooks,
                    Communicator* group)
        : spec_(spec),
          store_(store),
          run_(std::move(run)),
          hooks_(hooks),
          device_(run_.device),
          precision_(spec.precision == Precision::bf16, device_),
          checkpoints_(store, run_.id, run_.name, run_.directory, spec.keep_checkpoints,
                       tokenizer_model_path(spec.data.cache_dir)),
          group_(group) {}

    // Starts from nothing, or from the checkpoint named in the run folder's latest.json.
    RunStatus run(bool resume) {
        report(RunPhase::preparing_data);
        data_ = prepare_data_in_turn();
        vocab_size_ = data_->tokenizer().model_vocab_size();
        plan_.emplace(spec_.pipeline, spec_.restart_schedule_on_growth,
                      steps_per_epoch(data_->train().rows(), spec_.batch_size * spec_.gradient_accumulation));
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
        return RunStatus::done;
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
            set_model(load_pretrained(first));
            state_.stage = 0;
            state_.stage_done = true;  // a finished model: the next step is its growth
            state_.valid_loss = validate();
            if (leader()) {
                store_.add_stage({run_.id, 0, first.size, model()->config().to_hf_json().dump(),
                                  "pre-trained: " + first.source, model()->parameter_count(), 0, 0});
            }
            return;
        }
        at::manual_seed(spec_.seed);
        T5Model initial(stage_config(0));
        initial->to(device_);
        set_model(initial);
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
            if (checkpoints.empty() || checkpoints.back().kind != CheckpointKind::final) {
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

    // Without a total_steps in the experiment, the decay spans the budgets of the stages up to
    // the next restart (StagePlan::schedule_span); a time or loss budget among them: no decay.
    ScheduleSettings schedule_for(int stage) const {
        ScheduleSettings schedule = spec_.schedule;
        if (schedule.total_steps > 0) return schedule;
        if (const std::optional<int64_t> span = plan_->schedule_span(stage)) schedule.total_steps = *span;
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
                          model()->parameter_count(), state_.step, std::nullopt});
    }

    int64_t budget_steps(int stage) const { return plan_->budget_steps(stage); }

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
        return plan_->budget_spent(stage, stage_progress(), target);
    }

    // Where the current stage stands, as its budget measures it.
    StageProgress stage_progress() const {
        StageProgress progress;
        progress.steps = state_.step - state_.stage_start_step;
        progress.seconds = state_.stage_seconds;
        progress.valid_loss = state_.valid_loss;
        return progress;
    }

    // Returns false when a stop was requested (after a checkpoint).
    bool train_stage() {
        const int stage = state_.stage;
        const std::optional<double> target = target_loss(stage);
        const DataShard shard = group_ ? DataShard{group_->rank(), group_->world_size()} : DataShard{};
        BatchPrefetcher batches(data_->train(), spec_.batch_size, state_.data, 2, 4, shard);
        while (!budget_spent(stage, target)) {
            if (stop_requested()) {
                save_checkpoint(CheckpointKind::interval);
                return false;
            }
            train_step(batches);
            maybe_validate();
            maybe_save_checkpoint(stage, target);
        }
        return true;
    }

    void maybe_validate() {
        if (state_.step % spec_.validation_interval == 0) record_validation();
    }

    // Every checkpoint_interval steps; the stage's last step is saved by finish_stage() as its
    // stage-end checkpoint.
    void maybe_save_checkpoint(int stage, const std::optional<double>& target) {
        if (state_.step % spec_.checkpoint_interval == 0 && !budget_spent(stage, target)) save_checkpoint(CheckpointKind::interval);
    }

    void finish_stage() {
        if (!state_.valid_loss || last_validated_step_ != state_.step) record_validation();
        state_.stage_done = true;
        if (leader()) store_.end_stage(run_.id, state_.stage, state_.step);
        const bool last = state_.stage + 1 == static_cast<int>(spec_.pipeline.stages.size());
        save_checkpoint(last ? CheckpointKind::final : CheckpointKind::stage_end);
    }

    // --- One optimiser step

    void train_step(BatchPrefetcher& batches) {
        const auto start = Clock::now();
        precision_.compute()->train();
        zero_gradients();
        // Summed on the device and read once a step: one wait for the device, not one per micro-batch.
        at::Tensor loss_sum = at::zeros({}, at::TensorOptions().dtype(at::kDouble).device(device_));
        for (int64_t micro = 0; micro < spec_.gradient_accumulation; ++micro) {
            if (group_ && micro + 1 == spec_.gradient_accumulation) gradient_averaging().arm(micro > 0);
            const SpanBatch batch = batches.next();
            const TensorBatch tensors = to_tensors(batch, device_.is_cuda());
            const at::Tensor input_ids = tensors.input_ids.to(device_, true);
            const at::Tensor labels = tensors.labels.to(device_, true);
            at::Tensor loss = precision_.compute()->forward(input_ids, at::ones_like(input_ids), labels).loss;
            (loss / static_cast<double>(spec_.gradient_accumulation)).backward();
            loss_sum += loss.detach().to(at::kDouble);
            state_.data = batch.next;
        }
        double loss = loss_sum.item<double>() / static_cast<double>(spec_.gradient_accumulation);
        if (group_) {
            gradient_averaging().finish();  // into the fp32 masters' gradients
            loss = group_->sum({loss})[0] / group_->world_size();
        } else {
            precision_.gradients_to_masters(parameters_);
        }
        const double gradient_norm = clip_gradient_norm(parameters_, spec_.gradient_clip);
        const double lr = schedule_.rate(state_.schedule_step);
        if (std::isfinite(loss) && std::isfinite(gradient_norm)) {
            optimizer_->step(lr);
            precision_.masters_to_compute();
            state_.optimizer_steps = optimizer_->steps_taken();
        } else {
            skip_step(loss, gradient_norm);
        }
        count_step(start, loss, lr, gradient_norm);
    }

    // A step whose loss or gradient is not finite fails the run, or with on_nonfinite "skip" is
    // skipped with a warning, until skipped steps pass max_skipped_share: a run that skipped
    // most of its steps has not trained, whatever its status would say.
    void skip_step(double loss, double gradient_norm) {
        const int64_t step = state_.step + 1;
        const std::string what = "step " + std::to_string(step) + " (stage " + current_size() + "): the loss is " +
                                 std::to_string(loss) + " and the gradient norm " + std::to_string(gradient_norm);
        if (!spec_.skip_nonfinite_steps) throw TrainingFailure(what + "; no checkpoint was written after it");
        ++state_.skipped_steps;
        const std::string count = std::to_string(state_.skipped_steps) + " of " + std::to_string(step) + " steps skipped";
        if (state_.skipped_steps > allowed_skipped_steps(spec_, step)) {
            std::ostringstream share;
            share << spec_.max_skipped_share;
            throw TrainingFailure(what + "; " + count + ", more than max_skipped_share " + share.str() + " allows");
        }
        if (hooks_.warning && leader()) hooks_.warning(run_.name + ": " + what + "; skipped (" + count + ")");
    }

    // Each rank's gradient is the mean over its shard; their mean is the whole batch's. The
    // averaging hooks onto the parameters the backward pass computes, so a new compute model
    // (growth, loading, bf16 refresh) gets new hooks.
    OverlappedGradientAveraging& gradient_averaging() {
        if (!averaging_) {
            auto computed = precision_.compute()->named_parameters();
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
        for (auto& item : precision_.compute()->named_parameters()) {
            if (item.value().grad().defined()) item.value().mutable_grad().zero_();
        }
    }

    // --- Weights: fp32 masters (the optimiser's, the checkpoints', growth's) and the model the
    // steps compute with (MixedPrecision). New masters need new gradient-averaging hooks.

    T5Model& model() { return precision_.masters(); }
    const T5Model& model() const { return precision_.masters(); }

    void set_model(T5Model masters) {
        averaging_.reset();
        precision_.set_masters(std::move(masters));
    }

    void count_step(Clock::time_point start, double loss, double lr, double gradient_norm) {
        const T5Config& config = model()->config();
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
        report(RunPhase::training, loss, rows * (lengths.input_length + lengths.target_length) / seconds);
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
        precision_.compute()->eval();
        // In a data-parallel run each rank scores every world_size-th batch.
        const size_t first = group_ ? group_->rank() : 0, stride = group_ ? group_->world_size() : 1;
        double total = 0;
        for (size_t b = first; b < validation_.size(); b += stride) {
            const TensorBatch& batch = validation_[b];
            total += precision_.compute()->forward(batch.input_ids, at::ones_like(batch.input_ids), batch.labels).loss.item<double>();
        }
        if (group_) total = group_->sum({total})[0];
        return total / static_cast<double>(validation_.size());
    }

    void record_validation() {
        report(RunPhase::validating);
        state_.valid_loss = validate();
        last_validated_step_ = state_.step;
        MetricRow row = metric_row();
        row.valid_loss = state_.valid_loss;
        record(row);
    }

    // --- Growth between stages

    void grow_into(int stage) {
        report(RunPhase::growing);
        const auto start = Clock::now();
        const Transition& transition = spec_.pipeline.transitions[stage - 1];
        const GrowthPlan plan = plan_growth(model()->config(), stage_config(stage), transition.growth);
        const ProbeBatch probe = make_probe_batch(vocab_size_, spec_.seed);
        T5Model source = model();
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
        if (plan_->schedule_restarts_at(stage)) state_.schedule_step = 0;
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
        set_model(grown);
        new_optimizer();
        if (!state.empty()) optimizer_->load_state(state, steps);
        state_.optimizer_steps = optimizer_->steps_taken();
    }

    void new_optimizer() {
        parameters_.clear();
        for (const auto& item : model()->named_parameters()) parameters_.emplace_back(item.key(), item.value());
        optimizer_ = make_optimizer(spec_.optimizer, parameters_);
    }

    // --- Checkpoints (RunCheckpoints: the files, latest.json, the store's rows, pruning)

    fs::path run_dir() const { return fs::path(run_.directory); }

    void save_checkpoint(CheckpointKind kind) {
        report(RunPhase::checkpoint);
        if (!leader()) return;
        flush_metrics();
        checkpoints_.save(kind, state_.step, state_.stage, model(), *optimizer_, state_.to_json());
    }

    void restore_latest() {
        std::optional<SavedTraining> saved = checkpoints_.load_latest();
        if (!saved) {  // killed before its first checkpoint: start over
            if (leader()) store_.rewind_run(run_.id, 0, /*including_growth_at_step=*/true);
            state_.data = data_->train().start(spec_.seed);
            begin_first_stage();
            return;
        }
        state_ = TrainingState::from_json(saved->trainer_state, saved->trainer_state_path);
        if (state_.data.dataset != data_->train().fingerprint()) {
            throw std::runtime_error(saved->folder.string() + ": the checkpoint was made with other data (corpus, tokenizer "
                                     "or span settings changed since); the run cannot continue on this data");
        }
        saved->masters->to(device_);
        set_model(saved->masters);
        schedule_ = schedule_for(state_.stage);
        new_optimizer();
        optimizer_->load_state(saved->optimizer_state, state_.optimizer_steps);
        at::Generator generator = at::detail::getDefaultCPUGenerator();  // a handle to the default one
        generator.set_state(saved->random_state);
        // A growth that follows a stage end is replayed: drop what the killed attempt recorded.
        if (leader()) store_.rewind_run(run_.id, state_.step, /*including_growth_at_step=*/state_.stage_done);
        last_validated_step_ = state_.step;
        check_ranks_identical("after loading " + saved->folder.string());
        seed_dropout_for_rank();
    }

    RunStatus pause() {
        flush_metrics();
        return RunStatus::paused;
    }

    // --- Progress

    std::string current_size() const { return spec_.pipeline.stages[state_.stage].size; }

    void report(RunPhase phase, double loss = 0, double tokens_per_s = 0) {
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

    double stage_eta() const {
        return plan_->stage_eta(state_.stage, stage_progress(), step_seconds_);
    }

    double run_eta(double stage_eta) const {
        const SpanLengths& l = data_->train().lengths();
        std::vector<double> flops_per_step;
        for (int s = 0; s < plan_->stages(); ++s) {
            flops_per_step.push_back(training_flops_per_step(stage_config(s), 1, l.input_length, l.target_length));
        }
        return plan_->run_eta(state_.stage, stage_eta, step_seconds_, flops_per_step);
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
    std::optional<StagePlan> plan_;  // once the data says how many steps an epoch has
    MixedPrecision precision_;
    RunCheckpoints checkpoints_;
    NamedParameters parameters_;
    std::unique_ptr<Optimizer> optimizer_;
    ScheduleSettings schedule_;
    int64_t last_validated_step_ = -1;
    double step_seconds_ = 0;
    Communicator* group_;       // null: a single process
    std::unique_ptr<OverlappedGradientAveraging> averaging_;  // with group_, once training starts
    bool stop_agreed_ = false;  // some rank was asked to stop (agreed at the last step)
};

// Runs the trainer, keeping the run's status in the store whatever happens (rank 0 of a
// data-parallel run keeps it).
RunStatus execute(const ExperimentSpec& spec, Store& store, const RunRecord& run, const TrainerHooks& hooks, bool resume,
                  Communicator* group) {
    const bool leader = !group || group->leader();
    auto set_status = [&](RunStatus status, const std::string& error = "") {
        if (leader) store.set_run_status(run.id, status, error);
    };
    set_status(RunStatus::running);
    try {
        PipelineTrainer trainer(spec, store, run, hooks, group);
        const RunStatus status = trainer.run(resume);
        set_status(status);
        return status;
    } catch (const c10::Error& error) {
        const std::string message = error.what_without_backtrace();
        const bool memory = message.find("out of memory") != std::string::npos;
        set_status(RunStatus::failed, message);
        if (memory) throw TrainingFailure("out of memory with batch " + std::to_string(spec.batch_size) + " x " +
                                          std::to_string(spec.data.span.input_length) + " tokens: " + message);
        throw TrainingFailure(message);
    } catch (const std::exception& error) {
        set_status(RunStatus::failed, error.what());
        throw;
    }
}

}  // namespace

RunStatus run_experiment(const ExperimentSpec& spec, Store& store, const RunOptions& options, const TrainerHooks& hooks,
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
    check_reference_runs(spec, store.run_names(), store.path());
    const RunLock lock = claim_and_create_run(spec, store, options, run);
    write_file_atomically(run.directory + "/experiment.json",
                          nlohmann::json{{"source", spec.source}, {"folder", fs::absolute(spec.source).parent_path().string()},
                                         {"experiment", spec.json}}
                                  .dump(1) + "\n");
    if (run_id) *run_id = run.id;
    if (options.communicator) options.communicator->broadcast_text("run", run.name);
    return execute(spec, store, run, hooks, /*resume=*/false, options.communicator);
}

RunStatus resume_run(const std::string& name, Store& store, const TrainerHooks& hooks, const RunOptions& options) {
    const auto found = store.find_run(name);
    if (!found) throw std::runtime_error(store.path() + ": no run named '" + name + "'");
    const std::optional<RunLock> lock = take_run_lock(*found, options.communicator);
    RunRecord run = *store.find_run(found->name);  // as its last owner left it
    if (run.status == RunStatus::done) throw std::runtime_error("run '" + run.name + "' is finished; nothing to resume");
    const std::string saved = run.directory + "/experiment.json";
    const nlohmann::json record = read_json_file(saved);
    const ExperimentSpec spec = ExperimentSpec::from_json(record.at("experiment"), record.at("source").get<std::string>(),
                                                          record.at("folder").get<std::string>());
    apply_runtime(spec, options, run);
    return execute(spec, store, run, hooks, /*resume=*/true, options.communicator);
}

}  // namespace gs
