// The learning-curve view and the results table on a workspace with a Base run and a grown run.
#include <QComboBox>
#include <QFile>
#include <QLineEdit>
#include <QProgressBar>
#include <QProcess>
#include <QPushButton>
#include <QSignalSpy>
#include <QListWidget>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QTemporaryDir>
#include <QtTest>

#include <qcustomplot.h>

#include <unistd.h>

#include <optional>

#include "core/io/files.h"
#include "core/store/results_table.h"
#include "core/train/run_lock.h"
#include "ui/monitor/curves_view.h"
#include "ui/monitor/results_view.h"
#include "ui/monitor/run_panel.h"
#include "ui/monitor/run_queue.h"

using namespace gs;

namespace {

MetricRow row(int64_t run, int64_t stage, int64_t step, std::optional<double> valid, double hours_per_step = 0.01) {
    MetricRow r;
    r.run_id = run, r.stage_index = stage, r.step = step, r.tokens = step * 1000, r.flops = step * 1e12;
    r.wall_seconds = step * hours_per_step * 3600;
    r.train_loss = valid ? *valid + 0.1 : 3.0;
    r.valid_loss = valid;
    return r;
}

// B: 100 steps (1 h) down to 2.0. S_a_B: Small for 40 steps, grows (a) into Base, reaches 2.0
// at step 50 (0.5 h) and ends at 1.5.
std::string make_workspace(const QTemporaryDir& dir) {
    const std::string path = dir.filePath("ws.db").toStdString();
    Store store(path);
    RunRecord base;
    base.name = "B", base.pipeline = "B";
    const int64_t b = store.create_run(base);
    store.add_stage({b, 0, "B", "{}", "5", 300000000, 0, 100});
    store.add_metrics({row(b, 0, 50, 3.0), row(b, 0, 100, 2.0)});
    store.set_run_status(b, RunStatus::done);
    RunRecord grown;
    grown.name = "S_a_B", grown.pipeline = "S_a_B";
    const int64_t g = store.create_run(grown);
    store.add_stage({g, 0, "S", "{}", "2", 100000000, 0, 40});
    store.add_stage({g, 1, "B", "{}", "3", 300000000, 40, 60});
    std::vector<MetricRow> rows = {row(g, 0, 20, 3.0), row(g, 0, 40, 2.4), row(g, 1, 40, 2.6), row(g, 1, 60, 1.4)};
    for (int step = 1; step <= 60; ++step) rows.push_back(row(g, step <= 40 ? 0 : 1, step, std::nullopt));
    store.add_metrics(rows);
    GrowthEventRecord event;
    event.run_id = g, event.stage_index = 1, event.step = 40, event.op = "a";
    store.add_growth_event(event);
    store.set_run_status(g, RunStatus::done);
    return path;
}

}  // namespace

// A temporary folder with the test experiment, a queue and a run panel on its database.
struct Workspace {
    QTemporaryDir dir;
    QString experiment = copy_experiment(dir);
    QString database = dir.filePath("ws.db");
    ui::RunQueue queue{database};
    ui::RunPanel panel{&queue, database};
    QSignalSpy finished{&queue, &ui::RunQueue::finished};

    static QString copy_experiment(const QTemporaryDir& dir) {
        const QString target = dir.filePath("experiment.json");
        QFile::copy(QString(GS_TEST_DATA_DIR) + "/experiments/tiny_T_d_S.json", target);
        return target;
    }
};

class MonitorTest : public QObject {
    Q_OBJECT

private slots:
    // While a run prepares its corpus the panel says which phase and how far it is.
    void dataPreparationIsDescribedWithItsShare() {
        Progress reading;
        reading.stage = "reading", reading.unit = "bytes", reading.done = 31, reading.total = 100;
        QCOMPARE(ui::RunQueue::describeDataProgress(reading), QString("preparing data: reading 31 %"));
        Progress tokenizer;
        tokenizer.stage = "training", tokenizer.unit = "seconds", tokenizer.done = 40, tokenizer.total = 205, tokenizer.elapsed_s = 40.2;
        QCOMPARE(ui::RunQueue::describeDataProgress(tokenizer), QString("preparing data: training the tokenizer, 40 s so far"));
    }

    void curvesAgainstTheBaseRun() {
        QTemporaryDir dir;
        ui::CurvesView view;
        view.resize(1000, 600);
        view.load(make_workspace(dir));
        QCOMPARE(view.referenceBox()->currentText(), QString("B"));  // the finished Base run by default
        QCOMPARE(view.runList()->count(), 2);
        const Curve curve = view.shownCurve("S_a_B");
        QCOMPARE(curve.size(), size_t(4));
        QCOMPARE(curve[1].x, 0.4);  // hours
        QCOMPARE(view.markerLabels(), QStringList{"S_a_B: S→B (a)"});
        // 2.6 at 0.4 h to 1.4 at 0.6 h crosses 2.0 at 0.5 h: half of B's hour.
        QVERIFY2(view.figuresText().contains("S_a_B reaches it at 0.5 (50.0 % of B)"), qPrintable(view.figuresText()));

        view.setAxis(CurveAxis::step);
        QCOMPARE(view.shownCurve("S_a_B")[3].x, 60.0);
        QVERIFY(view.figuresText().contains("reaches it at 50 (50.0 % of B)"));
        view.setAlignToStageStart(true);
        QCOMPARE(view.shownCurve("S_a_B")[3].x, 20.0);  // Base stage started at step 40
        view.setAlignToStageStart(false);

        view.setSmoothing(0.5);
        QCOMPARE(view.shownCurve("B")[1].y, (0.25 * 3.0 + 0.5 * 2.0) / 0.75);
        view.setSmoothing(0.0);
        view.setKind(CurveKind::training);
        QCOMPARE(view.shownCurve("S_a_B").size(), size_t(64));
        view.setKind(CurveKind::validation);
        view.setLogY(true);
        QCOMPARE(view.plot()->yAxis->scaleType(), QCPAxis::stLogarithmic);
        view.setLogX(true);
        QCOMPARE(view.plot()->xAxis->scaleType(), QCPAxis::stLogarithmic);
        view.setLogX(false);

        view.setRunShown("S_a_B", false);
        view.setReference("");
        QVERIFY(view.figuresText().contains("Choose a reference run"));
    }

    void curvesExportAsImagesAndCsv() {
        QTemporaryDir dir;
        ui::CurvesView view;
        view.resize(1000, 600);
        view.load(make_workspace(dir));
        for (const QString suffix : {"png", "svg", "pdf"}) {
            const QString path = dir.filePath("curves." + suffix);
            QVERIFY(view.exportImage(path));
            QVERIFY2(QFileInfo(path).size() > 1000, qPrintable(path));
        }
        QVERIFY(read_text_file(dir.filePath("curves.svg").toStdString()).find("<svg") != std::string::npos);
        view.setAxis(CurveAxis::step);
        QVERIFY(view.exportCsv(dir.filePath("curves.csv")));
        const std::string csv = read_text_file(dir.filePath("curves.csv").toStdString());
        QCOMPARE(QString::fromStdString(csv.substr(0, csv.find('\n'))), QString("step,B,S_a_B"));
    }

    // growthstudio-report (what `growthstudio-cli study` runs) draws exactly what the view exports.
    void reportToolDrawsTheViewsFigure() {
        QTemporaryDir dir;
        const std::string database = make_workspace(dir);
        QProcess tool;
        tool.start(GS_REPORT_PATH, {QString::fromStdString(database), dir.filePath("report"), "--reference", "B", "S_a_B"});
        QVERIFY(tool.waitForFinished(60000));
        QCOMPARE(tool.exitCode(), 0);
        for (const QString name : {"learning-curves.png", "learning-curves.svg", "learning-curves-flops.png",
                                   "learning-curves-flops.svg"}) {
            QVERIFY2(QFileInfo(dir.filePath("report/" + name)).size() > 1000, qPrintable(name));
        }
        ui::CurvesView view;
        view.resize(1200, 750);
        view.load(database);
        view.setReference("B");
        view.setRunShown("B", false);  // as asked of the tool: S_a_B, with B pinned as the reference
        view.setLogY(true);
        view.setAxis(CurveAxis::flops);
        QVERIFY(view.exportImage(dir.filePath("view.png")));
        const QImage drawn(dir.filePath("report/learning-curves-flops.png"));
        QVERIFY(!drawn.isNull());
        QCOMPARE(drawn, QImage(dir.filePath("view.png")));
    }

    void resultsTableSortsFiltersAndExports() {
        QTemporaryDir dir;
        const std::string database = make_workspace(dir);
        ui::ResultsView view;
        view.load(database);
        QCOMPARE(view.proxy()->rowCount(), 2);
        view.table()->sortByColumn(6, Qt::AscendingOrder);  // valid loss
        QCOMPARE(view.proxy()->index(0, 0).data().toString(), QString("S_a_B"));
        QCOMPARE(view.proxy()->index(0, 7).data().toString(), QString("0.500"));  // reached B's loss at 0.5 h
        QVERIFY(view.proxy()->index(0, 6).data(Qt::FontRole).value<QFont>().bold());  // the best loss
        QVERIFY(!view.proxy()->index(1, 6).data(Qt::FontRole).value<QFont>().bold());
        view.setColumnShown(10, false);
        QVERIFY(view.table()->isColumnHidden(10));
        QTest::keyClicks(view.filter(), "s_a");
        QCOMPARE(view.proxy()->rowCount(), 1);
        QVERIFY(view.exportCsv(dir.filePath("results.csv")));
        Store store(database);
        QCOMPARE(read_text_file(dir.filePath("results.csv").toStdString()), results_csv(build_results_table(store)));
        // Imported rows are marked as such.
        ExternalResult paper;
        paper.source = "paper", paper.row_index = 1, paper.model = "B", paper.valid_loss = 1.0994;
        store.replace_external_results("paper", {paper});
        view.filter()->clear();
        view.load(database);
        QCOMPARE(view.proxy()->rowCount(), 3);
        int imported = -1;
        for (int row = 0; row < 3; ++row) {
            if (view.proxy()->index(row, 16).data().toString() == "paper") imported = row;
        }
        QVERIFY(imported >= 0);
        QVERIFY(view.proxy()->index(imported, 0).data(Qt::FontRole).value<QFont>().italic());
        QVERIFY(!view.proxy()->index((imported + 1) % 3, 0).data(Qt::FontRole).value<QFont>().italic());
    }

    // A downstream score's cell says which data produced it: the dev file, its example count and
    // the training file; a score stored before that was recorded says so.
    void resultsCellsTellTheDataBehindEachScore() {
        QTemporaryDir dir;
        const std::string database = make_workspace(dir);
        const std::string train = std::string(GS_TEST_DATA_DIR) + "/downstream/klue-nli-v1.1_sample.json";
        const std::string dev = std::string(GS_TEST_DATA_DIR) + "/downstream/klue-nli_hf_sample.jsonl";
        ScoreProvenance provenance;
        provenance.train_file = data_file_record(train);
        provenance.dev_file = data_file_record(dev);
        provenance.train_examples = 9, provenance.eval_examples = 3;
        {
            Store store(database);
            const int64_t grown = store.find_run("S_a_B")->id;
            store.add_result({grown, "klue-nli", "accuracy", 71.3, "{}", provenance.to_json()});
            store.add_result({grown, "korquad-ext", "f1", 50.0, "{}"});
        }
        ui::ResultsView view;
        view.load(database);
        int grown_row = -1;
        for (int row = 0; row < view.proxy()->rowCount(); ++row) {
            if (view.proxy()->index(row, 0).data().toString() == "S_a_B") grown_row = row;
        }
        QVERIFY(grown_row >= 0);
        const QString nli = view.proxy()->index(grown_row, 9).data(Qt::ToolTipRole).toString();
        QVERIFY2(nli.startsWith("KLUE-NLI accuracy 71.30 on " + QString::fromStdString(provenance.dev_file->path) +
                                " (hash " + QString::fromStdString(provenance.dev_file->hash) + ", 3 examples, dev file)"),
                 qPrintable(nli));
        QVERIFY2(nli.contains("trained on " + QString::fromStdString(provenance.train_file.path) + " (hash " +
                              QString::fromStdString(provenance.train_file.hash) + ", 9 examples)"),
                 qPrintable(nli));
        QVERIFY2(nli.endsWith("Best in this column"), qPrintable(nli));  // the only NLI score
        const QString ext = view.proxy()->index(grown_row, 11).data(Qt::ToolTipRole).toString();
        QVERIFY2(ext.startsWith("KorQuAD extractive F1 50.00: provenance not recorded"), qPrintable(ext));
        QCOMPARE(view.proxy()->index(grown_row, 12).data(Qt::ToolTipRole).toString(), QString());  // no score
    }

    // A real T_d_S run from the panel, on the training thread: the GUI stays responsive and gets
    // a few batched updates, not one per step.
    void runsInTheBackgroundWithBatchedProgress() {
        QTemporaryDir dir;
        const QString experiment = Workspace::copy_experiment(dir);
        const QString database = dir.filePath("ws.db");
        ui::RunQueue queue(database);
        ui::RunPanel panel(&queue, database);
        ui::CurvesView curves;
        curves.load(database.toStdString());
        curves.setLiveInterval(100);
        curves.setKind(CurveKind::training);
        QSignalSpy updates(&queue, &ui::RunQueue::statusChanged);
        QSignalSpy finished(&queue, &ui::RunQueue::finished);
        panel.runExperiment(experiment);
        QVERIFY(queue.busy());
        // The chart follows the run while it trains.
        QTRY_VERIFY_WITH_TIMEOUT(curves.shownCurve("tiny-T_d_S").size() >= 5, 60000);
        const size_t seen_live = curves.shownCurve("tiny-T_d_S").size();
        QVERIFY2(queue.busy() && seen_live < 80, qPrintable(QString::number(seen_live)));
        QTRY_VERIFY_WITH_TIMEOUT(finished.count() == 1, 120000);
        const auto status = finished.takeFirst().at(0).value<ui::RunSnapshot>();
        QCOMPARE(status.state, RunStatus::done);
        QVERIFY2(updates.count() < 80, qPrintable(QString::number(updates.count())));  // 80 steps, fewer updates
        QVERIFY(panel.stateLabel()->text().contains("done"));
        QCOMPARE(status.device, QString("cpu"));
        QVERIFY(status.memoryBytes > 10'000'000);  // this process's resident memory
        QTRY_COMPARE_WITH_TIMEOUT(curves.shownCurve("tiny-T_d_S").size(), size_t(80), 5000);
        Store store(database.toStdString());
        QCOMPARE(store.find_run("tiny-T_d_S")->status, RunStatus::done);
    }

    void pauseThenResumeFinishesTheRun() {
        Workspace w;
        auto& [dir, experiment, database, queue, panel, finished] = w;
        panel.runExperiment(experiment);
        QTRY_VERIFY_WITH_TIMEOUT(queue.current().step >= 10, 120000);
        QVERIFY(panel.pauseButton()->isEnabled());
        QTest::mouseClick(panel.pauseButton(), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(finished.count() == 1, 60000);
        QCOMPARE(finished.takeFirst().at(0).value<ui::RunSnapshot>().state, RunStatus::paused);
        QCOMPARE(panel.resumable()->count(), 1);
        panel.resumable()->setCurrentRow(0);
        QTest::mouseClick(panel.resumeButton(), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(finished.count() == 1, 120000);
        QCOMPARE(finished.takeFirst().at(0).value<ui::RunSnapshot>().state, RunStatus::done);
        Store store(database.toStdString());
        const auto run = store.find_run("tiny-T_d_S");
        int train_rows = 0;
        for (const auto& row : store.metrics(run->id)) train_rows += row.train_loss ? 1 : 0;
        QCOMPARE(train_rows, 80);  // every step once across the pause
        QCOMPARE(panel.resumable()->count(), 0);
    }

    void cancelStopsTheRunAndMarksItCancelled() {
        Workspace w;
        auto& [dir, experiment, database, queue, panel, finished] = w;
        panel.runExperiment(experiment);
        panel.runExperiment(experiment);  // a second one waits in the queue
        QCOMPARE(queue.queued().size(), 1);
        QTRY_VERIFY_WITH_TIMEOUT(queue.current().step >= 5, 120000);
        QTest::mouseClick(panel.cancelButton(), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(finished.count() == 1, 60000);
        QCOMPARE(finished.takeFirst().at(0).value<ui::RunSnapshot>().state, RunStatus::cancelled);
        Store store(database.toStdString());
        QCOMPARE(store.find_run("tiny-T_d_S")->status, RunStatus::cancelled);
        // The queue goes on with the next run.
        QTRY_VERIFY_WITH_TIMEOUT(finished.count() == 1, 120000);
        QCOMPARE(finished.takeFirst().at(0).value<ui::RunSnapshot>().state, RunStatus::done);
        QCOMPARE(store.find_run("tiny-T_d_S-2")->status, RunStatus::done);
    }

    // The lock's holder (here this test, which the panel cannot tell from another process) owns
    // the run: it shows busy with its pid, and Resume refuses it with core's message.
    void aRunAnotherProcessTrainsShowsBusyAndIsNotResumed() {
        Workspace w;
        auto& [dir, experiment, database, queue, panel, finished] = w;
        const std::string folder = dir.filePath("runs/S_a_B").toStdString();
        {
            Store store(database.toStdString());
            RunRecord run;
            run.name = "S_a_B", run.pipeline = "S_a_B", run.directory = folder;
            store.set_run_status(store.create_run(run), RunStatus::running);
        }
        std::optional<RunLock> lock = RunLock::take(folder, "S_a_B");
        const QString refusal = QString::fromStdString(run_busy_message("S_a_B", *run_owner(folder)));
        panel.refreshResumable();
        QCOMPARE(panel.resumable()->count(), 1);
        QVERIFY2(panel.resumable()->item(0)->text().contains(QString("busy: pid %1 on").arg(getpid())),
                 qPrintable(panel.resumable()->item(0)->text()));
        panel.resumable()->setCurrentRow(0);
        QTest::mouseClick(panel.resumeButton(), Qt::LeftButton);
        QCOMPARE(panel.errorView()->toPlainText(), refusal);
        QVERIFY(!queue.busy());
        QVERIFY(queue.queued().isEmpty());

        lock.reset();  // its owner is gone: the run is interrupted and can be resumed
        panel.refreshResumable();
        QCOMPARE(panel.resumable()->count(), 1);
        QCOMPARE(panel.resumable()->item(0)->text(), QString("S_a_B"));
    }
};

QTEST_MAIN(MonitorTest)
#include "test_monitor.moc"
