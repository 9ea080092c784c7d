// SPDX-License-Identifier: MIT
// An upstream that keeps a stream alive without adding to the answer (keep-alive comments, empty
// deltas) or that never stops adding to it: the call ends in bounded time, with a message naming
// the timeout, and the run goes on without it. Real HTTP against the local scripted server.
#include <QElapsedTimer>
#include <QtTest>

#include "config/config.h"
#include "engine/engine.h"
#include "run_helpers.h"
#include "test_server.h"

using namespace moa;
using namespace testing_support;

class TestCallDeadlines : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void streamThatStopsAddingTextFailsOnTheIdleTimeout_data();
    void streamThatStopsAddingTextFailsOnTheIdleTimeout();
    void streamOfWhitespaceFailsOnTheIdleTimeout();
    void streamThatNeverEndsFailsOnTheCallDeadline();
    void callDeadlineCoversTheWaitsBetweenRetries();
    void callTimeoutIsReadAndChecked();

private:
    std::unique_ptr<TestServer> server_;
};

void TestCallDeadlines::initTestCase() {
    server_ = std::make_unique<TestServer>();
    QVERIFY(server_->ok());
}

void TestCallDeadlines::streamThatStopsAddingTextFailsOnTheIdleTimeout_data() {
    QTest::addColumn<QString>("mode");
    QTest::newRow("keep-alive comments") << "comment";
    QTest::newRow("empty deltas") << "empty";
}

void TestCallDeadlines::streamThatStopsAddingTextFailsOnTheIdleTimeout() {
    QFETCH(QString, mode);
    // One token, then a filler every 50 ms for a minute: the transport sees bytes all the time,
    // so only a timer that counts answer text ends it.
    const std::string n = nonce();
    const std::string bad = "keepalive?mode=" + mode.toStdString() + "&every_ms=50&seconds=60&tag=KA-" + n;
    auto cfg = make_config(config_json(server_->base_url(), {{bad, "ok?tag=G-" + n}, {"ok?tag=F-" + n}},
                                       {{"idle_timeout_ms", 600}, {"max_retries", 0}}));
    QElapsedTimer clock;
    clock.start();
    auto rec = run_to_end(cfg, "Hi", nullptr, 50'000);
    const qint64 took = clock.elapsed();
    qInfo("%s: the run ended after %lld ms", qPrintable(mode), took);
    QCOMPARE(rec.status, engine::RunStatus::Done); // the run goes on without the stalled agent
    const auto& a = rec.layers[0].agents[0];
    QCOMPARE(a.state, engine::AgentState::Dropped);
    QVERIFY(a.error);
    QVERIFY2(a.error->find("no answer text for 600 ms (idle_timeout_ms) after 6 bytes of answer") != std::string::npos,
             a.error->c_str());
    QVERIFY2(a.error->find("provider \"local\"") != std::string::npos, a.error->c_str());
    QCOMPARE(a.text, std::string("First "));
    // Bounded: far below the minute the server would go on for (generous for a loaded machine).
    QVERIFY2(took < 30'000, qPrintable(QString::number(took)));
}

void TestCallDeadlines::streamOfWhitespaceFailsOnTheIdleTimeout() {
    // One token, then deltas of spaces, newlines and tabs every 50 ms for a minute: text of a
    // kind, but nothing a reader gets; the call ends at the idle timeout, not the 15 min deadline.
    const std::string n = nonce();
    const std::string bad = "keepalive?mode=blank&every_ms=50&seconds=60&tag=WS-" + n;
    auto cfg = make_config(config_json(server_->base_url(), {{bad, "ok?tag=G-" + n}, {"ok?tag=F-" + n}},
                                       {{"idle_timeout_ms", 600}, {"max_retries", 0}}));
    QElapsedTimer clock;
    clock.start();
    auto rec = run_to_end(cfg, "Hi", nullptr, 50'000);
    const qint64 took = clock.elapsed();
    qInfo("whitespace: the run ended after %lld ms", took);
    QCOMPARE(rec.status, engine::RunStatus::Done);
    const auto& a = rec.layers[0].agents[0];
    QCOMPARE(a.state, engine::AgentState::Dropped);
    QVERIFY(a.error);
    QVERIFY2(a.error->find("no answer text for 600 ms (idle_timeout_ms)") != std::string::npos, a.error->c_str());
    QVERIFY2(a.error->find("whitespace") != std::string::npos, a.error->c_str());
    QVERIFY(a.text.rfind("First ", 0) == 0);
    QVERIFY2(took < 30'000, qPrintable(QString::number(took)));
}

void TestCallDeadlines::streamThatNeverEndsFailsOnTheCallDeadline() {
    // A real token every 50 ms for a minute: never idle, so only the call's total deadline ends it.
    const std::string n = nonce();
    const std::string bad = "keepalive?mode=trickle&every_ms=50&seconds=60&tag=TR-" + n;
    auto cfg = make_config(config_json(server_->base_url(), {{bad, "ok?tag=G-" + n}, {"ok?tag=F-" + n}},
                                       {{"idle_timeout_ms", 600}, {"call_timeout_ms", 2000}, {"max_retries", 0}}));
    QElapsedTimer clock;
    clock.start();
    auto rec = run_to_end(cfg, "Hi", nullptr, 50'000);
    const qint64 took = clock.elapsed();
    qInfo("trickle: the run ended after %lld ms", took);
    QCOMPARE(rec.status, engine::RunStatus::Done);
    const auto& a = rec.layers[0].agents[0];
    QCOMPARE(a.state, engine::AgentState::Dropped);
    QVERIFY(a.error);
    QVERIFY2(a.error->find("the call took longer than 2000 ms (call_timeout_ms) after 1 attempt") != std::string::npos,
             a.error->c_str());
    QVERIFY(a.text.rfind("First more ", 0) == 0); // what had arrived is kept
    QVERIFY2(took >= 2000 && took < 30'000, qPrintable(QString::number(took)));
}

void TestCallDeadlines::callDeadlineCoversTheWaitsBetweenRetries() {
    // A server that keeps answering 503 and asks to come back in 1 s: with a 1.5 s deadline the
    // call fails during its wait, not after all its retries.
    const std::string n = nonce();
    const std::string bad = "fail-then-ok?status=503&times=100&retry_after=1&tag=RT-" + n;
    auto cfg = make_config(config_json(server_->base_url(), {{bad, "ok?tag=G-" + n}, {"ok?tag=F-" + n}},
                                       {{"call_timeout_ms", 1500}, {"max_retries", 20}, {"retry_max_ms", 5000}}));
    QElapsedTimer clock;
    clock.start();
    auto rec = run_to_end(cfg, "Hi", nullptr, 50'000);
    const qint64 took = clock.elapsed();
    const auto& a = rec.layers[0].agents[0];
    QCOMPARE(a.state, engine::AgentState::Dropped);
    QVERIFY(a.error);
    QVERIFY2(a.error->find("the call took longer than 1500 ms (call_timeout_ms) after 2 attempts") != std::string::npos,
             a.error->c_str());
    QVERIFY2(took < 20'000, qPrintable(QString::number(took)));
}

void TestCallDeadlines::callTimeoutIsReadAndChecked() {
    auto j = config_json(server_->base_url(), {{"ok"}}, {{"call_timeout_ms", 30000}});
    auto good = config::load_config_text(j.dump(2), "deadline.moa.json");
    QVERIFY2(good.ok(), good.summary().c_str());
    QCOMPARE(good.config->providers.at("local").call_timeout_ms, 30000L);
    QCOMPARE(config::to_json(*good.config)["providers"]["local"]["call_timeout_ms"].get<long>(), 30000L);
    QCOMPARE(config::Provider().call_timeout_ms, 900'000L); // the documented default
    j["providers"]["local"]["call_timeout_ms"] = 0;
    auto bad = config::load_config_text(j.dump(2), "deadline.moa.json");
    QVERIFY(!bad.ok());
    QVERIFY2(bad.summary().find("/providers/local/call_timeout_ms") != std::string::npos, bad.summary().c_str());
}

QTEST_GUILESS_MAIN(TestCallDeadlines)
#include "tst_call_deadlines.moc"
