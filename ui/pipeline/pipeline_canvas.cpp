#include "ui/pipeline/pipeline_canvas.h"

#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QCursor>
#include <QCoreApplication>
#include <QDir>
#include <QDockWidget>
#include <QFileDialog>
#include <QFileInfo>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QSettings>
#include <QStatusBar>
#include <QToolBar>
#include <QUndoStack>
#include <QWidgetAction>

#include <nlohmann/json.hpp>

#include "core/io/files.h"
#include "ui/pipeline/estimate_panel.h"
#include "ui/pipeline/pipeline_document.h"
#include "ui/pipeline/pipeline_view.h"
#include "ui/pipeline/property_panel.h"
#include "ui/pipeline/stage_palette.h"

namespace gs::ui {

namespace {

constexpr const char* kGraphMime = "application/x-growthstudio-graph";
constexpr const char* kRecentKey = "canvas/recentFiles";
constexpr int kMaxRecent = 8;
constexpr double kPasteOffset = 40;

QString custom_size_name(const PipelineGraph& graph) {
    for (int n = 1;; ++n) {
        const std::string name = "C" + std::to_string(n);
        const bool taken = std::any_of(graph.nodes.begin(), graph.nodes.end(), [&](const StageNode& node) { return node.size == name; });
        if (!taken) return QString::fromStdString(name);
    }
}

StageNode stage_of_kind(const QString& kind, const PipelineGraph& graph) {
    StageNode node;
    node.budget = Budget::parse("1");
    if (kind == QLatin1String("custom")) {
        node.size = custom_size_name(graph).toStdString();
    } else if (kind == QLatin1String("pretrained")) {
        node.size = "S";  // the study's usual starting point; the properties change it
        node.pretrained = true;
        node.source = "S";
        node.budget = {};
    } else {
        node.size = kind.toStdString();
    }
    node.config = default_size_config(node.size);
    return node;
}

}  // namespace

PipelineCanvas::PipelineCanvas(QWidget* parent) : QMainWindow(parent) {
    setWindowFlags(Qt::Widget);
    setObjectName(QStringLiteral("pipelineCanvas"));
    document_ = new PipelineDocument(this);
    scene_ = new PipelineScene(document_, this);
    view_ = new PipelineView(scene_, this);
    setCentralWidget(view_);
    setDockOptions(QMainWindow::AnimatedDocks | QMainWindow::AllowTabbedDocks);
    buildActions();
    buildNameBar();
    buildDocks();
    connect(scene_, &PipelineScene::stageDropped, this, [this](const QString& kind, QPointF at) { addStage(kind, at); });
    auto show_quick_add = [this](QPoint global, QPointF at) {
        QMenu* menu = quickAddMenu(at);
        menu->exec(global);
        menu->deleteLater();
    };
    connect(view_, &PipelineView::quickAddRequested, this, show_quick_add);
    connect(scene_, &PipelineScene::quickAddRequested, this, show_quick_add);
    connect(document_, &PipelineDocument::documentChanged, this, &PipelineCanvas::refresh);
    connect(document_, &PipelineDocument::fileChanged, this, &PipelineCanvas::titleChanged);
    connect(document_, &PipelineDocument::documentChanged, this, &PipelineCanvas::titleChanged);
    refresh();
}

// --- Actions and menus

QAction* PipelineCanvas::makeAction(const QString& key, const QString& text, const QKeySequence& shortcut,
                                    const std::function<void()>& slot) {
    auto* action = new QAction(text, this);
    action->setShortcut(shortcut);
    action->setObjectName(key);
    connect(action, &QAction::triggered, this, slot);
    addAction(action);  // shortcuts work wherever the canvas sits
    actions_[key] = action;
    return action;
}

void PipelineCanvas::buildActions() {
    makeAction("new", tr("&New pipeline"), QKeySequence::New, [this] { newPipeline(); });
    makeAction("open", tr("&Open…"), QKeySequence::Open, [this] { openWithDialog(); });
    makeAction("save", tr("&Save"), QKeySequence::Save, [this] { save(); });
    makeAction("saveAs", tr("Save &as…"), QKeySequence::SaveAs, [this] { saveAs(); });
    QAction* undo = document_->undoStack()->createUndoAction(this, tr("&Undo"));
    undo->setShortcut(QKeySequence::Undo);
    QAction* redo = document_->undoStack()->createRedoAction(this, tr("&Redo"));
    redo->setShortcuts({QKeySequence::Redo, QKeySequence(tr("Ctrl+Y"))});
    addActions({undo, redo});
    actions_["undo"] = undo;
    actions_["redo"] = redo;
    makeAction("cut", tr("Cu&t"), QKeySequence::Cut, [this] {
        copySelection();
        deleteSelection();
    });
    makeAction("copy", tr("&Copy"), QKeySequence::Copy, [this] { copySelection(); });
    makeAction("paste", tr("&Paste"), QKeySequence::Paste, [this] { paste(); });
    makeAction("delete", tr("&Delete"), QKeySequence::Delete, [this] { deleteSelection(); });
    makeAction("selectAll", tr("Select &all"), QKeySequence::SelectAll, [this] { selectAll(); });
    makeAction("quickAdd", tr("&Add stage…"), QKeySequence(Qt::Key_Space), [this] {
        QWidget* viewport = view_->viewport();
        const QPoint pointer = viewport->mapFromGlobal(QCursor::pos());
        const QPoint at = viewport->rect().contains(pointer) ? pointer : viewport->rect().center();
        emit view_->quickAddRequested(viewport->mapToGlobal(at), view_->mapToScene(at));
    });
    actions_["quickAdd"]->setShortcutContext(Qt::WidgetShortcut);  // Space types in text fields
    view_->addAction(actions_["quickAdd"]);
    makeAction("zoomIn", tr("Zoom &in"), QKeySequence::ZoomIn, [this] { view_->zoomBy(1.25); });
    makeAction("zoomOut", tr("Zoom &out"), QKeySequence::ZoomOut, [this] { view_->zoomBy(0.8); });
    makeAction("fit", tr("&Fit to window"), QKeySequence(tr("Ctrl+0")), [this] { view_->fitAll(); });
    makeAction("arrange", tr("Arrange &left to right"), QKeySequence(tr("Ctrl+L")), [this] {
        document_->arrange();
        view_->fitAll();
    });
    QAction* snap = makeAction("snap", tr("&Snap to grid"), QKeySequence(tr("Ctrl+G")), [this] {
        scene_->setSnapToGrid(actions_["snap"]->isChecked());
    });
    snap->setCheckable(true);
    snap->setChecked(scene_->snapToGrid());
    makeAction("run", tr("&Run pipeline"), QKeySequence(tr("Ctrl+R")), [this] { run(); });
}

QMenu* PipelineCanvas::addMenus(QMenuBar* bar, QMenu* file) {
    file->addActions({actions_["new"], actions_["open"]});
    recent_menu_ = file->addMenu(tr("Open &recent"));
    fillTemplateMenu(file->addMenu(tr("&Templates")));
    file->addActions({actions_["save"], actions_["saveAs"]});
    file->addSeparator();
    fillRecentMenu();

    QMenu* edit = bar->addMenu(tr("&Edit"));
    edit->addActions({actions_["undo"], actions_["redo"]});
    edit->addSeparator();
    edit->addActions({actions_["cut"], actions_["copy"], actions_["paste"], actions_["delete"], actions_["selectAll"]});
    edit->addSeparator();
    edit->addAction(actions_["quickAdd"]);

    QMenu* view = bar->addMenu(tr("&View"));
    view->addActions({actions_["zoomIn"], actions_["zoomOut"], actions_["fit"]});
    view->addSeparator();
    view->addActions({actions_["snap"], actions_["arrange"]});
    view->addSeparator();
    for (QDockWidget* dock : findChildren<QDockWidget*>()) view->addAction(dock->toggleViewAction());

    QMenu* pipeline = bar->addMenu(tr("&Pipeline"));
    pipeline->addAction(actions_["run"]);
    return view;
}

QString PipelineCanvas::experimentsFolder() {
    const QString app = QCoreApplication::applicationDirPath();
    const QStringList candidates{qEnvironmentVariable("GROWTHSTUDIO_EXPERIMENTS"), app + "/../../experiments",
                                 app + "/../share/growthstudio/experiments", QStringLiteral(GS_SOURCE_DIR "/experiments")};
    for (const QString& folder : candidates) {
        if (!folder.isEmpty() && QFileInfo(folder + "/paper").isDir()) return QDir(folder).canonicalPath();
    }
    return {};
}

void PipelineCanvas::fillTemplateMenu(QMenu* menu) {
    const QString folder = experimentsFolder();
    const std::pair<QString, QString> scales[] = {{QStringLiteral("paper"), tr("The study's Table 2 (paper scale)")},
                                                  {QStringLiteral("cpu"), tr("Small CPU experiments")}};
    for (const auto& [name, title] : scales) {
        QMenu* scale = menu->addMenu(title);
        for (const QFileInfo& file : QDir(folder + "/" + name).entryInfoList({QStringLiteral("*.json")}, QDir::Files, QDir::Name)) {
            const QString path = file.absoluteFilePath();
            scale->addAction(file.completeBaseName().section('_', 1),
                             this, [this, path] {
                                 if (confirmDiscard()) openTemplate(path);
                             })
                ->setData(path);
        }
        scale->setEnabled(!scale->isEmpty());
    }
}

QStringList PipelineCanvas::recentFiles() const { return QSettings().value(kRecentKey).toStringList(); }

void PipelineCanvas::rememberFile(const QString& path) {
    QStringList files = recentFiles();
    files.removeAll(path);
    files.prepend(path);
    QSettings().setValue(kRecentKey, files.mid(0, kMaxRecent));
    fillRecentMenu();
}

void PipelineCanvas::fillRecentMenu() {
    if (!recent_menu_) return;
    recent_menu_->clear();
    for (const QString& path : recentFiles()) {
        recent_menu_->addAction(QFileInfo(path).fileName(), this, [this, path] {
            if (confirmDiscard()) openFile(path);
        })->setToolTip(path);
    }
    recent_menu_->setEnabled(!recent_menu_->isEmpty());
}

// --- Docks and the name bar

void PipelineCanvas::buildDocks() {
    auto add_dock = [this](const QString& title, const QString& name, QWidget* widget, Qt::DockWidgetArea area) {
        auto* dock = new QDockWidget(title, this);
        dock->setObjectName(name);
        dock->setWidget(widget);
        addDockWidget(area, dock);
        return dock;
    };
    palette_ = new StagePalette;
    palette_->setMaximumWidth(160);
    add_dock(tr("Stages"), QStringLiteral("stagesDock"), palette_, Qt::LeftDockWidgetArea);
    properties_ = new PropertyPanel(document_, scene_);
    QDockWidget* properties = add_dock(tr("Properties"), QStringLiteral("propertiesDock"), properties_, Qt::RightDockWidgetArea);
    problems_ = new QListWidget;
    problems_->setObjectName(QStringLiteral("problems"));
    connect(problems_, &QListWidget::itemClicked, this, &PipelineCanvas::showProblemTarget);
    QDockWidget* problems = add_dock(tr("Problems"), QStringLiteral("problemsDock"), problems_, Qt::BottomDockWidgetArea);
    estimate_ = new EstimatePanel(document_);
    QDockWidget* estimate = add_dock(tr("Estimate"), QStringLiteral("estimateDock"), estimate_, Qt::RightDockWidgetArea);
    resizeDocks({problems}, {90}, Qt::Vertical);
    resizeDocks({properties, estimate}, {360, 300}, Qt::Vertical);
    resizeDocks({properties}, {420}, Qt::Horizontal);
}

void PipelineCanvas::buildNameBar() {
    QToolBar* bar = addToolBar(tr("Pipeline"));
    bar->setObjectName(QStringLiteral("pipelineBar"));
    bar->setMovable(false);
    bar->addWidget(new QLabel(tr(" Pipeline: ")));
    name_edit_ = new QLineEdit;
    name_edit_->setObjectName(QStringLiteral("pipelineName"));
    name_edit_->setPlaceholderText(tr("a name in the study's grammar, e.g. T_init-d_S_a_B"));
    name_edit_->setMinimumWidth(240);
    name_edit_->setToolTip(tr("Stages T, S, B or custom sizes joined by operators d, f, a, da, df (init- for a finished model)"));
    connect(name_edit_, &QLineEdit::returnPressed, this, &PipelineCanvas::applyName);
    bar->addWidget(name_edit_);
    name_error_ = new QLabel;
    name_error_->setObjectName(QStringLiteral("nameError"));
    name_error_->setStyleSheet(QStringLiteral("color: #c62828; padding-left: 8px"));
    bar->addWidget(name_error_);
    auto* spacer = new QWidget;
    spacer->setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Preferred);
    bar->addWidget(spacer);
    status_ = new QLabel;
    status_->setObjectName(QStringLiteral("pipelineStatus"));
    bar->addWidget(status_);
    bar->addSeparator();
    bar->addActions({actions_["undo"], actions_["redo"], actions_["arrange"], actions_["fit"]});
    bar->addSeparator();
    bar->addAction(actions_["run"]);
}

// --- Keeping the views in step with the document

void PipelineCanvas::refresh() {
    const GraphCheck& check = document_->check();
    name_edit_->setText(QString::fromStdString(check.name()));
    name_error_->clear();
    problems_->clear();
    for (const auto& problem : check.problems) {
        auto* item = new QListWidgetItem(QString::fromStdString(problem.message), problems_);
        item->setData(Qt::UserRole, problem.node);
        item->setData(Qt::UserRole + 1, problem.edge);
        item->setForeground(QColor(0xc6, 0x28, 0x28));
    }
    const bool ready = check.ok();
    if (ready && check.is_chain) {
        auto* item = new QListWidgetItem(tr("No problems: the pipeline can run."), problems_);
        item->setFlags(Qt::ItemIsEnabled);
        item->setForeground(QColor(0x2e, 0x7d, 0x32));
    }
    runAction()->setEnabled(ready);
    runAction()->setToolTip(ready ? tr("Run the pipeline") : tr("Cannot run: %1").arg(problems_->item(0)->text()));
    status_->setText(ready ? tr("Ready to run ") : tr("%n problem(s) ", nullptr, int(check.problems.size())));
    status_->setStyleSheet(ready ? QStringLiteral("color: #2e7d32") : QStringLiteral("color: #c62828"));
}

void PipelineCanvas::applyName() {
    const QString error = document_->setName(name_edit_->text());
    name_error_->setText(error);
    if (error.isEmpty()) view_->fitAll();
}

void PipelineCanvas::showProblemTarget() {
    QListWidgetItem* item = problems_->currentItem();
    if (!item) return;
    const int node = item->data(Qt::UserRole).toInt();
    const int edge = item->data(Qt::UserRole + 1).toInt();
    scene_->selectIds(node ? std::set<int>{node} : std::set<int>{}, edge ? std::set<int>{edge} : std::set<int>{});
    if (StageItem* stage = scene_->stageItem(node)) view_->ensureVisible(stage);
}

QString PipelineCanvas::documentTitle() const {
    const QString path = document_->filePath();
    return path.isEmpty() ? tr("Untitled") : QFileInfo(path).fileName();
}

// --- Editing

int PipelineCanvas::addStage(const QString& kind, QPointF position) {
    StageNode node = stage_of_kind(kind, document_->graph());
    node.x = position.x();
    node.y = position.y();
    if (scene_->snapToGrid()) {
        node.x = std::round(node.x / PipelineScene::kGrid) * PipelineScene::kGrid;
        node.y = std::round(node.y / PipelineScene::kGrid) * PipelineScene::kGrid;
    }
    const int id = document_->addStage(node, tr("Add %1").arg(sizeTitle(node.size)));
    scene_->selectIds({id}, {});
    return id;
}

QMenu* PipelineCanvas::quickAddMenu(QPointF scene_position) {
    auto* menu = new QMenu(this);
    menu->setObjectName(QStringLiteral("quickAddMenu"));
    auto* search = new QLineEdit(menu);
    search->setObjectName(QStringLiteral("quickAddSearch"));
    search->setPlaceholderText(tr("Search stages…"));
    auto* search_action = new QWidgetAction(menu);
    search_action->setDefaultWidget(search);
    menu->addAction(search_action);
    QList<QAction*> entries;
    for (const StageKind& kind : stageKinds()) {
        const QString key = kind.kind;
        entries << menu->addAction(kind.title, this, [this, key, scene_position] {
            addStage(key, scene_position - QPointF(StageItem::kWidth / 2, StageItem::kHeight / 2));
        });
    }
    connect(search, &QLineEdit::textChanged, menu, [entries](const QString& text) {
        for (QAction* entry : entries) entry->setVisible(entry->text().contains(text, Qt::CaseInsensitive));
    });
    // Enter takes the first entry still shown.
    connect(search, &QLineEdit::returnPressed, menu, [menu, entries] {
        for (QAction* entry : entries) {
            if (entry->isVisible()) {
                menu->close();
                entry->trigger();
                return;
            }
        }
    });
    search->setFocus();
    return menu;
}

void PipelineCanvas::copySelection() {
    const std::set<int> nodes = scene_->selectedNodes();
    if (nodes.empty()) return;
    auto* data = new QMimeData;
    data->setData(kGraphMime, QByteArray::fromStdString(graph_to_json(subgraph(document_->graph(), nodes)).dump()));
    QApplication::clipboard()->setMimeData(data);
    paste_count_ = 0;
}

void PipelineCanvas::paste() {
    const QMimeData* data = QApplication::clipboard()->mimeData();
    if (!data || !data->hasFormat(kGraphMime)) return;
    PipelineGraph fragment;
    try {
        fragment = graph_from_json(parse_json(data->data(kGraphMime).toStdString(), "clipboard"));
    } catch (const std::exception&) {
        return;  // another program's data under our type: nothing to paste
    }
    ++paste_count_;  // each paste lands a little further, so copies never hide each other
    const std::set<int> added = document_->paste(fragment, QPointF(kPasteOffset, kPasteOffset) * paste_count_);
    scene_->selectIds(added, {});
}

void PipelineCanvas::deleteSelection() { document_->removeItems(scene_->selectedNodes(), scene_->selectedEdges()); }

void PipelineCanvas::selectAll() {
    std::set<int> nodes;
    std::set<int> edges;
    for (const auto& node : document_->graph().nodes) nodes.insert(node.id);
    for (const auto& edge : document_->graph().edges) edges.insert(edge.id);
    scene_->selectIds(nodes, edges);
}

// --- Files

void PipelineCanvas::newPipeline() {
    if (!confirmDiscard()) return;
    document_->newPipeline();
    scene_->clearRunStatus();
}

bool PipelineCanvas::openFile(const QString& path) {
    if (!succeeded(document_->open(path))) return false;
    rememberFile(path);
    scene_->clearRunStatus();
    view_->fitAll();
    return true;
}

bool PipelineCanvas::openTemplate(const QString& path) {
    nlohmann::json json;
    try {
        json = read_json_file(path.toStdString());
    } catch (const std::exception& error) {
        showError(QString::fromStdString(error.what()));
        return false;
    }
    if (!succeeded(document_->loadExperiment(json, path))) return false;
    scene_->clearRunStatus();
    view_->fitAll();
    return true;
}

bool PipelineCanvas::saveFile(const QString& path) {
    if (!succeeded(document_->save(path))) return false;
    rememberFile(path);
    return true;
}

void PipelineCanvas::openWithDialog() {
    if (!confirmDiscard()) return;
    const QString path = QFileDialog::getOpenFileName(this, tr("Open an experiment"), experimentsFolder(),
                                                      tr("Experiments (*.json)"));
    if (!path.isEmpty()) openFile(path);
}

bool PipelineCanvas::save() { return document_->filePath().isEmpty() ? saveAs() : saveFile(document_->filePath()); }

bool PipelineCanvas::saveAs() {
    const QString suggested = QString::fromStdString(document_->check().name()) + ".json";
    const QString path = QFileDialog::getSaveFileName(this, tr("Save the experiment"), suggested, tr("Experiments (*.json)"));
    return !path.isEmpty() && saveFile(path);
}

bool PipelineCanvas::confirmDiscard() {
    if (!document_->isModified() || document_->graph().nodes.empty()) return true;
    const auto answer = QMessageBox::question(this, tr("Unsaved changes"), tr("Save the changes to %1?").arg(documentTitle()),
                                              QMessageBox::Save | QMessageBox::Discard | QMessageBox::Cancel);
    if (answer == QMessageBox::Save) return save();
    return answer == QMessageBox::Discard;
}

bool PipelineCanvas::succeeded(const QString& error) {
    if (!error.isEmpty()) showError(error);
    return error.isEmpty();
}

void PipelineCanvas::showError(const QString& text) {
    if (QGuiApplication::platformName() == QLatin1String("offscreen")) {
        qWarning("%s", qPrintable(text));  // nobody could close a dialog
        return;
    }
    QMessageBox::warning(this, tr("GrowthStudio"), text);
}

// --- Runs

void PipelineCanvas::run() {
    if (!document_->check().ok()) return;
    emit runRequested(QString::fromStdString(document_->experimentJson().dump(2)));
}

void PipelineCanvas::setStageState(int index, StageRunState state, double progress, const QString& message) {
    const std::vector<int>& chain = document_->check().chain_nodes;
    if (index < 0 || index >= static_cast<int>(chain.size())) return;
    scene_->setRunStatus(chain[index], {state, progress, message});
}

void PipelineCanvas::clearStageStates() { scene_->clearRunStatus(); }

}  // namespace gs::ui
