#include "ui/monitor/run_panel.h"

#include <QFileDialog>
#include <QGridLayout>
#include <QLabel>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QVBoxLayout>

#include "core/store/store.h"
#include "core/train/run_lock.h"

namespace gs::ui {

QString formatDuration(double seconds) {
    if (seconds < 0) return QObject::tr("unknown");
    const auto s = static_cast<qint64>(seconds);
    return QString("%1:%2:%3").arg(s / 3600).arg(s / 60 % 60, 2, 10, QChar('0')).arg(s % 60, 2, 10, QChar('0'));
}

RunPanel::RunPanel(RunQueue* queue, QString databasePath, QWidget* parent)
    : QWidget(parent), queue_(queue), database_(std::move(databasePath)) {
    state_ = new QLabel(tr("No run in progress"), this);
    QFont bold = state_->font();
    bold.setBold(true);
    state_->setFont(bold);
    details_ = new QLabel(this);
    details_->setWordWrap(true);
    progress_ = new QProgressBar(this);
    progress_->setRange(0, 1000);
    queued_ = new QListWidget(this);
    queued_->setMaximumHeight(80);
    resumable_ = new QListWidget(this);
    resumable_->setMaximumHeight(100);
    error_ = new QPlainTextEdit(this);
    error_->setReadOnly(true);
    error_->setMaximumHeight(70);
    error_->setPlaceholderText(tr("The last error or warning appears here in full."));

    auto* run = new QPushButton(tr("Run experiment…"), this);
    pause_ = new QPushButton(tr("Pause"), this);
    cancel_ = new QPushButton(tr("Cancel"), this);
    resume_ = new QPushButton(tr("Resume selected"), this);
    finetune_ = new QPushButton(tr("Fine-tune…"), this);
    finetune_->setToolTip(tr("Fine-tune finished models on the downstream tasks"));
    pause_->setToolTip(tr("Checkpoint the run and stop it; Resume continues it"));
    connect(run, &QPushButton::clicked, this, &RunPanel::chooseExperiment);
    connect(pause_, &QPushButton::clicked, queue_, &RunQueue::pauseCurrent);
    connect(cancel_, &QPushButton::clicked, queue_, &RunQueue::cancelCurrent);
    connect(resume_, &QPushButton::clicked, this, &RunPanel::resumeSelected);
    connect(finetune_, &QPushButton::clicked, this, &RunPanel::finetuneRequested);
    connect(queue_, &RunQueue::statusChanged, this, &RunPanel::show);
    connect(queue_, &RunQueue::finished, this, [this](const RunSnapshot& status) {
        show(status);
        refreshResumable();
    });

    auto* buttons = new QGridLayout;
    buttons->addWidget(run, 0, 0);
    buttons->addWidget(pause_, 0, 1);
    buttons->addWidget(cancel_, 0, 2);
    buttons->addWidget(finetune_, 1, 0);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(buttons);
    layout->addWidget(state_);
    layout->addWidget(progress_);
    layout->addWidget(details_);
    layout->addWidget(error_);
    layout->addWidget(new QLabel(tr("Queued"), this));
    layout->addWidget(queued_);
    layout->addWidget(new QLabel(tr("Paused, killed or failed runs"), this));
    layout->addWidget(resumable_);
    layout->addWidget(resume_);
    layout->addStretch(1);
    pause_->setEnabled(false);
    cancel_->setEnabled(false);
    refreshResumable();
}

void RunPanel::runExperiment(const QString& path) {
    queue_->enqueueExperiment(path);
    queued_->clear();
    queued_->addItems(queue_->queued());
}

void RunPanel::chooseExperiment() {
    const QString path = QFileDialog::getOpenFileName(this, tr("Run an experiment"), QString(), tr("Experiments (*.json)"));
    if (!path.isEmpty()) runExperiment(path);
}

// A run another process trains (it took the run since the list was drawn, or it is shown
// busy) is refused here with core's message; the queue would refuse it too, later.
void RunPanel::resumeSelected() {
    if (!resumable_->currentItem()) return;
    const QString name = resumable_->currentItem()->data(Qt::UserRole).toString();
    std::optional<RunRecord> run;
    try {
        run = Store(database_.toStdString(), SqlAccess::read_only).find_run(name.toStdString());
    } catch (const std::exception& error) {
        showWorkspaceProblem(error);
        return;
    }
    if (const auto owner = run ? run_owner(run->directory) : std::nullopt) {
        error_->setPlainText(QString::fromStdString(run_busy_message(run->name, *owner)));
        refreshResumable();
        return;
    }
    queue_->enqueueResume(name);
    queued_->clear();
    queued_->addItems(queue_->queued());
}

// Runs that can continue: paused, failed, or interrupted (marked running by a process that is
// gone); and, shown busy, runs another process trains. A workspace that cannot be read leaves the
// list as it was and says why.
void RunPanel::refreshResumable() {
    std::vector<RunSummary> summaries;
    try {
        summaries = Store(database_.toStdString()).summaries();
    } catch (const std::exception& error) {
        showWorkspaceProblem(error);
        return;
    }
    resumable_->clear();
    const QString current = queue_->busy() ? queue_->current().run : QString();
    for (const auto& summary : summaries) {
        const QString name = QString::fromStdString(summary.run.name);
        if (name == current) continue;  // this window's own run
        const auto owner = run_owner(summary.run.directory);
        const RunStatus status = live_run_status(summary.run);
        const bool resumable = status == RunStatus::paused || status == RunStatus::failed || status == RunStatus::interrupted;
        if (!owner && !resumable) continue;
        auto* item = new QListWidgetItem(owner ? tr("%1 — busy: %2").arg(name, QString::fromStdString(describe_owner(*owner)))
                                               : name,
                                         resumable_);
        item->setData(Qt::UserRole, name);
    }
}

void RunPanel::showWorkspaceProblem(const std::exception& error) {
    error_->setPlainText(tr("The workspace cannot be read: %1").arg(QString::fromUtf8(error.what())));
}

void RunPanel::show(const RunSnapshot& s) {
    const bool active = s.state == RunStatus::running;  // preparing too
    pause_->setEnabled(active && !s.finetune);
    cancel_->setEnabled(active);
    state_->setText(tr("%1 — %2").arg(s.run.isEmpty() ? s.job : s.run, stateText(s)));
    if (s.finetune) {
        showFinetune(s);
    } else {
        showTraining(s);
    }
    if (!s.error.isEmpty()) {
        error_->setPlainText(s.error);
    } else if (!s.warning.isEmpty()) {
        error_->setPlainText(tr("Warning: %1").arg(s.warning));
    }
    queued_->clear();
    queued_->addItems(queue_->queued());
    emit runChanged();
}

void RunPanel::showTraining(const RunSnapshot& s) {
    if (s.stageSteps > 0) {
        progress_->setValue(static_cast<int>(1000.0 * s.stageStep / s.stageSteps));
        progress_->setFormat(tr("stage %1/%2 %3: step %4 of %5").arg(s.stage + 1).arg(s.stages).arg(s.size).arg(s.stageStep).arg(s.stageSteps));
    } else {
        progress_->setValue(s.state == RunStatus::done ? 1000 : 0);
        progress_->setFormat(tr("stage %1/%2 %3: step %4").arg(s.stage + 1).arg(s.stages).arg(s.size).arg(s.stageStep));
    }
    details_->setText(tr("%1 · step %2 · loss %3 · %4 tokens/s · ETA stage %5, run %6 · %7, %8 GB in use")
                          .arg(s.phase)
                          .arg(s.step)
                          .arg(s.trainLoss, 0, 'f', 4)
                          .arg(s.tokensPerSecond, 0, 'f', 0)
                          .arg(formatDuration(s.stageEtaSeconds), formatDuration(s.runEtaSeconds))
                          .arg(s.device.isEmpty() ? tr("device") : s.device)
                          .arg(s.memoryBytes / 1e9, 0, 'f', 2));
}

// A fine-tune's optimiser steps, or the examples scored so far, then (once done) its scores.
void RunPanel::showFinetune(const RunSnapshot& s) {
    const bool active = s.state == RunStatus::running;  // preparing too
    const bool done = s.state == RunStatus::done;
    progress_->setValue(done ? 1000 : active && s.stageSteps > 0 ? static_cast<int>(1000.0 * s.stageStep / s.stageSteps) : 0);
    if (!active) {
        progress_->setFormat(stateText(s));
    } else if (s.phase == "training") {
        progress_->setFormat(tr("training: step %1 of %2").arg(s.stageStep).arg(s.stageSteps));
    } else {
        progress_->setFormat(tr("%1: %2 of %3 scored").arg(s.phase).arg(s.stageStep).arg(s.stageSteps));
    }
    if (done) {
        details_->setText(tr("Scores: %1").arg(s.scores));
        return;
    }
    details_->setText(tr("%1 · loss %2 · %3 examples/s · ETA %4")
                          .arg(s.phase)
                          .arg(s.trainLoss, 0, 'f', 4)
                          .arg(s.examplesPerSecond, 0, 'f', 1)
                          .arg(formatDuration(s.stageEtaSeconds)));
}

}  // namespace gs::ui
