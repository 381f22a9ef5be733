// What the engine runs on and what the study's model sizes cost: versions, devices, BLAS,
// threads, and a table of the Tiny/Small/Base presets.
#pragma once

#include <QWidget>

class QTableWidget;
class QFormLayout;

namespace gs::ui {

class SystemPanel : public QWidget {
    Q_OBJECT
public:
    explicit SystemPanel(QWidget* parent = nullptr);

    QTableWidget* presetTable() const { return preset_table_; }

private:
    QWidget* buildRuntimeBox();
    QWidget* buildPresetBox();

    QTableWidget* preset_table_ = nullptr;
};

}  // namespace gs::ui
