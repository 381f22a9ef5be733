// The pipeline canvas driven through its real widgets, offscreen: palette drops, port drags,
// the property panel, the name field, the menus' actions and the experiment files.
#include <QAction>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QDropEvent>
#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMenu>
#include <QMimeData>
#include <QProcess>
#include <QPushButton>
#include <QRegularExpression>
#include <QScopeGuard>
#include <QSignalSpy>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QUndoStack>
#include <QWidgetAction>
#include <QtTest>

#include <cmath>

#include <fstream>

#include <nlohmann/json.hpp>

#include "core/model/t5_cost.h"
#include "core/store/store.h"
#include "core/tokenizer/tokenizer.h"
#include "core/train/experiment.h"
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
    void refusesEveryFileTheCliRefusesWithItsError();
    void estimatesAsTheDryRunDoes();
    void copiesPastesSelectsAllAndDeletes();
    void quickAddMenuFiltersAndAdds();
    void zoomsAndArranges();
    void showsRunStatesOnTheNodes();
    void estimatesFlopsAgainstBase();
    void takesAPretrainedSourceFromAFinishedRun();
    void opensTemplatesFromTheMenu();
    void savesACustomSizeWithItsShape();
    void contextMenusSetTheOperatorAndInit();
    void arrowKeysNudgeTheSelection();
    void measuresTheThroughputOfThisMachine();
    void editsTheExperimentSettingsUndoably();
    void refusesARunNameWithTheReasonAndKeepsRunDisabled();

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
}

void PipelineCanvasTest::undoAndRedoRestoreTheExactGraph() {
    QVERIFY(canvas_->openTemplate(templates("cpu")[7]));  // T_init-d_S_a_B
    QCOMPARE(canvas_->nameEdit()->text(), QString("T_init-d_S_a_B"));
    std::vector<PipelineGraph> states{document_->graph()};
    auto record = [&] { states.push_back(document_->graph()); };

    const int base = nodeOfSize("B");
    dropFromPalette("custom", QPointF(700, 400));
    record();
    const int custom = nodeOfSize("C1");
    QVERIFY(custom);
    dragConnection(base, custom);
    record();
    document_->setOperator(document_->graph().edges.back().id, GrowthOperator::parse("df"));
    record();
    // A mouse drag moves a stage, snapped to the grid.
    const QPointF grip = canvas_->scene()->stageItem(base)->sceneBoundingRect().center();
    QWidget* viewport = canvas_->view()->viewport();
    const QPoint from = canvas_->view()->mapFromScene(grip);
    QTest::mousePress(viewport, Qt::LeftButton, {}, from);
    QTest::mouseMove(viewport, from + QPoint(30, 40));
    QTest::mouseMove(viewport, from + QPoint(63, 87));
    QTest::mouseRelease(viewport, Qt::LeftButton, {}, from + QPoint(63, 87));
    const StageNode& moved = *document_->graph().node(base);
    QVERIFY(moved.x != states.front().nodes[2].x || moved.y != states.front().nodes[2].y);
    QCOMPARE(std::fmod(moved.x, PipelineScene::kGrid), 0.0);
    QCOMPARE(std::fmod(moved.y, PipelineScene::kGrid), 0.0);
    record();
    document_->setBudget(nodeOfSize("S"), Budget::parse("loss<=1.5"));
    record();
    canvas_->scene()->selectIds({nodeOfSize("T")}, {});
    canvas_->action("delete")->trigger();
    QCOMPARE(document_->graph().nodes.size(), size_t(3));
    record();

    QCOMPARE(document_->undoStack()->count(), int(states.size()) - 1);
    for (size_t i = states.size() - 1; i > 0; --i) {
        canvas_->action("undo")->trigger();
        QVERIFY2(document_->graph() == states[i - 1], qPrintable(QString("undo to state %1").arg(i - 1)));
        QCOMPARE(canvas_->scene()->items().size(), states[i - 1].nodes.size() + states[i - 1].edges.size());
    }
    QVERIFY(!document_->isModified());
    for (size_t i = 1; i < states.size(); ++i) {
        canvas_->action("redo")->trigger();
        QVERIFY2(document_->graph() == states[i], qPrintable(QString("redo to state %1").arg(i)));
    }
}

void PipelineCanvasTest::invalidEditsDisableRunWithTheReason() {
    auto expect_problem = [&](const QString& message) {
        QVERIFY(!canvas_->runAction()->isEnabled());
        const QStringList problems = problem_texts(canvas_);
        QVERIFY2(std::any_of(problems.begin(), problems.end(), [&](const QString& p) { return p.contains(message); }),
                 qPrintable(problems.join('\n')));
        QVERIFY(canvas_->runAction()->toolTip().startsWith("Cannot run: "));
    };
    build("T_d_S");
    QVERIFY(canvas_->runAction()->isEnabled());
    QCOMPARE(problem_texts(canvas_), QStringList{"No problems: the pipeline can run."});

    build("S_d_T");  // depth that decreases
    expect_problem("num_layers 12 -> 6: a model may only grow");
    const int edge = document_->graph().edges.front().id;
    QVERIFY(canvas_->scene()->edgeItem(edge)->hasProblem());
    QVERIFY(canvas_->scene()->edgeItem(edge)->toolTip().contains("a model may only grow"));

    build("B_a_S");  // width that shrinks
    expect_problem("d_model 768 -> 512: a model may only grow");

    build("T_d_S");
    QVERIFY(canvas_->runAction()->isEnabled());
    const int small = nodeOfSize("S");
    clickScene(canvas_->scene()->stageItem(small)->sceneBoundingRect().center());
    canvas_->propertyPanel()->findChild<QSpinBox*>("numHeads")->setValue(7);  // heads that do not divide
    expect_problem("num_heads 7 x d_kv 64 = 448 does not match d_model 512");
    QVERIFY(canvas_->scene()->stageItem(small)->hasProblem());
    QVERIFY(canvas_->scene()->stageItem(small)->toolTip().contains("does not match d_model 512"));
    canvas_->action("undo")->trigger();
    QVERIFY(canvas_->runAction()->isEnabled());

    dragConnection(small, nodeOfSize("T"));  // a cycle
    expect_problem("closes a cycle");
    canvas_->action("undo")->trigger();
    QVERIFY(canvas_->runAction()->isEnabled());

    dropFromPalette("B", QPointF(300, 400));  // two inputs
    const int base = nodeOfSize("B");
    dragConnection(small, base);
    QVERIFY(canvas_->runAction()->isEnabled());
    dragConnection(nodeOfSize("T"), base);
    expect_problem("stage B has two inputs: a stage grows from one model only");
    QVERIFY(canvas_->scene()->stageItem(base)->hasProblem());
    QCOMPARE(canvas_->nameEdit()->text(), QString());  // no chain, no name

    // Clicking a problem selects what it is about.
    for (int i = 0; i < canvas_->problemList()->count(); ++i) {
        if (canvas_->problemList()->item(i)->text().contains("two inputs")) canvas_->problemList()->setCurrentRow(i);
    }
    QTest::mouseClick(canvas_->problemList()->viewport(), Qt::LeftButton, {},
                      canvas_->problemList()->visualItemRect(canvas_->problemList()->currentItem()).center());
    QCOMPARE(canvas_->scene()->selectedNodes(), std::set<int>{base});
}

void PipelineCanvasTest::runSendsTheExperimentJson() {
    QSignalSpy spy(canvas_, &PipelineCanvas::runRequested);
    build("B_d_T");
    canvas_->runAction()->trigger();
    QCOMPARE(spy.count(), 0);  // disabled while there is an error
    build("S_a_B");
    canvas_->runAction()->trigger();
    QCOMPARE(spy.count(), 1);
    const nlohmann::json json = nlohmann::json::parse(spy.front().front().toString().toStdString());
    QCOMPARE(QString::fromStdString(json.at("pipeline")), QString("S_a_B"));
    QCOMPARE(QString::fromStdString(json.at("budgets")), QString("1-1"));
    QCOMPARE(QString::fromStdString(json.at("format")), QString("growthstudio-experiment"));
}

void PipelineCanvasTest::savesReopensAndComparesTheJson() {
    QVERIFY(canvas_->openTemplate(templates("cpu")[3]));  // T_d_S_a_B with CPU-scale sizes
    document_->setBudget(nodeOfSize("B"), Budget::parse("loss<=[B]"));
    const int small = nodeOfSize("S");
    T5Config wider = document_->graph().node(small)->config;
    wider.d_ff = 512;
    document_->setStageShape(small, "S", wider);
    typeName("T_d_S_init-a_B");  // a name typed keeps the budgets
    QVERIFY(canvas_->nameError()->text().isEmpty());
    typeName("T_d_S_a_B");
    typeName("T_d_S_a_B_");  // a parse error leaves the graph as it was
    QVERIFY(canvas_->nameError()->text().contains("ends with the operator"));
    QCOMPARE(QString::fromStdString(document_->check().name()), QString("T_d_S_a_B"));
    QCOMPARE(QString::fromStdString(document_->check().pipeline.budget_notation()), QString("1-1-loss<=[B]"));

    QTemporaryDir folder;
    const QString path = folder.filePath("grown.json");
    QVERIFY(canvas_->saveFile(path));
    const nlohmann::json saved = read_json(path);
    QVERIFY(saved == document_->experimentJson());
    QCOMPARE(saved.at("sizes").at("S").at("d_ff").get<int>(), 512);
    QCOMPARE(QString::fromStdString(saved.at("budgets")), QString("1-1-loss<=[B]"));
    QCOMPARE(canvas_->recentFiles().front(), path);

    MainWindow second;
    QVERIFY(second.canvas()->openFile(path));
    PipelineDocument* reopened = second.canvas()->document();
    QVERIFY(reopened->experimentJson() == saved);
    QCOMPARE(reopened->check().pipeline.to_json(), document_->check().pipeline.to_json());
    QVERIFY(!reopened->isModified());
}

// The canvas reads experiment files by the CLI's rules: every file `run --dry-run` refuses, the
// canvas refuses too, with the very message the CLI prints, and the open document stays as it
// was; except a file that breaks only a rule of the pipeline, which the canvas opens for editing
// and shows the CLI's message at the stage it concerns (a pipeline saved half-done opens again).
void PipelineCanvasTest::refusesEveryFileTheCliRefusesWithItsError() {
    const nlohmann::json valid = read_json(QString(GS_TEST_DATA_DIR) + "/experiments/tiny_T_d_S.json");
    const std::vector<nlohmann::json> changes = {
        {{"colour", "blue"}},
        {{"version", 2}},
        {{"sizes", {{"S", {{"width", 3}}}}}},
        {{"sizes", {{"S", {{"d_model", 0}}}}}},
        {{"pipeline", "T_q_S"}},
        {{"budgets", "40steps"}},
        {{"budgets", "40steps-0steps"}},
        {{"name", "../outside"}},
        {{"growth", {{"operator", "d"}}}},
        {{"batch_size", 0}},
        {{"data", {{"split", "1:0"}}}},
        {{"optimizer", {{"kind", "sgd-with-wings"}}}},
        {{"on_nonfinite", "ignore"}},
        {{"sizes", {{"S", {{"d_ff", 256}}}}}}};  // a rule of the pipeline: d cannot widen
    QTemporaryDir folder;
    build("T_d_S_a_B");
    for (const nlohmann::json& change : changes) {
        const nlohmann::json before = document_->experimentJson();
        nlohmann::json experiment = valid;
        experiment.merge_patch(change);
        const QString path = folder.filePath("refused.json");
        std::ofstream(path.toStdString()) << experiment.dump(1);
        QProcess cli;
        cli.setWorkingDirectory(folder.path());
        cli.start(GS_CLI_PATH, {"run", path, "--dry-run", "--db", folder.filePath("ws.db")});
        QVERIFY(cli.waitForFinished(60000));
        const QString printed = QString::fromUtf8(cli.readAllStandardError()).trimmed();
        QVERIFY2(cli.exitCode() == 1, qPrintable(QString::fromStdString(change.dump()) + ": " + printed));
        const QString prefix = "growthstudio-cli run: error: ";
        QVERIFY2(printed.startsWith(prefix), qPrintable(printed));
        const QString message = printed.mid(prefix.size());
        const QString refusal = document_->open(path);
        if (!refusal.isEmpty()) {
            QCOMPARE(refusal, message);
            QVERIFY(document_->experimentJson() == before);
            continue;
        }
        const QString pipelineRule = path + ": field 'pipeline': ";
        QVERIFY2(message.startsWith(pipelineRule), qPrintable(message));
        QVERIFY2(problem_texts(canvas_).join("\n").contains(message.mid(pipelineRule.size())),
                 qPrintable(problem_texts(canvas_).join("\n") + " / " + message));
        QVERIFY(!document_->check().ok());
    }
}

// One estimate: after a run of the experiment, `run --dry-run` and the canvas both time each
// stage by that run's measured steps, count the same steps and the same FLOPs per step.
void PipelineCanvasTest::estimatesAsTheDryRunDoes() {
    QTemporaryDir folder;
    const QString path = folder.filePath("experiment.json");
    QVERIFY(QFile::copy(QString(GS_TEST_DATA_DIR) + "/experiments/tiny_T_d_S.json", path));
    auto cli = [&](const QStringList& arguments) {
        QProcess process;
        process.setWorkingDirectory(folder.path());
        process.start(GS_CLI_PATH, arguments);
        process.waitForFinished(300000);
        return QString::fromUtf8(process.readAllStandardOutput() + process.readAllStandardError());
    };
    cli({"run", "experiment.json", "--db", "ws.db", "--quiet"});
    const QString plan = cli({"run", "experiment.json", "--db", "ws.db", "--dry-run"});
    QVERIFY2(plan.count("(measured: median of") == 2, qPrintable(plan));

    QVERIFY(canvas_->openFile(path));
    canvas_->estimatePanel()->setWorkspace(folder.filePath("ws.db"));
    const PipelineEstimate estimate = canvas_->estimatePanel()->estimate();
    const QRegularExpression stageLine(R"(budget \S+: (\d+) steps, ~\S+, ([0-9.]+) TFLOP/step, ([0-9.]+) s/step \(measured)");
    auto match = stageLine.globalMatch(plan);
    for (const StageEstimate& stage : estimate.stages) {
        QVERIFY2(match.hasNext(), qPrintable(plan));
        const QRegularExpressionMatch printed = match.next();
        QVERIFY(stage.measured);
        QCOMPARE(stage.steps, printed.captured(1).toDouble());
        // The plan prints 4 decimals of TFLOP/step and 2 of seconds: equal to half a last digit.
        QVERIFY2(std::abs(stage.flops_per_step / 1e12 - printed.captured(2).toDouble()) <= 0.5e-4, qPrintable(plan));
        QVERIFY2(std::abs(stage.step_seconds - printed.captured(3).toDouble()) <= 0.5e-2, qPrintable(plan));
    }
    QVERIFY(!match.hasNext());
}

void PipelineCanvasTest::titleShowsUnsavedChanges() {
    QTemporaryDir folder;
    const QString path = folder.filePath("T_d_S.json");
    build("T_d_S");
    QVERIFY(window_->windowTitle().startsWith("Untitled[*]"));
    QVERIFY(window_->isWindowModified());
    QVERIFY(canvas_->saveFile(path));
    QVERIFY(window_->windowTitle().startsWith("T_d_S.json[*]"));
    QVERIFY(!window_->isWindowModified());
    document_->setBudget(nodeOfSize("S"), Budget::parse("3"));
    QVERIFY(window_->isWindowModified());
    canvas_->action("undo")->trigger();
    QVERIFY(!window_->isWindowModified());
}

void PipelineCanvasTest::copiesPastesSelectsAllAndDeletes() {
    build("T_d_S");
    const PipelineGraph before = document_->graph();
    canvas_->action("selectAll")->trigger();
    QCOMPARE(canvas_->scene()->selectedNodes().size(), size_t(2));
    QCOMPARE(canvas_->scene()->selectedEdges().size(), size_t(1));
    canvas_->action("copy")->trigger();
    canvas_->action("paste")->trigger();
    QCOMPARE(document_->graph().nodes.size(), size_t(4));
    QCOMPARE(document_->graph().edges.size(), size_t(2));
    const std::set<int> pasted = canvas_->scene()->selectedNodes();
    QCOMPARE(pasted.size(), size_t(2));
    const StageNode& copy = *document_->graph().node(*pasted.begin());
    QCOMPARE(copy.x, before.nodes[0].x + 40);
    QCOMPARE(copy.size, before.nodes[0].size);
    QVERIFY(!canvas_->runAction()->isEnabled());  // two chains: one is not connected
    canvas_->action("delete")->trigger();
    QVERIFY(document_->graph().nodes == before.nodes);
    QVERIFY(document_->graph().edges == before.edges);

    canvas_->scene()->selectIds({nodeOfSize("S")}, {});
    canvas_->action("cut")->trigger();
    QCOMPARE(document_->graph().nodes.size(), size_t(1));
    QVERIFY(document_->graph().edges.empty());
    canvas_->action("paste")->trigger();
    QCOMPARE(document_->graph().nodes.size(), size_t(2));
}

void PipelineCanvasTest::quickAddMenuFiltersAndAdds() {
    std::unique_ptr<QMenu> menu(canvas_->quickAddMenu(QPointF(200, 200)));
    auto* search = menu->findChild<QLineEdit*>("quickAddSearch");
    QVERIFY(search);
    QTest::keyClicks(search, "base");
    int visible = 0;
    for (QAction* action : menu->actions()) visible += action->isVisible() && !qobject_cast<QWidgetAction*>(action);
    QCOMPARE(visible, 1);
    QTest::keyClick(search, Qt::Key_Return);
    QCOMPARE(document_->graph().nodes.size(), size_t(1));
    QCOMPARE(QString::fromStdString(document_->graph().nodes.front().size), QString("B"));
    QCOMPARE(canvas_->action("quickAdd")->shortcut(), QKeySequence(Qt::Key_Space));
}

void PipelineCanvasTest::zoomsAndArranges() {
    build("T_d_S_a_B");
    const double zoom = canvas_->view()->zoom();
    canvas_->action("zoomIn")->trigger();
    // One product or quotient in double per step: ulps of a zoom near 1.
    QVERIFY(std::abs(canvas_->view()->zoom() - zoom * 1.25) < 1e-9);
    canvas_->action("zoomOut")->trigger();
    QVERIFY(std::abs(canvas_->view()->zoom() - zoom) < 1e-9);
    const int small = nodeOfSize("S");
    document_->moveStages({{small, QPointF(900, 700)}});
    canvas_->action("arrange")->trigger();
    QCOMPARE(document_->graph().node(small)->x, 280.0);
    QCOMPARE(document_->graph().node(small)->y, 0.0);
    QCOMPARE(canvas_->action("arrange")->shortcut(), QKeySequence("Ctrl+L"));
    QCOMPARE(canvas_->action("fit")->shortcut(), QKeySequence("Ctrl+0"));
}

void PipelineCanvasTest::showsRunStatesOnTheNodes() {
    build("T_init-d_S_a_B");
    const std::vector<int> chain = document_->check().chain_nodes;
    canvas_->setStageState(0, StageRunState::done);
    canvas_->setStageState(1, StageRunState::training, 0.4);
    canvas_->setStageState(2, StageRunState::failed, 0, "out of memory at batch 16 x 512");
    canvas_->setStageState(7, StageRunState::queued);  // no such stage: ignored
    PipelineScene* scene = canvas_->scene();
    QCOMPARE(scene->stageItem(chain[0])->lines().last(), QString("done"));
    QCOMPARE(scene->stageItem(chain[1])->lines().last(), QString("training 40%"));
    QVERIFY(scene->stageItem(chain[2])->toolTip().contains("failed: out of memory at batch 16 x 512"));
    QCOMPARE(scene->runStatus(chain[1]).progress, 0.4);
    document_->setBudget(chain[1], Budget::parse("4"));  // states stay with their stages
    QCOMPARE(scene->stageItem(chain[1])->lines().last(), QString("training 40%"));
    canvas_->setStageState(1, StageRunState::queued);
    QCOMPARE(scene->stageItem(chain[1])->lines().last(), QString("queued"));
    canvas_->clearStageStates();
    QVERIFY(scene->runStatus(chain[2]).state == StageRunState::idle);
    QCOMPARE(scene->stageItem(chain[2])->lines().size(), 3);
}

void PipelineCanvasTest::estimatesFlopsAgainstBase() {
    build("T_d_S");
    const int tiny = nodeOfSize("T");
    const int small = nodeOfSize("S");
    document_->setBudget(tiny, Budget::parse("500steps"));
    document_->setBudget(small, Budget::parse("1000steps"));
    canvas_->estimatePanel()->setThroughput(2e12);
    // A new pipeline trains 8 rows of 512 -> 114 tokens per step with the vocabulary of the
    // default tokenizer (the experiment defaults, as the run and its dry run have them).
    const int64_t default_vocabulary =
        Tokenizer::model_vocab_size_for_pieces(parse_tokenizer_choice(DataSpec().tokenizer).train->vocab_size);
    T5Config tiny_config = default_size_config("T"), small_config = default_size_config("S");
    tiny_config.vocab_size = small_config.vocab_size = default_vocabulary;
    const double tiny_step = training_flops_per_step(tiny_config, 8, 512, 114);
    const double small_step = training_flops_per_step(small_config, 8, 512, 114);
    QTableWidget* table = canvas_->estimatePanel()->table();
    QCOMPARE(table->rowCount(), 2);
    QCOMPARE(table->item(0, 1)->text(), QLocale().toString(qlonglong(count_parameters(tiny_config))));
    QCOMPARE(table->item(0, 3)->text(), QString::fromStdString(flops_text(500 * tiny_step)));
    QCOMPARE(table->item(1, 4)->text(), QString::fromStdString(duration_text(1000 * small_step / 2e12)));
    const QString summary = canvas_->estimatePanel()->summary();
    QVERIFY2(summary.contains(QString::fromStdString(flops_text(500 * tiny_step + 1000 * small_step))), qPrintable(summary));
    QVERIFY2(summary.contains(QString::fromStdString(flops_text(1500 * small_step))), qPrintable(summary));

    // A tokenizer trained with 4000 pieces gives the model 4000 + 100 sentinels, padded to 4224
    // ids: the table and the stage's node count the parameters the run will have.
    document_->setSetting("/data/tokenizer", "train:4000");
    T5Config tiny_4224 = default_size_config("T");
    tiny_4224.vocab_size = 4224;
    QCOMPARE(table->item(0, 1)->text(), QLocale().toString(qlonglong(count_parameters(tiny_4224))));
    QCOMPARE(table->item(0, 3)->text(), QString::fromStdString(flops_text(500 * training_flops_per_step(tiny_4224, 8, 512, 114))));
    const QStringList node_lines = canvas_->scene()->stageItem(tiny)->lines();
    QVERIFY2(node_lines.join(" ").contains(QLocale().toString(count_parameters(tiny_4224) / 1e6, 'f', 1) + " M parameters"),
             qPrintable(node_lines.join(" | ")));
    // The Properties panel counts the same parameters as the node.
    clickScene(canvas_->scene()->stageItem(tiny)->sceneBoundingRect().center());
    QCOMPARE(canvas_->propertyPanel()->stageId(), tiny);
    QCOMPARE(canvas_->propertyPanel()->findChild<QLabel*>("parameters")->text(),
             QLocale().toString(qlonglong(count_parameters(tiny_4224))));
}

void PipelineCanvasTest::takesAPretrainedSourceFromAFinishedRun() {
    QTemporaryDir data;
    // Restored afterwards: the tests after this one keep CTest's data folder, never the user's.
    const auto restore = qScopeGuard([data_home = qgetenv("XDG_DATA_HOME")] { qputenv("XDG_DATA_HOME", data_home); });
    qputenv("XDG_DATA_HOME", data.path().toUtf8());
    {
        Store store(default_database_path());
        RunRecord run;
        run.experiment_id = store.add_experiment("S", "{}");
        run.pipeline = "S";
        run.name = "S-small";
        run.status = RunStatus::done;
        store.create_run(run);
        run.name = "B-running";
        run.status = RunStatus::running;
        store.create_run(run);
    }
    dropFromPalette("pretrained", QPointF(100, 100));
    const int stage = nodeOfSize("S");
    QVERIFY(document_->graph().node(stage)->pretrained);
    dropFromPalette("B", QPointF(400, 100));
    dragConnection(stage, nodeOfSize("B"));
    QCOMPARE(canvas_->nameEdit()->text(), QString("S_init-a_B"));  // width grows: AKI, from a finished model

    clickScene(canvas_->scene()->stageItem(stage)->sceneBoundingRect().center());
    QMenu* runs = canvas_->propertyPanel()->finishedRunMenu();
    emit runs->aboutToShow();
    QCOMPARE(runs->actions().size(), 1);  // the run still training is no source
    QVERIFY(runs->actions().front()->text().startsWith("S-small"));
    runs->actions().front()->trigger();
    QCOMPARE(QString::fromStdString(document_->graph().node(stage)->source), QString("S-small"));
    QCOMPARE(QString::fromStdString(document_->experimentJson().at("pretrained").at("S")), QString("S-small"));
}

void PipelineCanvasTest::opensTemplatesFromTheMenu() {
    QMenu* templates_menu = nullptr;
    for (QMenu* menu : window_->findChildren<QMenu*>()) {
        if (menu->title() == "&Templates") templates_menu = menu;
    }
    QVERIFY(templates_menu);
    const QList<QAction*> scales = templates_menu->actions();
    QCOMPARE(scales.size(), 2);
    for (QAction* scale : scales) QCOMPARE(QMenu::menuInAction(scale)->actions().size(), 11);
    QAction* row8 = QMenu::menuInAction(scales.front())->actions().at(7);
    QCOMPARE(row8->text(), QString("T_init-d_S_a_B"));
    row8->trigger();
    QCOMPARE(canvas_->nameEdit()->text(), QString("T_init-d_S_a_B"));
    QVERIFY(document_->filePath().isEmpty());  // Save asks where: the template stays as it is
}

void PipelineCanvasTest::savesACustomSizeWithItsShape() {
    dropFromPalette("B", QPointF(100, 100));
    dropFromPalette("custom", QPointF(400, 100));
    const int custom = nodeOfSize("C1");
    clickScene(canvas_->scene()->stageItem(custom)->sceneBoundingRect().center());
    PropertyPanel* panel = canvas_->propertyPanel();
    panel->findChild<QSpinBox*>("numLayers")->setValue(24);
    panel->findChild<QSpinBox*>("numDecoderLayers")->setValue(24);
    panel->findChild<QSpinBox*>("dModel")->setValue(1024);
    panel->findChild<QSpinBox*>("numHeads")->setValue(16);
    panel->findChild<QSpinBox*>("dFf")->setValue(4096);
    QLineEdit* size = panel->findChild<QLineEdit*>("stageSize");
    size->selectAll();
    QTest::keyClicks(size, "L");
    QTest::keyClick(size, Qt::Key_Return);
    dragConnection(nodeOfSize("B"), custom);
    QCOMPARE(canvas_->nameEdit()->text(), QString("B_da_L"));
    QVERIFY2(canvas_->runAction()->isEnabled(), qPrintable(problem_texts(canvas_).join('\n')));
    clickScene(canvas_->scene()->stageItem(custom)->sceneBoundingRect().center());
    auto* ffn = panel->findChild<QComboBox*>("feedForwardProj");
    ffn->setCurrentText("relu");
    QVERIFY(!canvas_->runAction()->isEnabled());
    QVERIFY(problem_texts(canvas_).join('\n').contains("feed_forward_proj gated-gelu -> relu: growth keeps the FFN type"));
    ffn->setCurrentText("gated-gelu");
    QVERIFY(canvas_->runAction()->isEnabled());

    QTemporaryDir folder;
    const QString path = folder.filePath("large.json");
    QVERIFY(canvas_->saveFile(path));
    QCOMPARE(read_json(path).at("sizes").at("L").at("d_model").get<int>(), 1024);
    PipelineDocument reopened;
    QCOMPARE(reopened.open(path), QString());
    QCOMPARE(reopened.graph().nodes.back().config, document_->graph().node(custom)->config);
    QCOMPARE(reopened.name(), QString("B_da_L"));
}

void PipelineCanvasTest::contextMenusSetTheOperatorAndInit() {
    build("S_a_B");
    const int edge = document_->graph().edges.front().id;
    std::unique_ptr<QMenu> menu(canvas_->scene()->edgeMenu(edge));
    QStringList texts;
    for (QAction* action : menu->actions()) {
        if (!action->isSeparator()) texts << action->text();
    }
    QCOMPARE(texts, (QStringList{"d", "f", "a", "da", "df", "Grow from a finished model (init-)", "Delete"}));
    QVERIFY(menu->actions().at(2)->isChecked());
    menu->actions().at(1)->trigger();  // f
    QCOMPARE(canvas_->nameEdit()->text(), QString("S_f_B"));
    menu.reset(canvas_->scene()->edgeMenu(edge));
    menu->actions().at(6)->trigger();  // init-
    QCOMPARE(canvas_->nameEdit()->text(), QString("S_init-f_B"));
    QCOMPARE(canvas_->scene()->edgeItem(edge)->label(), QString("init-f"));
    QVERIFY2(canvas_->runAction()->isEnabled(), qPrintable(problem_texts(canvas_).join('\n')));

    std::unique_ptr<QMenu> stage(canvas_->scene()->stageMenu(nodeOfSize("S")));
    QVERIFY(stage->actions().front()->isChecked());
    stage->actions().front()->trigger();  // trained here again
    QCOMPARE(canvas_->nameEdit()->text(), QString("S_f_B"));
    stage.reset(canvas_->scene()->stageMenu(nodeOfSize("S")));
    stage->actions().back()->trigger();  // Delete
    QCOMPARE(canvas_->nameEdit()->text(), QString("B"));
}

void PipelineCanvasTest::arrowKeysNudgeTheSelection() {
    build("T_d_S");
    const int small = nodeOfSize("S");
    const StageNode before = *document_->graph().node(small);
    canvas_->scene()->selectIds({small}, {});
    canvas_->view()->setFocus();
    QTest::keyClick(canvas_->view(), Qt::Key_Right);
    QTest::keyClick(canvas_->view(), Qt::Key_Down, Qt::ShiftModifier);
    QCOMPARE(document_->graph().node(small)->x, before.x + PipelineScene::kGrid);
    QCOMPARE(document_->graph().node(small)->y, before.y + 5 * PipelineScene::kGrid);
    QCOMPARE(document_->graph().node(nodeOfSize("T"))->x, 0.0);
}

void PipelineCanvasTest::measuresTheThroughputOfThisMachine() {
    auto* throughput = canvas_->estimatePanel()->findChild<QDoubleSpinBox*>("throughput");
    auto* measure = canvas_->estimatePanel()->findChild<QPushButton*>("measureThroughput");
    throughput->setValue(0.001);
    QTest::mouseClick(measure, Qt::LeftButton);
    QVERIFY(!measure->isEnabled());
    QTRY_VERIFY_WITH_TIMEOUT(measure->isEnabled(), 60000);
    QVERIFY2(throughput->value() > 0.001, qPrintable(throughput->text()));  // half of a real matmul peak
}

void PipelineCanvasTest::editsTheExperimentSettingsUndoably() {
    QVERIFY(canvas_->openTemplate(templates("cpu")[2]));  // S_a_B: batch 16, input 128
    canvas_->scene()->selectIds({}, {});
    PropertyPanel* panel = canvas_->propertyPanel();
    auto* batch = panel->findChild<QSpinBox*>("batchSize");
    QCOMPARE(batch->value(), 16);
    QCOMPARE(panel->findChild<QSpinBox*>("inputLength")->value(), 128);
    const QString flops_before = canvas_->estimatePanel()->table()->item(0, 3)->text();
    batch->setValue(32);
    panel->findChild<QComboBox*>("device")->setCurrentText("cpu");
    panel->findChild<QDoubleSpinBox*>("peakLr")->setValue(0.01);
    const nlohmann::json json = document_->experimentJson();
    QCOMPARE(json.at("batch_size").get<int>(), 32);
    QCOMPARE(QString::fromStdString(json.at("device")), QString("cpu"));
    QCOMPARE(json.at("schedule").at("peak_lr").get<double>(), 0.01);
    QCOMPARE(json.at("schedule").at("kind"), "cosine");  // the rest of the section stays
    QVERIFY(canvas_->estimatePanel()->table()->item(0, 3)->text() != flops_before);  // twice the rows per step
    canvas_->action("undo")->trigger();
    canvas_->action("undo")->trigger();
    canvas_->action("undo")->trigger();
    QVERIFY(document_->experimentJson() == read_json(templates("cpu")[2]));
    QCOMPARE(batch->value(), 16);
    QCOMPARE(canvas_->estimatePanel()->table()->item(0, 3)->text(), flops_before);
}

void PipelineCanvasTest::refusesARunNameWithTheReasonAndKeepsRunDisabled() {
    QVERIFY(canvas_->openTemplate(templates("cpu")[2]));  // S_a_B
    canvas_->scene()->selectIds({}, {});
    PropertyPanel* panel = canvas_->propertyPanel();
    auto* name = panel->findChild<QLineEdit*>("runName");
    auto* reason = panel->findChild<QLabel*>("runNameProblem");
    QVERIFY(name && reason);
    QVERIFY(reason->isHidden());
    QVERIFY(canvas_->runAction()->isEnabled());
    auto type = [&](const QString& text) {  // as a keyboard (or an input method, for Hangul) types it
        name->setFocus();
        name->selectAll();
        QTest::sendKeyEvent(QTest::Press, name, Qt::Key_unknown, text, Qt::NoModifier);
        QTest::sendKeyEvent(QTest::Release, name, Qt::Key_unknown, text, Qt::NoModifier);
    };

    type("../../x");  // the reason shows while the name is typed
    QVERIFY(!reason->isHidden());
    QVERIFY2(reason->text().contains("contains '/', which would make it a path"), qPrintable(reason->text()));
    QTest::keyClick(name, Qt::Key_Return);
    QVERIFY(!canvas_->runAction()->isEnabled());
    QVERIFY2(problem_texts(canvas_).join('\n').contains("run name '../../x' contains '/'"),
             qPrintable(problem_texts(canvas_).join('\n')));
    QVERIFY(!reason->isHidden());  // still there once the panel redraws

    type(QString::fromUtf8("문서요약_S_a_B"));  // Hangul is fine
    QVERIFY(reason->isHidden());
    QTest::keyClick(name, Qt::Key_Return);
    QVERIFY2(canvas_->runAction()->isEnabled(), qPrintable(problem_texts(canvas_).join('\n')));
    QCOMPARE(QString::fromStdString(document_->experimentJson().at("name")), QString::fromUtf8("문서요약_S_a_B"));

    type(".hidden");
    QVERIFY(reason->text().contains("starts with '.'"));
    QTest::keyClick(name, Qt::Key_Return);
    QVERIFY(!canvas_->runAction()->isEnabled());
    canvas_->action("undo")->trigger();  // the name's edits are one step: back to the file's name
    QCOMPARE(name->text(), QString("S_a_B"));
    QVERIFY(canvas_->runAction()->isEnabled());
    QVERIFY(reason->isHidden());
}

QTEST_MAIN(PipelineCanvasTest)
#include "test_pipeline_canvas.moc"
