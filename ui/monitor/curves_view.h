// Learning curves of any set of runs against a pinned reference run (Base by default), drawn
// with QCustomPlot: validation or training loss over steps, tokens, FLOPs or training hours,
// optionally aligned to each stage's start; linear or log axes; smoothing with the raw curve
// faint behind it; min/max downsampling that keeps the jump after a growth step; growth events
// as labelled vertical markers; the time each run takes to reach the reference's final loss.
#pragma once

#include <QWidget>

#include <map>
#include <string>
#include <vector>

#include "core/analysis/curves.h"

class QCheckBox;
class QComboBox;
class QCustomPlot;
class QLabel;
class QListWidget;
class QSlider;
class QTimer;

namespace gs::ui {

class CurvesView : public QWidget {
    Q_OBJECT
public:
    explicit CurvesView(QWidget* parent = nullptr);

    void load(const std::string& database_path);  // reads every run; keeps the choices made
    void reload();

    void setReference(const QString& run);
    void setAxis(CurveAxis axis);
    void setKind(CurveKind kind);
    void setSmoothing(double weight);  // 0 .. 0.99
    void setLogY(bool on);
    void setLogX(bool on);
    void setAlignToStageStart(bool on);
    void setRunShown(const QString& run, bool shown);
    void setLiveInterval(int milliseconds);  // how often new rows are read (2 s by default)

    bool exportImage(const QString& path);  // .png, .svg or .pdf by the suffix
    bool exportCsv(const QString& path);    // the shown curves on one common x grid

    QCustomPlot* plot() const { return plot_; }
    QListWidget* runList() const { return runs_; }
    QComboBox* referenceBox() const { return reference_; }
    QStringList markerLabels() const { return marker_labels_; }
    QString figuresText() const;
    // The curve drawn for a run (after smoothing), as plotted.
    Curve shownCurve(const QString& run) const;

private:
    struct RunData {
        std::string name;
        int64_t id = 0;
        std::string status;
        std::vector<MetricRow> rows;
        std::vector<GrowthEventRecord> growth;
        std::vector<StageRecord> stages;
    };

    struct StageCurve {
        Curve raw;    // downsampled
        Curve shown;  // smoothed, then downsampled
    };
    struct CachedRun {
        std::string key;  // rows and settings it was computed for
        std::map<int64_t, StageCurve> stages;
        std::string validation_key;
        Curve validation;
    };
    // Downsampling keeps about this many buckets per stage curve: enough for a screen, spikes kept.
    static constexpr size_t kBuckets = 150;

    const std::map<int64_t, StageCurve>& stageCurves(const RunData& run);
    const Curve& validationCurve(const RunData& run);
    void buildControls();
    void addNewRunsToLists(const QString& base);
    void replot();
    void plotRun(const RunData& run, const QColor& colour, bool reference);
    void addGrowthMarkers(const RunData& run, const QColor& colour);
    void updateFigures();
    void markReferenceLoss(double target);
    void markReach(double x, double target);
    void showTooltip(QMouseEvent* event);
    double axisValueAtStep(const RunData& run, int64_t step) const;
    double axisValueOf(const MetricRow& row) const;
    Curve curveOf(const RunData& run) const;
    std::vector<QString> shownRuns() const;
    void chooseExport();

    std::string database_path_;
    std::map<QString, RunData> data_;
    int64_t last_rowid_ = 0;  // the metric rows read so far: a reload fetches only newer ones
    std::map<std::string, CachedRun> cache_;
    CurveAxis axis_ = CurveAxis::hours;
    CurveKind kind_ = CurveKind::validation;
    double smoothing_ = 0.0;
    bool align_ = false;
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
    QTimer* live_ = nullptr;
};

}  // namespace gs::ui
