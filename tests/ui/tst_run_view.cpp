// SPDX-License-Identifier: MIT
// The run view fed by a real engine run against the local test server, through the event
// bridge: panes get the right text, states change, the graph lights up, cancel works, and the
// GUI gets one batch per frame, not one event per token.
#include <QRandomGenerator>
#include <QTextBlock>
#include <QMimeData>
#include <QLabel>
#include <QTableWidget>
#include <QToolButton>
#include <QtTest>

#include "bridge/event_bridge.h"
#include "engine/engine.h"
#include "graph/graph_scene.h"
#include "run/diff_view.h"
#include "run/provenance_text.h"
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
    void retriesAreSaidOnlyWhenThereWereAny();
    void bridgeBatchesTokensPerFrame();
    void cancelStopsTheRunView();
    void finishedRunReopensFromItsRecord();
    void markdownFetchesNothing();
    void timelineHasABarPerCall();
    void timelineBeforeARunSaysSoInsteadOfAnAxis();
    void messagesButtonSaysWhatItOpens();
    void longModelNamesAreShortenedNotHidingTheState();
    void megabytesAtOnceAreShownOverFramesExactly();
    void unbrokenLinesAreShownInBoundedBlocksAndCopiedExactly();
    void diffOfHugeAnswersShowsTheirStartAndSaysSo();
    void cutAgentSaysCutAndWhy();
    void compareRunsSaysUnknownCostAndWhichTflops();

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
    connect(&view, &RunView::provenanceComputed, &scene, [&] { scene.setProvenance(*view.provenanceRecord(), *view.provenance()); });
    QSignalSpy computed(&view, &RunView::provenanceComputed);
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
    // The refinement view: the provenance measure ("x% of the final answer comes from this
    // answer") on every proposer's pane and node, the numbers of engine::compute_provenance.
    QTRY_COMPARE_WITH_TIMEOUT(computed.count(), 1, 10000);
    const auto prov = engine::compute_provenance(rec);
    for (int i = 0; i < 6; ++i) {
        const auto& p = prov.layers[0][static_cast<std::size_t>(i)];
        QVERIFY(p.final_share);
        QVERIFY2(view.pane(0, i)->provenanceText().contains(final_share_text(*p.final_share)), qPrintable(view.pane(0, i)->provenanceText()));
        QVERIFY(scene.node(0, i)->provenanceLine().startsWith(percent_text(*p.final_share)) || p.ignored.value_or(false));
    }
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
    // Raw HTML in model text is shown as text, never applied: white-on-white, comments and
    // scripts hid text in the final answer (hostile review).
    b.showMarkdown("Seen <font color=white>WHITE-TEXT</font> <!-- COMMENT --> <script>SCRIPT</script> <s>STRUCK</s>\n\n"
                   "<style>p{display:none}</style>\n\n**bold** stays Markdown");
    const QString shown = b.toPlainText();
    for (const char* want : {"<font color=white>WHITE-TEXT</font>", "<!-- COMMENT -->", "<script>SCRIPT</script>",
                             "<s>STRUCK</s>", "<style>p{display:none}</style>"})
        QVERIFY2(shown.contains(QString::fromUtf8(want)), qPrintable(shown));
    QVERIFY2(shown.contains("bold stays Markdown") && !shown.contains("**"), qPrintable(shown));
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

// Review 8: before any run the timeline drew an axis of 0.0–1.0 ms with no data.
void TestRunView::timelineBeforeARunSaysSoInsteadOfAnAxis() {
    std::string n = nonce();
    auto cfg = make_config(config_json(server_->base_url(), {{"ok?chunks=4&delay_ms=30&tag=A-" + n}, {"ok?tag=F-" + n}}));
    TimelineView timeline;
    timeline.prepare(cfg);
    QVERIFY(!timeline.showsAxis());
    QVERIFY2(timeline.emptyText().contains("No run yet"), qPrintable(timeline.emptyText()));
    QVERIFY(!timeline.grab().isNull());
    EventBridge bridge;
    connect(&bridge, &EventBridge::events, &timeline, &TimelineView::apply);
    engine::Engine eng(catalog_);
    auto run = eng.start(cfg, engine::RunInput::from_prompt("Q"), bridge.sink());
    QTRY_VERIFY_WITH_TIMEOUT(run->finished(), 10000);
    bridge.drain();
    QVERIFY(timeline.showsAxis()); // the run's calls, on their axis
    QVERIFY(!timeline.ticks().empty());
    timeline.prepare(cfg); // another configuration: nothing measured yet again
    QVERIFY(!timeline.showsAxis());
}

// Review 8: each pane's bare "Sent…" did not say what it opens.
void TestRunView::messagesButtonSaysWhatItOpens() {
    AgentPane pane(0, 0, "demo-proposer-a", "demo", true);
    auto* button = pane.findChild<QToolButton*>("messages_sent");
    QVERIFY(button);
    QVERIFY2(button->text().startsWith("Messages"), qPrintable(button->text()));
    QVERIFY2(button->toolTip().contains("Messages sent") && button->toolTip().contains("system prompt"), qPrintable(button->toolTip()));
    QSignalSpy asked(&pane, &AgentPane::messagesRequested);
    button->click();
    QCOMPARE(asked.count(), 1);
}

void TestRunView::retriesAreSaidOnlyWhenThereWereAny() {
    // A staircase agent of three steps, each one call: it said "3 attempts · 3 steps" with no retry.
    AgentPane pane(0, 0, "m", "p", false);
    engine::AgentRecord r;
    r.state = engine::AgentState::Done;
    r.attempts = 3;
    r.steps.resize(3);
    for (auto& st : r.steps) st.attempts = 1;
    pane.setRecord(r);
    QVERIFY2(!pane.statsText().contains("attempt") && !pane.statsText().contains("retr") && pane.statsText().contains("3 steps"),
             qPrintable(pane.statsText()));
    // One step retried once: "1 retry".
    r.steps[1].attempts = 2;
    r.attempts = 4;
    pane.setRecord(r);
    QVERIFY2(pane.statsText().contains("1 retry") && !pane.statsText().contains("retries"), qPrintable(pane.statsText()));
    // A whole call retried twice: "2 retries".
    r.steps.clear();
    r.attempts = 3;
    pane.setRecord(r);
    QVERIFY2(pane.statsText().contains("2 retries") && !pane.statsText().contains("attempt"), qPrintable(pane.statsText()));
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

void TestRunView::megabytesAtOnceAreShownOverFramesExactly() {
    // A hostile or very fast server: 640 K characters of the aggregator's answer (and 320 K of a
    // proposer's), one unbroken line each, more than the view shows at once (kFlushAllChars),
    // arrive in one batch. The view lays them out frame by frame (bench_gui_stream burst measures
    // how responsive that keeps it) and ends with every character, surrogate pairs included:
    // the pattern's odd length puts piece boundaries between the halves of a pair.
    auto cfg = make_config(config_json(server_->base_url(), {{"a"}, {"f"}}));
    RunView view;
    view.resize(1000, 700);
    view.prepare(cfg);
    view.show();
    QString big, proposer;
    while (big.size() < (640 << 10)) big += QStringLiteral("lorem ipsum dolor \U0001F642 ");
    while (proposer.size() < (320 << 10)) proposer += QStringLiteral("sit amet, \U0001F642 ");
    engine::Event d;
    d.type = engine::Event::Type::AgentDelta;
    d.layer = 1;
    d.agent = 0;
    d.text = big.toStdString();
    engine::Event p = d;
    p.layer = 0;
    p.text = proposer.toStdString();
    view.apply({p, d});
    QVERIFY(view.isCatchingUp());
    QVERIFY(view.pane(1, 0)->text().size() < big.size()); // not all in one go
    QVERIFY(view.finalIsPlainText());

    auto rec = std::make_shared<engine::RunRecord>();
    rec->status = engine::RunStatus::Done;
    rec->final_text = d.text;
    engine::Event done;
    done.type = engine::Event::Type::RunDone;
    done.final_record = rec;
    view.apply({done});
    QVERIFY(view.isCatchingUp()); // too much to show at once even at the end
    QTRY_VERIFY_WITH_TIMEOUT(!view.isCatchingUp(), 60000);
    QCOMPARE(view.pane(1, 0)->text(), big);
    QCOMPARE(view.pane(0, 0)->text(), proposer);
    QCOMPARE(view.finalShownText(), big);

    // Reopening such a run from the history: the same, frame by frame and exact.
    engine::RunRecord stored;
    stored.status = engine::RunStatus::Done;
    stored.final_text = d.text;
    stored.layers.resize(2);
    stored.layers[0].agents.resize(1);
    stored.layers[0].agents[0].text = p.text;
    stored.layers[0].agents[0].state = engine::AgentState::Done;
    stored.layers[1].agents.resize(1);
    stored.layers[1].agents[0].layer = 1;
    stored.layers[1].agents[0].text = d.text;
    stored.layers[1].agents[0].state = engine::AgentState::Done;
    view.showRecord(cfg, stored);
    QVERIFY(view.isCatchingUp());
    QTRY_VERIFY_WITH_TIMEOUT(!view.isCatchingUp(), 60000);
    QCOMPARE(view.pane(1, 0)->text(), big);
    QCOMPARE(view.pane(0, 0)->text(), proposer);
    QCOMPARE(view.finalShownText(), big);
}

void TestRunView::unbrokenLinesAreShownInBoundedBlocksAndCopiedExactly() {
    // Qt lays out a paragraph whole, so an endless line would make every append slower than the
    // last; the view breaks it into display blocks of at most kMaxBlockChars, yet gives the text
    // back (and copies it) exactly as it came, whatever the pieces it arrived in.
    QString text;
    text += QString(10000, QChar('x'));                        // no space at all
    text += "\nshort line\n\n";                                  // ordinary lines and an empty one
    for (int i = 0; text.size() < 30000; ++i) text += "word" + QString::number(i) + " "; // spaces to break at
    text += QStringLiteral("\U0001F642").repeated(3000);         // surrogate pairs only
    text += "\nend";
    StreamTextView view;
    view.resize(400, 300);
    view.show();
    QRandomGenerator rng(7);
    for (qsizetype at = 0; at < text.size();) {
        qsizetype n = std::min<qsizetype>(text.size() - at, 1 + rng.bounded(9000));
        if (at + n < text.size() && text.at(at + n - 1).isHighSurrogate()) ++n; // the engine delivers whole characters
        view.appendStream(QStringView(text).mid(at, n));
        at += n;
    }
    QCOMPARE(view.text(), text);
    QVERIFY(view.continuationBlocks() >= 10000 / StreamTextView::kMaxBlockChars);
    for (QTextBlock b = view.document()->begin(); b.isValid(); b = b.next())
        QVERIFY2(b.length() - 1 <= StreamTextView::kMaxBlockChars + StreamTextView::kSlackChars, qPrintable(QString::number(b.length())));
    // Breaks fall on spaces where the line has them: no word of the middle part is cut.
    int word_breaks = 0;
    for (QTextBlock b = view.document()->begin(); b.isValid(); b = b.next())
        if (b.text().startsWith("word") && b.next().isValid() && b.next().userState() == 1 && b.next().text().startsWith("word")) {
            QVERIFY2(b.text().endsWith(' '), qPrintable(b.text().right(20) + "|" + b.next().text().left(20)));
            ++word_breaks;
        }
    QVERIFY(word_breaks >= 3);
    // Copying a selection across display breaks gives the original characters.
    QTextCursor c(view.document());
    c.setPosition(view.document()->findBlockByNumber(1).position() + 100); // 100 characters into the second display block
    c.setPosition(view.document()->characterCount() - 1, QTextCursor::KeepAnchor);
    view.setTextCursor(c);
    std::unique_ptr<QMimeData> copied(view.createMimeDataFromSelectionForTest());
    QCOMPARE(copied->text(), text.mid(StreamTextView::kMaxBlockChars + 100));
    view.selectAll();
    copied.reset(view.createMimeDataFromSelectionForTest());
    QCOMPARE(copied->text(), text);
    view.clearStream();
    QCOMPARE(view.text(), QString());
    QCOMPARE(view.continuationBlocks(), 0);
}

void TestRunView::diffOfHugeAnswersShowsTheirStartAndSaysSo() {
    // Two answers of a megabyte each (one unbroken line): the diff is computed off the GUI thread
    // over all of them, but only the first kShownChars of each side are laid out, with a note.
    QString a, b;
    for (int i = 0; a.size() < (1 << 20); ++i) {
        a += "word" + QString::number(i) + " ";
        b += (i % 10 == 0 ? "other" : "word") + QString::number(i) + " ";
    }
    DiffView view;
    view.resize(800, 500);
    view.show();
    QSignalSpy ready(&view, &DiffView::ready);
    view.setTexts("A", a, "B", b);
    QTRY_COMPARE_WITH_TIMEOUT(ready.count(), 1, 60000);
    QTextDocument left;
    left.setHtml(view.leftHtml());
    QVERIFY2(left.toPlainText().size() < DiffView::kShownChars + 1000, qPrintable(QString::number(left.toPlainText().size())));
    QVERIFY(left.toPlainText().startsWith("word0 word1 "));
    QVERIFY(left.toPlainText().contains("more characters, not shown"));
    QVERIFY(view.summary().contains('%'));
    // Short answers: all of them, no note.
    view.setTexts("A", "the same few words", "B", "the same words");
    QTRY_COMPARE_WITH_TIMEOUT(ready.count(), 2, 10000);
    left.setHtml(view.leftHtml());
    QCOMPARE(left.toPlainText().trimmed(), QString("the same few words"));
}


// A straggler cut at its layer's quorum (issue 14) reads "cut" with the reason in its pane, not
// "failed", and its partial answer stays.
void TestRunView::cutAgentSaysCutAndWhy() {
    const std::string n = nonce();
    auto j = config_json(server_->base_url(), {{"ok?words=10&tag=F1-" + n, "ok?words=400&delay_ms=50&tag=S-" + n,
                                                "ok?words=10&tag=F2-" + n},
                                               {"ok?tag=A-" + n}});
    j["layers"][0]["quorum"] = 2;
    auto cfg = make_config(j);
    RunView view;
    view.resize(1200, 700);
    view.prepare(cfg);
    EventBridge bridge;
    connect(&bridge, &EventBridge::events, &view, &RunView::apply);
    engine::Engine eng(catalog_);
    QSignalSpy ended(&view, &RunView::runEnded);
    auto run = eng.start(cfg, engine::RunInput::from_prompt("Q"), bridge.sink());
    QTRY_COMPARE_WITH_TIMEOUT(ended.count(), 1, 30000);
    auto* p = view.pane(0, 1);
    QVERIFY2(p->stateText().contains(">cut<"), qPrintable(p->stateText()));
    QVERIFY2(p->stateDetail().contains("quorum of 2"), qPrintable(p->stateDetail()));
    QVERIFY(!p->stateText().contains("failed"));
    QVERIFY(view.pane(0, 0)->stateText().contains("done"));
    // Nothing in this configuration has a price or a parameter count: unknown, not "$0".
    QVERIFY2(view.totalsText().contains("cost unknown") && view.totalsText().contains("TFLOPs unknown") &&
                 !view.totalsText().contains("$0"),
             qPrintable(view.totalsText()));
    auto* totals = view.findChild<QLabel*>("totals");
    QVERIFY(totals);
    QVERIFY2(totals->toolTip().contains("no model of this run has a price"), qPrintable(totals->toolTip()));
}

QTEST_MAIN(TestRunView)
void TestRunView::compareRunsSaysUnknownCostAndWhichTflops() {
    // Compare runs showed "$0" for a run with no price and a bare "TFLOPs" for the critical-path
    // figure: it says them as the run view does.
    engine::RunRecord unpriced, priced;
    unpriced.totals.cost_complete = false;
    unpriced.totals.cost_usd = 0;
    unpriced.totals.tflops_complete = false;
    unpriced.totals.tflops = 0;
    priced.totals.cost_usd = 0.0123;
    priced.totals.tflops = 24.47;
    moa::ui::RunsCompareDialog d("A", unpriced, "B", priced);
    auto row = [&d](const QString& what) -> std::pair<QString, QString> {
        for (int r = 0; r < d.table()->rowCount(); ++r)
            if (d.table()->item(r, 0)->text() == what) return {d.table()->item(r, 1)->text(), d.table()->item(r, 2)->text()};
        return {};
    };
    QCOMPARE(row("Cost").first, QString("cost unknown"));
    QCOMPARE(row("Cost").second, QString("$0.01"));
    QCOMPARE(row("TFLOPs (critical path)").first, QString("unknown"));
    QCOMPARE(row("TFLOPs (critical path)").second, QString("24.47"));
}

#include "tst_run_view.moc"
