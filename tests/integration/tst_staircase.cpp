// SPDX-License-Identifier: MIT
// Staircase streaming and layer quorums/deadlines over real HTTP (libcurl against
// tests/servers/openai_server.py on 127.0.0.1): the exact messages of each step, repeat removal,
// cancel and failure inside a staircase, cut agents whose connections really close, the sums.
#include <algorithm>
#include <set>
#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QtTest>

#include "config/config.h"
#include "engine/engine.h"
#include "engine/prompt_builder.h"
#include "engine/replay.h"
#include "engine/run_outcome.h"
#include "engine/run_provenance.h"
#include "eval/experiment.h"
#include "eval/provenance.h"
#include "eval/sweep.h"
#include "run_helpers.h"
#include "store/history.h"
#include "test_server.h"
#include "util/resources.h"

using namespace moa;
using namespace testing_support;
using T = engine::Event::Type;
using nlohmann::json;

namespace {
// The scripted answer of openai_server.py for `tag` with `refs` references and `words` words.
std::string scripted(const std::string& tag, int refs, int words) {
    std::string s = tag + " answers with " + std::to_string(refs) + " references.";
    for (int i = 0; i < words; ++i) s += " w" + std::to_string(i);
    return s;
}

json staircase(json c, int chunk, const std::string& continuation = "instruction") {
    c["pipelining"] = {{"mode", "staircase"}, {"chunk_tokens", chunk}, {"continuation", continuation}};
    return c;
}

// The text of the agent's AgentDelta events, in order.
std::string streamed(EventLog& log, int layer, int agent) {
    std::lock_guard<std::mutex> lock(log.mu);
    std::string s;
    for (const auto& e : log.events)
        if (e.type == T::AgentDelta && e.layer == layer && e.agent == agent) s += e.text;
    return s;
}

bool wait_until(const std::function<bool()>& cond, int ms = 30000) {
    QElapsedTimer t;
    t.start();
    while (!cond()) {
        if (t.elapsed() > ms) return false;
        QTest::qWait(20);
    }
    return true;
}
} // namespace

class TestStaircase : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void stepsSendExactMessages_data();
    void stepsSendExactMessages();
    void threeLayersPipelineAllTheWay();
    void stepEventsFollowTheRecordLiveAndReplayed();
    void repeatAtAStepsStartIsRemoved();
    void cancelInTheMiddleOfAStaircase();
    void proposerFailingMidStaircaseIsLeftOut();
    void quorumCutsTheStragglerAndClosesItsCall();
    void deadlineCutsWithWhatFinished();
    void deadlineWithNoneFinishedTakesTheFirst();
    void accountingSumsTheSteps();
    void historyKeepsTheSteps();
    void barrierRunsReportTheFinalTtft();
    void cliRunJsonAndHistoryShowKeepTheSteps();
    void cliTextKeepsTheLiveAnswerInOnePiece();
    void validateNamesFileLineAndPointer();
    void latencySweepWritesTheVariants();
    void selectingAggregatorWaitsForCompleteAnswers();
    void maxTokensCapsTheWholeAnswer();
    void stopBeforeTheReferencesEndWaitsForThemAll();
    void stepMessagesAreKeptWithinABudget();
    void demoContinuesItsOwnAnswer_data();
    void demoContinuesItsOwnAnswer();

private:
    std::unique_ptr<TestServer> server_;
    std::string url() const { return server_->base_url(); }
    std::vector<QJsonObject> bodies_for(const std::string& model) {
        std::vector<QJsonObject> out;
        for (const auto& r : server_->requests())
            if (r.toObject()["model"].toString().toStdString() == model) out.push_back(r.toObject()["body"].toObject());
        return out;
    }
    int aborted(const std::string& model) {
        auto stats = QJsonDocument::fromJson(http_get(url().substr(0, url().size() - 3) + "/_stats")).object();
        return stats["aborted"].toObject()[QString::fromStdString(model)].toInt();
    }
};

void TestStaircase::initTestCase() {
    server_ = std::make_unique<TestServer>();
    QVERIFY2(server_->ok(), "the local test server did not start");
}

void TestStaircase::stepsSendExactMessages_data() {
    QTest::addColumn<QString>("continuation");
    QTest::newRow("instruction") << "instruction";
    QTest::newRow("assistant_prefix") << "assistant_prefix";
    QTest::newRow("continue_final_message") << "continue_final_message";
}

void TestStaircase::stepsSendExactMessages() {
    QFETCH(QString, continuation);
    const std::string n = nonce();
    const std::string p1 = "ok?words=60&delay_ms=15&tag=P1" + n, p2 = "ok?words=60&delay_ms=15&tag=P2" + n;
    const std::string agg = "ok?words=30&tag=A" + n;
    const int chunk = 8;
    auto c = make_config(staircase(config_json(url(), {{p1, p2}, {agg}}), chunk, continuation.toStdString()));
    EventLog log;
    auto rec = run_to_end(c, "Q?", &log);
    QCOMPARE(rec.status, engine::RunStatus::Done);
    const auto& a = rec.layers[1].agents[0];
    QVERIFY2(a.steps.size() >= 3, qPrintable(QString::number(a.steps.size())));
    // One continuous answer: the steps' texts, the streamed deltas and the final text agree, and
    // are the scripted answer as if written in one call.
    std::string joined;
    for (const auto& st : a.steps) joined += st.text;
    QCOMPARE(QString::fromStdString(joined), QString::fromStdString(a.text));
    QCOMPARE(QString::fromStdString(streamed(log, 1, 0)), QString::fromStdString(a.text));
    QCOMPARE(QString::fromStdString(a.text), QString::fromStdString(scripted("A" + n, 2, 30)));
    QCOMPARE(*rec.final_text, a.text);

    // What the server received is what each step records, step by step.
    auto bodies = bodies_for(agg);
    QCOMPARE(bodies.size(), a.steps.size());
    std::string so_far;
    for (std::size_t k = 0; k < a.steps.size(); ++k) {
        const auto& st = a.steps[k];
        const QJsonObject& b = bodies[k];
        const QJsonArray msgs = b["messages"].toArray();
        QCOMPARE(static_cast<std::size_t>(msgs.size()), st.messages.size());
        for (int i = 0; i < msgs.size(); ++i) {
            QCOMPARE(msgs[i].toObject()["role"].toString().toStdString(), st.messages[i].role);
            QCOMPARE(msgs[i].toObject()["content"].toString().toStdString(), st.messages[i].content);
            QCOMPARE(msgs[i].toObject()["prefix"].toBool(), st.messages[i].prefix);
        }
        // Steps while the references grow write at most chunk_tokens; the last to the agent's own.
        QCOMPARE(st.last, k + 1 == a.steps.size());
        if (st.last) QVERIFY(!b.contains("max_tokens"));
        else QCOMPARE(b["max_tokens"].toInt(), chunk);
        const std::string system = st.messages[0].content;
        QVERIFY(system.find("\n1. P1" + n) != std::string::npos);
        QVERIFY(system.find("\n2. P2" + n) != std::string::npos);
        const bool marked = system.find(engine::kStillBeingWritten) != std::string::npos;
        QCOMPARE(marked, !st.last); // only complete references in the last step
        // The answer so far, continued the configured way (none in the first step).
        const auto& last_msg = st.messages.back();
        if (k == 0) {
            QCOMPARE(st.messages.size(), std::size_t(2));
            QCOMPARE(last_msg.content, std::string("Q?"));
        } else if (continuation == "instruction") {
            QCOMPARE(st.messages.size(), std::size_t(2));
            QCOMPARE(last_msg.content, "Q?\n\n" + std::string(engine::kContinueInstruction) + "\n<<<ANSWER SO FAR\n" + so_far +
                                           "\nANSWER SO FAR>>>");
            QVERIFY(!b.contains("continue_final_message"));
        } else {
            QCOMPARE(st.messages.size(), std::size_t(3));
            QCOMPARE(last_msg.role, std::string("assistant"));
            QCOMPARE(last_msg.content, so_far);
            QCOMPARE(last_msg.prefix, continuation == "assistant_prefix");
            QCOMPARE(b["continue_final_message"].toBool(), continuation == "continue_final_message");
            QCOMPARE(b.contains("add_generation_prompt"), continuation == "continue_final_message");
            if (continuation == "continue_final_message") QCOMPARE(b["add_generation_prompt"].toBool(), false);
        }
        so_far += st.text;
    }
    // The first step started before the proposers had finished: that is the point.
    QVERIFY(a.steps[0].start_ms < rec.layers[0].agents[0].end_ms);
    QVERIFY(rec.totals.ttft_ms);
    QVERIFY(*rec.totals.ttft_ms < rec.layers[0].end_ms);
    // The JSON of `moa run --json`: the steps, in order.
    auto j = engine::to_json(rec);
    QCOMPARE(j["layers"][1]["agents"][0]["steps"].size(), a.steps.size());
    QCOMPARE(j["layers"][1]["agents"][0]["steps"][0]["text"].get<std::string>(), a.steps[0].text);
    QVERIFY(j["totals"]["ttft_ms"].is_number());
}

void TestStaircase::threeLayersPipelineAllTheWay() {
    const std::string n = nonce();
    const std::string p1 = "ok?words=120&delay_ms=15&tag=P1" + n, p2 = "ok?words=120&delay_ms=15&tag=P2" + n;
    const std::string m1 = "ok?words=60&tag=M1" + n, m2 = "ok?words=60&tag=M2" + n, agg = "ok?words=30&tag=A" + n;
    auto c = make_config(staircase(config_json(url(), {{p1, p2}, {m1, m2}, {agg}}), 8));
    EventLog log;
    auto rec = run_to_end(c, "Q?", &log);
    QCOMPARE(rec.status, engine::RunStatus::Done);
    // The middle layer and the final aggregator both ran in steps, the final one starting while
    // the middle layer (and the proposers) still wrote.
    for (const auto& a : rec.layers[1].agents) {
        QVERIFY(a.steps.size() >= 2);
        QCOMPARE(QString::fromStdString(a.text), QString::fromStdString(scripted(a.index == 0 ? "M1" + n : "M2" + n, 2, 60)));
    }
    const auto& f = rec.layers[2].agents[0];
    QVERIFY(f.steps.size() >= 2);
    QVERIFY(f.steps[0].start_ms < rec.layers[1].agents[0].end_ms);
    QVERIFY(f.steps[0].start_ms < rec.layers[0].agents[0].end_ms);
    QVERIFY(*rec.totals.ttft_ms < rec.layers[0].end_ms);
    QCOMPARE(QString::fromStdString(*rec.final_text), QString::fromStdString(scripted("A" + n, 2, 30)));
    QCOMPARE(QString::fromStdString(streamed(log, 2, 0)), QString::fromStdString(f.text));
    // The layers overlapped, so the slowest agents' times summed (3 layers' worth) would exceed
    // the wall time; the critical path is the span of the chain of calls instead, never more
    // than the wall time and never less than the final agent's own time.
    double summed = 0;
    for (const auto& L : rec.layers) {
        double m = 0;
        for (const auto& a : L.agents) m = std::max(m, a.duration_ms);
        summed += m;
    }
    QVERIFY2(summed > rec.totals.wall_ms, qPrintable(QStringLiteral("%1 %2").arg(summed).arg(rec.totals.wall_ms)));
    QVERIFY2(rec.totals.critical_path_ms <= rec.totals.wall_ms,
             qPrintable(QStringLiteral("critical path %1 ms, wall %2 ms").arg(rec.totals.critical_path_ms).arg(rec.totals.wall_ms)));
    QVERIFY(rec.totals.critical_path_ms >= f.duration_ms);
}

namespace {
// The staircase events of a run (AgentStep, AgentStepDone), in the order they came.
std::vector<engine::Event> step_events(const std::vector<engine::Event>& all) {
    std::vector<engine::Event> out;
    for (const auto& e : all)
        if (e.type == T::AgentStep || e.type == T::AgentStepDone) out.push_back(e);
    return out;
}
QString describe(const engine::Event& e) {
    return QStringLiteral("%1 L%2.%3 step %4 at %5").arg(engine::to_string(e.type)).arg(e.layer).arg(e.agent).arg(e.step).arg(e.t_ms, 0, 'f', 6);
}
} // namespace

// Every step of a live staircase run is announced as it starts (AgentStep, at the step's recorded
// start, with the messages it sent) and as it ends (AgentStepDone, at its recorded end, with its
// first-token time and usage), in order, before the agent's end; the replay of the record sends
// the same sequence, so the timeline draws live and replayed runs through one path.
void TestStaircase::stepEventsFollowTheRecordLiveAndReplayed() {
    const std::string n = nonce();
    const std::string p1 = "ok?words=90&delay_ms=15&tag=P1" + n, p2 = "ok?words=90&delay_ms=15&tag=P2" + n;
    const std::string m1 = "ok?words=40&delay_ms=5&tag=M1" + n, agg = "ok?words=30&delay_ms=5&tag=A" + n;
    auto c = make_config(staircase(config_json(url(), {{p1, p2}, {m1}, {agg}}), 8));
    EventLog log;
    auto rec = run_to_end(c, "Q?", &log);
    QCOMPARE(rec.status, engine::RunStatus::Done);
    std::vector<engine::Event> all;
    {
        std::lock_guard<std::mutex> lock(log.mu);
        all = log.events;
    }
    int announced = 0;
    for (const auto& L : rec.layers)
        for (const auto& a : L.agents) {
            if (a.layer > 0) QVERIFY2(a.steps.size() >= 2, qPrintable(QString("L%1: %2 steps").arg(a.layer).arg(a.steps.size())));
            else QVERIFY(a.steps.empty());
            // This agent's events: each step starts, then ends, then the next starts; the agent's
            // end comes after its last step's.
            std::size_t next = 0;
            bool begun = false, over = false;
            for (const auto& e : all) {
                if (e.layer != a.layer || e.agent != a.index) continue;
                if (e.type == T::AgentDone || e.type == T::AgentFailed) over = true;
                if (e.type != T::AgentStep && e.type != T::AgentStepDone) continue;
                QVERIFY2(!over, qPrintable(describe(e) + " after the agent's end"));
                QVERIFY2(next < a.steps.size(), qPrintable(describe(e) + ": more steps than recorded"));
                const auto& st = a.steps[next];
                QCOMPARE(e.step, static_cast<int>(next));
                QVERIFY(e.step_record.has_value());
                if (e.type == T::AgentStep) {
                    QVERIFY2(!begun, qPrintable(describe(e)));
                    begun = true;
                    QCOMPARE(e.t_ms, st.start_ms); // the recorded start, to the bit
                    QCOMPARE(e.step_record->start_ms, st.start_ms);
                    QCOMPARE(e.step_record->messages, st.messages);
                    QCOMPARE(e.step_record->last, st.last);
                    ++announced;
                } else {
                    QVERIFY2(begun, qPrintable(describe(e) + " before its start"));
                    begun = false;
                    QCOMPARE(e.t_ms, st.end_ms);
                    QVERIFY(st.end_ms >= st.start_ms);
                    QCOMPARE(e.step_record->end_ms, st.end_ms);
                    QCOMPARE(e.step_record->ttft_ms, st.ttft_ms);
                    QCOMPARE(e.step_record->usage.completion_tokens, st.usage.completion_tokens);
                    QCOMPARE(e.step_record->text, st.text);
                    QVERIFY(e.step_record->messages.empty()); // sent with its start
                    ++next;
                }
            }
            QVERIFY(over);
            QCOMPARE(next, a.steps.size());
        }
    QVERIFY(announced >= 4);
    // Live: the aggregator's second step began before the proposers ended (the staircase).
    QVERIFY(rec.layers[2].agents[0].steps[1].start_ms < rec.layers[0].end_ms);

    // The replay of the record: the identical sequence.
    const auto live = step_events(all);
    const auto replayed = step_events(engine::replay_events(rec));
    QCOMPARE(replayed.size(), live.size());
    for (std::size_t k = 0; k < live.size(); ++k) {
        const auto& x = live[k];
        const auto& y = replayed[k];
        QVERIFY2(x.type == y.type && x.layer == y.layer && x.agent == y.agent && x.step == y.step && x.t_ms == y.t_ms,
                 qPrintable(QString("#%1: live %2, replayed %3").arg(k).arg(describe(x), describe(y))));
        QCOMPARE(y.step_record->messages, x.step_record->messages);
        QCOMPARE(y.step_record->ttft_ms, x.step_record->ttft_ms);
        QCOMPARE(y.step_record->end_ms, x.step_record->end_ms);
    }
    // The events' JSON (`moa run --events`): the step's index, its messages at its start, its
    // record without them at its end.
    const auto first = live.front().to_json();
    QCOMPARE(first["event"].get<std::string>(), std::string("agent_step"));
    QCOMPARE(first["step"].get<int>(), 0);
    QVERIFY(first["messages"].is_array() && !first["messages"].empty());
    const auto ends = std::find_if(live.begin(), live.end(), [&](const engine::Event& e) {
        return e.type == T::AgentStepDone && e.layer == live.front().layer && e.agent == live.front().agent;
    });
    QVERIFY(ends != live.end());
    const auto end = ends->to_json();
    QCOMPARE(end["event"].get<std::string>(), std::string("agent_step_done"));
    QCOMPARE(end["step"].get<int>(), 0);
    QVERIFY(end["step_record"]["start_ms"].is_number() && !end["step_record"].contains("messages"));
}

void TestStaircase::repeatAtAStepsStartIsRemoved() {
    const std::string n = nonce();
    const std::string p1 = "ok?words=60&delay_ms=15&tag=P1" + n;
    const std::string agg = "ok?words=30&repeat=2&tag=A" + n; // each continuation repeats its last 2 words first
    auto c = make_config(staircase(config_json(url(), {{p1}, {agg}}), 8));
    EventLog log;
    auto rec = run_to_end(c, "Q?", &log);
    QCOMPARE(rec.status, engine::RunStatus::Done);
    const auto& a = rec.layers[1].agents[0];
    QVERIFY(a.steps.size() >= 3);
    QCOMPARE(QString::fromStdString(a.text), QString::fromStdString(scripted("A" + n, 1, 30)));
    QCOMPARE(QString::fromStdString(streamed(log, 1, 0)), QString::fromStdString(a.text));
    QCOMPARE(a.steps[0].repeat_removed, std::size_t(0));
    for (std::size_t k = 1; k < a.steps.size(); ++k)
        if (!a.steps[k].text.empty() || k + 1 < a.steps.size())
            QVERIFY2(a.steps[k].repeat_removed > 0, qPrintable(QString::number(k)));
}

void TestStaircase::cancelInTheMiddleOfAStaircase() {
    const std::string n = nonce();
    const std::string p1 = "ok?words=400&delay_ms=20&tag=P1" + n, p2 = "ok?words=400&delay_ms=20&tag=P2" + n;
    const std::string agg = "ok?words=30&delay_ms=20&tag=A" + n;
    auto c = make_config(staircase(config_json(url(), {{p1, p2}, {agg}},
                                               {{"models", {{agg, {{"input_usd_per_mtok", 1.0},
                                                                   {"output_usd_per_mtok", 2.0},
                                                                   {"active_params_b", 7}}}}}}),
                                   8));
    static accounting::Catalog catalog;
    engine::Engine engine(catalog);
    EventLog log;
    auto run = engine.start(c, engine::RunInput::from_prompt("Q?"), log.sink());
    // Once the aggregator's second step (or a later one) has begun to write: its start is still
    // held back to tell a repeat, so what arrived is not in its text yet.
    QVERIFY(wait_until([&] {
        const auto r = run->record();
        const auto& steps = r.layers[1].agents[0].steps;
        return steps.size() >= 2 && steps.back().end_ms == 0 && steps.back().ttft_ms.has_value();
    }));
    QElapsedTimer t;
    t.start();
    run->cancel();
    QVERIFY(run->wait_for(std::chrono::seconds(10)));
    QVERIFY2(t.elapsed() < 5000, "cancel took too long");
    auto rec = run->record();
    QCOMPARE(rec.status, engine::RunStatus::Cancelled);
    for (const auto& L : rec.layers)
        for (const auto& a : L.agents) QCOMPARE(a.state, engine::AgentState::Cancelled);
    // The step the cancel stopped ended then, and was said to: each announced step has its end.
    const auto& agg_rec = rec.layers[1].agents[0];
    QVERIFY(agg_rec.steps.back().end_ms >= agg_rec.steps.back().start_ms && agg_rec.steps.back().end_ms > 0);
    QCOMPARE(log.count(T::AgentStep), static_cast<int>(agg_rec.steps.size()));
    QCOMPARE(log.count(T::AgentStepDone), static_cast<int>(agg_rec.steps.size()));
    // What the stopped step wrote was paid for as far as the stream went: estimated and costed, as
    // for a cut step (it counted 0 tokens and $0), and the agent's figures are the steps' sums.
    const auto& stopped = agg_rec.steps.back();
    QVERIFY(stopped.usage.estimated);
    QVERIFY(stopped.usage.prompt_tokens > 0 && stopped.usage.completion_tokens > 0);
    QVERIFY(stopped.cost_usd && *stopped.cost_usd > 0 && stopped.tflops && *stopped.tflops > 0);
    long prompt = 0, completion = 0;
    double cost = 0;
    for (const auto& st : agg_rec.steps) {
        QVERIFY(st.cost_usd);
        prompt += st.usage.prompt_tokens;
        completion += st.usage.completion_tokens;
        cost += *st.cost_usd;
    }
    QCOMPARE(agg_rec.usage.prompt_tokens, prompt);
    QCOMPARE(agg_rec.usage.completion_tokens, completion);
    QVERIFY(agg_rec.usage.estimated);
    QCOMPARE(*agg_rec.cost_usd, cost);
    QVERIFY(rec.totals.completion_tokens >= completion);
    // The proposers' connections were closed (the server saw them end before their answers did).
    QVERIFY(wait_until([&] { return aborted(p1) == 1 && aborted(p2) == 1; }));
}

void TestStaircase::proposerFailingMidStaircaseIsLeftOut() {
    const std::string n = nonce();
    const std::string good = "ok?words=80&delay_ms=15&tag=G" + n;
    const std::string bad = "cut?words=40&delay_ms=15&tag=B" + n; // its stream breaks half-way
    const std::string agg = "ok?words=30&tag=A" + n;
    auto c = make_config(staircase(config_json(url(), {{good, bad}, {agg}}), 8));
    auto rec = run_to_end(c, "Q?");
    QCOMPARE(rec.status, engine::RunStatus::Done);
    QCOMPARE(rec.layers[0].agents[1].state, engine::AgentState::Dropped);
    const auto& a = rec.layers[1].agents[0];
    QVERIFY(a.steps.size() >= 2);
    // Steps before the failure read both answers; the last reads the good one with the usual note.
    QVERIFY(a.steps.front().messages[0].content.find("\n2. B" + n) != std::string::npos);
    const std::string& last = a.steps.back().messages[0].content;
    QVERIFY(last.find("\n2. ") == std::string::npos);
    QVERIFY2(last.find("Note: 1 of 2 responses is missing because its model failed.") != std::string::npos, last.c_str());
    QCOMPARE(rec.layers[0].missing, 1);
    QCOMPARE(QString::fromStdString(engine::outcome_text(rec)), QStringLiteral("done — 1 of 3 dropped"));
    // Provenance counts what the aggregator was really sent: the failed answer's start went into
    // its first steps, so it is a source with a share, not "not sent".
    const auto prov = engine::compute_provenance(rec);
    const auto& src = prov.layers[1][0].sources;
    QCOMPARE(src.size(), std::size_t(2));
    QVERIFY2(src[1].share.has_value(), src[1].missing.c_str());
    QVERIFY(src[0].share.has_value());
}

void TestStaircase::quorumCutsTheStragglerAndClosesItsCall() {
    const std::string n = nonce();
    const std::string f1 = "ok?words=10&tag=F1" + n, f2 = "ok?words=10&tag=F2" + n;
    const std::string slow = "ok?words=400&delay_ms=50&tag=S" + n;
    auto j = config_json(url(), {{f1, slow, f2}, {"ok?tag=A" + n}});
    j["layers"][0]["quorum"] = 2;
    EventLog log;
    QElapsedTimer t;
    t.start();
    auto rec = run_to_end(make_config(j), "Q?", &log);
    QVERIFY2(t.elapsed() < 10000, "the straggler held the layer");
    QCOMPARE(rec.status, engine::RunStatus::Done);
    const auto& s = rec.layers[0].agents[1];
    QCOMPARE(s.state, engine::AgentState::Cut);
    QCOMPARE(QString::fromStdString(s.error.value_or("")), QStringLiteral("cut: the layer's quorum of 2 was reached"));
    QCOMPARE(rec.layers[0].missing, 1);
    const std::string& prompt = rec.layers[1].agents[0].messages[0].content;
    QVERIFY2(prompt.find("Note: 1 of 3 responses is missing because its model was stopped at the layer's quorum or "
                         "deadline.") != std::string::npos,
             prompt.c_str());
    QCOMPARE(QString::fromStdString(rec.layers[1].agents[0].text), QString::fromStdString(scripted("A" + n, 2, 12)));
    QCOMPARE(QString::fromStdString(engine::outcome_text(rec)), QStringLiteral("done — 1 of 4 cut"));
    QCOMPARE(QString::fromStdString(engine::to_json(rec)["layers"][0]["agents"][1]["state"].get<std::string>()),
             QStringLiteral("cut"));
    // In a barrier run the cut answer was never sent: provenance says so.
    const auto prov = engine::compute_provenance(rec);
    QVERIFY(!prov.layers[1][0].sources[1].share);
    QVERIFY2(prov.layers[1][0].sources[1].missing.find("not sent") != std::string::npos, prov.layers[1][0].sources[1].missing.c_str());
    // Its call was really closed: the server saw the connection end mid-answer.
    QVERIFY(wait_until([&] { return aborted(slow) == 1; }));
}

void TestStaircase::deadlineCutsWithWhatFinished() {
    const std::string n = nonce();
    const std::string fast = "ok?words=5&tag=F" + n, slow = "ok?words=400&delay_ms=50&tag=S" + n;
    auto j = config_json(url(), {{fast, slow}, {"ok?tag=A" + n}});
    j["layers"][0]["deadline_ms"] = 600;
    auto rec = run_to_end(make_config(j), "Q?");
    QCOMPARE(rec.status, engine::RunStatus::Done);
    QCOMPARE(rec.layers[0].agents[0].state, engine::AgentState::Done);
    QCOMPARE(rec.layers[0].agents[1].state, engine::AgentState::Cut);
    QCOMPARE(QString::fromStdString(rec.layers[0].agents[1].error.value_or("")),
             QStringLiteral("cut: the layer's deadline of 600 ms passed"));
    QVERIFY(rec.layers[0].end_ms - rec.layers[0].start_ms < 5000);
    QVERIFY(wait_until([&] { return aborted(slow) == 1; }));
}

void TestStaircase::deadlineWithNoneFinishedTakesTheFirst() {
    const std::string n = nonce();
    const std::string first = "ok?words=20&delay_ms=30&tag=F" + n, slow = "ok?words=400&delay_ms=50&tag=S" + n;
    auto j = config_json(url(), {{slow, first}, {"ok?tag=A" + n}});
    j["layers"][0]["deadline_ms"] = 50; // before anyone can finish
    auto rec = run_to_end(make_config(j), "Q?");
    QCOMPARE(rec.status, engine::RunStatus::Done);
    QCOMPARE(rec.layers[0].agents[1].state, engine::AgentState::Done);
    QCOMPARE(rec.layers[0].agents[0].state, engine::AgentState::Cut);
    QVERIFY(rec.layers[0].agents[0].end_ms >= rec.layers[0].agents[1].end_ms);
    QVERIFY(wait_until([&] { return aborted(slow) == 1; }));
}

void TestStaircase::accountingSumsTheSteps() {
    const std::string n = nonce();
    const std::string p1 = "ok?words=60&delay_ms=15&tag=P1" + n, agg = "ok?words=30&tag=A" + n;
    auto j = staircase(config_json(url(), {{p1}, {agg}},
                                   {{"models", {{agg, {{"input_usd_per_mtok", 1.0}, {"output_usd_per_mtok", 2.0},
                                                       {"active_params_b", 7}}}}}}),
                       8);
    auto rec = run_to_end(make_config(j), "Q?");
    QCOMPARE(rec.status, engine::RunStatus::Done);
    const auto& a = rec.layers[1].agents[0];
    QVERIFY(a.steps.size() >= 2);
    long prompt = 0, completion = 0;
    double cost = 0, tflops = 0;
    int attempts = 0;
    for (const auto& st : a.steps) {
        QVERIFY(!st.usage.estimated); // the server reports usage for every call
        QVERIFY(st.cost_usd && st.tflops);
        QCOMPARE(st.ttft_ms.has_value(), !st.text.empty()); // a step that wrote nothing has no first token
        QVERIFY(st.duration_ms > 0);
        prompt += st.usage.prompt_tokens;
        completion += st.usage.completion_tokens;
        cost += *st.cost_usd;
        tflops += *st.tflops;
        attempts += st.attempts;
        QCOMPARE(*st.cost_usd, (st.usage.prompt_tokens * 1.0 + st.usage.completion_tokens * 2.0) / 1e6);
    }
    QCOMPARE(a.usage.prompt_tokens, prompt);
    QCOMPARE(a.usage.completion_tokens, completion);
    QCOMPARE(*a.cost_usd, cost);
    QCOMPARE(*a.tflops, tflops);
    QCOMPARE(a.attempts, attempts);
    // Every step re-sends the references: the staircase costs more prompt tokens than one call.
    QVERIFY(prompt > a.steps.back().usage.prompt_tokens);
    const auto& p = rec.layers[0].agents[0];
    QCOMPARE(rec.totals.prompt_tokens, p.usage.prompt_tokens + prompt);
    QCOMPARE(rec.totals.completion_tokens, p.usage.completion_tokens + completion);
}

void TestStaircase::historyKeepsTheSteps() {
    const std::string n = nonce();
    const std::string p1 = "ok?words=60&delay_ms=15&tag=P1" + n;
    const std::string agg = "ok?words=300&tag=A" + n; // long enough that later steps' messages are stored as blobs
    auto j = staircase(config_json(url(), {{p1}, {agg}}), 8, "assistant_prefix");
    auto c = make_config(j);
    auto rec = run_to_end(c, "Q?");
    QCOMPARE(rec.status, engine::RunStatus::Done);
    QVERIFY(rec.layers[1].agents[0].steps.size() >= 2);
    QTemporaryDir dir;
    auto h = store::History::open((dir.path() + "/h.sqlite").toStdString());
    QVERIFY(h.ok());
    auto id = (*h)->begin_run("cli", config::to_json(c), rec.input, c.name);
    QVERIFY(id.ok());
    QVERIFY((*h)->finish_run(*id, rec).ok());
    auto back = (*h)->load(*id);
    QVERIFY2(back.has_value(), (*h)->read_error().c_str());
    const auto& a = rec.layers[1].agents[0];
    const auto& b = back->layers[1].agents[0];
    QCOMPARE(b.steps.size(), a.steps.size());
    for (std::size_t k = 0; k < a.steps.size(); ++k) QCOMPARE(b.steps[k].messages, a.steps[k].messages);
    QVERIFY(b.steps.back().messages.back().prefix);
    QCOMPARE(QString::fromStdString(engine::to_json(*back).dump()), QString::fromStdString(engine::to_json(rec).dump()));
}

void TestStaircase::barrierRunsReportTheFinalTtft() {
    const std::string n = nonce();
    auto rec = run_to_end(make_config(config_json(url(), {{"ok?words=20&delay_ms=10&tag=P" + n}, {"ok?tag=A" + n}})), "Q?");
    QCOMPARE(rec.status, engine::RunStatus::Done);
    QVERIFY(rec.totals.ttft_ms);
    // From the run's start: after the proposer finished, before the run did.
    QVERIFY(*rec.totals.ttft_ms >= rec.layers[0].agents[0].end_ms);
    QVERIFY(*rec.totals.ttft_ms <= rec.totals.wall_ms);
    QVERIFY(rec.layers[1].agents[0].steps.empty());
}

void TestStaircase::cliRunJsonAndHistoryShowKeepTheSteps() {
    QTemporaryDir dir;
    auto env = QProcessEnvironment::systemEnvironment();
    env.insert("MOA_HISTORY_DB", dir.filePath("history.sqlite"));
    const std::string n = nonce();
    auto j = staircase(config_json(url(), {{"ok?words=60&delay_ms=15&tag=P" + n}, {"ok?words=30&tag=A" + n}}), 8);
    const QString f = write_file(dir, "s.moa.json", QByteArray::fromStdString(j.dump(2)));
    auto r = run_moa({"run", "--config", f, "--prompt", "Q?", "--json"}, {}, 60000, env);
    QVERIFY2(r.code == 0, r.err.constData());
    auto doc = json::parse(r.out.toStdString());
    const auto& agg = doc["layers"][1]["agents"][0];
    QVERIFY(agg["steps"].size() >= 2);
    std::string joined;
    long completion = 0;
    for (const auto& st : agg["steps"]) {
        joined += st["text"].get<std::string>();
        completion += st["usage"]["completion_tokens"].get<long>();
        QVERIFY(st["messages"].is_array());
    }
    QCOMPARE(QString::fromStdString(agg["text"].get<std::string>()), QString::fromStdString(joined));
    QCOMPARE(agg["usage"]["completion_tokens"].get<long>(), completion);
    QVERIFY(doc["totals"]["ttft_ms"].is_number());
    // The history shows the same document, steps and all.
    const int id = doc["history_id"].get<int>();
    doc.erase("history_id");
    auto shown = run_moa({"history", "show", QString::number(id), "--json"}, {}, 60000, env);
    QVERIFY2(shown.code == 0, shown.err.constData());
    QCOMPARE(QString::fromStdString(json::parse(shown.out.toStdString()).dump()), QString::fromStdString(doc.dump()));

    // --events: a line as each step starts (with the messages it sent) and as it ends, matching
    // the steps the agent's record lists at its end.
    auto ev = run_moa({"run", "--config", f, "--prompt", "Q?", "--events"}, {}, 60000, env);
    QVERIFY2(ev.code == 0, ev.err.constData());
    std::vector<json> begun, ended;
    json done;
    for (const auto& line : ev.out.split('\n')) {
        if (line.trimmed().isEmpty()) continue;
        auto e = json::parse(line.toStdString());
        const std::string type = e["event"].get<std::string>();
        if (type == "agent_step") begun.push_back(e);
        if (type == "agent_step_done") ended.push_back(e);
        if (type == "agent_done" && e["layer"] == 1) done = e;
    }
    QVERIFY2(done.is_object(), ev.out.constData());
    const auto& steps = done["agent_record"]["steps"];
    QVERIFY(steps.size() >= 2);
    QCOMPARE(begun.size(), steps.size());
    QCOMPARE(ended.size(), steps.size());
    for (std::size_t k = 0; k < steps.size(); ++k) {
        QCOMPARE(begun[k]["layer"].get<int>(), 1);
        QCOMPARE(begun[k]["step"].get<std::size_t>(), k);
        QCOMPARE(begun[k]["t_ms"].get<double>(), steps[k]["start_ms"].get<double>());
        QVERIFY(begun[k]["messages"].is_array() && !begun[k]["messages"].empty());
        QCOMPARE(ended[k]["step"].get<std::size_t>(), k);
        QCOMPARE(ended[k]["t_ms"].get<double>(), steps[k]["end_ms"].get<double>());
        QCOMPARE(ended[k]["step_record"]["text"], steps[k]["text"]);
    }
}

// moa run's text output with overlapping layers: the proposers finish while the aggregator
// already streams; their answers are printed after the live answer, not inside it.
void TestStaircase::cliTextKeepsTheLiveAnswerInOnePiece() {
    QTemporaryDir dir;
    auto env = QProcessEnvironment::systemEnvironment();
    env.insert("MOA_HISTORY_DB", dir.filePath("history.sqlite"));
    const std::string n = nonce();
    auto j = staircase(config_json(url(), {{"ok?words=80&delay_ms=15&tag=P1" + n, "ok?words=80&delay_ms=15&tag=P2" + n},
                                           {"ok?words=40&delay_ms=10&tag=A" + n}}),
                       8);
    const QString f = write_file(dir, "s.moa.json", QByteArray::fromStdString(j.dump(2)));
    auto r = run_moa({"run", "--config", f, "--prompt", "Q?", "--json"}, {}, 60000, env);
    QVERIFY2(r.code == 0, r.err.constData());
    const std::string final_text = json::parse(r.out.toStdString())["final"]["text"].get<std::string>();
    auto t = run_moa({"run", "--config", f, "--prompt", "Q?"}, {}, 60000, env);
    QVERIFY2(t.code == 0, t.err.constData());
    const std::string out = t.out.toStdString();
    // The whole final answer appears contiguously, and the proposers' answers after it.
    const auto at = out.find(final_text);
    QVERIFY2(at != std::string::npos, out.c_str());
    const auto p1 = out.find("L1.1 ");
    QVERIFY2(p1 != std::string::npos && p1 > at, out.c_str());
}

void TestStaircase::validateNamesFileLineAndPointer() {
    QTemporaryDir dir;
    auto j = config_json(url(), {{"ok", "ok"}, {"ok"}});
    j["pipelining"] = {{"mode", "stairs"}};
    j["layers"][0]["quorum"] = 3;
    j["layers"][1]["deadline_ms"] = 10;
    const QString f = write_file(dir, "bad.moa.json", QByteArray::fromStdString(j.dump(2)));
    auto r = run_moa({"validate", f});
    QVERIFY(r.code != 0);
    const QString err = QString::fromUtf8(r.out + r.err);
    for (const QString& want : {QString("/pipelining/mode: unknown mode \"stairs\""),
                                QString("/layers/0/quorum: quorum 3 is more than the layer's 2 agents"),
                                QString("/layers/1/deadline_ms: deadline_ms is for layers whose answers another layer reads")})
        QVERIFY2(err.contains(QRegularExpression("bad\\.moa\\.json:\\d+: " + QRegularExpression::escape(want))), qPrintable(err));
}

void TestStaircase::latencySweepWritesTheVariants() {
    auto j = config_json(url(), {{"ok?tag=a", "ok?tag=b", "ok?tag=c"}, {"ok?tag=agg"}});
    j["name"] = "Base";
    auto base = make_config(j);
    eval::SweepOptions o;
    o.kind = *eval::sweep_kind_from_string("latency");
    auto v = eval::make_sweep(base, o);
    QVERIFY(v.ok());
    QCOMPARE(v->size(), std::size_t(4));
    QCOMPARE(QString::fromStdString((*v)[0].name), QStringLiteral("Base — barrier"));
    QCOMPARE((*v)[0].pipelining.mode, config::Pipelining::Mode::Barrier);
    QCOMPARE(QString::fromStdString((*v)[1].name), QStringLiteral("Base — staircase, chunk 16"));
    QCOMPARE((*v)[1].pipelining.mode, config::Pipelining::Mode::Staircase);
    QCOMPARE((*v)[1].pipelining.chunk_tokens, 16);
    QCOMPARE((*v)[2].pipelining.chunk_tokens, 64);
    QCOMPARE(QString::fromStdString((*v)[3].name), QStringLiteral("Base — quorum n-1"));
    QCOMPARE((*v)[3].layers[0].quorum, std::optional<int>(2));
    QCOMPARE((*v)[3].pipelining.mode, config::Pipelining::Mode::Barrier);
    for (const auto& c : *v) {
        auto back = config::load_config_text(config::to_json(c).dump(), "v");
        QVERIFY2(back.ok(), back.summary().c_str());
    }
    // From the command line: the variants and an experiment over them.
    QTemporaryDir dir;
    const QString basef = write_file(dir, "base.moa.json", QByteArray::fromStdString(j.dump(2)));
    auto judge = config_json(url(), {{"judge"}});
    const QString judgef = write_file(dir, "judge.moa.json", QByteArray::fromStdString(judge.dump(2)));
    auto r = run_moa({"sweep", "--base", basef, "--kind", "latency", "--out", dir.filePath("sw"), "--judge", judgef,
                      "--reference", basef, "--sample", "2"});
    QVERIFY2(r.code == 0, r.err.constData());
    QVERIFY(r.err.contains("4 variants"));
    auto written = config::load_config_file(dir.filePath("sw/variant-02.moa.json").toStdString());
    QVERIFY2(written.ok(), written.summary().c_str());
    QCOMPARE(written.config->pipelining.mode, config::Pipelining::Mode::Staircase);
    // Its variants share calls (the same proposers): the experiment makes every call afresh, since
    // a cached call takes no time and would be measured as instant.
    auto exp = eval::load_experiment(dir.filePath("sw/sweep.moa-experiment.json").toStdString());
    QVERIFY2(exp.ok(), exp.ok() ? "" : exp.error().c_str());
    QVERIFY(!exp->cache_generations);

    // A base with a quorum of its own is a row as configured; the other variants are the plain ones.
    j["layers"][0]["quorum"] = 2;
    auto own = eval::make_sweep(make_config(j), o);
    QVERIFY(own.ok());
    QCOMPARE(own->size(), std::size_t(5));
    QCOMPARE(QString::fromStdString((*own)[0].name), QStringLiteral("Base — as configured"));
    QCOMPARE((*own)[0].layers[0].quorum, std::optional<int>(2));
    QVERIFY(!(*own)[1].layers[0].quorum);

    // A sweep whose variants would pass the loader's limits writes none (hostile review: 100
    // proposers were written, and the experiment then refused all of them).
    eval::SweepOptions many;
    many.kind = *eval::sweep_kind_from_string("proposers");
    many.max = 100;
    auto over = eval::make_sweep(base, many);
    QVERIFY(!over.ok());
    QVERIFY2(over.error().find("variant 65") != std::string::npos && over.error().find("at most 64") != std::string::npos,
             over.error().c_str());
    many.max = 64;
    QVERIFY(eval::make_sweep(base, many).ok());
}

// A selecting aggregator (select mode) cannot name the best answer before the answers are
// complete, and the answer it names is not its own to continue: in a staircase it runs once,
// after the previous layer, over complete references; the record and --json show no steps; and
// the final answer's first token is when the named answer is known (the ranker's end), not the
// first word of its reply. Layers before it still run in steps.
void TestStaircase::selectingAggregatorWaitsForCompleteAnswers() {
    const std::string n = nonce();
    const std::string p1 = "ok?words=60&delay_ms=10&tag=P1" + n, p2 = "ok?words=60&delay_ms=10&tag=P2" + n;
    const std::string m1 = "ok?words=40&tag=M1" + n, m2 = "ok?words=40&tag=M2" + n;
    // A ranker that explains itself, word by word: it names answer 2 well after its first word.
    const std::string ranker = "ok?reply=Response%202%20is%20the%20most%20complete%20of%20the%20two&delay_ms=40&tag=R" + n;
    for (const bool three : {false, true}) {
        auto j = staircase(three ? config_json(url(), {{p1, p2}, {m1, m2}, {ranker}}) : config_json(url(), {{p1, p2}, {ranker}}), 8);
        j["aggregation"] = {{"mode", "select"}};
        const auto before = bodies_for(ranker).size();
        EventLog log;
        auto rec = run_to_end(make_config(j), "Q?", &log);
        QCOMPARE(rec.status, engine::RunStatus::Done);
        const auto& prev = rec.layers[rec.layers.size() - 2];
        const auto& sel = rec.layers.back().agents.front();
        QVERIFY(sel.steps.empty());
        QCOMPARE(bodies_for(ranker).size(), before + 1); // one call
        QVERIFY(sel.messages[0].content.find(engine::kStillBeingWritten) == std::string::npos);
        for (const auto& a : prev.agents) QVERIFY(sel.start_ms >= a.end_ms);
        QCOMPARE(QString::fromStdString(*rec.final_text), QString::fromStdString(prev.agents[1].text));
        const auto js = engine::to_json(rec);
        QVERIFY(!js["layers"].back()["agents"][0].contains("steps"));
        QVERIFY(rec.totals.ttft_ms);
        QVERIFY2(*rec.totals.ttft_ms >= sel.end_ms - 1e-6,
                 qPrintable(QStringLiteral("final answer's first token at %1 ms, the ranker named it at %2 ms (its first word at %3 ms)")
                                .arg(*rec.totals.ttft_ms).arg(sel.end_ms).arg(sel.start_ms + sel.ttft_ms.value_or(0))));
        QCOMPARE(js["totals"]["ttft_ms"].get<double>(), *rec.totals.ttft_ms);
        if (three) // the middle layer synthesizes, so it still runs in steps
            for (const auto& a : rec.layers[1].agents) QVERIFY(a.steps.size() >= 2);
    }
}

// An agent's max_tokens caps its whole answer in a staircase, as in one call: each step used
// to be allowed chunk_tokens more and the last step max_tokens more (8 steps of 8 + 20 words
// for a max_tokens of 20). One that has used it up takes no more steps and ends once the layer
// before it has.
void TestStaircase::maxTokensCapsTheWholeAnswer() {
    const std::string n = nonce();
    const std::string p1 = "ok?words=120&delay_ms=15&tag=P1" + n, p2 = "ok?words=120&delay_ms=15&tag=P2" + n;
    const std::string agg = "ok?words=200&tag=A" + n;
    auto j = staircase(config_json(url(), {{p1, p2}, {agg}}), 8);
    j["layers"][1]["agents"][0]["max_tokens"] = 20;
    EventLog log;
    auto rec = run_to_end(make_config(j), "Q?", &log);
    QCOMPARE(rec.status, engine::RunStatus::Done);
    const auto& a = rec.layers[1].agents[0];
    QVERIFY2(a.steps.size() >= 3, qPrintable(QString::number(a.steps.size())));
    QCOMPARE(a.usage.completion_tokens, 20L);
    QCOMPARE(QString::fromStdString(a.text).split(' ', Qt::SkipEmptyParts).size(), 20);
    QVERIFY(scripted("A" + n, 2, 200).starts_with(a.text));
    QCOMPARE(QString::fromStdString(a.finish_reason), QStringLiteral("length"));
    QCOMPARE(QString::fromStdString(streamed(log, 1, 0)), QString::fromStdString(a.text));
    // What the server was asked: never more than what was left.
    long asked = 0;
    for (const auto& b : bodies_for(agg)) asked += b["max_tokens"].toInt();
    QCOMPARE(asked, 20L);
    // The layer before it finished first, whole.
    for (const auto& p : rec.layers[0].agents) {
        QCOMPARE(p.state, engine::AgentState::Done);
        QVERIFY(a.end_ms >= p.end_ms);
    }
    QVERIFY(rec.layers[1].end_ms >= rec.layers[0].end_ms);
}

// A step the model ended itself ("stop") while its references still grew: the answer is whole
// on what it read, so no step is taken again until every reference is complete, and then one
// last call reads them all. (It re-sent every reference each chunk for 0 new tokens: a review saw
// three such calls of ~900 prompt tokens each.)
void TestStaircase::stopBeforeTheReferencesEndWaitsForThemAll() {
    const std::string n = nonce();
    const std::string p1 = "ok?words=200&delay_ms=15&tag=P1" + n, p2 = "ok?words=200&delay_ms=15&tag=P2" + n;
    const std::string agg = "ok?words=12&tag=A" + n;
    auto rec = run_to_end(make_config(staircase(config_json(url(), {{p1, p2}, {agg}}), 8)), "Q?");
    QCOMPARE(rec.status, engine::RunStatus::Done);
    const auto& a = rec.layers[1].agents[0];
    QVERIFY2(a.steps.size() >= 2, qPrintable(QString::number(a.steps.size())));
    std::size_t stopped = a.steps.size();
    for (std::size_t k = 0; k < a.steps.size(); ++k)
        if (a.steps[k].finish_reason == "stop") {
            stopped = k;
            break;
        }
    QVERIFY2(stopped + 1 < a.steps.size() || a.steps[stopped].last, "no step ended with stop before the last");
    // At most one call after the stop, and it is the last step, started once the references were complete.
    QVERIFY2(a.steps.size() <= stopped + 2, qPrintable(QString::number(a.steps.size())));
    QVERIFY(a.steps.back().last);
    for (const auto& p : rec.layers[0].agents) QVERIFY(a.steps.back().start_ms >= p.end_ms);
    QCOMPARE(bodies_for(agg).size(), a.steps.size());
    QCOMPARE(a.text, scripted("A" + n, 2, 12));
}

// Every step re-sends the references (and here a 300 KB prompt): keeping each step's messages grew
// with the square of the answer (a review: chunk_tokens 1, 2.36 GB in memory and 478 MB of
// history for 900 KB of answers). An agent keeps them up to kStepMessagesKept bytes, the first and
// last step's always; the others record their size, in the record, its events and the history.
void TestStaircase::stepMessagesAreKeptWithinABudget() {
    const std::string n = nonce();
    const std::string p1 = "ok?words=160&delay_ms=5&tag=P1" + n, p2 = "ok?words=160&delay_ms=5&tag=P2" + n;
    const std::string agg = "ok?words=80&tag=A" + n;
    std::string prompt;
    while (prompt.size() < 300'000) prompt += "measure every word of this long question ";
    EventLog log;
    auto rec = run_to_end(make_config(staircase(config_json(url(), {{p1, p2}, {agg}}), 4)), prompt, &log);
    QCOMPARE(rec.status, engine::RunStatus::Done);
    const auto& a = rec.layers[1].agents[0];
    QVERIFY2(a.steps.size() >= 10, qPrintable(QString::number(a.steps.size())));
    const auto bodies = bodies_for(agg);
    QCOMPARE(bodies.size(), a.steps.size());
    std::size_t kept = 0, omitted = 0;
    for (std::size_t k = 0; k < a.steps.size(); ++k) {
        const auto& st = a.steps[k];
        std::size_t sent = 0;
        for (const auto& m : bodies[k]["messages"].toArray()) sent += static_cast<std::size_t>(m.toObject()["content"].toString().toUtf8().size());
        if (st.messages_omitted_bytes > 0) {
            QVERIFY(st.messages.empty());
            QCOMPARE(st.messages_omitted_bytes, sent); // the size of what was sent, exactly
            ++omitted;
        } else {
            QCOMPARE(engine::message_bytes(st.messages), sent);
            kept += sent;
        }
    }
    QVERIFY2(omitted > 0, "no step's messages were omitted");
    QVERIFY(!a.steps.front().messages.empty() && !a.steps.back().messages.empty());
    QVERIFY2(kept <= engine::kStepMessagesKept + engine::message_bytes(a.steps.back().messages),
             qPrintable(QString::number(kept)));
    // The events announce no omitted step's messages; the JSON says their size and reads back.
    std::lock_guard<std::mutex> lock(log.mu);
    for (const auto& e : log.events)
        if (e.type == T::AgentStep && e.layer == 1) {
            const auto& st = a.steps[static_cast<std::size_t>(e.step)];
            QCOMPARE(e.step_record->messages.empty(), st.messages_omitted_bytes > 0);
            QCOMPARE(e.step_record->messages_omitted_bytes, st.messages_omitted_bytes);
        }
    for (const auto& st : a.steps) {
        const auto back = engine::step_from_json(engine::to_json(st, true));
        QCOMPARE(back.messages_omitted_bytes, st.messages_omitted_bytes);
        QCOMPARE(back.messages.size(), st.messages.size());
    }
}

void TestStaircase::demoContinuesItsOwnAnswer_data() {
    QTest::addColumn<QString>("prompt");
    QTest::addColumn<QString>("continuation");
    QTest::addColumn<QString>("placement");
    QTest::newRow("tides, instruction") << "Why are there two tides a day?" << "instruction" << "system";
    QTest::newRow("bread, assistant_prefix") << "How does bread rise?" << "assistant_prefix" << "system";
    QTest::newRow("bees, continue_final_message") << "How do bees make honey?" << "continue_final_message" << "system";
    QTest::newRow("agents, instruction, user placement") << "What is a mixture of agents?" << "instruction" << "user";
    QTest::newRow("no keyword, assistant_prefix, user placement") << "Tell me something." << "assistant_prefix" << "user";
}

// The offline demo in a staircase continues its own answer: every agent after the first layer
// ends with the text it writes in one call (the barrier run's), nothing repeated or cut away.
// (The in-process demo is what this test is about; it stands in for no HTTP path.)
void TestStaircase::demoContinuesItsOwnAnswer() {
    QFETCH(QString, prompt);
    QFETCH(QString, continuation);
    QFETCH(QString, placement);
    auto loaded = config::load_config_file(resources::preset_path("offline-demo"));
    QVERIFY(loaded.ok());
    auto barrier = *loaded.config;
    barrier.providers["demo"].demo_tokens_per_second = 1000;
    barrier.providers["demo"].demo_first_token_ms = 0;
    barrier.aggregation.placement = placement == "user" ? config::Placement::User : config::Placement::System;
    auto stair = barrier;
    stair.pipelining.mode = config::Pipelining::Mode::Staircase;
    stair.pipelining.chunk_tokens = 8;
    stair.pipelining.continuation = continuation == "instruction"        ? config::Pipelining::Continuation::Instruction
                                    : continuation == "assistant_prefix" ? config::Pipelining::Continuation::AssistantPrefix
                                                                         : config::Pipelining::Continuation::ContinueFinalMessage;
    const auto b = run_to_end(barrier, prompt.toStdString());
    EventLog log;
    const auto s = run_to_end(stair, prompt.toStdString(), &log);
    QCOMPARE(b.status, engine::RunStatus::Done);
    QCOMPARE(s.status, engine::RunStatus::Done);
    for (std::size_t li = 1; li < s.layers.size(); ++li)
        for (const auto& a : s.layers[li].agents) {
            const auto& one_call = b.layers[li].agents[static_cast<std::size_t>(a.index)].text;
            QVERIFY2(a.steps.size() >= 2, qPrintable(QStringLiteral("layer %1 agent %2 took %3 steps")
                                                          .arg(li + 1).arg(a.index + 1).arg(a.steps.size())));
            QCOMPARE(QString::fromStdString(a.text), QString::fromStdString(one_call));
            QCOMPARE(QString::fromStdString(streamed(log, static_cast<int>(li), a.index)), QString::fromStdString(a.text));
            for (const auto& st : a.steps) QCOMPARE(st.repeat_removed, std::size_t(0)); // nothing to cut away
            // No sentence twice (the demo drops repeats within an answer).
            std::set<std::string> seen;
            for (const auto& sen : eval::split_text(a.text).sentences) {
                const std::string t = a.text.substr(sen.span.begin, sen.span.end - sen.span.begin);
                QVERIFY2(seen.insert(t).second, qPrintable(QString::fromStdString("repeated: " + t + "\nin: " + a.text)));
            }
        }
    QCOMPARE(QString::fromStdString(*s.final_text), QString::fromStdString(*b.final_text));
    // And it is a staircase: the final answer began before the proposers had all finished.
    const auto& f = s.layers.back().agents.front();
    double proposers_end = 0;
    for (const auto& a : s.layers[0].agents) proposers_end = std::max(proposers_end, a.end_ms);
    QVERIFY(f.steps.front().start_ms < proposers_end);
}

QTEST_GUILESS_MAIN(TestStaircase)
#include "tst_staircase.moc"
