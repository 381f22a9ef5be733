// The workspace's cluster jobs (growthstudio-cli submit): each job's Slurm id, run, state
// (waiting for Slurm, queued, running, failed, merged) and step, read from the job's own
// database. Finished jobs are merged into the workspace on every refresh, so their curves
// appear beside the local runs. Double-clicking a job asks for its run's curve.
#pragma once

#include <QWidget>

#include <string>

class QLabel;
class QPushButton;
class QTableWidget;
class QTimer;

namespace gs::ui {

class ClusterJobsView : public QWidget {
    Q_OBJECT
public:
    explicit ClusterJobsView(QWidget* parent = nullptr);

    // Shows the jobs of the workspace database and merges the finished ones; refreshed every
    // 30 s and by the Sync button.
    void load(const std::string& database_path);
    void refresh();

    QTableWidget* table() const { return table_; }
    QPushButton* syncButton() const { return sync_; }

signals:
    // Finished jobs entered the workspace: the curves and results need reading again.
    void runsMerged();
    // The user double-clicked the job of `run`: show its curve.
    void runActivated(const QString& run);

private:
    std::string database_path_;
    QTableWidget* table_ = nullptr;
    QPushButton* sync_ = nullptr;
    QLabel* summary_ = nullptr;
    QTimer* timer_ = nullptr;
};

}  // namespace gs::ui
