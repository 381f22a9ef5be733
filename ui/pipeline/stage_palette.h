// The palette of stage kinds a user drags onto the canvas: the study's sizes, a custom size and
// a pre-trained checkpoint. Each entry carries its kind as kStageKindMime data.
#pragma once

#include <QListWidget>

namespace gs::ui {

struct StageKind {
    QString kind;   // "T", "S", "B", "custom", "pretrained"
    QString title;  // what the palette and the quick-add menu show
};

// The stage kinds in palette order.
QList<StageKind> stageKinds();
// "Tiny (T)", "Small (S)", "Base (B)", or a custom size's own name.
QString sizeTitle(const std::string& size);

class StagePalette : public QListWidget {
    Q_OBJECT
public:
    explicit StagePalette(QWidget* parent = nullptr);
    QMimeData* mimeDataFor(const QString& kind) const;  // what a drag of that entry carries

protected:
    QMimeData* mimeData(const QList<QListWidgetItem*>& items) const override;
};

}  // namespace gs::ui
