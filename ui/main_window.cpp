// SPDX-License-Identifier: MIT
#include "main_window.h"

#include "common/plural.h"

#include "experiment/experiment_window.h"

#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QCloseEvent>
#include <QDialog>
#include <QDir>
#include <QDockWidget>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMenuBar>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPointer>
#include <QDateTime>
#include <QFrame>
#include <QPushButton>
#include <QScreen>
#include <QSaveFile>
#include <QScrollArea>
#include <QSettings>
#include <QShortcut>
#include <QSignalBlocker>
#include <QSplitter>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTimer>
#include <QTreeWidget>
#include <QTreeWidgetItemIterator>
#include <QVBoxLayout>

#include <chrono>
#include <cstdlib>
#include <thread>

#include "config/key_uses.h"
#include "bridge/event_bridge.h"
#include "engine/run_html.h"
#include "engine/run_markdown.h"
#include "engine/run_outcome.h"
#include "common/compact_notices.h"
#include "common/folders.h"
#include "common/keyboard.h"
#include "common/latency.h"
#include "graph/graph_scene.h"
#include "help_dialogs.h"
#include "history/history_panel.h"
#include "model/autosave.h"
#include "model/config_document.h"
#include "model/configs_panel.h"
#include "model/inspector.h"
#include "model/prompt_panel.h"
#include "run/diff_view.h"
#include "run/replay_player.h"
#include "run/run_presenter.h"
#include "run/run_view.h"
#include "run/timeline_view.h"
#include "run/walkthrough.h"
#include "settings/key_store.h"
#include "settings/model_palette.h"
#include "settings/provider_status.h"
#include "settings/providers_panel.h"
#include "util/resources.h"

namespace moa::ui {

namespace {
QDockWidget* dock(QMainWindow* w, const QString& title, const char* name, QWidget* content, Qt::DockWidgetArea area) {
    auto* d = new QDockWidget(title, w);
    d->setObjectName(name);
    d->setWidget(content);
    w->addDockWidget(area, d);
    return d;
}
// Tall panels scroll inside their docks: their minimum heights never add up past the screen
// (at 1024×700 the inspector's preview was drawn over the tab bar and the timeline).
QScrollArea* scrolling(QWidget* content, const char* name) {
    auto* s = new QScrollArea;
    s->setObjectName(name);
    s->setWidgetResizable(true);
    s->setFrameShape(QFrame::NoFrame);
    s->setWidget(content);
    return s;
}
} // namespace

namespace {
// The windows alive now (GUI thread only), for abandonLiveRuns at exit.
std::set<MainWindow*>& live_windows() {
    static std::set<MainWindow*> windows;
    return windows;
}
} // namespace

void MainWindow::abandonLiveRuns() {
    for (auto* w : live_windows()) {
        if (w->run_ && !w->run_->finished()) {
            w->run_->cancel();
            // Cancelling closes the connections at once; the transport thread then ends the run.
            w->run_->wait_for(std::chrono::seconds(5));
        }
        if (w->history_) w->history_->flush();
    }
}

QString MainWindow::examplePrompt() {
    return tr("In three short paragraphs: why can several language models answering together, and one "
              "synthesizing their answers, do better than the best of them alone?");
}

MainWindow::MainWindow(std::unique_ptr<store::HistoryRecorder> history, QWidget* parent)
    : QMainWindow(parent), history_(std::move(history)) {
    setObjectName("MainWindow");
    live_windows().insert(this);
    if (auto c = accounting::Catalog::load_file(resources::catalog_path())) catalog_ = std::move(*c);
    engine_ = std::make_unique<engine::Engine>(catalog_);
    if (history_) {
        // A problem writing the history is told to the window as it happens (writer thread → GUI).
        QPointer<MainWindow> self(this);
        history_->on_error([self] {
            QMetaObject::invokeMethod(qApp, [self] { if (self) self->checkHistoryErrors(); }, Qt::QueuedConnection);
        });
    }
    keys_ = new KeyStore(QStringLiteral("moa-workbench"), this);
    doc_ = new ConfigDocument(this);
    bridge_ = new EventBridge(this);

    // Centre: notices, the graph, the run view, the prompt.
    auto* centre = new QWidget;
    auto* cv = new QVBoxLayout(centre);
    cv->setContentsMargins(4, 4, 4, 4);
    // The offline demo, said plainly, with an example to try at once.
    banner_ = new QFrame;
    banner_->setObjectName("demo_banner");
    banner_->setStyleSheet("#demo_banner { background: palette(alternate-base); border: 1px solid palette(mid); border-radius: 4px }");
    auto* bl = new QHBoxLayout(banner_);
    bl->setContentsMargins(6, 4, 6, 4);
    banner_text_ = new QLabel;
    banner_text_->setWordWrap(true);
    banner_text_->setAccessibleName(tr("Notice"));
    try_it_ = new QPushButton(tr("Try it"));
    try_it_->setObjectName("try_it");
    try_it_->setToolTip(tr("Run the example prompt on the offline demo (nothing is called or paid)"));
    bl->addWidget(banner_text_, 1);
    bl->addWidget(try_it_);
    cv->addWidget(banner_);
    // A history that could not store a run (full disk, read-only file): said plainly, with what
    // to do; the run itself stays on screen and can be exported.
    history_warning_ = new QLabel;
    history_warning_->setObjectName("history_warning");
    history_warning_->setWordWrap(true);
    history_warning_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    history_warning_->setStyleSheet("color: #D03A3A; border: 1px solid #D03A3A; padding: 6px; border-radius: 4px");
    history_warning_->setAccessibleName(tr("History problem"));
    history_warning_->hide();
    cv->addWidget(history_warning_);
    // Before a run: a provider the status bar found unreachable is named, and Run again runs.
    run_warning_box_ = new QFrame;
    run_warning_box_->setObjectName("run_warning_box");
    run_warning_box_->setStyleSheet("#run_warning_box { background: #FFF4CE; border: 1px solid #E07000; border-radius: 4px }");
    auto* wl = new QHBoxLayout(run_warning_box_);
    wl->setContentsMargins(6, 4, 6, 4);
    run_warning_ = new QLabel;
    run_warning_->setObjectName("run_warning");
    run_warning_->setWordWrap(true);
    run_warning_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    run_warning_->setStyleSheet("color: black");
    wl->addWidget(run_warning_, 1);
    auto* anyway = new QPushButton(tr("Run anyway"));
    anyway->setObjectName("run_anyway");
    anyway->setToolTip(tr("Run now; not asked again until the configuration or its providers change"));
    connect(anyway, &QPushButton::clicked, this, [this] {
        run_anyway_for_ = warned_for_;
        startRun();
    });
    wl->addWidget(anyway, 0, Qt::AlignTop);
    run_warning_->hide();
    run_warning_box_->hide();
    cv->addWidget(run_warning_box_);
    // Crash recovery: what the last session had not saved, offered without blocking anything.
    recovery_bar_ = new QWidget;
    recovery_bar_->setObjectName("recovery_bar");
    auto* rb = new QHBoxLayout(recovery_bar_);
    rb->setContentsMargins(6, 2, 6, 2);
    auto* rlabel = new QLabel;
    rlabel->setWordWrap(true);
    auto* recover = new QPushButton(tr("Recover"));
    auto* discard = new QPushButton(tr("Discard"));
    rb->addWidget(rlabel, 1);
    rb->addWidget(recover);
    rb->addWidget(discard);
    recovery_bar_->setStyleSheet("background: #FFF4CE; color: black");
    recovery_bar_->hide();
    cv->addWidget(recovery_bar_);
    // Short of room (1024×700 with two of them), the notices take a line each, not the graph's rows.
    notices_ = new CompactNotices(this);
    notices_->add(banner_, banner_text_, {try_it_});
    notices_->add(run_warning_box_, run_warning_, {anyway});
    notices_->add(recovery_bar_, rlabel, {recover, discard});
    fit_centre_ = new QTimer(this);
    fit_centre_->setSingleShot(true);
    fit_centre_->setInterval(0);
    connect(fit_centre_, &QTimer::timeout, this, &MainWindow::fitCentre);
    centre->installEventFilter(this); // resized, or a notice shown, hidden or reworded
    centre_split_ = new QSplitter(Qt::Vertical);
    centre_split_->setObjectName("centreSplitter");
    centre_split_->setChildrenCollapsible(false);
    scene_ = new GraphScene(doc_, this);
    view_ = new GraphView(scene_);
    run_view_ = new RunView;
    timeline_ = new TimelineView;
    presenter_ = new RunPresenter(doc_, scene_, view_, run_view_, timeline_, this);
    cv->addWidget(presenter_->recordBar());
    centre_split_->addWidget(view_);
    centre_split_->addWidget(run_view_);
    prompt_panel_ = new PromptPanel(doc_, catalog_);
    centre_split_->addWidget(prompt_panel_);
    centre_split_->setStretchFactor(0, 2);
    centre_split_->setStretchFactor(1, 3);
    centre_split_->setStretchFactor(2, 0);
    cv->addWidget(centre_split_, 1);
    connect(prompt_panel_, &PromptPanel::expandRequested, this, &MainWindow::expandPrompt);
    // The running layout's split, as the user moves it, is remembered (for this and later sessions).
    connect(centre_split_, &QSplitter::splitterMoved, this, [this] {
        if (!running_layout_) return;
        const auto sizes = centre_split_->sizes();
        QSettings s;
        s.setValue("layout/runningGraph", sizes[0]);
        s.setValue("layout/runningPrompt", sizes[2]);
    });
    setCentralWidget(centre);

    // Left: configurations; below it: history. Right: inspector.
    configs_ = new ConfigsPanel;
    connect(configs_, &ConfigsPanel::presetRequested, this, [this](const QString& n) {
        if (maybeSave()) openPreset(n);
    });
    connect(configs_, &ConfigsPanel::fileRequested, this, [this](const QString& f) {
        if (maybeSave()) openFile(f);
    });
    auto* cdock = dock(this, tr("Configurations"), "configsDock", configs_, Qt::LeftDockWidgetArea);

    history_panel_ = new HistoryPanel(history_ ? history_->path() : std::string());
    dock(this, tr("History"), "historyDock", history_panel_, Qt::LeftDockWidgetArea);
    connect(history_panel_, &HistoryPanel::openRequested, this, &MainWindow::openRun);
    connect(history_panel_, &HistoryPanel::replayRequested, this, &MainWindow::replayRun);
    connect(history_panel_, &HistoryPanel::replaySpeedChanged, this, [this](double sp) { presenter_->replayPlayer()->setSpeed(sp); });
    connect(history_panel_, &HistoryPanel::rerunRequested, this, &MainWindow::rerun);
    connect(history_panel_, &HistoryPanel::compareRequested, this, &MainWindow::compareRuns);
    connect(history_panel_, &HistoryPanel::message, this, [this](const QString& m) { statusBar()->showMessage(m, 5000); });

    auto* tdock = dock(this, tr("Timeline"), "timelineDock", scrolling(timeline_, "timelineScroll"), Qt::BottomDockWidgetArea);
    connect(bridge_, &EventBridge::events, timeline_, &TimelineView::apply);
    connect(presenter_->replayPlayer(), &ReplayPlayer::events, timeline_, &TimelineView::apply);

    // The graph as an outline: the same layers and agents for keyboard and screen-reader users;
    // selecting here selects on the canvas and in the inspector.
    outline_ = new QTreeWidget;
    outline_->setHeaderHidden(true);
    outline_->setAccessibleName(tr("Layer graph outline"));
    dock(this, tr("Outline"), "outlineDock", outline_, Qt::RightDockWidgetArea);
    connect(outline_, &QTreeWidget::currentItemChanged, this, [this](QTreeWidgetItem* it) {
        if (!it || !it->parent()) return;
        presenter_->shownScene()->selectAgent(it->data(0, Qt::UserRole).toInt(), it->data(0, Qt::UserRole + 1).toInt());
    });
    connect(doc_, &ConfigDocument::changed, this, &MainWindow::refreshOutline);
    // Selected in the graph (a click, the arrow keys): highlighted in the outline too.
    connect(scene_, &GraphScene::agentSelected, this, [this](int l, int i) {
        if (!presenter_->showingRecorded()) selectInOutline(l, i);
    });
    connect(presenter_->recordedScene(), &GraphScene::agentSelected, this, [this](int l, int i) {
        if (presenter_->showingRecorded()) selectInOutline(l, i);
    });
    // A stored run shown read-only: the outline lists its agents, and the estimate says it is
    // the document's (the edited document's were shown beside another run's graph).
    connect(presenter_, &RunPresenter::shownChanged, this, [this] {
        refreshOutline();
        updateTitle(); // the title and the banner describe what is shown: the document, or the stored run
        prompt_panel_->setShownRun(presenter_->recordedRun());
    });

    auto* providers = new ProvidersPanel(doc_, keys_);
    auto* pdock = dock(this, tr("Providers"), "providersDock", scrolling(providers, "providersScroll"), Qt::RightDockWidgetArea);
    auto* palette = new ModelPalette(doc_, catalog_);
    auto* mdock = dock(this, tr("Models"), "modelsDock", palette, Qt::LeftDockWidgetArea);
    tabifyDockWidget(mdock, cdock);
    cdock->raise();
    connect(providers, &ProvidersPanel::modelsListed, palette, &ModelPalette::addListed);
    connect(providers, &ProvidersPanel::connectionTested, this, [this](const QString& name, bool ok, const QString& msg) {
        statusBar()->showMessage(tr("Provider %1: %2").arg(name, ok ? tr("reachable") : msg), 8000);
    });
    auto add_agent = [this](const QString& provider, const QString& model, int layer, int index) {
        if (presenter_->showingRecorded()) {
            statusBar()->showMessage(tr("A recorded run is read-only: Edit a copy, or go Back to my document"), 6000);
            return;
        }
        config::Agent a;
        a.provider = provider.toStdString();
        a.model = model.toStdString();
        doc_->addAgent(layer, a, index);
        scene_->selectAgent(layer, index < 0 ? static_cast<int>(doc_->config().layers[static_cast<std::size_t>(layer)].agents.size()) - 1 : index);
    };
    connect(view_, &GraphView::agentDropped, this, add_agent);
    connect(palette, &ModelPalette::addRequested, this, [this, add_agent](const QString& provider, const QString& model) {
        auto [l, i] = scene_->selectedAgent();
        add_agent(provider, model, l >= 0 ? l : 0, -1);
    });

    inspector_ = new Inspector(doc_);
    auto* idock = dock(this, tr("Inspector"), "inspectorDock", scrolling(inspector_, "inspectorScroll"), Qt::RightDockWidgetArea);
    tabifyDockWidget(idock, pdock);
    idock->raise();
    connect(scene_, &GraphScene::agentSelected, inspector_, &Inspector::setAgent);
    // A stored run shown read-only: the inspector shows its agents, read-only, never the hidden
    // document's (its fields edited the document behind "Run #N as recorded").
    connect(presenter_->recordedScene(), &GraphScene::agentSelected, inspector_, [this](int l, int i) {
        if (presenter_->showingRecorded()) inspector_->setAgent(l, i);
    });
    connect(presenter_, &RunPresenter::shownChanged, inspector_, [this] {
        if (!presenter_->showingRecorded()) {
            if (inspector_->showingRecorded()) inspector_->showRecorded(std::nullopt);
        } else {
            inspector_->showRecorded(presenter_->recordedConfig(),
                                     tr("Run #%1 as recorded is read-only: these are its own agents and settings. "
                                        "Edit a copy to change them.").arg(presenter_->recordedRun()));
        }
        const auto [l, i] = presenter_->shownScene()->selectedAgent();
        inspector_->setAgent(l, i);
    });
    connect(inspector_, &Inspector::editCopyRequested, this, [this] { emit presenter_->editCopyRequested(presenter_->shownConfig()); });
    // Choosing an agent of the document to look at or edit, after a run: the editing layout
    // brings the inspector back.
    connect(scene_, &GraphScene::agentSelected, this, [this](int l, int) {
        if (l >= 0 && running_layout_ && !isRunning() && !presenter_->showingRecorded()) setRunningLayout(false);
    });
    // Selecting an agent shows its fields: at 1024×700 the Providers tab stayed on top, and the
    // outline (a row per agent) took most of the column and left the inspector four fields.
    connect(scene_, &GraphScene::agentSelected, this, [this, idock](int l, int) {
        if (l < 0) return;
        auto give_room = [this, idock] {
            if (!idock->isVisible()) return;
            idock->raise(); // its tab, when tabified with the providers
            auto* odock = findChild<QDockWidget*>("outlineDock");
            if (!odock || !odock->isVisible() || odock->isFloating() || idock->isFloating() ||
                dockWidgetArea(odock) != dockWidgetArea(idock) || odock->y() >= idock->y() || odock->x() != idock->x())
                return; // not stacked above the inspector: nothing taken from it
            const int total = odock->height() + idock->height();
            const int cap = std::max(total / 3, 6 * outline_->fontMetrics().lineSpacing());
            if (odock->height() > cap) resizeDocks({odock, idock}, {cap, total - cap}, Qt::Vertical);
        };
        give_room();
        QTimer::singleShot(0, this, give_room); // after the editing layout's docks are back and laid out
    });

    providers_status_ = new ProviderStatus(doc_, keys_);
    statusBar()->addPermanentWidget(providers_status_);
    session_cost_ = new QLabel(tr("session cost %1").arg(format_money(0.0))); // as after a run: "$0", not "$0.00"
    session_cost_->setAccessibleName(tr("Session cost"));
    statusBar()->addPermanentWidget(session_cost_);

    connect(prompt_panel_, &PromptPanel::runRequested, this, &MainWindow::startRun);
    connect(prompt_panel_, &PromptPanel::cancelRequested, this, &MainWindow::cancelRun);
    connect(prompt_panel_, &PromptPanel::compareAnswersRequested, this, &MainWindow::compareAnswers);
    connect(try_it_, &QPushButton::clicked, this, &MainWindow::tryIt);
    auto* cancel_sc = new QShortcut(QKeySequence(Qt::Key_Escape), this);
    cancel_sc->setContext(Qt::WindowShortcut);
    connect(cancel_sc, &QShortcut::activated, this, &MainWindow::cancelRun);

    connect(bridge_, &EventBridge::events, run_view_, &RunView::apply);
    connect(presenter_->replayPlayer(), &ReplayPlayer::events, run_view_, &RunView::apply);
    connect(presenter_->replayPlayer(), &ReplayPlayer::finished, this, [this] { statusBar()->showMessage(tr("Replay finished"), 4000); });
    // Run states light the graph on screen: the document's, or a stored run's own.
    connect(run_view_, &RunView::agentStateChanged, this, [this](int l, int i, engine::AgentState s) {
        presenter_->shownScene()->setAgentState(l, i, s);
    });
    connect(run_view_, &RunView::provenanceComputed, this, [this] {
        if (run_view_->provenance()) presenter_->shownScene()->setProvenance(*run_view_->provenanceRecord(), *run_view_->provenance());
    });
    connect(run_view_, &RunView::messagesRequested, this, &MainWindow::showMessages);
    // After a run the panes' provenance lines arrive: the run view's floor grows with them.
    connect(run_view_, &RunView::provenanceComputed, fit_centre_, qOverload<>(&QTimer::start));
    connect(presenter_, &RunPresenter::recordAvailable, prompt_panel_, &PromptPanel::setCompareEnabled);
    connect(presenter_, &RunPresenter::readOnlyChanged, this, [this](bool ro) {
        for (auto* a : std::as_const(canvas_actions_)) a->setEnabled(!ro);
    });
    connect(presenter_, &RunPresenter::editCopyRequested, this, [this](const config::Config& c) {
        if (isRunning() || !maybeSave()) return;
        doc_->reset(c, {}); // a copy: saving asks for a file of its own
        presenter_->keepRunForDocument();
        statusBar()->showMessage(tr("Editing a copy of the run's configuration (unsaved)"), 5000);
    });
    connect(run_view_, &RunView::runEnded, this, [this](const engine::RunRecord& r) {
        presenter_->recordEnded(r);
        // Only a live run costs anything and ends: a replay or a run reopened from the
        // history shows its record through the same view, but pays nothing.
        if (!run_ || run_->id() != r.id || live_ended_ == r.id) return;
        live_ended_ = r.id;
        session_usd_ += r.totals.cost_usd;
        session_cost_->setText(tr("session cost %1").arg(format_money(session_usd_)));
        prompt_panel_->setRunning(false);
        presenter_->setBusy(false);
        // The same words as the final header, the history and Compare runs.
        statusBar()->showMessage(
            tr("Run %1 · %2").arg(QString::fromStdString(engine::outcome_text(r)), first_token_text(r.totals)), 8000);
        // The end arrives here only once the history's writer thread committed it (the
        // recorder passes it on then), so the list is read now; a guessed 300 ms timer left the
        // list empty in a picture taken at the run's end, and would on a slow disk.
        history_panel_->refresh();
        checkHistoryErrors(); // and whenever the writer thread meets one later (on_error)
        emit runFinished();
    });
    connect(doc_, &ConfigDocument::changed, this, [this] {
        updateTitle();
        presenter_->documentEdited();
    });
    connect(doc_, &ConfigDocument::dirtyChanged, this, &MainWindow::updateTitle);
    connect(doc_, &ConfigDocument::refused, this, [this](const QString& why) { statusBar()->showMessage(why, 8000); });
    // Saved under a (new) name: first in the recent files at once.
    connect(doc_, &ConfigDocument::pathChanged, this, [this](const QString& p) {
        if (!p.isEmpty()) configs_->addRecent(p);
    });
    connect(prompt_panel_->prompt(), &QPlainTextEdit::textChanged, this, &MainWindow::updateBanner);

    autosave_ = new Autosave(doc_, Autosave::defaultFile(), 2000, this);
    if (auto rec = autosave_->pending()) {
        rlabel->setText(tr("The last session ended with unsaved changes to \"%1\"%2 (autosaved %3).")
                            .arg(QString::fromStdString(rec->config.name),
                                 rec->original_path.isEmpty() ? QString() : tr(" from %1").arg(rec->original_path), rec->saved_at));
        recovery_bar_->show();
        // The file stays until Recover or Discard: opening the demo below (a clean document)
        // removed it while the bar still offered it, and a quit without a choice lost it.
        autosave_->setHeld(true);
        auto recovered = std::make_shared<Autosave::Recovered>(*rec);
        connect(recover, &QPushButton::clicked, this, [this, recovered] {
            doc_->reset(recovered->config, recovered->original_path);
            // Recovered changes are unsaved changes: one undoable step marks the document dirty.
            doc_->edit(tr("Recover unsaved changes"), [](config::Config&) {});
            documentReplaced();
            recovery_bar_->hide();
            autosave_->setHeld(false);
            autosave_->writeNow(); // now this session's unsaved work, kept at once
        });
        connect(discard, &QPushButton::clicked, this, [this] {
            autosave_->setHeld(false);
            autosave_->clear();
            if (doc_->isDirty()) autosave_->writeNow(); // this session's edits, not kept while the bar showed
            recovery_bar_->hide();
        });
    }

    buildMenus();
    // 1400×900, or the screen's available area when that is smaller; the last session's
    // geometry only when it still fits on this screen (a laptop after a large monitor).
    const QRect avail = availableArea();
    resize(QSize(1400, 900).boundedTo(avail.size()));
    // The centre (graph, run, final answer) gets the room; the docks a sensible share. A saved
    // layout (restoreState below) wins.
    resizeDocks({cdock, idock}, {250, 320}, Qt::Horizontal);
    resizeDocks({tdock}, {120}, Qt::Vertical);
    QSettings s;
    const QByteArray saved = s.value("geometry").toByteArray();
    if (!saved.isEmpty()) {
        const QSize fitted = size();
        if (restoreGeometry(saved) && !avail.contains(frameGeometry())) {
            setWindowState(windowState() & ~(Qt::WindowMaximized | Qt::WindowFullScreen));
            resize(fitted);
            move(avail.topLeft());
        }
    }
    restoreState(s.value("windowState").toByteArray());
    openPreset("offline-demo");
    // First start on the demo: an example prompt is there, and focus is in the prompt, so
    // Ctrl+Enter runs at once.
    if (prompt_panel_->prompt()->toPlainText().isEmpty()) prompt_panel_->prompt()->setPlainText(examplePrompt());
    prompt_panel_->prompt()->setFocus();
    history_panel_->refresh();
}

MainWindow::~MainWindow() {
    live_windows().erase(this);
    // The children outlive this body (QWidget deletes them after the members are gone) and some
    // signal on their way out (the undo stack's cleanChanged → updateTitle → updateBanner): a
    // slot of this window then ran on destroyed members (a freed run, deleted labels), which
    // corrupted the heap and crashed tst_window_truth now and then. No child calls back now.
    for (QObject* child : findChildren<QObject*>()) QObject::disconnect(child, nullptr, this, nullptr);
    if (run_) {
        // Until its end the run uses the engine, the catalog and the history writer, which die
        // with this window: wait for it. Cancelling closes its connections at once, so the end
        // comes as soon as the transport thread has done its current job (never on this thread).
        run_->cancel();
        run_->wait();
    }
}

QRect MainWindow::availableArea() const {
    const QScreen* sc = screen() ? screen() : QGuiApplication::primaryScreen();
    return sc ? sc->availableGeometry() : QRect(0, 0, 1400, 900);
}

QPlainTextEdit* MainWindow::promptEditor() const { return prompt_panel_->prompt(); }
QLabel* MainWindow::providersStatus() const { return providers_status_; }
ReplayPlayer* MainWindow::replayPlayer() const { return presenter_->replayPlayer(); }

void MainWindow::buildMenus() {
    auto* file = menuBar()->addMenu(tr("&File"));
    file->addAction(tr("&New"), QKeySequence::New, this, [this] {
        if (!maybeSave()) return;
        doc_->reset(blank_config(), {});
        documentReplaced();
    });
    file->addAction(tr("&Open…"), QKeySequence::Open, this, [this] {
        if (!maybeSave()) return;
        QString f = QFileDialog::getOpenFileName(this, tr("Open configuration"), start_folder(), tr("MoA configurations (*.moa.json *.json)"));
        if (!f.isEmpty()) openFile(f);
    });
    file->addAction(tr("&Save"), QKeySequence::Save, this, [this] {
        if (doc_->path().isEmpty()) return (void)saveAs();
        QString err;
        if (!doc_->save(doc_->path(), &err)) QMessageBox::warning(this, tr("Save"), err);
        else configs_->addRecent(doc_->path());
    });
    file->addAction(tr("Save &As…"), QKeySequence::SaveAs, this, [this] { saveAs(); });
    file->addSeparator();
    file->addAction(tr("&Export run…"), QKeySequence(Qt::CTRL | Qt::Key_E), this, &MainWindow::exportRun);
    file->addAction(tr("Export run as &HTML…"), this, &MainWindow::exportRunHtml);
    file->addSeparator();
    file->addAction(tr("&Quit"), QKeySequence::Quit, this, &QWidget::close);

    auto* edit = menuBar()->addMenu(tr("&Edit"));
    auto* undo = doc_->undoStack()->createUndoAction(this, tr("&Undo"));
    undo->setShortcut(QKeySequence::Undo);
    auto* redo = doc_->undoStack()->createRedoAction(this, tr("&Redo"));
    redo->setShortcut(QKeySequence::Redo);
    edit->addAction(undo);
    edit->addAction(redo);
    edit->addSeparator();
    // Canvas actions: their shortcuts work when the graph has focus, so text fields keep theirs.
    auto canvas = [this, edit](const QString& text, const QKeySequence& key, auto fn) {
        auto* a = new QAction(text, this);
        a->setShortcut(key);
        a->setShortcutContext(Qt::WidgetWithChildrenShortcut);
        view_->addAction(a);
        canvas_actions_ << a;
        edit->addAction(a);
        connect(a, &QAction::triggered, this, fn);
        return a;
    };
    canvas(tr("Add &layer"), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_L), [this] {
        int last = static_cast<int>(doc_->config().layers.size()) - 1;
        doc_->addLayer(std::max(0, last)); // a new aggregator layer before the final one
    });
    canvas(tr("Add &agent"), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_A), [this] {
        auto [l, i] = scene_->selectedAgent();
        doc_->addAgent(l >= 0 ? l : 0, default_agent(doc_->config()));
    });
    canvas(tr("&Duplicate agent"), QKeySequence(Qt::CTRL | Qt::Key_D), [this] {
        auto [l, i] = scene_->selectedAgent();
        if (l >= 0) doc_->duplicateAgent(l, i);
    });
    // Copy and paste agents as their JSON (so they paste into another configuration, or a file).
    canvas(tr("&Copy agent"), QKeySequence::Copy, [this] {
        auto [l, i] = scene_->selectedAgent();
        if (l < 0) return;
        const auto& a = doc_->config().layers[static_cast<std::size_t>(l)].agents[static_cast<std::size_t>(i)];
        config::Config one;
        one.layers.push_back(config::Layer{{a}, {}, {}});
        auto j = config::to_json(one)["layers"][0]["agents"][0];
        QApplication::clipboard()->setText(QString::fromStdString(j.dump(2)));
    });
    canvas(tr("&Paste agent"), QKeySequence::Paste, [this] {
        auto j = nlohmann::json::parse(QApplication::clipboard()->text().toStdString(), nullptr, false);
        if (!j.is_object() || !j.contains("model") || !j.contains("provider")) {
            statusBar()->showMessage(tr("The clipboard holds no agent"), 4000);
            return;
        }
        // Read it the way a file is read, so a pasted agent is checked like any other.
        nlohmann::json doc = config::to_json(doc_->config());
        doc["layers"][0]["agents"].push_back(j);
        auto r = config::load_config_text(doc.dump(), "clipboard");
        if (!r.config) {
            statusBar()->showMessage(tr("The pasted agent is not valid: %1").arg(QString::fromStdString(r.summary()).section('\n', 0, 0)), 8000);
            return;
        }
        auto [l, i] = scene_->selectedAgent();
        const int layer = l >= 0 ? l : 0;
        doc_->addAgent(layer, r.config->layers[0].agents.back(), i >= 0 ? i + 1 : -1);
    });
    canvas(tr("De&lete agent"), QKeySequence::Delete, [this] {
        auto [l, i] = scene_->selectedAgent();
        if (l >= 0) doc_->removeAgent(l, i);
    });


    auto* view = menuBar()->addMenu(tr("&View"));
    view->addAction(tr("Zoom &in"), QKeySequence::ZoomIn, this, [this] { view_->zoomBy(1.2); });
    view->addAction(tr("Zoom &out"), QKeySequence::ZoomOut, this, [this] { view_->zoomBy(1 / 1.2); });
    view->addAction(tr("&Fit"), QKeySequence(Qt::CTRL | Qt::Key_0), this, [this] { view_->fit(); });
    view->addAction(tr("&Layers walkthrough"), QKeySequence(Qt::Key_F11), this, [this] { openWalkthrough(); });
    view->addSeparator();
    auto* editing = view->addAction(tr("&Editing layout"), QKeySequence(Qt::CTRL | Qt::Key_1), this, [this] { setRunningLayout(false); });
    editing->setObjectName("editing_layout");
    auto* running = view->addAction(tr("&Running layout"), QKeySequence(Qt::CTRL | Qt::Key_2), this, [this] { setRunningLayout(true); });
    running->setObjectName("running_layout");
    // Every dock can be reopened here after it was closed, and comes back with a usable height
    // (never a keyhole squeezed between the others): at least its minimum, and 120 px.
    view->addSeparator();
    for (auto* d : findChildren<QDockWidget*>(QString(), Qt::FindDirectChildrenOnly)) {
        view->addAction(d->toggleViewAction());
        connect(d, &QDockWidget::visibilityChanged, this, [this, d](bool visible) {
            if (!visible || d->isFloating()) return;
            QTimer::singleShot(0, this, [this, d = QPointer<QDockWidget>(d)] {
                const int need = d ? std::max(120, d->minimumSizeHint().height()) : 0;
                if (d && d->isVisible() && !d->isFloating() && d->height() < need) resizeDocks({d}, {need}, Qt::Vertical);
            });
        });
    }

    auto* experiments = menuBar()->addMenu(tr("E&xperiments"));
    experiments->addAction(tr("&Experiments…"), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_E), this, [this] { openExperiments(); });
    experiments->addAction(tr("&Open experiment…"), this, [this] {
        auto f = QFileDialog::getOpenFileName(this, tr("Open experiment"), start_folder("experiments"), tr("Experiments (*.moa-experiment.json *.json)"));
        if (!f.isEmpty()) openExperiments(f);
    });
    // Run is window-wide: Ctrl+Enter runs wherever the focus is (shown in the menu).
    auto* run = menuBar()->addMenu(tr("&Run"));
    auto* run_action = run->addAction(tr("&Run"), this, &MainWindow::startRun);
    run_action->setObjectName("run_action");
    run_action->setShortcuts({QKeySequence(Qt::CTRL | Qt::Key_Return), QKeySequence(Qt::CTRL | Qt::Key_Enter)});
    run_action->setShortcutContext(Qt::WindowShortcut);
    run->addAction(tr("&Cancel"), QKeySequence(Qt::Key_Escape), this, &MainWindow::cancelRun)->setShortcutContext(Qt::WidgetShortcut);
    run->addAction(tr("&Try the example"), this, &MainWindow::tryIt);

    auto* help = menuBar()->addMenu(tr("&Help"));
    help->addAction(tr("&Keyboard shortcuts"), QKeySequence::HelpContents, this, [this] {
        last_dialog_ = shortcuts_dialog(this);
        last_dialog_->show();
    });
    help->addAction(tr("Where &data lives"), this, [this] {
        last_dialog_ = data_locations_dialog(history_ ? QString::fromStdString(history_->path()) : QString(), this);
        last_dialog_->show();
    });
    help->addAction(tr("&About MoA Workbench"), this, [this] { about_dialog(this); });
}

void MainWindow::setRunningLayout(bool running, bool live) {
    const bool changed = running_layout_ != running;
    running_layout_ = running;
    // At 1024×700 the left docks kept a third of the width and the panes of three layers were
    // ~90 px wide. A live run on a window narrower than kWideWindow gives the run the whole
    // width (the View menu and the editing layout bring them back); a stored run opened from the
    // history keeps them, as the user is working in the history (the layers scroll instead).
    if (running && live && width() < kWideWindow)
        for (auto* d : findChildren<QDockWidget*>(QString(), Qt::FindDirectChildrenOnly))
            if (dockWidgetArea(d) == Qt::LeftDockWidgetArea && d->isVisible() && !d->isFloating() && !mode_hidden_.contains(d)) {
                mode_hidden_ << d;
                d->hide();
            }
    // Like an IDE's modes. Editing: the graph has the room, the inspector, outline and providers
    // are beside it. Running: those editing docks step aside (the View menu still opens them) and
    // the run view has the room, the final answer (the product of the run) a wide column; the
    // graph stays as a band that still shows the states, never a sliver.
    if (changed && running) {
        for (auto* d : findChildren<QDockWidget*>(QString(), Qt::FindDirectChildrenOnly))
            if (dockWidgetArea(d) == Qt::RightDockWidgetArea && d->isVisible() && !d->isFloating() && !mode_hidden_.contains(d)) {
                mode_hidden_ << d;
                d->hide();
            }
    } else if (changed) {
        restoreModeDocks();
    }
    // The timeline: a modest, fixed share while running (it scrolls), its editing height back after.
    if (auto* tdock = findChild<QDockWidget*>("timelineDock");
        tdock && tdock->isVisible() && !tdock->isFloating() && dockWidgetArea(tdock) == Qt::BottomDockWidgetArea) {
        if (changed && running) editing_timeline_ = tdock->height();
        if (running) resizeDocks({tdock}, {runningTimelineHeight()}, Qt::Vertical);
        else if (changed && editing_timeline_ > 0) resizeDocks({tdock}, {editing_timeline_}, Qt::Vertical);
        layout()->activate(); // the centre's new height, for the split below
    }
    // Running: the prompt is compact (a line or two; a click in it brings the rest back) and the
    // panes and the final answer get the rows. The user's own split of the running layout is kept.
    prompt_panel_->setButtonsInRow(running);
    prompt_panel_->setCompact(running);
    applyCentreSplit();
    // Once the docks' and the prompt's new heights are laid out (the splitter hands a later
    // resize of the centre to the prompt too), the split again.
    if (running) QTimer::singleShot(0, this, [this] {
        if (running_layout_) applyCentreSplit();
    });
    run_view_->setFinalRoom(running);
    if (running) QTimer::singleShot(0, view_, [v = view_] { v->fit(); });
}

void MainWindow::applyCentreSplit() {
    fitNotices();
    const bool running = running_layout_;
    const int total = std::max(300, centre_split_->height() - 2 * centre_split_->handleWidth());
    // The graph keeps a row of nodes at a readable scale, never a sliver (review 9: ~40 px).
    const int floor = view_->oneRowHeight();
    const int need = runViewNeed();
    const int least_prompt = prompt_panel_->minimumSizeHint().height();
    if (running) {
        const QSettings s;
        // The panes' lines and the final answer come before a graph height remembered from an earlier
        // drag (review 9: the final answer had ~14 lines, a provenance line was cut), and before the
        // full prompt after a click in it (every stats line was half cut): the graph gives way down to
        // its row, then the prompt down to its least; the run view keeps what it needs.
        const int want = prompt_panel_->isCompact() ? std::max(least_prompt, s.value("layout/runningPrompt", 0).toInt())
                                                    : prompt_panel_->sizeHint().height();
        int graph = std::clamp(s.value("layout/runningGraph", std::clamp(total * 2 / 9, std::min(124, total / 3), 260)).toInt(),
                               std::min(120, total / 3), total / 2);
        graph = std::max(floor, std::min(graph, total - want - need));
        const int prompt = std::clamp(total - graph - need, least_prompt, std::max(least_prompt, want));
        centre_split_->setSizes({graph, std::max(100, total - prompt - graph), prompt});
    } else {
        const int prompt = prompt_panel_->sizeHint().height();
        const int graph = std::max(floor, (total - prompt) * 2 / 5);
        centre_split_->setSizes({graph, std::max(need, total - prompt - graph), prompt});
    }
}

int MainWindow::runViewNeed() const {
    if (!running_layout_) return run_view_->bandHeight(); // the editing layout's band: its panes scroll
    // Running: every pane's own lines, and (with the compact prompt) a final answer of 15 lines.
    return run_view_->heightNeeded(prompt_panel_->isCompact() ? 15 : 0);
}

bool MainWindow::fitNotices() {
    const int handles = 2 * centre_split_->handleWidth();
    // The splitter's height with every notice at full length, against what its parts need at least.
    const int with_full = centre_split_->height() + notices_->shownHeight() - notices_->fullHeight();
    const bool compact = with_full < view_->oneRowHeight() + runViewNeed() + prompt_panel_->minimumSizeHint().height() + handles;
    const bool changed = compact != notices_->isCompact();
    notices_->setCompact(compact);
    notices_->refresh();
    if (changed) centralWidget()->layout()->activate();
    return changed;
}

void MainWindow::fitCentre() {
    const bool changed = fitNotices();
    const auto sizes = centre_split_->sizes();
    if (changed || sizes[0] < view_->oneRowHeight() || sizes[1] < runViewNeed()) applyCentreSplit();
}

bool MainWindow::eventFilter(QObject* watched, QEvent* e) {
    if (watched == centralWidget() && (e->type() == QEvent::Resize || e->type() == QEvent::LayoutRequest)) fit_centre_->start();
    return QMainWindow::eventFilter(watched, e);
}

int MainWindow::runningTimelineHeight() const { return std::clamp(height() / 8, 85, 150); }

void MainWindow::expandPrompt() {
    if (!prompt_panel_->isCompact()) return;
    prompt_panel_->setCompact(false);
    // The full panel takes its room from the graph (down to a row of nodes), never from the panes'
    // lines; on a small screen it gets what is left (its prompt scrolls).
    applyCentreSplit();
}

void MainWindow::restoreModeDocks() {
    for (auto& d : mode_hidden_)
        if (d) d->show();
    mode_hidden_.clear();
}

void MainWindow::refreshOutline() {
    const QSignalBlocker block(outline_);
    outline_->clear();
    // The graph on screen: a stored run shown read-only has its own layers and agents, said so.
    const bool recorded = presenter_->showingRecorded();
    const auto& c = recorded ? presenter_->recordedConfig() : doc_->config();
    if (recorded) {
        auto* head = new QTreeWidgetItem(outline_, {tr("Run #%1 as recorded (read-only)").arg(presenter_->recordedRun())});
        head->setFlags(Qt::ItemIsEnabled);
        QFont f = head->font(0);
        f.setItalic(true);
        head->setFont(0, f);
    }
    for (std::size_t li = 0; li < c.layers.size(); ++li) {
        const bool last = li + 1 == c.layers.size();
        auto* layer = new QTreeWidgetItem(outline_, {last ? tr("Layer %1: final aggregator").arg(li + 1)
                                                          : tr("Layer %1: %2 %3").arg(li + 1).arg(c.layers[li].agents.size())
                                                                .arg(li == 0 ? tr("proposers") : tr("aggregators"))});
        for (std::size_t ai = 0; ai < c.layers[li].agents.size(); ++ai) {
            const auto& a = c.layers[li].agents[ai];
            auto* it = new QTreeWidgetItem(layer, {QStringLiteral("%1 (%2)").arg(QString::fromStdString(a.model), QString::fromStdString(a.provider))});
            it->setData(0, Qt::UserRole, static_cast<int>(li));
            it->setData(0, Qt::UserRole + 1, static_cast<int>(ai));
        }
    }
    outline_->expandAll();
    const auto [l, i] = presenter_->shownScene()->selectedAgent();
    selectInOutline(l, i);
}

void MainWindow::selectInOutline(int layer, int index) {
    const QSignalBlocker block(outline_); // not selected back on the canvas
    QTreeWidgetItem* found = nullptr;
    for (QTreeWidgetItemIterator it(outline_); *it && !found; ++it)
        if ((*it)->parent() && (*it)->data(0, Qt::UserRole).toInt() == layer && (*it)->data(0, Qt::UserRole + 1).toInt() == index) found = *it;
    outline_->setCurrentItem(found);
    if (!found) outline_->clearSelection();
    else outline_->scrollToItem(found);
}


void MainWindow::exportRun() {
    if (!presenter_->lastRecord()) {
        statusBar()->showMessage(tr("No run to export yet: run a prompt or open one from the history"), 5000);
        return;
    }
    QString selected;
    QString f = QFileDialog::getSaveFileName(this, tr("Export run"), start_path(QString::fromStdString(presenter_->lastRecord()->config_name) + ".md"),
                                             tr("Markdown (*.md);;JSON, as moa run --json (*.json)"), &selected);
    if (f.isEmpty()) return;
    exportRunTo(f, selected.startsWith("JSON"));
}

void MainWindow::exportRunHtml() {
    if (!presenter_->lastRecord()) {
        statusBar()->showMessage(tr("No run to export yet: run a prompt or open one from the history"), 5000);
        return;
    }
    const QString f = QFileDialog::getSaveFileName(this, tr("Export run as HTML"),
                                                   start_path(QString::fromStdString(presenter_->lastRecord()->config_name) + ".html"),
                                                   tr("A self-contained HTML page (*.html)"));
    if (!f.isEmpty()) exportRunTo(f);
}

LayersWalkthrough* MainWindow::openWalkthrough() {
    if (!presenter_->lastRecord()) {
        statusBar()->showMessage(tr("No finished run to walk through yet: run a prompt or open one from the history"), 5000);
        return nullptr;
    }
    auto* w = new LayersWalkthrough(*presenter_->lastRecord(), this);
    w->setAttribute(Qt::WA_DeleteOnClose);
    w->showMaximized(); // for a projector: the whole screen
    // The keys (→, Esc) work at once, without a click into the new window first.
    w->raise();
    w->activateWindow();
    w->setFocus(Qt::ActiveWindowFocusReason);
    return w;
}

bool MainWindow::exportRunTo(const QString& f, bool as_json) {
    if (!presenter_->lastRecord()) return false;
    const bool json = as_json || f.endsWith(".json");
    const bool html = !json && (f.endsWith(".html", Qt::CaseInsensitive) || f.endsWith(".htm", Qt::CaseInsensitive));
    const std::string text = json   ? engine::to_json(*presenter_->lastRecord()).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n"
                             : html ? engine::to_html(*presenter_->lastRecord())
                                    : engine::to_markdown(*presenter_->lastRecord());
    QSaveFile out(f);
    if (!out.open(QIODevice::WriteOnly | QIODevice::Unbuffered) || out.write(text.data(), static_cast<qint64>(text.size())) < 0 || !out.commit()) {
        QMessageBox::warning(this, tr("Export run"), tr("%1: cannot write: %2").arg(f, out.errorString()));
        return false;
    }
    statusBar()->showMessage(tr("Exported to %1").arg(f), 5000);
    return true;
}


void MainWindow::showMessages(int layer, int index) { presenter_->showMessages(layer, index); }

QString MainWindow::messagesShown() const { return presenter_->messagesShown(); }

ExperimentWindow* MainWindow::openExperiments(const QString& path, const QString& db) {
    if (!experiments_) {
        experiments_ = new ExperimentWindow(this);
        connect(experiments_, &ExperimentWindow::openConfiguration, this, [this](const QString& p) {
            if (!p.isEmpty()) {
                openFile(p);
                raise();
                activateWindow();
            }
        });
    }
    experiments_->setDefaultBase(doc_->path()); // a sweep starts from the configuration being edited
    experiments_->setOpenDocument({doc_->path(), doc_->path().isEmpty() || doc_->isDirty() ? std::optional(doc_->config()) : std::nullopt});
    if (!path.isEmpty()) experiments_->openExperiment(path, db);
    experiments_->show();
    experiments_->raise();
    return experiments_;
}


void MainWindow::documentReplaced() {
    // Nothing of the previous configuration stays on screen: panes, timeline, inspector.
    presenter_->documentReplaced();
    inspector_->setAgent(-1, -1);
    setRunWarning({});
    warned_for_.clear();
    setRunningLayout(false);
    QTimer::singleShot(0, view_, [this] { view_->fit(); }); // once the view has its size
}

bool MainWindow::openFile(const QString& path) {
    QString err;
    QStringList outside;
    bool loaded = doc_->load(path, &err, {}, &outside);
    if (!loaded && !outside.isEmpty()) {
        // A *.moa.json opens by double-click: reading a local file into prompts sent upstream
        // is the user's decision, asked here (the CLI's is --allow-outside-files).
        const auto b = QMessageBox::question(
            this, tr("Open configuration"),
            tr("This configuration reads files outside its folder:\n\n%1\n\nTheir text goes into the prompts sent to "
               "its providers. Allow it to read them?")
                .arg(outside.join("\n")),
            QMessageBox::Yes | QMessageBox::No, QMessageBox::No);
        if (b == QMessageBox::Yes) {
            config::LoadOptions allow;
            allow.allow_outside_files = true;
            loaded = doc_->load(path, &err, allow);
        }
    }
    if (!loaded) {
        statusBar()->showMessage(err.section('\n', 0, 0), 10000);
        QMessageBox::warning(this, tr("Open configuration"), err);
        return false;
    }
    configs_->addRecent(path);
    documentReplaced();
    return true;
}

void MainWindow::openPreset(const QString& name) {
    auto r = config::load_config_file(resources::preset_path(name.toStdString()));
    if (!r.ok()) {
        QMessageBox::warning(this, tr("Preset"), QString::fromStdString(r.summary()));
        return;
    }
    doc_->reset(*r.config, {}); // a preset is a template: saving asks for a file of your own
    documentReplaced();
}

bool MainWindow::tryIt() {
    if (isRunning()) return false;
    if (presenter_->showingRecorded()) presenter_->showDocument();
    if (!allAgentsOnDemo()) { // the example is free only on the demo; never a paid call by surprise
        statusBar()->showMessage(tr("Try it runs only on the offline demo: this configuration calls real providers; press Run to run it"), 8000);
        return false;
    }
    if (promptEditor()->toPlainText().trimmed().isEmpty()) promptEditor()->setPlainText(examplePrompt());
    promptEditor()->setFocus();
    return startRun();
}

QStringList MainWindow::providerProblems(const config::Config& cfg, QString* key) const {
    QStringList out, same;
    std::set<std::string> used;
    for (const auto& L : cfg.layers)
        for (const auto& a : L.agents) used.insert(a.provider);
    const auto now = QDateTime::currentDateTime();
    for (const auto& name : used) {
        const auto it = providers_status_->problems().find(name);
        if (it == providers_status_->problems().end()) continue;
        const auto& p = it->second;
        const QString n = QString::fromStdString(name).toHtmlEscaped();
        if (p.no_key) {
            out << tr("no API key set for provider <b>%1</b> (env %2 or keychain)").arg(n, QString::fromStdString(p.key_env).toHtmlEscaped());
            same << out.back();
            continue;
        }
        const qint64 ago = std::max<qint64>(0, p.checked.secsTo(now));
        const QString where = QString::fromStdString(p.where).toHtmlEscaped();
        out << tr("<b>%1</b> did not answer at %2 %3 ago (%4)")
                   .arg(n, where, ago < 60 ? count_text(ago, tr("second"), tr("seconds")) : count_text(ago / 60, tr("minute"), tr("minutes")),
                        QString::fromStdString(p.error).toHtmlEscaped());
        same << n + "|" + where + "|" + QString::fromStdString(p.error);
    }
    if (key) *key = same.join(";") + "\n" + QString::fromStdString(config::to_json(cfg).dump());
    return out;
}

QString MainWindow::realAgentsSaid(const config::Config& c, const engine::RunRecord& r, int real) const {
    // From the record, not from the configuration: an agent that never connected did not "call" anything.
    QStringList failed;
    for (const auto& L : r.layers)
        for (const auto& a : L.agents) {
            const auto* p = c.provider(a.provider);
            if (a.demo || (p && p->type == config::ProviderType::Demo)) continue;
            if (a.state == engine::AgentState::Failed || a.state == engine::AgentState::Dropped)
                failed << QString::fromStdString(a.error.value_or("no answer")).toHtmlEscaped();
        }
    if (failed.isEmpty())
        return real == 1 ? tr("The other agent called its real provider") : tr("The other %1 called their real providers").arg(real);
    if (real == 1) return tr("The other agent was to call its real provider; it failed: %1").arg(failed.first());
    return tr("The other %1 were to call their real providers; %2 failed (first: %3)")
        .arg(real)
        .arg(failed.size() == real ? tr("all") : QString::number(failed.size()))
        .arg(failed.first());
}

QString MainWindow::consequenceOfProblems(const config::Config& cfg, qint64 providers) const {
    // How many agents the problems reach, and what the configuration's failure policy makes of them.
    qint64 agents = 0;
    for (const auto& L : cfg.layers)
        for (const auto& a : L.agents) agents += providers_status_->problems().count(a.provider) ? 1 : 0;
    const QString on = plural(providers, tr("this provider"), tr("these providers"));
    const QString who = agents == 1 ? tr("The agent on %1 will fail").arg(on)
                                    : tr("The %1 agents on %2 will fail").arg(agents).arg(on);
    if (cfg.on_agent_failure == config::FailurePolicy::Abort)
        return who + tr(", and the run with %1 (on_agent_failure is \"abort\").").arg(agents == 1 ? tr("it") : tr("them"));
    return who + tr(" and be dropped (on_agent_failure is \"drop\": the run goes on without %1).")
                     .arg(agents == 1 ? tr("it") : tr("them"));
}

void MainWindow::setRunWarning(const QString& html) {
    run_warning_->setText(html);
    run_warning_->setVisible(!html.isEmpty());
    run_warning_box_->setVisible(!html.isEmpty());
}

bool MainWindow::startRun() {
    if (isRunning()) return false;
    const QString prompt = promptEditor()->toPlainText().trimmed();
    if (prompt.isEmpty()) {
        statusBar()->showMessage(tr("Write a prompt first"), 4000);
        promptEditor()->setFocus();
        return false;
    }
    QStringList errors;
    for (const auto& i : doc_->issues())
        if (i.severity == config::Issue::Severity::Error) errors << QString::fromStdString(i.str());
    if (!errors.isEmpty()) {
        statusBar()->showMessage(tr("The configuration has problems: %1").arg(errors.first()), 8000);
        return false;
    }
    // A provider the status bar's check found without a key, or not answering: said exactly,
    // before anything is sent. Run again (or Run anyway) runs anyway (the agents on it will then
    // be dropped, and said so), and is remembered until the configuration or its providers change.
    QString key;
    const QStringList problems = providerProblems(doc_->config(), &key);
    if (!problems.isEmpty() && key != run_anyway_for_) {
        if (warned_for_ == key) {
            run_anyway_for_ = key; // pressed Run again
        } else {
            warned_for_ = key;
            setRunWarning(tr("Before running: %1. %2 Fix it in the Providers panel, "
                             "or press Run again (or Run anyway) to run anyway; not asked again until the configuration or "
                             "its providers change.")
                              .arg(problems.join("; "), consequenceOfProblems(doc_->config(), problems.size())));
            statusBar()->showMessage(tr("Not started: %1 (Run again runs anyway)")
                                         .arg(count_text(problems.size(), tr("provider problem"), tr("provider problems"))),
                                     8000);
            return false;
        }
    }
    if (presenter_->showingRecorded()) presenter_->showDocument();
    return startRunWith(doc_->config(), engine::RunInput::from_prompt(prompt.toStdString(), prompt_panel_->system()->text().toStdString()), 0);
}

bool MainWindow::startRunWith(const config::Config& cfg, const engine::RunInput& input, qint64 rerun_of) {
    if (isRunning()) return false;
    checkHistoryErrors();       // anything left from the last run is counted as seen...
    history_warning_->hide();   // ...and this run starts with a clean slate
    setRunWarning({});
    warned_for_.clear();
    // "Not started: 1 provider problem (Run again runs anyway)" stayed on while the run streamed.
    statusBar()->clearMessage();
    presenter_->beginLive(cfg, rerun_of);
    presenter_->setBusy(true);
    setRunningLayout(true, true);
    engine::EventSink sink = bridge_->sink();
    if (history_) sink = history_->sink("gui", cfg, input, sink, rerun_of);
    // The keys this run needs, resolved now (keychain, else environment) and held by the run
    // alone: the transport thread never reaches back into the window.
    std::map<std::string, std::string> run_keys;
    for (const auto& [name, p] : cfg.providers) run_keys[name] = keys_->keyFor(p);
    {
        // A key going to a server it has not gone to from this machine is said (once).
        config::KnownKeyUses known;
        const auto fresh = known.unfamiliar(cfg);
        QStringList notes;
        for (const auto& u : fresh) notes << QString::fromStdString(u.describe());
        known.remember(fresh);
        if (!notes.isEmpty()) statusBar()->showMessage(tr("Note: %1").arg(notes.join("; ")), 30000);
    }
    engine::RunOptions options;
    options.key_for = [run_keys](const config::Provider& p) {
        auto it = run_keys.find(p.name);
        return it == run_keys.end() ? std::string() : it->second;
    };
    run_ = engine_->start(cfg, input, sink, std::move(options));
    // Registered after the first start: what exit() destroys is destroyed in reverse order, so
    // the engine's transport (made on first use) still runs when the handler cancels the run.
    // Registered before it, the handler waited on a run whose transport thread was gone.
    static const bool registered = std::atexit(&MainWindow::abandonLiveRuns) == 0;
    (void)registered;
    prompt_panel_->setRunning(true);
    return true;
}

void MainWindow::cancelRun() {
    if (isRunning()) run_->cancel();
}

bool MainWindow::isRunning() const { return run_ && !run_->finished(); }

void MainWindow::checkHistoryErrors() {
    if (!history_) return;
    const auto errors = history_->errors();
    if (errors.size() <= history_errors_seen_) return;
    const std::size_t fresh = errors.size() - history_errors_seen_;
    history_errors_seen_ = errors.size();
    const QString count = fresh == 1 ? tr("1 problem") : tr("%1 problems, the last").arg(fresh);
    QString text = tr("<b>The history could not store this run</b> (%1): %2<br>"
                      "The run is still shown here: export it with File ▸ Export run… to keep it, then free disk "
                      "space or make the history file writable.")
                       .arg(count, QString::fromStdString(errors.back()).toHtmlEscaped());
    history_warning_->setText(text);
    history_warning_->show();
    statusBar()->showMessage(tr("History: %1").arg(QString::fromStdString(errors.back())), 15000);
}


void MainWindow::updateTitle() {
    // The title names what is shown: a stored run opened from the history is not the document
    // (it said "Offline demo — unsaved*" over "Run #7 as recorded").
    if (presenter_ && presenter_->showingRecorded()) {
        setWindowTitle(tr("Run #%1 as recorded — %2 (read-only)[*] — MoA Workbench")
                           .arg(presenter_->recordedRun())
                           .arg(QString::fromStdString(presenter_->recordedConfig().name)));
        setWindowModified(false);
        updateBanner();
        return;
    }
    const auto& c = doc_->config();
    QString where = doc_->path().isEmpty() ? tr("unsaved") : doc_->path();
    setWindowTitle(QStringLiteral("%1 — %2[*] — MoA Workbench").arg(QString::fromStdString(c.name), where));
    setWindowModified(doc_->isDirty());
    updateBanner();
}

void MainWindow::updateBanner() {
    // Shown whenever any agent runs on the offline demo, however many other providers exist.
    // A stored run shown read-only is described from its own configuration snapshot (the open
    // document may have other providers, or none on the demo).
    const qint64 run = presenter_->showingRecorded() ? presenter_->recordedRun() : 0;
    const auto& c = run ? presenter_->recordedConfig() : doc_->config();
    int agents = 0, demo = 0;
    QStringList which; // "L1.2 model", as the timeline names agents
    for (std::size_t li = 0; li < c.layers.size(); ++li)
        for (std::size_t ai = 0; ai < c.layers[li].agents.size(); ++ai) {
            const auto& a = c.layers[li].agents[ai];
            ++agents;
            const auto* p = c.provider(a.provider);
            if (!p || p->type != config::ProviderType::Demo) continue;
            ++demo;
            which << QStringLiteral("L%1.%2 %3").arg(li + 1).arg(ai + 1).arg(QString::fromStdString(a.model).toHtmlEscaped());
        }
    banner_->setVisible(demo > 0);
    if (demo == 0) return;
    // Two lines at most: the centre is small at 1024×700; how to go real is in the tooltip.
    // On a mixed configuration the demo agents are named (three at most, then how many more).
    constexpr int kNamed = 3;
    QString names = QStringList(which.mid(0, kNamed)).join(", ");
    if (which.size() > kNamed) names += tr(" and %1 more").arg(which.size() - kNamed);
    const int real = agents - demo;
    if (run && demo == agents)
        banner_text_->setText(tr("Run #%1 ran on the <b>offline demo provider</b>: deterministic filler, not a real model; "
                                 "nothing was called or paid.").arg(run));
    else if (run)
        banner_text_->setText(tr("In run #%1, <b>%2 of %3</b> ran on the <b>offline demo provider</b> (%4): deterministic filler, "
                                 "not a real model. %5.")
                                  .arg(run)
                                  .arg(demo)
                                  .arg(count_text(agents, tr("agent"), tr("agents")), names)
                                  .arg(realAgentsSaid(c, presenter_->recordedRecord(), real)));
    else if (demo == agents)
        banner_text_->setText(tr("You are on the <b>offline demo provider</b>: deterministic filler, not a real model; no keys, "
                                 "no network. <b>Try it</b> (or Ctrl+Enter) runs the example prompt."));
    else
        banner_text_->setText(tr("<b>%1 of %2</b> run on the <b>offline demo provider</b> (%3): deterministic filler, "
                                 "not a real model. %4.")
                                  .arg(demo)
                                  .arg(count_text(agents, tr("agent"), tr("agents")), names)
                                  .arg(real == 1 ? tr("The other agent calls its real provider")
                                                 : tr("The other %1 call their real providers").arg(real)));
    banner_->setToolTip(tr("To use a real provider, open a preset such as moa-lite or groq and save its key in the "
                           "Providers panel (kept in your keychain), or set the environment variable it names (for "
                           "example TOGETHER_API_KEY)."));
    // "Nothing is called or paid" holds only when every agent is on the demo: on a mixed
    // configuration Try it would call (and pay) the real providers, so it is not offered there.
    // Try it runs the document, not the stored run shown: not offered beside a stored run's banner.
    try_it_->setVisible(!run && demo == agents);
    try_it_->setEnabled(!run && !isRunning() && demo == agents);
}

bool MainWindow::allAgentsOnDemo() const {
    const auto& c = doc_->config();
    for (const auto& L : c.layers)
        for (const auto& a : L.agents) {
            const auto* p = c.provider(a.provider);
            if (!p || p->type != config::ProviderType::Demo) return false;
        }
    return true;
}

bool MainWindow::saveAs() {
    QString f = QFileDialog::getSaveFileName(this, tr("Save configuration"), start_path(QString::fromStdString(doc_->config().name) + ".moa.json"),
                                             tr("MoA configurations (*.moa.json)"));
    if (f.isEmpty()) return false;
    QString err;
    if (!doc_->save(f, &err)) {
        QMessageBox::warning(this, tr("Save"), err);
        return false;
    }
    configs_->addRecent(f);
    return true;
}

bool MainWindow::maybeSave() {
    if (!doc_->isDirty()) return true;
    auto b = QMessageBox::question(this, tr("Unsaved changes"), tr("Save the changes to \"%1\"?").arg(QString::fromStdString(doc_->config().name)),
                                   QMessageBox::Save | QMessageBox::Discard | QMessageBox::Cancel);
    if (b == QMessageBox::Cancel) return false;
    if (b == QMessageBox::Discard) return true;
    return doc_->path().isEmpty() ? saveAs() : doc_->save(doc_->path(), nullptr);
}

void MainWindow::closeEvent(QCloseEvent* e) {
    // Closed mid-run (the X button, the window manager, the session ending): the run is
    // cancelled first, so its end is recorded as cancelled and the process can exit; it never
    // goes on streaming, and paying, behind a window that is gone. (Asking about saving first let
    // the run go on behind the question and be recorded "done" once the window had vanished.)
    const bool cancelled = isRunning();
    if (cancelled) run_->cancel();
    if (!maybeSave()) {
        if (cancelled) statusBar()->showMessage(tr("The run was cancelled when you closed the window; the window stays open"), 15000);
        e->ignore();
        return;
    }
    // The editing docks (and the timeline's editing height) are saved as the user has them, not
    // as the running layout hid or shrank them.
    if (running_layout_) setRunningLayout(false);
    restoreModeDocks();
    QSettings s;
    s.setValue("geometry", saveGeometry());
    s.setValue("windowState", saveState());
    // A clean exit leaves nothing to recover; a recovery not yet chosen is offered again.
    if (!autosave_->held()) autosave_->clear();
    // The experiments window belongs to this one: left open, it kept the process alive after the
    // main window was closed.
    if (experiments_) experiments_->close();
    e->accept();
}


void MainWindow::changeEvent(QEvent* e) {
    // Back from a terminal where `moa run` ran: the list shows those runs (read off the GUI
    // thread, redrawn only when something changed).
    if (e->type() == QEvent::ActivationChange && isActiveWindow()) history_panel_->refreshIfChanged();
    QMainWindow::changeEvent(e);
}

void MainWindow::loadRuns(const QList<qint64>& ids, std::function<void(const std::vector<StoredRun>&)> done) {
    if (!history_) return;
    QPointer<MainWindow> self(this);
    load_stored_runs(history_->path(), ids, this, [self, done = std::move(done)](const std::vector<StoredRun>& runs, const QString& problem) {
        if (!self) return;
        if (!problem.isEmpty()) self->statusBar()->showMessage(problem, 8000);
        done(runs);
    });
}

void MainWindow::openRun(qint64 id) {
    if (isRunning()) {
        statusBar()->showMessage(tr("A run is going on; open a stored run when it ends"), 5000);
        return;
    }
    loadRuns({id}, [this](const std::vector<StoredRun>& runs) {
        if (runs.empty() || isRunning()) return;
        presenter_->showStored(runs.front());
        setRunningLayout(true);
        statusBar()->showMessage(tr("Showing run %1 from the history, with its own configuration").arg(runs.front().id), 5000);
    });
}

void MainWindow::replayRun(qint64 id, double speed) {
    if (isRunning()) {
        statusBar()->showMessage(tr("A run is going on; replay when it ends"), 5000);
        return;
    }
    loadRuns({id}, [this, speed](const std::vector<StoredRun>& runs) {
        if (runs.empty() || isRunning()) return;
        presenter_->replay(runs.front(), speed);
        setRunningLayout(true);
        statusBar()->showMessage(tr("Replaying run %1 at %2× (nothing is called or paid)").arg(runs.front().id).arg(speed), 5000);
    });
}

void MainWindow::rerun(qint64 id) {
    loadRuns({id}, [this](const std::vector<StoredRun>& runs) {
        if (runs.empty()) return;
        const auto& s = runs.front();
        if (startRunWith(s.config, s.record.input, s.id))
            statusBar()->showMessage(tr("Running run %1 again (its configuration as it was then)").arg(s.id), 5000);
    });
}

void MainWindow::compareRuns(qint64 a, qint64 b) {
    loadRuns({a, b}, [this](const std::vector<StoredRun>& runs) {
        if (runs.size() != 2) return;
        auto* d = new RunsCompareDialog(tr("run %1").arg(runs[0].id), runs[0].record, tr("run %1").arg(runs[1].id),
                                        runs[1].record, this);
        d->setAttribute(Qt::WA_DeleteOnClose);
        last_dialog_ = d;
        d->show();
    });
}

void MainWindow::compareAnswers() {
    if (auto* d = presenter_->compareAnswers()) last_dialog_ = d;
}

} // namespace moa::ui
