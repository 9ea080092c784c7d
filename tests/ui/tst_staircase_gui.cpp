// SPDX-License-Identifier: MIT
// Issue 14 in the window: the inspector edits pipelining (configuration) and quorum/deadline
// (layer) with the loader's messages, the graph shows them, the timeline draws one bar per step
// of a staircase run over real HTTP (tests/servers/openai_server.py on 127.0.0.1), the run view
// and status bar give the first-token time, New sweep… offers the latency kind, and the
// experiment charts plot time to first token and wall time.
#include <QApplication>
#include <QComboBox>
#include <QDialog>
#include <QDialogButtonBox>
#include <QDir>
#include <QLineEdit>
#include <QPushButton>
#include <QFile>
#include <QLabel>
#include <QSpinBox>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QtTest>

#include <fstream>

#include "eval/experiment.h"
#include "eval/experiment_results.h"
#include "experiment/experiment_window.h"
#include "experiment/result_chart.h"
#include "store/experiment_store.h"
#include "store/sqlite_db.h"
#include "graph/graph_scene.h"
#include "main_window.h"
#include "run/replay_player.h"
#include "run/run_presenter.h"
#include "run/run_view.h"
#include "run/timeline_view.h"
#include "store/history.h"
#include "store/history_recorder.h"
#include "model/config_document.h"
#include "model/inspector.h"
#include "run_helpers.h"
#include "test_server.h"
#include "util/resources.h"

using namespace moa;
using namespace moa::ui;
using namespace testing_support;

namespace {
config::Config preset(const char* name) { return *config::load_config_file(resources::preset_path(name)).config; }
std::string dump(const config::Config& c) { return config::to_json(c).dump(); }
// What `moa validate` says about `c` at `pointer` (the loader's message), or "".
std::string loader_message(const config::Config& c, const std::string& pointer) {
    auto r = config::load_config_text(config::to_json(c).dump(2), "unsaved", ".");
    for (const auto& i : r.issues)
        if (i.pointer == pointer) return i.message;
    return {};
}
} // namespace

class TestStaircaseGui : public QObject {
    Q_OBJECT
private slots:
    void inspectorEditsPipeliningAndLayerLimits();
    void lastLayerLimitsAreOffWithTheReason();
    void invalidQuorumShowsTheLoadersMessage();
    void staircaseRunDrawsABarPerStepLiveAndReplayed();
    void newSweepOffersTheLatencyKind();
    void chartsPlotTheMedianFirstTokenAndWallTimes();
    void olderExperimentDatabasesGetTheFirstTokenColumn();
};

void TestStaircaseGui::inspectorEditsPipeliningAndLayerLimits() {
    QTemporaryDir dir;
    ConfigDocument doc;
    doc.reset(preset("moa-lite"), {});
    GraphScene scene(&doc);
    Inspector inspector(&doc);
    inspector.setAgent(0, 2);
    auto* mode = inspector.findChild<QComboBox*>("pipelining");
    auto* chunk = inspector.findChild<QSpinBox*>("chunk_tokens");
    auto* cont = inspector.findChild<QComboBox*>("continuation");
    auto* quorum = inspector.findChild<QSpinBox*>("quorum");
    auto* deadline = inspector.findChild<QSpinBox*>("deadline_ms");
    QVERIFY(mode && chunk && cont && quorum && deadline);
    // Barrier by default: the staircase's own fields are off.
    QCOMPARE(mode->currentText(), QString("barrier"));
    QVERIFY(!chunk->isEnabled());
    QVERIFY(!cont->isEnabled());
    // Every field says what it does and what it costs.
    QVERIFY(mode->toolTip().contains("re-sends the references"));
    QVERIFY(chunk->toolTip().contains("re-sends all the references"));
    QVERIFY(cont->toolTip().contains("assistant_prefix"));
    QVERIFY(quorum->toolTip().contains("cut"));
    QVERIFY(deadline->toolTip().contains("cut"));
    QVERIFY(quorum->isEnabled() && deadline->isEnabled());

    mode->setCurrentText("staircase");
    QVERIFY(chunk->isEnabled() && cont->isEnabled());
    chunk->selectAll();
    QTest::keyClicks(chunk, "16"); // typed: one undo step, not two
    cont->setCurrentText("assistant_prefix");
    quorum->selectAll();
    QTest::keyClicks(quorum, "5");
    deadline->selectAll();
    QTest::keyClicks(deadline, "8000");
    const auto& c = doc.config();
    QCOMPARE(c.pipelining.mode, config::Pipelining::Mode::Staircase);
    QCOMPARE(c.pipelining.chunk_tokens, 16);
    QCOMPARE(c.pipelining.continuation, config::Pipelining::Continuation::AssistantPrefix);
    QCOMPARE(c.layers[0].quorum.value(), 5);
    QCOMPARE(c.layers[0].deadline_ms.value(), 8000L);
    QCOMPARE(doc.undoStack()->count(), 5);
    QVERIFY(doc.issues().empty() || doc.issues().front().severity != config::Issue::Severity::Error);

    // The graph: the limits under the layer's header, the badge on the layer that runs in steps.
    QCOMPARE(scene.layerNote(0), QString("5 of 6 · 8 s"));
    QCOMPARE(scene.layerNote(1), QString("staircase · 16 tok"));

    // Saved and loaded again: the same configuration, the same bytes.
    const QString path = dir.filePath("stairs.moa.json");
    QString err;
    QVERIFY2(doc.save(path, &err), qPrintable(err));
    QFile f(path);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const auto j = nlohmann::json::parse(f.readAll().toStdString());
    QCOMPARE(j["pipelining"]["mode"].get<std::string>(), std::string("staircase"));
    QCOMPARE(j["pipelining"]["chunk_tokens"].get<int>(), 16);
    QCOMPARE(j["pipelining"]["continuation"].get<std::string>(), std::string("assistant_prefix"));
    QCOMPARE(j["layers"][0]["quorum"].get<int>(), 5);
    QCOMPARE(j["layers"][0]["deadline_ms"].get<long>(), 8000L);
    ConfigDocument again;
    QVERIFY2(again.load(path, &err), qPrintable(err));
    QCOMPARE(dump(again.config()), dump(doc.config()));
    Inspector reloaded(&again);
    reloaded.setAgent(0, 0);
    QCOMPARE(reloaded.findChild<QComboBox*>("pipelining")->currentText(), QString("staircase"));
    QCOMPARE(reloaded.findChild<QSpinBox*>("chunk_tokens")->value(), 16);
    QCOMPARE(reloaded.findChild<QComboBox*>("continuation")->currentText(), QString("assistant_prefix"));
    QCOMPARE(reloaded.findChild<QSpinBox*>("quorum")->value(), 5);
    QCOMPARE(reloaded.findChild<QSpinBox*>("deadline_ms")->value(), 8000);

    // Undo goes back field by field, the widgets following.
    doc.undoStack()->undo();
    QVERIFY(!doc.config().layers[0].deadline_ms);
    QCOMPARE(deadline->value(), 0);
    QCOMPARE(scene.layerNote(0), QString("5 of 6"));
    doc.undoStack()->undo();
    QVERIFY(!doc.config().layers[0].quorum);
    QCOMPARE(quorum->value(), 0);
    QCOMPARE(scene.layerNote(0), QString());
    doc.undoStack()->undo();
    QCOMPARE(cont->currentText(), QString("instruction"));
    doc.undoStack()->undo();
    QCOMPARE(chunk->value(), 32);
    doc.undoStack()->undo();
    QCOMPARE(mode->currentText(), QString("barrier"));
    QVERIFY(!chunk->isEnabled());
    QCOMPARE(scene.layerNote(1), QString());
    QCOMPARE(dump(doc.config()), dump(preset("moa-lite")));
    doc.undoStack()->redo();
    QCOMPARE(doc.config().pipelining.mode, config::Pipelining::Mode::Staircase);
}

void TestStaircaseGui::lastLayerLimitsAreOffWithTheReason() {
    ConfigDocument doc;
    doc.reset(preset("moa-lite"), {});
    Inspector inspector(&doc);
    inspector.setAgent(1, 0); // the aggregator
    auto* quorum = inspector.findChild<QSpinBox*>("quorum");
    auto* deadline = inspector.findChild<QSpinBox*>("deadline_ms");
    auto* note = inspector.findChild<QLabel*>("layer_note");
    QVERIFY(!quorum->isEnabled());
    QVERIFY(!deadline->isEnabled());
    QVERIFY(note->text().contains("last layer (the aggregator) has nothing to wait for"));
    QVERIFY(quorum->toolTip().contains("nothing to wait for"));
    // A proposer's layer: on again.
    inspector.setAgent(0, 0);
    QVERIFY(quorum->isEnabled() && deadline->isEnabled());
    QVERIFY(note->text().isEmpty());
}

void TestStaircaseGui::invalidQuorumShowsTheLoadersMessage() {
    ConfigDocument doc;
    doc.reset(preset("moa-lite"), {});
    Inspector inspector(&doc);
    inspector.setAgent(0, 0);
    auto* quorum = inspector.findChild<QSpinBox*>("quorum");
    auto* problems = inspector.findChild<QLabel*>("layer_problems");
    quorum->setValue(9); // 6 agents
    const std::string message = loader_message(doc.config(), "/layers/0/quorum");
    QVERIFY(!message.empty());
    QCOMPARE(problems->text(), QString::fromStdString("/quorum: " + message));
    QVERIFY(problems->text().contains("quorum 9 is more than the layer's 6 agents"));
    // Two layers into one: the quorum now sits on the last layer, the loader says why that is
    // wrong, and the field stays editable so that it can be cleared.
    quorum->setValue(3);
    doc.removeLayer(1);
    inspector.setAgent(0, 0);
    QVERIFY(quorum->isEnabled());
    const std::string last = loader_message(doc.config(), "/layers/0/quorum");
    QVERIFY(last.find("the last layer (the aggregator) has nothing to wait for") != std::string::npos);
    QVERIFY(problems->text().contains(QString::fromStdString(last)));
    quorum->setValue(0);
    QVERIFY(problems->text().isEmpty());
    QVERIFY(!quorum->isEnabled());
}

namespace {
// Each step of `a` has its own bar on the timeline, starting at the step's recorded start.
void check_step_bars(const TimelineView* t, const engine::AgentRecord& a) {
    const auto rects = t->stepRects(a.layer, a.index);
    QCOMPARE(rects.size(), a.steps.size());
    for (std::size_t k = 0; k < rects.size(); ++k) {
        QVERIFY2(std::abs(rects[k].left() - t->xOf(a.steps[k].start_ms)) < 0.5,
                 qPrintable(QString("step %1 at x %2, expected %3").arg(k).arg(rects[k].left()).arg(t->xOf(a.steps[k].start_ms))));
        if (k > 0) QVERIFY(rects[k].left() >= rects[k - 1].left());
    }
}
} // namespace

void TestStaircaseGui::staircaseRunDrawsABarPerStepLiveAndReplayed() {
    QStandardPaths::setTestModeEnabled(true);
    QTemporaryDir dir;
    const QString db = dir.filePath("history.sqlite");
    qputenv("MOA_HISTORY_DB", db.toUtf8());
    TestServer server;
    QVERIFY(server.ok());
    const std::string n = nonce();
    // Two paced proposers and a straggler the layer's quorum cuts; the aggregator works in steps
    // of 8 tokens over their answers while they grow (paced too, so that the run is watched
    // while it streams: its last step alone takes about 1.6 s).
    auto j = config_json(server.base_url(), {{"ok?words=60&delay_ms=15&tag=P1" + n, "ok?words=400&delay_ms=50&tag=S" + n,
                                              "ok?words=60&delay_ms=15&tag=P2" + n},
                                             {"ok?words=60&delay_ms=25&tag=A" + n}});
    j["name"] = "Stairs";
    j["layers"][0]["quorum"] = 2;
    j["pipelining"] = {{"mode", "staircase"}, {"chunk_tokens", 8}};
    const QString path = dir.filePath("stairs.moa.json");
    std::ofstream(path.toStdString()) << j.dump(2);
    auto h = store::History::open(db.toStdString());
    QVERIFY(h.ok());
    MainWindow w(std::make_unique<store::HistoryRecorder>(std::move(*h)));
    w.show();
    QVERIFY(w.openFile(path));
    QCOMPARE(w.graphScene()->layerNote(0), QString("2 of 3"));
    QCOMPARE(w.graphScene()->layerNote(1), QString("staircase · 8 tok"));
    w.promptEditor()->setPlainText("Q?");
    QSignalSpy finished(&w, &MainWindow::runFinished);
    QVERIFY(w.startRun());
    // Live, while the aggregator still streams (before its AgentDone): a bar per step so far, each
    // drawn from its step's start (compared with the record once the run is over), and the pane
    // counting the steps.
    auto* t = w.timeline();
    QTRY_VERIFY_WITH_TIMEOUT(t->bars().at({1, 0}).steps.size() >= 2 && t->bars().at({1, 0}).end < 0, 60000);
    const auto live_steps = t->bars().at({1, 0}).steps;
    const auto live_rects = t->stepRects(1, 0);
    const QString live_stats = w.runView()->pane(1, 0)->statsText();
    QCOMPARE(finished.count(), 0);
    QCOMPARE(live_rects.size(), live_steps.size());
    for (std::size_t k = 0; k < live_rects.size(); ++k) {
        QVERIFY(std::abs(live_rects[k].left() - t->xOf(live_steps[k].start)) < 0.5);
        if (k > 0) QVERIFY(live_steps[k].start >= live_steps[k - 1].end && live_steps[k - 1].end >= 0); // ended before the next
    }
    // The step under way (if one is) reaches the timeline's present and grows with it.
    if (live_steps.back().end < 0) QVERIFY(live_rects.back().right() >= t->xOf(t->spanMs()) - 0.5);
    QVERIFY2(live_stats.startsWith(QString("%1 steps so far").arg(live_steps.size())), qPrintable(live_stats));
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 60000);
    const QString status = w.statusBar()->currentMessage();

    w.history()->flush();
    auto h2 = store::History::open(db.toStdString());
    auto listed = (*h2)->list();
    QVERIFY(listed.ok() && listed->size() == 1);
    const qint64 id = static_cast<qint64>(listed->front().id);
    auto stored = (*h2)->load(listed->front().id);
    QVERIFY(stored.has_value());
    const engine::RunRecord& rec = *stored;
    const auto& agg = rec.layers[1].agents[0];
    QVERIFY2(agg.steps.size() >= 3, qPrintable(QString::number(agg.steps.size())));
    QCOMPARE(rec.layers[0].agents[1].state, engine::AgentState::Cut);
    QVERIFY(rec.totals.ttft_ms);
    // What was drawn mid-run was the record's own steps: the same starts, and the same ends for
    // those that had ended.
    QVERIFY(live_steps.size() <= agg.steps.size());
    for (std::size_t k = 0; k < live_steps.size(); ++k) {
        QVERIFY2(std::abs(live_steps[k].start - agg.steps[k].start_ms) < 1e-6,
                 qPrintable(QString("step %1 drawn from %2 ms, recorded %3 ms").arg(k).arg(live_steps[k].start).arg(agg.steps[k].start_ms)));
        if (live_steps[k].end >= 0) QVERIFY(std::abs(live_steps[k].end - agg.steps[k].end_ms) < 1e-6);
        if (live_steps[k].end >= 0 && agg.steps[k].ttft_ms)
            QVERIFY(std::abs(live_steps[k].first_token - (agg.steps[k].start_ms + *agg.steps[k].ttft_ms)) < 1e-6);
    }

    // At the end: a bar per step, at the steps' start times; the proposers one bar each.
    check_step_bars(t, agg);
    QVERIFY(t->stepRects(0, 0).empty());
    QVERIFY(!t->barRect(0, 0).isEmpty());
    // The cut straggler: grey, with the reason in its tooltip.
    QCOMPARE(t->bars().at({0, 1}).state, engine::AgentState::Cut);
    const QString cut_tip = t->toolTipAt(t->barRect(0, 1).center().toPoint());
    QVERIFY2(cut_tip.contains("cut: the layer's quorum of 2 was reached"), qPrintable(cut_tip));
    // A step's own times, under the pointer.
    const QString step_tip = t->toolTipAt(t->stepRects(1, 0)[1].center().toPoint());
    QVERIFY2(step_tip.contains(QString("ran in %1 steps").arg(agg.steps.size())) && step_tip.contains("step 2: started at"),
             qPrintable(step_tip));

    // The first-token time in the status bar and the final header; the steps on the aggregator's pane.
    const QString first = QString("first token %1 s").arg(*rec.totals.ttft_ms / 1000.0, 0, 'f', 2);
    QVERIFY2(status.contains(first), qPrintable(status + " / " + first));
    QVERIFY2(w.runView()->finalTitleText().contains(first), qPrintable(w.runView()->finalTitleText()));
    QVERIFY2(w.runView()->pane(1, 0)->statsText().contains(QString("%1 steps").arg(agg.steps.size())),
             qPrintable(w.runView()->pane(1, 0)->statsText()));
    QVERIFY(w.runView()->pane(0, 1)->stateText().contains("cut"));

    // Replayed from the history: the same bars.
    QSignalSpy replayed(w.replayPlayer(), &ReplayPlayer::finished);
    w.replayRun(id, 20.0);
    QTRY_COMPARE_WITH_TIMEOUT(replayed.count(), 1, 30000);
    check_step_bars(t, agg);
    QCOMPARE(t->bars().at({0, 1}).state, engine::AgentState::Cut);
    QVERIFY(w.runView()->finalTitleText().contains(first));
    // Reopened from the history: the same again.
    w.openRun(id);
    QTRY_VERIFY_WITH_TIMEOUT(w.presenter()->showingRecorded() && t->stepRects(1, 0).size() == agg.steps.size(), 10000);
    check_step_bars(t, agg);
}

void TestStaircaseGui::newSweepOffersTheLatencyKind() {
    QStandardPaths::setTestModeEnabled(true);
    QTemporaryDir dir;
    const QString out = dir.filePath("latency");
    ExperimentWindow w;
    w.show();
    QPushButton* button = nullptr;
    for (auto* b : w.findChildren<QPushButton*>())
        if (b->text() == "New sweep…") button = b;
    QVERIFY(button);
    QVERIFY(button->toolTip().contains("latency"));
    QString first_error, kind_tip, off_tip;
    bool accepted = false, max_on_latency = true, models_on_latency = true, max_on_proposers = false;
    for (auto* b : w.findChildren<QPushButton*>())
        if (b->text() == "Export chart…") QVERIFY2(!b->isEnabled(), "Export chart… with no experiment open");
    // The dialog is modal: filled in from inside its own loop, through its widgets.
    QTimer::singleShot(0, &w, [&] {
        auto* d = qobject_cast<QDialog*>(QApplication::activeModalWidget());
        if (!d) return;
        auto* kind = d->findChild<QComboBox*>("kind");
        const int latency = kind ? kind->findData("latency") : -1;
        if (latency < 0) return d->reject();
        kind->setCurrentIndex(kind->findData("proposers"));
        max_on_proposers = d->findChild<QSpinBox*>("max")->isEnabled();
        kind->setCurrentIndex(latency);
        kind_tip = kind->itemData(latency, Qt::ToolTipRole).toString();
        // "Up to" and "Models" mean nothing for the latency kind: off, with the reason.
        max_on_latency = d->findChild<QSpinBox*>("max")->isEnabled();
        models_on_latency = d->findChild<QLineEdit*>("models")->isEnabled();
        off_tip = d->findChild<QLineEdit*>("models")->toolTip();
        d->findChild<QLineEdit*>("base")->setText("nope");
        d->findChild<QComboBox*>("judge")->setCurrentText("offline-demo-judge");
        d->findChild<QLineEdit*>("reference")->setText("offline-demo");
        d->findChild<QLineEdit*>("sweep_dir")->setText(out);
        auto* ok = d->findChild<QDialogButtonBox*>()->button(QDialogButtonBox::Ok);
        ok->click(); // validated like the other kinds: nothing written, the field named
        first_error = d->findChild<QLabel*>("errors")->text();
        if (QDir(out).exists()) return d->reject();
        d->findChild<QLineEdit*>("base")->setText("offline-demo");
        ok->click();
        accepted = d->result() == QDialog::Accepted;
    });
    QSignalSpy loaded(&w, &ExperimentWindow::loaded);
    button->click();
    QVERIFY2(first_error.contains("Base configuration: no configuration file \"nope\""), qPrintable(first_error));
    QVERIFY(kind_tip.contains("re-sends the references"));
    QVERIFY(max_on_proposers && !max_on_latency && !models_on_latency);
    QVERIFY2(off_tip.contains("Not used by the latency sweep"), qPrintable(off_tip));
    QVERIFY(accepted);
    // The four latency variants of the base, as `moa sweep --kind latency` writes them.
    std::vector<config::Config> variants;
    for (int i = 1; i <= 4; ++i) {
        auto r = config::load_config_file(QDir(out).filePath(QString("variant-%1.moa.json").arg(i, 2, 10, QChar('0'))).toStdString());
        QVERIFY2(r.ok(), r.summary().c_str());
        variants.push_back(*r.config);
    }
    QVERIFY(!QFile::exists(QDir(out).filePath("variant-05.moa.json")));
    using M = config::Pipelining::Mode;
    QCOMPARE(variants[0].pipelining.mode, M::Barrier);
    QCOMPARE(variants[1].pipelining.mode, M::Staircase);
    QCOMPARE(variants[1].pipelining.chunk_tokens, 16);
    QCOMPARE(variants[2].pipelining.mode, M::Staircase);
    QCOMPARE(variants[2].pipelining.chunk_tokens, 64);
    QCOMPARE(variants[3].pipelining.mode, M::Barrier);
    QCOMPARE(variants[3].layers[0].quorum.value(), 2); // 3 proposers, n−1
    QCOMPARE(variants[3].layers[1].quorum.value(), 2);
    QVERIFY(!variants[3].layers[2].quorum);
    QVERIFY(loaded.count() > 0 || loaded.wait(30000));
    QCOMPARE(loaded.first().first().toBool(), true);
    // Just created, never run: "not run yet", not "incomplete … run the experiment again to retry them".
    const auto said = [&w] {
        QString s;
        for (auto* l : w.findChildren<QLabel*>()) s += l->text() + "\n";
        for (auto* t : w.findChildren<QTableWidget*>()) s += t->toolTip() + "\n";
        return s;
    };
    QTRY_VERIFY_WITH_TIMEOUT(said().contains("not run yet"), 10000);
    QVERIFY2(!said().contains("run the experiment again"), qPrintable(said()));
    for (auto* b : w.findChildren<QPushButton*>())
        if (b->text() == "Export chart…") QVERIFY(b->isEnabled());
}

namespace {
std::optional<double> median(std::vector<double> v) {
    if (v.empty()) return std::nullopt;
    std::sort(v.begin(), v.end());
    return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}
} // namespace

void TestStaircaseGui::chartsPlotTheMedianFirstTokenAndWallTimes() {
    QStandardPaths::setTestModeEnabled(true);
    TestServer server;
    QVERIFY(server.ok());
    QTemporaryDir dir;
    const std::string n = nonce();
    // A barrier and a staircase variant of one configuration, a reference and a scripted judge,
    // all on the local HTTP server.
    auto base = config_json(server.base_url(), {{"ok?words=40&delay_ms=10&tag=P1" + n, "ok?words=40&delay_ms=10&tag=P2" + n},
                                                {"ok?words=20&tag=A" + n}});
    base["name"] = "Barrier";
    std::ofstream(dir.filePath("barrier.moa.json").toStdString()) << base.dump(2);
    auto stairs = base;
    stairs["name"] = "Staircase";
    stairs["pipelining"] = {{"mode", "staircase"}, {"chunk_tokens", 8}};
    std::ofstream(dir.filePath("stairs.moa.json").toStdString()) << stairs.dump(2);
    auto ref = config_json(server.base_url(), {{"ok?words=20&tag=R" + n}});
    ref["name"] = "Reference";
    std::ofstream(dir.filePath("ref.moa.json").toStdString()) << ref.dump(2);
    auto judge = config_json(server.base_url(), {{"judge?prefer=A" + n}});
    judge["name"] = "Judge";
    std::ofstream(dir.filePath("judge.moa.json").toStdString()) << judge.dump(2);
    const QString exp = dir.filePath("latency.moa-experiment.json");
    std::ofstream(exp.toStdString()) << nlohmann::json{{"schema", "moa-workbench/experiment@1"},
                                                       {"name", "Latency"},
                                                       {"configurations", {"barrier.moa.json", "stairs.moa.json"}},
                                                       {"prompts", "starter"},
                                                       {"sample", 5},
                                                       {"seed", 3},
                                                       {"reference", {{"configuration", "ref.moa.json"}}},
                                                       {"judge", {{"config", "judge.moa.json"}, {"mode", "pairwise"}}},
                                                       {"concurrency", 2},
                                                       // the variants share their proposers' calls: a
                                                       // cached call would take no time to measure
                                                       {"cache_generations", false}}
                                            .dump(2);
    const QString db = dir.filePath("e.sqlite");
    ExperimentWindow w;
    w.show();
    QSignalSpy loaded(&w, &ExperimentWindow::loaded);
    w.openExperiment(exp, db);
    QVERIFY(loaded.wait(20000));
    QCOMPARE(loaded.first().first().toBool(), true);
    QSignalSpy finished(&w, &ExperimentWindow::finished);
    w.run();
    QVERIFY(finished.wait(120000));
    QTRY_VERIFY_WITH_TIMEOUT(w.results() && w.results()->configs.size() == 2 && w.results()->configs[0].judged == 5 &&
                                 w.results()->configs[1].judged == 5,
                             30000);

    // The medians per prompt, from the stored runs.
    auto e = eval::load_experiment(exp.toStdString());
    QVERIFY2(e.ok(), e.ok() ? "" : e.error().c_str());
    auto store = store::ExperimentStore::open(db.toStdString());
    QVERIFY(store.ok());
    std::map<QString, std::pair<double, double>> expected; // name -> (ttft s, wall s)
    for (const auto& c : e->configs) {
        std::vector<double> ttft, wall;
        for (const auto& item : e->prompts.items) {
            auto g = (*store)->generation(eval::config_key(c), item.id);
            QVERIFY(g && g->ok);
            QCOMPARE(g->cached_calls, 0);
            QVERIFY(g->ttft_ms && *g->ttft_ms > 0 && *g->ttft_ms <= g->wall_ms);
            ttft.push_back(*g->ttft_ms);
            wall.push_back(g->wall_ms);
        }
        expected[QString::fromStdString(c.name)] = {*median(ttft) / 1000.0, *median(wall) / 1000.0};
    }
    QCOMPARE(expected.size(), std::size_t(2));

    auto* axis = w.secondAxis();
    QVERIFY(axis);
    // The second chart starts on TFLOPs; the test server's models have no parameter count, so the
    // axis says unknown (not 0..1e-06).
    // (The axis title stays short; the note is on the caption line under the chart.)
    QCOMPARE(w.tflopsChart()->spec().x_label, QString("TFLOPs per instance"));
    QVERIFY2(w.tflopsChart()->spec().caption.contains(
                 "TFLOPs per instance: unknown for every configuration (no parameter counts for their models)"),
             qPrintable(w.tflopsChart()->spec().caption));
    for (const auto& [which, label] : {std::pair{QString("ttft"), QString("Time to first token (s, median per prompt)")},
                                       std::pair{QString("wall"), QString("Wall time (s, median per prompt)")}}) {
        axis->setCurrentIndex(axis->findData(which));
        const auto& spec = w.tflopsChart()->spec();
        QCOMPARE(spec.x_label, label);
        QCOMPARE(spec.points.size(), std::size_t(2));
        for (const auto& p : spec.points) {
            QVERIFY2(expected.count(p.name), qPrintable(p.name));
            const double want = which == "ttft" ? expected[p.name].first : expected[p.name].second;
            QVERIFY2(std::abs(p.x - want) < 1e-9, qPrintable(QString("%1 %2: %3, expected %4").arg(p.name, which).arg(p.x).arg(want)));
        }
        // `moa chart --x` draws the same axis.
        const QString csv = dir.filePath(which + ".csv");
        auto r = run_moa({"chart", "--experiment", exp, "--db", db, "--out", csv, "--x", which}, {}, 60000);
        QVERIFY2(r.code == 0, r.err.constData());
        QFile f(csv);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QString text = QString::fromUtf8(f.readAll());
        QVERIFY2(text.startsWith("configuration,\"" + label + "\","), qPrintable(text)); // quoted: the label has a comma
        for (const auto& p : spec.points) QVERIFY2(text.contains(p.name + "," + QString::number(p.x, 'g', 10) + ","), qPrintable(text));
    }
}

void TestStaircaseGui::olderExperimentDatabasesGetTheFirstTokenColumn() {
    QTemporaryDir dir;
    const std::string path = dir.filePath("old.sqlite").toStdString();
    {
        // The generations table as databases written before the first-token time was kept have it.
        store::Database db;
        QVERIFY(db.open(path));
        QVERIFY(db.exec("CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
                        "INSERT INTO meta VALUES('schema_version', '1');"
                        "CREATE TABLE generations(config_key TEXT NOT NULL, item_id TEXT NOT NULL, ok INTEGER NOT NULL, "
                        "turns TEXT NOT NULL, error TEXT, cost_usd REAL, paid_usd REAL, cost_complete INTEGER, tflops REAL, "
                        "wall_ms REAL, critical_path_ms REAL, prompt_tokens INTEGER, completion_tokens INTEGER, calls INTEGER, "
                        "cached_calls INTEGER, created_at TEXT, PRIMARY KEY(config_key, item_id));"
                        "INSERT INTO generations VALUES('c', 'i1', 1, '[\"answer\"]', '', 0.5, 0.5, 1, 2.0, 1234.0, 1000.0, "
                        "10, 20, 3, 0, NULL);"));
    }
    auto st = store::ExperimentStore::open(path);
    QVERIFY2(st.ok(), st.ok() ? "" : st.error().c_str());
    auto old = (*st)->generation("c", "i1");
    QVERIFY(old && old->ok);
    QCOMPARE(old->wall_ms, 1234.0);
    QVERIFY(!old->ttft_ms); // not known: left out of the first-token median, not counted as 0
    store::Generation g = *old;
    g.item_id = "i2";
    g.ttft_ms = 321.5;
    QVERIFY((*st)->put_generation(g).ok());
    auto back = (*st)->generation("c", "i2");
    QVERIFY(back && back->ttft_ms);
    QCOMPARE(*back->ttft_ms, 321.5);
}

QTEST_MAIN(TestStaircaseGui)
#include "tst_staircase_gui.moc"
