#include <QComboBox>
#include <QLabel>
#include <QListWidget>
#include <QMenuBar>
#include <QTableWidget>
#include <QAction>
#include <QSignalSpy>
#include <QSortFilterProxyModel>
#include <QTemporaryDir>
#include <QtTest>

#include <filesystem>

#include "core/model/t5_config.h"
#include "core/store/sqlite.h"
#include "core/store/store.h"
#include "ui/main_window.h"
#include "ui/monitor/curves_view.h"
#include "ui/monitor/results_view.h"
#include "ui/monitor/run_queue.h"
#include "ui/pipeline/pipeline_canvas.h"
#include "ui/pipeline/pipeline_document.h"
#include "ui/system_panel.h"

class MainWindowTest : public QObject {
    Q_OBJECT
private slots:
    void showsTheStudyPresetsWithTheirCosts();
    void showsTheEngineVersions();
    void hasTheCanvasMenus();
    void runsThePipelineOnTheCanvasAndShowsItsCurvesAndResults();
    void aDeletedOrLockedWorkspaceIsShownAndReadAgain();
};

void MainWindowTest::showsTheStudyPresetsWithTheirCosts() {
    gs::ui::MainWindow window;
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    QTableWidget* table = window.systemPanel()->presetTable();
    QCOMPARE(table->rowCount(), 3);
    QCOMPARE(table->item(0, 0)->text(), QStringLiteral("Tiny"));
    QCOMPARE(table->item(2, 1)->text(), QStringLiteral("12+12"));
    QCOMPARE(table->item(2, 2)->text(), QStringLiteral("768"));
    // Counted independently by an eager PyTorch build of the same shapes.
    QCOMPARE(table->item(0, 5)->text(), QStringLiteral("70,664,704"));
    QCOMPARE(table->item(1, 5)->text(), QStringLiteral("108,428,800"));
    QCOMPARE(table->item(2, 5)->text(), QStringLiteral("304,200,960"));
    // Per-sequence training GFLOPs at 512/114 from the reference notes.
    QCOMPARE(table->item(2, 6)->text(), QStringLiteral("532.3"));
}

void MainWindowTest::showsTheEngineVersions() {
    gs::ui::MainWindow window;
    auto* libtorch = window.findChild<QLabel*>(QStringLiteral("LibTorch"));
    QVERIFY(libtorch);
    QVERIFY(libtorch->text().contains(QLatin1Char('.')));
    auto* blas = window.findChild<QLabel*>(QStringLiteral("BLAS"));
    QVERIFY(blas);
    QVERIFY(!blas->text().isEmpty());
}

void MainWindowTest::hasTheCanvasMenus() {
    gs::ui::MainWindow window;
    QStringList titles;
    for (QAction* action : window.menuBar()->actions()) titles << action->text();
    QCOMPARE(titles, (QStringList{QStringLiteral("&File"), QStringLiteral("&Edit"), QStringLiteral("&View"),
                                  QStringLiteral("&Pipeline"), QStringLiteral("&Help")}));
}

// Run on the canvas: the run panel, the nodes, the curves and the results table all follow it.
void MainWindowTest::runsThePipelineOnTheCanvasAndShowsItsCurvesAndResults() {
    QTemporaryDir dir;
    const QString experiment = dir.filePath("experiment.json");
    QVERIFY(QFile::copy(QString(GS_TEST_DATA_DIR) + "/experiments/tiny_T_d_S.json", experiment));
    gs::ui::MainWindow window(nullptr, dir.filePath("ws.db"));
    window.show();
    QVERIFY(window.canvas()->openFile(experiment));
    QVERIFY(window.canvas()->runAction()->isEnabled());
    QSignalSpy finished(window.runQueue(), &gs::ui::RunQueue::finished);
    window.canvas()->runAction()->trigger();
    const std::vector<int> chain = window.canvas()->document()->check().chain_nodes;
    QTRY_COMPARE_WITH_TIMEOUT(window.canvas()->scene()->runStatus(chain[0]).state, gs::ui::StageRunState::training, 60000);
    QTRY_VERIFY_WITH_TIMEOUT(finished.count() == 1, 120000);
    QCOMPARE(finished.at(0).at(0).value<gs::ui::RunSnapshot>().state, gs::RunStatus::done);
    QCOMPARE(window.canvas()->scene()->runStatus(chain[0]).state, gs::ui::StageRunState::done);
    QCOMPARE(window.canvas()->scene()->runStatus(chain[1]).state, gs::ui::StageRunState::done);
    QCOMPARE(window.resultsView()->proxy()->rowCount(), 1);
    QCOMPARE(window.resultsView()->proxy()->index(0, 1).data().toString(), QString("T_d_S"));
    QTRY_VERIFY_WITH_TIMEOUT(!window.curvesView()->shownCurve("tiny-T_d_S").empty(), 5000);
    QVERIFY(window.curvesView()->markerLabels().contains("tiny-T_d_S: T→S (d)"));
}

namespace {

// A finished Base run with two validation points; the store closed, so that the file alone holds it.
void make_workspace(const std::string& path) {
    gs::Store store(path);
    gs::RunRecord base;
    base.name = "B", base.pipeline = "B";
    const int64_t id = store.create_run(base);
    store.add_stage({id, 0, "B", "{}", "100", 1000, 0, 100});
    for (int64_t step : {50, 100}) {
        gs::MetricRow row;
        row.run_id = id, row.step = step, row.wall_seconds = step * 36.0, row.valid_loss = 4.0 - step / 100.0;
        store.add_metrics({row});
    }
    store.set_run_status(id, gs::RunStatus::done);
}

QLabel* curves_problem(gs::ui::MainWindow& window) {
    return window.curvesView()->findChild<QLabel*>(QStringLiteral("curvesProblem"));
}

}  // namespace

// The workspace goes away while the curves poll it, comes back held by a writer that keeps
// everyone out, then is free again. (A reader that has the file open keeps even such a writer
// out, so the lock can only meet the views when they open the file afresh.) The window stays up
// throughout, each panel says what is wrong with which file and keeps what it showed, and the
// next refresh after the problem is gone shows the runs again.
void MainWindowTest::aDeletedOrLockedWorkspaceIsShownAndReadAgain() {
    QTemporaryDir dir;
    const std::string path = dir.filePath("ws.db").toStdString();
    const std::string copy = dir.filePath("copy.db").toStdString();
    make_workspace(path);
    std::filesystem::copy_file(path, copy);
    gs::ui::MainWindow window(nullptr, QString::fromStdString(path));
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    gs::ui::CurvesView* curves = window.curvesView();
    QCOMPARE(curves->runList()->count(), 1);
    QCOMPARE(curves->shownCurve("B").size(), size_t(2));
    QVERIFY(curves->problemText().isEmpty());
    QVERIFY(!curves_problem(window)->isVisible());
    curves->setLiveInterval(50);

    std::filesystem::remove(path);
    QTRY_VERIFY(curves->problemText().contains(QString::fromStdString(path) + ": no such database file"));
    QVERIFY(curves_problem(window)->isVisible());
    QVERIFY(window.isVisible());
    QCOMPARE(curves->runList()->count(), 1);
    QCOMPARE(curves->shownCurve("B").size(), size_t(2));  // what was read before
    QVERIFY2(curves->figuresText().contains("B's final validation loss: 3.0000"), qPrintable(curves->figuresText()));

    std::filesystem::copy_file(copy, path);
    {
        gs::SqlDatabase holder(path, false);
        holder.execute("PRAGMA locking_mode = EXCLUSIVE");
        holder.execute("BEGIN EXCLUSIVE");
        QTRY_VERIFY2(curves->problemText().contains("database is locked"), qPrintable(curves->problemText()));
        QVERIFY(curves->problemText().contains(QString::fromStdString(path)));
        QCOMPARE(curves->shownCurve("B").size(), size_t(2));
        window.resultsView()->load(path);
        QVERIFY2(window.resultsView()->problemText().contains(QString::fromStdString(path)) &&
                     window.resultsView()->problemText().contains("database is locked"),
                 qPrintable(window.resultsView()->problemText()));
        QCOMPARE(window.resultsView()->proxy()->rowCount(), 1);  // the table shown before
        QVERIFY(window.isVisible());
    }

    QTRY_VERIFY(curves->problemText().isEmpty());
    QVERIFY(!curves_problem(window)->isVisible());
    QCOMPARE(curves->runList()->count(), 1);
    QCOMPARE(curves->shownCurve("B").size(), size_t(2));
    QCOMPARE(curves->referenceBox()->currentText(), QStringLiteral("B"));
    window.resultsView()->load(path);
    QVERIFY(window.resultsView()->problemText().isEmpty());
    QCOMPARE(window.resultsView()->proxy()->index(0, 0).data().toString(), QStringLiteral("B"));
}

QTEST_MAIN(MainWindowTest)
#include "test_main_window.moc"
