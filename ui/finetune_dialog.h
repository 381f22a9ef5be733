// Fine-tunes finished models on the downstream tasks: the user checks models (runs of the
// workspace with a final checkpoint, or checkpoint folders) and tasks, gives each task its data
// files (remembered between sessions) and, if need be, other settings than the task's defaults;
// the dialog then makes one queue job per model and task. It runs nothing itself.
#pragma once

#include <QDialog>

#include <map>
#include <utility>
#include <vector>

#include "ui/monitor/run_queue.h"

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QListWidget;
class QListWidgetItem;
class QPushButton;
class QSpinBox;
class QStackedWidget;

namespace gs::ui {

class FinetuneDialog : public QDialog {
    Q_OBJECT
public:
    FinetuneDialog(QString databasePath, QWidget* parent = nullptr);

    // The jobs the form describes, every checked model with every checked task (empty while
    // problem() is not).
    std::vector<FinetuneJob> jobs() const;
    // Why the form cannot be queued yet ("" when it can).
    QString problem() const;

    // For tests and scripted use.
    void addModelFolder(const QString& path);
    void setModelChecked(const QString& runOrFolder, bool checked);
    void setTaskChecked(DownstreamTask task, bool checked);
    void showTask(DownstreamTask task);
    void setOutputFolder(const QString& path);
    FinetuneSettings settings(DownstreamTask task) const;
    void setSettings(DownstreamTask task, const FinetuneSettings& settings);
    QListWidget* models() const { return models_; }
    QListWidget* tasks() const { return tasks_; }
    QLineEdit* trainEdit(DownstreamTask task) const { return pages_.at(task).train; }
    QLineEdit* devEdit(DownstreamTask task) const { return pages_.at(task).dev; }
    QPushButton* defaultsButton(DownstreamTask task) const { return pages_.at(task).defaults; }
    QSpinBox* epochsBox(DownstreamTask task) const { return pages_.at(task).epochs; }
    QDoubleSpinBox* learningRateBox(DownstreamTask task) const { return pages_.at(task).learning_rate; }
    QComboBox* deviceBox() const { return device_; }
    QSpinBox* threadsBox() const { return threads_; }
    QPushButton* queueButton() const { return queue_; }
    QLabel* problemLabel() const { return problem_; }

private:
    // One task's files and settings.
    struct TaskPage {
        QLineEdit* train = nullptr;
        QLineEdit* dev = nullptr;
        QSpinBox *epochs = nullptr, *batch = nullptr, *max_input = nullptr, *max_target = nullptr, *doc_stride = nullptr,
                 *max_answer = nullptr, *beams = nullptr, *max_train = nullptr, *max_eval = nullptr, *seed = nullptr;
        QDoubleSpinBox *learning_rate = nullptr, *weight_decay = nullptr, *warmup = nullptr, *dev_fraction = nullptr;
        QComboBox* rouge_tokens = nullptr;
        QCheckBox *score_before = nullptr, *save_weights = nullptr;
        QPushButton* defaults = nullptr;
    };

    QWidget* buildModelsBox();
    QWidget* buildTasksBox();
    QWidget* buildTaskPage(DownstreamTask task);
    QWidget* buildFileRow(QLineEdit* edit, bool folders);
    void loadModels();
    void restoreRemembered();
    void remember() const;
    void updateSummary();
    void queueJobs();
    std::vector<std::pair<QString, QString>> checkedModels() const;  // (run or folder, label)
    std::vector<DownstreamTask> checkedTasks() const;
    QListWidgetItem* taskItem(DownstreamTask task) const;

    QString database_;
    QString stamp_;  // when the dialog opened, in the jobs' output folder names
    QListWidget* models_ = nullptr;
    QListWidget* tasks_ = nullptr;
    QStackedWidget* task_pages_ = nullptr;
    std::map<DownstreamTask, TaskPage> pages_;
    QLineEdit* output_ = nullptr;
    QComboBox* device_ = nullptr;
    QSpinBox* threads_ = nullptr;
    QLabel* summary_ = nullptr;
    QLabel* problem_ = nullptr;
    QPushButton* queue_ = nullptr;
};

}  // namespace gs::ui
