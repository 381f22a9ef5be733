#include "ui/pipeline/stage_palette.h"

#include <QMimeData>

#include "ui/pipeline/pipeline_scene.h"

namespace gs::ui {

QList<StageKind> stageKinds() {
    return {{QStringLiteral("T"), QObject::tr("Tiny (T)")},
            {QStringLiteral("S"), QObject::tr("Small (S)")},
            {QStringLiteral("B"), QObject::tr("Base (B)")},
            {QStringLiteral("custom"), QObject::tr("Custom size…")},
            {QStringLiteral("pretrained"), QObject::tr("Pre-trained checkpoint…")}};
}

QString sizeTitle(const std::string& size) {
    const QString name = QString::fromStdString(size);
    for (const StageKind& kind : stageKinds()) {
        if (kind.kind == name && name.size() == 1) return kind.title;
    }
    return name;
}

StagePalette::StagePalette(QWidget* parent) : QListWidget(parent) {
    setObjectName(QStringLiteral("stagePalette"));
    setDragEnabled(true);
    setDragDropMode(QAbstractItemView::DragOnly);
    setSelectionMode(QAbstractItemView::SingleSelection);
    setToolTip(tr("Drag a stage onto the canvas, or double-click the canvas (or press Space) to add one"));
    for (const StageKind& kind : stageKinds()) {
        auto* item = new QListWidgetItem(kind.title, this);
        item->setData(Qt::UserRole, kind.kind);
    }
}

QMimeData* StagePalette::mimeDataFor(const QString& kind) const {
    auto* data = new QMimeData;
    data->setData(kStageKindMime, kind.toUtf8());
    return data;
}

QMimeData* StagePalette::mimeData(const QList<QListWidgetItem*>& items) const {
    return items.isEmpty() ? nullptr : mimeDataFor(items.front()->data(Qt::UserRole).toString());
}

}  // namespace gs::ui
