// SPDX-License-Identifier: MIT
// The window tells the truth (issue 13): a stored run is shown with its own graph; a run that
// dropped an agent says so everywhere; nothing stale stays on screen; a first start runs the
// demo with Ctrl+Enter; the window never resizes itself and nothing overlaps at 1024×700.
// Real HTTP to local test servers, real SQLite, real widgets (offscreen).
#include <QAction>
#include <QDockWidget>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMenuBar>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSettings>
#include <QSplitter>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QtTest>

#include <fstream>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/plural.h"
#include "graph/graph_scene.h"
#include "main_window.h"
#include "model/config_document.h"
#include "model/configs_panel.h"
#include "model/prompt_panel.h"
#include "run/diff_view.h"
#include "run/replay_player.h"
#include "run/run_presenter.h"
#include "run/run_view.h"
#include "run/timeline_view.h"
#include "run_helpers.h"
#include "test_server.h"

using namespace moa;
using namespace testing_support;

namespace {

// A port on 127.0.0.1 that nothing listens on (bound, then released).
int dead_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    int port = 9; // discard: nothing listens there on a test machine
    if (fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0) ::close(fd);
    return port;
}

std::unique_ptr<store::HistoryRecorder> history_in(const QTemporaryDir& dir) {
    auto h = store::History::open(dir.filePath("history.sqlite").toStdString());
    return h.ok() ? std::make_unique<store::HistoryRecorder>(std::move(*h)) : nullptr;
}

QString write(const QTemporaryDir& dir, const QString& name, const nlohmann::json& j) {
    const QString path = dir.filePath(name);
    std::ofstream(path.toStdString()) << j.dump(2);
    return path;
}

} // namespace

class TestWindowTruth : public QObject {
    Q_OBJECT
private slots:
    void init();
    void reopenAfterAnEditShowsTheRunsOwnGraph();
    void aDroppedAgentIsSaidEverywhere();
    void reopenedMixedRunSaysItsRealAgentFailed();
    void estimateSaysUnknownWhenNothingIsPriced();
    void nothingStaleStaysOnScreen();
    void firstStartCtrlEnterRunsTheDemo();
    void theWindowNeverResizesItselfAndNothingOverlaps();
    void viewMenuReopensEveryDockAndHelpSaysWhereDataLives();
    void aStoredRunsBannerDescribesTheRun();
    void providerWarningSaysWhatIsKnownAndRunAnywayIsRemembered();
    void countsSayOneAndManyRight();
};

void TestWindowTruth::init() {
    QStandardPaths::setTestModeEnabled(true);
    QSettings().clear(); // a fresh profile for every case
}

void TestWindowTruth::reopenAfterAnEditShowsTheRunsOwnGraph() {
    QTemporaryDir dir;
    TestServer server;
    QVERIFY(server.ok());
    const std::string n = nonce();
    auto j = config_json(server.base_url(), {{"ok?chunks=4&delay_ms=10&tag=OLD1-" + n, "ok?chunks=4&delay_ms=10&tag=OLD2-" + n},
                                             {"ok?chunks=4&delay_ms=10&tag=OLDA-" + n}});
    j["name"] = "As it was";
    ui::MainWindow w(history_in(dir));
    w.show();
    QVERIFY(w.openFile(write(dir, "g.moa.json", j)));
    w.promptEditor()->setPlainText("Remember me");
    QSignalSpy finished(&w, &ui::MainWindow::runFinished);
    QVERIFY(w.startRun());
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 20000);
    auto* list = w.findChild<QListWidget*>();
    QTRY_VERIFY_WITH_TIMEOUT(list->count() == 1 && list->item(0)->data(Qt::UserRole).isValid(), 5000);
    const qint64 id = list->item(0)->data(Qt::UserRole).toLongLong();

    // Edit the graph: a third proposer, the first one removed, another aggregator model.
    auto* doc = w.document();
    config::Agent extra;
    extra.provider = "local";
    extra.model = "NEW-EXTRA-" + n;
    doc->addAgent(0, extra);
    doc->addAgent(0, extra);
    doc->removeAgent(0, 0);
    auto agg = doc->config().layers[1].agents[0];
    agg.model = "NEW-AGG-" + n;
    doc->setAgent(1, 0, agg);
    QCOMPARE(doc->config().layers[0].agents.size(), std::size_t(3));
    // The panes still show the old run: marked as from an earlier configuration.
    QVERIFY(w.runView()->note().contains("earlier configuration"));

    // Reopen the run: its own graph, read-only, with its own names everywhere.
    w.openRun(id);
    QTRY_VERIFY_WITH_TIMEOUT(w.presenter()->showingRecorded(), 5000);
    auto* bar = w.findChild<QFrame*>("recorded_bar");
    QVERIFY(bar && bar->isVisible());
    QVERIFY(w.findChild<QLabel*>("recorded_text")->text().contains(QStringLiteral("Run #%1 as recorded").arg(id)));
    // The title names the run shown, not the edited document (review 8: "… — unsaved*").
    QVERIFY2(w.windowTitle().startsWith(QStringLiteral("Run #%1 as recorded — As it was").arg(id)) && !w.isWindowModified() &&
                 !w.windowTitle().contains("g.moa.json"),
             qPrintable(w.windowTitle()));
    auto* view = w.findChild<ui::GraphView*>();
    QCOMPARE(view->scene(), static_cast<QGraphicsScene*>(w.presenter()->recordedScene()));
    auto* rs = w.presenter()->recordedScene();
    QVERIFY(rs->node(0, 0) && rs->node(0, 1) && !rs->node(0, 2) && rs->node(1, 0));
    // Read-only: a click selects (to inspect), nothing can be dragged (it was a view that took no
    // clicks at all, so nothing could be inspected from the graph: review 10).
    QVERIFY(rs->readOnly());
    for (auto* node : {rs->node(0, 0), rs->node(0, 1), rs->node(1, 0)}) QVERIFY(!(node->flags() & QGraphicsItem::ItemIsMovable));
    QVERIFY(w.graphScene()->node(0, 2)); // the document keeps its three proposers
    QCOMPARE(w.runView()->config().layers[0].agents[0].model, "ok?chunks=4&delay_ms=10&tag=OLD1-" + n);
    QVERIFY(!w.runView()->pane(0, 2));
    QVERIFY(w.runView()->pane(0, 0)->text().startsWith(QString::fromStdString("OLD1-" + n)));
    QVERIFY(w.runView()->note().isEmpty());
    // The timeline and the Sent… window name the run's agents, not the document's.
    QCOMPARE(w.timeline()->bars().size(), std::size_t(3));
    QVERIFY(w.timeline()->bars().at({1, 0}).label.contains(QString::fromStdString("OLDA-" + n)));
    w.showMessages(1, 0);
    QVERIFY(w.presenter()->messagesTitle().contains(QString::fromStdString("OLDA-" + n)));
    QVERIFY(!w.presenter()->messagesTitle().contains("NEW-AGG"));
    // Canvas edits are off while a recorded graph is shown.
    for (auto* a : w.findChildren<QAction*>())
        if (a->text() == "Add &agent") QVERIFY(!a->isEnabled());

    // Replay lights the run's own graph.
    QSignalSpy replayed(w.replayPlayer(), &ui::ReplayPlayer::finished);
    w.replayRun(id, 20.0);
    QTRY_COMPARE_WITH_TIMEOUT(replayed.count(), 1, 10000);
    QCOMPARE(view->scene(), static_cast<QGraphicsScene*>(rs));
    QCOMPARE(w.presenter()->shownScene(), rs);
    QVERIFY(w.runView()->pane(0, 1)->text().startsWith(QString::fromStdString("OLD2-" + n)));

    // Back to my document: its graph, its panes, not run yet.
    w.findChild<QPushButton*>("back_to_document")->click();
    QVERIFY(!w.presenter()->showingRecorded());
    QCOMPARE(view->scene(), static_cast<QGraphicsScene*>(w.graphScene()));
    QVERIFY(w.runView()->pane(0, 2));
    QVERIFY(w.runView()->pane(0, 0)->stateText().contains("not run yet"));
    QVERIFY2(w.windowTitle().startsWith("As it was — ") && w.windowTitle().contains("g.moa.json") && w.isWindowModified(),
             qPrintable(w.windowTitle()));

    // Edit a copy: the run's configuration becomes an unsaved document.
    w.openRun(id);
    QTRY_VERIFY_WITH_TIMEOUT(w.presenter()->showingRecorded(), 5000);
    w.document()->undoStack()->setClean(); // the edits above need no saving here
    w.findChild<QPushButton*>("edit_copy")->click();
    QTRY_VERIFY_WITH_TIMEOUT(!w.presenter()->showingRecorded(), 5000);
    QCOMPARE(w.document()->config().layers[0].agents.size(), std::size_t(2));
    QCOMPARE(w.document()->config().name, std::string("As it was"));
    QVERIFY(w.document()->path().isEmpty());
    QVERIFY(w.runView()->finalText().startsWith(QString::fromStdString("OLDA-" + n)));
}

void TestWindowTruth::aStoredRunsBannerDescribesTheRun() {
    // The banner describes what is shown: a stored run reopened from the history is described
    // from its own configuration snapshot, not from the open document (it said "You are on the
    // offline demo provider … Try it" over a run that called a real server, and nothing over a
    // demo run once another document was open).
    QTemporaryDir dir;
    TestServer server;
    QVERIFY(server.ok());
    const nlohmann::json demo = {
        {"schema", "moa-workbench/config@1"},
        {"name", "Demo run"},
        {"providers", {{"demo", {{"type", "demo"}, {"tokens_per_second", 5000}, {"first_token_ms", 0}}}}},
        {"layers", {{{"agents", {{{"provider", "demo"}, {"model", "demo-proposer-a"}}, {{"provider", "demo"}, {"model", "demo-proposer-b"}}}}},
                    {{"agents", {{{"provider", "demo"}, {"model", "demo-aggregator"}}}}}}}};
    auto real = config_json(server.base_url(), {{"ok?chunks=2&delay_ms=5"}, {"ok?chunks=2&delay_ms=5"}});
    real["name"] = "Real run";
    const QString demo_file = write(dir, "demo.moa.json", demo), real_file = write(dir, "real.moa.json", real);
    ui::MainWindow w(history_in(dir));
    w.show();
    auto* banner = w.findChild<QFrame*>("demo_banner");
    auto* text = banner->findChild<QLabel*>();
    auto* try_it = w.findChild<QPushButton*>("try_it");
    auto* list = w.findChild<QListWidget*>();
    QSignalSpy finished(&w, &ui::MainWindow::runFinished);
    auto run = [&](const QString& file) -> qint64 {
        if (!w.openFile(file)) return 0;
        w.promptEditor()->setPlainText("Which run is this?");
        const int before = list->count();
        if (!w.startRun()) return 0;
        if (!QTest::qWaitFor([&] { return finished.count() > 0 && !w.isRunning(); }, 20000)) return 0;
        finished.clear();
        if (!QTest::qWaitFor([&] { return list->count() == before + 1 && list->item(0)->data(Qt::UserRole).isValid(); }, 5000)) return 0;
        return list->item(0)->data(Qt::UserRole).toLongLong(); // the newest first
    };
    const qint64 demo_id = run(demo_file);
    QVERIFY(demo_id);
    QVERIFY(text->text().contains("You are on the <b>offline demo provider</b>"));
    const qint64 real_id = run(real_file);
    QVERIFY(real_id);
    QVERIFY(banner->isHidden()); // the document calls a real server

    // The demo run reopened beside the real document: the banner says the run was on the demo.
    w.openRun(demo_id);
    QTRY_VERIFY_WITH_TIMEOUT(w.presenter()->showingRecorded() && w.presenter()->recordedRun() == demo_id, 5000);
    QVERIFY(banner->isVisible());
    QVERIFY2(text->text().contains(QStringLiteral("Run #%1 ran on the <b>offline demo provider</b>").arg(demo_id)), qPrintable(text->text()));
    QVERIFY(text->text().contains("nothing was called or paid"));
    QVERIFY(!try_it->isVisible()); // Try it would run the document, not this run
    w.findChild<QPushButton*>("back_to_document")->click();
    QVERIFY(banner->isHidden());

    // The real run reopened beside the demo document: no demo banner over it.
    QVERIFY(w.openFile(demo_file));
    QVERIFY(banner->isVisible() && try_it->isVisible());
    w.openRun(real_id);
    QTRY_VERIFY_WITH_TIMEOUT(w.presenter()->showingRecorded() && w.presenter()->recordedRun() == real_id, 5000);
    QVERIFY2(banner->isHidden(), qPrintable(text->text()));
    w.findChild<QPushButton*>("back_to_document")->click();
    QVERIFY(banner->isVisible() && try_it->isVisible());
    QVERIFY(text->text().contains("You are on the <b>offline demo provider</b>"));
}

void TestWindowTruth::providerWarningSaysWhatIsKnownAndRunAnywayIsRemembered() {
    // A provider that merely has no key was called unreachable ("could not reach", "probably
    // fail"), and the warning blocked every run again. Now: what is known, exactly, and Run
    // anyway is remembered until the configuration or its providers change.
    QTemporaryDir dir;
    TestServer server;
    QVERIFY(server.ok());
    const std::string n = nonce();
    const std::string env = "MOA_TEST_KEY_NEVER_SET";
    qunsetenv(env.c_str());
    auto j = config_json(server.base_url(), {{"ok?tag=LIVE-" + n, "keyless-" + n, "gone-" + n}, {"ok?tag=AGG-" + n}});
    j["layers"][0]["agents"][1]["provider"] = "keyless";
    j["providers"]["keyless"] = {{"base_url", server.base_url()}, {"api_key_env", env}, {"max_retries", 0}};
    j["layers"][0]["agents"][2]["provider"] = "dead";
    const int port = dead_port();
    j["providers"]["dead"] = {{"base_url", "http://127.0.0.1:" + std::to_string(port) + "/v1"}, {"max_retries", 0}, {"connect_timeout_ms", 2000}};
    ui::MainWindow w(history_in(dir));
    w.show();
    QVERIFY(w.openFile(write(dir, "k.moa.json", j)));
    QTRY_VERIFY_WITH_TIMEOUT(w.providersStatus()->text().contains("dead ✗") && w.providersStatus()->text().contains("keyless ✗ no key"), 20000);
    w.promptEditor()->setPlainText("Who has a key?");
    auto* warning = w.findChild<QLabel*>("run_warning");
    QVERIFY(!w.startRun());
    QVERIFY(warning->isVisible());
    const QString said = warning->text();
    QVERIFY2(said.contains(QString::fromStdString("no API key set for provider <b>keyless</b> (env " + env + " or keychain)")), qPrintable(said));
    QVERIFY2(said.contains(QStringLiteral("<b>dead</b> did not answer at 127.0.0.1:%1 ").arg(port)) && said.contains(" ago ("), qPrintable(said));
    QVERIFY2(!said.contains("could not reach") && !said.contains("probably"), qPrintable(said));
    QVERIFY(!said.contains("(s)"));
    // How many agents, and what on_agent_failure ("drop" here) makes of them.
    QVERIFY2(said.contains("The 2 agents on these providers will fail and be dropped"), qPrintable(said));

    // Run anyway: runs, and the next Run does not ask again.
    QSignalSpy finished(&w, &ui::MainWindow::runFinished);
    auto* anyway = w.findChild<QPushButton*>("run_anyway");
    QVERIFY(anyway && anyway->isVisible());
    anyway->click();
    QVERIFY(w.isRunning());
    QVERIFY(warning->isHidden());
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 30000);
    QVERIFY(w.startRun());
    QVERIFY(warning->isHidden());
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 2, 30000);

    // The configuration changes: asked again.
    w.document()->edit("Rename", [](config::Config& c) { c.name = "Renamed"; });
    QVERIFY(!w.startRun());
    QVERIFY(warning->isVisible());

    // One agent on one provider, and a policy that fails the run: said so, in the singular
    // (it said "The agents on this provider will fail and be dropped" whatever the policy).
    w.document()->edit("Abort on failure", [](config::Config& c) {
        c.on_agent_failure = config::FailurePolicy::Abort;
        c.layers[0].agents.erase(c.layers[0].agents.begin() + 1); // the keyless one
    });
    QVERIFY(!w.startRun());
    QVERIFY(warning->isVisible());
    const QString one = warning->text();
    QVERIFY2(one.contains("The agent on this provider will fail, and the run with it") && !one.contains("dropped"), qPrintable(one));
}

void TestWindowTruth::countsSayOneAndManyRight() {
    // "1 provider(s)", "The other 1 call", "1 models": one helper says the noun in the right number.
    QCOMPARE(ui::count_text(1, "provider", "providers"), QString("1 provider"));
    QCOMPARE(ui::count_text(0, "call", "calls"), QString("0 calls"));
    QCOMPARE(ui::count_text(3, "agent", "agents"), QString("3 agents"));
    QCOMPARE(ui::plural(1, "this provider", "these providers"), QString("this provider"));
    // On screen: a configuration with one real agent beside two demo agents.
    QTemporaryDir dir;
    ui::MainWindow w(history_in(dir));
    w.document()->edit("Mixed", [](config::Config& c) {
        config::Provider real;
        real.name = "real";
        real.base_url = "http://127.0.0.1:9/v1";
        c.providers["real"] = real;
        config::Provider demo;
        demo.name = "demo";
        demo.type = config::ProviderType::Demo;
        c.providers["demo"] = demo;
        c.layers.resize(2);
        c.layers[0].agents.resize(2);
        c.layers[1].agents.resize(1);
        for (auto* a : {&c.layers[0].agents[0], &c.layers[0].agents[1]}) a->provider = "demo", a->model = "demo-proposer-a";
        c.layers[1].agents[0].provider = "real";
        c.layers[1].agents[0].model = "m";
    });
    auto* text = w.findChild<QFrame*>("demo_banner")->findChild<QLabel*>();
    QVERIFY2(text->text().contains("2 of 3 agents</b>") && text->text().contains("The other agent calls its real provider."),
             qPrintable(text->text()));
    QVERIFY(!text->text().contains("other 1"));
}

void TestWindowTruth::aDroppedAgentIsSaidEverywhere() {
    QTemporaryDir dir;
    TestServer server;
    QVERIFY(server.ok());
    const std::string n = nonce();
    auto j = config_json(server.base_url(), {{"ok?tag=LIVE-" + n, "gone-" + n}, {"ok?tag=AGG-" + n}});
    j["layers"][0]["agents"][1]["provider"] = "dead";
    j["providers"]["dead"] = {{"base_url", "http://127.0.0.1:" + std::to_string(dead_port()) + "/v1"},
                              {"max_retries", 0},
                              {"connect_timeout_ms", 2000}};
    ui::MainWindow w(history_in(dir));
    w.show();
    QVERIFY(w.openFile(write(dir, "d.moa.json", j)));
    // The status bar finds the dead endpoint; Run then warns first, and runs when pressed again.
    QTRY_VERIFY_WITH_TIMEOUT(w.providersStatus()->text().contains("dead ✗"), 20000);
    w.promptEditor()->setPlainText("Who is there?");
    auto* warning = w.findChild<QLabel*>("run_warning");
    QVERIFY(!w.startRun());
    QVERIFY(warning->isVisible());
    QVERIFY2(warning->text().contains("dead") && warning->text().contains("Run again"), qPrintable(warning->text()));
    QSignalSpy finished(&w, &ui::MainWindow::runFinished);
    QVERIFY(w.startRun());
    QVERIFY(warning->isHidden());
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 30000);

    const QString said = QString::fromUtf8("done — 1 of 3 dropped");
    QVERIFY2(w.statusBar()->currentMessage().contains(said), qPrintable(w.statusBar()->currentMessage()));
    QVERIFY2(w.runView()->totalsText().contains(said), qPrintable(w.runView()->totalsText()));
    // The dropped pane's body holds the whole error, not 35 characters of it.
    auto* pane = w.runView()->pane(0, 1);
    QVERIFY(pane->stateText().contains("dropped"));
    const QString error = pane->errorText();
    QVERIFY(w.presenter()->lastRecord());
    const auto& recorded = w.presenter()->lastRecord()->layers[0].agents[1];
    QCOMPARE(error, QString::fromStdString(recorded.error.value_or("")));
    QVERIFY2(error.size() > 35, qPrintable(error));
    qInfo("the dropped pane says: %s", qPrintable(error));
    auto* err_label = pane->findChild<QLabel*>("agent_error");
    QVERIFY(err_label && err_label->isVisible() && err_label->wordWrap());
    // It produced no token: $0, said as not billed (as moa run says), never "$?".
    QVERIFY2(pane->statsText().contains("$0 (not billed"), qPrintable(pane->statsText()));
    // The history panel and Compare runs use the same words.
    auto* list = w.findChild<QListWidget*>();
    QTRY_VERIFY_WITH_TIMEOUT(list->count() == 1 && list->item(0)->text().contains(said), 5000);
    const qint64 id = list->item(0)->data(Qt::UserRole).toLongLong();
    w.compareRuns(id, id);
    QTRY_VERIFY_WITH_TIMEOUT(qobject_cast<ui::RunsCompareDialog*>(w.lastDialog()) != nullptr, 5000);
    auto* cmp = qobject_cast<ui::RunsCompareDialog*>(w.lastDialog());
    bool found = false;
    for (int r = 0; r < cmp->table()->rowCount(); ++r)
        if (cmp->table()->item(r, 0)->text() == "Status") found = cmp->table()->item(r, 1)->text() == said;
    QVERIFY(found);
    cmp->close();
}

void TestWindowTruth::reopenedMixedRunSaysItsRealAgentFailed() {
    // A reopened run's banner said "The other agent called its real provider" of an agent that
    // never connected: now it says what the record has.
    QTemporaryDir dir;
    const int port = dead_port();
    const nlohmann::json j = {
        {"schema", "moa-workbench/config@1"},
        {"name", "Demo with dead proposer"},
        {"providers",
         {{"demo", {{"type", "demo"}, {"tokens_per_second", 5000}, {"first_token_ms", 0}}},
          {"dead", {{"base_url", "http://127.0.0.1:" + std::to_string(port) + "/v1"}, {"max_retries", 0}, {"connect_timeout_ms", 2000}}}}},
        {"layers", {{{"agents", {{{"provider", "demo"}, {"model", "demo-proposer-a"}}, {{"provider", "dead"}, {"model", "m"}}}}},
                    {{"agents", {{{"provider", "demo"}, {"model", "demo-aggregator"}}}}}}}};
    ui::MainWindow w(history_in(dir));
    w.show();
    QVERIFY(w.openFile(write(dir, "mixed.moa.json", j)));
    w.promptEditor()->setPlainText("Who is there?");
    QSignalSpy finished(&w, &ui::MainWindow::runFinished);
    // The status bar may have found the dead endpoint already: Run then warns first, and runs when pressed again.
    if (!w.startRun()) QVERIFY(w.startRun());
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 30000);
    auto* list = w.findChild<QListWidget*>();
    QTRY_VERIFY_WITH_TIMEOUT(list->count() == 1 && list->item(0)->data(Qt::UserRole).isValid(), 10000);
    const qint64 id = list->item(0)->data(Qt::UserRole).toLongLong();
    w.openRun(id);
    QTRY_VERIFY_WITH_TIMEOUT(w.presenter()->showingRecorded() && w.presenter()->recordedRun() == id, 10000);
    const QString said = w.findChild<QFrame*>("demo_banner")->findChild<QLabel*>()->text();
    QVERIFY2(said.contains("The other agent was to call its real provider; it failed: ") && !said.contains("called its real provider"),
             qPrintable(said));
}

void TestWindowTruth::estimateSaysUnknownWhenNothingIsPriced() {
    // It said "One run, at most: $0 (some prices unknown) · 0.0 TFLOPs (some parameter counts
    // unknown)" when no model had a price or a parameter count.
    ui::ConfigDocument doc;
    doc.edit("Two unpriced agents", [](config::Config& c) {
        config::Provider p;
        p.name = "p";
        p.base_url = "http://127.0.0.1:9/v1";
        c.providers["p"] = p;
        c.layers.resize(1);
        c.layers[0].agents.resize(2);
        c.layers[0].agents[0].provider = c.layers[0].agents[1].provider = "p";
        c.layers[0].agents[0].model = "a";
        c.layers[0].agents[1].model = "b";
    });
    accounting::Catalog none;
    ui::PromptPanel empty(&doc, none);
    empty.prompt()->setPlainText("hello");
    const QString said = empty.estimate()->fullText();
    QVERIFY2(said.contains("cost unknown (no price for any of these models)") && !said.contains("$0") && !said.contains("some"),
             qPrintable(said));
    QVERIFY2(said.contains("TFLOPs unknown"), qPrintable(said));
    // One of the two priced: the known part, and "some".
    accounting::Catalog one;
    accounting::ModelInfo m;
    m.provider = "p";
    m.model = "a";
    m.input_usd_per_mtok = m.output_usd_per_mtok = 1.0;
    m.total_params_b = m.active_params_b = 8.0;
    one.add(m);
    ui::PromptPanel some(&doc, one);
    some.prompt()->setPlainText("hello");
    const QString part = some.estimate()->fullText();
    QVERIFY2(part.contains("(some prices unknown)") && !part.contains("cost unknown"), qPrintable(part));
}

void TestWindowTruth::nothingStaleStaysOnScreen() {
    QTemporaryDir dir;
    TestServer server;
    QVERIFY(server.ok());
    const std::string n = nonce();
    auto a = config_json(server.base_url(), {{"ok?tag=A1-" + n, "ok?tag=A2-" + n}, {"ok?tag=AA-" + n}});
    auto b = config_json(server.base_url(), {{"ok?tag=B1-" + n}, {"ok?tag=BA-" + n}});
    const QString pa = write(dir, "a.moa.json", a), pb = write(dir, "b.moa.json", b);
    ui::MainWindow w(history_in(dir));
    w.show();
    QVERIFY(w.openFile(pa));
    // Before any run the panes do not say "queued".
    QVERIFY(w.runView()->pane(0, 0)->stateText().contains("not run yet"));
    QVERIFY(!w.runView()->pane(0, 0)->stateText().contains("queued"));
    // The recent files list follows at once.
    auto* configs = w.findChild<ui::ConfigsPanel*>();
    auto recent = [configs] {
        QStringList out;
        auto* top = configs->topLevelItem(1);
        for (int i = 0; i < top->childCount(); ++i) out << top->child(i)->toolTip(0);
        return out;
    };
    QCOMPARE(recent(), QStringList{pa});

    w.promptEditor()->setPlainText("Stale?");
    QSignalSpy finished(&w, &ui::MainWindow::runFinished);
    QVERIFY(w.startRun());
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 20000);
    QVERIFY(w.timeline()->bars().at({0, 1}).start >= 0);
    // After an edit the panes say they are from an earlier configuration.
    w.document()->edit("Rename", [](config::Config& c) { c.name = "edited"; });
    QVERIFY(w.runView()->note().contains("earlier configuration"));
    // Select an agent: the inspector shows it.
    w.graphScene()->selectAgent(0, 1);
    auto* model = w.findChild<QLineEdit*>("model");
    QTRY_VERIFY_WITH_TIMEOUT(model->text().contains("A2-"), 2000);

    // Another configuration: the timeline, the panes and the inspector are cleared.
    w.document()->undoStack()->setClean(); // nothing to save
    QVERIFY(w.openFile(pb));
    QCOMPARE(w.timeline()->bars().size(), std::size_t(2));
    for (const auto& [k, bar] : w.timeline()->bars()) QVERIFY(bar.start < 0 && bar.end < 0);
    QVERIFY(w.timeline()->bars().at({0, 0}).label.contains("B1-"));
    QVERIFY(w.runView()->note().isEmpty());
    QVERIFY(w.runView()->pane(0, 0)->stateText().contains("not run yet"));
    QVERIFY(w.runView()->finalText().isEmpty());
    QVERIFY(model->text().isEmpty());
    QVERIFY(!model->isEnabled() || !model->parentWidget()->isEnabled());
    QCOMPARE(recent(), (QStringList{pb, pa}));
    // Saved under a new name: first in the recent files at once.
    const QString pc = dir.filePath("c.moa.json");
    QString err;
    QVERIFY(w.document()->save(pc, &err));
    QCOMPARE(recent(), (QStringList{pc, pb, pa}));

    // The demo banner shows whenever any agent runs on the demo, even beside another provider.
    auto* banner = w.findChild<QFrame*>("demo_banner");
    QVERIFY(banner->isHidden());
    w.document()->edit("Add demo", [](config::Config& c) {
        config::Provider p;
        p.name = "demo";
        p.type = config::ProviderType::Demo;
        c.providers["demo"] = p;
        config::Agent a;
        a.provider = "demo";
        a.model = "demo-model";
        c.layers[0].agents.push_back(a);
    });
    QVERIFY(banner->isVisible());
    QVERIFY(banner->findChild<QLabel*>()->text().contains("1 of 3 agents"));
}

void TestWindowTruth::firstStartCtrlEnterRunsTheDemo() {
    QTemporaryDir dir;
    ui::MainWindow w(history_in(dir));
    w.show();
    QApplication::setActiveWindow(&w);
    QVERIFY(QTest::qWaitForWindowActive(&w));
    // Focus starts in the prompt, which holds the example; the banner offers Try it.
    QTRY_COMPARE_WITH_TIMEOUT(QApplication::focusWidget(), static_cast<QWidget*>(w.promptEditor()), 5000);
    QCOMPARE(w.promptEditor()->toPlainText(), ui::MainWindow::examplePrompt());
    auto* try_it = w.findChild<QPushButton*>("try_it");
    QVERIFY(try_it && try_it->isVisible());
    // Run is in the Run menu with its shortcut, and works wherever the focus is.
    auto* run = w.findChild<QAction*>("run_action");
    QVERIFY(run && run->shortcut() == QKeySequence(Qt::CTRL | Qt::Key_Return));
    QSignalSpy finished(&w, &ui::MainWindow::runFinished);
    QTest::keyClick(QApplication::focusWidget(), Qt::Key_Return, Qt::ControlModifier);
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 20000);
    QVERIFY(!w.runView()->finalText().isEmpty());
    // From the graph too (focus elsewhere), and Try it runs again.
    w.findChild<ui::GraphView*>()->setFocus();
    QTest::keyClick(QApplication::focusWidget(), Qt::Key_Return, Qt::ControlModifier);
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 2, 20000);
    w.promptEditor()->clear();
    try_it->click();
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 3, 20000);
    QCOMPARE(w.promptEditor()->toPlainText(), ui::MainWindow::examplePrompt());
}

void TestWindowTruth::theWindowNeverResizesItselfAndNothingOverlaps() {
    QTemporaryDir dir;
    ui::MainWindow w(history_in(dir));
    w.resize(1024, 700);
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    if (qEnvironmentVariableIsSet("MOA_TEST_LAYOUT_DEBUG")) {
        auto dump = [](QWidget* x) { qInfo("%s %s min %dx%d", x->metaObject()->className(), qPrintable(x->objectName()), x->minimumSizeHint().width(), x->minimumSizeHint().height()); };
        dump(w.centralWidget());
        for (auto* c : w.centralWidget()->findChildren<QWidget*>(QString(), Qt::FindDirectChildrenOnly)) dump(c);
        for (auto* c : w.findChild<QSplitter*>("centreSplitter")->findChildren<QWidget*>(QString(), Qt::FindDirectChildrenOnly)) dump(c);
        for (auto* d : w.findChildren<QDockWidget*>()) dump(d);
    }
    QTRY_COMPARE_WITH_TIMEOUT(w.size(), QSize(1024, 700), 3000);
    // Edits that made the estimate line (and so the window) wider: long names, many agents.
    for (int i = 0; i < 8; ++i) {
        config::Agent a;
        a.provider = "demo";
        a.model = "a-very-long-model-name-that-goes-on-and-on-" + std::to_string(i) + "-instruct-turbo-preview";
        w.document()->addAgent(0, a);
    }
    QString prompt;
    for (int i = 0; i < 200; ++i) prompt += "a long prompt ";
    w.promptEditor()->setPlainText(prompt);
    QApplication::processEvents();
    QTest::qWait(50);
    QCOMPARE(w.size(), QSize(1024, 700));
    QVERIFY2(w.minimumSizeHint().width() <= 1024 && w.minimumSizeHint().height() <= 700,
             qPrintable(QStringLiteral("%1×%2").arg(w.minimumSizeHint().width()).arg(w.minimumSizeHint().height())));
    auto* estimate = w.promptPanel()->estimate();
    QVERIFY(estimate->width() <= w.width());
    // Nothing overlaps: the docks and the centre each have their own rectangle.
    QList<QWidget*> parts{w.centralWidget()};
    for (auto* d : w.findChildren<QDockWidget*>())
        if (d->isVisible() && !d->visibleRegion().isEmpty()) parts << d;
    for (int i = 0; i < parts.size(); ++i)
        for (int k = i + 1; k < parts.size(); ++k)
            QVERIFY2(!parts[i]->geometry().intersects(parts[k]->geometry()),
                     qPrintable(parts[i]->objectName() + " overlaps " + parts[k]->objectName()));
    // And every dock's content fits in it (none drawn past its dock).
    for (auto* d : w.findChildren<QDockWidget*>())
        if (d->isVisible() && !d->visibleRegion().isEmpty())
            QVERIFY2(d->widget()->minimumSizeHint().height() <= d->height(), qPrintable(d->objectName()));
    // The running layout gives the run view the room; the window keeps its size.
    QSignalSpy finished(&w, &ui::MainWindow::runFinished);
    QVERIFY(w.startRun());
    QVERIFY(w.runningLayout());
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 30000);
    QVERIFY(w.runView()->height() > w.findChild<ui::GraphView*>()->height());
    QCOMPARE(w.size(), QSize(1024, 700));
    if (qEnvironmentVariableIsSet("MOA_TEST_KEEP_SCREENSHOT")) w.grab().save(qEnvironmentVariable("MOA_TEST_KEEP_SCREENSHOT"));
}

void TestWindowTruth::viewMenuReopensEveryDockAndHelpSaysWhereDataLives() {
    QTemporaryDir dir;
    ui::MainWindow w(history_in(dir));
    w.show();
    QMenu* view = nullptr;
    QMenu* help = nullptr;
    for (auto* a : w.menuBar()->actions()) {
        if (a->text() == "&View") view = a->menu();
        if (a->text() == "&Help") help = a->menu();
    }
    QVERIFY(view && help);
    const auto docks = w.findChildren<QDockWidget*>();
    QVERIFY(docks.size() >= 7);
    for (auto* d : docks) {
        d->close();
        QVERIFY(!d->isVisible());
        QVERIFY2(view->actions().contains(d->toggleViewAction()), qPrintable(d->objectName()));
        d->toggleViewAction()->trigger();
        QVERIFY2(d->isVisible(), qPrintable(d->objectName()));
    }
    for (auto* a : help->actions())
        if (a->text().contains("data")) a->trigger();
    auto* box = qobject_cast<QMessageBox*>(w.lastDialog());
    QVERIFY(box);
    QVERIFY(box->text().contains(dir.filePath("history.sqlite").toHtmlEscaped()));
    box->close();
    bool shortcuts = false;
    for (auto* a : help->actions()) shortcuts = shortcuts || a->text().contains("shortcuts");
    QVERIFY(shortcuts);
}

QTEST_MAIN(TestWindowTruth)
#include "tst_window_truth.moc"
