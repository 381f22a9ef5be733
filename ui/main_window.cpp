#include "ui/main_window.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QDockWidget>
#include <QMenuBar>
#include <QMessageBox>
#include <QStatusBar>

#include "ui/pipeline/pipeline_canvas.h"
#include "ui/pipeline/pipeline_document.h"
#include "ui/prepare_data_dialog.h"
#include "ui/system_panel.h"

namespace gs::ui {

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent) {
    canvas_ = new PipelineCanvas(this);
    setCentralWidget(canvas_);
    // The system overview stays one click away, in a dock the View menu shows.
    system_panel_ = new SystemPanel(this);
    auto* system_dock = new QDockWidget(tr("System"), this);
    system_dock->setObjectName(QStringLiteral("systemDock"));
    system_dock->setWidget(system_panel_);
    addDockWidget(Qt::RightDockWidgetArea, system_dock);
    system_dock->hide();
    buildMenus();
    connect(canvas_, &PipelineCanvas::titleChanged, this, &MainWindow::updateTitle);
    updateTitle();
    statusBar()->showMessage(tr("Ready"));
    resize(1400, 900);
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
    view->addAction(findChild<QDockWidget*>(QStringLiteral("systemDock"))->toggleViewAction());
    file->addAction(tr("&Prepare a corpus…"), this, &MainWindow::showPrepareData);
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

void MainWindow::showAbout() {
    QMessageBox::about(this, tr("About GrowthStudio"),
                       tr("<b>GrowthStudio</b><p>Pre-train T5 encoder-decoder models by growing small pre-trained "
                          "models into larger ones: depth by progressive stacking, width by function-preserving "
                          "(FPI) or advanced knowledge (AKI) initialisation.</p><p>GPL-3.0-or-later.</p>"));
}

}  // namespace gs::ui
