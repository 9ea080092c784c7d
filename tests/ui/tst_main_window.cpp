// SPDX-License-Identifier: MIT
// The whole window: open a configuration that points at the local test server, run a prompt,
// watch the proposers stream before the aggregator, find the run in the history and reopen it.
#include <QAction>
#include <QComboBox>
#include <QJsonArray>
#include <QLabel>
#include <QTableWidget>
#include <QElapsedTimer>
#include <QListWidget>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>

#include <fstream>

#include "graph/graph_scene.h"
#include "main_window.h"
#include "model/config_document.h"
#include "run/diff_view.h"
#include "run/replay_player.h"
#include "run/run_view.h"
#include "settings/model_palette.h"
#include "settings/providers_panel.h"
#include "run_helpers.h"
#include "test_server.h"

using namespace moa;
using namespace testing_support;

class TestMainWindow : public QObject {
    Q_OBJECT
private slots:
    void runAFileAgainstALocalServerAndReopenItFromHistory();
    void newUserBuildsMoaLiteFromAnEmptyCanvas();
    void historyReplayRerunAndCompare();
    void megabytePromptAndAnswer();
    void fullDiskDuringARunIsSaidAndTheRunStaysExportable();
};

void TestMainWindow::runAFileAgainstALocalServerAndReopenItFromHistory() {
    QStandardPaths::setTestModeEnabled(true); // settings (recent files, layout) go to a test location
    QTemporaryDir dir;
    qputenv("MOA_HISTORY_DB", dir.filePath("history.sqlite").toUtf8());
    TestServer server;
    QVERIFY(server.ok());
    std::string n = nonce();
    std::vector<std::string> six;
    for (int i = 0; i < 6; ++i) six.push_back("ok?chunks=6&delay_ms=40&tag=P" + std::to_string(i) + "-" + n);
    auto j = config_json(server.base_url(), {six, {"ok?chunks=6&delay_ms=20&tag=AGG-" + n}});
    j["name"] = "My MoA-Lite";
    const QString path = dir.filePath("lite.moa.json");
    std::ofstream(path.toStdString()) << j.dump(2);

    auto h = store::History::open(dir.filePath("history.sqlite").toStdString());
    QVERIFY(h.ok());
    ui::MainWindow w(std::make_unique<store::HistoryRecorder>(std::move(*h)));
    w.show();
    QVERIFY(w.openFile(path));
    QVERIFY(w.windowTitle().contains("My MoA-Lite"));
    QVERIFY(w.graphScene()->node(0, 5) && w.graphScene()->node(1, 0));

    w.promptEditor()->setPlainText("Why do layers help?");
    QSignalSpy finished(&w, &ui::MainWindow::runFinished);
    QVERIFY(w.startRun());
    QVERIFY(w.isRunning());
    // Six proposers stream side by side before the aggregator starts.
    QTRY_VERIFY_WITH_TIMEOUT(w.runView()->pane(0, 0)->stateText().contains("streaming") ||
                                 w.runView()->pane(0, 0)->stateText().contains("done"), 10000);
    QVERIFY(w.runView()->pane(1, 0)->stateText().contains("queued"));
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 20000);
    QVERIFY(w.runView()->finalText().startsWith(QString::fromStdString("AGG-" + n + " answers with 6 references.")));

    // The run is in the history panel, and reopening it shows it as it was.
    auto* list = w.findChild<QListWidget*>();
    QVERIFY(list);
    QTRY_VERIFY_WITH_TIMEOUT(list->count() == 1 && list->item(0)->text().contains("My MoA-Lite"), 5000);
    const QString final_text = w.runView()->finalText();
    w.runView()->prepare(w.document()->config()); // clear the view
    QVERIFY(w.runView()->finalText().isEmpty());
    emit list->itemActivated(list->item(0)); // read off the GUI thread, then shown
    QTRY_COMPARE_WITH_TIMEOUT(w.runView()->finalText(), final_text, 5000);
    QVERIFY(w.runView()->pane(0, 3)->text().startsWith(QString::fromStdString("P3-" + n)));
}

void TestMainWindow::newUserBuildsMoaLiteFromAnEmptyCanvas() {
    QStandardPaths::setTestModeEnabled(true);
    QTemporaryDir dir;
    TestServer server;
    QVERIFY(server.ok());
    auto h = store::History::open(dir.filePath("history.sqlite").toStdString());
    ui::MainWindow w(std::make_unique<store::HistoryRecorder>(std::move(*h)));
    w.show();
    // File > New: one demo agent on an empty canvas.
    w.document()->reset(ui::blank_config(), {});

    // Add the local server as a provider and test the connection: its models reach the palette.
    auto* providers = w.findChild<ui::ProvidersPanel*>();
    auto* palette = w.findChild<ui::ModelPalette*>();
    QVERIFY(providers && palette);
    providers->addProvider("local", QString::fromStdString(server.base_url()), {});
    QSignalSpy tested(providers, &ui::ProvidersPanel::connectionTested);
    providers->testConnection();
    QTRY_COMPARE_WITH_TIMEOUT(tested.count(), 1, 10000);
    QVERIFY(tested.at(0).at(1).toBool());
    QVERIFY(palette->visibleCount() >= 2);

    // A proposer layer, then six models dropped onto it from the palette.
    w.document()->addLayer(0);
    auto* view = w.findChild<ui::GraphView*>();
    std::string n = nonce();
    for (int i = 0; i < 6; ++i) {
        const QPointF layer0 = w.graphScene()->node(0, 0)->pos() + QPointF(20, 200);
        view->dropAgent("local", QString::fromStdString("ok?chunks=5&delay_ms=30&tag=N" + std::to_string(i) + "-" + n), layer0);
    }
    w.document()->removeAgent(0, 0); // the placeholder agent of the new layer
    auto agg = w.document()->config().layers[1].agents[0];
    agg.provider = "local";
    agg.model = "ok?tag=NAGG-" + n;
    w.document()->setAgent(1, 0, agg);
    w.document()->edit("Remove demo", [](config::Config& c) { c.providers.erase("demo"); });
    QCOMPARE(w.document()->config().layers[0].agents.size(), std::size_t(6));
    QVERIFY(w.document()->issues().empty());
    QString err;
    QVERIFY(w.document()->save(dir.filePath("my-lite.moa.json"), &err));

    // Copy and paste an agent (Ctrl+C / Ctrl+V on the canvas), then undo the paste.
    auto action = [&w](const QString& text) {
        for (auto* a : w.findChildren<QAction*>())
            if (a->text() == text) return a;
        return static_cast<QAction*>(nullptr);
    };
    w.graphScene()->selectAgent(0, 2);
    QVERIFY(action("&Copy agent") && action("&Paste agent"));
    action("&Copy agent")->trigger();
    action("&Paste agent")->trigger();
    QCOMPARE(w.document()->config().layers[0].agents.size(), std::size_t(7));
    QCOMPARE(w.document()->config().layers[0].agents[3].model, w.document()->config().layers[0].agents[2].model);
    w.document()->undoStack()->undo();
    QCOMPARE(w.document()->config().layers[0].agents.size(), std::size_t(6));

    w.promptEditor()->setPlainText("Hello");
    QSignalSpy finished(&w, &ui::MainWindow::runFinished);
    QVERIFY(w.startRun());
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 20000);
    QVERIFY(w.runView()->finalText().startsWith(QString::fromStdString("NAGG-" + n + " answers with 6 references.")));
}

void TestMainWindow::historyReplayRerunAndCompare() {
    QStandardPaths::setTestModeEnabled(true);
    QTemporaryDir dir;
    const QString dbpath = dir.filePath("history.sqlite");
    TestServer server;
    QVERIFY(server.ok());
    const std::string n = nonce();
    auto j = config_json(server.base_url(), {{"ok?chunks=8&delay_ms=30&tag=R1-" + n, "ok?chunks=8&delay_ms=50&tag=R2-" + n},
                                             {"ok?chunks=6&delay_ms=20&tag=RA-" + n}});
    j["name"] = "Replayable";
    const QString path = dir.filePath("r.moa.json");
    std::ofstream(path.toStdString()) << j.dump(2);
    auto h = store::History::open(dbpath.toStdString());
    QVERIFY(h.ok());
    ui::MainWindow w(std::make_unique<store::HistoryRecorder>(std::move(*h)));
    w.show();
    QVERIFY(w.openFile(path));
    // The status bar says the provider answers.
    QTRY_VERIFY_WITH_TIMEOUT(w.providersStatus()->text().contains("local ✓"), 10000);
    w.promptEditor()->setPlainText("Replay me");
    QSignalSpy finished(&w, &ui::MainWindow::runFinished);
    QVERIFY(w.startRun());
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 20000);
    const QString final_text = w.runView()->finalText();
    const QString p0 = w.runView()->pane(0, 0)->text(), p1 = w.runView()->pane(0, 1)->text();
    auto* list = w.findChild<QListWidget*>();
    QTRY_VERIFY_WITH_TIMEOUT(list->count() == 1 && list->item(0)->data(Qt::UserRole).isValid(), 5000);
    const qint64 first = list->item(0)->data(Qt::UserRole).toLongLong();

    // Replay at 5×: panes start empty, stream, and end with exactly the recorded text; the
    // local server sees no new request.
    const int before = server.chat_requests();
    QSignalSpy replayed(w.replayPlayer(), &ui::ReplayPlayer::finished);
    // Looked at after every replayed batch (this connection runs after the run view's), not by
    // polling: on a loaded machine, under ASan, the 5× replay can pass between two polls.
    bool saw_streaming = false;
    const auto watch = QObject::connect(w.replayPlayer(), &ui::ReplayPlayer::events, &w, [&] {
        saw_streaming = saw_streaming || w.runView()->pane(0, 1)->stateText().contains("streaming");
    });
    QSignalSpy batches(w.replayPlayer(), &ui::ReplayPlayer::events);
    w.replayRun(first, 5.0);
    QTRY_COMPARE_WITH_TIMEOUT(replayed.count(), 1, 10000);
    QObject::disconnect(watch);
    QVERIFY(batches.count() > 1); // it played in steps, not in one go
    QVERIFY(saw_streaming);
    QCOMPARE(w.runView()->pane(0, 0)->text(), p0);
    QCOMPARE(w.runView()->pane(0, 1)->text(), p1);
    QCOMPARE(w.runView()->finalText(), final_text);
    QCOMPARE(server.chat_requests(), before);

    // Re-run: the same configuration and prompt run again, linked to the first run.
    w.rerun(first);
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 2, 20000);
    QCOMPARE(server.chat_requests(), before + 3);
    w.history()->flush();
    {
        auto h2 = store::History::open(dbpath.toStdString());
        auto listed = (*h2)->list();
        QVERIFY2(listed.ok(), listed.ok() ? "" : listed.error().c_str());
        const auto& runs = *listed;
        QCOMPARE(runs.size(), std::size_t(2));
        QVERIFY(runs[0].rerun_of && *runs[0].rerun_of == first);
        QCOMPARE(runs[0].prompt, std::string("Replay me"));
    }

    // Compare the two runs: figures side by side and a diff of their final answers.
    QTRY_VERIFY_WITH_TIMEOUT(list->count() == 2, 5000);
    const qint64 second = list->item(0)->data(Qt::UserRole).toLongLong();
    w.compareRuns(first, second);
    QTRY_VERIFY_WITH_TIMEOUT(qobject_cast<ui::RunsCompareDialog*>(w.lastDialog()) != nullptr, 5000);
    auto* cmp = qobject_cast<ui::RunsCompareDialog*>(w.lastDialog());
    QVERIFY(cmp->table()->rowCount() >= 8);
    QCOMPARE(cmp->table()->item(0, 1)->text(), QString("Replayable"));
    QTRY_VERIFY_WITH_TIMEOUT(cmp->view()->summary().contains("%"), 5000);
    cmp->close();

    // Compare two answers of the run shown: a proposer and the final answer.
    w.compareAnswers();
    auto* ans = qobject_cast<ui::AnswersDiffDialog*>(w.lastDialog());
    QVERIFY(ans);
    QCOMPARE(ans->left()->count(), 3);
    QTRY_VERIFY_WITH_TIMEOUT(ans->view()->summary().contains("word diff"), 5000);
    QVERIFY(ans->view()->rightHtml().contains("RA</span>-")); // the final answer's own words marked
    ans->close();
}

void TestMainWindow::megabytePromptAndAnswer() {
    // A 1 MB prompt, and an aggregator that answers with 1 MB over real HTTP: everything arrives
    // and is shown; the final answer, too long for Markdown, is shown whole as plain text with a
    // note. (How responsive the window stays is measured in bench_gui_stream's megabyte mode.)
    QStandardPaths::setTestModeEnabled(true);
    QTemporaryDir dir;
    TestServer server;
    QVERIFY(server.ok());
    const std::string n = nonce();
    auto j = config_json(server.base_url(), {{"ok?tag=MP-" + n}, {"ok?words=150000&chunks=200&tag=MA-" + n}});
    const QString path = dir.filePath("big.moa.json");
    std::ofstream(path.toStdString()) << j.dump(2);
    auto h = store::History::open(dir.filePath("history.sqlite").toStdString());
    ui::MainWindow w(std::make_unique<store::HistoryRecorder>(std::move(*h)));
    w.show();
    QVERIFY(w.openFile(path));
    QString prompt;
    while (prompt.size() < (1 << 20)) prompt += "A long prompt line that goes on. ";
    w.promptEditor()->setPlainText(prompt);
    QSignalSpy finished(&w, &ui::MainWindow::runFinished);
    QVERIFY(w.startRun());
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 60000);
    QVERIFY(w.runView()->finalIsPlainText());
    QTRY_VERIFY_WITH_TIMEOUT(!w.runView()->isCatchingUp(), 10000); // a burst is laid out frame by frame
    const QString shown = w.runView()->finalShownText();
    QVERIFY2(shown.size() > (1 << 20), qPrintable(QString::number(shown.size())));
    QVERIFY(shown.startsWith(QString::fromStdString("MA-" + n + " answers with 1 references.")));
    QVERIFY(shown.endsWith("w149999"));
    auto* note = w.runView()->findChild<QLabel*>("final_note");
    QVERIFY(note && note->isVisible() && note->text().contains("plain text"));
    QCOMPARE(w.runView()->pane(1, 0)->text(), shown);
    // The proposer was sent the whole prompt.
    for (const auto& r : server.requests())
        if (r.toObject()["model"].toString().contains(QString::fromStdString("MP-" + n)))
            QCOMPARE(r.toObject()["body"].toObject()["messages"].toArray().last().toObject()["content"].toString().size(),
                     prompt.trimmed().size());
    // The teaching view opens on that megabyte of one line (no freeze: it is shown in bounded
    // display blocks) and holds exactly what was sent.
    QElapsedTimer opening;
    opening.start();
    w.showMessages(0, 0);
    for (int i = 0; i < 5; ++i) QCoreApplication::processEvents(); // laid out and painted
    qInfo("the messages view opened and painted a 1 MB one-line prompt in %lld ms", static_cast<long long>(opening.elapsed()));
    QVERIFY(w.messagesShown().contains(prompt.trimmed()));
    QVERIFY(w.messagesShown().startsWith(QString::fromUtf8("── user ──\n")) || w.messagesShown().startsWith(QString::fromUtf8("── system ──\n")));
}

void TestMainWindow::fullDiskDuringARunIsSaidAndTheRunStaysExportable() {
    // The disk fills while a run is recorded (RLIMIT_FSIZE: no file may grow past 64 KB, so the
    // history's write-ahead log cannot take a 250 KB answer): the window says so in red, naming
    // the database, and the run is whole on screen and can still be exported.
    QStandardPaths::setTestModeEnabled(true);
    QTemporaryDir dir;
    TestServer server;
    QVERIFY(server.ok());
    const std::string n = nonce();
    auto j = config_json(server.base_url(), {{"ok?tag=DP-" + n}, {"ok?words=40000&tag=DA-" + n}});
    const QString path = dir.filePath("full.moa.json");
    std::ofstream(path.toStdString()) << j.dump(2);
    const QString db = dir.filePath("history.sqlite");
    auto h = store::History::open(db.toStdString());
    QVERIFY(h.ok());
    ui::MainWindow w(std::make_unique<store::HistoryRecorder>(std::move(*h)));
    w.show();
    QVERIFY(w.openFile(path));
    auto* warning = w.findChild<QLabel*>("history_warning");
    QVERIFY(warning);
    QVERIFY(warning->isHidden());
    w.promptEditor()->setPlainText("Fill the disk");
    QSignalSpy finished(&w, &ui::MainWindow::runFinished);
    with_full_disk(64 * 1024, [&] {
        QVERIFY(w.startRun());
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 30000);
        QTRY_VERIFY_WITH_TIMEOUT(warning->isVisible(), 5000);
    });
    qInfo("%s", qPrintable(warning->text()));
    if (qEnvironmentVariableIsSet("MOA_TEST_KEEP_SCREENSHOT")) w.grab().save(qEnvironmentVariable("MOA_TEST_KEEP_SCREENSHOT"));
    QVERIFY2(warning->text().contains("could not store this run"), qPrintable(warning->text()));
    QVERIFY2(warning->text().contains(db.toHtmlEscaped()), qPrintable(warning->text())); // names the file
    QVERIFY(warning->text().contains("Export run"));
    // Nothing lost on screen: the whole answer, and the export still works.
    QTRY_VERIFY_WITH_TIMEOUT(!w.runView()->isCatchingUp(), 10000);
    QVERIFY(w.runView()->finalText().endsWith("w39999"));
    const QString out = dir.filePath("kept.json");
    QVERIFY(w.exportRunTo(out));
    QFile f(out);
    QVERIFY(f.open(QIODevice::ReadOnly));
    QVERIFY(f.readAll().contains("w39999"));
    // The next run (disk space back) starts without the old warning.
    w.promptEditor()->setPlainText("Again");
    QVERIFY(w.startRun());
    QVERIFY(warning->isHidden());
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 2, 30000);
    QTest::qWait(400);
    QVERIFY(warning->isHidden());
}

QTEST_MAIN(TestMainWindow)
#include "tst_main_window.moc"
