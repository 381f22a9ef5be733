// growthstudio: the desktop application.
#include <QApplication>
#include <QCommandLineParser>
#include <QDockWidget>
#include <QIcon>
#include <QTimer>

#include "core/runtime/runtime_info.h"
#include "ui/main_window.h"
#include "ui/pipeline/pipeline_canvas.h"

int main(int argc, char** argv) {
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("GrowthStudio"));
    QApplication::setOrganizationName(QStringLiteral("GrowthStudio"));
    QApplication::setWindowIcon(QIcon(QStringLiteral(":/growthstudio.svg")));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Pre-train T5 models by model growth."));
    parser.addHelpOption();
    QCommandLineOption threads(QStringLiteral("threads"), QStringLiteral("CPU threads for training (0: all cores)."),
                               QStringLiteral("N"), QStringLiteral("0"));
    QCommandLineOption screenshot(QStringLiteral("screenshot"),
                                  QStringLiteral("Save a PNG of the main window once shown, then quit."),
                                  QStringLiteral("FILE"));
    QCommandLineOption database(QStringLiteral("db"), QStringLiteral("The workspace database (default: in the user's data folder)."),
                                QStringLiteral("FILE"));
    parser.addOption(database);
    QCommandLineOption raise(QStringLiteral("raise"), QStringLiteral("Bring a tabbed dock to the front: curves or results."),
                             QStringLiteral("DOCK"));
    parser.addOption(raise);
    parser.addOption(threads);
    parser.addOption(screenshot);
    parser.addPositionalArgument(QStringLiteral("experiment"), QStringLiteral("An experiment file to open."), QStringLiteral("[FILE]"));
    parser.process(app);

    gs::configure_allocator();
    gs::configure_threads(parser.value(threads).toInt());
    gs::ui::MainWindow window(nullptr, parser.value(database));
    if (!parser.positionalArguments().isEmpty()) window.canvas()->openFile(parser.positionalArguments().front());
    window.show();
    if (parser.isSet(raise)) {
        if (auto* dock = window.findChild<QDockWidget*>(parser.value(raise) + QStringLiteral("Dock"))) dock->raise();
    }
    if (parser.isSet(screenshot)) {
        const QString path = parser.value(screenshot);
        QTimer::singleShot(500, &window, [&window, path] {
            window.grab().save(path);
            QApplication::quit();
        });
    }
    return app.exec();
}
