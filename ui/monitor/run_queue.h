// Runs experiments one after another on a background thread, so that the GUI never waits on
// training, checkpoints or database writes. Progress crosses to the GUI thread in batches (a few
// times a second), never once per step. Pause checkpoints the run and stops it (resume continues
// it); cancel does the same and marks it cancelled.
#pragma once

#include <QObject>
#include <QString>
#include <QStringList>

#include <atomic>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

class QTimer;

namespace gs {
struct ExperimentSpec;
}

namespace gs::ui {

struct RunStatus {
    QString job;          // the experiment file, or the run name for a resumed run
    QString run;
    QString state;        // queued, preparing, running, paused, cancelled, failed, done
    QString phase;
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
};

class RunQueue : public QObject {
    Q_OBJECT
public:
    explicit RunQueue(QString databasePath, QObject* parent = nullptr);
    ~RunQueue() override;  // stops the current run at its next step (checkpointed), drops the rest

    void enqueueExperiment(const QString& experimentPath);
    // An experiment not saved to a file (the canvas's): relative paths resolve against `folder`.
    void enqueueExperimentJson(const QString& json, const QString& folder, const QString& label);
    void enqueueResume(const QString& runName);
    void pauseCurrent();
    void cancelCurrent();

    bool busy() const;
    QStringList queued() const;
    RunStatus current() const;

signals:
    void statusChanged(const gs::ui::RunStatus& status);  // a few times a second while running
    void finished(const gs::ui::RunStatus& status);        // done, paused, cancelled or failed

private:
    struct Job {
        QString path;    // experiment file, or
        QString resume;  // run name, or
        QString json;    // an experiment's text with the folder its paths are relative to
        QString folder;
        QString label;
    };

    static QString jobName(const Job& job);
    static ExperimentSpec specOf(const Job& job);
    void startNext();
    void work(const Job& job);
    void publish();

    QString database_;
    std::deque<Job> jobs_;
    mutable std::mutex mutex_;
    RunStatus status_;
    bool status_dirty_ = false;
    bool finished_ = false;
    std::atomic<bool> stop_{false};
    std::atomic<bool> cancel_{false};
    std::thread worker_;
    bool running_ = false;
    QTimer* timer_ = nullptr;
};

}  // namespace gs::ui

Q_DECLARE_METATYPE(gs::ui::RunStatus)
