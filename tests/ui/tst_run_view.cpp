// SPDX-License-Identifier: MIT
// The run view fed by a real engine run against the local test server, through the event
// bridge: panes get the right text, states change, the graph lights up, cancel works, and the
// GUI gets one batch per frame, not one event per token.
#include <QtTest>

#include "bridge/event_bridge.h"
#include "engine/engine.h"
#include "graph/graph_scene.h"
#include "run/run_view.h"
#include "run/timeline_view.h"
#include "run_helpers.h"
#include "test_server.h"

using namespace moa;
using namespace moa::ui;
using namespace testing_support;

class TestRunView : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void panesGetTheRightTextAndStates();
    void bridgeBatchesTokensPerFrame();
    void cancelStopsTheRunView();
    void finishedRunReopensFromItsRecord();
    void markdownFetchesNothing();
    void timelineHasABarPerCall();
    void longModelNamesAreShortenedNotHidingTheState();

private:
    std::unique_ptr<TestServer> server_;
    accounting::Catalog catalog_;
};

void TestRunView::initTestCase() {
    server_ = std::make_unique<TestServer>();
    QVERIFY(server_->ok());
}

void TestRunView::panesGetTheRightTextAndStates() {
    std::string n = nonce();
    std::vector<std::string> six;
    for (int i = 0; i < 6; ++i) six.push_back("ok?chunks=8&delay_ms=40&tag=P" + std::to_string(i) + "-" + n);
    auto cfg = make_config(config_json(server_->base_url(), {six, {"ok?chunks=10&delay_ms=30&tag=F-" + n}}));
    ConfigDocument doc;
    doc.reset(cfg, {});
    GraphScene scene(&doc);
    RunView view;
    view.resize(1200, 700);
    view.prepare(cfg);
    EventBridge bridge;
    connect(&bridge, &EventBridge::events, &view, &RunView::apply);
    connect(&view, &RunView::agentStateChanged, &scene, &GraphScene::setAgentState);
    engine::Engine eng(catalog_);
    connect(&view, &RunView::overlapComputed, &scene, &GraphScene::setOverlap);
    QSignalSpy overlaps(&view, &RunView::overlapComputed);
    auto run = eng.start(cfg, engine::RunInput::from_prompt("Q"), bridge.sink());
    // The six proposers stream side by side before the aggregator starts.
    QTRY_VERIFY_WITH_TIMEOUT(view.pane(0, 5)->stateText().contains("streaming") || view.pane(0, 5)->stateText().contains("done"), 10000);
    QVERIFY(view.pane(1, 0)->stateText().contains("queued"));
    QTRY_VERIFY_WITH_TIMEOUT(run->finished(), 20000);
    bridge.drain();
    auto rec = run->record();
    for (int i = 0; i < 6; ++i) {
        QCOMPARE(view.pane(0, i)->text().toStdString(), rec.layers[0].agents[static_cast<std::size_t>(i)].text);
        QVERIFY(view.pane(0, i)->stateText().contains("done"));
    }
    QCOMPARE(view.pane(1, 0)->text().toStdString(), *rec.final_text);
    QCOMPARE(view.finalText().toStdString(), *rec.final_text);
    QVERIFY(view.totalsText().contains("done"));
    QVERIFY(view.totalsText().contains("critical path"));
    // The teaching view has exactly what each agent was sent.
    QCOMPARE(view.messages(1, 0).size(), rec.layers[1].agents[0].messages.size());
    QCOMPARE(view.messages(1, 0)[0].content, rec.layers[1].agents[0].messages[0].content);
    // The refinement view: ROUGE-L of the final answer against every proposer, on panes and edges.
    QTRY_COMPARE_WITH_TIMEOUT(overlaps.count(), 6, 5000);
    for (const auto& args : overlaps) {
        double v = args.at(2).toDouble();
        QVERIFY(v > 0 && v <= 1); // each proposer's "answers with 0 references. w0 ..." shares words with the final
    }
    QVERIFY(view.pane(0, 0)->statsText().contains("(ROUGE-L)"));
}

void TestRunView::bridgeBatchesTokensPerFrame() {
    EventBridge bridge(nullptr, 16);
    int batches = 0;
    std::string text;
    connect(&bridge, &EventBridge::events, this, [&](const std::vector<engine::Event>& b) {
        ++batches;
        for (const auto& e : b) text += e.text;
    });
    auto sink = bridge.sink();
    engine::Event e;
    e.type = engine::Event::Type::AgentDelta;
    e.layer = 0;
    e.agent = 0;
    for (int i = 0; i < 5000; ++i) {
        e.text = "t" + std::to_string(i % 10);
        sink(e);
    }
    QTRY_VERIFY(text.size() == 10000);
    QVERIFY2(batches <= 3, qPrintable(QString("%1 batches for 5000 tokens").arg(batches)));
}

void TestRunView::cancelStopsTheRunView() {
    std::string n = nonce();
    auto cfg = make_config(config_json(server_->base_url(), {{"ok?chunks=40&delay_ms=100&tag=C-" + n}, {"ok?tag=CF-" + n}}));
    RunView view;
    view.prepare(cfg);
    EventBridge bridge;
    connect(&bridge, &EventBridge::events, &view, &RunView::apply);
    engine::Engine eng(catalog_);
    auto run = eng.start(cfg, engine::RunInput::from_prompt("Q"), bridge.sink());
    QTRY_VERIFY_WITH_TIMEOUT(!view.pane(0, 0)->text().isEmpty(), 10000);
    run->cancel();
    QTRY_VERIFY_WITH_TIMEOUT(view.totalsText().contains("cancelled"), 5000);
    QVERIFY(view.pane(0, 0)->stateText().contains("cancelled"));
}

void TestRunView::finishedRunReopensFromItsRecord() {
    std::string n = nonce();
    auto cfg = make_config(config_json(server_->base_url(), {{"ok?tag=A-" + n, "ok?tag=B-" + n}, {"ok?tag=F-" + n}}));
    auto rec = run_to_end(cfg, "Q");
    RunView view;
    view.showRecord(cfg, rec);
    QCOMPARE(view.pane(0, 1)->text().toStdString(), rec.layers[0].agents[1].text);
    QCOMPARE(view.finalText().toStdString(), *rec.final_text);
    QVERIFY(view.pane(0, 1)->stateText().contains("done"));
}

void TestRunView::markdownFetchesNothing() {
    SafeTextBrowser b;
    b.setMarkdown("![x](http://127.0.0.1:9/pixel.png) [link](https://example.invalid)");
    QVERIFY(!b.loadResource(QTextDocument::ImageResource, QUrl("http://127.0.0.1:9/pixel.png")).isValid());
    QVERIFY(!b.openLinks());
}

void TestRunView::timelineHasABarPerCall() {
    std::string n = nonce();
    auto cfg = make_config(config_json(server_->base_url(), {{"ok?chunks=4&delay_ms=30&tag=A-" + n, "ok?tag=B-" + n}, {"ok?tag=F-" + n}}));
    TimelineView timeline;
    timeline.prepare(cfg);
    EventBridge bridge;
    connect(&bridge, &EventBridge::events, &timeline, &TimelineView::apply);
    engine::Engine eng(catalog_);
    auto run = eng.start(cfg, engine::RunInput::from_prompt("Q"), bridge.sink());
    QTRY_VERIFY_WITH_TIMEOUT(run->finished(), 10000);
    bridge.drain();
    QCOMPARE(timeline.bars().size(), std::size_t(3));
    const auto& a = timeline.bars().at({0, 0});
    const auto& f = timeline.bars().at({1, 0});
    QVERIFY(a.start >= 0 && a.first_token >= a.start && a.end > a.first_token);
    QVERIFY(f.start >= a.end); // the aggregator's bar starts after layer 1 ended
    QVERIFY(!timeline.grab().isNull());
}

void TestRunView::longModelNamesAreShortenedNotHidingTheState() {
    const std::string model = "some-organisation/an-extremely-long-model-name-that-never-fits-a-narrow-pane-v2-instruct-q4";
    auto cfg = make_config(config_json(server_->base_url(), {{model, "short"}, {"short"}}));
    RunView view;
    view.resize(900, 600);
    view.prepare(cfg);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    AgentPane* p = view.pane(0, 0);
    QVERIFY(p);
    auto labels = p->findChildren<ElidedLabel*>();
    QVERIFY(labels.size() >= 1);
    ElidedLabel* title = labels.front();
    QCOMPARE(title->fullText(), QString::fromStdString(model).section('/', -1));
    QVERIFY2(title->text().endsWith(QChar(0x2026)), qPrintable(title->text())); // shortened with "…"
    QCOMPARE(title->toolTip(), QString::fromStdString(model));                  // in full on hover
    // The state stays whole and inside the pane, beside nothing it overlaps.
    QLabel* state = nullptr;
    for (auto* l : p->findChildren<QLabel*>())
        if (l->accessibleName() == "state") state = l;
    QVERIFY(state);
    QCOMPARE(state->text(), QString("queued"));
    QVERIFY(state->width() >= state->sizeHint().width());
    QVERIFY(p->rect().contains(state->geometry()));
    QVERIFY(!state->geometry().intersects(title->geometry()));
    QVERIFY(title->geometry().right() < p->width());
    // A short name is shown as it is, without a tooltip of its own text.
    ElidedLabel* short_title = view.pane(0, 1)->findChildren<ElidedLabel*>().front();
    QCOMPARE(short_title->text(), QString("short"));
}

QTEST_MAIN(TestRunView)
#include "tst_run_view.moc"
