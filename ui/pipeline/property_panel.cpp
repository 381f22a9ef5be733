#include "ui/pipeline/property_panel.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QPushButton>
#include <QMenu>
#include <QSpinBox>
#include <QToolButton>
#include <QVBoxLayout>

#include <cmath>
#include <limits>

#include <nlohmann/json.hpp>

#include "core/model/t5_cost.h"
#include "core/store/store.h"
#include "core/train/run_name.h"
#include "ui/pipeline/pipeline_document.h"
#include "ui/pipeline/pipeline_scene.h"

namespace gs::ui {

namespace {

enum Page { kNothing, kStage, kEdge };

// The budget kinds in the combo box's order.
const Budget::Kind kBudgetKinds[] = {Budget::Kind::epochs, Budget::Kind::steps, Budget::Kind::seconds,
                                     Budget::Kind::target_loss, Budget::Kind::reference_loss};
constexpr double kSecondsPerHour = 3600;

}  // namespace

PropertyPanel::PropertyPanel(PipelineDocument* document, PipelineScene* scene, QWidget* parent)
    : QStackedWidget(parent), document_(document), scene_(scene) {
    setObjectName(QStringLiteral("propertyPanel"));
    addWidget(buildExperimentPage());
    addWidget(buildStagePage());
    addWidget(buildEdgePage());
    connect(document_, &PipelineDocument::documentChanged, this, &PropertyPanel::refresh);
    connect(scene_, &QGraphicsScene::selectionChanged, this, &PropertyPanel::refresh);
    refresh();
}

QWidget* PropertyPanel::buildExperimentPage() {
    auto* page = new QWidget;
    auto* layout = new QVBoxLayout(page);
    auto* hint = new QLabel(tr("<p>Select a stage or a connection to edit it; the experiment's settings are below.</p>"
                               "<ul><li>Drag stages from the palette, or double-click the canvas (or press Space) "
                               "to add one.</li>"
                               "<li>Drag from a stage's blue output port to another stage to connect them; the "
                               "connection carries the growth operator.</li>"
                               "<li>Or type a name such as <b>T_init-d_S_a_B</b> in the Pipeline field.</li>"
                               "<li>Delete removes the selection; Ctrl+Z undoes; Ctrl+L arranges; Ctrl+0 fits.</li></ul>"));
    hint->setWordWrap(true);
    hint->setAlignment(Qt::AlignTop | Qt::AlignLeft);
    hint->setMargin(8);
    layout->addWidget(hint);
    auto* box = new QGroupBox(tr("Experiment"));
    auto* form = new QFormLayout(box);
    auto spin = [&](const QString& label, const QString& name, int minimum, int maximum, const char* pointer) {
        auto* field = new QSpinBox;
        field->setObjectName(name);
        field->setRange(minimum, maximum);
        connect(field, &QSpinBox::valueChanged, this, [this, pointer](int value) {
            if (!updating_) document_->setSetting(pointer, value);
        });
        form->addRow(label, field);
        return field;
    };
    run_name_ = new QLineEdit;
    run_name_->setObjectName(QStringLiteral("runName"));
    run_name_->setPlaceholderText(tr("the pipeline's name"));
    connect(run_name_, &QLineEdit::editingFinished, this, [this] {
        if (!run_name_->text().trimmed().isEmpty()) document_->setSetting("/name", run_name_->text().trimmed().toStdString());
    });
    // Why a name cannot be used, while it is typed; once applied it is also one of the
    // document's problems, which keep Run disabled.
    connect(run_name_, &QLineEdit::textEdited, this, [this](const QString& text) {
        showRunNameProblem(text.trimmed().isEmpty() ? std::string() : run_name_problem(text.trimmed().toStdString()));
    });
    form->addRow(tr("Run name"), run_name_);
    run_name_problem_ = new QLabel;
    run_name_problem_->setObjectName(QStringLiteral("runNameProblem"));
    run_name_problem_->setWordWrap(true);
    run_name_problem_->setStyleSheet(QStringLiteral("color: #c62828"));
    run_name_problem_->hide();
    form->addRow(QString(), run_name_problem_);
    batch_size_ = spin(tr("Batch size"), QStringLiteral("batchSize"), 1, 1 << 16, "/batch_size");
    accumulation_ = spin(tr("Accumulation"), QStringLiteral("gradientAccumulation"), 1, 1 << 12, "/gradient_accumulation");
    input_length_ = spin(tr("Input tokens"), QStringLiteral("inputLength"), 8, 1 << 16, "/data/input_length");
    peak_lr_ = new QDoubleSpinBox;
    peak_lr_->setObjectName(QStringLiteral("peakLr"));
    peak_lr_->setDecimals(6);
    peak_lr_->setRange(1e-6, 10);
    peak_lr_->setSingleStep(1e-3);
    connect(peak_lr_, &QDoubleSpinBox::valueChanged, this, [this](double value) {
        if (!updating_) document_->setSetting("/schedule/peak_lr", value);
    });
    form->addRow(tr("Peak learning rate"), peak_lr_);
    seed_ = spin(tr("Seed"), QStringLiteral("seed"), 0, std::numeric_limits<int>::max(), "/seed");
    device_ = new QComboBox;
    device_->setObjectName(QStringLiteral("device"));
    device_->setEditable(true);  // cuda:N too
    device_->addItems({QStringLiteral("auto"), QStringLiteral("cpu"), QStringLiteral("cuda")});
    connect(device_, &QComboBox::currentTextChanged, this, [this](const QString& device) {
        if (!updating_ && !device.trimmed().isEmpty()) document_->setSetting("/device", device.trimmed().toStdString());
    });
    form->addRow(tr("Device"), device_);
    layout->addWidget(box);
    layout->addStretch();
    return page;
}

// The experiment's values, or the defaults the experiment reader applies (docs/experiments.md).
void PropertyPanel::showSettings() {
    const nlohmann::json& settings = document_->settings();
    const nlohmann::json data = settings.value("data", nlohmann::json::object());
    const nlohmann::json schedule = settings.value("schedule", nlohmann::json::object());
    run_name_->setText(QString::fromStdString(settings.value("name", "")));
    const std::string name = document_->runName();  // "" : no chain yet, nothing to name
    showRunNameProblem(name.empty() ? std::string() : run_name_problem(name));
    batch_size_->setValue(settings.value("batch_size", 8));
    accumulation_->setValue(settings.value("gradient_accumulation", 1));
    input_length_->setValue(data.value("input_length", 512));
    peak_lr_->setValue(schedule.value("peak_lr", 2e-2));
    seed_->setValue(settings.value("seed", 0));
    device_->setCurrentText(QString::fromStdString(settings.value("device", "auto")));
}

void PropertyPanel::showRunNameProblem(const std::string& problem) {
    run_name_problem_->setText(problem.empty() ? QString() : tr("This cannot name a run: it %1.").arg(QString::fromStdString(problem)));
    run_name_problem_->setVisible(!problem.empty());
}

QWidget* PropertyPanel::buildStagePage() {
    auto* page = new QWidget;
    auto* layout = new QVBoxLayout(page);
    layout->addWidget(buildShapeBox());
    layout->addWidget(buildBudgetBox());
    layout->addWidget(buildSourceBox());
    layout->addStretch();
    return page;
}

QSpinBox* PropertyPanel::addShapeField(QFormLayout* form, const QString& label, const QString& name, int maximum) {
    auto* spin = new QSpinBox;
    spin->setObjectName(name);
    spin->setRange(1, maximum);
    connect(spin, &QSpinBox::valueChanged, this, &PropertyPanel::applyShape);
    form->addRow(label, spin);
    return spin;
}

QWidget* PropertyPanel::buildShapeBox() {
    auto* box = new QGroupBox(tr("Stage"));
    auto* form = new QFormLayout(box);
    size_ = new QLineEdit;
    size_->setObjectName(QStringLiteral("stageSize"));
    size_->setToolTip(tr("T, S, B or a custom size's name (no '_')"));
    connect(size_, &QLineEdit::editingFinished, this, &PropertyPanel::applyShape);
    form->addRow(tr("Size name"), size_);
    layers_ = addShapeField(form, tr("Encoder layers"), QStringLiteral("numLayers"), 256);
    decoder_layers_ = addShapeField(form, tr("Decoder layers"), QStringLiteral("numDecoderLayers"), 256);
    d_model_ = addShapeField(form, tr("d_model"), QStringLiteral("dModel"), 65536);
    heads_ = addShapeField(form, tr("Heads"), QStringLiteral("numHeads"), 1024);
    d_kv_ = addShapeField(form, tr("d_kv"), QStringLiteral("dKv"), 4096);
    d_ff_ = addShapeField(form, tr("d_ff"), QStringLiteral("dFf"), 262144);
    ffn_ = new QComboBox;
    ffn_->setObjectName(QStringLiteral("feedForwardProj"));
    ffn_->setEditable(true);  // any "[gated-]ACT" T5Config accepts
    ffn_->addItems({QStringLiteral("gated-gelu"), QStringLiteral("relu"), QStringLiteral("gated-silu"),
                    QStringLiteral("gated-relu")});
    connect(ffn_, &QComboBox::currentTextChanged, this, &PropertyPanel::applyShape);
    form->addRow(tr("FFN"), ffn_);
    dropout_ = new QDoubleSpinBox;
    dropout_->setObjectName(QStringLiteral("dropoutRate"));
    dropout_->setRange(0, 0.9);
    dropout_->setSingleStep(0.05);
    connect(dropout_, &QDoubleSpinBox::valueChanged, this, &PropertyPanel::applyShape);
    form->addRow(tr("Dropout"), dropout_);
    parameters_ = new QLabel;
    parameters_->setObjectName(QStringLiteral("parameters"));
    form->addRow(tr("Parameters"), parameters_);
    return box;
}

QWidget* PropertyPanel::buildBudgetBox() {
    auto* box = new QGroupBox(tr("Training budget"));
    auto* form = budget_form_ = new QFormLayout(box);
    budget_kind_ = new QComboBox;
    budget_kind_->setObjectName(QStringLiteral("budgetKind"));
    budget_kind_->addItems({tr("Epochs"), tr("Steps"), tr("Wall-clock hours"), tr("Until validation loss ≤"),
                            tr("Until the final loss of run")});
    budget_value_ = new QDoubleSpinBox;
    budget_value_->setObjectName(QStringLiteral("budgetValue"));
    reference_run_ = new QLineEdit(QStringLiteral("B"));
    reference_run_->setObjectName(QStringLiteral("referenceRun"));
    reference_run_->setToolTip(tr("A finished run, e.g. the Base pipeline B"));
    connect(budget_kind_, &QComboBox::currentIndexChanged, this, [this] {
        updateBudgetRange();
        applyBudget();
    });
    connect(budget_value_, &QDoubleSpinBox::valueChanged, this, &PropertyPanel::applyBudget);
    connect(reference_run_, &QLineEdit::editingFinished, this, &PropertyPanel::applyBudget);
    form->addRow(tr("Train for"), budget_kind_);
    form->addRow(tr("Value"), budget_value_);
    form->addRow(tr("Run"), reference_run_);
    return box;
}

QWidget* PropertyPanel::buildSourceBox() {
    auto* box = new QGroupBox(tr("Pre-trained model"));
    auto* layout = new QVBoxLayout(box);
    pretrained_ = new QCheckBox(tr("A finished model, not trained here (init-)"));
    pretrained_->setObjectName(QStringLiteral("pretrained"));
    connect(pretrained_, &QCheckBox::toggled, this, &PropertyPanel::applyPretrained);
    source_ = new QLineEdit;
    source_->setObjectName(QStringLiteral("source"));
    source_->setPlaceholderText(tr("checkpoint folder or run name"));
    connect(source_, &QLineEdit::editingFinished, this, &PropertyPanel::applyPretrained);
    auto* browse = new QPushButton(tr("Browse…"));
    connect(browse, &QPushButton::clicked, this, &PropertyPanel::browseSource);
    auto* runs = new QToolButton;
    runs->setText(tr("Finished run"));
    runs->setToolTip(tr("A finished run of the workspace: its final checkpoint"));
    run_menu_ = new QMenu(runs);
    run_menu_->setObjectName(QStringLiteral("finishedRuns"));
    connect(run_menu_, &QMenu::aboutToShow, this, &PropertyPanel::listFinishedRuns);
    runs->setMenu(run_menu_);
    runs->setPopupMode(QToolButton::InstantPopup);
    auto* row = new QHBoxLayout;
    row->addWidget(source_);
    row->addWidget(browse);
    row->addWidget(runs);
    layout->addWidget(pretrained_);
    layout->addLayout(row);
    return box;
}

QWidget* PropertyPanel::buildEdgePage() {
    auto* page = new QWidget;
    auto* layout = new QVBoxLayout(page);
    auto* box = new QGroupBox(tr("Growth"));
    auto* form = new QFormLayout(box);
    operator_ = new QComboBox;
    operator_->setObjectName(QStringLiteral("operator"));
    const std::pair<const char*, QString> operators[] = {
        {"d", tr("d: depth (progressive stacking)")},
        {"f", tr("f: width by FPI (function-preserving)")},
        {"a", tr("a: width by AKI (advanced knowledge)")},
        {"da", tr("da: width by AKI, then depth")},
        {"df", tr("df: width by FPI, then depth (fa)")}};
    for (const auto& [letters, text] : operators) operator_->addItem(text, QString::fromLatin1(letters));
    connect(operator_, &QComboBox::activated, this, [this] {
        document_->setOperator(edge_id_, GrowthOperator::parse(operator_->currentData().toString().toStdString()));
    });
    init_ = new QCheckBox(tr("Grow from a finished pre-trained model (init-)"));
    init_->setObjectName(QStringLiteral("initFromPretrained"));
    init_->setToolTip(tr("Off: the growth happens during training, after the stage before it"));
    connect(init_, &QCheckBox::toggled, this, [this](bool on) {
        if (!updating_) document_->setGrowthFromPretrained(edge_id_, on);
    });
    suggestion_ = new QLabel;
    suggestion_->setWordWrap(true);
    form->addRow(tr("Operator"), operator_);
    form->addRow(init_);
    form->addRow(suggestion_);
    layout->addWidget(box);
    layout->addStretch();
    return page;
}

void PropertyPanel::refresh() {
    // Showing values fires the widgets' change signals; they must not echo back as edits.
    updating_ = true;
    const std::set<int> nodes = scene_->selectedNodes();
    const std::set<int> edges = scene_->selectedEdges();
    stage_id_ = nodes.size() == 1 && edges.empty() ? *nodes.begin() : 0;
    edge_id_ = edges.size() == 1 && nodes.empty() ? *edges.begin() : 0;
    if (const StageNode* node = document_->graph().node(stage_id_)) {
        showStage(*node);
        setCurrentIndex(kStage);
    } else if (document_->graph().edge(edge_id_)) {
        showEdge(edge_id_);
        setCurrentIndex(kEdge);
    } else {
        showSettings();
        setCurrentIndex(kNothing);
    }
    updating_ = false;
}

void PropertyPanel::showStage(const StageNode& node) {
    size_->setText(QString::fromStdString(node.size));
    layers_->setValue(node.config.num_layers);
    decoder_layers_->setValue(node.config.num_decoder_layers);
    d_model_->setValue(node.config.d_model);
    heads_->setValue(node.config.num_heads);
    d_kv_->setValue(node.config.d_kv);
    d_ff_->setValue(node.config.d_ff);
    ffn_->setCurrentText(QString::fromStdString(node.config.feed_forward_proj));
    dropout_->setValue(node.config.dropout_rate);
    parameters_->setText(QLocale().toString(static_cast<qlonglong>(count_parameters(document_->runConfig(node.config)))));
    pretrained_->setChecked(node.pretrained);
    source_->setText(QString::fromStdString(node.source));
    source_->setEnabled(node.pretrained);
    showBudget(node.budget);
    for (QWidget* widget : {static_cast<QWidget*>(budget_kind_), static_cast<QWidget*>(budget_value_)}) {
        widget->setEnabled(!node.pretrained);
    }
}

void PropertyPanel::showBudget(const Budget& budget) {
    const auto* kind = std::find(std::begin(kBudgetKinds), std::end(kBudgetKinds), budget.kind);
    budget_kind_->setCurrentIndex(kind == std::end(kBudgetKinds) ? 0 : int(kind - kBudgetKinds));
    updateBudgetRange();
    const double shown = budget.kind == Budget::Kind::seconds ? budget.value / kSecondsPerHour : budget.value;
    budget_value_->setValue(shown);
    if (budget.kind == Budget::Kind::reference_loss) {
        reference_run_->setText(QString::fromStdString(budget.reference_run));
    }
}

void PropertyPanel::updateBudgetRange() {
    const Budget::Kind kind = kBudgetKinds[budget_kind_->currentIndex()];
    const QSignalBlocker blocker(budget_value_);  // a new range clamps the value: not an edit
    budget_value_->setDecimals(kind == Budget::Kind::steps ? 0 : kind == Budget::Kind::target_loss ? 4 : 2);
    budget_value_->setRange(kind == Budget::Kind::target_loss ? 0.0001 : 0.01, 1e9);
    budget_form_->setRowVisible(budget_value_, kind != Budget::Kind::reference_loss);
    budget_form_->setRowVisible(reference_run_, kind == Budget::Kind::reference_loss);
}

void PropertyPanel::showEdge(int edge_id) {
    const PipelineGraph& graph = document_->graph();
    const GrowthEdge& edge = *graph.edge(edge_id);
    const StageNode& from = *graph.node(edge.from);
    const StageNode& to = *graph.node(edge.to);
    operator_->setCurrentIndex(operator_->findData(QString::fromStdString(edge.op.letters())));
    init_->setChecked(from.pretrained);
    suggestion_->setText(tr("%1 → %2; suggested operator: %3")
                             .arg(QString::fromStdString(from.size), QString::fromStdString(to.size),
                                  QString::fromStdString(default_operator(from.config, to.config).letters())));
}

void PropertyPanel::applyShape() {
    if (updating_) return;
    const StageNode* node = document_->graph().node(stage_id_);
    if (!node) return;
    T5Config config = node->config;
    config.num_layers = layers_->value();
    config.num_decoder_layers = decoder_layers_->value();
    config.d_model = d_model_->value();
    config.num_heads = heads_->value();
    config.d_kv = d_kv_->value();
    config.d_ff = d_ff_->value();
    config.feed_forward_proj = ffn_->currentText().trimmed().toStdString();
    config.dropout_rate = dropout_->value();
    document_->setStageShape(stage_id_, size_->text().trimmed().toStdString(), config);
}

void PropertyPanel::applyBudget() {
    if (updating_) return;
    Budget budget;
    budget.kind = kBudgetKinds[budget_kind_->currentIndex()];
    budget.value = budget_value_->value();
    if (budget.kind == Budget::Kind::seconds) budget.value *= kSecondsPerHour;
    if (budget.kind == Budget::Kind::steps) budget.value = std::max(1.0, std::round(budget.value));
    if (budget.kind == Budget::Kind::reference_loss) {
        budget.value = 0;
        budget.reference_run = reference_run_->text().trimmed().toStdString();
    }
    document_->setBudget(stage_id_, budget);
}

void PropertyPanel::applyPretrained() {
    if (updating_) return;
    const StageNode* node = document_->graph().node(stage_id_);
    if (!node) return;
    const QString source = source_->text().trimmed();
    document_->setPretrained(stage_id_, pretrained_->isChecked(),
                             source.isEmpty() && pretrained_->isChecked() ? node->size : source.toStdString());
}

// Read when the menu opens, so that runs finished meanwhile appear; a missing database is not
// created here.
void PropertyPanel::listFinishedRuns() {
    run_menu_->clear();
    const QString path = QString::fromStdString(default_database_path());
    std::vector<RunSummary> runs;
    if (QFileInfo::exists(path)) {
        try {
            runs = Store(path.toStdString()).summaries();
        } catch (const std::exception& error) {
            run_menu_->addAction(QString::fromStdString(error.what()))->setEnabled(false);
        }
    }
    for (const RunSummary& summary : runs) {
        if (summary.run.status != RunStatus::done) continue;
        const std::string name = summary.run.name;
        run_menu_->addAction(tr("%1 (%2)").arg(QString::fromStdString(name), QString::fromStdString(summary.run.pipeline)),
                             this, [this, name] { document_->setPretrained(stage_id_, true, name); });
    }
    if (run_menu_->isEmpty()) run_menu_->addAction(tr("No finished run in %1").arg(path))->setEnabled(false);
}

void PropertyPanel::browseSource() {
    const QString folder = QFileDialog::getExistingDirectory(this, tr("Pre-trained checkpoint folder"));
    if (folder.isEmpty() || !document_->graph().node(stage_id_)) return;
    const QString config_path = QDir(folder).filePath(QStringLiteral("config.json"));
    if (QFileInfo::exists(config_path)) {
        try {
            const StageNode* node = document_->graph().node(stage_id_);
            document_->setStageShape(stage_id_, node->size, T5Config::load(config_path.toStdString()));
        } catch (const std::exception&) {
            // Not a T5 config: the folder is still taken as the source; validation shows the rest.
        }
    }
    document_->setPretrained(stage_id_, true, folder.toStdString());
}

}  // namespace gs::ui
