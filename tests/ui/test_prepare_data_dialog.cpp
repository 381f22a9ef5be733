#include <QDir>
#include <QPushButton>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

#include "ui/prepare_data_dialog.h"

class PrepareDataDialogTest : public QObject {
    Q_OBJECT
private slots:
    void showsTheComputedTargetLength();
    void preparesTheBundledKoreanCorpus();
    void reportsAMissingCorpusFile();
};

void PrepareDataDialogTest::showsTheComputedTargetLength() {
    gs::ui::PrepareDataDialog dialog;
    QVERIFY(dialog.spanSummary().contains(QStringLiteral("568 raw tokens, 114 target tokens")));
    dialog.setInputLength(128);
    QVERIFY(dialog.spanSummary().contains(QStringLiteral("141 raw tokens, 29 target tokens")));
}

void PrepareDataDialogTest::preparesTheBundledKoreanCorpus() {
    QTemporaryDir out;
    gs::ui::PrepareDataDialog dialog;  // starts with the bundled corpus
    dialog.setOutputFolder(out.path());
    dialog.setTrainedVocabulary(2000);
    dialog.show();
    QSignalSpy done(&dialog, &gs::ui::PrepareDataDialog::preparationFinished);
    QTest::mouseClick(dialog.startButton(), Qt::LeftButton);
    QVERIFY(dialog.isRunning());
    QVERIFY(done.wait(120000));
    QCOMPARE(done.takeFirst().at(0).toBool(), true);
    QVERIFY2(dialog.report().contains(QStringLiteral("Documents: 106")), qPrintable(dialog.report()));
    QVERIFY(QDir(out.path()).exists(QStringLiteral("train.tokens")));
    // Again: everything is reused.
    QTest::mouseClick(dialog.startButton(), Qt::LeftButton);
    QVERIFY(done.wait(120000));
    QVERIFY2(dialog.report().contains(QStringLiteral("reused (corpus and tokenizer unchanged)")),
             qPrintable(dialog.report()));
}

void PrepareDataDialogTest::reportsAMissingCorpusFile() {
    QTemporaryDir out;
    gs::ui::PrepareDataDialog dialog;
    dialog.setCorpus({QStringLiteral("/nonexistent/corpus.txt")});
    dialog.setOutputFolder(out.path());
    QSignalSpy done(&dialog, &gs::ui::PrepareDataDialog::preparationFinished);
    QTest::mouseClick(dialog.startButton(), Qt::LeftButton);
    QVERIFY(done.wait(60000));
    QCOMPARE(done.takeFirst().at(0).toBool(), false);
    QVERIFY2(dialog.report().contains(QStringLiteral("/nonexistent/corpus.txt: no such file")),
             qPrintable(dialog.report()));
}

QTEST_MAIN(PrepareDataDialogTest)
#include "test_prepare_data_dialog.moc"
