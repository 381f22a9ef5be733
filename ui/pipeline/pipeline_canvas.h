// The pipeline canvas: stages dragged from a palette onto a scene and joined by growth
// operators, with the pipeline's name kept in sync both ways, properties, live problems, a cost
// estimate, templates, files, undo and the Run action. Nested in the main window as its central
// widget (a QMainWindow of its own, so that its docks sit around the canvas).
#pragma once

#include <QMainWindow>
#include <QPointF>

#include <map>

#include "ui/pipeline/pipeline_scene.h"

class QAction;
class QLabel;
class QLineEdit;
class QListWidget;
class QMenu;
class QMenuBar;

namespace gs::ui {

class EstimatePanel;
class PipelineDocument;
class PipelineView;
class PropertyPanel;
class StagePalette;

class PipelineCanvas : public QMainWindow {
    Q_OBJECT
public:
    explicit PipelineCanvas(QWidget* parent = nullptr);

    PipelineDocument* document() const { return document_; }
    PipelineScene* scene() const { return scene_; }
    PipelineView* view() const { return view_; }
    StagePalette* palette() const { return palette_; }
    PropertyPanel* propertyPanel() const { return properties_; }
    EstimatePanel* estimatePanel() const { return estimate_; }
    QListWidget* problemList() const { return problems_; }
    QLineEdit* nameEdit() const { return name_edit_; }
    QLabel* nameError() const { return name_error_; }
    QAction* runAction() const { return actions_.at("run"); }
    QAction* action(const QString& key) const { return actions_.at(key); }

    // Puts the canvas's File entries into `file` and adds Edit, View and Pipeline menus to `bar`;
    // returns the View menu.
    QMenu* addMenus(QMenuBar* bar, QMenu* file);
    // Asks whether to save unsaved changes; false when the user cancels.
    bool confirmDiscard();
    // "T_d_S.json" or "Untitled"; the window adds the modified mark.
    QString documentTitle() const;

    int addStage(const QString& kind, QPointF position);
    QMenu* quickAddMenu(QPointF scene_position);  // the searchable menu; the caller shows it
    bool openFile(const QString& path);
    bool openTemplate(const QString& path);  // a copy: Save asks for a new file
    bool saveFile(const QString& path);
    QStringList recentFiles() const;
    static QString experimentsFolder();  // the bundled templates ("" when not found)

    // The run state of stage `index` of the pipeline (in chain order), as a launched run
    // reports it: queued, training with progress 0..1, done, or failed with its message.
    void setStageState(int index, StageRunState state, double progress = 0, const QString& message = {});
    void clearStageStates();

signals:
    void runRequested(const QString& experiment_json);
    void titleChanged();

private:
    void buildActions();
    QAction* makeAction(const QString& key, const QString& text, const QKeySequence& shortcut,
                        const std::function<void()>& slot);
    void buildDocks();
    void buildNameBar();
    void fillTemplateMenu(QMenu* menu);
    void fillRecentMenu();
    void rememberFile(const QString& path);
    void refresh();
    void applyName();
    void showProblemTarget();
    void copySelection();
    void paste();
    void deleteSelection();
    void selectAll();
    void newPipeline();
    void openWithDialog();
    bool save();
    bool saveAs();
    void showError(const QString& text);
    bool succeeded(const QString& error);  // shows a non-empty error
    void run();

    PipelineDocument* document_ = nullptr;
    PipelineScene* scene_ = nullptr;
    PipelineView* view_ = nullptr;
    StagePalette* palette_ = nullptr;
    PropertyPanel* properties_ = nullptr;
    EstimatePanel* estimate_ = nullptr;
    QListWidget* problems_ = nullptr;
    QLineEdit* name_edit_ = nullptr;
    QLabel* name_error_ = nullptr;
    QLabel* status_ = nullptr;
    QMenu* recent_menu_ = nullptr;
    std::map<QString, QAction*> actions_;
    int paste_count_ = 0;
};

}  // namespace gs::ui
