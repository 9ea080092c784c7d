// SPDX-License-Identifier: MIT
// ROUGE-L, the overlap measure of the refinement view.
#include <QtTest>

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
};

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
