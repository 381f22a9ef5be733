#include "ui/system_panel.h"

#include <QFormLayout>
#include <QGroupBox>
#include <QHeaderView>
#include <QLabel>
#include <QLocale>
#include <QTableWidget>
#include <QVBoxLayout>

#include "core/model/t5_config.h"
#include "core/model/t5_cost.h"
#include "core/runtime/runtime_info.h"

namespace gs::ui {

namespace {

QString cudaDescription(const RuntimeInfo& info) {
    if (info.cuda_devices.empty()) return QObject::tr("none (training runs on the CPU)");
    QStringList devices;
    for (const auto& device : info.cuda_devices) {
        devices << QStringLiteral("cuda:%1 %2, %3 GiB")
                       .arg(device.index)
                       .arg(QString::fromStdString(device.name))
                       .arg(device.total_memory_bytes / double(1 << 30), 0, 'f', 1);
    }
    return devices.join(QLatin1Char('\n'));
}

QTableWidgetItem* numberItem(const QString& text) {
    auto* item = new QTableWidgetItem(text);
    item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
    return item;
}

}  // namespace

SystemPanel::SystemPanel(QWidget* parent) : QWidget(parent) {
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(buildRuntimeBox());
    layout->addWidget(buildPresetBox(), 1);
}

QWidget* SystemPanel::buildRuntimeBox() {
    const RuntimeInfo info = collect_runtime_info();
    auto* box = new QGroupBox(tr("Engine"));
    auto* form = new QFormLayout(box);
    auto add = [&](const QString& label, const QString& value) {
        auto* field = new QLabel(value);
        field->setTextInteractionFlags(Qt::TextSelectableByMouse);
        field->setWordWrap(true);
        field->setObjectName(label);
        form->addRow(label + QLatin1Char(':'), field);
    };
    add(tr("LibTorch"), QString::fromStdString(info.libtorch_version) +
                            (info.cuda_version.empty() ? tr(" (CPU build)") : tr(", CUDA %1").arg(QString::fromStdString(info.cuda_version))));
    add(tr("Qt"), QString::fromLatin1(qVersion()));
    add(tr("sentencepiece"), QString::fromStdString(info.sentencepiece_version));
    add(tr("SQLite"), QString::fromStdString(info.sqlite_version));
    add(tr("BLAS"), QString::fromStdString(info.blas));
    add(tr("CPU threads"), tr("%1 of %2").arg(info.cpu_threads).arg(info.hardware_threads));
    add(tr("CUDA devices"), cudaDescription(info));
    return box;
}

QWidget* SystemPanel::buildPresetBox() {
    auto* box = new QGroupBox(tr("Model sizes of the study (T5 v1.1, vocabulary 32,128)"));
    auto* layout = new QVBoxLayout(box);
    const QStringList headers = {tr("Preset"), tr("Layers (enc+dec)"), tr("d_model"), tr("Heads"), tr("d_ff"),
                                 tr("Parameters"), tr("Training GFLOPs / sequence (512→114)")};
    preset_table_ = new QTableWidget(0, headers.size());
    preset_table_->setHorizontalHeaderLabels(headers);
    preset_table_->verticalHeader()->hide();
    preset_table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    preset_table_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    preset_table_->horizontalHeader()->setStretchLastSection(true);
    const QLocale locale(QLocale::English);
    for (const char* name : {"Tiny", "Small", "Base"}) {
        const T5Config c = T5Config::preset(name);
        const int row = preset_table_->rowCount();
        preset_table_->insertRow(row);
        preset_table_->setItem(row, 0, new QTableWidgetItem(QString::fromLatin1(name)));
        preset_table_->setItem(row, 1, numberItem(QStringLiteral("%1+%2").arg(c.num_layers).arg(c.num_decoder_layers)));
        preset_table_->setItem(row, 2, numberItem(QString::number(c.d_model)));
        preset_table_->setItem(row, 3, numberItem(QString::number(c.num_heads)));
        preset_table_->setItem(row, 4, numberItem(QString::number(c.d_ff)));
        preset_table_->setItem(row, 5, numberItem(locale.toString(qlonglong(count_parameters(c)))));
        preset_table_->setItem(row, 6, numberItem(QString::number(training_flops_per_step(c, 1, 512, 114) / 1e9, 'f', 1)));
    }
    layout->addWidget(preset_table_);
    return box;
}

}  // namespace gs::ui
