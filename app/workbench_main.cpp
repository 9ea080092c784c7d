// SPDX-License-Identifier: MIT
// moa-workbench: the desktop window. `moa-workbench FILE.moa.json` opens a file.
// For review and README images: --screenshot OUT.png [--prompt TEXT] renders the window after a
// run of the prompt (offscreen works) and exits.
#include <QApplication>
#include <QCommandLineParser>
#include <QTimer>
#include <QEvent>

#include <iostream>

#include "main_window.h"
#include "run/run_view.h"
#include "store/history_recorder.h"

int main(int argc, char** argv) {
    QApplication app(argc, argv);
    QApplication::setApplicationName("MoA Workbench");
    QApplication::setOrganizationName("moa-workbench");
    QApplication::setApplicationVersion(MOA_VERSION);
    QGuiApplication::setDesktopFileName("io.github.moa_workbench.MoaWorkbench");

    QCommandLineParser cli;
    cli.setApplicationDescription("A native workbench for Mixture-of-Agents");
    cli.addHelpOption();
    cli.addVersionOption();
    cli.addPositionalArgument("file", "A *.moa.json configuration to open");
    QCommandLineOption shot("screenshot", "Render the window to a PNG file and exit", "png");
    QCommandLineOption prompt("prompt", "Run this prompt first (with --screenshot)", "text");
    QCommandLineOption preset("preset", "Open a built-in preset", "name");
    QCommandLineOption during("screenshot-during", "With --prompt: grab this many ms into the run", "ms");
    cli.addOptions({shot, prompt, preset, during});
    cli.process(app);

    std::unique_ptr<moa::store::HistoryRecorder> recorder;
    auto h = moa::store::History::open(moa::store::History::default_path());
    if (h) recorder = std::make_unique<moa::store::HistoryRecorder>(std::move(*h));
    else std::cerr << "moa-workbench: " << h.error() << " (runs are not recorded)\n";

    moa::ui::MainWindow w(std::move(recorder));
    if (cli.isSet(preset)) w.openPreset(cli.value(preset));
    if (!cli.positionalArguments().isEmpty()) w.openFile(cli.positionalArguments().first());
    // Cold-start measurement (tests/bench/bench_cold_start): report the first paint and quit.
    struct FirstPaint : QObject {
        bool eventFilter(QObject*, QEvent* e) override {
            if (e->type() == QEvent::Paint && !done) {
                done = true;
                std::cout << "first-paint" << std::endl;
                QTimer::singleShot(0, qApp, &QCoreApplication::quit);
            }
            return false;
        }
        bool done = false;
    } first_paint;
    if (qEnvironmentVariableIsSet("MOA_REPORT_FIRST_PAINT")) w.installEventFilter(&first_paint);
    w.show();

    if (cli.isSet(shot)) {
        const QString out = cli.value(shot);
        auto grab = [&w, out] {
            QTimer::singleShot(300, &w, [&w, out] {
                bool ok = w.grab().save(out);
                std::cout << (ok ? "wrote " : "could not write ") << out.toStdString() << "\n";
                QApplication::exit(ok ? 0 : 1);
            });
        };
        if (cli.isSet(prompt)) {
            w.promptEditor()->setPlainText(cli.value(prompt));
            if (cli.isSet(during)) QTimer::singleShot(200 + cli.value(during).toInt(), &w, grab);
            else QObject::connect(&w, &moa::ui::MainWindow::runFinished, &w, grab);
            QTimer::singleShot(200, &w, [&w] { w.startRun(); });
        } else {
            grab();
        }
    }
    return QApplication::exec();
}
