#include "ui/pipeline/estimate_panel.h"

#include <cmath>
#include <filesystem>

#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLocale>
#include <QPushButton>
#include <QTableWidget>
#include <QThread>
#include <QVBoxLayout>

#include "core/bench/train_benchmark.h"
#include "core/data/span_corruption.h"
#include "core/runtime/runtime_info.h"
#include "core/train/experiment_estimate.h"
#include "ui/pipeline/pipeline_document.h"
#include "ui/pipeline/stage_palette.h"

namespace gs::ui {

namespace fs = std::filesystem;

namespace {

constexpr double kTera = 1e12;

QString text(const std::string& value) { return QString::fromStdString(value); }

}  // namespace

EstimatePanel::EstimatePanel(PipelineDocument* document, QWidget* parent) : QWidget(parent), document_(document) {
    setObjectName(QStringLiteral("estimatePanel"));
    table_ = new QTableWidget(0, 5);
    table_->setHorizontalHeaderLabels({tr("Stage"), tr("Parameters"), tr("Steps"), tr("FLOPs"), tr("Time")});
    table_->verticalHeader()->hide();
    table_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    table_->horizontalHeader()->setStretchLastSection(true);
    table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    table_->setMinimumHeight(140);  // three stages and the header without scrolling
    summary_ = new QLabel;
    summary_->setWordWrap(true);
    summary_->setObjectName(QStringLiteral("estimateSummary"));
    steps_per_epoch_ = new QDoubleSpinBox;
    steps_per_epoch_->setRange(1, 1e9);
    steps_per_epoch_->setDecimals(0);
    steps_per_epoch_->setValue(1000);
    steps_per_epoch_->setToolTip(tr("Rows of the train split / (batch size x accumulation); known once the corpus is prepared"));
    tflops_ = new QDoubleSpinBox;
    tflops_->setObjectName(QStringLiteral("throughput"));
    tflops_->setRange(0.001, 1e5);
    tflops_->setDecimals(3);
    tflops_->setValue(1.0);
    tflops_->setSuffix(tr(" TFLOP/s"));
    measure_ = new QPushButton(tr("Measure"));
    measure_->setObjectName(QStringLiteral("measureThroughput"));
    measure_->setToolTip(tr("Time large matrix products on this machine; training is taken at %1% of that peak")
                             .arg(kTrainingShareOfMatmulPeak * 100));
    auto* throughput_row = new QHBoxLayout;
    throughput_row->addWidget(tflops_);
    throughput_row->addWidget(measure_);
    auto* form = new QFormLayout;
    form->addRow(tr("Steps per epoch"), steps_per_epoch_);
    form->addRow(tr("Training throughput"), throughput_row);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(table_, 1);
    layout->addWidget(summary_);
    layout->addLayout(form);
    connect(document_, &PipelineDocument::documentChanged, this, &EstimatePanel::refresh);
    connect(steps_per_epoch_, &QDoubleSpinBox::valueChanged, this, &EstimatePanel::refresh);
    connect(tflops_, &QDoubleSpinBox::valueChanged, this, &EstimatePanel::refresh);
    connect(measure_, &QPushButton::clicked, this, &EstimatePanel::measure);
    refresh();
}

EstimatePanel::~EstimatePanel() {
    if (measuring_) measuring_->wait();
}

void EstimatePanel::setWorkspace(const QString& database) {
    database_ = database;
    refresh();
}

// The experiment's own figures when it reads as a whole, as the dry run takes them; else (a
// document still being written) its fields as far as they go.
EstimateSettings EstimatePanel::settings() const {
    EstimateSettings settings;
    try {
        const std::string source = document_->filePath().toStdString();
        const fs::path folder = source.empty() ? fs::current_path() : fs::absolute(source).parent_path();
        const ExperimentSpec spec = ExperimentSpec::from_json(document_->experimentJson(), source, folder.string());
        settings = experiment_estimate_inputs(spec, database_.toStdString(), resolve_device_name(spec.device)).settings;
    } catch (const std::exception&) {  // the Problems list says what is wrong with it
        settings = documentSettings();
    }
    if (!settings.steps_per_epoch) settings.steps_per_epoch = std::llround(steps_per_epoch_->value());
    settings.flops_per_second = tflops_->value() * kTera;
    return settings;
}

PipelineEstimate EstimatePanel::estimate() const { return estimate_pipeline(document_->check().pipeline, settings()); }

EstimateSettings EstimatePanel::documentSettings() const {
    const nlohmann::json& json = document_->settings();
    EstimateSettings settings;
    settings.batch_rows = json.value("batch_size", int64_t{8}) * json.value("gradient_accumulation", int64_t{1});
    const nlohmann::json data = json.value("data", nlohmann::json::object());
    SpanCorruptionOptions span;
    span.input_length = data.value("input_length", span.input_length);
    span.noise_density = data.value("noise_density", span.noise_density);
    span.mean_span_length = data.value("mean_span_length", span.mean_span_length);
    settings.input_length = span.input_length;
    try {
        settings.target_length = compute_span_lengths(span).target_length;
    } catch (const std::exception&) {
        settings.target_length = span.input_length / 4;  // settings the trainer refuses anyway
    }
    settings.vocab_size = document_->modelVocabSize();
    settings.steps_per_epoch.reset();
    return settings;
}

void EstimatePanel::setThroughput(double flops_per_second) { tflops_->setValue(flops_per_second / kTera); }

QString EstimatePanel::summary() const { return summary_->text(); }

void EstimatePanel::refresh() {
    const GraphCheck& check = document_->check();
    table_->setRowCount(0);
    if (!check.is_chain) {
        summary_->setText(tr("No estimate while the graph is not one chain of stages."));
        return;
    }
    const PipelineEstimate estimate = this->estimate();
    for (const StageEstimate& stage : estimate.stages) {
        const int row = table_->rowCount();
        table_->insertRow(row);
        const QString unknown = stage.trained ? tr("loss target") : tr("pre-trained");
        const bool shown = stage.trained && stage.known;
        const QStringList cells{sizeTitle(stage.size), QLocale().toString(qlonglong(stage.parameters)),
                                shown ? QLocale().toString(stage.steps, 'f', 0) : unknown,
                                shown ? text(flops_text(stage.flops)) : QString(),
                                shown ? text(duration_text(stage.seconds)) : QString()};
        for (int column = 0; column < cells.size(); ++column) table_->setItem(row, column, new QTableWidgetItem(cells[column]));
    }
    QString summary = tr("Total: %1, about %2 at %3 TFLOP/s")
                          .arg(text(flops_text(estimate.flops)), text(duration_text(estimate.seconds)))
                          .arg(tflops_->value());
    if (!estimate.known) summary += tr(" (loss-target stages not counted)");
    if (estimate.base_flops > 0) {
        summary += tr(".\n%1 from scratch for the same %2 steps: %3, about %4 (%5% of it).")
                       .arg(QString::fromStdString(check.pipeline.stages.back().size))
                       .arg(QLocale().toString(estimate.steps, 'f', 0))
                       .arg(text(flops_text(estimate.base_flops)), text(duration_text(estimate.base_seconds)))
                       .arg(QLocale().toString(100 * estimate.flops / estimate.base_flops, 'f', 0));
    }
    summary_->setText(summary);
}

// The matrix-multiply peak takes a few seconds to measure: off the GUI thread.
void EstimatePanel::measure() {
    if (measuring_) return;
    measure_->setEnabled(false);
    measure_->setText(tr("Measuring…"));
    measuring_ = QThread::create([this] {
        const double peak = measure_matmul_peak("auto", false);
        QMetaObject::invokeMethod(this, [this, peak] {
            setThroughput(peak * kTrainingShareOfMatmulPeak);
            measure_->setEnabled(true);
            measure_->setText(tr("Measure"));
        });
    });
    connect(measuring_, &QThread::finished, this, [this] {
        measuring_->deleteLater();
        measuring_ = nullptr;
    });
    measuring_->start();
}

}  // namespace gs::ui
