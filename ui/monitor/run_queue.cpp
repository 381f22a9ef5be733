#include "ui/monitor/run_queue.h"

#include <QTimer>

#include <chrono>

#include "core/store/store.h"
#include "core/train/trainer.h"
#include "ui/monitor/status_words.h"

#include <nlohmann/json.hpp>

namespace gs::ui {

RunQueue::RunQueue(QString databasePath, QObject* parent) : QObject(parent), database_(std::move(databasePath)) {
    qRegisterMetaType<gs::ui::RunSnapshot>();
    timer_ = new QTimer(this);
    timer_->setInterval(250);
    connect(timer_, &QTimer::timeout, this, &RunQueue::publish);
}

RunQueue::~RunQueue() {
    stop_ = true;
    if (worker_.joinable()) worker_.join();
}

void RunQueue::enqueue(const Job& job) {
    jobs_.push_back(job);
    if (!running_) startNext();
}

void RunQueue::enqueueExperiment(const QString& experimentPath) {
    Job job;
    job.path = experimentPath;
    enqueue(job);
}

void RunQueue::enqueueExperimentJson(const QString& json, const QString& folder, const QString& label) {
    Job job;
    job.json = json, job.folder = folder, job.label = label;
    enqueue(job);
}

void RunQueue::enqueueResume(const QString& runName) {
    Job job;
    job.resume = runName;
    enqueue(job);
}

void RunQueue::enqueueFinetune(const FinetuneJob& finetune) {
    Job job;
    job.label = finetune.label;
    job.finetune = finetune;
    enqueue(job);
}

void RunQueue::pauseCurrent() { stop_ = true; }

void RunQueue::cancelCurrent() {
    cancel_ = true;
    stop_ = true;
}

bool RunQueue::busy() const { return running_; }

QStringList RunQueue::queued() const {
    QStringList names;
    for (const Job& job : jobs_) names << jobName(job);
    return names;
}

QString stateText(const RunSnapshot& snapshot) {
    return snapshot.preparing ? RunQueue::tr("preparing") : runStatusText(snapshot.state);
}

RunSnapshot RunQueue::current() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return status_;
}

QString RunQueue::jobName(const Job& job) {
    if (!job.resume.isEmpty()) return job.resume;
    return job.path.isEmpty() ? job.label : job.path;
}

ExperimentSpec RunQueue::specOf(const Job& job) {
    if (!job.path.isEmpty()) return ExperimentSpec::load(job.path.toStdString());
    return ExperimentSpec::from_json(nlohmann::json::parse(job.json.toStdString()), job.label.toStdString(),
                                     job.folder.toStdString());
}

void RunQueue::startNext() {
    if (worker_.joinable()) worker_.join();
    if (jobs_.empty()) {
        running_ = false;
        timer_->stop();
        return;
    }
    const Job job = jobs_.front();
    jobs_.pop_front();
    running_ = true;
    stop_ = false;
    cancel_ = false;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        status_ = RunSnapshot{};
        status_.job = jobName(job);
        status_.run = job.resume;
        status_.state = RunStatus::running;
        status_.preparing = true;
        status_.finetune = job.finetune.has_value();
        status_dirty_ = true;
        finished_ = false;
    }
    publish();  // the panel shows the new job at once, not a timer tick later
    timer_->start();
    worker_ = std::thread([this, job] { work(job); });
}

// The worker thread: it touches no widget and no QObject, only the shared status.
void RunQueue::work(const Job& job) {
    RunStatus state = RunStatus::failed;
    QString error;
    try {
        state = job.finetune ? finetune(*job.finetune) : train(job);
    } catch (const std::exception& e) {
        error = QString::fromUtf8(e.what());
    }
    std::lock_guard<std::mutex> lock(mutex_);
    status_.state = state;
    status_.preparing = false;
    status_.error = error;
    status_dirty_ = true;
    finished_ = true;
}

// "preparing data: reading 31 %", or "preparing data: training the tokenizer, 0:40 so far"
// (sentencepiece reports nothing while it trains: its share is not known).
QString RunQueue::describeDataProgress(const Progress& p) {
    if (p.unit != "seconds" && p.total > 0) {
        return tr("preparing data: %1 %2 %").arg(QString::fromStdString(p.stage)).arg(100.0 * p.done / p.total, 0, 'f', 0);
    }
    const QString stage = p.stage == "training" ? tr("training the tokenizer") : QString::fromStdString(p.stage);
    return tr("preparing data: %1, %2 s so far").arg(stage).arg(p.elapsed_s, 0, 'f', 0);
}

RunStatus RunQueue::train(const Job& job) {
    TrainerHooks hooks;
    hooks.stop_requested = [this] { return stop_.load(); };
    hooks.progress = [this](const RunProgress& p) {
        std::lock_guard<std::mutex> lock(mutex_);
        status_.run = QString::fromStdString(p.run);
        status_.state = RunStatus::running;
        status_.preparing = p.phase == RunPhase::preparing_data;
        status_.phase = runPhaseText(p.phase);
        status_.stage = p.stage, status_.stages = p.stages, status_.size = QString::fromStdString(p.size);
        status_.step = p.step, status_.stageStep = p.stage_step, status_.stageSteps = p.stage_steps;
        if (p.phase == RunPhase::training) status_.trainLoss = p.train_loss, status_.tokensPerSecond = p.tokens_per_s;
        status_.stageEtaSeconds = p.stage_eta_s, status_.runEtaSeconds = p.run_eta_s;
        status_.device = QString::fromStdString(p.device), status_.memoryBytes = p.memory_bytes;
        status_dirty_ = true;
    };
    hooks.warning = [this](const std::string& text) {
        std::lock_guard<std::mutex> lock(mutex_);
        status_.warning = QString::fromStdString(text);
        status_dirty_ = true;
    };
    hooks.data_progress = [this](const Progress& p) {
        std::lock_guard<std::mutex> lock(mutex_);
        status_.phase = describeDataProgress(p);
        status_.stageEtaSeconds = status_.runEtaSeconds = p.eta_s;
        status_dirty_ = true;
        return true;  // a pause is taken at the first step, once the data is ready
    };
    Store store(database_.toStdString());
    const RunStatus result = !job.resume.isEmpty() ? resume_run(job.resume.toStdString(), store, hooks)
                                                   : run_experiment(specOf(job), store, {}, hooks);
    if (result == RunStatus::paused && cancel_) {
        const auto run = store.find_run(current().run.toStdString());
        if (run) store.set_run_status(run->id, RunStatus::cancelled);
        return RunStatus::cancelled;
    }
    return result;
}

namespace {

QString describe_scores(const std::map<std::string, double>& metrics) {
    QStringList parts;
    for (const auto& [name, value] : metrics) parts << QString("%1 %2").arg(QString::fromStdString(name)).arg(value, 0, 'f', 2);
    return parts.join(", ");
}

}  // namespace

// Resolves the model, fine-tunes, and records the scores against the model's run (a checkpoint
// folder outside the workspace has no row in the results table: its scores are only shown).
RunStatus RunQueue::finetune(const FinetuneJob& job) {
    Store store(database_.toStdString());
    const ResolvedModel model = resolve_finetune_model(store, job.model.toStdString());
    FinetuneRequest request = job.request;
    request.model_dir = model.model_dir;
    using Clock = std::chrono::steady_clock;
    Clock::time_point training_start;
    int64_t first_step = -1;
    auto progress = [&](const FinetuneProgress& p) {
        if (p.phase == "training" && first_step < 0) first_step = p.step, training_start = Clock::now();
        const double seconds = std::chrono::duration<double>(Clock::now() - training_start).count();
        std::lock_guard<std::mutex> lock(mutex_);
        status_.state = RunStatus::running;
        status_.preparing = p.phase == "loading";
        status_.phase = QString::fromStdString(p.phase);
        // Training counts optimiser steps, scoring the examples scored; loading counts nothing.
        if (p.total_steps > 0) status_.stageStep = p.step, status_.stageSteps = p.total_steps, status_.step = p.step;
        if (p.phase == "training") status_.trainLoss = p.loss, status_.examplesPerSecond = p.examples_per_second;
        const bool measured = p.phase == "training" && p.step > first_step && p.total_steps > 0;
        status_.stageEtaSeconds = measured ? seconds / (p.step - first_step) * (p.total_steps - p.step) : -1;
        status_dirty_ = true;
    };
    FinetuneResult result;
    try {
        result = run_finetune(request, progress, &stop_);
    } catch (const std::exception&) {
        if (stop_) return RunStatus::cancelled;
        throw;
    }
    if (model.run_id) record_finetune_result(store, *model.run_id, request, result);
    std::lock_guard<std::mutex> lock(mutex_);
    status_.scores = describe_scores(result.metrics);
    if (!model.run_id) status_.scores += tr(" (not recorded: the model is not a run of this workspace)");
    return RunStatus::done;
}

// On the GUI thread, from the timer: at most four updates a second, whatever the step rate.
void RunQueue::publish() {
    RunSnapshot status;
    bool dirty, ended;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        status = status_;
        dirty = status_dirty_;
        ended = finished_;
        status_dirty_ = false;
    }
    if (dirty) emit statusChanged(status);
    if (ended) {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            finished_ = false;
        }
        if (worker_.joinable()) worker_.join();
        running_ = false;
        emit finished(status);
        startNext();
    }
}

}  // namespace gs::ui
