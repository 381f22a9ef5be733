// The cost of the pipeline before launch: parameters, steps, FLOPs and time per stage, against
// the last stage's size trained from scratch for the same steps. An experiment that reads as a
// whole takes what `run --dry-run` takes from this machine (core's experiment_estimate_inputs:
// its prepared data's epoch, its tokenizer's vocabulary, step times measured by earlier runs of
// the workspace); the steps of an epoch before the data is prepared, and the throughput of stages
// nobody measured, come from the fields below (the throughput measurable on this machine).
#pragma once

#include <QWidget>

#include "core/pipeline/pipeline_estimate.h"

class QDoubleSpinBox;
class QLabel;
class QPushButton;
class QTableWidget;

namespace gs::ui {

class PipelineDocument;

class EstimatePanel : public QWidget {
    Q_OBJECT
public:
    explicit EstimatePanel(PipelineDocument* document, QWidget* parent = nullptr);
    ~EstimatePanel() override;

    QTableWidget* table() const { return table_; }
    QString summary() const;
    EstimateSettings settings() const;
    PipelineEstimate estimate() const;
    void setThroughput(double flops_per_second);
    // The workspace whose earlier runs time the stages ("" : none).
    void setWorkspace(const QString& database);

private:
    void refresh();
    EstimateSettings documentSettings() const;
    void measure();

    PipelineDocument* document_;
    QString database_;
    QTableWidget* table_ = nullptr;
    QLabel* summary_ = nullptr;
    QDoubleSpinBox* steps_per_epoch_ = nullptr;
    QDoubleSpinBox* tflops_ = nullptr;
    QPushButton* measure_ = nullptr;
    class QThread* measuring_ = nullptr;
};

}  // namespace gs::ui
