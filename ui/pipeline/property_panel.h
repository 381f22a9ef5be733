// The properties of the selected stage (size, shape, budget, pre-trained source) or connection
// (growth operator, init-), and with nothing selected the experiment's training settings.
// Every change is an undoable edit of the document.
#pragma once

#include <QStackedWidget>

#include "core/pipeline/pipeline.h"

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QFormLayout;
class QLabel;
class QLineEdit;
class QMenu;
class QSpinBox;

namespace gs {
struct StageNode;
}

namespace gs::ui {

class PipelineDocument;
class PipelineScene;

class PropertyPanel : public QStackedWidget {
    Q_OBJECT
public:
    PropertyPanel(PipelineDocument* document, PipelineScene* scene, QWidget* parent = nullptr);

    int stageId() const { return stage_id_; }
    // The finished runs of the workspace database, offered as pre-trained sources.
    QMenu* finishedRunMenu() const { return run_menu_; }
    int edgeId() const { return edge_id_; }

private:
    QWidget* buildExperimentPage();
    QWidget* buildStagePage();
    QWidget* buildShapeBox();
    QWidget* buildBudgetBox();
    QWidget* buildSourceBox();
    QWidget* buildEdgePage();
    QSpinBox* addShapeField(QFormLayout* form, const QString& label, const QString& name, int maximum);
    void refresh();
    void showSettings();
    void showRunNameProblem(const std::string& problem);  // "" hides it
    void showStage(const StageNode& node);
    void showBudget(const Budget& budget);
    void showEdge(int edge);
    void applyShape();
    void applyBudget();
    void applyPretrained();
    void browseSource();
    void listFinishedRuns();
    void updateBudgetRange();

    PipelineDocument* document_;
    PipelineScene* scene_;
    int stage_id_ = 0;
    int edge_id_ = 0;
    bool updating_ = false;
    QLineEdit* run_name_ = nullptr;
    QLabel* run_name_problem_ = nullptr;
    QSpinBox* batch_size_ = nullptr;
    QSpinBox* accumulation_ = nullptr;
    QSpinBox* input_length_ = nullptr;
    QDoubleSpinBox* peak_lr_ = nullptr;
    QSpinBox* seed_ = nullptr;
    QComboBox* device_ = nullptr;
    QLineEdit* size_ = nullptr;
    QSpinBox* layers_ = nullptr;
    QSpinBox* decoder_layers_ = nullptr;
    QSpinBox* d_model_ = nullptr;
    QSpinBox* d_kv_ = nullptr;
    QSpinBox* heads_ = nullptr;
    QSpinBox* d_ff_ = nullptr;
    QComboBox* ffn_ = nullptr;
    QDoubleSpinBox* dropout_ = nullptr;
    QLabel* parameters_ = nullptr;
    QCheckBox* pretrained_ = nullptr;
    QLineEdit* source_ = nullptr;
    QMenu* run_menu_ = nullptr;
    QFormLayout* budget_form_ = nullptr;
    QComboBox* budget_kind_ = nullptr;
    QDoubleSpinBox* budget_value_ = nullptr;
    QLineEdit* reference_run_ = nullptr;
    QComboBox* operator_ = nullptr;
    QCheckBox* init_ = nullptr;
    QLabel* suggestion_ = nullptr;
};

}  // namespace gs::ui
