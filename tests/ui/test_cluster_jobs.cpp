// The cluster jobs view on a workspace with three submitted jobs: one finished (merged into the
// workspace when the view reads it), one running, one Slurm has not started. The curves of jobs
// not merged yet, read live from the jobs' own databases, until the merged run takes their place.
#include <QComboBox>
#include <QDir>
#include <QDockWidget>
#include <QFile>
#include <QListWidget>
#include <QProcess>
#include <QPushButton>
#include <QSignalSpy>
#include <QTabBar>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QtTest>

#include <signal.h>
#include <sqlite3.h>

#include <qcustomplot.h>

#include "core/cluster/slurm.h"
#include "core/store/store.h"
#include "ui/main_window.h"
#include "ui/monitor/cluster_jobs_view.h"
#include "ui/monitor/curves_view.h"
#include "ui_test_support.h"

using namespace gs;
using gs::ui::test::save_screenshot;

namespace {

// A job database holding run `name` at `steps` steps with `status`.
std::string make_job_database(const QTemporaryDir& dir, const std::string& name, int steps, RunStatus status) {
    const std::string path = dir.filePath(QString::fromStdString(name + ".db")).toStdString();
    Store store(path);
    RunRecord run;
    run.name = name, run.pipeline = "T";
    const int64_t id = store.create_run(run);
    store.add_stage({id, 0, "T", "{}", "10steps", 1000, 0, std::nullopt});
    std::vector<MetricRow> rows;
    for (int step = 1; step <= steps; ++step) {
        MetricRow row;
        row.run_id = id, row.step = step, row.train_loss = 5.0 - 0.1 * step;
        rows.push_back(row);
    }
    store.add_metrics(rows);
    store.set_run_status(id, status);
    return path;
}

void add_job(Store& workspace, const std::string& run, const std::string& id, const std::string& database,
             const std::string& after = "") {
    ClusterJobRecord job;
    job.run_name = run, job.job_id = id, job.script = "/x/" + run + ".sbatch", job.database = database;
    job.depends_on = after, job.state = "submitted";
    workspace.add_cluster_job(job);
}

QString text(QTableWidget* table, int row, int column) { return table->item(row, column)->text(); }

using Points = QList<QPair<double, double>>;

// Validation rows of the run every 10 steps: loss 4 - slope * step (2.0 at step 50 by default).
void add_validation_rows(Store& store, int64_t run, int first_step, int last_step, double slope = 0.04) {
    std::vector<MetricRow> rows;
    for (int step = first_step; step <= last_step; step += 10) {
        MetricRow row;
        row.run_id = run, row.step = step, row.wall_seconds = step * 36.0;
        row.train_loss = 4.1 - slope * step, row.valid_loss = 4.0 - slope * step;
        rows.push_back(row);
    }
    store.add_metrics(rows);
}

// A run of `pipeline` with `status`, one stage.
int64_t add_run(Store& store, const std::string& name, const std::string& pipeline, RunStatus status) {
    RunRecord run;
    run.name = name, run.pipeline = pipeline, run.status = status;
    const int64_t id = store.create_run(run);
    store.add_stage({id, 0, pipeline, "{}", "100steps", 1000, 0, std::nullopt});
    return id;
}

// (step, validation or training loss) of a run, read with SQLite itself rather than through the store.
Points stored_points(const std::string& database, const std::string& run, const char* loss = "valid_loss") {
    Points points;
    sqlite3* db = nullptr;
    sqlite3_open_v2(database.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
    sqlite3_stmt* statement = nullptr;
    const std::string sql = std::string("SELECT step, ") + loss + " FROM metrics JOIN runs ON runs.id = metrics.run_id " +
                            "WHERE runs.name = ? AND " + loss + " IS NOT NULL ORDER BY step, stage_index";
    sqlite3_prepare_v2(db, sql.c_str(), -1, &statement, nullptr);
    sqlite3_bind_text(statement, 1, run.c_str(), -1, SQLITE_TRANSIENT);
    while (sqlite3_step(statement) == SQLITE_ROW) {
        points.append({sqlite3_column_double(statement, 0), sqlite3_column_double(statement, 1)});
    }
    sqlite3_finalize(statement);
    sqlite3_close(db);
    return points;
}

// The points the plot draws for the run, over all of its graphs.
Points drawn_points(ui::CurvesView* view, const QString& run) {
    Points points;
    for (int i = 0; i < view->plot()->graphCount(); ++i) {
        QCPGraph* graph = view->plot()->graph(i);
        if (graph->property("run").toString() != run) continue;
        for (auto it = graph->data()->constBegin(); it != graph->data()->constEnd(); ++it) points.append({it->key, it->value});
    }
    return points;
}

// The legend's entries for the run (one per run, whatever its stages).
QStringList legend_entries(ui::CurvesView* view, const QString& run) {
    QStringList names;
    for (int i = 0; i < view->plot()->graphCount(); ++i) {
        QCPGraph* graph = view->plot()->graph(i);
        if (graph->property("run").toString() == run && view->plot()->legend->hasItemWithPlottable(graph)) {
            names << graph->name();
        }
    }
    return names;
}

QList<QListWidgetItem*> run_items(ui::CurvesView* view, const QString& run) {
    QList<QListWidgetItem*> items;
    for (int i = 0; i < view->runList()->count(); ++i) {
        if (view->runList()->item(i)->data(Qt::UserRole).toString() == run) items << view->runList()->item(i);
    }
    return items;
}

// The dock whose tab is in front among the tabbed docks below the canvas.
QString front_dock(QWidget& window) {
    for (QTabBar* bar : window.findChildren<QTabBar*>()) {
        for (int i = 0; i < bar->count(); ++i) {
            if (bar->tabText(i) == "Learning curves") return bar->tabText(bar->currentIndex());
        }
    }
    return {};
}

}  // namespace

class ClusterJobsTest : public QObject {
    Q_OBJECT
private slots:
    void listsJobsAndMergesFinishedOnes() {
        QTemporaryDir dir;
        const std::string workspace_path = dir.filePath("ws.db").toStdString();
        {
            Store workspace(workspace_path);
            add_job(workspace, "T", "7", make_job_database(dir, "T", 10, RunStatus::done));
            add_job(workspace, "S", "8", make_job_database(dir, "S", 4, RunStatus::running));
            add_job(workspace, "T_d_S", "9", dir.filePath("never.db").toStdString(), "7");
        }
        ui::ClusterJobsView view;
        QSignalSpy merged(&view, &ui::ClusterJobsView::runsMerged);
        view.load(workspace_path);
        QTableWidget* table = view.table();
        QCOMPARE(table->rowCount(), 3);
        QCOMPARE(text(table, 0, 0), QStringLiteral("7"));
        QCOMPARE(text(table, 0, 2), QStringLiteral("merged"));
        QCOMPARE(text(table, 0, 3), QStringLiteral("10"));
        QCOMPARE(text(table, 1, 2), QStringLiteral("running"));
        QCOMPARE(text(table, 1, 3), QStringLiteral("4"));
        QCOMPARE(text(table, 2, 2), QStringLiteral("waiting"));
        QCOMPARE(text(table, 2, 4), QStringLiteral("7"));
        QCOMPARE(merged.count(), 1);
        {
            Store workspace(workspace_path);
            const auto run = workspace.find_run("T");
            QVERIFY(run.has_value());
            QCOMPARE(workspace.metrics(run->id).size(), size_t(10));  // T's curve is in the workspace
            QVERIFY(!workspace.find_run("S"));                       // a running job stays in its own database
        }

        // S finishes; Sync merges it.
        {
            Store job(dir.filePath("S.db").toStdString());
            job.set_run_status(job.find_run("S")->id, RunStatus::done);
        }
        QTest::mouseClick(view.syncButton(), Qt::LeftButton);
        QCOMPARE(text(table, 1, 2), QStringLiteral("merged"));
        QCOMPARE(merged.count(), 2);
        Store workspace(workspace_path);
        QVERIFY(workspace.find_run("S").has_value());
    }

    // S_a_B trains on the cluster: its curve is drawn from its own database beside the workspace's
    // Base run, grows as the job writes, and is replaced by the merged run once the job is done.
    void runningJobsCurvesAreShownLiveUntilMerged() {
        QTemporaryDir dir;
        const std::string workspace_path = dir.filePath("ws.db").toStdString();
        const std::string job_path = dir.filePath("S_a_B.db").toStdString();
        int64_t job_run = 0;
        {
            Store workspace(workspace_path);
            const int64_t base = add_run(workspace, "B", "B", RunStatus::done);
            add_validation_rows(workspace, base, 10, 100, 0.02);  // ends at 2.0, which S_a_B reaches at step 50
            Store job(job_path);
            job_run = add_run(job, "S_a_B", "S_a_B", RunStatus::running);
            add_validation_rows(job, job_run, 10, 30);
            add_job(workspace, "S_a_B", "8", job_path);
        }
        ui::MainWindow window(nullptr, dir.filePath("ws.db"));
        ui::CurvesView* curves = window.curvesView();
        curves->setAxis(CurveAxis::step);
        QCOMPARE(curves->referenceBox()->currentText(), QStringLiteral("B"));
        QCOMPARE(run_items(curves, "S_a_B").size(), 1);
        QCOMPARE(run_items(curves, "S_a_B")[0]->text(), QStringLiteral("S_a_B (cluster, running)"));
        const Points first = stored_points(job_path, "S_a_B");
        QCOMPARE(first.size(), 3);
        QCOMPARE(drawn_points(curves, "S_a_B"), first);
        QCOMPARE(legend_entries(curves, "S_a_B"), QStringList{"S_a_B (cluster, running)"});
        QVERIFY2(curves->figuresText().contains("S_a_B has not reached it"), qPrintable(curves->figuresText()));

        // The job writes on; the next live refresh draws the new rows.
        {
            Store job(job_path);
            add_validation_rows(job, job_run, 40, 70);
        }
        curves->setLiveInterval(50);
        QTRY_COMPARE(drawn_points(curves, "S_a_B").size(), 7);
        QCOMPARE(drawn_points(curves, "S_a_B"), stored_points(job_path, "S_a_B"));
        QVERIFY2(curves->figuresText().contains("S_a_B reaches it at 50"), qPrintable(curves->figuresText()));
        save_screenshot(&window, "cluster-curves.png");

        // Double-clicking the job in the dock shows its curve, highlighted, even when it was hidden.
        curves->setRunShown("S_a_B", false);
        QVERIFY(drawn_points(curves, "S_a_B").isEmpty());
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        window.findChild<QDockWidget*>(QStringLiteral("clusterDock"))->raise();  // the tab behind the curves
        QCOMPARE(front_dock(window), QStringLiteral("Cluster jobs"));
        QTableWidget* table = window.clusterJobsView()->table();
        const QRect cell = table->visualItemRect(table->item(0, 1));
        QTest::mouseClick(table->viewport(), Qt::LeftButton, {}, cell.center());  // a double click's first press
        QTest::mouseDClick(table->viewport(), Qt::LeftButton, {}, cell.center());
        QCOMPARE(curves->highlightedRun(), QStringLiteral("S_a_B"));
        QCOMPARE(front_dock(window), QStringLiteral("Learning curves"));
        QCOMPARE(run_items(curves, "S_a_B")[0]->checkState(), Qt::Checked);
        QCOMPARE(curves->runList()->currentItem(), run_items(curves, "S_a_B")[0]);
        QCOMPARE(drawn_points(curves, "S_a_B").size(), 7);
        for (int i = 0; i < curves->plot()->graphCount(); ++i) {
            QCPGraph* graph = curves->plot()->graph(i);
            if (graph->property("run").toString() == "S_a_B") QCOMPARE(graph->pen().widthF(), 3.0);
        }

        // The job finishes and Sync merges it: one curve, the workspace's, with the same points.
        {
            Store job(job_path);
            job.set_run_status(job_run, RunStatus::done);
        }
        QTest::mouseClick(window.clusterJobsView()->syncButton(), Qt::LeftButton);
        QCOMPARE(text(table, 0, 2), QStringLiteral("merged"));
        QCOMPARE(run_items(curves, "S_a_B").size(), 1);
        QCOMPARE(run_items(curves, "S_a_B")[0]->text(), QStringLiteral("S_a_B"));
        QCOMPARE(legend_entries(curves, "S_a_B"), QStringList{"S_a_B"});
        QCOMPARE(stored_points(workspace_path, "S_a_B"), stored_points(job_path, "S_a_B"));
        QCOMPARE(drawn_points(curves, "S_a_B"), stored_points(workspace_path, "S_a_B"));
        QTest::qWait(200);  // live refreshes after the merge add nothing twice
        QCOMPARE(drawn_points(curves, "S_a_B").size(), 7);
        QCOMPARE(run_items(curves, "S_a_B").size(), 1);
    }

    // A job whose database does not exist yet, one whose file is not a database, and one whose
    // database breaks after it was read: the view names each state and keeps what it read.
    void unreadableJobDatabasesShowAState() {
        QTemporaryDir dir;
        const std::string workspace_path = dir.filePath("ws.db").toStdString();
        const std::string later = dir.filePath("T.db").toStdString();
        const QString garbage = dir.filePath("X.db");
        const std::string broken = dir.filePath("S.db").toStdString();
        {
            QFile file(garbage);
            QVERIFY(file.open(QIODevice::WriteOnly));
            file.write(QByteArray(4096, 'x'));
        }
        {
            Store workspace(workspace_path);
            add_job(workspace, "T", "7", later);
            add_job(workspace, "X", "8", garbage.toStdString());
            Store job(broken);
            add_validation_rows(job, add_run(job, "S", "S", RunStatus::running), 10, 40);
            add_job(workspace, "S", "9", broken);
        }
        ui::CurvesView view;
        view.setAxis(CurveAxis::step);
        view.load(workspace_path);
        QCOMPARE(run_items(&view, "T")[0]->text(), QStringLiteral("T (cluster, waiting)"));
        QCOMPARE(run_items(&view, "X")[0]->text(), QStringLiteral("X (cluster, unreadable)"));
        QVERIFY(run_items(&view, "X")[0]->toolTip().contains(garbage + ": "));
        QVERIFY2(run_items(&view, "X")[0]->toolTip().contains("not a database"), qPrintable(run_items(&view, "X")[0]->toolTip()));
        QVERIFY(drawn_points(&view, "T").isEmpty() && drawn_points(&view, "X").isEmpty());
        QCOMPARE(drawn_points(&view, "S").size(), 4);
        view.setReference("S");  // a cluster job's run can be the reference too
        QVERIFY2(view.figuresText().contains("T has no validation loss yet"), qPrintable(view.figuresText()));

        // T's job starts; S's file is overwritten by something that is not a database.
        {
            Store job(later);
            add_validation_rows(job, add_run(job, "T", "T", RunStatus::running), 10, 20);
        }
        QFile::remove(QString::fromStdString(broken));
        QVERIFY(QFile::copy(garbage, QString::fromStdString(broken)));
        view.reload();
        QCOMPARE(run_items(&view, "T")[0]->text(), QStringLiteral("T (cluster, running)"));
        QCOMPARE(drawn_points(&view, "T"), stored_points(later, "T"));
        QCOMPARE(run_items(&view, "S")[0]->text(), QStringLiteral("S (cluster, running, unreadable)"));
        QCOMPARE(drawn_points(&view, "S").size(), 4);  // what was read before
    }

    // A real job: growthstudio-cli trains the tiny experiment into the job's own database while
    // the view reads it. Stopped midway, the view shows exactly what the job has stored so far;
    // reading the file while the job writes it never fails; done and merged, one curve remains.
    void followsARealJobAsItTrains() {
        QTemporaryDir dir;
        const QString experiment = dir.filePath("tiny.json");
        {
            QFile source(QString(GS_TEST_DATA_DIR) + "/experiments/tiny_T_d_S.json"), target(experiment);
            QVERIFY(source.open(QIODevice::ReadOnly) && target.open(QIODevice::WriteOnly));
            target.write(source.readAll().replace("40steps-40steps", "150steps-150steps"));  // time to watch it
        }
        const std::string workspace_path = dir.filePath("ws.db").toStdString();
        const std::string job_path = dir.filePath("runs/tiny-T_d_S/tiny-T_d_S.db").toStdString();
        {
            Store workspace(workspace_path);
            add_job(workspace, "tiny-T_d_S", "12", job_path);
        }
        ui::CurvesView view;
        view.setKind(CurveKind::training);
        view.setAxis(CurveAxis::step);
        view.load(workspace_path);
        view.setLiveInterval(20);
        QCOMPARE(run_items(&view, "tiny-T_d_S")[0]->text(), QStringLiteral("tiny-T_d_S (cluster, waiting)"));

        QProcess job;
        job.setWorkingDirectory(dir.path());
        job.setProcessChannelMode(QProcess::ForwardedErrorChannel);
        job.start(GS_CLI_PATH, {"run", experiment, "--db", QString::fromStdString(job_path), "--runs-dir",
                                dir.filePath("runs"), "--quiet"});
        QVERIFY(job.waitForStarted());
        QStringList labels;
        QTRY_VERIFY_WITH_TIMEOUT((labels << run_items(&view, "tiny-T_d_S")[0]->text(),
                                  drawn_points(&view, "tiny-T_d_S").size() >= 20),
                                 60000);
        ::kill(static_cast<pid_t>(job.processId()), SIGSTOP);
        QTest::qWait(300);  // rows committed before the stop reach the view
        const Points partial = stored_points(job_path, "tiny-T_d_S", "train_loss");
        QVERIFY2(partial.size() < 300, qPrintable(QString::number(partial.size())));
        QCOMPARE(run_items(&view, "tiny-T_d_S")[0]->text(), QStringLiteral("tiny-T_d_S (cluster, running)"));
        QCOMPARE(drawn_points(&view, "tiny-T_d_S"), partial);
        ::kill(static_cast<pid_t>(job.processId()), SIGCONT);

        while (!job.waitForFinished(20)) labels << run_items(&view, "tiny-T_d_S")[0]->text();
        QCOMPARE(job.exitCode(), 0);
        QVERIFY2(labels.filter("unreadable").isEmpty(), qPrintable(labels.filter("unreadable").join("; ")));
        QTRY_COMPARE(run_items(&view, "tiny-T_d_S")[0]->text(), QStringLiteral("tiny-T_d_S (cluster, done)"));
        const Points trained = stored_points(job_path, "tiny-T_d_S", "train_loss");
        QCOMPARE(trained.size(), 300);
        QCOMPARE(drawn_points(&view, "tiny-T_d_S"), trained);
        QCOMPARE(view.markerLabels(), QStringList{"tiny-T_d_S: T→S (d)"});

        {
            Store workspace(workspace_path);
            QCOMPARE(sync_cluster_jobs(workspace)[0].state, std::string("merged"));
        }
        view.reload();
        QCOMPARE(run_items(&view, "tiny-T_d_S").size(), 1);
        QCOMPARE(run_items(&view, "tiny-T_d_S")[0]->text(), QStringLiteral("tiny-T_d_S"));
        QCOMPARE(drawn_points(&view, "tiny-T_d_S"), stored_points(workspace_path, "tiny-T_d_S", "train_loss"));
        QCOMPARE(drawn_points(&view, "tiny-T_d_S"), trained);
    }

    void mainWindowHasTheClusterDock() {
        QTemporaryDir dir;
        ui::MainWindow window(nullptr, dir.filePath("ws.db"));
        QVERIFY(window.clusterJobsView() != nullptr);
        QVERIFY(window.findChild<QDockWidget*>(QStringLiteral("clusterDock")) != nullptr);
    }
};

QTEST_MAIN(ClusterJobsTest)
#include "test_cluster_jobs.moc"
