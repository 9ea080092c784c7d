// SPDX-License-Identifier: MIT
// The window's state stays true (issue 13, review 9): a recovery file lives until the user
// chooses; a stored run shown read-only is never edited through the inspector; closing mid-run
// cancels the run first; the estimate, the status bar, the history list, the outline and the
// final header say what is true now. Real HTTP to local test servers, real SQLite, real
// widgets (offscreen).
#include <QDockWidget>
#include <QElapsedTimer>
#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSettings>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTemporaryDir>
#include <QTreeWidget>
#include <QtTest>

#include <fstream>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "accounting/catalog.h"
#include "graph/graph_scene.h"
#include "history/history_panel.h"
#include "main_window.h"
#include "model/autosave.h"
#include "model/config_document.h"
#include "model/prompt_panel.h"
#include "run/run_presenter.h"
#include "run/run_view.h"
#include "run_helpers.h"
#include "store/history.h"
#include "test_server.h"

using namespace moa;
using namespace testing_support;

namespace {

std::unique_ptr<store::HistoryRecorder> history_in(const QTemporaryDir& dir) {
    auto h = store::History::open(dir.filePath("history.sqlite").toStdString());
    return h.ok() ? std::make_unique<store::HistoryRecorder>(std::move(*h)) : nullptr;
}

QString write(const QTemporaryDir& dir, const QString& name, const nlohmann::json& j) {
    const QString path = dir.filePath(name);
    std::ofstream(path.toStdString()) << j.dump(2);
    return path;
}

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

std::string dump(const config::Config& c) { return config::to_json(c).dump(); }

// Runs the window's document on `prompt` to the end (Run again past a provider warning) and
// returns the new run's id in the history list (0 on failure).
qint64 run_once(ui::MainWindow& w, const QString& prompt) {
    auto* list = w.historyPanel()->list();
    const int before = list->count();
    QSignalSpy finished(&w, &ui::MainWindow::runFinished);
    w.promptEditor()->setPlainText(prompt);
    if (!w.startRun() && !w.startRun()) return 0;
    if (!finished.wait(60000) && finished.isEmpty()) return 0;
    if (!QTest::qWaitFor([&] { return list->count() == before + 1 && list->item(0)->data(Qt::UserRole).isValid(); }, 10000)) return 0;
    return list->item(0)->data(Qt::UserRole).toLongLong();
}

} // namespace

class TestWindowState : public QObject {
    Q_OBJECT
private slots:
    void init();
    void cleanup();
    void recoveryFileLivesUntilTheUserChooses();
    void inspectorNeverEditsTheHiddenDocument();
    void closingMidRunCancelsTheRunFirst();
    void estimateNamesTheUnpricedModels();
    void runStartClearsTheStaleWarning();
    void historyPicksUpRunsMadeElsewhere();
    void outlineFollowsTheGraphsSelection();
    void finalHeaderNamesItsTflopsAndPanesNameDroppedSources();

private:
    QTemporaryDir data_; // the data folder (history, autosave) of every case
};

void TestWindowState::init() {
    QStandardPaths::setTestModeEnabled(true);
    QSettings().clear(); // a fresh profile for every case
    // The autosave file sits next to the history: a folder of this test's own, not the one
    // other suites (run in parallel) use.
    qputenv("MOA_HISTORY_DB", data_.filePath("history.sqlite").toUtf8());
}

void TestWindowState::cleanup() { QFile::remove(ui::Autosave::defaultFile()); }

void TestWindowState::recoveryFileLivesUntilTheUserChooses() {
    QTemporaryDir dir;
    const QString file = ui::Autosave::defaultFile();
    QVERIFY(file.startsWith(data_.path()));
    auto write_recovery = [&] {
        ui::ConfigDocument doc; // the last session's unsaved edit, left behind by a crash
        doc.reset(make_config(config_json("http://127.0.0.1:9/v1", {{"a", "b"}, {"c"}})), {});
        doc.edit("Rename", [](config::Config& c) { c.name = "Unsaved work"; });
        return ui::Autosave(&doc, file, 60000).writeNow();
    };
    QVERIFY(write_recovery());
    {
        ui::MainWindow w(history_in(dir));
        w.show();
        auto* bar = w.findChild<QWidget*>("recovery_bar");
        QVERIFY(bar && bar->isVisible());
        // The demo opened at start is a clean document: that removed the file the bar offers.
        QVERIFY2(QFile::exists(file), "the recovery file is gone while the bar offers it");
        // Edits of this session while the bar shows do not overwrite the last session's work.
        w.document()->edit("Rename", [](config::Config& c) { c.name = "This session"; });
        w.document()->undoStack()->setClean(); // and back to clean: still kept
        QTest::qWait(50);
        QVERIFY(QFile::exists(file));
        w.close(); // quit without choosing
    }
    QVERIFY2(QFile::exists(file), "quitting without Recover or Discard lost the recovery");
    {
        // Offered again at the next start; Discard removes it.
        ui::MainWindow w(history_in(dir));
        w.show();
        auto* bar = w.findChild<QWidget*>("recovery_bar");
        QVERIFY(bar->isVisible());
        QPushButton* discard = nullptr;
        for (auto* b : bar->findChildren<QPushButton*>())
            if (b->text() == "Discard") discard = b;
        QVERIFY(discard);
        discard->click();
        QVERIFY(!bar->isVisible());
        QVERIFY(!QFile::exists(file));
        w.close();
    }
    QVERIFY(write_recovery());
    {
        // Recover: the document has the changes, unsaved, and the file now keeps them.
        ui::MainWindow w(history_in(dir));
        w.show();
        auto* bar = w.findChild<QWidget*>("recovery_bar");
        QPushButton* recover = nullptr;
        for (auto* b : bar->findChildren<QPushButton*>())
            if (b->text() == "Recover") recover = b;
        QVERIFY(recover);
        recover->click();
        QCOMPARE(w.document()->config().name, std::string("Unsaved work"));
        QVERIFY(w.document()->isDirty());
        QVERIFY(!bar->isVisible());
        QVERIFY(QFile::exists(file));
        w.document()->undoStack()->setClean(); // so that closing asks nothing
        w.close();
    }
    QVERIFY(!QFile::exists(file)); // a clean exit
}

void TestWindowState::inspectorNeverEditsTheHiddenDocument() {
    // Review 9 (23/24-*.png): with "Run #1 as recorded — read-only" on screen, the inspector
    // still showed the hidden document's agent, and its fields edited that document.
    QTemporaryDir dir;
    TestServer server;
    QVERIFY(server.ok());
    const std::string n = nonce();
    auto j = config_json(server.base_url(), {{"ok?chunks=2&delay_ms=5&tag=P1-" + n, "ok?chunks=2&delay_ms=5&tag=P2-" + n},
                                             {"ok?chunks=2&delay_ms=5&tag=AGG-" + n}});
    j["name"] = "Recorded";
    ui::MainWindow w(history_in(dir));
    w.show();
    QVERIFY(w.openFile(write(dir, "i.moa.json", j)));
    const qint64 id = run_once(w, "Inspect me");
    QVERIFY(id);
    // After the run: an edit, and the document's second proposer selected.
    w.document()->edit("Rename", [](config::Config& c) { c.name = "Edited since"; });
    w.graphScene()->selectAgent(0, 1);
    auto* model = w.findChild<QLineEdit*>("model");
    QVERIFY(model);
    QCOMPARE(model->text(), QString::fromStdString("ok?chunks=2&delay_ms=5&tag=P2-" + n));
    QVERIFY(model->isEnabled());
    const std::string before = dump(w.document()->config());

    w.openRun(id);
    QTRY_VERIFY_WITH_TIMEOUT(w.presenter()->showingRecorded(), 10000);
    auto* note = w.findChild<QFrame*>("inspector_recorded");
    QVERIFY(note);
    QVERIFY2(!note->isHidden() && note->findChild<QLabel*>()->text().contains(QStringLiteral("Run #%1 as recorded is read-only").arg(id)),
             qPrintable(note->findChild<QLabel*>()->text()));
    // Every field is off; whatever reaches them does not reach the document.
    QVERIFY(!model->isEnabled());
    QLineEdit* name = nullptr;
    QPlainTextEdit* system = nullptr;
    for (auto* e : w.findChildren<QLineEdit*>())
        if (e->accessibleName() == "Configuration name") name = e;
    for (auto* e : w.findChildren<QPlainTextEdit*>())
        if (e->accessibleName() == "Agent system prompt") system = e;
    QVERIFY(name && system);
    QCOMPARE(name->text(), QString("Recorded")); // the run's own configuration, not the document's
    QVERIFY(!name->isEnabled());
    QTest::keyClicks(model, "X");
    QTest::keyClicks(name, "Y");
    system->setPlainText("typed over a recorded run");
    QCOMPARE(dump(w.document()->config()), before);
    // An agent of the run's own graph: its values, read-only.
    w.presenter()->recordedScene()->selectAgent(1, 0);
    QCOMPARE(model->text(), QString::fromStdString("ok?chunks=2&delay_ms=5&tag=AGG-" + n));
    QVERIFY(!model->isEnabled());
    QCOMPARE(dump(w.document()->config()), before);
    // A click on a node of the run's graph selects it for the inspector (review 10: the view was
    // not interactive, so a click selected nothing); a drag moves nothing.
    auto* view = w.findChild<ui::GraphView*>();
    QVERIFY(view && view->scene() == w.presenter()->recordedScene());
    auto* first = w.presenter()->recordedScene()->node(0, 0);
    QVERIFY(first && !(first->flags() & QGraphicsItem::ItemIsMovable));
    QTRY_VERIFY_WITH_TIMEOUT(view->viewport()->rect().contains(view->mapFromScene(first->sceneBoundingRect().center())), 5000);
    QTest::mouseClick(view->viewport(), Qt::LeftButton, {}, view->mapFromScene(first->sceneBoundingRect().center()));
    QTRY_COMPARE_WITH_TIMEOUT(model->text(), QString::fromStdString("ok?chunks=2&delay_ms=5&tag=P1-" + n), 3000);
    QVERIFY(!model->isEnabled());
    const std::string recorded = dump(w.presenter()->recordedConfig());
    emit first->dropped(first, w.presenter()->recordedScene()->node(1, 0)->sceneBoundingRect().center());
    QTest::qWait(50);
    QCOMPARE(dump(w.presenter()->recordedConfig()), recorded);
    QCOMPARE(dump(w.document()->config()), before);

    // Back to my document: the document's fields, editable again.
    w.findChild<QPushButton*>("back_to_document")->click();
    QVERIFY(note->isHidden());
    QCOMPARE(name->text(), QString("Edited since"));
    QVERIFY(name->isEnabled());
    // "Edit a copy" from the inspector: the run's configuration becomes the (unsaved) document.
    w.openRun(id);
    QTRY_VERIFY_WITH_TIMEOUT(w.presenter()->showingRecorded(), 10000);
    w.document()->undoStack()->setClean(); // the rename above needs no saving here
    w.findChild<QPushButton*>("inspector_edit_copy")->click();
    QTRY_VERIFY_WITH_TIMEOUT(!w.presenter()->showingRecorded(), 5000);
    QCOMPARE(w.document()->config().name, std::string("Recorded"));
    QVERIFY(note->isHidden());
}

void TestWindowState::closingMidRunCancelsTheRunFirst() {
    // Review 9 (26/27-*.png): closing a window with unsaved changes mid-run asked about saving
    // first; the run went on behind the question and was recorded "done" once the window had
    // vanished. The run is cancelled first, then the question is asked.
    QTemporaryDir dir;
    TestServer server;
    QVERIFY(server.ok());
    const std::string n = nonce();
    // About 4 s of streaming: done before a slow answer to the question, unless cancelled.
    auto j = config_json(server.base_url(), {{"ok?chunks=80&delay_ms=50&tag=SLOW-" + n}, {"ok?chunks=2&delay_ms=5&tag=AGG-" + n}});
    ui::MainWindow w(history_in(dir));
    w.show();
    QVERIFY(w.openFile(write(dir, "slow.moa.json", j)));
    w.document()->edit("Rename", [](config::Config& c) { c.name = "Unsaved"; }); // closing asks
    QSignalSpy finished(&w, &ui::MainWindow::runFinished);
    // Answers the save question with `button` once the run has ended (or after 30 s): the user
    // who takes a while to answer.
    QStringList asked;
    bool running_when_asked = true;
    auto answer = [&](QMessageBox::StandardButton button) {
        auto* timer = new QTimer(&w);
        timer->setInterval(50);
        auto since = std::make_shared<QElapsedTimer>();
        since->start();
        connect(timer, &QTimer::timeout, &w, [&, timer, button, since] {
            auto* box = qobject_cast<QMessageBox*>(QApplication::activeModalWidget());
            if (!box || !box->isVisible()) return;
            if (w.isRunning() && since->elapsed() < 30000) return;
            running_when_asked = w.isRunning();
            asked << box->text();
            timer->stop();
            timer->deleteLater();
            box->button(button)->click();
        });
        timer->start();
    };
    auto start = [&] {
        finished.clear();
        w.promptEditor()->setPlainText("Take your time");
        if (!w.startRun()) return false;
        // Streaming: the run is in flight (and in the history) when the window is closed.
        return QTest::qWaitFor([&] { return !w.runView()->pane(0, 0)->text().isEmpty(); }, 20000) && w.isRunning();
    };

    // Cancel on the question: the window stays, and the run is already cancelled, said so.
    QVERIFY(start());
    answer(QMessageBox::Cancel);
    QVERIFY(!w.close());
    QCOMPARE(asked.size(), 1);
    QVERIFY(!running_when_asked);
    QVERIFY(w.isVisible());
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 30000);
    QVERIFY2(w.statusBar()->currentMessage().contains("cancelled"), qPrintable(w.statusBar()->currentMessage()));
    auto* list = w.historyPanel()->list();
    QTRY_VERIFY_WITH_TIMEOUT(list->count() == 1 && list->item(0)->text().contains("cancelled"), 10000);

    // Discard: the window closes, and the run ends "cancelled" in the history.
    QVERIFY(start());
    answer(QMessageBox::Discard);
    QVERIFY(w.close());
    QCOMPARE(asked.size(), 2);
    QVERIFY(!running_when_asked);
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 30000);
    auto h = store::History::open(dir.filePath("history.sqlite").toStdString());
    QVERIFY(h.ok());
    auto runs = (*h)->list("", 10);
    QVERIFY(runs.ok());
    QCOMPARE(runs->size(), std::size_t(2));
    QCOMPARE(runs->front().status, std::string("cancelled"));
}

void TestWindowState::estimateNamesTheUnpricedModels() {
    // Review 9 (12-dead-open.png): six agents on the demo ($0, priced) and one unpriced model
    // said "cost unknown (no price for any of these models)". The known part, and the model
    // without a price by name.
    ui::ConfigDocument doc;
    doc.edit("Mixed", [](config::Config& c) {
        config::Provider demo;
        demo.name = "demo";
        demo.type = config::ProviderType::Demo;
        c.providers["demo"] = demo;
        config::Provider dead;
        dead.name = "dead";
        dead.base_url = "http://127.0.0.1:9/v1";
        c.providers["dead"] = dead;
        c.layers.resize(2);
        c.layers[0].agents.resize(3);
        c.layers[1].agents.resize(1);
        for (auto& l : c.layers)
            for (auto& a : l.agents) {
                a.provider = "demo";
                a.model = "demo-proposer-a";
            }
        c.layers[0].agents[1].provider = "dead";
        c.layers[0].agents[1].model = "gone";
    });
    accounting::Catalog none;
    ui::PromptPanel panel(&doc, none);
    panel.prompt()->setPlainText("hello");
    const QString said = panel.estimate()->fullText();
    QVERIFY2(!said.contains("cost unknown") && said.contains("$0 (priced models) + no price for gone (some prices unknown)"), qPrintable(said));
    // Nothing has a parameter count here (an empty catalog): still "unknown", never "0.0 TFLOPs".
    QVERIFY2(said.contains("TFLOPs unknown"), qPrintable(said));
    // Every agent unpriced: unknown, as before.
    doc.edit("All gone", [](config::Config& c) {
        for (auto& l : c.layers)
            for (auto& a : l.agents) {
                a.provider = "dead";
                a.model = "gone";
            }
    });
    QVERIFY2(panel.estimate()->fullText().contains("cost unknown (no price for any of these models)"), qPrintable(panel.estimate()->fullText()));
}

void TestWindowState::runStartClearsTheStaleWarning() {
    // Review 9 (14-dead-running.png): "Not started: 1 provider problem (Run again runs anyway)"
    // stayed in the status bar while the run (started with Run again) streamed.
    QTemporaryDir dir;
    TestServer server;
    QVERIFY(server.ok());
    const std::string n = nonce();
    auto j = config_json(server.base_url(), {{"ok?chunks=40&delay_ms=20&tag=L-" + n, "gone"}, {"ok?chunks=2&tag=A-" + n}});
    j["layers"][0]["agents"][1]["provider"] = "dead";
    j["providers"]["dead"] = {{"base_url", "http://127.0.0.1:" + std::to_string(dead_port()) + "/v1"}, {"max_retries", 0}, {"connect_timeout_ms", 2000}};
    ui::MainWindow w(history_in(dir));
    w.show();
    QVERIFY(w.openFile(write(dir, "dead.moa.json", j)));
    QTRY_VERIFY_WITH_TIMEOUT(w.providersStatus()->text().contains("dead ✗"), 30000);
    w.promptEditor()->setPlainText("Stale?");
    QVERIFY(!w.startRun());
    QVERIFY2(w.statusBar()->currentMessage().contains("Not started"), qPrintable(w.statusBar()->currentMessage()));
    QSignalSpy finished(&w, &ui::MainWindow::runFinished);
    QVERIFY(w.startRun()); // Run again: runs anyway
    QVERIFY(w.isRunning());
    QVERIFY2(!w.statusBar()->currentMessage().contains("Not started"), qPrintable(w.statusBar()->currentMessage()));
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 60000);
}

void TestWindowState::historyPicksUpRunsMadeElsewhere() {
    // Review 9 (68 vs 77): runs made by `moa run` while the window was open appeared only after
    // a restart. The list picks them up when the window is activated, and on its own poll.
    QTemporaryDir dir;
    const std::string db = dir.filePath("history.sqlite").toStdString();
    auto add_run = [&](const std::string& name) -> qint64 {
        auto h = store::History::open(db); // another writer on the same file, as `moa run` is
        if (!h.ok()) return 0;
        auto id = (*h)->begin_run("cli", nlohmann::json::object(), engine::RunInput::from_prompt("from a terminal"), name);
        if (!id.ok()) return 0;
        engine::RunRecord end;
        end.config_name = name;
        end.status = engine::RunStatus::Done;
        if (!(*h)->finish_run(*id, end).ok()) return 0;
        return *id;
    };
    ui::MainWindow w(history_in(dir));
    auto* panel = w.historyPanel();
    panel->setPollInterval(0); // activation first, alone
    w.show();
    QVERIFY(QTest::qWaitForWindowActive(&w));
    auto* list = panel->list();
    QTest::qWait(200);
    QCOMPARE(list->count(), 0);
    const qint64 first = add_run("From the CLI");
    QVERIFY(first);
    // The user goes to another window and comes back.
    QWidget other;
    other.show();
    other.activateWindow();
    QVERIFY(QTest::qWaitForWindowActive(&other));
    w.activateWindow();
    QVERIFY(QTest::qWaitForWindowActive(&w));
    QTRY_VERIFY_WITH_TIMEOUT(list->count() == 1 && list->item(0)->data(Qt::UserRole).toLongLong() == first, 10000);
    QVERIFY(list->item(0)->text().contains("From the CLI"));
    // The poll: a run added while the window stays active; the selection is kept.
    list->item(0)->setSelected(true);
    panel->setPollInterval(100);
    const qint64 second = add_run("Another one");
    QVERIFY(second);
    QTRY_VERIFY_WITH_TIMEOUT(list->count() == 2 && list->item(0)->data(Qt::UserRole).toLongLong() == second, 10000);
    QCOMPARE(panel->selectedRuns(), QList<qint64>{first});
    // Nothing new: the list is not redrawn.
    QSignalSpy refreshed(panel, &ui::HistoryPanel::refreshed);
    QTest::qWait(600);
    QCOMPARE(refreshed.count(), 0);
}

void TestWindowState::outlineFollowsTheGraphsSelection() {
    // Review 9 (64-arrow-down2.png): the agent selected in the graph was not highlighted in the outline.
    QTemporaryDir dir;
    ui::MainWindow w(history_in(dir));
    w.show();
    auto* outline = w.findChild<QTreeWidget*>();
    QVERIFY(outline);
    w.graphScene()->selectAgent(0, 2);
    QTreeWidgetItem* it = outline->currentItem();
    QVERIFY(it && it->parent());
    QCOMPARE(it->data(0, Qt::UserRole).toInt(), 0);
    QCOMPARE(it->data(0, Qt::UserRole + 1).toInt(), 2);
    QVERIFY(it->isSelected());
    w.graphScene()->selectAgent(1, 0);
    QCOMPARE(outline->currentItem()->data(0, Qt::UserRole).toInt(), 1);
    QCOMPARE(outline->currentItem()->data(0, Qt::UserRole + 1).toInt(), 0);
    // After an edit rebuilds the outline, the selection is still shown.
    w.document()->edit("Rename", [](config::Config& c) { c.name = "Renamed"; });
    QVERIFY(outline->currentItem());
    QCOMPARE(outline->currentItem()->data(0, Qt::UserRole).toInt(), 1);
}

void TestWindowState::finalHeaderNamesItsTflopsAndPanesNameDroppedSources() {
    // Review 9: the final header's "24.47 TFLOPs" is the critical path's figure and did not say
    // so; L2's "88% from L1.1, 72% from L1.3" did not mention the dropped L1.2.
    QTemporaryDir dir;
    TestServer server;
    QVERIFY(server.ok());
    const std::string n = nonce();
    auto j = config_json(server.base_url(), {{"ok?chunks=4&delay_ms=5&tag=ONE-" + n, "gone", "ok?chunks=4&delay_ms=5&tag=THREE-" + n},
                                             {"ok?chunks=4&delay_ms=5&tag=AGG-" + n}});
    j["layers"][0]["agents"][1]["provider"] = "dead";
    j["providers"]["dead"] = {{"base_url", "http://127.0.0.1:" + std::to_string(dead_port()) + "/v1"}, {"max_retries", 0}, {"connect_timeout_ms", 2000}};
    // Parameter counts, so that TFLOPs are known.
    j["providers"]["local"]["models"] = nlohmann::json::object();
    for (const std::string& m : {"ok?chunks=4&delay_ms=5&tag=ONE-" + n, "ok?chunks=4&delay_ms=5&tag=THREE-" + n, "ok?chunks=4&delay_ms=5&tag=AGG-" + n})
        j["providers"]["local"]["models"][m] = {{"active_params_b", 8}};
    ui::MainWindow w(history_in(dir));
    w.show();
    QVERIFY(w.openFile(write(dir, "drop.moa.json", j)));
    QVERIFY(run_once(w, "Who was dropped?"));
    const QString totals = w.runView()->totalsText();
    QVERIFY2(totals.contains("TFLOPs (critical path)"), qPrintable(totals));
    auto* totals_label = w.runView()->findChild<QLabel*>("totals");
    QVERIFY(totals_label);
    QVERIFY2(totals_label->toolTip().contains("All calls together"), qPrintable(totals_label->toolTip()));
    QTRY_VERIFY_WITH_TIMEOUT(w.runView()->pane(1, 0)->provenanceText().contains("comes from"), 20000);
    const QString prov = w.runView()->pane(1, 0)->provenanceText();
    QVERIFY2(prov.contains("nothing from L1.2 (dropped)"), qPrintable(prov));
    QVERIFY2(prov.contains("from L1.1") && prov.contains("from L1.3"), qPrintable(prov));
}

QTEST_MAIN(TestWindowState)
#include "tst_window_state.moc"
