// growthstudio-bench-plot: how the learning-curve view copes with a large workspace. Fills a
// temporary database with a million metric rows over ten runs, then times the first load, a
// full redraw (curves recomputed), pan/zoom redraws and a live append of new rows.
#include <QApplication>
#include <QElapsedTimer>
#include <QTemporaryDir>

#include <cmath>
#include <cstdio>

#include <qcustomplot.h>

#include "core/store/store.h"
#include "ui/monitor/curves_view.h"

using namespace gs;

namespace {

constexpr int kRuns = 10;
constexpr int kRowsPerRun = 100000;

std::vector<MetricRow> rows_for(int64_t run, int64_t first_step, int count) {
    std::vector<MetricRow> rows;
    for (int64_t step = first_step; step < first_step + count; ++step) {
        MetricRow row;
        row.run_id = run, row.stage_index = step < kRowsPerRun / 2 ? 0 : 1, row.step = step;
        row.tokens = step * 4096, row.flops = step * 1e12, row.wall_seconds = step * 0.5;
        row.train_loss = 3.0 / std::log(step + 3.0) + 0.05 * std::sin(step * 0.37);
        if (step % 100 == 0) row.valid_loss = 3.0 / std::log(step + 3.0);
        rows.push_back(row);
    }
    return rows;
}

double milliseconds(const QElapsedTimer& timer) { return timer.nsecsElapsed() / 1e6; }

}  // namespace

int main(int argc, char** argv) {
    qputenv("QT_QPA_PLATFORM", qgetenv("QT_QPA_PLATFORM").isEmpty() ? "offscreen" : qgetenv("QT_QPA_PLATFORM"));
    QApplication app(argc, argv);
    QTemporaryDir dir;
    const std::string path = dir.filePath("bench.db").toStdString();
    std::vector<int64_t> runs;
    {
        Store store(path);
        for (int r = 0; r < kRuns; ++r) {
            RunRecord run;
            run.name = "run-" + std::to_string(r), run.pipeline = r == 0 ? "B" : "S_a_B", run.status = RunStatus::done;
            runs.push_back(store.create_run(run));
            store.add_metrics(rows_for(runs.back(), 1, kRowsPerRun));
        }
    }
    ui::CurvesView view;
    view.resize(1400, 800);
    view.show();
    QElapsedTimer timer;
    timer.start();
    view.load(path);
    std::printf("rows stored           %d (%d runs)\n", kRuns * kRowsPerRun, kRuns);
    std::printf("first load and draw   %.1f ms\n", milliseconds(timer));

    view.setKind(CurveKind::training);
    timer.restart();
    view.setAxis(CurveAxis::step);  // every curve recomputed and downsampled
    view.plot()->replot(QCustomPlot::rpImmediateRefresh);
    std::printf("full redraw (recomputed, training curves) %.1f ms\n", milliseconds(timer));

    double worst = 0, total = 0;
    const int frames = 50;
    for (int i = 0; i < frames; ++i) {
        view.plot()->xAxis->setRange(i * 1000.0, i * 1000.0 + 40000.0);  // a pan
        timer.restart();
        view.plot()->replot(QCustomPlot::rpImmediateRefresh);
        const double ms = milliseconds(timer);
        worst = std::max(worst, ms), total += ms;
    }
    std::printf("pan/zoom redraw       %.2f ms mean, %.2f ms worst over %d frames\n", total / frames, worst, frames);

    {
        Store store(path);
        store.add_metrics(rows_for(runs[1], kRowsPerRun + 1, 1000));
    }
    timer.restart();
    view.reload();  // reads only the new rows, recomputes that run's curves, rebuilds the graphs
    const double read = milliseconds(timer);
    timer.restart();
    view.plot()->replot(QCustomPlot::rpImmediateRefresh);
    std::printf("live append: %.1f ms reading 1,000 new rows and rebuilding the graphs, then a %.1f ms redraw\n", read,
                milliseconds(timer));
    return 0;
}
