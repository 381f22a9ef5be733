// The application window.
#pragma once

#include <QMainWindow>

namespace gs::ui {

class PipelineCanvas;
class SystemPanel;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget* parent = nullptr);

    SystemPanel* systemPanel() const { return system_panel_; }
    PipelineCanvas* canvas() const { return canvas_; }

protected:
    void closeEvent(QCloseEvent* event) override;

private:
    void buildMenus();
    void showAbout();
    void showPrepareData();
    void updateTitle();

    SystemPanel* system_panel_ = nullptr;
    PipelineCanvas* canvas_ = nullptr;
};

}  // namespace gs::ui
