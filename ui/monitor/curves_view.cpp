#include "ui/monitor/curves_view.h"

#include <QCheckBox>
#include <QComboBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QListWidget>
#include <QPushButton>
#include <QSlider>
#include <QSvgGenerator>
#include <QTimer>
#include <QToolTip>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include <qcustomplot.h>

#include "core/io/files.h"
#include "core/store/results_table.h"

namespace gs::ui {

namespace {

const QList<QColor> kPalette = {QColor(31, 119, 180), QColor(214, 39, 40), QColor(44, 160, 44), QColor(148, 103, 189),
                                QColor(255, 127, 14), QColor(140, 86, 75),  QColor(227, 119, 194), QColor(23, 190, 207)};

QVector<double> xs(const Curve& curve) {
    QVector<double> values;
    for (const auto& p : curve) values.push_back(p.x);
    return values;
}

QVector<double> ys(const Curve& curve) {
    QVector<double> values;
    for (const auto& p : curve) values.push_back(p.y);
    return values;
}

// Stage k of a run is drawn in the run's colour, a little lighter at each later stage.
QColor stage_colour(const QColor& base, int64_t stage) { return base.lighter(100 + 25 * static_cast<int>(stage)); }

}  // namespace

CurvesView::CurvesView(QWidget* parent) : QWidget(parent) {
    plot_ = new QCustomPlot(this);
    plot_->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    // Dense curves: thin pens drawn as fast polylines, no antialiasing while dragging.
    plot_->setPlottingHint(QCP::phFastPolylines, true);
    plot_->setNoAntialiasingOnDrag(true);
    plot_->setNotAntialiasedElements(QCP::aePlottables);
    plot_->legend->setVisible(true);
    plot_->yAxis->setLabel(tr("validation loss"));
    plot_->setMinimumSize(480, 320);
    connect(plot_, &QCustomPlot::mouseMove, this, &CurvesView::showTooltip);
    buildControls();
    live_ = new QTimer(this);
    live_->setInterval(2000);  // new rows are read every 2 s (only the new ones), and drawn if any
    connect(live_, &QTimer::timeout, this, &CurvesView::reload);
}

void CurvesView::buildControls() {
    runs_ = new QListWidget(this);
    runs_->setMaximumWidth(220);
    connect(runs_, &QListWidget::itemChanged, this, [this] { replot(); });
    reference_ = new QComboBox(this);
    connect(reference_, &QComboBox::currentTextChanged, this, [this] { replot(); });
    axis_box_ = new QComboBox(this);
    for (CurveAxis axis : {CurveAxis::hours, CurveAxis::step, CurveAxis::tokens, CurveAxis::flops}) {
        axis_box_->addItem(QString::fromStdString(axis_label(axis)), static_cast<int>(axis));
    }
    connect(axis_box_, qOverload<int>(&QComboBox::currentIndexChanged), this,
            [this] { setAxis(static_cast<CurveAxis>(axis_box_->currentData().toInt())); });
    kind_box_ = new QComboBox(this);
    kind_box_->addItems({tr("validation loss"), tr("training loss")});
    connect(kind_box_, qOverload<int>(&QComboBox::currentIndexChanged), this,
            [this](int index) { setKind(index == 0 ? CurveKind::validation : CurveKind::training); });
    log_y_ = new QCheckBox(tr("log loss axis"), this);
    connect(log_y_, &QCheckBox::toggled, this, &CurvesView::setLogY);
    log_x_ = new QCheckBox(tr("log x axis"), this);
    connect(log_x_, &QCheckBox::toggled, this, &CurvesView::setLogX);
    align_box_ = new QCheckBox(tr("align to stage start"), this);
    connect(align_box_, &QCheckBox::toggled, this, &CurvesView::setAlignToStageStart);
    smoothing_slider_ = new QSlider(Qt::Horizontal, this);
    smoothing_slider_->setRange(0, 99);
    smoothing_label_ = new QLabel(this);
    connect(smoothing_slider_, &QSlider::valueChanged, this, [this](int value) { setSmoothing(value / 100.0); });
    auto* exportButton = new QPushButton(tr("Export…"), this);
    connect(exportButton, &QPushButton::clicked, this, &CurvesView::chooseExport);
    figures_ = new QLabel(this);
    figures_->setWordWrap(true);
    figures_->setTextInteractionFlags(Qt::TextSelectableByMouse);

    auto* form = new QFormLayout;
    form->addRow(tr("Reference"), reference_);
    form->addRow(tr("X axis"), axis_box_);
    form->addRow(tr("Curve"), kind_box_);
    form->addRow(log_y_);
    form->addRow(log_x_);
    form->addRow(align_box_);
    form->addRow(tr("Smoothing"), smoothing_slider_);
    form->addRow(QString(), smoothing_label_);
    form->addRow(exportButton);
    auto* side = new QVBoxLayout;
    side->addWidget(new QLabel(tr("Runs"), this));
    side->addWidget(runs_, 1);
    side->addLayout(form);
    auto* main = new QVBoxLayout;
    main->addWidget(plot_, 1);
    main->addWidget(figures_);
    auto* layout = new QHBoxLayout(this);
    layout->addLayout(side);
    layout->addLayout(main, 1);
    setSmoothing(0.0);
}

void CurvesView::load(const std::string& database_path) {
    database_path_ = database_path;
    data_.clear();
    cache_.clear();
    last_rowid_ = 0;
    followers_.clear();
    reload();
    replot();
    live_->start();
}

void CurvesView::reload() {
    if (database_path_.empty()) return;
    Store store(database_path_);
    bool changed = false;
    QString base;
    // New rows of every run in one read (only those after the last row seen) ...
    std::vector<MetricRow> fresh;
    if (data_.empty()) {
        last_rowid_ = store.last_metric_rowid();  // the first load reads each run whole, below
    } else {
        fresh = store.metrics_since(last_rowid_);
    }
    std::map<int64_t, RunData*> by_id;
    std::set<int64_t> reread;
    for (const auto& summary : store.summaries()) {
        const QString name = QString::fromStdString(summary.run.name);
        RunData& run = data_[name];
        const bool rewound = !run.rows.empty() && summary.step < run.rows.back().step;  // a resumed run
        // A cluster job's run shown until now gives way to the merged one.
        if (run.id != summary.run.id || rewound || run.cluster) {
            // ... and a run seen for the first time (or rewound) read whole, up to the same row.
            run = RunData();
            run.name = summary.run.name, run.id = summary.run.id;
            run.rows = store.metrics(run.id, last_rowid_);
            cache_.erase(run.name);  // its curves may differ at the same number of rows
            reread.insert(run.id);
            changed = true;
        }
        run.growth = store.growth_events(run.id);
        run.stages = store.stages(run.id);
        changed = changed || run.status != summary.run.status;
        run.status = summary.run.status;
        by_id[run.id] = &run;
        if (is_default_reference(summary.run)) base = name;
    }
    for (const MetricRow& row : fresh) {
        auto it = by_id.find(row.run_id);
        if (it == by_id.end() || reread.count(row.run_id)) continue;
        it->second->rows.push_back(row);
        changed = true;
    }
    changed = followClusterJobs(store) || changed;
    addNewRunsToLists(base);
    if (changed) replot();
}

// The runs of cluster jobs not merged yet, each read from its job's own database (only the rows
// added since the last refresh; a database that cannot be read now keeps what was read and shows
// why). A resubmitted run's latest job counts; a merged job's run is the workspace's.
bool CurvesView::followClusterJobs(Store& workspace) {
    if (!follow_cluster_jobs_) return false;
    std::map<QString, ClusterJobRecord> latest;
    for (const ClusterJobRecord& job : workspace.cluster_jobs()) latest[QString::fromStdString(job.run_name)] = job;
    std::map<QString, JobRunFollower> followers;
    bool changed = false;
    for (const auto& [name, job] : latest) {
        auto known = data_.find(name);
        const bool in_workspace = known != data_.end() && !known->second.cluster;
        if (job.state == "merged" || in_workspace) continue;
        auto it = followers_.find(name);
        if (it == followers_.end() || it->second.database() != job.database) {
            it = followers_.insert_or_assign(name, JobRunFollower(job.database, job.run_name)).first;
        }
        if (it->second.poll() || known == data_.end()) {
            takeFollowedRun(name, it->second);
            changed = true;
        }
        followers.emplace(name, std::move(it->second));
    }
    followers_ = std::move(followers);
    return changed;
}

// The follower's run into data_: new rows appended, or all of them after the job read its run
// whole again.
void CurvesView::takeFollowedRun(const QString& name, const JobRunFollower& follower) {
    RunData& run = data_[name];
    const FollowedRun& followed = follower.run();
    if (!run.cluster || run.generation != follower.generation() || run.rows.size() > followed.rows.size()) {
        run.rows.clear();
        cache_.erase(name.toStdString());
    }
    run.rows.insert(run.rows.end(), followed.rows.begin() + static_cast<std::ptrdiff_t>(run.rows.size()),
                    followed.rows.end());
    run.name = name.toStdString();
    run.id = followed.run.id;
    run.status = follower.state();
    run.growth = followed.growth;
    run.stages = followed.stages;
    run.cluster = true;
    run.cluster_state = follower.state();
    run.problem = follower.problem();
    run.database = follower.database();
    run.generation = follower.generation();
}

QString CurvesView::runLabel(const QString& name) const {
    auto it = data_.find(name);
    if (it == data_.end() || !it->second.cluster) return name;
    const RunData& run = it->second;
    QStringList marks{tr("cluster")};
    if (!run.cluster_state.empty()) marks << QString::fromStdString(run.cluster_state);
    if (!run.problem.empty()) marks << tr("unreadable");
    return QStringLiteral("%1 (%2)").arg(name, marks.join(QStringLiteral(", ")));
}

QListWidgetItem* CurvesView::runItem(const QString& run) const {
    for (int i = 0; i < runs_->count(); ++i) {
        if (runs_->item(i)->data(Qt::UserRole).toString() == run) return runs_->item(i);
    }
    return nullptr;
}

// New runs join the lists checked; every item's label follows its run's state.
void CurvesView::addNewRunsToLists(const QString& base) {
    const QSignalBlocker block_runs(runs_), block_reference(reference_);
    const QString reference = reference_->currentText().isEmpty() ? base : reference_->currentText();
    for (const auto& [name, run] : data_) {
        QListWidgetItem* item = runItem(name);
        if (!item) {
            item = new QListWidgetItem(runs_);
            item->setData(Qt::UserRole, name);
            item->setFlags(item->flags() | Qt::ItemIsUserCheckable);
            item->setCheckState(Qt::Checked);
            reference_->addItem(name);
        }
        item->setText(runLabel(name));
        item->setToolTip(!run.cluster
                             ? QString()
                             : tr("Read from the job's database %1\n%2")
                                   .arg(QString::fromStdString(run.database), QString::fromStdString(run.problem)));
    }
    if (reference_->findText(QString()) < 0) reference_->insertItem(0, QString());  // "no reference"
    reference_->setCurrentText(reference);
}

void CurvesView::setLiveInterval(int milliseconds) { live_->setInterval(milliseconds); }

void CurvesView::setReference(const QString& run) { reference_->setCurrentText(run); }

void CurvesView::setAxis(CurveAxis axis) {
    axis_ = axis;
    const QSignalBlocker block(axis_box_);
    axis_box_->setCurrentIndex(axis_box_->findData(static_cast<int>(axis)));
    replot();
}

void CurvesView::setKind(CurveKind kind) {
    kind_ = kind;
    const QSignalBlocker block(kind_box_);
    kind_box_->setCurrentIndex(kind == CurveKind::validation ? 0 : 1);
    plot_->yAxis->setLabel(kind == CurveKind::validation ? tr("validation loss") : tr("training loss"));
    replot();
}

void CurvesView::setSmoothing(double weight) {
    smoothing_ = std::clamp(weight, 0.0, 0.99);
    const QSignalBlocker block(smoothing_slider_);
    smoothing_slider_->setValue(static_cast<int>(std::lround(smoothing_ * 100)));
    smoothing_label_->setText(smoothing_ == 0 ? tr("off (raw curves)") : tr("EMA %1, raw curve faint").arg(smoothing_, 0, 'f', 2));
    replot();
}

namespace {

void set_log_scale(QCPAxis* axis, bool on) {
    axis->setScaleType(on ? QCPAxis::stLogarithmic : QCPAxis::stLinear);
    if (on) {
        axis->setTicker(QSharedPointer<QCPAxisTickerLog>::create());
    } else {
        axis->setTicker(QSharedPointer<QCPAxisTicker>::create());
    }
}

}  // namespace

void CurvesView::setLogY(bool on) {
    const QSignalBlocker block(log_y_);
    log_y_->setChecked(on);
    set_log_scale(plot_->yAxis, on);
    replot();
}

// A log x axis cannot show x = 0: the first point of a run then sits at the axis's left edge.
void CurvesView::setLogX(bool on) {
    const QSignalBlocker block(log_x_);
    log_x_->setChecked(on);
    set_log_scale(plot_->xAxis, on);
    replot();
}

void CurvesView::setAlignToStageStart(bool on) {
    align_ = on;
    const QSignalBlocker block(align_box_);
    align_box_->setChecked(on);
    replot();
}

void CurvesView::setRunShown(const QString& run, bool shown) {
    if (QListWidgetItem* item = runItem(run)) item->setCheckState(shown ? Qt::Checked : Qt::Unchecked);
}

void CurvesView::highlightRun(const QString& run) {
    highlighted_ = run;
    QListWidgetItem* item = runItem(run);
    if (item) {
        runs_->setCurrentItem(item);
        if (item->checkState() == Qt::Checked) replot();
        item->setCheckState(Qt::Checked);  // replots when it was not shown
    } else {
        replot();
    }
}

std::vector<QString> CurvesView::shownRuns() const {
    std::vector<QString> shown;
    for (int i = 0; i < runs_->count(); ++i) {
        if (runs_->item(i)->checkState() == Qt::Checked) shown.push_back(runs_->item(i)->data(Qt::UserRole).toString());
    }
    const QString reference = reference_->currentText();
    if (!reference.isEmpty() && data_.count(reference) &&
        std::find(shown.begin(), shown.end(), reference) == shown.end()) {
        shown.push_back(reference);  // the reference stays pinned
    }
    return shown;
}

Curve CurvesView::curveOf(const RunData& run) const { return extract_curve(run.rows, axis_, kind_, align_); }

Curve CurvesView::shownCurve(const QString& run) const {
    auto it = data_.find(run);
    if (it == data_.end()) return {};
    const Curve raw = curveOf(it->second);
    return smoothing_ > 0 ? smooth_ema(raw, smoothing_) : raw;
}

void CurvesView::replot() {
    plot_->clearGraphs();
    plot_->clearItems();
    marker_labels_.clear();
    int colour = 0;
    const QString reference = reference_->currentText();
    for (const QString& name : shownRuns()) {
        const bool is_reference = name == reference;
        const QColor c = is_reference ? QColor(Qt::black) : kPalette[colour++ % kPalette.size()];
        plotRun(data_.at(name), c, is_reference);
        addGrowthMarkers(data_.at(name), c);
    }
    plot_->legend->setVisible(plot_->legend->itemCount() > 0);  // no empty frame before any run is shown
    plot_->xAxis->setLabel(QString::fromStdString(axis_label(axis_)) + (align_ ? tr(" since stage start") : QString()));
    plot_->rescaleAxes();
    updateFigures();
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

// The run's raw validation curve on the current axis (reach figures), cached like the stage curves.
const Curve& CurvesView::validationCurve(const RunData& run) {
    const std::string key = std::to_string(run.rows.size()) + "|" + std::to_string(static_cast<int>(axis_));
    CachedRun& cached = cache_[run.name];
    if (cached.validation_key != key) {
        cached.validation = extract_curve(run.rows, axis_, CurveKind::validation);
        cached.validation_key = key;
    }
    return cached.validation;
}

// Each stage's curve, raw and as shown (smoothed on the raw points, then both downsampled);
// recomputed only when the run has new rows or a setting changed, so a live append redraws the
// other runs from the cache.
const std::map<int64_t, CurvesView::StageCurve>& CurvesView::stageCurves(const RunData& run) {
    const std::string key = std::to_string(run.rows.size()) + "|" + std::to_string(static_cast<int>(axis_)) + "|" +
                            std::to_string(static_cast<int>(kind_)) + "|" + std::to_string(align_) + "|" +
                            std::to_string(smoothing_);
    CachedRun& cached = cache_[run.name];
    if (cached.key == key) return cached.stages;
    cached.key = key;
    cached.stages.clear();
    std::map<int64_t, std::vector<MetricRow>> by_stage;
    for (const auto& row : run.rows) by_stage[row.stage_index].push_back(row);
    for (const auto& [stage, rows] : by_stage) {
        const Curve raw = extract_curve(rows, axis_, kind_, align_);
        const Curve shown = smoothing_ > 0 ? smooth_ema(raw, smoothing_) : raw;
        cached.stages[stage] = {downsample_min_max(raw, kBuckets), downsample_min_max(shown, kBuckets)};
    }
    return cached.stages;
}

// One graph per stage (coloured by stage), the smoothed curve on top of the faint raw one.
void CurvesView::plotRun(const RunData& run, const QColor& colour, bool reference) {
    const QString name = QString::fromStdString(run.name);
    bool first = true;
    for (const auto& [stage, curves] : stageCurves(run)) {
        const QColor c = stage_colour(colour, stage);
        if (smoothing_ > 0) {
            QCPGraph* faint = plot_->addGraph();
            faint->setData(xs(curves.raw), ys(curves.raw), true);
            QColor light = c;
            light.setAlpha(60);
            faint->setPen(QPen(light, 1));
            faint->removeFromLegend();
        }
        QCPGraph* graph = plot_->addGraph();
        graph->setData(xs(curves.shown), ys(curves.shown), true);
        QPen pen(c, name == highlighted_ ? 3 : reference ? 2 : 1.5);
        if (reference) pen.setStyle(Qt::DashLine);
        graph->setPen(pen);
        if (kind_ == CurveKind::validation) graph->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, 4));
        graph->setName(first ? runLabel(name) + (reference ? tr(" (reference)") : QString()) : QString());
        graph->setProperty("run", name);
        graph->setProperty("stage", static_cast<qlonglong>(stage));
        if (!first) graph->removeFromLegend();
        first = false;
    }
}

double CurvesView::axisValueOf(const MetricRow& row) const { return axis_value(row, axis_); }

double CurvesView::axisValueAtStep(const RunData& run, int64_t step) const {
    for (const auto& row : run.rows) {
        if (row.step >= step) return axisValueOf(row);
    }
    return std::numeric_limits<double>::quiet_NaN();
}

void CurvesView::addGrowthMarkers(const RunData& run, const QColor& colour) {
    if (align_) return;  // stage starts are x = 0 then: the markers would pile up there
    for (const auto& event : run.growth) {
        const double x = axisValueAtStep(run, event.step);
        if (std::isnan(x)) continue;
        std::string from = "?", to = "?";
        for (const auto& stage : run.stages) {
            if (stage.stage_index == event.stage_index - 1) from = stage.size;
            if (stage.stage_index == event.stage_index) to = stage.size;
        }
        const QString label = QString("%1→%2 (%3)").arg(QString::fromStdString(from), QString::fromStdString(to),
                                                         QString::fromStdString(event.op));
        auto* line = new QCPItemStraightLine(plot_);
        line->point1->setCoords(x, 0);
        line->point2->setCoords(x, 1);
        line->setPen(QPen(colour, 1, Qt::DotLine));
        auto* text = new QCPItemText(plot_);
        text->position->setTypeY(QCPItemPosition::ptAxisRectRatio);
        // One row per marker, down from the top (eight rows, then round again): the init- runs'
        // markers all stand at x = 0 and would print over one another on fewer rows.
        text->position->setCoords(x, 0.02 + 0.045 * (marker_labels_.size() % 8));
        text->setPositionAlignment(Qt::AlignLeft | Qt::AlignTop);
        text->setText(" " + label);
        text->setColor(colour);
        marker_labels_ << QString::fromStdString(run.name) + ": " + label;
    }
}

// When each run first reaches the reference's final loss, on the current axis (raw curves:
// never on whatever smoothing the display uses).
void CurvesView::updateFigures() {
    const QString reference = reference_->currentText();
    if (reference.isEmpty() || !data_.count(reference)) {
        figures_->setText(tr("Choose a reference run to compare the runs with it."));
        return;
    }
    const RunData& base = data_.at(reference);
    const Curve& base_curve = validationCurve(base);
    if (base_curve.empty()) {
        figures_->setText(tr("%1 has no validation loss yet.").arg(reference));
        return;
    }
    const double target = base_curve.back().y;
    const double base_total = base_curve.back().x;
    QStringList lines;
    lines << tr("%1's final validation loss: %2 at %3 %4").arg(reference).arg(target, 0, 'f', 4).arg(base_total, 0, 'g', 4)
                 .arg(QString::fromStdString(axis_label(axis_)));
    markReferenceLoss(target);
    for (const QString& name : shownRuns()) {
        if (name == reference) continue;
        const Curve& curve = validationCurve(data_.at(name));
        if (curve.empty()) {  // a run just started, or a cluster job still waiting
            lines << tr("%1 has no validation loss yet").arg(name);
            continue;
        }
        const auto reach = first_reach(curve, target);
        if (reach) markReach(*reach, target);
        lines << (reach ? tr("%1 reaches it at %2 (%3 % of %4)")
                              .arg(name)
                              .arg(*reach, 0, 'g', 4)
                              .arg(100.0 * *reach / base_total, 0, 'f', 1)
                              .arg(reference)
                        : tr("%1 has not reached it").arg(name));
    }
    figures_->setText(lines.join("\n"));
}

// The reference's final loss as a faint horizontal line, so that crossings read at a glance.
void CurvesView::markReferenceLoss(double target) {
    if (kind_ != CurveKind::validation) return;
    auto* line = new QCPItemStraightLine(plot_);
    line->point1->setCoords(0, target);
    line->point2->setCoords(1, target);
    line->setPen(QPen(QColor(120, 120, 120), 1, Qt::DashDotLine));
}

void CurvesView::markReach(double x, double target) {
    if (kind_ != CurveKind::validation || align_) return;
    QCPGraph* point = plot_->addGraph();
    point->setData({x}, {target});
    point->setLineStyle(QCPGraph::lsNone);
    point->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCrossCircle, Qt::black, 9));
    point->removeFromLegend();
}

QString CurvesView::figuresText() const { return figures_->text(); }

void CurvesView::showTooltip(QMouseEvent* event) {
    QCPGraph* nearest = nullptr;
    double best = 12;  // pixels
    for (int i = 0; i < plot_->graphCount(); ++i) {
        QCPGraph* graph = plot_->graph(i);
        if (graph->pen().color().alpha() < 255 || !graph->property("run").isValid()) continue;  // faint raw curves, marks
        const double distance = graph->selectTest(event->pos(), false);
        if (distance >= 0 && distance < best) best = distance, nearest = graph;
    }
    if (!nearest) return QToolTip::hideText();
    const double x = plot_->xAxis->pixelToCoord(event->pos().x());
    auto it = nearest->data()->findBegin(x);
    if (it == nearest->data()->constEnd()) return;
    const QString run = nearest->property("run").toString();
    const int64_t stage = nearest->property("stage").toLongLong();
    const RunData& data = data_.at(run);
    // The stored row nearest to the point under the mouse, for its step and time.
    const MetricRow* row = nullptr;
    double best_gap = std::numeric_limits<double>::infinity();
    for (const auto& candidate : data.rows) {
        if (candidate.stage_index != stage) continue;
        const double gap = std::abs(axisValueOf(candidate) - it->key);
        if (gap < best_gap) best_gap = gap, row = &candidate;
    }
    qlonglong parameters = 0;
    for (const auto& s : data.stages) {
        if (s.stage_index == stage) parameters = s.parameters;
    }
    QToolTip::showText(event->globalPosition().toPoint(),
                       tr("%1, stage %2\nstep %3, %4 h of training\nloss %5\n%6M parameters")
                           .arg(run)
                           .arg(stage + 1)
                           .arg(row ? row->step : 0)
                           .arg(row ? row->wall_seconds / 3600.0 : 0.0, 0, 'f', 3)
                           .arg(it->value, 0, 'f', 4)
                           .arg(parameters / 1e6, 0, 'f', 1),
                       plot_);
}

bool CurvesView::exportImage(const QString& path) {
    const QString suffix = QFileInfo(path).suffix().toLower();
    if (suffix == "png") return plot_->savePng(path, 1200, 750, 1.0);
    if (suffix == "pdf") return plot_->savePdf(path, 1200, 750);
    if (suffix != "svg") return false;
    QSvgGenerator svg;
    svg.setFileName(path);
    svg.setSize(QSize(1200, 750));
    svg.setViewBox(QRect(0, 0, 1200, 750));
    svg.setTitle(tr("GrowthStudio learning curves"));
    QCPPainter painter;
    if (!painter.begin(&svg)) return false;
    plot_->toPainter(&painter, 1200, 750);
    painter.end();
    return true;
}

bool CurvesView::exportCsv(const QString& path) {
    std::vector<std::string> names;
    std::vector<Curve> curves;
    for (const QString& name : shownRuns()) {
        names.push_back(name.toStdString());
        curves.push_back(curveOf(data_.at(name)));
    }
    write_file_atomically(path.toStdString(), curves_csv(axis_label(axis_), names, curves, common_grid(curves, 200)));
    return true;
}

void CurvesView::chooseExport() {
    const QString path = QFileDialog::getSaveFileName(this, tr("Export the curves"), "curves.png",
                                                      tr("Images (*.png *.svg *.pdf);;Curves as CSV (*.csv)"));
    if (path.isEmpty()) return;
    if (path.endsWith(".csv", Qt::CaseInsensitive)) {
        exportCsv(path);
    } else {
        exportImage(path);
    }
}

}  // namespace gs::ui
