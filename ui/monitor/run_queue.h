// Runs experiments and fine-tunes one after another on a background thread, so that the GUI never
// waits on training, checkpoints or database writes, and two jobs never compete for the device.
// Progress crosses to the GUI thread in batches (a few times a second), never once per step. Pause
// checkpoints a run and stops it (resume continues it); cancel does the same and marks it
// cancelled. A fine-tune cannot pause: pause and cancel both stop it at its next step, and its
// scores are recorded only when it finishes.
#pragma once

#include <QObject>
#include <QString>
#include <QStringList>

#include <atomic>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "core/data/progress.h"
#include "core/finetune/finetune.h"
#include "core/store/store_enums.h"

class QTimer;

namespace gs {
struct ExperimentSpec;
}

namespace gs::ui {

// A fine-tune waiting in the queue. `model` is a run of the workspace (its final checkpoint) or a
// checkpoint folder, resolved when the job starts; request.model_dir is filled in then.
struct FinetuneJob {
    QString model;
    QString label;  // what the queue shows, "S_a_B · KLUE-NLI"
    FinetuneRequest request;
};

struct RunSnapshot {
    QString job;          // the experiment file, the run name for a resumed run, a fine-tune's label
    QString run;
    // Queued, then running (while `preparing` its data or model first), then done, paused,
    // cancelled or failed.
    RunStatus state = RunStatus::queued;
    bool preparing = false;
    QString phase;        // as shown: the run's phase (runPhaseText), a fine-tune's, the data's progress
    int stage = 0;
    int stages = 0;
    QString size;
    qint64 step = 0;
    qint64 stageStep = 0;
    qint64 stageSteps = -1;
    double trainLoss = 0;
    double tokensPerSecond = 0;
    double stageEtaSeconds = -1;
    double runEtaSeconds = -1;
    QString device;
    qint64 memoryBytes = 0;
    QString error;
    QString warning;      // the latest warning of the run ("… skipped (2 of 40 steps skipped)")
    // A fine-tune has one stage: its optimiser steps (or, while scoring, the examples scored) are
    // stageStep of stageSteps, its training ETA the stage's, its loss trainLoss.
    bool finetune = false;
    double examplesPerSecond = 0;
    QString scores;  // a finished fine-tune's metrics, "accuracy 41.20"
};

// The snapshot's state as shown: "preparing" while it prepares, else its status's word.
QString stateText(const RunSnapshot& snapshot);

class RunQueue : public QObject {
    Q_OBJECT
public:
    explicit RunQueue(QString databasePath, QObject* parent = nullptr);
    ~RunQueue() override;  // stops the current run at its next step (checkpointed), drops the rest

    void enqueueExperiment(const QString& experimentPath);
    // An experiment not saved to a file (the canvas's): relative paths resolve against `folder`.
    void enqueueExperimentJson(const QString& json, const QString& folder, const QString& label);
    void enqueueResume(const QString& runName);
    void enqueueFinetune(const FinetuneJob& job);
    void pauseCurrent();
    void cancelCurrent();

    bool busy() const;
    QStringList queued() const;
    RunSnapshot current() const;
    // The phase shown while a run prepares its corpus: "preparing data: reading 31 %".
    static QString describeDataProgress(const Progress& p);

signals:
    void statusChanged(const gs::ui::RunSnapshot& status);  // a few times a second while running
    void finished(const gs::ui::RunSnapshot& status);        // done, paused, cancelled or failed

private:
    struct Job {
        QString path;    // experiment file, or
        QString resume;  // run name, or
        QString json;    // an experiment's text with the folder its paths are relative to
        QString folder;
        QString label;
        std::optional<FinetuneJob> finetune;
    };

    void enqueue(const Job& job);
    static QString jobName(const Job& job);
    static ExperimentSpec specOf(const Job& job);
    void startNext();
    void work(const Job& job);
    RunStatus train(const Job& job);
    RunStatus finetune(const FinetuneJob& job);
    void publish();

    QString database_;
    std::deque<Job> jobs_;
    mutable std::mutex mutex_;
    RunSnapshot status_;
    bool status_dirty_ = false;
    bool finished_ = false;
    std::atomic<bool> stop_{false};
    std::atomic<bool> cancel_{false};
    std::thread worker_;
    bool running_ = false;
    QTimer* timer_ = nullptr;
};

}  // namespace gs::ui

Q_DECLARE_METATYPE(gs::ui::RunSnapshot)
