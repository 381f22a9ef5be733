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

#include <qcustomplot.h>

#include "core/io/files.h"

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
    problem_ = new QLabel(this);
    problem_->setObjectName(QStringLiteral("curvesProblem"));
    problem_->setWordWrap(true);
    problem_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    problem_->setStyleSheet(QStringLiteral("color: #b00020"));
    problem_->hide();

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
    main->addWidget(problem_);
    main->addWidget(plot_, 1);
    main->addWidget(figures_);
    auto* layout = new QHBoxLayout(this);
    layout->addLayout(side);
    layout->addLayout(main, 1);
    setSmoothing(0.0);
}

void CurvesView::load(const std::string& database_path) {
    model_.open(database_path);
    reload();
    replot();
    live_->start();
}

void CurvesView::reload() {
    const CurvesChange change = model_.sync();
    if (change.problem_changed) showProblem();
    addNewRunsToLists();
    if (change.changed) replot();
}

// The curves read before stay; the timer reads the database again at the next refresh.
void CurvesView::showProblem() {
    const QString problem = QString::fromStdString(model_.problem());
    problem_->setText(problem.isEmpty() ? QString()
                                        : tr("The workspace cannot be read: %1. The curves show what was read "
                                             "before; it is read again at the next refresh.")
                                              .arg(problem));
    problem_->setVisible(!problem.isEmpty());
}

QString CurvesView::problemText() const { return problem_->text(); }

QString CurvesView::runLabel(const QString& name) const {
    const CurveRun* found = model_.find(name.toStdString());
    if (!found || !found->cluster) return name;
    const CurveRun& run = *found;
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
void CurvesView::addNewRunsToLists() {
    const QSignalBlocker block_runs(runs_), block_reference(reference_);
    const QString reference = reference_->currentText().isEmpty() ? QString::fromStdString(model_.defaultReference())
                                                                   : reference_->currentText();
    for (const auto& [run_name, run] : model_.runs()) {
        const QString name = QString::fromStdString(run_name);
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
    model_.settings().axis = axis;
    const QSignalBlocker block(axis_box_);
    axis_box_->setCurrentIndex(axis_box_->findData(static_cast<int>(axis)));
    replot();
}

void CurvesView::setKind(CurveKind kind) {
    model_.settings().kind = kind;
    const QSignalBlocker block(kind_box_);
    kind_box_->setCurrentIndex(kind == CurveKind::validation ? 0 : 1);
    plot_->yAxis->setLabel(kind == CurveKind::validation ? tr("validation loss") : tr("training loss"));
    replot();
}

void CurvesView::setSmoothing(double weight) {
    const double smoothing = model_.settings().smoothing = std::clamp(weight, 0.0, 0.99);
    const QSignalBlocker block(smoothing_slider_);
    smoothing_slider_->setValue(static_cast<int>(std::lround(smoothing * 100)));
    smoothing_label_->setText(smoothing == 0 ? tr("off (raw curves)") : tr("EMA %1, raw curve faint").arg(smoothing, 0, 'f', 2));
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
    model_.settings().align_to_stage_start = on;
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
    if (!reference.isEmpty() && model_.find(reference.toStdString()) &&
        std::find(shown.begin(), shown.end(), reference) == shown.end()) {
        shown.push_back(reference);  // the reference stays pinned
    }
    return shown;
}

Curve CurvesView::shownCurve(const QString& run) const { return model_.shownCurve(run.toStdString()); }

void CurvesView::replot() {
    plot_->clearGraphs();
    plot_->clearItems();
    marker_labels_.clear();
    int colour = 0;
    const QString reference = reference_->currentText();
    for (const QString& name : shownRuns()) {
        const bool is_reference = name == reference;
        const QColor c = is_reference ? QColor(Qt::black) : kPalette[colour++ % kPalette.size()];
        const CurveRun& run = *model_.find(name.toStdString());
        plotRun(run, c, is_reference);
        addGrowthMarkers(run, c);
    }
    plot_->legend->setVisible(plot_->legend->itemCount() > 0);  // no empty frame before any run is shown
    const CurveSettings& settings = model_.settings();
    plot_->xAxis->setLabel(QString::fromStdString(axis_label(settings.axis)) +
                           (settings.align_to_stage_start ? tr(" since stage start") : QString()));
    plot_->rescaleAxes();
    updateFigures();
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

// One graph per stage (coloured by stage), the smoothed curve on top of the faint raw one.
void CurvesView::plotRun(const CurveRun& run, const QColor& colour, bool reference) {
    const QString name = QString::fromStdString(run.name);
    bool first = true;
    for (const auto& [stage, curves] : model_.stageCurves(run.name)) {
        const QColor c = stage_colour(colour, stage);
        if (model_.settings().smoothing > 0) {
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
        if (model_.settings().kind == CurveKind::validation) graph->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, 4));
        graph->setName(first ? runLabel(name) + (reference ? tr(" (reference)") : QString()) : QString());
        graph->setProperty("run", name);
        graph->setProperty("stage", static_cast<qlonglong>(stage));
        if (!first) graph->removeFromLegend();
        first = false;
    }
}

double CurvesView::axisValueAtStep(const CurveRun& run, int64_t step) const {
    for (const auto& row : run.rows) {
        if (row.step >= step) return axis_value(row, model_.settings().axis);
    }
    return std::numeric_limits<double>::quiet_NaN();
}

void CurvesView::addGrowthMarkers(const CurveRun& run, const QColor& colour) {
    if (model_.settings().align_to_stage_start) return;  // stage starts are x = 0 then: the markers would pile up there
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

// When each run first reaches the reference's final loss, on the current axis.
void CurvesView::updateFigures() {
    const QString reference = reference_->currentText();
    std::vector<std::string> others;
    for (const QString& name : shownRuns()) others.push_back(name.toStdString());
    const ReachTable table = model_.reachTable(reference.toStdString(), others);
    if (reference.isEmpty() || !table.reference_known) {
        figures_->setText(tr("Choose a reference run to compare the runs with it."));
        return;
    }
    if (!table.reference_has_validation) {
        figures_->setText(tr("%1 has no validation loss yet.").arg(reference));
        return;
    }
    const double target = table.target_loss;
    QStringList lines;
    lines << tr("%1's final validation loss: %2 at %3 %4").arg(reference).arg(target, 0, 'f', 4)
                 .arg(table.reference_total, 0, 'g', 4)
                 .arg(QString::fromStdString(axis_label(model_.settings().axis)));
    markReferenceLoss(target);
    for (const RunReach& run : table.runs) {
        const QString name = QString::fromStdString(run.run);
        if (!run.has_validation) {  // a run just started, or a cluster job still waiting
            lines << tr("%1 has no validation loss yet").arg(name);
            continue;
        }
        if (run.reach) markReach(*run.reach, target);
        lines << (run.reach ? tr("%1 reaches it at %2 (%3 % of %4)")
                                  .arg(name)
                                  .arg(*run.reach, 0, 'g', 4)
                                  .arg(100.0 * *run.reach / table.reference_total, 0, 'f', 1)
                                  .arg(reference)
                            : tr("%1 has not reached it").arg(name));
    }
    figures_->setText(lines.join("\n"));
}

// The reference's final loss as a faint horizontal line, so that crossings read at a glance.
void CurvesView::markReferenceLoss(double target) {
    if (model_.settings().kind != CurveKind::validation) return;
    auto* line = new QCPItemStraightLine(plot_);
    line->point1->setCoords(0, target);
    line->point2->setCoords(1, target);
    line->setPen(QPen(QColor(120, 120, 120), 1, Qt::DashDotLine));
}

void CurvesView::markReach(double x, double target) {
    if (model_.settings().kind != CurveKind::validation || model_.settings().align_to_stage_start) return;
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
    const CurveRun* data = model_.find(run.toStdString());
    if (!data) return;
    // The stored row nearest to the point under the mouse, for its step and time.
    const MetricRow* row = nullptr;
    double best_gap = std::numeric_limits<double>::infinity();
    for (const auto& candidate : data->rows) {
        if (candidate.stage_index != stage) continue;
        const double gap = std::abs(axis_value(candidate, model_.settings().axis) - it->key);
        if (gap < best_gap) best_gap = gap, row = &candidate;
    }
    qlonglong parameters = 0;
    for (const auto& s : data->stages) {
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
        curves.push_back(model_.rawCurve(names.back()));
    }
    write_file_atomically(path.toStdString(),
                          curves_csv(axis_label(model_.settings().axis), names, curves, common_grid(curves, 200)));
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
