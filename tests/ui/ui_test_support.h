// Helpers shared by the GUI tests.
#pragma once

#include <QDir>
#include <QString>
#include <QTest>
#include <QWidget>

namespace gs::ui::test {

// Saves the widget as the user sees it to $GS_SCREENSHOT_DIR/name, when that variable is set
// (for the documentation's images and for looking at a change).
inline void save_screenshot(QWidget* widget, const QString& name) {
    const QString folder = qEnvironmentVariable("GS_SCREENSHOT_DIR");
    if (!folder.isEmpty()) QVERIFY(widget->grab().save(QDir(folder).filePath(name)));
}

}  // namespace gs::ui::test
