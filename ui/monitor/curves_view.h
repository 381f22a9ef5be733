// Learning curves of any set of runs against a pinned reference run (Base by default), drawn
// with QCustomPlot: validation or training loss over steps, tokens, FLOPs or training hours,
// optionally aligned to each stage's start; linear or log axes; smoothing with the raw curve
// faint behind it; min/max downsampling that keeps the jump after a growth step; growth events
// as labelled vertical markers; the time each run takes to reach the reference's final loss.
// Runs of cluster jobs that sync has not merged yet are read live from each job's own database
// and drawn beside the workspace's runs, marked "(cluster, STATE)", until the merged run takes
// their place.
#pragma once

#include <QWidget>

#include <map>
#include <string>
#include <vector>

#include "core/analysis/curves.h"
#include "core/cluster/job_follower.h"

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
    // Whether runs of cluster jobs not merged yet are shown (read from the jobs' databases; on by
    // default). Takes effect at the next load.
    void setFollowClusterJobs(bool on) { follow_cluster_jobs_ = on; }
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

private:
    struct RunData {
        std::string name;
        int64_t id = 0;
        std::string status;
        std::vector<MetricRow> rows;
        std::vector<GrowthEventRecord> growth;
        std::vector<StageRecord> stages;
        // A cluster job's run not merged yet: its state ("waiting", "queued", "running", ...; ""
        // before its database could be read), why it could not be read at the last refresh, and
        // where it is.
        bool cluster = false;
        std::string cluster_state, problem, database;
        int64_t generation = 0;  // the follower's: rows are extended while it stays the same
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
    bool followClusterJobs(Store& workspace);
    void takeFollowedRun(const QString& name, const JobRunFollower& follower);
    QListWidgetItem* runItem(const QString& run) const;
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
    std::map<QString, JobRunFollower> followers_;  // by run name: the cluster jobs not merged yet
    bool follow_cluster_jobs_ = true;
    QString highlighted_;
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
