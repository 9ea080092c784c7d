// SPDX-License-Identifier: MIT
// How a run ended, in the words every view uses: a run that went on without an agent is not
// simply "done". Checked against records built by hand.
#include <QtTest>

#include "engine/run_outcome.h"

using namespace moa::engine;

namespace {
RunRecord record(RunStatus status, std::vector<std::vector<AgentState>> layers) {
    RunRecord r;
    r.status = status;
    for (std::size_t li = 0; li < layers.size(); ++li) {
        LayerRecord L;
        for (std::size_t ai = 0; ai < layers[li].size(); ++ai) {
            AgentRecord a;
            a.layer = static_cast<int>(li);
            a.index = static_cast<int>(ai);
            a.state = layers[li][ai];
            L.agents.push_back(a);
        }
        r.layers.push_back(L);
    }
    return r;
}
} // namespace

class TestRunOutcome : public QObject {
    Q_OBJECT
private slots:
    void words() {
        using S = AgentState;
        QCOMPARE(outcome_text(record(RunStatus::Done, {{S::Done, S::Done}, {S::Done}})), std::string("done"));
        QCOMPARE(outcome_text(record(RunStatus::Done, {{S::Done, S::Dropped}, {S::Done}})), std::string("done — 1 of 3 dropped"));
        // A stored record may still say "failed" for an agent the run went on without.
        QCOMPARE(outcome_text(record(RunStatus::Done, {{S::Failed, S::Dropped, S::Done}, {S::Done}})),
                 std::string("done — 2 of 4 dropped"));
        QCOMPARE(outcome_text(record(RunStatus::Failed, {{S::Failed, S::Failed}, {S::Queued}})), std::string("failed"));
        QCOMPARE(outcome_text(record(RunStatus::Cancelled, {{S::Dropped, S::Cancelled}, {S::Queued}})), std::string("cancelled"));
        // The history's counts give the same words.
        QCOMPARE(outcome_text(Outcome{"done", 3, 1}), std::string("done — 1 of 3 dropped"));
        QCOMPARE(outcome_text(Outcome{"done", 3, 0}), std::string("done"));
    }
};

QTEST_MAIN(TestRunOutcome)
#include "tst_run_outcome.moc"
