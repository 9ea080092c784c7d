// SPDX-License-Identifier: MIT
// The provenance measure in the GUI (issue 15): one number, "x% of B comes from A", the same on
// the node, the edge, the pane, the tooltips and Compare answers as engine::compute_provenance;
// an ignored proposer marked; a click on a sentence lighting its sources; moved sentences in
// Compare answers; computed off the GUI thread.
#include <QAbstractTextDocumentLayout>
#include <QAction>
#include <QMimeData>
#include <QComboBox>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QElapsedTimer>
#include <QTextBlock>
#include <QApplication>
#include <QPushButton>
#include <QScreen>
#include <QScrollBar>
#include <QtTest>

#include "engine/run_html.h"
#include "engine/run_provenance.h"
#include "eval/sentence_diff.h"
#include "graph/graph_scene.h"
#include "model/config_document.h"
#include "run/bidi_marks.h"
#include "run/diff_view.h"
#include "run/provenance_text.h"
#include "run/rendered_text_map.h"
#include "main_window.h"
#include "run/run_presenter.h"
#include "run/run_view.h"
#include "run/timeline_view.h"
#include "run/walkthrough.h"
#include "run_helpers.h"

using namespace moa;
using namespace moa::ui;
using testing_support::config_json;
using testing_support::make_config;

class TestProvenanceGui : public QObject {
    Q_OBJECT
private slots:
    void theSameNumberEverywhere();
    void ignoredProposerIsMarked();
    void clickOnASentenceLightsItsSources();
    void compareAnswersMarksMovedSentences();
    void sentenceDiffSkipsScatteredFunctionWords();
    void longRunNeverBlocksTheGuiThread();
    void walkthroughStepsThroughTheLayers();
    void walkthroughAndHtmlFromTheWindow();
    void walkthroughFitsASmallScreen();
    void timelineHasAxisLegendAndTooltips();
    void spansMapToTheViewsText();
    void renderedMarkdownMapsToItsText();
    void clickInTheFinalAnswerLightsTheSameSources();
    void bidiControlsAreShownNotObeyed();
};

namespace {
engine::AgentRecord agent(int layer, int index, std::string text, engine::AgentState state = engine::AgentState::Done) {
    engine::AgentRecord a;
    a.layer = layer;
    a.index = index;
    a.model = "m" + std::to_string(layer) + std::to_string(index);
    a.provider = "local";
    a.text = std::move(text);
    a.state = state;
    a.attempts = 1;
    return a;
}

// Three proposers and an aggregator; the third proposer is not used at all, and the aggregator's
// second sentence is L1.1's first one moved to the end.
engine::RunRecord crafted() {
    engine::RunRecord r;
    r.config_name = "crafted";
    r.status = engine::RunStatus::Done;
    r.layers.resize(2);
    r.layers[0].agents = {agent(0, 0, "Water boils at one hundred degrees. Ice melts at zero degrees."),
                          agent(0, 1, "Salt raises the boiling point. Sugar dissolves fast in tea."),
                          agent(0, 2, "Penguins live in the south. They cannot fly at all.")};
    r.layers[1].agents = {agent(1, 0, "Sugar dissolves fast in tea. Ice melts at zero degrees. Water boils at one hundred degrees.")};
    r.final_text = r.layers[1].agents[0].text;
    // What each agent was sent, as the engine builds it (references numbered in the system message).
    for (auto& a : r.layers[0].agents) a.messages = {{"user", "What do you know about water?"}};
    std::string refs = "Synthesize these responses into one answer.";
    for (int j = 0; j < 3; ++j) refs += "\n" + std::to_string(j + 1) + ". " + r.layers[0].agents[static_cast<std::size_t>(j)].text;
    r.layers[1].agents[0].messages = {{"system", refs}, {"user", "What do you know about water?"}};
    return r;
}

config::Config crafted_config() { return make_config(config_json("http://127.0.0.1:9", {{"m00", "m01", "m02"}, {"m10"}})); }

struct Shown {
    ConfigDocument doc;
    GraphScene scene{&doc};
    RunView view;
    explicit Shown(const engine::RunRecord& r) {
        doc.reset(crafted_config(), {});
        view.resize(1200, 700);
        QObject::connect(&view, &RunView::provenanceComputed, &scene,
                         [this] { scene.setProvenance(*view.provenanceRecord(), *view.provenance()); });
        view.showRecord(crafted_config(), r);
    }
};
} // namespace

void TestProvenanceGui::theSameNumberEverywhere() {
    const auto r = crafted();
    const auto prov = engine::compute_provenance(r);
    Shown s(r);
    QTRY_VERIFY_WITH_TIMEOUT(s.view.provenance() != nullptr, 10000);
    QTRY_VERIFY_WITH_TIMEOUT(!s.view.isCatchingUp(), 10000);
    for (int j = 0; j < 3; ++j) {
        const auto& src = prov.layers[1][0].sources[static_cast<std::size_t>(j)];
        QVERIFY(src.share);
        const QString phrase = comes_from_text(*src.share, "L2.1", agent_name(0, j));
        // The edge L1.j → L2.1: its tooltip says it, its width grows with it.
        auto* e = s.scene.edge(0, j, 0);
        QVERIFY(e);
        QVERIFY2(e->toolTip().startsWith(phrase), qPrintable(e->toolTip()));
        QCOMPARE(e->pen().widthF(), 1.0 + 9.0 * *src.share);
        // The aggregator's pane names every source's share.
        QVERIFY2(s.view.pane(1, 0)->provenanceText().contains(percent_text(*src.share) + (j == 0 ? " of this answer comes from " : " from ") +
                                                              agent_name(0, j)),
                 qPrintable(s.view.pane(1, 0)->provenanceText()));
        // Each proposer: its node, its pane and its node's tooltip, the share of the final answer.
        const auto& p = prov.layers[0][static_cast<std::size_t>(j)];
        QVERIFY(p.final_share);
        QVERIFY2(s.view.pane(0, j)->provenanceText().contains(final_share_text(*p.final_share)), qPrintable(s.view.pane(0, j)->provenanceText()));
        QVERIFY(s.scene.node(0, j)->toolTip().contains(final_share_text(*p.final_share)));
        QVERIFY(s.scene.node(0, j)->toolTip().contains("share of B's words found in A")); // says what is measured
        // Shares of one answer that add up to more than the whole say why, on screen.
        double sum = 0;
        for (const auto& x : prov.layers[1][0].sources) sum += x.share.value_or(0);
        QCOMPARE(s.view.pane(1, 0)->provenanceText().contains("shares overlap"), sum > 1.005);
        if (!p.ignored.value_or(false)) QCOMPARE(s.scene.node(0, j)->provenanceLine(), percent_text(*p.final_share) + " of the final answer");
    }
    // The numbers themselves, counted by hand: 11 of 16 words from L1.1, 5 from L1.2.
    QCOMPARE(*prov.layers[1][0].sources[0].share, 11.0 / 16);
    QCOMPARE(s.scene.edgeLabel(0, 0, 0)->text(), QString("69%"));
    QCOMPARE(s.scene.edgeLabel(0, 1, 0)->text(), QString("31%"));
    // Compare answers: the same pair, the same number.
    AnswersDiffDialog d(r);
    d.left()->setCurrentIndex(0);  // L1.1
    d.right()->setCurrentIndex(3); // the final answer
    QTRY_VERIFY_WITH_TIMEOUT(d.view()->rightFromLeft().has_value() && !d.view()->summary().startsWith("Comparing"), 10000);
    QCOMPARE(*d.view()->rightFromLeft(), *prov.layers[1][0].sources[0].share);
    QVERIFY2(d.view()->summary().contains(comes_from_text(*prov.layers[1][0].sources[0].share, "the right answer", "the left one")),
             qPrintable(d.view()->summary()));
}

void TestProvenanceGui::ignoredProposerIsMarked() {
    const auto r = crafted();
    Shown s(r);
    QTRY_VERIFY_WITH_TIMEOUT(s.view.provenance() != nullptr, 10000);
    // L1.3 contributes nothing: marked on its node (line, red dashed outline), pane and edge.
    QVERIFY(s.scene.node(0, 2)->isIgnored());
    QCOMPARE(s.scene.node(0, 2)->provenanceLine(), QString("ignored by the next layer"));
    QVERIFY(s.scene.node(0, 2)->toolTip().contains("Ignored: every answer of the next layer takes less than 5%"));
    QVERIFY(!s.scene.node(0, 0)->isIgnored() && !s.scene.node(0, 1)->isIgnored());
    QVERIFY(s.view.pane(0, 2)->provenanceText().contains("Ignored by the next layer"));
    QCOMPARE(s.scene.edge(0, 2, 0)->pen().style(), Qt::DashLine);
    QVERIFY(!s.scene.edgeLabel(0, 2, 0)); // no "0%" label cluttering the graph; the tooltip has it
    QVERIFY(s.scene.edge(0, 2, 0)->toolTip().startsWith("0% of L2.1 comes from L1.3"));
}

void TestProvenanceGui::clickOnASentenceLightsItsSources() {
    const auto r = crafted();
    Shown s(r);
    s.view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&s.view));
    QTRY_VERIFY_WITH_TIMEOUT(s.view.provenance() != nullptr && !s.view.isCatchingUp(), 10000);
    // Click on "Ice melts at zero degrees." in the aggregator's pane.
    AgentPane* agg = s.view.pane(1, 0);
    const int at = agg->text().indexOf("Ice melts") + 4;
    QTextCursor c(agg->body()->document());
    c.setPosition(agg->body()->documentPosition(at));
    const QPoint where = agg->body()->cursorRect(c).center();
    QTest::mouseClick(agg->body()->viewport(), Qt::LeftButton, {}, where);
    // Its source L1.1 lights up on exactly that sentence, in L1.1's colour, with the share.
    AgentPane* src = s.view.pane(0, 0);
    const auto marks = src->body()->extraSelections();
    QCOMPARE(marks.size(), 1);
    QCOMPARE(marks[0].cursor.selectedText(), QString("Ice melts at zero degrees."));
    QCOMPARE(marks[0].format.background().color().rgb(), source_colour(0).rgb());
    QVERIFY2(src->sentenceNote().startsWith("100% of the selected sentence of L2.1 comes from this answer"), qPrintable(src->sentenceNote()));
    // The other proposers stay dark; the clicked sentence is marked in its own pane.
    QVERIFY(s.view.pane(0, 1)->body()->extraSelections().isEmpty());
    QVERIFY(s.view.pane(0, 2)->body()->extraSelections().isEmpty());
    QVERIFY(!agg->body()->extraSelections().isEmpty());
    QCOMPARE(agg->body()->extraSelections().front().cursor.selectedText(), QString("Ice melts at zero degrees."));
    QVERIFY(agg->sentenceNote().contains("100% from L1.1"));
    // Another sentence: another source.
    QVERIFY(s.view.showSentenceSources(1, 0, 2));
    QVERIFY(src->body()->extraSelections().isEmpty());
    QCOMPARE(s.view.pane(0, 1)->body()->extraSelections().front().cursor.selectedText(), QString("Sugar dissolves fast in tea."));
    // A click in a proposer's pane clears it all.
    QTest::mouseClick(src->body()->viewport(), Qt::LeftButton, {}, QPoint(5, 5));
    QVERIFY(s.view.pane(0, 1)->body()->extraSelections().isEmpty());
    QVERIFY(agg->sentenceNote().isEmpty());
}

void TestProvenanceGui::compareAnswersMarksMovedSentences() {
    // "Water boils…" moved from first to last: one moved sentence, nothing deleted or added.
    const std::string a = "Water boils at one hundred degrees. Ice melts at zero degrees. Salt raises the boiling point.";
    const std::string b = "Ice melts at zero degrees. Salt raises the boiling point. Water boils at one hundred degrees.";
    const auto d = eval::diff_sentences(a, b);
    QCOMPARE(d.moved, 1);
    QCOMPARE(d.deleted, 0);
    QCOMPARE(d.added, 0);
    QCOMPARE(d.a[0].kind, eval::SentenceDiffPiece::Kind::Moved);
    QCOMPARE(d.b[2].kind, eval::SentenceDiffPiece::Kind::Moved);
    QCOMPARE(d.a[0].partner, 2);
    QCOMPARE(d.b[0].kind, eval::SentenceDiffPiece::Kind::Same);
    // In the view: marked moved on both sides, struck through nowhere.
    DiffView view;
    QSignalSpy ready(&view, &DiffView::ready);
    view.setTexts("A", QString::fromStdString(a), "B", QString::fromStdString(b));
    QTRY_COMPARE_WITH_TIMEOUT(ready.count(), 1, 10000);
    QCOMPARE(view.counts().moved, 1);
    QCOMPARE(view.counts().deleted, 0);
    QCOMPARE(view.counts().added, 0);
    QVERIFY(view.leftHtml().contains("⇅"));
    QVERIFY(view.rightHtml().contains("⇅"));
    QVERIFY(!view.leftHtml().contains("line-through"));
    QVERIFY(view.summary().contains("1 moved"));
    QVERIFY(view.summary().startsWith("100% of the right answer comes from the left one"));
    // A reworded sentence: only its changed word is marked.
    view.setTexts("A", "Ice melts at zero degrees today.", "B", "Ice melts at zero degrees now.");
    QTRY_COMPARE_WITH_TIMEOUT(ready.count(), 2, 10000);
    QCOMPARE(view.counts().changed, 1);
    QTextDocument left;
    left.setHtml(view.leftHtml());
    QCOMPARE(left.toPlainText().trimmed(), QString("Ice melts at zero degrees today."));
}

void TestProvenanceGui::sentenceDiffSkipsScatteredFunctionWords() {
    // The word diff used to align "the … of the … in" across unrelated sentences.
    const auto d = eval::diff_sentences("The cat sat on the mat in the sun.", "The dog ran to the park in the rain.");
    QCOMPARE(d.deleted, 1);
    QCOMPARE(d.added, 1);
    QCOMPARE(d.a[0].kind, eval::SentenceDiffPiece::Kind::Only);
    QVERIFY(d.a[0].changed_words.empty()); // marked whole, not word by word
}

void TestProvenanceGui::longRunNeverBlocksTheGuiThread() {
    // Four answers of 10 000 words each: the provenance is computed while the event loop keeps
    // turning (a 5 ms timer measures the longest gap between its ticks).
    engine::RunRecord r = crafted();
    auto words = [](int seed) {
        std::string t;
        for (int i = 0; i < 1100; ++i)
            t += "Sentence " + std::to_string(i) + " of answer " + std::to_string(seed) + " says word" + std::to_string(i * seed % 97) +
                 " and more.\n";
        return t;
    };
    for (int j = 0; j < 3; ++j) r.layers[0].agents[static_cast<std::size_t>(j)].text = words(j + 1);
    r.layers[1].agents[0].text = words(1).substr(0, 20000) + words(2).substr(20000) + words(3).substr(0, 10000);
    r.final_text = r.layers[1].agents[0].text;
    Shown s(r);
    QElapsedTimer since;
    since.start();
    qint64 worst = 0;
    QTimer tick;
    tick.setInterval(5);
    QObject::connect(&tick, &QTimer::timeout, [&] {
        worst = std::max(worst, since.restart());
    });
    QTimer::singleShot(0, &tick, qOverload<>(&QTimer::start));
    since.restart();
    QTRY_VERIFY_WITH_TIMEOUT(s.view.provenance() != nullptr, 60000);
    tick.stop();
    qInfo("longest GUI-thread stall while the provenance of 4 x 10 000 words was computed: %lld ms", worst);
    // Generous for a loaded machine: the work itself takes ~0.25 s on one core (bench_provenance).
    QVERIFY2(worst < 250, qPrintable(QString::number(worst)));
}

void TestProvenanceGui::walkthroughStepsThroughTheLayers() {
    LayersWalkthrough w(crafted());
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    QTRY_VERIFY_WITH_TIMEOUT(w.ready(), 10000);
    QCOMPARE(w.layer(), 0);
    QVERIFY(w.heading().startsWith("Layer 1 of 2"));
    QVERIFY(w.pageHtml().contains("What do you know about water?"));
    QVERIFY(w.pageHtml().contains("Ignored by the next layer")); // L1.3
    QVERIFY(w.pageHtml().contains(final_share_text(11.0 / 16)));
    // The arrow keys step through the layers (and stop at the ends).
    QTest::keyClick(&w, Qt::Key_Right);
    QCOMPARE(w.layer(), 1);
    QTest::keyClick(&w, Qt::Key_Right);
    QCOMPARE(w.layer(), 1);
    QVERIFY(w.heading().startsWith("Layer 2 of 2"));
    const QString html = w.pageHtml();
    // What it was sent: each reference coloured like its source, its number a link back to it.
    const QColor c1 = source_colour(1);
    QVERIFY2(html.contains(QStringLiteral("<a href='agent:0:1'")), qPrintable(html.left(3000)));
    QVERIFY(html.contains(QStringLiteral("background:rgba(%1,%2,%3,").arg(c1.red()).arg(c1.green()).arg(c1.blue()) +
                          QStringLiteral("0.35)'>Salt raises the boiling point.")));
    // Its answer with its sources highlighted, and what changed from the layer before.
    QVERIFY(html.contains("title='100% of this sentence comes from L1.2'>Sugar dissolves fast in tea.</span>"));
    QVERIFY(html.contains("What changed from layer 1: 69% of this answer comes from L1.1; 31% of this answer comes from L1.2; "
                          "0% of this answer comes from L1.3; 0 of its 3 sentences are new."));
    // "2." leads back to the answer it quotes.
    emit w.page()->anchorClicked(QUrl("agent:0:1"));
    QCOMPARE(w.layer(), 0);
    QTest::keyClick(&w, Qt::Key_Right);
    QTest::keyClick(&w, Qt::Key_Left);
    QCOMPARE(w.layer(), 0);
    // Large type, for a projector.
    QVERIFY(w.page()->font().pointSizeF() >= 16);
}

void TestProvenanceGui::walkthroughAndHtmlFromTheWindow() {
    QStandardPaths::setTestModeEnabled(true);
    QTemporaryDir dir;
    MainWindow w(nullptr);
    w.show(); // the main window has the keyboard when the walkthrough opens
    w.activateWindow();
    QVERIFY(QTest::qWaitForWindowActive(&w));
    QVERIFY(!w.openWalkthrough()); // no run yet: a word in the status bar, no window
    // A run shown (live once finished, or reopened from the history: both end in recordEnded).
    w.presenter()->recordEnded(crafted());
    QPointer<LayersWalkthrough> walk = w.openWalkthrough();
    QVERIFY(walk);
    QTRY_VERIFY_WITH_TIMEOUT(walk->ready(), 10000);
    QCOMPARE(walk->layerCount(), 2);
    // It has the keyboard at once: → and Esc work without a click into it (they went to the main window).
    QTRY_VERIFY_WITH_TIMEOUT(QApplication::focusWidget() == walk.data(), 10000);
    QCOMPARE(walk->layer(), 0);
    QTest::keyClick(QApplication::focusWidget(), Qt::Key_Right);
    QCOMPARE(walk->layer(), 1);
    QTest::keyClick(QApplication::focusWidget(), Qt::Key_Escape);
    QTRY_VERIFY(!walk); // Esc closed it; deleted on close
    // The menus have both.
    bool in_view = false, in_file = false;
    for (auto* a : w.findChildren<QAction*>()) {
        in_view = in_view || a->text() == "&Layers walkthrough";
        in_file = in_file || a->text() == "Export run as &HTML…";
    }
    QVERIFY(in_view && in_file);
    // Export as HTML: the page of `moa history show ID --html`, which says why shares can add up
    // to more than 100%.
    const QString f = dir.filePath("run.html");
    QVERIFY(w.exportRunTo(f));
    QFile page(f);
    QVERIFY(page.open(QIODevice::ReadOnly));
    const QString html = QString::fromUtf8(page.readAll());
    QCOMPARE(html.toStdString(), engine::to_html(crafted()));
    QVERIFY(html.contains("the shares of one answer can add up to more than 100%"));
    QVERIFY(html.contains("69% of L2.1 comes from L1.1"));
}

// Review 9 (87-small-walk-l2-dropped.png): the walkthrough was a fixed 1400×900 window, and on a
// 1024×700 screen "Next layer ▶", the title and "Its answer" ran off its edge; its shares
// (72% + 30% + 70%) added up to 172% with no word of why. It fits the screen's available area,
// every button and both columns in view; F11 shows it full screen; the overlap is said.
void TestProvenanceGui::walkthroughFitsASmallScreen() {
    QStandardPaths::setTestModeEnabled(true);
    QTemporaryDir dir;
    MainWindow w(nullptr); // the offline demo: 3, 3 and 1 agents
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    QSignalSpy finished(&w, &MainWindow::runFinished);
    QVERIFY(w.startRun()); // the example prompt
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 60000);
    QPointer<LayersWalkthrough> walk = w.openWalkthrough();
    QVERIFY(walk);
    QVERIFY2(walk->width() <= w.availableArea().width() && walk->height() <= w.availableArea().height(),
             qPrintable(QStringLiteral("%1x%2").arg(walk->width()).arg(walk->height())));
    // 1024×700, or less on the test's screen (the offscreen screen is 800×800: narrower still).
    const QRect small = QRect(0, 0, 1024, 700).intersected(walk->screen()->availableGeometry());
    walk->showNormal(); // the window opens maximized (on a screen with a window manager)
    walk->fitTo(small);
    QTRY_VERIFY_WITH_TIMEOUT(walk->ready(), 20000);
    walk->setLayer(1);
    QTRY_VERIFY2_WITH_TIMEOUT(walk->width() <= small.width() && walk->height() <= small.height() && walk->width() >= small.width() * 9 / 10,
                              qPrintable(QStringLiteral("%1x%2 in %3x%4").arg(walk->width()).arg(walk->height()).arg(small.width()).arg(small.height())), 3000);
    QApplication::processEvents();
    // Every button whole in the window, large enough for a projector; the title beside them.
    for (QPushButton* b : walk->findChildren<QPushButton*>()) {
        QVERIFY2(walk->rect().contains(QRect(b->mapTo(walk, QPoint(0, 0)), b->size())),
                 qPrintable(b->text() + QStringLiteral(" at %1").arg(b->mapTo(walk, QPoint(0, 0)).x())));
        QVERIFY2(b->width() >= b->sizeHint().width() && b->font().pointSizeF() >= 14, qPrintable(b->text()));
    }
    QVERIFY(walk->nextButton()->isEnabled() && walk->previousButton()->isEnabled());
    QLabel* title = nullptr;
    for (auto* l : walk->findChildren<QLabel*>())
        if (l->text() == walk->heading()) title = l;
    QVERIFY(title && title->height() >= title->heightForWidth(title->width()));
    // Both columns ("What it was sent" | "Its answer") fit the page: nothing to scroll sideways.
    auto* page = walk->page();
    QVERIFY2(page->horizontalScrollBar()->maximum() == 0 && page->document()->size().width() <= page->viewport()->width() + 1,
             qPrintable(QStringLiteral("document %1 px in a page of %2 px").arg(page->document()->size().width()).arg(page->viewport()->width())));
    QVERIFY(walk->pageHtml().contains("Its answer"));
    // Shares adding up to more than the whole are explained, as in the panes.
    QVERIFY2(walk->pageHtml().contains("shares overlap"), qPrintable(walk->pageHtml().right(2000)));
    // F11: full screen and back.
    QTest::keyClick(walk, Qt::Key_F11);
    QTRY_VERIFY_WITH_TIMEOUT(walk->isFullScreen(), 3000);
    QTest::keyClick(walk, Qt::Key_F11);
    QTRY_VERIFY_WITH_TIMEOUT(!walk->isFullScreen(), 3000);
    walk->close();
}

void TestProvenanceGui::timelineHasAxisLegendAndTooltips() {
    TimelineView t;
    t.resize(900, 200);
    t.prepare(crafted_config());
    engine::RunRecord r = crafted();
    const double starts[] = {0, 0, 0, 1000}, firsts[] = {400, 250, 900, 1500}, ends[] = {900, 800, 950, 2300};
    for (int i = 0; i < 4; ++i) {
        auto& a = i < 3 ? r.layers[0].agents[static_cast<std::size_t>(i)] : r.layers[1].agents[0];
        a.start_ms = starts[i];
        a.ttft_ms = firsts[i] - starts[i];
        a.end_ms = ends[i];
    }
    r.totals.wall_ms = 2300;
    t.showRecord(r);
    // The axis: 1, 2 or 5 × 10^k seconds, from 0 to the run's end.
    QCOMPARE(TimelineView::tickStep(2300, 10), 500.0);
    QCOMPARE(TimelineView::tickStep(2300, 3), 1000.0);
    QCOMPARE(TimelineView::tickStep(90, 5), 20.0);
    // A 45 ms run: the labels read "0.01 s, 0.01 s, 0.01 s … 0.03 s"; now milliseconds, all distinct.
    for (double span : {45.0, 4.5, 0.45, 450.0, 2300.0, 45000.0})
        for (int max_ticks : {3, 5, 10, 13}) {
            const double step = TimelineView::tickStep(span, max_ticks);
            QStringList labels;
            for (double x = 0; x <= span + 1e-9; x += step) labels << TimelineView::tickLabel(x, step);
            QVERIFY2(labels.removeDuplicates() == 0, qPrintable(QString("span %1 ms: %2").arg(span).arg(labels.join(", "))));
        }
    QCOMPARE(TimelineView::tickLabel(10, 5), QString("10 ms"));
    QCOMPARE(TimelineView::tickLabel(400, 200), QString("0.4 s"));
    QCOMPARE(TimelineView::tickLabel(2000, 1000), QString("2 s"));
    const auto ticks = t.ticks();
    QVERIFY(ticks.size() >= 3);
    QCOMPARE(ticks.front(), 0.0);
    QVERIFY(ticks.back() <= 2300);
    // A bar's tooltip gives its times.
    const QRectF bar = t.barRect(1, 0);
    QVERIFY(!bar.isEmpty());
    const QString tip = t.toolTipAt(bar.center().toPoint());
    QVERIFY2(tip.contains("started at 1.00 s") && tip.contains("waited 0.50 s for the first token") &&
                 tip.contains("2.30 s") && tip.contains("0.80 s streaming"),
             qPrintable(tip));
    QVERIFY(t.toolTipAt(QPoint(5, 2)).isEmpty()); // the legend row
    // The two tones: lighter while waiting, solid while streaming; the legend says which is which.
    const QImage img = t.grab().toImage();
    const QColor waiting = img.pixelColor(QPointF(bar.left() + bar.width() * 0.2, bar.center().y()).toPoint());
    const QColor streaming = img.pixelColor(QPointF(bar.left() + bar.width() * 0.9, bar.center().y()).toPoint());
    QVERIFY2(waiting.lightness() > streaming.lightness() + 40, qPrintable(waiting.name() + " " + streaming.name()));
    QCOMPARE(img.pixelColor(13, 9).rgb(), waiting.rgb()); // the legend's "waiting for the first token" swatch: that tone
    QVERIFY(waiting.red() > waiting.blue() + 40);          // amber, as "waiting" is on the graph's nodes
}

void TestProvenanceGui::spansMapToTheViewsText() {
    // The measure's spans are UTF-8 bytes; the panes index the QString made from the same bytes,
    // whatever they hold: accents, a character outside the BMP (two UTF-16 units), bytes that
    // are not UTF-8 (a lone continuation byte, a cut sequence, an overlong one).
    const std::string texts[] = {"plain", "café crème", "a 😀 b", "x\x80y", "bad \xE2\x82 cut", "\xC0\xAF over", "\xF0\x9F\x98 end",
                                 "\xED\xA0\x80 surrogate", "\xF4\x90\x80\x80 past", "\xE0\x80\xAF over3"};
    for (const auto& t : texts) {
        const Utf16Map m(t);
        const QString q = QString::fromStdString(t);
        QCOMPARE(m.toUtf16(t.size()), static_cast<int>(q.size()));
        const auto space = t.rfind(' ');
        if (space != std::string::npos) // the last word starts at the same character in both
            QCOMPARE(q.mid(m.toUtf16(space + 1)), QString::fromStdString(t.substr(space + 1)));
    }
}

void TestProvenanceGui::renderedMarkdownMapsToItsText() {
    // Every word of the rendered document maps back to the same word of the Markdown, past
    // headings, list markers (bulleted and numbered), emphasis, links and their targets, inline
    // code, a code fence with its language, a quote, a table and entities.
    const QString md = "# Heading one\n\nIntro with **bold words** and *italic* and `inline code`.\n\n"
                       "- first item about [a link](https://example.com/a/very/long/path?q=item) here\n"
                       "- second item\n  continued line\n\n"
                       "3. numbered item\n4. another numbered\n\n"
                       "```cpp\nint code = 1;\n```\n\n"
                       "> quoted text &lt;tag&gt; &amp; more\n\n"
                       "| col | other |\n|-----|-------|\n| cell | value |\n\n"
                       "Last sentence with \\*escaped\\* stars.";
    QTextDocument doc;
    doc.setMarkdown(md);
    const RenderedTextMap map(md, doc);
    const QStringList words = {"Heading", "one", "Intro", "bold", "words", "italic", "inline", "code", "first", "item", "link", "here",
                               "second", "continued", "numbered", "another", "int", "code", "quoted", "tag", "more", "col", "other",
                               "cell", "value", "Last", "escaped", "stars"};
    QTextCursor at(&doc);
    int from = 0; // each word after the one before, in the source too
    for (const QString& w : words) {
        at = doc.find(w, at, QTextDocument::FindWholeWords | QTextDocument::FindCaseSensitively);
        QVERIFY2(!at.isNull(), qPrintable(w));
        const int src = map.toSource(at.selectionStart());
        QVERIFY2(md.mid(src, w.size()) == w, qPrintable(w + " -> " + md.mid(src, 20)));
        QVERIFY2(src >= from, qPrintable(w));
        from = src;
        // And back: the first rendered character from there is the word's.
        QCOMPARE(map.toDocument(src), at.selectionStart());
    }
    // Decoded entities stand where their entity stands, and do not push what follows.
    const QTextCursor lt = doc.find("<");
    QVERIFY(!lt.isNull());
    QCOMPARE(md.mid(map.toSource(lt.selectionStart()), 4), QString("&lt;"));
}

void TestProvenanceGui::clickInTheFinalAnswerLightsTheSameSources() {
    // The aggregator answers in Markdown (a heading, bold text, a list with emphasis and a link,
    // a code block): a click on a sentence in the rendered final view lights the same sources,
    // with the same shares, as a click on that sentence in the aggregator's own pane.
    engine::RunRecord r = crafted();
    r.layers[1].agents[0].text = "## Water and ice\n\n**Ice melts at zero degrees.** Sugar dissolves fast in tea.\n\n"
                                 "- Water boils at *one hundred* degrees.\n"
                                 "- Salt raises the [boiling point](https://example.com/boiling).\n\n"
                                 "```\nH2O stays water\n```\n";
    r.final_text = r.layers[1].agents[0].text;
    Shown s(r);
    s.view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&s.view));
    QTRY_VERIFY_WITH_TIMEOUT(s.view.provenance() != nullptr && !s.view.isCatchingUp(), 10000);
    QVERIFY(!s.view.finalIsPlainText());
    QCOMPARE(s.view.finalAgent(), qMakePair(1, 0));
    AgentPane* agg = s.view.pane(1, 0);
    // What is lit: every pane's marks (text and colour) and notes.
    auto lit = [&] {
        QStringList out;
        for (int l = 0; l < 2; ++l)
            for (int j = 0; j < (l == 0 ? 3 : 1); ++j) {
                AgentPane* p = s.view.pane(l, j);
                out << QString("L%1.%2 note: %3").arg(l + 1).arg(j + 1).arg(p->sentenceNote());
                for (const auto& m : p->body()->extraSelections())
                    out << QString("  [%1] %2").arg(m.format.background().color().name(QColor::HexArgb), m.cursor.selectedText());
            }
        return out;
    };
    auto click = [](auto* view, QTextDocument* doc, int position) {
        QTextCursor c(doc);
        c.setPosition(position);
        view->ensureCursorVisible();
        QTest::mouseClick(view->viewport(), Qt::LeftButton, {}, view->cursorRect(c).center());
    };
    auto* fin = s.view.finalView();
    const QStringList phrases = {"Ice melts", "Sugar dissolves", "Water boils", "Salt raises"};
    for (const QString& phrase : phrases) {
        // In the aggregator's pane.
        const int at = agg->text().indexOf(phrase) + 4;
        click(agg->body(), agg->body()->document(), agg->body()->documentPosition(at));
        const QStringList from_pane = lit();
        QVERIFY2(!agg->sentenceNote().isEmpty(), qPrintable(phrase));
        QVERIFY2(from_pane.join('\n').contains("of the selected sentence of L2.1 comes from this answer"), qPrintable(from_pane.join('\n')));
        // Cleared (a click in a proposer's pane), then in the rendered final view.
        click(s.view.pane(0, 2)->body(), s.view.pane(0, 2)->body()->document(), 0);
        QVERIFY(lit().join('\n').count("[") == 0);
        QVERIFY(fin->extraSelections().isEmpty());
        const QTextCursor found = fin->document()->find(phrase);
        QVERIFY2(!found.isNull(), qPrintable(phrase));
        click(fin, fin->document(), found.selectionStart() + 4);
        QCOMPARE(lit(), from_pane);
        // The sentence is marked in the final view itself, with the aggregator's note above it.
        const auto marks = fin->extraSelections();
        QVERIFY(!marks.isEmpty());
        QVERIFY2(marks.front().cursor.selectedText().contains(phrase), qPrintable(marks.front().cursor.selectedText()));
        QVERIFY(marks.front().format.fontUnderline());
        QCOMPARE(s.view.finalSentenceNote(), agg->sentenceNote());
    }
    // The bold sentence comes whole from L1.1 and lights it there.
    const QTextCursor ice = fin->document()->find("Ice melts");
    click(fin, fin->document(), ice.selectionStart() + 2);
    QCOMPARE(s.view.pane(0, 0)->body()->extraSelections().front().cursor.selectedText(), QString("Ice melts at zero degrees."));
    QVERIFY2(s.view.finalSentenceNote().contains("100% from L1.1"), qPrintable(s.view.finalSentenceNote()));
    QCOMPARE(fin->extraSelections().front().cursor.selectedText(), QString("Ice melts at zero degrees."));
    // A click in a proposer's pane clears the final view's marks too.
    click(s.view.pane(0, 2)->body(), s.view.pane(0, 2)->body()->document(), 0);
    QVERIFY(fin->extraSelections().isEmpty());
    QVERIFY(s.view.finalSentenceNote().isEmpty());
}

// Issue 12: model text "\u202Eevil" read "live" in the panes, the final answer, the Messages…
// window and the walkthrough. Each bidirectional control is shown as a mark "⟨U+202E⟩" and
// obeyed nowhere, and the marks move no offset: a click on a sentence after a control lights
// exactly that sentence, in the panes and in the rendered final answer.
void TestProvenanceGui::bidiControlsAreShownNotObeyed() {
    const QString rlo = QString(QChar(0x202E)), pdf = QString(QChar(0x202C)), lri = QString(QChar(0x2066)), pdi = QString(QChar(0x2069));
    engine::RunRecord r = crafted();
    r.layers[0].agents[0].text = "Water boils at one hundred degrees. \u202Eevil\u202C twin. Ice melts at zero degrees.";
    r.layers[1].agents[0].text = "**Sugar** dissolves fast in tea. \u202Eevil\u202C twin \u2066here\u2069. Ice melts at zero degrees. "
                                 "Water boils at one hundred degrees.";
    r.final_text = r.layers[1].agents[0].text;
    for (auto& a : r.layers[0].agents) a.messages = {{"user", "What is \u202Eevil\u200F?"}};
    Shown s(r);
    s.view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&s.view));
    QTRY_VERIFY_WITH_TIMEOUT(s.view.provenance() != nullptr && !s.view.isCatchingUp(), 10000);
    QVERIFY(!s.view.finalIsPlainText());
    auto no_control = [](const QString& t) {
        for (QChar c : t)
            if (bidi::isControl(c)) return false;
        return true;
    };
    // The panes: no raw control in the document, each shown by name; text() stays exact.
    AgentPane* agg = s.view.pane(1, 0);
    AgentPane* src = s.view.pane(0, 0);
    QVERIFY2(no_control(agg->body()->document()->toPlainText()), qPrintable(agg->body()->document()->toPlainText()));
    QVERIFY2(no_control(src->body()->document()->toPlainText()), qPrintable(src->body()->document()->toPlainText()));
    QCOMPARE(agg->body()->shownText(), QString::fromUtf8("Sugar dissolves fast in tea. \u27E8U+202E\u27E9evil\u27E8U+202C\u27E9 twin "
                                                         "\u27E8U+2066\u27E9here\u27E8U+2069\u27E9. Ice melts at zero degrees. "
                                                         "Water boils at one hundred degrees.")
                                            .replace("Sugar", "**Sugar**"));
    QCOMPARE(agg->text(), QString::fromStdString(r.layers[1].agents[0].text));
    QVERIFY(agg->body()->document()->documentLayout()->handlerForObject(bidi::kObjectType));
    {   // The mark takes the room of its name on screen (it is drawn, not an empty box).
        const int mark = agg->body()->documentPosition(static_cast<int>(agg->text().indexOf(rlo)));
        const QTextBlock b = agg->body()->document()->findBlock(mark);
        const QTextLine line = b.layout()->lineForTextPosition(mark - b.position());
        QVERIFY(line.isValid());
        const qreal room = line.cursorToX(mark - b.position() + 1) - line.cursorToX(mark - b.position());
        QVERIFY2(room > agg->body()->fontMetrics().horizontalAdvance("U+202E") / 2.0, qPrintable(QString::number(room)));
        if (qEnvironmentVariableIsSet("MOA_TEST_GRAB")) agg->body()->grab().save(qEnvironmentVariable("MOA_TEST_GRAB"));
    }
    // The final answer (rendered Markdown): the same.
    auto* fin = s.view.finalView();
    QVERIFY2(no_control(fin->document()->toPlainText()), qPrintable(fin->document()->toPlainText()));
    QVERIFY2(s.view.finalShownText().contains(QString::fromUtf8("\u27E8U+202E\u27E9evil\u27E8U+202C\u27E9 twin \u27E8U+2066\u27E9here")),
             qPrintable(s.view.finalShownText()));
    // A click on the sentence after the controls, in the aggregator's pane: exactly that
    // sentence lit, there and in its source (where a control stands before it too).
    auto click = [](auto* view, QTextDocument* doc, int position) {
        QTextCursor c(doc);
        c.setPosition(position);
        view->ensureCursorVisible();
        QTest::mouseClick(view->viewport(), Qt::LeftButton, {}, view->cursorRect(c).center());
    };
    const QString ice = "Ice melts at zero degrees.";
    click(agg->body(), agg->body()->document(), agg->body()->documentPosition(agg->text().indexOf("Ice melts") + 4));
    QVERIFY(!agg->body()->extraSelections().isEmpty());
    QCOMPARE(agg->body()->extraSelections().front().cursor.selectedText(), ice);
    QCOMPARE(src->body()->extraSelections().size(), 1);
    QCOMPARE(src->body()->extraSelections().front().cursor.selectedText(), ice);
    QVERIFY2(agg->sentenceNote().contains("100% from L1.1"), qPrintable(agg->sentenceNote()));
    // The same click in the rendered final answer.
    click(s.view.pane(0, 2)->body(), s.view.pane(0, 2)->body()->document(), 0);
    QVERIFY(fin->extraSelections().isEmpty());
    const QTextCursor found = fin->document()->find("Ice melts");
    QVERIFY(!found.isNull());
    click(fin, fin->document(), found.selectionStart() + 4);
    QVERIFY(!fin->extraSelections().isEmpty());
    QCOMPARE(fin->extraSelections().front().cursor.selectedText(), ice);
    QCOMPARE(src->body()->extraSelections().front().cursor.selectedText(), ice);
    // And the sentence before the controls still maps (the marks push nothing).
    const QTextCursor water = fin->document()->find("Water boils");
    click(fin, fin->document(), water.selectionStart() + 4);
    QCOMPARE(fin->extraSelections().front().cursor.selectedText(), QString("Water boils at one hundred degrees."));
    // Copying a mark gives the control back (the text as written).
    QTextCursor all(fin->document());
    all.select(QTextCursor::Document);
    fin->setTextCursor(all);
    QMimeData* copied = static_cast<SafeTextBrowser*>(fin)->createMimeDataFromSelectionForTest();
    QVERIFY2(copied->text().contains(rlo + "evil" + pdf + " twin " + lri + "here" + pdi), qPrintable(copied->text()));
    delete copied;
    // The Messages… window's view (a StreamTextView, as the panes).
    StreamTextView messages;
    messages.appendStream(QString::fromUtf8("── user ──\nWhat is \u202Eevil\u200F?\n\n"));
    QVERIFY(no_control(messages.document()->toPlainText()));
    QVERIFY2(messages.shownText().contains(QString::fromUtf8("What is \u27E8U+202E\u27E9evil\u27E8U+200F\u27E9?")), qPrintable(messages.shownText()));
    QCOMPARE(messages.text(), QString::fromUtf8("── user ──\nWhat is \u202Eevil\u200F?\n\n"));
    // The walkthrough names them (its HTML holds no raw control).
    LayersWalkthrough w(r);
    w.show();
    QTRY_VERIFY_WITH_TIMEOUT(w.ready(), 10000);
    for (int l = 0; l < 2; ++l) {
        const QString html = w.pageHtml();
        QVERIFY2(no_control(html), qPrintable(html));
        QVERIFY2(html.contains(QString::fromUtf8("\u27E8U+202E\u27E9")), qPrintable(html));
        QVERIFY2(no_control(w.page()->toPlainText()), qPrintable(w.page()->toPlainText()));
        QTest::keyClick(&w, Qt::Key_Right);
    }
}

QTEST_MAIN(TestProvenanceGui)
#include "tst_provenance_gui.moc"
