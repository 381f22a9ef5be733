#include <QLabel>
#include <QMenuBar>
#include <QTableWidget>
#include <QtTest>

#include "core/model/t5_config.h"
#include "ui/main_window.h"
#include "ui/system_panel.h"

class MainWindowTest : public QObject {
    Q_OBJECT
private slots:
    void showsTheStudyPresetsWithTheirCosts();
    void showsTheEngineVersions();
    void hasTheCanvasMenus();
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

QTEST_MAIN(MainWindowTest)
#include "test_main_window.moc"
