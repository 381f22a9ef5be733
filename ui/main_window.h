// The application window.
#pragma once

#include <QMainWindow>

class QDockWidget;

namespace gs::ui {

class ClusterJobsView;
class CurvesView;
class FinetuneDialog;
class PipelineCanvas;
class ResultsView;
class RunPanel;
class RunQueue;
class SystemPanel;
struct RunSnapshot;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    // `databasePath`: the workspace database ("" : the default one in the user's data folder).
    explicit MainWindow(QWidget* parent = nullptr, const QString& databasePath = QString());

    SystemPanel* systemPanel() const { return system_panel_; }
    PipelineCanvas* canvas() const { return canvas_; }
    RunQueue* runQueue() const { return queue_; }
    RunPanel* runPanel() const { return run_panel_; }
    CurvesView* curvesView() const { return curves_; }
    ResultsView* resultsView() const { return results_; }
    ClusterJobsView* clusterJobsView() const { return cluster_jobs_; }
    const QString& databasePath() const { return database_; }
    // Opens the fine-tune dialog; what it queues goes into the run queue.
    FinetuneDialog* showFinetune();

protected:
    void closeEvent(QCloseEvent* event) override;

private:
    void buildMenus();
    void showAbout();
    void showPrepareData();
    void updateTitle();
    QDockWidget* addDock(const QString& title, const QString& name, QWidget* widget, Qt::DockWidgetArea area);
    void buildMonitor();
    void runFromCanvas(const QString& experimentJson);
    void showOnCanvas(const RunSnapshot& status);
    void reloadWorkspaceViews();  // the results table and the curves, after runs ended or were merged

    QString database_;
    SystemPanel* system_panel_ = nullptr;
    PipelineCanvas* canvas_ = nullptr;
    RunQueue* queue_ = nullptr;
    RunPanel* run_panel_ = nullptr;
    CurvesView* curves_ = nullptr;
    ResultsView* results_ = nullptr;
    ClusterJobsView* cluster_jobs_ = nullptr;
    QString canvas_job_;  // the queue's label of the run launched from the canvas
};

}  // namespace gs::ui
