// The canvas's scene: one StageItem per stage node and one EdgeItem per growth edge, rebuilt
// from the document whenever it changes. Mouse gestures become document edits: dragging from a
// stage's output port to another stage connects them, moving stages records their positions
// (snapped to the grid), and palette entries dropped on the scene become stages.
#pragma once

#include <QGraphicsItem>
#include <QGraphicsScene>
#include <QString>

class QMenu;

#include <map>
#include <set>

namespace gs {
struct StageNode;
}

namespace gs::ui {

class PipelineDocument;

enum class StageRunState { idle, queued, training, done, failed };

struct StageRunStatus {
    StageRunState state = StageRunState::idle;
    double progress = 0;  // 0..1 while training
    QString message;      // why it failed
};

// The MIME type palette entries carry; the payload is the stage kind ("T", "custom", ...).
inline constexpr const char* kStageKindMime = "application/x-growthstudio-stage";

class StageItem : public QGraphicsItem {
public:
    static constexpr double kWidth = 210;
    static constexpr double kHeight = 112;  // title, three lines and the run state
    static constexpr double kPortRadius = 7;

    StageItem(const StageNode& node, const QStringList& problems, const StageRunStatus& status);
    int nodeId() const { return node_id_; }
    QPointF inputPort() const;  // scene coordinates
    QPointF outputPort() const;
    bool isOnOutputPort(QPointF scene_position) const;
    bool hasProblem() const { return !problems_.isEmpty(); }
    QStringList lines() const { return lines_; }  // the text drawn on the node
    const StageRunStatus& runStatus() const { return status_; }

    QRectF boundingRect() const override;
    void paint(QPainter* painter, const QStyleOptionGraphicsItem* option, QWidget* widget) override;

protected:
    QVariant itemChange(GraphicsItemChange change, const QVariant& value) override;

private:
    int node_id_;
    QString title_;
    QStringList lines_;
    QStringList problems_;
    StageRunStatus status_;
    bool pretrained_;
};

class EdgeItem : public QGraphicsPathItem {
public:
    EdgeItem(int edge_id, const QString& label, const QStringList& problems, StageItem* from, StageItem* to);
    int edgeId() const { return edge_id_; }
    QString label() const { return label_; }
    bool hasProblem() const { return !problems_.isEmpty(); }
    void updatePath();

    QRectF boundingRect() const override;
    QPainterPath shape() const override;
    void paint(QPainter* painter, const QStyleOptionGraphicsItem* option, QWidget* widget) override;

private:
    QRectF labelRect() const;

    int edge_id_;
    QString label_;
    QStringList problems_;
    StageItem* from_;
    StageItem* to_;
};

class PipelineScene : public QGraphicsScene {
    Q_OBJECT
public:
    static constexpr double kGrid = 20;

    explicit PipelineScene(PipelineDocument* document, QObject* parent = nullptr);
    ~PipelineScene() override;

    StageItem* stageItem(int node_id) const;
    EdgeItem* edgeItem(int edge_id) const;
    std::set<int> selectedNodes() const;
    std::set<int> selectedEdges() const;
    void selectIds(const std::set<int>& nodes, const std::set<int>& edges);
    void setSnapToGrid(bool snap) { snap_ = snap; }
    bool snapToGrid() const { return snap_; }
    void setRunStatus(int node_id, const StageRunStatus& status);
    StageRunStatus runStatus(int node_id) const;
    void clearRunStatus();
    // What a right-click offers: on a connection its operators, init- and Delete; on a stage
    // the pre-trained switch and Delete. The caller owns and shows the menu.
    QMenu* edgeMenu(int edge_id);
    QMenu* stageMenu(int node_id);

signals:
    void stageDropped(const QString& kind, QPointF position);
    void quickAddRequested(QPoint screen_position, QPointF scene_position);  // right-click on empty canvas

protected:
    void mousePressEvent(QGraphicsSceneMouseEvent* event) override;
    void mouseMoveEvent(QGraphicsSceneMouseEvent* event) override;
    void mouseReleaseEvent(QGraphicsSceneMouseEvent* event) override;
    void dragEnterEvent(QGraphicsSceneDragDropEvent* event) override;
    void dragMoveEvent(QGraphicsSceneDragDropEvent* event) override;
    void dropEvent(QGraphicsSceneDragDropEvent* event) override;
    void drawBackground(QPainter* painter, const QRectF& rect) override;
    void contextMenuEvent(QGraphicsSceneContextMenuEvent* event) override;
    void keyPressEvent(QKeyEvent* event) override;  // arrows nudge the selected stages

private:
    void rebuild();
    StageItem* stageAt(QPointF scene_position) const;
    void finishConnection(QPointF scene_position);
    void recordMoves();

    PipelineDocument* document_;
    std::map<int, StageItem*> stages_;
    std::map<int, EdgeItem*> edges_;
    std::map<int, StageRunStatus> run_status_;
    QGraphicsLineItem* pending_connection_ = nullptr;
    int connection_source_ = 0;
    bool snap_ = true;
};

}  // namespace gs::ui
