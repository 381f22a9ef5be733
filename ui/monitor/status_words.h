// The words the GUI shows for a run's status and phase: translatable, one function each, so the
// whole window says them alike (the English words are the ones the CLI prints).
#pragma once

#include <QString>

#include "core/store/store_enums.h"
#include "core/train/train_enums.h"

namespace gs::ui {

QString runStatusText(RunStatus status);
QString runPhaseText(RunPhase phase);

}  // namespace gs::ui
