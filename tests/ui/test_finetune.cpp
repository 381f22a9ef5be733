// Fine-tuning from the GUI: the dialog turns what the user checks and types into queue jobs, and a
// queued fine-tune of a freshly pre-trained tiny model lands in the Results table.
#include <QDockWidget>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QProgressBar>
#include <QPushButton>
#include <QRegularExpression>
#include <QSettings>
#include <QSignalSpy>
#include <QSortFilterProxyModel>
#include <QSpinBox>
#include <QTableView>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>

#include <nlohmann/json.hpp>

#include "core/eval/evaluate.h"
#include "core/io/files.h"
#include "core/store/store.h"
#include "ui/finetune_dialog.h"
#include "ui/main_window.h"
#include "ui/monitor/results_view.h"
#include "ui/monitor/run_panel.h"
#include "ui_test_support.h"

using namespace gs;
using gs::ui::test::save_screenshot;

namespace {

const QString kSamples = QString(GS_TEST_DATA_DIR) + "/evaluate/";

// A workspace with a finished run (final checkpoint) and a running one (interval checkpoint only).
QString make_workspace(const QTemporaryDir& dir) {
    const QString path = dir.filePath("ws.db");
    Store store(path.toStdString());
    RunRecord done;
    done.name = "S_a_B", done.pipeline = "S_a_B";
    const int64_t d = store.create_run(done);
    store.add_checkpoint({d, 1, 100, dir.filePath("runs/S_a_B/final").toStdString(), CheckpointKind::final});
    store.set_run_status(d, RunStatus::done);
    RunRecord running;
    running.name = "B", running.pipeline = "B";
    const int64_t r = store.create_run(running);
    store.add_checkpoint({r, 0, 20, dir.filePath("runs/B/step-20").toStdString(), CheckpointKind::interval});
    return path;
}

// Replaces a spin box's text as a user does: select all, type.
void type_into(QAbstractSpinBox* box, const QString& text) {
    box->setFocus();
    QTest::keyClick(box, Qt::Key_A, Qt::ControlModifier);
    QTest::keyClicks(box, text);
}

// Toggles a checkable row with the keyboard, as a user does.
void toggle_row(QListWidget* list, int row) {
    list->setFocus();
    list->setCurrentRow(row);
    QTest::keyClick(list, Qt::Key_Space);
}

int column_of(QTableView* table, const QString& header) {
    for (int column = 0; column < table->model()->columnCount(); ++column) {
        if (table->model()->headerData(column, Qt::Horizontal).toString() == header) return column;
    }
    return -1;
}

}  // namespace

class FinetuneTest : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() {
        // Remembered files go to a folder of this test, not the user's settings.
        QCoreApplication::setOrganizationName("GrowthStudioTest");
        QCoreApplication::setApplicationName("FinetuneTest");
        QSettings::setDefaultFormat(QSettings::IniFormat);
        QSettings::setPath(QSettings::IniFormat, QSettings::UserScope, settings_dir_.path());
    }

    void dialogBuildsJobsFromWhatTheUserChecksAndTypes() {
        QTemporaryDir dir;
        ui::FinetuneDialog dialog(make_workspace(dir));
        dialog.show();
        // Only the finished run is offered; a checkpoint folder can be added beside it.
        QCOMPARE(dialog.models()->count(), 1);
        QVERIFY(dialog.models()->item(0)->text().startsWith("S_a_B"));
        dialog.addModelFolder(dir.filePath("my-t5/"));
        QCOMPARE(dialog.models()->count(), 2);
        QCOMPARE(dialog.problem(), QString("Check a task."));
        QVERIFY(!dialog.queueButton()->isEnabled());

        toggle_row(dialog.models(), 0);  // S_a_B
        toggle_row(dialog.tasks(), 0);   // KLUE-NLI
        QCOMPARE(dialog.problem(), QString("KLUE-NLI: choose the training file."));
        QCOMPARE(dialog.problemLabel()->text(), dialog.problem());
        QTest::keyClicks(dialog.trainEdit(DownstreamTask::nli), kSamples + "missing.json");
        QVERIFY(dialog.problem().endsWith("missing.json does not exist."));
        dialog.trainEdit(DownstreamTask::nli)->clear();
        QTest::keyClicks(dialog.trainEdit(DownstreamTask::nli), kSamples + "klue_nli_dev.json");
        QVERIFY2(dialog.problem().isEmpty(), qPrintable(dialog.problem()));
        QVERIFY(dialog.queueButton()->isEnabled());
        QCOMPARE(dialog.queueButton()->text(), QString("Queue 2 fine-tunes"));

        // Settings start at the task's defaults; what the user types replaces them.
        const FinetuneSettings defaults = FinetuneSettings::defaults_for(DownstreamTask::nli);
        QCOMPARE(dialog.settings(DownstreamTask::nli).to_json(DownstreamTask::nli), defaults.to_json(DownstreamTask::nli));
        type_into(dialog.epochsBox(DownstreamTask::nli), "5");
        type_into(dialog.learningRateBox(DownstreamTask::nli), "0.0005");
        FinetuneSettings expected = defaults;
        expected.epochs = 5;
        expected.learning_rate = 5e-4;
        QCOMPARE(dialog.settings(DownstreamTask::nli).to_json(DownstreamTask::nli), expected.to_json(DownstreamTask::nli));
        // The device and CPU threads apply to every task's fine-tunes.
        QCOMPARE(dialog.threadsBox()->text(), QString("all cores"));
        type_into(dialog.threadsBox(), "1");
        expected.threads = 1;
        QCOMPARE(dialog.settings(DownstreamTask::nli).to_json(DownstreamTask::nli), expected.to_json(DownstreamTask::nli));
        QCOMPARE(dialog.settings(DownstreamTask::summarization).threads, 1);

        dialog.setOutputFolder(dir.filePath("out"));
        const std::vector<ui::FinetuneJob> jobs = dialog.jobs();
        QCOMPARE(jobs.size(), size_t(2));
        QCOMPARE(jobs[0].model, QString("S_a_B"));
        QCOMPARE(jobs[0].label, QString("S_a_B · KLUE-NLI"));
        QCOMPARE(jobs[1].model, dir.filePath("my-t5"));
        QCOMPARE(jobs[1].label, QString("my-t5 · KLUE-NLI"));
        for (const auto& job : jobs) {
            QCOMPARE(job.request.task, DownstreamTask::nli);
            QCOMPARE(QString::fromStdString(job.request.train_path), kSamples + "klue_nli_dev.json");
            QVERIFY(job.request.dev_path.empty());
            QCOMPARE(job.request.settings.to_json(DownstreamTask::nli), expected.to_json(DownstreamTask::nli));
        }
        QVERIFY(QString::fromStdString(jobs[0].request.output_dir).startsWith(dir.filePath("out/S_a_B-nli-")));
        QVERIFY(jobs[0].request.output_dir != jobs[1].request.output_dir);

        // A second task multiplies the jobs; each keeps its own settings.
        toggle_row(dialog.tasks(), 3);  // summaries
        QVERIFY(dialog.problem().startsWith(QString::fromStdString(task_title(DownstreamTask::summarization))));
        QTest::keyClicks(dialog.trainEdit(DownstreamTask::summarization), kSamples + "summaries_dev.jsonl");
        QTest::keyClicks(dialog.devEdit(DownstreamTask::summarization), kSamples + "summaries_dev.jsonl");
        QCOMPARE(dialog.jobs().size(), size_t(4));
        FinetuneSettings summary_defaults = FinetuneSettings::defaults_for(DownstreamTask::summarization);
        summary_defaults.threads = 1;
        QCOMPARE(dialog.jobs()[1].request.settings.to_json(DownstreamTask::nli), summary_defaults.to_json(DownstreamTask::nli));
        QCOMPARE(QString::fromStdString(dialog.jobs()[1].request.dev_path), kSamples + "summaries_dev.jsonl");
        // Defaults reset the task's own settings; the dialog-wide thread count stays.
        QTest::mouseClick(dialog.defaultsButton(DownstreamTask::nli), Qt::LeftButton);
        FinetuneSettings nli_defaults = defaults;
        nli_defaults.threads = 1;
        QCOMPARE(dialog.settings(DownstreamTask::nli).to_json(DownstreamTask::nli), nli_defaults.to_json(DownstreamTask::nli));
        save_screenshot(&dialog, "finetune-dialog.png");

        // Queueing remembers the files and the checked tasks for the next session.
        QSignalSpy accepted(&dialog, &QDialog::accepted);
        QTest::mouseClick(dialog.queueButton(), Qt::LeftButton);
        QCOMPARE(accepted.count(), 1);
        ui::FinetuneDialog next(dir.filePath("ws.db"));
        QCOMPARE(next.trainEdit(DownstreamTask::nli)->text(), kSamples + "klue_nli_dev.json");
        QCOMPARE(next.devEdit(DownstreamTask::summarization)->text(), kSamples + "summaries_dev.jsonl");
        QVERIFY(next.devEdit(DownstreamTask::nli)->text().isEmpty());
        QCOMPARE(next.tasks()->item(0)->checkState(), Qt::Checked);
        QCOMPARE(next.tasks()->item(1)->checkState(), Qt::Unchecked);
        QCOMPARE(next.tasks()->item(3)->checkState(), Qt::Checked);
    }

    // A tiny T_d_S pre-trained in the queue, then fine-tuned on the KLUE-NLI sample from the
    // dialog: the Runs panel follows the fine-tune, and its accuracy lands in the store and the
    // Results table, equal to what `evaluate` computes from the predictions file it wrote.
    void queuedFinetuneScoresAppearInTheResults() {
        QTemporaryDir dir;
        nlohmann::json experiment = nlohmann::json::parse(read_text_file(std::string(GS_TEST_DATA_DIR) + "/experiments/tiny_T_d_S.json"));
        experiment["budgets"] = "10steps-10steps";
        experiment["validation"]["interval_steps"] = 10;
        experiment["checkpoint_interval_steps"] = 10;
        write_file_atomically(dir.filePath("tiny.json").toStdString(), experiment.dump(2));
        ui::MainWindow window(nullptr, dir.filePath("ws.db"));
        window.show();
        QSignalSpy finished(window.runQueue(), &ui::RunQueue::finished);
        window.runPanel()->runExperiment(dir.filePath("tiny.json"));
        QTRY_VERIFY_WITH_TIMEOUT(finished.count() == 1, 240000);
        QCOMPARE(finished.takeFirst().at(0).value<ui::RunSnapshot>().state, RunStatus::done);

        QTest::mouseClick(window.runPanel()->finetuneButton(), Qt::LeftButton);
        auto* dialog = window.findChild<ui::FinetuneDialog*>();
        QVERIFY(dialog && dialog->isVisible());
        QCOMPARE(dialog->models()->count(), 1);
        toggle_row(dialog->models(), 0);
        for (DownstreamTask task : all_downstream_tasks()) dialog->setTaskChecked(task, task == DownstreamTask::nli);
        dialog->trainEdit(DownstreamTask::nli)->setText(kSamples + "klue_nli_dev.json");
        dialog->devEdit(DownstreamTask::nli)->setText(kSamples + "klue_nli_dev.json");
        FinetuneSettings settings = FinetuneSettings::defaults_for(DownstreamTask::nli);
        settings.epochs = 2, settings.batch_size = 2, settings.max_input_length = 64, settings.device = "cpu";
        dialog->setSettings(DownstreamTask::nli, settings);
        dialog->setOutputFolder(dir.filePath("finetune"));
        const std::vector<ui::FinetuneJob> jobs = dialog->jobs();
        QCOMPARE(jobs.size(), size_t(1));
        save_screenshot(dialog, "finetune-dialog-tiny.png");
        QTest::mouseClick(dialog->queueButton(), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(finished.count() == 1, 240000);
        const auto status = finished.takeFirst().at(0).value<ui::RunSnapshot>();
        QVERIFY2(status.state == RunStatus::done, qPrintable(status.error));
        QVERIFY(status.finetune);
        QCOMPARE(status.job, QString("tiny-T_d_S · KLUE-NLI"));
        QVERIFY(status.stageSteps > 0 && status.stageStep == status.stageSteps);  // the last scoring pass went through
        QCOMPARE(window.runPanel()->progress()->text(), QString("done"));
        QVERIFY2(window.runPanel()->detailsLabel()->text().startsWith("Scores: accuracy "),
                 qPrintable(window.runPanel()->detailsLabel()->text()));

        // The store holds the score against the pre-trained run, and the Results table shows it.
        Store store(dir.filePath("ws.db").toStdString());
        const std::map<std::string, double> recorded = store.summaries().at(0).results;
        const double accuracy = recorded.at("klue-nli/accuracy");
        QVERIFY(accuracy >= 0 && accuracy <= 100);
        QTableView* table = window.resultsView()->table();
        const int column = column_of(table, "KLUE-NLI acc");
        QVERIFY(column >= 0);
        QCOMPARE(table->model()->rowCount(), 1);
        QCOMPARE(table->model()->index(0, column).data().toString(), QString::number(accuracy, 'f', 2));
        // The same accuracy, scored again from the predictions file by the evaluate code.
        const QString predictions = QString::fromStdString(jobs[0].request.output_dir) + "/klue-nli-predictions.json";
        QVERIFY2(QFileInfo::exists(predictions), qPrintable(predictions));
        const Evaluation evaluation = evaluate_nli((kSamples + "klue_nli_dev.json").toStdString(), predictions.toStdString());
        QCOMPARE(evaluation.missing, 0);
        // The same count over the same total, divided in double perhaps in another order: ulps of 100.
        QVERIFY(std::abs(evaluation.metrics[0].second - accuracy) < 1e-9);

        window.findChild<QDockWidget*>("resultsDock")->raise();
        save_screenshot(&window, "finetune-results.png");

        // A long fine-tune cancelled from the panel stops at its next step and records nothing.
        ui::FinetuneJob long_job = jobs[0];
        long_job.request.settings.epochs = 500;
        long_job.request.output_dir += "-long";
        window.runQueue()->enqueueFinetune(long_job);
        // The panel follows it: phase, step of total, loss, ETA.
        QTRY_VERIFY_WITH_TIMEOUT(window.runQueue()->current().phase == "training" && window.runQueue()->current().stageStep >= 3,
                                 120000);
        QTRY_VERIFY_WITH_TIMEOUT(window.runPanel()->progress()->text().contains(QRegularExpression("^training: step \\d+ of 1500$")),
                                 5000);
        // The panel repaints from the queue's status on a timer, so it may still show the first
        // step, which has no ETA yet: wait for the next repaint rather than read it once.
        QTRY_VERIFY2_WITH_TIMEOUT(
            window.runPanel()->detailsLabel()->text().contains(QRegularExpression("loss \\d+\\.\\d{4} .* ETA \\d+:\\d\\d:\\d\\d")),
            qPrintable(window.runPanel()->detailsLabel()->text()), 5000);
        QVERIFY(window.runPanel()->cancelButton()->isEnabled());
        QVERIFY(!window.runPanel()->pauseButton()->isEnabled());  // a fine-tune cannot pause
        QTest::mouseClick(window.runPanel()->cancelButton(), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(finished.count() == 1, 60000);
        QCOMPARE(finished.takeFirst().at(0).value<ui::RunSnapshot>().state, RunStatus::cancelled);
        QVERIFY(store.summaries().at(0).results == recorded);  // still the first fine-tune's scores
    }

private:
    QTemporaryDir settings_dir_;
};

QTEST_MAIN(FinetuneTest)
#include "test_finetune.moc"
