// growthstudio-report DB OUT_DIR [--reference RUN] [RUN...]: the learning-curve figures of a
// study, drawn by the GUI's own curve view (offscreen, no window): validation loss (log axis)
// against training hours and against training FLOPs, the given runs (all when none) against the
// reference, as PNG and SVG. growthstudio-cli study runs it when it was built beside it.
#include <QApplication>
#include <QDir>
#include <QListWidget>

#include <cstdio>

#include "ui/monitor/curves_view.h"

namespace {

struct Request {
    QString database, folder, reference;
    QStringList runs;
};

bool parse(const QStringList& words, Request& request) {
    QStringList positional;
    for (int i = 0; i < words.size(); ++i) {
        if (words[i] == "--reference" && i + 1 < words.size()) {
            request.reference = words[++i];
        } else if (words[i].startsWith("--")) {
            return false;
        } else {
            positional << words[i];
        }
    }
    if (positional.size() < 2) return false;
    request.database = positional.takeFirst();
    request.folder = positional.takeFirst();
    request.runs = positional;
    return true;
}

bool export_figures(gs::ui::CurvesView& view, const QString& stem) {
    return view.exportImage(stem + ".png") && view.exportImage(stem + ".svg");
}

}  // namespace

int main(int argc, char** argv) {
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication app(argc, argv);
    Request request;
    if (!parse(app.arguments().mid(1), request)) {
        std::fprintf(stderr, "usage: growthstudio-report DB OUT_DIR [--reference RUN] [RUN...]\n");
        return 2;
    }
    if (!QFileInfo::exists(request.database)) {
        std::fprintf(stderr, "growthstudio-report: %s: no such database\n", qPrintable(request.database));
        return 1;
    }
    gs::ui::CurvesView view;
    view.resize(1200, 750);
    view.setFollowClusterJobs(false);  // a study's figures show the workspace's runs, not runs still training elsewhere
    view.load(request.database.toStdString());
    if (!view.model().problem().empty()) {  // a locked or corrupt file: no figures of nothing
        std::fprintf(stderr, "growthstudio-report: %s\n", view.model().problem().c_str());
        return 1;
    }
    if (!request.reference.isEmpty()) view.setReference(request.reference);
    if (!request.runs.isEmpty()) {
        for (int i = 0; i < view.runList()->count(); ++i) {
            const QString run = view.runList()->item(i)->data(Qt::UserRole).toString();
            view.setRunShown(run, request.runs.contains(run));
        }
    }
    QDir().mkpath(request.folder);
    const QString stem = QDir(request.folder).filePath("learning-curves");
    view.setLogY(true);  // a fresh model starts near ln(vocabulary) and more: a linear axis hides the end
    view.setAxis(gs::CurveAxis::hours);
    bool written = export_figures(view, stem);
    view.setAxis(gs::CurveAxis::flops);
    written = written && export_figures(view, stem + "-flops");
    if (!written) {
        std::fprintf(stderr, "growthstudio-report: cannot write the figures into %s\n", qPrintable(request.folder));
        return 1;
    }
    std::printf("figures written to %s (learning-curves.png/.svg, learning-curves-flops.png/.svg)\n",
                qPrintable(request.folder));
    return 0;
}
