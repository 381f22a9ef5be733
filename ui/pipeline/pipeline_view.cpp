#include "ui/pipeline/pipeline_view.h"

#include <QMouseEvent>
#include <QResizeEvent>
#include <QScrollBar>
#include <QWheelEvent>

#include <algorithm>
#include <cmath>

namespace gs::ui {

namespace {
constexpr double kMinZoom = 0.2;
constexpr double kMaxZoom = 4.0;
}  // namespace

PipelineView::PipelineView(QGraphicsScene* scene, QWidget* parent) : QGraphicsView(scene, parent) {
    setObjectName(QStringLiteral("pipelineView"));
    setRenderHint(QPainter::Antialiasing);
    setDragMode(QGraphicsView::RubberBandDrag);
    setTransformationAnchor(QGraphicsView::AnchorUnderMouse);
    setAcceptDrops(true);
    setFocusPolicy(Qt::StrongFocus);
}

void PipelineView::zoomBy(double factor) {
    keep_fitted_ = false;
    const double target = std::clamp(zoom() * factor, kMinZoom, kMaxZoom);
    scale(target / zoom(), target / zoom());
}

void PipelineView::fitAll() {
    keep_fitted_ = true;
    const QRectF bounds = scene()->itemsBoundingRect().adjusted(-40, -40, 40, 40);
    if (bounds.isEmpty()) return;
    fitInView(bounds, Qt::KeepAspectRatio);
    if (zoom() > 1.0) setTransform(QTransform());  // never blow a small pipeline up past life size
    centerOn(bounds.center());
}

void PipelineView::resizeEvent(QResizeEvent* event) {
    QGraphicsView::resizeEvent(event);
    if (keep_fitted_) fitAll();
}

void PipelineView::wheelEvent(QWheelEvent* event) {
    zoomBy(std::pow(1.0015, event->angleDelta().y()));
    event->accept();
}

void PipelineView::mouseDoubleClickEvent(QMouseEvent* event) {
    if (!itemAt(event->pos())) {
        emit quickAddRequested(event->globalPosition().toPoint(), mapToScene(event->pos()));
        return;
    }
    QGraphicsView::mouseDoubleClickEvent(event);
}

void PipelineView::mousePressEvent(QMouseEvent* event) {
    if (event->button() == Qt::MiddleButton) {
        panning_ = true;
        keep_fitted_ = false;
        pan_origin_ = event->pos();
        setCursor(Qt::ClosedHandCursor);
        return;
    }
    QGraphicsView::mousePressEvent(event);
}

void PipelineView::mouseMoveEvent(QMouseEvent* event) {
    if (panning_) {
        const QPoint delta = event->pos() - pan_origin_;
        pan_origin_ = event->pos();
        horizontalScrollBar()->setValue(horizontalScrollBar()->value() - delta.x());
        verticalScrollBar()->setValue(verticalScrollBar()->value() - delta.y());
        return;
    }
    QGraphicsView::mouseMoveEvent(event);
}

void PipelineView::mouseReleaseEvent(QMouseEvent* event) {
    if (panning_ && event->button() == Qt::MiddleButton) {
        panning_ = false;
        unsetCursor();
        return;
    }
    QGraphicsView::mouseReleaseEvent(event);
}

}  // namespace gs::ui
