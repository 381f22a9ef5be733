// The cluster jobs view on a workspace with three submitted jobs: one finished (merged into the
// workspace when the view reads it), one running, one Slurm has not started.
#include <QDockWidget>
#include <QPushButton>
#include <QSignalSpy>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QtTest>

#include "core/store/store.h"
#include "ui/main_window.h"
#include "ui/monitor/cluster_jobs_view.h"

using namespace gs;

namespace {

// A job database holding run `name` at `steps` steps with `status`.
std::string make_job_database(const QTemporaryDir& dir, const std::string& name, int steps, const std::string& status) {
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

}  // namespace

class ClusterJobsTest : public QObject {
    Q_OBJECT
private slots:
    void listsJobsAndMergesFinishedOnes() {
        QTemporaryDir dir;
        const std::string workspace_path = dir.filePath("ws.db").toStdString();
        {
            Store workspace(workspace_path);
            add_job(workspace, "T", "7", make_job_database(dir, "T", 10, "done"));
            add_job(workspace, "S", "8", make_job_database(dir, "S", 4, "running"));
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
            job.set_run_status(job.find_run("S")->id, "done");
        }
        QTest::mouseClick(view.syncButton(), Qt::LeftButton);
        QCOMPARE(text(table, 1, 2), QStringLiteral("merged"));
        QCOMPARE(merged.count(), 2);
        Store workspace(workspace_path);
        QVERIFY(workspace.find_run("S").has_value());
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
