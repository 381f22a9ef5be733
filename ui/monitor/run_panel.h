// The run monitor: the run in progress (state, stage, step, progress with ETA for the stage and
// the whole pipeline, tokens/s, the last error in full) or the fine-tune in progress (phase,
// step of total, loss, ETA, then its scores), the queue behind it, and the controls: run an
// experiment file, fine-tune finished models, pause, cancel, resume a paused, killed or crashed run.
#pragma once

#include <QWidget>

#include <exception>

#include "ui/monitor/run_queue.h"

class QLabel;
class QListWidget;
class QProgressBar;
class QPushButton;
class QPlainTextEdit;

namespace gs::ui {

class RunPanel : public QWidget {
    Q_OBJECT
public:
    RunPanel(RunQueue* queue, QString databasePath, QWidget* parent = nullptr);

    void runExperiment(const QString& path);
    void refreshResumable();

    QLabel* stateLabel() const { return state_; }
    QProgressBar* progress() const { return progress_; }
    QPushButton* pauseButton() const { return pause_; }
    QPushButton* cancelButton() const { return cancel_; }
    QPushButton* resumeButton() const { return resume_; }
    QPushButton* finetuneButton() const { return finetune_; }
    QLabel* detailsLabel() const { return details_; }
    QListWidget* resumable() const { return resumable_; }
    QPlainTextEdit* errorView() const { return error_; }

signals:
    void runChanged();  // a run started, progressed or ended: views of the store may reload
    void finetuneRequested();

private:
    void show(const RunSnapshot& status);
    void showTraining(const RunSnapshot& status);
    void showFinetune(const RunSnapshot& status);
    void chooseExperiment();
    void resumeSelected();
    void showWorkspaceProblem(const std::exception& error);  // in the error view, in full

    RunQueue* queue_;
    QString database_;
    QLabel* state_ = nullptr;
    QLabel* details_ = nullptr;
    QProgressBar* progress_ = nullptr;
    QListWidget* queued_ = nullptr;
    QListWidget* resumable_ = nullptr;
    QPushButton* pause_ = nullptr;
    QPushButton* cancel_ = nullptr;
    QPushButton* resume_ = nullptr;
    QPushButton* finetune_ = nullptr;
    QPlainTextEdit* error_ = nullptr;
};

QString formatDuration(double seconds);

}  // namespace gs::ui
