#include "ui/main_window.h"

#include <QAction>
#include <QApplication>
#include <QMenuBar>
#include <QMessageBox>
#include <QStatusBar>

#include "ui/prepare_data_dialog.h"
#include "ui/system_panel.h"

namespace gs::ui {

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent) {
    setWindowTitle(tr("GrowthStudio"));
    system_panel_ = new SystemPanel(this);
    setCentralWidget(system_panel_);
    buildMenus();
    statusBar()->showMessage(tr("Ready"));
    resize(1000, 620);
}

void MainWindow::buildMenus() {
    QMenu* file = menuBar()->addMenu(tr("&File"));
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
