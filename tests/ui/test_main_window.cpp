#include <QLabel>
#include <QMenuBar>
#include <QTableWidget>
#include <QAction>
#include <QSignalSpy>
#include <QSortFilterProxyModel>
#include <QTemporaryDir>
#include <QtTest>

#include "core/model/t5_config.h"
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
    QCOMPARE(finished.at(0).at(0).value<gs::ui::RunStatus>().state, QString("done"));
    QCOMPARE(window.canvas()->scene()->runStatus(chain[0]).state, gs::ui::StageRunState::done);
    QCOMPARE(window.canvas()->scene()->runStatus(chain[1]).state, gs::ui::StageRunState::done);
    QCOMPARE(window.resultsView()->proxy()->rowCount(), 1);
    QCOMPARE(window.resultsView()->proxy()->index(0, 1).data().toString(), QString("T_d_S"));
    QTRY_VERIFY_WITH_TIMEOUT(!window.curvesView()->shownCurve("tiny-T_d_S").empty(), 5000);
    QVERIFY(window.curvesView()->markerLabels().contains("tiny-T_d_S: T→S (d)"));
}

QTEST_MAIN(MainWindowTest)
#include "test_main_window.moc"
