// Learning curves of any set of runs against a pinned reference run (Base by default), drawn
// with QCustomPlot: validation or training loss over steps, tokens, FLOPs or training hours,
// optionally aligned to each stage's start; linear or log axes; smoothing with the raw curve
// faint behind it; min/max downsampling that keeps the jump after a growth step; growth events
// as labelled vertical markers; the time each run takes to reach the reference's final loss.
// Runs of cluster jobs that sync has not merged yet are drawn beside the workspace's runs,
// marked "(cluster, STATE)", until the merged run takes their place.
//
// The data, its live reading and the figures are core's `CurvesModel`; this view draws what the
// model holds and asks it for new rows every 2 s. A workspace that cannot be read at a refresh
// shows why above the plot, keeps the curves read before, and is read again at the next one.
#pragma once

#include <QWidget>

#include <string>
#include <vector>

#include "core/analysis/curves_model.h"

class QCheckBox;
class QComboBox;
class QCustomPlot;
class QLabel;
class QListWidget;
class QListWidgetItem;
class QSlider;
class QTimer;

namespace gs::ui {

class CurvesView : public QWidget {
    Q_OBJECT
public:
    explicit CurvesView(QWidget* parent = nullptr);

    void load(const std::string& database_path);  // reads every run; keeps the choices made
    void reload();  // reads what is new; never throws (a problem is shown in the panel)

    void setReference(const QString& run);
    void setAxis(CurveAxis axis);
    void setKind(CurveKind kind);
    void setSmoothing(double weight);  // 0 .. 0.99
    void setLogY(bool on);
    void setLogX(bool on);
    void setAlignToStageStart(bool on);
    void setRunShown(const QString& run, bool shown);
    void setLiveInterval(int milliseconds);  // how often new rows are read (2 s by default)
    // Whether runs of cluster jobs not merged yet are shown (read from the jobs' databases; on by
    // default). Takes effect at the next load.
    void setFollowClusterJobs(bool on) { model_.setFollowClusterJobs(on); }
    // Shows the run (checks it in the list, selects it) and draws it with a wider pen.
    void highlightRun(const QString& run);
    QString highlightedRun() const { return highlighted_; }

    bool exportImage(const QString& path);  // .png, .svg or .pdf by the suffix
    bool exportCsv(const QString& path);    // the shown curves on one common x grid

    QCustomPlot* plot() const { return plot_; }
    // Each item's text is the run's label; Qt::UserRole holds its name.
    QListWidget* runList() const { return runs_; }
    QString runLabel(const QString& run) const;
    QComboBox* referenceBox() const { return reference_; }
    QStringList markerLabels() const { return marker_labels_; }
    QString figuresText() const;
    // The curve drawn for a run (after smoothing), as plotted.
    Curve shownCurve(const QString& run) const;
    // Why the workspace could not be read at the last refresh ("" when it could), as shown.
    QString problemText() const;
    const CurvesModel& model() const { return model_; }

private:
    void buildControls();
    void showProblem();
    void addNewRunsToLists();
    QListWidgetItem* runItem(const QString& run) const;
    void replot();
    void plotRun(const CurveRun& run, const QColor& colour, bool reference);
    void addGrowthMarkers(const CurveRun& run, const QColor& colour);
    void updateFigures();
    void markReferenceLoss(double target);
    void markReach(double x, double target);
    void showTooltip(QMouseEvent* event);
    double axisValueAtStep(const CurveRun& run, int64_t step) const;
    std::vector<QString> shownRuns() const;
    void chooseExport();

    CurvesModel model_;
    QString highlighted_;
    QStringList marker_labels_;

    QCustomPlot* plot_ = nullptr;
    QListWidget* runs_ = nullptr;
    QComboBox* reference_ = nullptr;
    QComboBox* axis_box_ = nullptr;
    QComboBox* kind_box_ = nullptr;
    QCheckBox* log_y_ = nullptr;
    QCheckBox* log_x_ = nullptr;
    QCheckBox* align_box_ = nullptr;
    QSlider* smoothing_slider_ = nullptr;
    QLabel* smoothing_label_ = nullptr;
    QLabel* figures_ = nullptr;
    QLabel* problem_ = nullptr;
    QTimer* live_ = nullptr;
};

}  // namespace gs::ui
