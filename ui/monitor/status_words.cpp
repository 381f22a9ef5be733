#include "ui/monitor/status_words.h"

#include <QObject>

namespace gs::ui {

// A switch without a default: the compiler names a value added to the enum and missing here.
QString runStatusText(RunStatus status) {
    switch (status) {
        case RunStatus::queued: return QObject::tr("queued");
        case RunStatus::running: return QObject::tr("running");
        case RunStatus::paused: return QObject::tr("paused");
        case RunStatus::done: return QObject::tr("done");
        case RunStatus::failed: return QObject::tr("failed");
        case RunStatus::cancelled: return QObject::tr("cancelled");
        case RunStatus::interrupted: return QObject::tr("interrupted");
    }
    return QString::fromStdString(to_string(status));
}

QString runPhaseText(RunPhase phase) {
    switch (phase) {
        case RunPhase::preparing_data: return QObject::tr("preparing data");
        case RunPhase::training: return QObject::tr("training");
        case RunPhase::validating: return QObject::tr("validating");
        case RunPhase::growing: return QObject::tr("growing");
        case RunPhase::checkpoint: return QObject::tr("checkpoint");
    }
    return QString::fromStdString(to_string(phase));
}

}  // namespace gs::ui
