// The canvas's view: wheel zoom, middle-button pan, rubber-band selection, and the quick-add
// gesture (double-click on empty canvas) that asks for a searchable stage menu.
#pragma once

#include <QGraphicsView>

namespace gs::ui {

class PipelineView : public QGraphicsView {
    Q_OBJECT
public:
    explicit PipelineView(QGraphicsScene* scene, QWidget* parent = nullptr);

    void zoomBy(double factor);
    // Fits the pipeline in the window, and keeps it fitted as the window resizes until the user
    // zooms or pans.
    void fitAll();
    double zoom() const { return transform().m11(); }

signals:
    void quickAddRequested(QPoint global_position, QPointF scene_position);

protected:
    void wheelEvent(QWheelEvent* event) override;
    void mouseDoubleClickEvent(QMouseEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;
    void mouseReleaseEvent(QMouseEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;

private:
    QPoint pan_origin_;
    bool panning_ = false;
    bool keep_fitted_ = false;
};

}  // namespace gs::ui
