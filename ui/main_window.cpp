// SPDX-License-Identifier: MIT
#include "main_window.h"

#include "experiment/experiment_window.h"

#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QComboBox>
#include <QGridLayout>
#include <QCloseEvent>
#include <QDialog>
#include <QDockWidget>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QDateTime>
#include <QListWidget>
#include <QMenuBar>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSaveFile>
#include <QSettings>
#include <QShortcut>
#include <QPointer>
#include <QSignalBlocker>

#include <thread>
#include <QSplitter>
#include <QStatusBar>
#include <QTimer>
#include <QToolBar>
#include <QTreeWidget>
#include <QVBoxLayout>

#include "accounting/estimate.h"
#include "engine/run_markdown.h"
#include "run/timeline_view.h"
#include "settings/model_palette.h"
#include "providers/model_list.h"
#include "settings/key_store.h"
#include "settings/providers_panel.h"
#include "bridge/event_bridge.h"
#include "graph/graph_scene.h"
#include "model/autosave.h"
#include "model/config_document.h"
#include "model/inspector.h"
#include "run/diff_view.h"
#include "run/replay_player.h"
#include "run/run_view.h"
#include "run/stream_text_view.h"
#include "util/resources.h"

namespace moa::ui {

MainWindow::MainWindow(std::unique_ptr<store::HistoryRecorder> history, QWidget* parent)
    : QMainWindow(parent), history_(std::move(history)) {
    setObjectName("MainWindow");
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

    // Centre: banner, graph, run view, prompt.
    auto* centre = new QWidget;
    auto* cv = new QVBoxLayout(centre);
    cv->setContentsMargins(4, 4, 4, 4);
    banner_ = new QLabel;
    banner_->setWordWrap(true);
    banner_->setStyleSheet("background: palette(alternate-base); border: 1px solid palette(mid); padding: 6px; border-radius: 4px");
    banner_->setAccessibleName(tr("Notice"));
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
    // Crash recovery: what the last session had not saved, offered without blocking anything.
    recovery_bar_ = new QWidget;
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
    auto* split = new QSplitter(Qt::Vertical);
    split->setObjectName("centreSplitter");
    scene_ = new GraphScene(doc_, this);
    view_ = new GraphView(scene_);
    split->addWidget(view_);
    run_view_ = new RunView;
    split->addWidget(run_view_);
    auto* prompt_box = new QWidget;
    auto* pv = new QVBoxLayout(prompt_box);
    pv->setContentsMargins(0, 0, 0, 0);
    system_ = new QLineEdit;
    system_->setPlaceholderText(tr("Optional system prompt for every agent"));
    system_->setAccessibleName(tr("System prompt"));
    pv->addWidget(system_);
    auto* prow = new QHBoxLayout;
    prompt_ = new QPlainTextEdit;
    prompt_->setPlaceholderText(tr("Your prompt — Ctrl+Enter runs, Esc cancels"));
    prompt_->setAccessibleName(tr("Prompt"));
    prompt_->setMaximumHeight(90);
    prow->addWidget(prompt_, 1);
    auto* buttons = new QVBoxLayout;
    run_button_ = new QPushButton(tr("Run"));
    run_button_->setAccessibleName(tr("Run"));
    cancel_button_ = new QPushButton(tr("Cancel"));
    cancel_button_->setEnabled(false);
    compare_answers_ = new QPushButton(tr("Compare answers…"));
    compare_answers_->setAccessibleName(tr("Compare two answers of this run side by side"));
    compare_answers_->setToolTip(tr("A side-by-side diff of any two answers of the run shown (the refinement view)"));
    compare_answers_->setEnabled(false);
    buttons->addWidget(run_button_);
    buttons->addWidget(cancel_button_);
    buttons->addWidget(compare_answers_);
    prow->addLayout(buttons);
    pv->addLayout(prow);
    estimate_ = new QLabel;
    estimate_->setStyleSheet("color: gray");
    estimate_->setAccessibleName(tr("Estimate"));
    pv->addWidget(estimate_);
    split->addWidget(prompt_box);
    split->setStretchFactor(0, 2);
    split->setStretchFactor(1, 3);
    split->setStretchFactor(2, 0);
    cv->addWidget(split, 1);
    setCentralWidget(centre);

    // Left: configurations; below it: history. Right: inspector.
    configs_ = new QTreeWidget;
    configs_->setHeaderHidden(true);
    configs_->setAccessibleName(tr("Configurations"));
    auto* presets = new QTreeWidgetItem(configs_, {tr("Built-in presets")});
    for (const auto& n : resources::preset_names()) {
        auto* it = new QTreeWidgetItem(presets, {QString::fromStdString(n)});
        it->setData(0, Qt::UserRole, QStringLiteral("preset:") + QString::fromStdString(n));
    }
    auto* recent = new QTreeWidgetItem(configs_, {tr("Recent files")});
    for (const auto& f : QSettings().value("recentFiles").toStringList()) {
        auto* it = new QTreeWidgetItem(recent, {f.section('/', -1)});
        it->setToolTip(0, f);
        it->setData(0, Qt::UserRole, QStringLiteral("file:") + f);
    }
    configs_->expandAll();
    connect(configs_, &QTreeWidget::itemActivated, this, [this](QTreeWidgetItem* it) {
        QString what = it->data(0, Qt::UserRole).toString();
        if (what.startsWith("preset:")) openPreset(what.mid(7));
        else if (what.startsWith("file:")) openFile(what.mid(5));
    });
    auto* cdock = new QDockWidget(tr("Configurations"), this);
    cdock->setObjectName("configsDock");
    cdock->setWidget(configs_);
    addDockWidget(Qt::LeftDockWidgetArea, cdock);

    auto* hist = new QWidget;
    auto* hv = new QVBoxLayout(hist);
    hv->setContentsMargins(0, 0, 0, 0);
    history_search_ = new QLineEdit;
    history_search_->setPlaceholderText(tr("Search runs"));
    history_search_->setAccessibleName(tr("Search history"));
    history_list_ = new QListWidget;
    history_list_->setAccessibleName(tr("Run history"));
    history_list_->setSelectionMode(QAbstractItemView::ExtendedSelection);
    history_list_->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff); // lines are shortened with … instead
    history_list_->setTextElideMode(Qt::ElideRight);
    history_list_->setWordWrap(false);
    history_list_->setAlternatingRowColors(true);
    hv->addWidget(history_search_);
    hv->addWidget(history_list_);
    auto* hb = new QGridLayout;
    auto* replay = new QPushButton(tr("Replay"));
    replay->setAccessibleName(tr("Replay the selected run"));
    replay->setToolTip(tr("Watch the selected run stream again at its recorded pace, scaled by the speed"));
    replay_speed_ = new QComboBox;
    replay_speed_->setAccessibleName(tr("Replay speed"));
    for (double sp : {0.25, 0.5, 1.0, 2.0, 5.0, 20.0}) replay_speed_->addItem(QStringLiteral("%1×").arg(sp), sp);
    replay_speed_->setCurrentIndex(2);
    auto* rerun_b = new QPushButton(tr("Re-run"));
    rerun_b->setAccessibleName(tr("Run the selected run again"));
    rerun_b->setToolTip(tr("Run the selected run's configuration (as it was) on its prompt again"));
    auto* compare = new QPushButton(tr("Compare"));
    compare->setAccessibleName(tr("Compare the two selected runs"));
    compare->setToolTip(tr("Select two runs (Ctrl+click) to compare their figures and final answers"));
    hb->addWidget(replay, 0, 0);
    hb->addWidget(replay_speed_, 0, 1);
    hb->addWidget(rerun_b, 1, 0);
    hb->addWidget(compare, 1, 1);
    hv->addLayout(hb);
    replay_ = new ReplayPlayer(this);
    connect(replay, &QPushButton::clicked, this, [this] {
        auto ids = selectedRuns();
        if (!ids.isEmpty()) replayRun(ids.first(), replay_speed_->currentData().toDouble());
    });
    connect(replay_speed_, &QComboBox::currentIndexChanged, this, [this] { replay_->setSpeed(replay_speed_->currentData().toDouble()); });
    connect(rerun_b, &QPushButton::clicked, this, [this] {
        auto ids = selectedRuns();
        if (!ids.isEmpty()) rerun(ids.first());
    });
    connect(compare, &QPushButton::clicked, this, [this] {
        auto ids = selectedRuns();
        if (ids.size() == 2) compareRuns(ids[1], ids[0]); // older on the left
        else statusBar()->showMessage(tr("Select two runs to compare (Ctrl+click)"), 5000);
    });
    auto* hdock = new QDockWidget(tr("History"), this);
    hdock->setObjectName("historyDock");
    hdock->setWidget(hist);
    addDockWidget(Qt::LeftDockWidgetArea, hdock);
    connect(history_search_, &QLineEdit::textChanged, this, &MainWindow::refreshHistory);
    connect(history_list_, &QListWidget::itemActivated, this, [this](QListWidgetItem* it) {
        const auto id = it->data(Qt::UserRole).toLongLong();
        loadRuns({id}, [this](const std::vector<Stored>& runs) {
            if (runs.empty()) return;
            replay_->stop();
            showStored(runs.front());
            statusBar()->showMessage(tr("Showing run %1 from the history").arg(runs.front().id), 5000);
        });
    });

    timeline_ = new TimelineView;
    auto* tdock = new QDockWidget(tr("Timeline"), this);
    tdock->setObjectName("timelineDock");
    tdock->setWidget(timeline_);
    addDockWidget(Qt::BottomDockWidgetArea, tdock);
    connect(bridge_, &EventBridge::events, timeline_, &TimelineView::apply);
    connect(replay_, &ReplayPlayer::events, timeline_, &TimelineView::apply);

    // The graph as an outline: the same layers and agents for keyboard and screen-reader users;
    // selecting here selects on the canvas and in the inspector.
    outline_ = new QTreeWidget;
    outline_->setHeaderHidden(true);
    outline_->setAccessibleName(tr("Layer graph outline"));
    auto* odock = new QDockWidget(tr("Outline"), this);
    odock->setObjectName("outlineDock");
    odock->setWidget(outline_);
    addDockWidget(Qt::RightDockWidgetArea, odock);
    connect(outline_, &QTreeWidget::currentItemChanged, this, [this](QTreeWidgetItem* it) {
        if (!it || !it->parent()) return;
        scene_->selectAgent(it->data(0, Qt::UserRole).toInt(), it->data(0, Qt::UserRole + 1).toInt());
    });
    connect(doc_, &ConfigDocument::changed, this, &MainWindow::refreshOutline);

    auto* providers = new ProvidersPanel(doc_, keys_);
    auto* pdock = new QDockWidget(tr("Providers"), this);
    pdock->setObjectName("providersDock");
    pdock->setWidget(providers);
    addDockWidget(Qt::RightDockWidgetArea, pdock);
    auto* palette = new ModelPalette(doc_, catalog_);
    auto* mdock = new QDockWidget(tr("Models"), this);
    mdock->setObjectName("modelsDock");
    mdock->setWidget(palette);
    addDockWidget(Qt::LeftDockWidgetArea, mdock);
    tabifyDockWidget(mdock, cdock);
    cdock->raise();
    connect(providers, &ProvidersPanel::modelsListed, palette, &ModelPalette::addListed);
    connect(providers, &ProvidersPanel::connectionTested, this, [this](const QString& name, bool ok, const QString& msg) {
        statusBar()->showMessage(tr("Provider %1: %2").arg(name, ok ? tr("reachable") : msg), 8000);
    });
    auto add_agent = [this](const QString& provider, const QString& model, int layer, int index) {
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
    auto* idock = new QDockWidget(tr("Inspector"), this);
    idock->setObjectName("inspectorDock");
    idock->setWidget(inspector_);
    addDockWidget(Qt::RightDockWidgetArea, idock);
    tabifyDockWidget(idock, pdock);
    idock->raise();
    connect(scene_, &GraphScene::agentSelected, inspector_, &Inspector::setAgent);

    providers_status_ = new QLabel;
    providers_status_->setObjectName("providers_status");
    providers_status_->setAccessibleName(tr("Providers reachable"));
    providers_status_->setToolTip(tr("Whether each provider of this configuration answers GET /models (checked when the providers change)"));
    statusBar()->addPermanentWidget(providers_status_);
    session_cost_ = new QLabel(tr("session cost $0.00"));
    session_cost_->setAccessibleName(tr("Session cost"));
    statusBar()->addPermanentWidget(session_cost_);
    provider_check_timer_ = new QTimer(this);
    provider_check_timer_->setSingleShot(true);
    provider_check_timer_->setInterval(600); // after edits settle
    connect(provider_check_timer_, &QTimer::timeout, this, &MainWindow::checkProviders);
    connect(doc_, &ConfigDocument::changed, provider_check_timer_, qOverload<>(&QTimer::start));
    connect(keys_, &KeyStore::changed, this, [this] {
        providers_signature_.clear();
        provider_check_timer_->start();
    });

    connect(run_button_, &QPushButton::clicked, this, &MainWindow::startRun);
    connect(cancel_button_, &QPushButton::clicked, this, &MainWindow::cancelRun);
    auto* run_sc = new QShortcut(QKeySequence(Qt::CTRL | Qt::Key_Return), prompt_);
    run_sc->setContext(Qt::WidgetWithChildrenShortcut);
    connect(run_sc, &QShortcut::activated, this, &MainWindow::startRun);
    auto* cancel_sc = new QShortcut(QKeySequence(Qt::Key_Escape), this);
    cancel_sc->setContext(Qt::WindowShortcut);
    connect(cancel_sc, &QShortcut::activated, this, &MainWindow::cancelRun);

    connect(bridge_, &EventBridge::events, run_view_, &RunView::apply);
    connect(replay_, &ReplayPlayer::events, run_view_, &RunView::apply);
    connect(replay_, &ReplayPlayer::finished, this, [this] { statusBar()->showMessage(tr("Replay finished"), 4000); });
    connect(compare_answers_, &QPushButton::clicked, this, &MainWindow::compareAnswers);
    connect(run_view_, &RunView::agentStateChanged, scene_, &GraphScene::setAgentState);
    connect(run_view_, &RunView::overlapComputed, scene_, &GraphScene::setOverlap);
    connect(run_view_, &RunView::messagesRequested, this, &MainWindow::showMessages);
    connect(run_view_, &RunView::runEnded, this, [this](const engine::RunRecord& r) {
        last_record_ = r;
        compare_answers_->setEnabled(true);
        // Only a live run costs anything and ends: a replay or a run reopened from the
        // history shows its record through the same view, but pays nothing.
        if (!run_ || run_->id() != r.id || live_ended_ == r.id) return;
        live_ended_ = r.id;
        session_usd_ += r.totals.cost_usd;
        session_cost_->setText(tr("session cost %1").arg(format_money(session_usd_)));
        run_button_->setEnabled(true);
        cancel_button_->setEnabled(false);
        statusBar()->showMessage(tr("Run %1").arg(QString::fromLatin1(engine::to_string(r.status))), 5000);
        QTimer::singleShot(300, this, &MainWindow::refreshHistory); // after the writer thread committed
        checkHistoryErrors(); // and whenever the writer thread meets one later (on_error)
        emit runFinished();
    });
    connect(doc_, &ConfigDocument::changed, this, [this] {
        updateTitle();
        updateEstimate();
    });
    connect(doc_, &ConfigDocument::dirtyChanged, this, &MainWindow::updateTitle);
    connect(prompt_, &QPlainTextEdit::textChanged, this, &MainWindow::updateEstimate);

    autosave_ = new Autosave(doc_, Autosave::defaultFile(), 2000, this);
    if (auto rec = autosave_->pending()) {
        rlabel->setText(tr("The last session ended with unsaved changes to \"%1\"%2 (autosaved %3).")
                            .arg(QString::fromStdString(rec->config.name),
                                 rec->original_path.isEmpty() ? QString() : tr(" from %1").arg(rec->original_path), rec->saved_at));
        recovery_bar_->show();
        auto recovered = std::make_shared<Autosave::Recovered>(*rec);
        connect(recover, &QPushButton::clicked, this, [this, recovered] {
            doc_->reset(recovered->config, recovered->original_path);
            // Recovered changes are unsaved changes: one undoable step marks the document dirty.
            doc_->edit(tr("Recover unsaved changes"), [](config::Config&) {});
            run_view_->prepare(doc_->config());
            recovery_bar_->hide();
        });
        connect(discard, &QPushButton::clicked, this, [this] {
            autosave_->clear();
            recovery_bar_->hide();
        });
    }

    buildMenus();
    resize(1400, 900);
    QSettings s;
    restoreGeometry(s.value("geometry").toByteArray());
    restoreState(s.value("windowState").toByteArray());
    openPreset("offline-demo");
    refreshHistory();
}

MainWindow::~MainWindow() {
    if (run_) {
        // Until its end the run uses the engine, the catalog and the history writer, which die
        // with this window: wait for it. Cancelling closes its connections at once, so the end
        // comes as soon as the transport thread has done its current job (never on this thread).
        run_->cancel();
        run_->wait();
    }
}

void MainWindow::buildMenus() {
    auto* file = menuBar()->addMenu(tr("&File"));
    file->addAction(tr("&New"), QKeySequence::New, this, [this] {
        if (!maybeSave()) return;
        doc_->reset(blank_config(), {});
        run_view_->prepare(doc_->config());
    });
    file->addAction(tr("&Open…"), QKeySequence::Open, this, [this] {
        if (!maybeSave()) return;
        QString f = QFileDialog::getOpenFileName(this, tr("Open configuration"), {}, tr("MoA configurations (*.moa.json *.json)"));
        if (!f.isEmpty()) openFile(f);
    });
    file->addAction(tr("&Save"), QKeySequence::Save, this, [this] {
        if (doc_->path().isEmpty()) return (void)saveAs();
        QString err;
        if (!doc_->save(doc_->path(), &err)) QMessageBox::warning(this, tr("Save"), err);
    });
    file->addAction(tr("Save &As…"), QKeySequence::SaveAs, this, [this] { saveAs(); });
    file->addSeparator();
    file->addAction(tr("&Export run…"), QKeySequence(Qt::CTRL | Qt::Key_E), this, &MainWindow::exportRun);
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
        one.layers.push_back(config::Layer{{a}});
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

    auto* experiments = menuBar()->addMenu(tr("E&xperiments"));
    experiments->addAction(tr("&Experiments…"), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_E), this, [this] { openExperiments(); });
    experiments->addAction(tr("&Open experiment…"), this, [this] {
        auto f = QFileDialog::getOpenFileName(this, tr("Open experiment"), {}, tr("Experiments (*.moa-experiment.json *.json)"));
        if (!f.isEmpty()) openExperiments(f);
    });
    auto* run = menuBar()->addMenu(tr("&Run"));
    run->addAction(tr("&Run"), this, &MainWindow::startRun);
    run->addAction(tr("&Cancel"), this, &MainWindow::cancelRun);
}

void MainWindow::refreshOutline() {
    const QSignalBlocker block(outline_);
    outline_->clear();
    const auto& c = doc_->config();
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
}

void MainWindow::exportRun() {
    if (!last_record_) {
        statusBar()->showMessage(tr("No run to export yet: run a prompt or open one from the history"), 5000);
        return;
    }
    QString selected;
    QString f = QFileDialog::getSaveFileName(this, tr("Export run"), QString::fromStdString(last_record_->config_name) + ".md",
                                             tr("Markdown (*.md);;JSON, as moa run --json (*.json)"), &selected);
    if (f.isEmpty()) return;
    exportRunTo(f, selected.startsWith("JSON"));
}

bool MainWindow::exportRunTo(const QString& f, bool as_json) {
    if (!last_record_) return false;
    const bool json = as_json || f.endsWith(".json");
    const std::string text = json ? engine::to_json(*last_record_).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n"
                                  : engine::to_markdown(*last_record_);
    QSaveFile out(f);
    if (!out.open(QIODevice::WriteOnly | QIODevice::Unbuffered) || out.write(text.data(), static_cast<qint64>(text.size())) < 0 || !out.commit()) {
        QMessageBox::warning(this, tr("Export run"), tr("%1: cannot write: %2").arg(f, out.errorString()));
        return false;
    }
    statusBar()->showMessage(tr("Exported to %1").arg(f), 5000);
    return true;
}

void MainWindow::showMessages(int layer, int index) {
    // The teaching view: exactly what the agent was sent, message by message.
    auto msgs = run_view_->messages(layer, index);
    if (!messages_dialog_) {
        messages_dialog_ = new QDialog(this);
        messages_dialog_->resize(700, 600);
        auto* v = new QVBoxLayout(messages_dialog_);
        messages_text_ = new StreamTextView;
        messages_text_->setAccessibleName(tr("Messages sent"));
        v->addWidget(messages_text_);
    }
    const auto& c = doc_->config();
    QString model;
    if (layer < static_cast<int>(c.layers.size()) && index < static_cast<int>(c.layers[static_cast<std::size_t>(layer)].agents.size()))
        model = QString::fromStdString(c.layers[static_cast<std::size_t>(layer)].agents[static_cast<std::size_t>(index)].model);
    messages_dialog_->setWindowTitle(tr("What layer %1, agent %2 (%3) was sent").arg(layer + 1).arg(index + 1).arg(model));
    QString text;
    if (msgs.empty()) text = tr("This agent has not been sent anything yet.");
    for (const auto& m : msgs) text += QString::fromStdString("── " + m.role + " ──\n" + m.content + "\n\n");
    messages_text_->clearStream();
    messages_text_->appendStream(text);
    messages_dialog_->show();
    messages_dialog_->raise();
}

QString MainWindow::messagesShown() const { return messages_text_ ? messages_text_->text() : QString(); }

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
    if (!path.isEmpty()) experiments_->openExperiment(path, db);
    experiments_->show();
    experiments_->raise();
    return experiments_;
}

bool MainWindow::openFile(const QString& path) {
    QString err;
    if (!doc_->load(path, &err)) {
        statusBar()->showMessage(err.section('\n', 0, 0), 10000);
        QMessageBox::warning(this, tr("Open configuration"), err);
        return false;
    }
    QSettings s;
    QStringList recent = s.value("recentFiles").toStringList();
    recent.removeAll(path);
    recent.prepend(path);
    s.setValue("recentFiles", recent.mid(0, 10));
    run_view_->prepare(doc_->config());
    QTimer::singleShot(0, view_, [this] { view_->fit(); });
    return true;
}

void MainWindow::openPreset(const QString& name) {
    auto r = config::load_config_file(resources::preset_path(name.toStdString()));
    if (!r.ok()) {
        QMessageBox::warning(this, tr("Preset"), QString::fromStdString(r.summary()));
        return;
    }
    doc_->reset(*r.config, {}); // a preset is a template: saving asks for a file of your own
    run_view_->prepare(doc_->config());
    QTimer::singleShot(0, view_, [this] { view_->fit(); }); // once the view has its size
}

bool MainWindow::startRun() {
    if (isRunning()) return false;
    const QString prompt = prompt_->toPlainText().trimmed();
    if (prompt.isEmpty()) {
        statusBar()->showMessage(tr("Write a prompt first"), 4000);
        prompt_->setFocus();
        return false;
    }
    QStringList errors;
    for (const auto& i : doc_->issues())
        if (i.severity == config::Issue::Severity::Error) errors << QString::fromStdString(i.str());
    if (!errors.isEmpty()) {
        statusBar()->showMessage(tr("The configuration has problems: %1").arg(errors.first()), 8000);
        return false;
    }
    return startRunWith(doc_->config(), engine::RunInput::from_prompt(prompt.toStdString(), system_->text().toStdString()), 0);
}

bool MainWindow::startRunWith(const config::Config& cfg, const engine::RunInput& input, qint64 rerun_of) {
    if (isRunning()) return false;
    replay_->stop();
    checkHistoryErrors();       // anything left from the last run is counted as seen...
    history_warning_->hide();   // ...and this run starts with a clean slate
    scene_->clearRunStates();
    run_view_->prepare(cfg);
    timeline_->prepare(cfg);
    engine::EventSink sink = bridge_->sink();
    if (history_) sink = history_->sink("gui", cfg, input, sink, rerun_of);
    // The keys this run needs, resolved now (keychain, else environment) and held by the run
    // alone: the transport thread never reaches back into the window.
    std::map<std::string, std::string> run_keys;
    for (const auto& [name, p] : cfg.providers) run_keys[name] = keys_->keyFor(p);
    engine::RunOptions options;
    options.key_for = [run_keys](const config::Provider& p) {
        auto it = run_keys.find(p.name);
        return it == run_keys.end() ? std::string() : it->second;
    };
    run_ = engine_->start(cfg, input, sink, std::move(options));
    run_button_->setEnabled(false);
    cancel_button_->setEnabled(true);
    return true;
}

void MainWindow::cancelRun() {
    if (isRunning()) run_->cancel();
}

bool MainWindow::isRunning() const { return run_ && !run_->finished(); }

void MainWindow::refreshHistory() {
    if (!history_) {
        history_list_->clear();
        history_list_->addItem(tr("(no history: the database could not be opened)"));
        return;
    }
    // The list is read on a thread of its own: the GUI thread never waits on the disk.
    const std::string path = history_->path(), search = history_search_->text().toStdString();
    QPointer<MainWindow> self(this);
    std::thread([self, path, search] {
        std::vector<store::RunSummary> runs;
        if (auto h = store::History::open(path)) runs = (*h)->list(search, 200);
        QMetaObject::invokeMethod(qApp, [self, runs, search] {
            if (!self || self->history_search_->text().toStdString() != search) return;
            self->history_list_->clear();
            for (const auto& r : runs) {
                // Three short lines, each shortened to the panel's width: what ran and how it
                // ended; when, what it cost and how long it took; the prompt on one line.
                const QDateTime when = QDateTime::fromString(QString::fromStdString(r.started_at), Qt::ISODate);
                QString head = QStringLiteral("#%1 %2 · %3").arg(r.id).arg(QString::fromStdString(r.config_name), QString::fromStdString(r.status));
                if (r.rerun_of) head += tr(" · re-run of #%1").arg(*r.rerun_of);
                const QString figures = QStringLiteral("%1 · %2 · %3 s · %4")
                                            .arg(when.isValid() ? when.toLocalTime().toString("yyyy-MM-dd HH:mm") : QString::fromStdString(r.started_at),
                                                 format_money(r.cost_usd))
                                            .arg(r.wall_ms / 1000.0, 0, 'f', 1)
                                            .arg(QString::fromStdString(r.source));
                const QString prompt = QString::fromStdString(r.prompt).left(300).simplified();
                auto* it = new QListWidgetItem(head + "\n" + figures + "\n" + prompt);
                it->setToolTip(QString::fromStdString(r.started_at + " (" + r.source + ")\n") + QString::fromStdString(r.prompt).left(2000));
                it->setData(Qt::UserRole, static_cast<qlonglong>(r.id));
                self->history_list_->addItem(it);
            }
        }, Qt::QueuedConnection);
    }).detach();
}

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
    const auto& c = doc_->config();
    QString where = doc_->path().isEmpty() ? tr("unsaved") : doc_->path();
    setWindowTitle(QStringLiteral("%1 — %2[*] — MoA Workbench").arg(QString::fromStdString(c.name), where));
    setWindowModified(doc_->isDirty());
    bool demo_only = !c.providers.empty();
    for (const auto& [_, p] : c.providers) demo_only = demo_only && p.type == config::ProviderType::Demo;
    banner_->setVisible(demo_only);
    banner_->setText(tr("You are on the <b>offline demo provider</b>: its answers are deterministic filler, not a real "
                        "model, so you can try a whole MoA run without keys or network. To use a real provider, open a "
                        "preset such as <i>moa-lite</i> or <i>groq</i> and save its key in the Providers panel (kept in "
                        "your keychain), or set the environment variable it names (for example TOGETHER_API_KEY)."));
}

void MainWindow::updateEstimate() {
    auto e = accounting::estimate_run(doc_->config(), catalog_, prompt_->toPlainText().toStdString());
    estimate_->setText(tr("One run, at most: %1%2 · %3 TFLOPs%4 · %5 prompt + %6 completion tokens (max_tokens, 512 where unset)")
                           .arg(format_money(e.cost_usd), e.cost_complete ? QString() : tr(" (some prices unknown)"))
                           .arg(e.tflops, 0, 'f', 1)
                           .arg(e.tflops_complete ? QString() : tr(" (some parameter counts unknown)"))
                           .arg(e.prompt_tokens)
                           .arg(e.completion_tokens));
}

bool MainWindow::saveAs() {
    QString f = QFileDialog::getSaveFileName(this, tr("Save configuration"), QString::fromStdString(doc_->config().name) + ".moa.json",
                                             tr("MoA configurations (*.moa.json)"));
    if (f.isEmpty()) return false;
    QString err;
    if (!doc_->save(f, &err)) {
        QMessageBox::warning(this, tr("Save"), err);
        return false;
    }
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
    if (!maybeSave()) {
        e->ignore();
        return;
    }
    QSettings s;
    s.setValue("geometry", saveGeometry());
    s.setValue("windowState", saveState());
    if (!recovery_bar_->isVisible()) autosave_->clear(); // a clean exit leaves nothing to recover
    e->accept();
}

QList<qint64> MainWindow::selectedRuns() const {
    QList<qint64> ids;
    for (auto* it : history_list_->selectedItems())
        if (it->data(Qt::UserRole).isValid()) ids << it->data(Qt::UserRole).toLongLong();
    if (ids.isEmpty() && history_list_->currentItem() && history_list_->currentItem()->data(Qt::UserRole).isValid())
        ids << history_list_->currentItem()->data(Qt::UserRole).toLongLong();
    std::sort(ids.begin(), ids.end(), std::greater<>()); // newest first, as listed
    return ids;
}

void MainWindow::loadRuns(const QList<qint64>& ids, std::function<void(const std::vector<Stored>&)> done) {
    if (!history_) return;
    const std::string path = history_->path();
    QPointer<MainWindow> self(this);
    std::thread([self, path, ids, done = std::move(done)] {
        std::vector<Stored> out;
        QString problem;
        if (auto h = store::History::open(path)) {
            for (qint64 id : ids) {
                auto rec = (*h)->load(id);
                auto snap = (*h)->config_snapshot(id);
                if (!rec || !snap) {
                    problem = QObject::tr("run %1 is not in the history").arg(id);
                    continue;
                }
                auto cfg = config::load_config_text(snap->dump(), "history run " + std::to_string(id));
                if (!cfg.ok()) {
                    problem = QString::fromStdString(cfg.summary());
                    continue;
                }
                out.push_back({id, *cfg.config, *rec});
            }
        } else {
            problem = QString::fromStdString(h.error());
        }
        QMetaObject::invokeMethod(qApp, [self, out, problem, done] {
            if (!self) return;
            if (!problem.isEmpty()) self->statusBar()->showMessage(problem, 8000);
            done(out);
        }, Qt::QueuedConnection);
    }).detach();
}

void MainWindow::showStored(const Stored& s) {
    engine::RunRecord shown = s.record;
    shown.id = 0; // not a live run of this session
    run_view_->showRecord(s.config, shown);
    timeline_->prepare(s.config);
    timeline_->showRecord(s.record);
    compare_answers_->setEnabled(true);
}

void MainWindow::replayRun(qint64 id, double speed) {
    if (isRunning()) {
        statusBar()->showMessage(tr("A run is going on; replay when it ends"), 5000);
        return;
    }
    loadRuns({id}, [this, speed](const std::vector<Stored>& runs) {
        if (runs.empty() || isRunning()) return;
        const auto& s = runs.front();
        replay_->stop();
        scene_->clearRunStates();
        run_view_->prepare(s.config);
        timeline_->prepare(s.config);
        engine::RunRecord shown = s.record;
        shown.id = 0; // not a live run of this session
        replay_->start(shown, speed);
        statusBar()->showMessage(tr("Replaying run %1 at %2× (nothing is called or paid)").arg(s.id).arg(speed), 5000);
    });
}

void MainWindow::rerun(qint64 id) {
    loadRuns({id}, [this](const std::vector<Stored>& runs) {
        if (runs.empty()) return;
        const auto& s = runs.front();
        if (startRunWith(s.config, s.record.input, s.id))
            statusBar()->showMessage(tr("Running run %1 again (its configuration as it was then)").arg(s.id), 5000);
    });
}

void MainWindow::compareRuns(qint64 a, qint64 b) {
    loadRuns({a, b}, [this](const std::vector<Stored>& runs) {
        if (runs.size() != 2) return;
        auto* d = new RunsCompareDialog(tr("run %1").arg(runs[0].id), runs[0].record, tr("run %1").arg(runs[1].id),
                                        runs[1].record, this);
        d->setAttribute(Qt::WA_DeleteOnClose);
        last_dialog_ = d;
        d->show();
    });
}

void MainWindow::compareAnswers() {
    if (!last_record_) return;
    auto* d = new AnswersDiffDialog(*last_record_, this);
    d->setAttribute(Qt::WA_DeleteOnClose);
    last_dialog_ = d;
    d->show();
}

void MainWindow::checkProviders() {
    // One check per distinct set of providers (name, URL, TLS settings, whether a key is there).
    QString sig;
    for (const auto& [name, p] : doc_->config().providers)
        sig += QString::fromStdString(name + "|" + p.base_url + "|" + p.ca_file + "|") + QString::number(p.tls_verify) +
               QString::number(int(p.type)) + QString::number(!keys_->keyFor(p).empty()) + ";";
    if (sig == providers_signature_) return;
    providers_signature_ = sig;
    const int gen = ++provider_check_generation_;
    struct Item {
        config::Provider p;
        std::string key;
    };
    std::vector<Item> items;
    QStringList parts;
    for (const auto& [name, p] : doc_->config().providers) {
        if (p.type == config::ProviderType::Demo) continue;
        items.push_back({p, keys_->keyFor(p)});
        parts << tr("%1 …").arg(QString::fromStdString(name));
    }
    const bool demo = std::any_of(doc_->config().providers.begin(), doc_->config().providers.end(),
                                  [](const auto& kv) { return kv.second.type == config::ProviderType::Demo; });
    const QString demo_part = demo ? tr("demo ✓ (offline)") : QString();
    providers_status_->setText(tr("Providers: %1").arg((demo ? QStringList{demo_part} + parts : parts).join(" · ")));
    if (items.empty()) return;
    QPointer<MainWindow> self(this);
    // Off the GUI thread; short timeouts, so a dead host is reported within seconds.
    std::thread([self, gen, items, demo_part] {
        QStringList out;
        QStringList details;
        for (auto it : items) {
            it.p.connect_timeout_ms = std::min<long>(it.p.connect_timeout_ms, 4000);
            it.p.first_token_timeout_ms = std::min<long>(it.p.first_token_timeout_ms, 6000);
            const QString name = QString::fromStdString(it.p.name);
            if (it.key.empty() && !it.p.api_key_env.empty()) {
                out << QObject::tr("%1 ✗ no key").arg(name);
                details << QObject::tr("%1: no key in the keychain and %2 is not set").arg(name, QString::fromStdString(it.p.api_key_env));
                continue;
            }
            auto r = providers::list_models(net::Transport::shared(), it.p, it.key);
            out << (r ? QObject::tr("%1 ✓").arg(name) : QObject::tr("%1 ✗").arg(name));
            details << (r ? QObject::tr("%1: reachable, %2 models").arg(name).arg(r->size()) : QString::fromStdString(r.error()));
        }
        QMetaObject::invokeMethod(qApp, [self, gen, out, details, demo_part] {
            if (!self || gen != self->provider_check_generation_) return;
            self->providers_status_->setText(QObject::tr("Providers: %1").arg((demo_part.isEmpty() ? out : QStringList{demo_part} + out).join(" · ")));
            self->providers_status_->setToolTip(details.join("\n"));
        }, Qt::QueuedConnection);
    }).detach();
}

} // namespace moa::ui
