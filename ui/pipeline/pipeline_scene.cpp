#include "ui/pipeline/pipeline_scene.h"

#include <QGraphicsLineItem>
#include <QGraphicsSceneContextMenuEvent>
#include <QGraphicsSceneDragDropEvent>
#include <QGraphicsSceneMouseEvent>
#include <QKeyEvent>
#include <QLocale>
#include <QMenu>
#include <QMimeData>
#include <QPainter>
#include <QStyleOptionGraphicsItem>

#include <cmath>

#include "core/model/t5_cost.h"
#include "ui/pipeline/pipeline_document.h"
#include "ui/pipeline/stage_palette.h"

namespace gs::ui {

namespace {

const QColor kInk(0x2b, 0x33, 0x45);
const QColor kMuted(0x5f, 0x6b, 0x80);
const QColor kBorder(0x7d, 0x8b, 0xa6);
const QColor kSelected(0x2a, 0x6f, 0xdb);
const QColor kError(0xc6, 0x28, 0x28);

QString budget_line(const StageNode& node) {
    if (node.pretrained) {
        return QObject::tr("from %1").arg(node.source.empty() ? QObject::tr("(no source)") : QString::fromStdString(node.source));
    }
    const Budget& budget = node.budget;
    const QLocale locale;
    switch (budget.kind) {
        case Budget::Kind::epochs: return QObject::tr("%1 epoch(s)").arg(locale.toString(budget.value));
        case Budget::Kind::steps: return QObject::tr("%1 steps").arg(locale.toString(budget.value, 'f', 0));
        case Budget::Kind::seconds: return QObject::tr("%1 of training").arg(QString::fromStdString(budget.notation()));
        case Budget::Kind::target_loss: return QObject::tr("until loss ≤ %1").arg(locale.toString(budget.value));
        case Budget::Kind::reference_loss:
            return QObject::tr("until loss ≤ run %1's").arg(QString::fromStdString(budget.reference_run));
        case Budget::Kind::none: break;
    }
    return QObject::tr("no budget");
}

QString shape_line(const T5Config& config) {
    return QObject::tr("%1+%2 layers · d %3 · %4 heads")
        .arg(config.num_layers)
        .arg(config.num_decoder_layers)
        .arg(config.d_model)
        .arg(config.num_heads);
}

QString parameters_line(const T5Config& config) {
    return QObject::tr("%1 M parameters").arg(QLocale().toString(count_parameters(config) / 1e6, 'f', 1));
}

QColor state_color(StageRunState state) {
    switch (state) {
        case StageRunState::queued: return QColor(0x9e, 0x9e, 0x9e);
        case StageRunState::training: return QColor(0x1e, 0x88, 0xe5);
        case StageRunState::done: return QColor(0x2e, 0x7d, 0x32);
        case StageRunState::failed: return kError;
        case StageRunState::idle: break;
    }
    return Qt::transparent;
}

QString state_text(const StageRunStatus& status) {
    switch (status.state) {
        case StageRunState::queued: return QObject::tr("queued");
        case StageRunState::training: return QObject::tr("training %1%").arg(std::lround(status.progress * 100));
        case StageRunState::done: return QObject::tr("done");
        case StageRunState::failed: return QObject::tr("failed: %1").arg(status.message);
        case StageRunState::idle: break;
    }
    return {};
}

}  // namespace

// --- StageItem

StageItem::StageItem(const StageNode& node, const QStringList& problems, const StageRunStatus& status)
    : node_id_(node.id),
      title_(sizeTitle(node.size) + (node.pretrained ? QObject::tr(" · pre-trained") : "")),
      lines_{shape_line(node.config), parameters_line(node.config), budget_line(node)},
      problems_(problems),
      status_(status),
      pretrained_(node.pretrained) {
    setFlags(ItemIsMovable | ItemIsSelectable | ItemSendsGeometryChanges);
    setPos(node.x, node.y);
    if (!state_text(status).isEmpty()) lines_ << state_text(status);
    QStringList tip{title_};
    tip << lines_;
    if (!problems.isEmpty()) tip << QString() << problems;
    setToolTip(tip.join('\n'));
}

QPointF StageItem::inputPort() const { return mapToScene(QPointF(0, kHeight / 2)); }
QPointF StageItem::outputPort() const { return mapToScene(QPointF(kWidth, kHeight / 2)); }

bool StageItem::isOnOutputPort(QPointF scene_position) const {
    const QPointF offset = scene_position - outputPort();
    return std::hypot(offset.x(), offset.y()) <= kPortRadius + 4;  // a little slack for the pointer
}

QRectF StageItem::boundingRect() const {
    const double margin = kPortRadius + 2;
    return QRectF(-margin, -margin, kWidth + 2 * margin, kHeight + 2 * margin);
}

void StageItem::paint(QPainter* painter, const QStyleOptionGraphicsItem*, QWidget*) {
    painter->setRenderHint(QPainter::Antialiasing);
    const QRectF body(0, 0, kWidth, kHeight);
    QPen border(hasProblem() ? kError : isSelected() ? kSelected : kBorder, isSelected() || hasProblem() ? 2.5 : 1.2);
    if (pretrained_) border.setStyle(Qt::DashLine);
    painter->setPen(border);
    painter->setBrush(pretrained_ ? QColor(0xee, 0xf6, 0xee) : QColor(0xf7, 0xf9, 0xfd));
    painter->drawRoundedRect(body, 8, 8);

    QFont font = painter->font();
    font.setBold(true);
    painter->setFont(font);
    painter->setPen(kInk);
    painter->drawText(QRectF(10, 6, kWidth - 20, 20), Qt::AlignLeft | Qt::AlignVCenter, title_);
    font.setBold(false);
    font.setPointSizeF(font.pointSizeF() * 0.9);
    painter->setFont(font);
    painter->setPen(kMuted);
    for (int i = 0; i < lines_.size(); ++i) {
        if (i == 3) painter->setPen(state_color(status_.state));  // the run state, in its colour
        painter->drawText(QRectF(10, 26 + 17 * i, kWidth - 20, 17), Qt::AlignLeft | Qt::AlignVCenter,
                          painter->fontMetrics().elidedText(lines_[i], Qt::ElideRight, int(kWidth - 20)));
    }
    if (status_.state != StageRunState::idle) {
        // The run state as a bar along the bottom edge: its length is the progress.
        const double share = status_.state == StageRunState::training ? std::clamp(status_.progress, 0.0, 1.0) : 1.0;
        painter->setPen(Qt::NoPen);
        painter->setBrush(state_color(status_.state));
        painter->drawRoundedRect(QRectF(6, kHeight - 8, (kWidth - 12) * share, 5), 2, 2);
    }
    if (hasProblem()) {
        painter->setBrush(kError);
        painter->setPen(Qt::NoPen);
        painter->drawEllipse(QPointF(kWidth - 14, 14), 8, 8);
        painter->setPen(Qt::white);
        painter->drawText(QRectF(kWidth - 22, 6, 16, 16), Qt::AlignCenter, QStringLiteral("!"));
    }
    painter->setPen(QPen(kBorder, 1.2));
    painter->setBrush(Qt::white);
    painter->drawEllipse(QPointF(0, kHeight / 2), kPortRadius, kPortRadius);
    painter->setBrush(kSelected);
    painter->drawEllipse(QPointF(kWidth, kHeight / 2), kPortRadius, kPortRadius);
}

QVariant StageItem::itemChange(GraphicsItemChange change, const QVariant& value) {
    auto* canvas = qobject_cast<PipelineScene*>(scene());
    if (change == ItemPositionChange && canvas && canvas->snapToGrid()) {
        const QPointF position = value.toPointF();
        const double grid = PipelineScene::kGrid;
        return QPointF(std::round(position.x() / grid) * grid, std::round(position.y() / grid) * grid);
    }
    if (change == ItemPositionHasChanged && canvas) {
        for (QGraphicsItem* item : canvas->items()) {
            if (auto* edge = dynamic_cast<EdgeItem*>(item)) edge->updatePath();
        }
    }
    return QGraphicsItem::itemChange(change, value);
}

// --- EdgeItem

EdgeItem::EdgeItem(int edge_id, const QString& label, const QStringList& problems, StageItem* from, StageItem* to)
    : edge_id_(edge_id), label_(label), problems_(problems), from_(from), to_(to) {
    setFlags(ItemIsSelectable);
    setZValue(-1);
    QStringList tip{QObject::tr("operator %1").arg(label)};
    if (!problems.isEmpty()) tip << QString() << problems;
    setToolTip(tip.join('\n'));
    updatePath();
}

void EdgeItem::updatePath() {
    const QPointF start = from_->outputPort();
    const QPointF end = to_->inputPort();
    const double reach = std::max(50.0, std::abs(end.x() - start.x()) / 2);
    QPainterPath path(start);
    const double lift = from_ == to_ ? -StageItem::kHeight : 0;  // a self-loop goes over its node
    path.cubicTo(start + QPointF(reach, lift), end - QPointF(reach, -lift), end);
    prepareGeometryChange();
    setPath(path);
}

QRectF EdgeItem::labelRect() const {
    const QPointF middle = path().pointAtPercent(0.5);
    const double width = 14 + 8 * label_.size();
    return QRectF(middle.x() - width / 2, middle.y() - 11, width, 22);
}

QRectF EdgeItem::boundingRect() const { return path().boundingRect().united(labelRect()).adjusted(-4, -4, 4, 4); }

QPainterPath EdgeItem::shape() const {
    QPainterPathStroker stroker;
    stroker.setWidth(10);
    QPainterPath shape = stroker.createStroke(path());
    shape.addRect(labelRect());
    return shape;
}

void EdgeItem::paint(QPainter* painter, const QStyleOptionGraphicsItem*, QWidget*) {
    painter->setRenderHint(QPainter::Antialiasing);
    const QColor color = hasProblem() ? kError : isSelected() ? kSelected : kBorder;
    painter->setPen(QPen(color, isSelected() ? 3 : 2));
    painter->setBrush(Qt::NoBrush);
    painter->drawPath(path());
    painter->setBrush(Qt::white);
    painter->drawRoundedRect(labelRect(), 6, 6);
    QFont font = painter->font();
    font.setBold(true);
    painter->setFont(font);
    painter->setPen(hasProblem() ? kError : kInk);
    painter->drawText(labelRect(), Qt::AlignCenter, label_);
}

// --- PipelineScene

PipelineScene::PipelineScene(PipelineDocument* document, QObject* parent) : QGraphicsScene(parent), document_(document) {
    connect(document_, &PipelineDocument::documentChanged, this, &PipelineScene::rebuild);
    rebuild();
}

// The base class deletes the items, which reports selection changes: nobody must hear them.
PipelineScene::~PipelineScene() {
    blockSignals(true);
    stages_.clear();
    edges_.clear();
}

void PipelineScene::rebuild() {
    const std::set<int> nodes = selectedNodes();
    const std::set<int> edges = selectedEdges();
    pending_connection_ = nullptr;
    stages_.clear();
    edges_.clear();
    clear();
    std::map<int, QStringList> node_problems;
    std::map<int, QStringList> edge_problems;
    for (const auto& problem : document_->check().problems) {
        const QString message = QString::fromStdString(problem.message);
        if (problem.node) node_problems[problem.node] << message;
        if (problem.edge) edge_problems[problem.edge] << message;
    }
    const PipelineGraph& graph = document_->graph();
    for (StageNode node : graph.nodes) {
        node.config = document_->runConfig(node.config);  // parameters as the run will have them
        stages_[node.id] = new StageItem(node, node_problems[node.id], runStatus(node.id));
        addItem(stages_[node.id]);
    }
    for (const auto& edge : graph.edges) {
        const bool init = graph.node(edge.from)->pretrained;
        const QString label = QString::fromStdString((init ? "init-" : "") + edge.op.letters());
        edges_[edge.id] = new EdgeItem(edge.id, label, edge_problems[edge.id], stages_.at(edge.from), stages_.at(edge.to));
        addItem(edges_[edge.id]);
    }
    selectIds(nodes, edges);
}

StageItem* PipelineScene::stageItem(int node_id) const {
    auto it = stages_.find(node_id);
    return it == stages_.end() ? nullptr : it->second;
}

EdgeItem* PipelineScene::edgeItem(int edge_id) const {
    auto it = edges_.find(edge_id);
    return it == edges_.end() ? nullptr : it->second;
}

std::set<int> PipelineScene::selectedNodes() const {
    std::set<int> ids;
    for (const auto& [id, item] : stages_) {
        if (item->isSelected()) ids.insert(id);
    }
    return ids;
}

std::set<int> PipelineScene::selectedEdges() const {
    std::set<int> ids;
    for (const auto& [id, item] : edges_) {
        if (item->isSelected()) ids.insert(id);
    }
    return ids;
}

void PipelineScene::selectIds(const std::set<int>& nodes, const std::set<int>& edges) {
    QSignalBlocker blocker(this);  // one selectionChanged for the whole change
    clearSelection();
    for (int id : nodes) {
        if (StageItem* item = stageItem(id)) item->setSelected(true);
    }
    for (int id : edges) {
        if (EdgeItem* item = edgeItem(id)) item->setSelected(true);
    }
    blocker.unblock();
    emit selectionChanged();
}

void PipelineScene::setRunStatus(int node_id, const StageRunStatus& status) {
    run_status_[node_id] = status;
    rebuild();
}

StageRunStatus PipelineScene::runStatus(int node_id) const {
    auto it = run_status_.find(node_id);
    return it == run_status_.end() ? StageRunStatus() : it->second;
}

void PipelineScene::clearRunStatus() {
    run_status_.clear();
    rebuild();
}

StageItem* PipelineScene::stageAt(QPointF scene_position) const {
    for (QGraphicsItem* item : items(scene_position)) {
        if (auto* stage = dynamic_cast<StageItem*>(item)) return stage;
    }
    return nullptr;
}

void PipelineScene::mousePressEvent(QGraphicsSceneMouseEvent* event) {
    StageItem* stage = stageAt(event->scenePos());
    if (event->button() == Qt::LeftButton && stage && stage->isOnOutputPort(event->scenePos())) {
        connection_source_ = stage->nodeId();
        pending_connection_ = addLine(QLineF(stage->outputPort(), event->scenePos()), QPen(kSelected, 2, Qt::DashLine));
        event->accept();
        return;
    }
    QGraphicsScene::mousePressEvent(event);
}

void PipelineScene::mouseMoveEvent(QGraphicsSceneMouseEvent* event) {
    if (pending_connection_) {
        pending_connection_->setLine(QLineF(pending_connection_->line().p1(), event->scenePos()));
        return;
    }
    QGraphicsScene::mouseMoveEvent(event);
}

void PipelineScene::mouseReleaseEvent(QGraphicsSceneMouseEvent* event) {
    if (pending_connection_) {
        finishConnection(event->scenePos());
        return;
    }
    QGraphicsScene::mouseReleaseEvent(event);
    recordMoves();
}

void PipelineScene::finishConnection(QPointF scene_position) {
    delete pending_connection_;
    pending_connection_ = nullptr;
    if (StageItem* target = stageAt(scene_position)) document_->connectStages(connection_source_, target->nodeId());
}

void PipelineScene::recordMoves() {
    std::map<int, QPointF> moved;
    for (const auto& node : document_->graph().nodes) {
        const QPointF position = stages_.at(node.id)->pos();
        if (position != QPointF(node.x, node.y)) moved[node.id] = position;
    }
    if (!moved.empty()) document_->moveStages(moved);
}

void PipelineScene::dragEnterEvent(QGraphicsSceneDragDropEvent* event) {
    event->setAccepted(event->mimeData()->hasFormat(kStageKindMime));
}

void PipelineScene::dragMoveEvent(QGraphicsSceneDragDropEvent* event) {
    event->setAccepted(event->mimeData()->hasFormat(kStageKindMime));
}

void PipelineScene::dropEvent(QGraphicsSceneDragDropEvent* event) {
    if (!event->mimeData()->hasFormat(kStageKindMime)) return;
    event->acceptProposedAction();
    const QPointF top_left = event->scenePos() - QPointF(StageItem::kWidth / 2, StageItem::kHeight / 2);
    emit stageDropped(QString::fromUtf8(event->mimeData()->data(kStageKindMime)), top_left);
}

QMenu* PipelineScene::edgeMenu(int edge_id) {
    const GrowthEdge* edge = document_->graph().edge(edge_id);
    if (!edge) return nullptr;
    auto* menu = new QMenu;
    for (const char* letters : {"d", "f", "a", "da", "df"}) {
        const GrowthOperator op = GrowthOperator::parse(letters);
        QAction* action = menu->addAction(QString::fromLatin1(letters), this, [this, edge_id, op] {
            document_->setOperator(edge_id, op);
        });
        action->setCheckable(true);
        action->setChecked(edge->op == op);
    }
    menu->addSeparator();
    QAction* init = menu->addAction(tr("Grow from a finished model (init-)"), this, [this, edge_id](bool on) {
        document_->setGrowthFromPretrained(edge_id, on);
    });
    init->setCheckable(true);
    init->setChecked(document_->graph().node(edge->from)->pretrained);
    menu->addAction(tr("Delete"), this, [this, edge_id] { document_->removeItems({}, {edge_id}); });
    return menu;
}

QMenu* PipelineScene::stageMenu(int node_id) {
    const StageNode* node = document_->graph().node(node_id);
    if (!node) return nullptr;
    auto* menu = new QMenu;
    QAction* pretrained = menu->addAction(tr("A finished pre-trained model"), this, [this, node_id](bool on) {
        const StageNode* stage = document_->graph().node(node_id);
        document_->setPretrained(node_id, on, on && stage->source.empty() ? stage->size : stage->source);
    });
    pretrained->setCheckable(true);
    pretrained->setChecked(node->pretrained);
    menu->addAction(tr("Delete"), this, [this, node_id] { document_->removeItems({node_id}, {}); });
    return menu;
}

void PipelineScene::contextMenuEvent(QGraphicsSceneContextMenuEvent* event) {
    QMenu* menu = nullptr;
    for (QGraphicsItem* item : items(event->scenePos())) {
        if (auto* edge = dynamic_cast<EdgeItem*>(item)) menu = edgeMenu(edge->edgeId());
        if (auto* stage = dynamic_cast<StageItem*>(item)) menu = stageMenu(stage->nodeId());
        if (menu) break;
    }
    if (!menu) {
        emit quickAddRequested(event->screenPos(), event->scenePos());
        return;
    }
    menu->exec(event->screenPos());
    delete menu;
}

void PipelineScene::keyPressEvent(QKeyEvent* event) {
    const std::map<int, QPointF> steps{{Qt::Key_Left, {-1, 0}}, {Qt::Key_Right, {1, 0}}, {Qt::Key_Up, {0, -1}},
                                       {Qt::Key_Down, {0, 1}}};
    auto step = steps.find(event->key());
    if (step == steps.end() || selectedNodes().empty() || focusItem()) {
        QGraphicsScene::keyPressEvent(event);
        return;
    }
    const double distance = kGrid * (event->modifiers() & Qt::ShiftModifier ? 5 : 1);
    std::map<int, QPointF> moved;
    for (int id : selectedNodes()) moved[id] = stages_.at(id)->pos() + step->second * distance;
    document_->moveStages(moved);
    event->accept();
}

void PipelineScene::drawBackground(QPainter* painter, const QRectF& rect) {
    painter->fillRect(rect, QColor(0xfc, 0xfc, 0xfd));
    painter->setPen(QPen(QColor(0xec, 0xee, 0xf2), 0));
    const double grid = kGrid * 2;
    for (double x = std::floor(rect.left() / grid) * grid; x < rect.right(); x += grid) {
        painter->drawLine(QLineF(x, rect.top(), x, rect.bottom()));
    }
    for (double y = std::floor(rect.top() / grid) * grid; y < rect.bottom(); y += grid) {
        painter->drawLine(QLineF(rect.left(), y, rect.right(), y));
    }
}

}  // namespace gs::ui
