// The application window.
#pragma once

#include <QMainWindow>

namespace gs::ui {

class SystemPanel;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget* parent = nullptr);

    SystemPanel* systemPanel() const { return system_panel_; }

private:
    void buildMenus();
    void showAbout();
    void showPrepareData();

    SystemPanel* system_panel_ = nullptr;
};

}  // namespace gs::ui
