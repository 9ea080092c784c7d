// SPDX-License-Identifier: MIT
// moa-workbench: the desktop window. `moa-workbench FILE.moa.json` opens a file.
// For review and README images: --screenshot OUT.png [--prompt TEXT] renders the window after a
// run of the prompt (offscreen works) and exits.
#include <QApplication>
#include <QCommandLineParser>
#include <QDockWidget>
#include <QTimer>
#include <QEvent>
#include <QMouseEvent>
#include <QTextBrowser>
#include <QIcon>
#include <QPalette>
#include <QPointer>

#include <QAbstractNativeEventFilter>

#include <cstdio>
#include <iostream>
#if __has_include(<xcb/xcb.h>)
#include <xcb/xcb.h>
#define MOA_WATCH_X11_DESTROY 1
#endif

#include "common/keyboard.h"
#include "eval/experiment_results.h"
#include "experiment/experiment_window.h"
#include "experiment/result_chart.h"
#include "graph/graph_scene.h"
#include "history/history_panel.h"
#include "main_window.h"
#include "run/diff_view.h"
#include "run/run_presenter.h"
#include "run/walkthrough.h"
#include "run/run_view.h"
#include "settings/key_store.h"
#include "store/experiment_store.h"
#include "store/history_recorder.h"

#ifdef MOA_WATCH_X11_DESTROY
namespace {
// Another X client destroyed the window's X window (`xdotool windowclose`, a window manager
// tearing it down): Qt sends no close event, and the process went on with no window, its run
// streaming (and paying) to the end. Closed as by the X button: the run is cancelled and
// recorded as such, and the process exits.
struct X11DestroyWatch : QAbstractNativeEventFilter {
    QWidget* window = nullptr;
    bool nativeEventFilter(const QByteArray& type, void* message, qintptr*) override {
        if (type != "xcb_generic_event_t" || !window) return false;
        const auto* ev = static_cast<const xcb_generic_event_t*>(message);
        if ((ev->response_type & 0x7f) != XCB_DESTROY_NOTIFY) return false;
        const auto* d = reinterpret_cast<const xcb_destroy_notify_event_t*>(ev);
        if (d->window != static_cast<xcb_window_t>(window->internalWinId())) return false;
        QPointer<QWidget> w(window);
        window = nullptr;
        QMetaObject::invokeMethod(qApp, [w] {
            if (w && w->close()) QApplication::quit();
        }, Qt::QueuedConnection);
        return false;
    }
};
} // namespace
#endif

int main(int argc, char** argv) {
    QApplication app(argc, argv);
    QApplication::setApplicationName("MoA Workbench");
    QApplication::setOrganizationName("moa-workbench");
    QApplication::setApplicationVersion(MOA_VERSION);
    QGuiApplication::setDesktopFileName("io.github.moa_workbench.MoaWorkbench");
    // The installed theme icon when there is one (hicolor), else the same SVG built in.
    QApplication::setWindowIcon(QIcon::fromTheme("io.github.moa_workbench.MoaWorkbench",
                                                 QIcon(":/icons/io.github.moa_workbench.MoaWorkbench.svg")));

    QCommandLineParser cli;
    cli.setApplicationDescription("A native workbench for Mixture-of-Agents");
    cli.addHelpOption();
    cli.addVersionOption();
    cli.addPositionalArgument("file", "A *.moa.json configuration to open");
    QCommandLineOption shot("screenshot", "Render the window to a PNG file and exit", "png");
    QCommandLineOption prompt("prompt", "Run this prompt first (with --screenshot)", "text");
    QCommandLineOption preset("preset", "Open a built-in preset", "name");
    QCommandLineOption during("screenshot-during", "With --prompt: grab this many ms into the run", "ms");
    QCommandLineOption experiment("experiment", "Open an experiment (*.moa-experiment.json) in the experiments window", "file");
    QCommandLineOption experiment_db("experiment-db", "The experiment database (default: $MOA_EXPERIMENT_DB or the data folder)", "path");
    QCommandLineOption run_experiment("run-experiment", "With --experiment: run it (then --screenshot grabs the results)");
    QCommandLineOption render_chart("render-chart", "With --experiment: write its chart (.png, .svg or .csv) and exit, no window", "out");
    QCommandLineOption chart_x("chart-x", "The chart's x axis: cost (default), tflops, ttft or wall (per-prompt medians, s)", "axis", "cost");
    QCommandLineOption log_x("log-x", "A logarithmic x axis");
    QCommandLineOption no_paper("no-paper", "Leave out the MoA paper's published results (the default)");
    QCommandLineOption with_paper("paper", "Draw the MoA paper's published LC lines (not directly comparable: other prompts, judge, "
                                           "reference and LC fit)");
    QCommandLineOption experiment_tab("experiment-tab", "With --experiment --screenshot: the tab to show", "title");
    QCommandLineOption shot_answers("screenshot-answers", "With --prompt and --screenshot: grab the compare-answers dialog after the run");
    QCommandLineOption shot_walk("screenshot-walkthrough", "With --prompt and --screenshot: grab the Layers walkthrough at this layer (1-based)", "layer");
    QCommandLineOption shot_sentence("screenshot-sentence", "With --prompt and --screenshot: click this sentence (1-based) of the final aggregator's answer first, so its sources light up", "n");
    QCommandLineOption shot_graph("screenshot-graph", "With --prompt and --screenshot: grab the layer graph with its provenance weights");
    QCommandLineOption raise_dock("raise-dock", "Bring a dock to the front (providers, inspector, models, configurations, history)", "name");
    QCommandLineOption window_size("window-size", "Open the window at this size (for screenshots: 1400x900, 1024x700)", "WxH");
    QCommandLineOption palette_opt("palette", "Review the window under a light or dark palette (the system's is the default)", "light|dark");
    QCommandLineOption shot_in_final("screenshot-in-final", "With --screenshot-sentence: click the sentence in the rendered final answer (not in the aggregator's pane)");
    cli.addOptions({shot_answers, raise_dock, palette_opt, with_paper, shot_walk, shot_sentence, shot_in_final, shot_graph, window_size});
    cli.addOptions({shot, prompt, preset, during, experiment, experiment_db, run_experiment, render_chart, chart_x, log_x, no_paper, experiment_tab});
    cli.process(app);
    app.setStyleSheet(moa::ui::focus_style_sheet()); // a focus frame that can be seen
    if (cli.isSet(palette_opt) && cli.value(palette_opt) == "dark") {
        // What a dark desktop theme hands the application, for reviewing the views offscreen.
        QApplication::setStyle("Fusion");
        QPalette p;
        p.setColor(QPalette::Window, QColor(37, 37, 38));
        p.setColor(QPalette::WindowText, QColor(230, 230, 230));
        p.setColor(QPalette::Base, QColor(30, 30, 30));
        p.setColor(QPalette::AlternateBase, QColor(45, 45, 48));
        p.setColor(QPalette::Text, QColor(230, 230, 230));
        p.setColor(QPalette::Button, QColor(50, 50, 52));
        p.setColor(QPalette::ButtonText, QColor(230, 230, 230));
        p.setColor(QPalette::Mid, QColor(80, 80, 84));
        p.setColor(QPalette::Highlight, QColor(38, 110, 200));
        p.setColor(QPalette::HighlightedText, Qt::white);
        p.setColor(QPalette::ToolTipBase, QColor(50, 50, 52));
        p.setColor(QPalette::ToolTipText, QColor(230, 230, 230));
        p.setColor(QPalette::PlaceholderText, QColor(140, 140, 140));
        p.setColor(QPalette::Link, QColor(110, 170, 255));
        p.setColor(QPalette::Disabled, QPalette::Text, QColor(120, 120, 120));
        p.setColor(QPalette::Disabled, QPalette::WindowText, QColor(120, 120, 120));
        p.setColor(QPalette::Disabled, QPalette::ButtonText, QColor(120, 120, 120));
        QApplication::setPalette(p);
    }

    if (cli.isSet(render_chart)) {
        // Headless chart rendering for `moa chart`: the same adapter the window uses.
        if (!cli.isSet(experiment)) {
            std::cerr << "moa-workbench: --render-chart needs --experiment FILE\n";
            return 2;
        }
        auto e = moa::eval::load_experiment(cli.value(experiment).toStdString());
        if (!e) {
            std::cerr << e.error() << "\n";
            return 2;
        }
        auto st = moa::store::ExperimentStore::open(cli.isSet(experiment_db) ? cli.value(experiment_db).toStdString()
                                                                            : moa::store::ExperimentStore::default_path());
        if (!st) {
            std::cerr << st.error() << "\n";
            return 3;
        }
        auto results = moa::eval::compute_results(*e, **st);
        moa::ui::ResultChart chart;
        chart.setSpec(moa::ui::chart_spec(results, moa::ui::x_axis_from_string(cli.value(chart_x)).value_or(moa::ui::XAxis::Cost),
                                          cli.isSet(log_x), cli.isSet(with_paper) && !cli.isSet(no_paper)));
        if (auto err = chart.save(cli.value(render_chart))) {
            std::cerr << "moa chart: " << err->toStdString() << "\n";
            return 3;
        }
        std::cout << "wrote " << cli.value(render_chart).toStdString() << "\n";
        return 0;
    }

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
    QSize want_size; // --window-size: the main window's, and the Experiments window's with --experiment
    if (cli.isSet(window_size)) {
        const QStringList wh = cli.value(window_size).split('x');
        const QSize want = wh.size() == 2 ? QSize(wh[0].toInt(), wh[1].toInt()) : QSize();
        if (want.width() < 200 || want.height() < 200) {
            std::cerr << "moa-workbench: --window-size: \"" << cli.value(window_size).toStdString() << "\" is not WIDTHxHEIGHT (e.g. 1024x700)\n";
            return 2;
        }
        w.resize(want);
        want_size = want;
    }
    w.show();
#ifdef MOA_WATCH_X11_DESTROY
    X11DestroyWatch x11_destroyed;
    if (QGuiApplication::platformName() == "xcb") {
        x11_destroyed.window = &w;
        app.installNativeEventFilter(&x11_destroyed);
    }
#endif
    if (cli.isSet(raise_dock)) {
        const QString name = cli.value(raise_dock) + "Dock";
        for (auto* d : w.findChildren<QDockWidget*>())
            if (d->objectName().compare(name, Qt::CaseInsensitive) == 0 ||
                (name == "configurationsDock" && d->objectName() == "configsDock"))
                d->raise();
    }

    if (cli.isSet(experiment)) {
        auto* ew = w.openExperiments(cli.value(experiment), cli.value(experiment_db));
        // Its pictures at the size asked for, not its own (1280×820 bounded by the screen).
        if (want_size.isValid()) ew->resize(want_size);
        if (cli.isSet(run_experiment))
            QObject::connect(ew, &moa::ui::ExperimentWindow::loaded, ew, [ew](bool ok) { if (ok) ew->run(); });
        if (cli.isSet(shot)) {
            const QString out = cli.value(shot);
            const bool wait_run = cli.isSet(run_experiment);
            const QString tab = cli.value(experiment_tab);
            QObject::connect(ew, &moa::ui::ExperimentWindow::resultsShown, ew, [ew, out, wait_run, tab] {
                if (wait_run && ew->running()) return;
                if (!tab.isEmpty()) ew->showTab(tab);
                static bool once = false;
                if (once) return;
                once = true;
                QTimer::singleShot(500, ew, [ew, out] {
                    bool ok = ew->grab().save(out);
                    std::cout << (ok ? "wrote " : "could not write ") << out.toStdString() << "\n";
                    QApplication::exit(ok ? 0 : 1);
                });
            });
        }
    } else if (cli.isSet(shot)) {
        const QString out = cli.value(shot);
        const bool answers = cli.isSet(shot_answers);
        const int walk_layer = cli.isSet(shot_walk) ? cli.value(shot_walk).toInt() : 0;
        const int sentence = cli.isSet(shot_sentence) ? cli.value(shot_sentence).toInt() : 0;
        const bool in_final = cli.isSet(shot_in_final);
        const bool graph = cli.isSet(shot_graph);
        const QSize size = w.size();
        auto save = [out](QWidget* what) {
            bool ok = what->grab().save(out);
            std::cout << (ok ? "wrote " : "could not write ") << out.toStdString() << "\n";
            QApplication::exit(ok ? 0 : 1);
        };
        auto grab = [&w, out, answers, walk_layer, sentence, in_final, graph, size, save] {
            if (walk_layer > 0) {
                auto* walk = w.openWalkthrough();
                if (!walk) return QApplication::exit(1);
                walk->showNormal();
                walk->resize(size);
                QObject::connect(walk, &moa::ui::LayersWalkthrough::provenanceReady, walk, [walk, walk_layer, save] {
                    walk->setLayer(walk_layer - 1);
                    QTimer::singleShot(300, walk, [walk, save] { save(walk); });
                });
                return;
            }
            if (sentence > 0 || graph) {
                // After the provenance is on the panes and the graph (computed off the GUI thread).
                auto* rv = w.runView();
                if (sentence > 0) {
                    // The run's panes alone at the window's size (a second view of the record), so
                    // the highlight is large enough to read.
                    rv = new moa::ui::RunView;
                    rv->setAttribute(Qt::WA_DeleteOnClose);
                    rv->resize(w.size());
                    rv->setFinalRoom(false);
                    rv->show();
                    rv->showRecord(w.presenter()->shownConfig(), *w.presenter()->lastRecord());
                }
                auto go = [&w, rv, sentence, in_final, graph, save] {
                    if (sentence > 0) {
                        const int last = static_cast<int>(rv->config().layers.size()) - 1;
                        const auto& agg = rv->provenance()->layers[static_cast<std::size_t>(last)][0];
                        if (static_cast<int>(agg.detail.sentences.size()) < sentence) return QApplication::exit(1);
                        const auto& text = rv->provenanceRecord()->layers[static_cast<std::size_t>(last)].agents[0].text;
                        const auto begin = agg.detail.sentences[static_cast<std::size_t>(sentence - 1)].span.begin;
                        const int at = static_cast<int>(QString::fromStdString(text.substr(0, begin)).size());
                        if (!in_final) {
                            rv->showSentenceSources(last, 0, at);
                        } else {
                            // A real click on the sentence's second character in the rendered view.
                            auto* fin = rv->finalView();
                            QTextCursor c(fin->document());
                            c.setPosition(rv->finalMap().toDocument(at + 1));
                            fin->setTextCursor(c);
                            fin->ensureCursorVisible();
                            const QPointF p = fin->cursorRect(c).center() + QPointF(1, 0);
                            QMouseEvent press(QEvent::MouseButtonPress, p, fin->viewport()->mapToGlobal(p), Qt::LeftButton, Qt::LeftButton, {});
                            QMouseEvent release(QEvent::MouseButtonRelease, p, fin->viewport()->mapToGlobal(p), Qt::LeftButton, {}, {});
                            QApplication::sendEvent(fin->viewport(), &press);
                            QApplication::sendEvent(fin->viewport(), &release);
                        }
                    }
                    QTimer::singleShot(300, &w, [&w, rv, sentence, graph, save] {
                        if (sentence > 0) return save(rv);
                        if (graph) {
                            // The graph on screen, alone at the window's size (a second view of its scene).
                            auto* view = new moa::ui::GraphView(w.presenter()->shownScene());
                            view->setAttribute(Qt::WA_DeleteOnClose);
                            view->resize(w.size());
                            view->show();
                            QTimer::singleShot(300, view, [view, save] {
                                // Magnified to fill the picture (the window never magnifies past 1:1).
                                const QRectF r = view->sceneRect();
                                const qreal k = std::min(view->viewport()->width() / r.width(), view->viewport()->height() / r.height()) * 0.95;
                                view->setTransform(QTransform::fromScale(k, k));
                                view->centerOn(r.center());
                                QTimer::singleShot(200, view, [view, save] { save(view); });
                            });
                            return;
                        }
                        save(&w);
                    });
                };
                if (rv->provenance()) go();
                else QObject::connect(rv, &moa::ui::RunView::provenanceComputed, &w, [rv, go] {
                    // Once the answers are laid out (they are shown frame by frame).
                    auto* poll = new QTimer(rv);
                    QObject::connect(poll, &QTimer::timeout, rv, [rv, poll, go] {
                        if (rv->isCatchingUp()) return;
                        poll->stop();
                        go();
                    });
                    poll->start(50);
                });
                return;
            }
            if (answers) {
                w.compareAnswers();
                auto* d = qobject_cast<moa::ui::AnswersDiffDialog*>(w.lastDialog());
                if (!d) return QApplication::exit(1);
                QObject::connect(d->view(), &moa::ui::DiffView::ready, d, [d, out] {
                    QTimer::singleShot(200, d, [d, out] {
                        bool ok = d->grab().save(out);
                        std::cout << (ok ? "wrote " : "could not write ") << out.toStdString() << "\n";
                        QApplication::exit(ok ? 0 : 1);
                    });
                });
                return;
            }
            QTimer::singleShot(300, &w, [&w, out] {
                bool ok = w.grab().save(out);
                std::cout << (ok ? "wrote " : "could not write ") << out.toStdString() << "\n";
                QApplication::exit(ok ? 0 : 1);
            });
        };
        if (cli.isSet(prompt)) {
            w.promptEditor()->setPlainText(cli.value(prompt));
            if (cli.isSet(during)) QTimer::singleShot(200 + cli.value(during).toInt(), &w, grab);
            else
                // After the run, once the history list shows it (it is read on a thread).
                QObject::connect(&w, &moa::ui::MainWindow::runFinished, &w, [&w, grab] {
                    QObject::connect(w.historyPanel(), &moa::ui::HistoryPanel::refreshed, &w, grab, Qt::SingleShotConnection);
                });
            QTimer::singleShot(200, &w, [&w] { w.startRun(); });
        } else {
            grab();
        }
    }
    const int code = QApplication::exec();
    // A key saved or forgotten just before the window closed: let the keychain finish (bounded).
    if (!moa::ui::KeyStore::finishPending(5000))
        std::fprintf(stderr, "moa-workbench: the keychain did not finish saving or removing a key within 5 s\n");
    return code;
}
