// SPDX-License-Identifier: MIT
// ROUGE-L, the overlap measure of the refinement view.
#include <QtTest>

#include "engine/replay.h"
#include "eval/overlap.h"

using moa::eval::rouge_l;

class TestOverlap : public QObject {
    Q_OBJECT
private slots:
    void identicalTextsScoreOne();
    void disjointTextsScoreZero();
    void knownExample();
    void caseAndPunctuationAreIgnored();
    void longTextsAreBounded();
    void diffKeepsBothTextsExactly();
    void diffOfLongTextsFallsBackToLines();
    void replayEventsFollowTheRecordedTimeline();
    void replayWithoutATimelineSpreadsTheText();
};

namespace {
QString side(const moa::eval::TextDiff& d, bool left) {
    QString out;
    for (const auto& p : d.pieces)
        if (p.op == moa::eval::DiffPiece::Op::Equal || (left ? p.op == moa::eval::DiffPiece::Op::Delete
                                                             : p.op == moa::eval::DiffPiece::Op::Insert))
            out += QString::fromStdString(p.text);
    return out;
}
} // namespace

void TestOverlap::diffKeepsBothTextsExactly() {
    using Op = moa::eval::DiffPiece::Op;
    const std::string a = "The quick brown fox jumps over the lazy dog.\nSecond line.";
    const std::string b = "The quick red fox leaps over the lazy dog!\nSecond line.";
    auto d = moa::eval::diff_texts(a, b);
    QCOMPARE(side(d, true), QString::fromStdString(a));
    QCOMPARE(side(d, false), QString::fromStdString(b));
    QCOMPARE(d.granularity, moa::eval::TextDiff::Granularity::Words);
    QStringList deleted, inserted;
    for (const auto& p : d.pieces) {
        if (p.op == Op::Delete) deleted << QString::fromStdString(p.text);
        if (p.op == Op::Insert) inserted << QString::fromStdString(p.text);
    }
    QCOMPARE(deleted, (QStringList{"brown ", "jumps ", "."})); // a word with its spaces
    QCOMPARE(inserted, (QStringList{"red ", "leaps ", "!"}));
    QCOMPARE(d.shared_a, double(a.size() - 13) / double(a.size())); // all but "brown ", "jumps ", "."
    auto same = moa::eval::diff_texts(a, a);
    QCOMPARE(same.pieces.size(), std::size_t(1));
    QCOMPARE(same.shared_a, 1.0);
    auto none = moa::eval::diff_texts("", "new");
    QCOMPARE(side(none, false), QString("new"));
}

void TestOverlap::diffOfLongTextsFallsBackToLines() {
    std::string a, b;
    for (int i = 0; i < 3000; ++i) {
        a += "line " + std::to_string(i) + " of the first answer\n";
        b += "line " + std::to_string(i * 7) + " of the other answer\n";
    }
    auto d = moa::eval::diff_texts(a, b, 1'000'000);
    QVERIFY(d.granularity != moa::eval::TextDiff::Granularity::Words);
    QCOMPARE(side(d, true), QString::fromStdString(a));
    QCOMPARE(side(d, false), QString::fromStdString(b));
}

void TestOverlap::replayEventsFollowTheRecordedTimeline() {
    using T = moa::engine::Event::Type;
    moa::engine::RunRecord r;
    r.status = moa::engine::RunStatus::Done;
    r.layers.resize(2);
    moa::engine::AgentRecord a;
    a.layer = 0, a.index = 0, a.state = moa::engine::AgentState::Done, a.attempts = 1;
    a.text = "héllo wörld, again";
    a.start_ms = 10, a.end_ms = 400, a.ttft_ms = 50;
    a.timeline = {{60, 6}, {120, 13}, {300, 19}};
    r.layers[0].agents.push_back(a);
    r.layers[0].start_ms = 5, r.layers[0].end_ms = 400;
    moa::engine::AgentRecord f = a;
    f.layer = 1, f.text = "final", f.start_ms = 410, f.end_ms = 500, f.timeline.clear(), f.ttft_ms = 20;
    r.layers[1].agents.push_back(f);
    r.layers[1].start_ms = 405, r.layers[1].end_ms = 500;
    r.final_text = "final";
    r.totals.wall_ms = 501;
    auto ev = moa::engine::replay_events(r);
    for (std::size_t i = 1; i < ev.size(); ++i) QVERIFY(ev[i].t_ms >= ev[i - 1].t_ms);
    QString grown;
    QList<double> at;
    for (const auto& e : ev)
        if (e.type == T::AgentDelta && e.layer == 0) grown += QString::fromStdString(e.text), at << e.t_ms;
    QCOMPARE(grown, QString::fromUtf8("héllo wörld, again"));
    QCOMPARE(at, (QList<double>{60, 120, 300, 400})); // the rest of the text at the end
    QCOMPARE(ev.front().type, T::RunStarted);
    QCOMPARE(ev.back().type, T::RunDone);
    QVERIFY(ev.back().final_record);
    int started = 0;
    for (const auto& e : ev)
        if (e.type == T::AgentStarted) {
            ++started;
            QVERIFY(e.record && e.record->text.empty());
        }
    QCOMPARE(started, 2);
}

void TestOverlap::replayWithoutATimelineSpreadsTheText() {
    moa::engine::RunRecord r;
    r.status = moa::engine::RunStatus::Done;
    r.layers.resize(1);
    moa::engine::AgentRecord a;
    a.state = moa::engine::AgentState::Done, a.attempts = 1;
    for (int i = 0; i < 100; ++i) a.text += "wörd" + std::to_string(i) + " ";
    a.start_ms = 0, a.ttft_ms = 100, a.end_ms = 1100;
    r.layers[0].agents.push_back(a);
    QString grown;
    int pieces = 0;
    double first = -1;
    for (const auto& e : moa::engine::replay_events(r))
        if (e.type == moa::engine::Event::Type::AgentDelta) {
            grown += QString::fromStdString(e.text);
            ++pieces;
            if (first < 0) first = e.t_ms;
            QVERIFY(!QString::fromStdString(e.text).contains(QChar(0xFFFD))); // never a cut character
        }
    QCOMPARE(grown, QString::fromStdString(a.text));
    QVERIFY(pieces >= 20);
    QCOMPARE(first, 100.0);
}

void TestOverlap::identicalTextsScoreOne() { QCOMPARE(rouge_l("the cat sat", "the cat sat").f, 1.0); }

void TestOverlap::disjointTextsScoreZero() {
    QCOMPARE(rouge_l("alpha beta", "gamma delta").f, 0.0);
    QCOMPARE(rouge_l("", "gamma").f, 0.0);
}

void TestOverlap::knownExample() {
    // Lin (2004): reference "police killed the gunman", candidate "police kill the gunman":
    // LCS = "police the gunman" = 3; P = R = 3/4.
    auto r = rouge_l("police kill the gunman", "police killed the gunman");
    QCOMPARE(r.lcs, std::size_t(3));
    QCOMPARE(r.precision, 0.75);
    QCOMPARE(r.recall, 0.75);
    QCOMPARE(r.f, 0.75);
    // Candidate with the words out of order: "the gunman kill police" keeps only "the gunman".
    QCOMPARE(rouge_l("the gunman kill police", "police killed the gunman").lcs, std::size_t(2));
}

void TestOverlap::caseAndPunctuationAreIgnored() { QCOMPARE(rouge_l("Hello, World!", "hello world").f, 1.0); }

void TestOverlap::longTextsAreBounded() {
    std::string a, b;
    for (int i = 0; i < 20000; ++i) {
        a += "w" + std::to_string(i % 50) + " ";
        b += "w" + std::to_string(i % 49) + " ";
    }
    auto r = rouge_l(a, b, 2000);
    QVERIFY(r.f > 0 && r.f <= 1);
}

QTEST_GUILESS_MAIN(TestOverlap)
#include "tst_overlap.moc"
