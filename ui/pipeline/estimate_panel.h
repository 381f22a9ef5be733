// The cost of the pipeline before launch: parameters, steps, FLOPs and time per stage, against
// the last stage's size trained from scratch for the same steps. Time comes from an assumed
// training throughput, which the user can measure on this machine.
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
    void setThroughput(double flops_per_second);

private:
    void refresh();
    void measure();

    PipelineDocument* document_;
    QTableWidget* table_ = nullptr;
    QLabel* summary_ = nullptr;
    QDoubleSpinBox* steps_per_epoch_ = nullptr;
    QDoubleSpinBox* tflops_ = nullptr;
    QPushButton* measure_ = nullptr;
    class QThread* measuring_ = nullptr;
};

}  // namespace gs::ui
