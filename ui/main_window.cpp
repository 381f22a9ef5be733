#include "ui/main_window.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QDir>
#include <QDockWidget>
#include <QFileInfo>
#include <QMenuBar>
#include <QMessageBox>
#include <QStatusBar>

#include "core/store/store.h"
#include "ui/finetune_dialog.h"
#include "ui/monitor/cluster_jobs_view.h"
#include "ui/monitor/curves_view.h"
#include "ui/monitor/results_view.h"
#include "ui/monitor/run_panel.h"
#include "ui/monitor/run_queue.h"
#include "ui/pipeline/estimate_panel.h"
#include "ui/pipeline/pipeline_canvas.h"
#include "ui/pipeline/pipeline_document.h"
#include "ui/prepare_data_dialog.h"
#include "ui/system_panel.h"

namespace gs::ui {

MainWindow::MainWindow(QWidget* parent, const QString& databasePath)
    : QMainWindow(parent),
      database_(databasePath.isEmpty() ? QString::fromStdString(default_database_path()) : databasePath) {
    canvas_ = new PipelineCanvas(this);
    canvas_->estimatePanel()->setWorkspace(database_);
    setCentralWidget(canvas_);
    // The system overview stays one click away, in a dock the View menu shows.
    system_panel_ = new SystemPanel(this);
    addDock(tr("System"), QStringLiteral("systemDock"), system_panel_, Qt::RightDockWidgetArea)->hide();
    buildMonitor();
    buildMenus();
    connect(canvas_, &PipelineCanvas::titleChanged, this, &MainWindow::updateTitle);
    updateTitle();
    statusBar()->showMessage(tr("Ready"));
    resize(1400, 900);
}

QDockWidget* MainWindow::addDock(const QString& title, const QString& name, QWidget* widget, Qt::DockWidgetArea area) {
    auto* dock = new QDockWidget(title, this);
    dock->setObjectName(name);
    dock->setWidget(widget);
    addDockWidget(area, dock);
    return dock;
}

// The run monitor around the canvas: runs on the right, curves and results below (tabbed).
void MainWindow::buildMonitor() {
    queue_ = new RunQueue(database_, this);
    run_panel_ = new RunPanel(queue_, database_, this);
    curves_ = new CurvesView(this);
    results_ = new ResultsView(this);
    addDock(tr("Runs"), QStringLiteral("runsDock"), run_panel_, Qt::RightDockWidgetArea);
    QDockWidget* curves = addDock(tr("Learning curves"), QStringLiteral("curvesDock"), curves_, Qt::BottomDockWidgetArea);
    QDockWidget* results = addDock(tr("Results"), QStringLiteral("resultsDock"), results_, Qt::BottomDockWidgetArea);
    cluster_jobs_ = new ClusterJobsView(this);
    QDockWidget* cluster = addDock(tr("Cluster jobs"), QStringLiteral("clusterDock"), cluster_jobs_, Qt::BottomDockWidgetArea);
    tabifyDockWidget(curves, results);
    tabifyDockWidget(results, cluster);
    curves->raise();
    connect(cluster_jobs_, &ClusterJobsView::runsMerged, this, &MainWindow::reloadWorkspaceViews);
    connect(cluster_jobs_, &ClusterJobsView::runActivated, this, [this, curves](const QString& run) {
        curves_->reload();  // the job may have started since the last refresh
        curves_->highlightRun(run);
        curves->raise();
    });
    // Each view reads the workspace itself and shows in its own panel when it cannot: none throws.
    curves_->load(database_.toStdString());
    results_->load(database_.toStdString());
    cluster_jobs_->load(database_.toStdString());
    connect(canvas_, &PipelineCanvas::runRequested, this, &MainWindow::runFromCanvas);
    connect(run_panel_, &RunPanel::finetuneRequested, this, &MainWindow::showFinetune);
    connect(queue_, &RunQueue::statusChanged, this, &MainWindow::showOnCanvas);
    connect(queue_, &RunQueue::finished, this, [this](const RunSnapshot& status) {
        showOnCanvas(status);
        reloadWorkspaceViews();
    });
}

void MainWindow::reloadWorkspaceViews() {
    results_->load(database_.toStdString());
    curves_->reload();
}

// A run launched from the canvas: its file's folder resolves relative paths (the current folder
// for a pipeline never saved).
void MainWindow::runFromCanvas(const QString& experimentJson) {
    const QString file = canvas_->document()->filePath();
    const QString folder = file.isEmpty() ? QDir::currentPath() : QFileInfo(file).absolutePath();
    canvas_job_ = canvas_->documentTitle();
    canvas_->clearStageStates();
    canvas_->setStageState(0, StageRunState::queued);
    queue_->enqueueExperimentJson(experimentJson, folder, canvas_job_);
    statusBar()->showMessage(tr("Queued %1").arg(canvas_job_));
}

// The launched run's stages on the canvas: the ones before the current stage done, the current
// one training with its progress (or failed with the message).
void MainWindow::showOnCanvas(const RunSnapshot& status) {
    if (status.job != canvas_job_ || status.stages == 0) return;
    for (int stage = 0; stage < status.stage; ++stage) canvas_->setStageState(stage, StageRunState::done);
    const double progress = status.stageSteps > 0 ? static_cast<double>(status.stageStep) / status.stageSteps : 0;
    if (status.state == RunStatus::failed) {
        canvas_->setStageState(status.stage, StageRunState::failed, progress, status.error);
    } else if (status.state == RunStatus::done) {
        for (int stage = 0; stage < status.stages; ++stage) canvas_->setStageState(stage, StageRunState::done);
    } else {
        canvas_->setStageState(status.stage, StageRunState::training, progress, status.phase);
    }
}

void MainWindow::updateTitle() {
    setWindowTitle(canvas_->documentTitle() + QStringLiteral("[*] — ") + tr("GrowthStudio"));
    setWindowModified(canvas_->document()->isModified());
}

void MainWindow::closeEvent(QCloseEvent* event) {
    if (canvas_->confirmDiscard()) {
        event->accept();
    } else {
        event->ignore();
    }
}

void MainWindow::buildMenus() {
    QMenu* file = menuBar()->addMenu(tr("&File"));
    QMenu* view = canvas_->addMenus(menuBar(), file);
    for (const char* dock : {"runsDock", "curvesDock", "resultsDock", "clusterDock", "systemDock"}) {
        view->addAction(findChild<QDockWidget*>(QString::fromLatin1(dock))->toggleViewAction());
    }
    file->addAction(tr("&Prepare a corpus…"), this, &MainWindow::showPrepareData);
    file->addAction(tr("&Fine-tune models…"), this, &MainWindow::showFinetune);
    QAction* quit = file->addAction(tr("&Quit"), qApp, &QApplication::quit);
    quit->setShortcut(QKeySequence::Quit);
    QMenu* help = menuBar()->addMenu(tr("&Help"));
    help->addAction(tr("&About GrowthStudio"), this, &MainWindow::showAbout);
}

void MainWindow::showPrepareData() {
    auto* dialog = new PrepareDataDialog(this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->show();
}

FinetuneDialog* MainWindow::showFinetune() {
    auto* dialog = new FinetuneDialog(database_, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &QDialog::accepted, this, [this, dialog] {
        const std::vector<FinetuneJob> jobs = dialog->jobs();
        for (const FinetuneJob& job : jobs) queue_->enqueueFinetune(job);
        findChild<QDockWidget*>(QStringLiteral("runsDock"))->raise();
        statusBar()->showMessage(tr("Queued %n fine-tune(s)", nullptr, static_cast<int>(jobs.size())));
    });
    dialog->show();
    return dialog;
}

void MainWindow::showAbout() {
    QMessageBox::about(this, tr("About GrowthStudio"),
                       tr("<b>GrowthStudio</b><p>Pre-train T5 encoder-decoder models by growing small pre-trained "
                          "models into larger ones: depth by progressive stacking, width by function-preserving "
                          "(FPI) or advanced knowledge (AKI) initialisation.</p><p>GPL-3.0-or-later.</p>"));
}

}  // namespace gs::ui
