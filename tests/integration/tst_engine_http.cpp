// SPDX-License-Identifier: MIT
// The engine over real HTTP: libcurl against tests/servers/openai_server.py on 127.0.0.1.
#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <cstdlib>
#include <fstream>

#include "config/config.h"
#include "engine/engine.h"
#include "run_helpers.h"
#include "test_server.h"

using namespace moa;
using namespace testing_support;
using T = engine::Event::Type;
using nlohmann::json;

namespace {
// A "Vm…:  1234 kB" field of /proc/self/status, in kB (-1 when absent).
long proc_status_kb(const std::string& field) {
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind(field + ":", 0) == 0) return std::atol(line.c_str() + field.size() + 1);
    return -1;
}
} // namespace

class TestEngineHttp : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void pacedStreamArrivesAsDeltas();
    void retriesAfter429HonouringRetryAfter();
    void retriesAfter503();
    void unauthorizedFailsAtOnceWithProviderMessage();
    void cutStreamFailsTheAgent();
    void malformedChunkFailsQuotingIt();
    void slowFirstTokenTimesOut();
    void cancelMidStreamStopsAtOnceAndClosesConnections();
    void cancelledDemoAgentCostsZeroNotUnknown();
    void noRateFromOneBurst();
    void sixAgentsOfALayerRunInParallel();
    void maxConcurrencyLimitsParallelCalls();
    void layerTwoReceivesExactlyLayerOneAnswers();
    void droppedAgentIsCountedAsMissing();
    void abortPolicyStopsTheRun();
    void layerWhereEveryAgentFailedEndsTheRun();
    void nonStreamingJsonResponseWorks();
    void connectionRefusedIsRetriedThenFails();
    void keyFromEnvironmentIsSentAsBearer();
    void usageMissingIsEstimatedAndMarked();
    void redirectToAnotherHostIsNotFollowed();
    void selfSignedServerNeedsItsCertificateOrAnExplicitOptOut();
    void hostileServersFailTheAgentWithBoundedMemory_data();
    void hostileServersFailTheAgentWithBoundedMemory();

private:
    std::unique_ptr<TestServer> server_;
    std::string url() const { return server_->base_url(); }
    QJsonArray requests_for(const std::string& model) {
        QJsonArray out;
        for (const auto& r : server_->requests())
            if (r.toObject()["model"].toString().toStdString() == model) out.append(r);
        return out;
    }
};

void TestEngineHttp::initTestCase() {
    server_ = std::make_unique<TestServer>();
    QVERIFY2(server_->ok(), "the local test server did not start");
}

void TestEngineHttp::pacedStreamArrivesAsDeltas() {
    std::string m = "ok?chunks=15&words=10&delay_ms=20&tag=paced-" + nonce();
    EventLog log;
    auto rec = run_to_end(make_config(config_json(url(), {{m}})), "Hello", &log);
    QCOMPARE(rec.status, engine::RunStatus::Done);
    QCOMPARE(log.count(T::AgentDelta), 15); // one event per streamed chunk
    const auto& a = rec.layers[0].agents[0];
    QVERIFY(QString::fromStdString(a.text).startsWith(QString::fromStdString("paced-")));
    QVERIFY(a.text.find("answers with 0 references.") != std::string::npos);
    QCOMPARE(*rec.final_text, a.text);
    QVERIFY(a.ttft_ms && *a.ttft_ms > 0 && *a.ttft_ms < a.duration_ms);
    QVERIFY(!a.usage.estimated);
    QCOMPARE(a.usage.completion_tokens, 15L); // "<tag> answers with 0 references." + 10 filler words
    QCOMPARE(a.attempts, 1);
    QCOMPARE(a.finish_reason, std::string("stop"));
}

void TestEngineHttp::retriesAfter429HonouringRetryAfter() {
    std::string m = "fail-then-ok?status=429&times=2&retry_after=0&tag=r429-" + nonce();
    EventLog log;
    auto rec = run_to_end(make_config(config_json(url(), {{m}})), "Hi", &log);
    QCOMPARE(rec.status, engine::RunStatus::Done);
    QCOMPARE(rec.layers[0].agents[0].attempts, 3);
    QCOMPARE(log.count(T::AgentRetry), 2);
    QCOMPARE(requests_for(m).size(), 3);
    // Retry-After: 0 was honoured exactly rather than the exponential backoff.
    for (const auto& e : log.events)
        if (e.type == T::AgentRetry) {
            QCOMPARE(e.delay_ms, 0L);
            QVERIFY(e.message.find("HTTP 429") != std::string::npos);
        }
}

void TestEngineHttp::retriesAfter503() {
    std::string m = "fail-then-ok?status=503&times=1&tag=r503-" + nonce();
    auto rec = run_to_end(make_config(config_json(url(), {{m}})), "Hi");
    QCOMPARE(rec.status, engine::RunStatus::Done);
    QCOMPARE(rec.layers[0].agents[0].attempts, 2);
    QCOMPARE(requests_for(m).size(), 2);
}

void TestEngineHttp::unauthorizedFailsAtOnceWithProviderMessage() {
    std::string m = "status?code=401&message=Invalid+API+key+provided&tag=" + nonce();
    auto rec = run_to_end(make_config(config_json(url(), {{m}}, {{"api_key_env", "MOA_TEST_UNSET_KEY_VAR"}})), "Hi");
    QCOMPARE(rec.status, engine::RunStatus::Failed);
    const auto& a = rec.layers[0].agents[0];
    QCOMPARE(a.attempts, 1);
    QCOMPARE(requests_for(m).size(), 1);
    QVERIFY2(a.error && a.error->find("provider \"local\"") != std::string::npos, a.error->c_str());
    QVERIFY2(a.error->find("HTTP 401: Invalid API key provided") != std::string::npos, a.error->c_str());
    QVERIFY2(a.error->find("MOA_TEST_UNSET_KEY_VAR is not set") != std::string::npos, a.error->c_str());
    QVERIFY(rec.error.find("Invalid API key provided") != std::string::npos);
}

void TestEngineHttp::cutStreamFailsTheAgent() {
    std::string m = "cut?chunks=10&tag=cut-" + nonce();
    auto rec = run_to_end(make_config(config_json(url(), {{m}})), "Hi");
    QCOMPARE(rec.status, engine::RunStatus::Failed);
    const auto& a = rec.layers[0].agents[0];
    QVERIFY2(a.error->find("cut") != std::string::npos, a.error->c_str());
    QVERIFY(!a.text.empty()); // what arrived is kept in the record
    QCOMPARE(requests_for(m).size(), 1); // tokens had arrived: no retry that would duplicate them
}

void TestEngineHttp::malformedChunkFailsQuotingIt() {
    std::string m = "malformed?chunks=6&tag=bad-" + nonce();
    auto rec = run_to_end(make_config(config_json(url(), {{m}})), "Hi");
    QCOMPARE(rec.status, engine::RunStatus::Failed);
    const auto& a = rec.layers[0].agents[0];
    QVERIFY2(a.error->find("not valid JSON") != std::string::npos, a.error->c_str());
    QVERIFY2(a.error->find("{\"choices\": [{\"delta\": {\"content\": \"broken") != std::string::npos, a.error->c_str());
    QVERIFY2(a.error->find("provider \"local\"") != std::string::npos, a.error->c_str());
}

void TestEngineHttp::slowFirstTokenTimesOut() {
    std::string m = "slow-first?delay_ms=4000&tag=slow-" + nonce();
    QElapsedTimer t;
    t.start();
    auto rec = run_to_end(make_config(config_json(url(), {{m}}, {{"first_token_timeout_ms", 300}, {"max_retries", 0}})), "Hi");
    QCOMPARE(rec.status, engine::RunStatus::Failed);
    QVERIFY2(rec.layers[0].agents[0].error->find("first-token timeout") != std::string::npos,
             rec.layers[0].agents[0].error->c_str());
    QVERIFY(t.elapsed() < 4000); // it did not wait for the server's slow answer
}

void TestEngineHttp::noRateFromOneBurst() {
    // Review 10: an answer that came in one burst showed "ttft 1 ms · 30696 tok/s". Over less than
    // kMinRateWindowMs of streaming no rate is given; a paced answer still has one.
    accounting::Catalog catalog;
    engine::Engine eng(catalog);
    auto cfg = make_config(config_json(url(), {{"ok?chunks=1&tag=burst-" + nonce(), "ok?chunks=20&delay_ms=20&tag=paced-" + nonce()},
                                                {"ok?chunks=1&tag=agg-" + nonce()}}));
    auto rec = run_to_end(cfg, "Hi");
    QCOMPARE(rec.status, engine::RunStatus::Done);
    const auto& burst = rec.layers[0].agents[0];
    QVERIFY(burst.duration_ms - burst.ttft_ms.value_or(0) < 50); // engine::kMinRateWindowMs (run_state.h)
    QVERIFY(!burst.tokens_per_s);
    const auto& paced = rec.layers[0].agents[1];
    QVERIFY(paced.tokens_per_s && *paced.tokens_per_s > 0);
}

void TestEngineHttp::cancelledDemoAgentCostsZeroNotUnknown() {
    // Review 10: a demo agent cancelled before its first token showed "$?" and made the run's
    // cost unknown, although the offline demo costs $0 whatever happens.
    const nlohmann::json demo = {
        {"schema", "moa-workbench/config@1"},
        {"name", "Demo"},
        {"providers", {{"demo", {{"type", "demo"}, {"tokens_per_second", 5000}, {"first_token_ms", 60000}}}}},
        {"layers", {{{"agents", {{{"provider", "demo"}, {"model", "demo-proposer-a"}}}}},
                    {{"agents", {{{"provider", "demo"}, {"model", "demo-aggregator"}}}}}}}};
    accounting::Catalog catalog;
    engine::Engine eng(catalog);
    EventLog log;
    auto run = eng.start(make_config(demo), engine::RunInput::from_prompt("Hi"), log.sink());
    QTRY_VERIFY_WITH_TIMEOUT(log.count(T::AgentStarted) >= 1, 10000);
    run->cancel();
    QVERIFY(run->wait_for(std::chrono::milliseconds(5000)));
    auto rec = run->record();
    QCOMPARE(rec.status, engine::RunStatus::Cancelled);
    const auto& a = rec.layers[0].agents[0];
    QCOMPARE(a.state, engine::AgentState::Cancelled);
    QVERIFY(a.text.empty());
    QVERIFY(a.cost_usd.has_value());
    QCOMPARE(*a.cost_usd, 0.0);
    QVERIFY(rec.totals.cost_complete);
}

void TestEngineHttp::cancelMidStreamStopsAtOnceAndClosesConnections() {
    std::string m = "ok?chunks=40&delay_ms=100&tag=cancel-" + nonce();
    accounting::Catalog catalog;
    engine::Engine eng(catalog);
    EventLog log;
    auto cfg = make_config(config_json(url(), {{m, m + "b", m + "c"}, {m}}));
    auto run = eng.start(cfg, engine::RunInput::from_prompt("Hi"), log.sink());
    QTRY_VERIFY_WITH_TIMEOUT(log.count(T::AgentDelta) >= 3, 10000);
    QElapsedTimer t;
    t.start();
    run->cancel();
    QVERIFY(run->wait_for(std::chrono::milliseconds(2000)));
    auto rec = run->record();
    QCOMPARE(rec.status, engine::RunStatus::Cancelled);
    QCOMPARE(log.count(T::RunCancelled), 1);
    for (const auto& a : rec.layers[0].agents) QCOMPARE(a.state, engine::AgentState::Cancelled);
    // What arrived before the cancel was billed: an answer with text counts its tokens
    // (estimated), never 0 (new-user review: cancelled runs recorded 0 tokens).
    long completion = 0;
    for (const auto& a : rec.layers[0].agents)
        if (!a.text.empty()) {
            QVERIFY(a.usage.prompt_tokens > 0 && a.usage.completion_tokens > 0);
            QVERIFY(a.usage.estimated);
            completion += a.usage.completion_tokens;
        }
    QVERIFY(completion > 0);
    QCOMPARE(rec.totals.completion_tokens, completion);
    QCOMPARE(rec.layers[1].agents[0].attempts, 0); // the aggregator never started
    QTRY_COMPARE_WITH_TIMEOUT(eng.transport().active_requests(), std::size_t(0), 2000);
    const int deltas = log.count(T::AgentDelta);
    QTest::qWait(400);
    QCOMPARE(log.count(T::AgentDelta), deltas); // nothing arrives after the cancel
}

void TestEngineHttp::sixAgentsOfALayerRunInParallel() {
    std::vector<std::string> models;
    for (int i = 0; i < 6; ++i) models.push_back("ok?chunks=8&delay_ms=60&tag=par" + std::to_string(i) + "-" + nonce());
    auto rec = run_to_end(make_config(config_json(url(), {models, {"ok?tag=agg-" + nonce()}})), "Hi");
    QCOMPARE(rec.status, engine::RunStatus::Done);
    double serial = 0;
    for (const auto& a : rec.layers[0].agents) serial += a.duration_ms;
    double layer_wall = rec.layers[0].end_ms - rec.layers[0].start_ms;
    qInfo("six agents: layer wall %.0f ms, serial sum %.0f ms", layer_wall, serial);
    QVERIFY2(layer_wall < serial / 3.0, "the six agents of a layer did not run in parallel");
    // And the aggregator started only after all six had finished.
    double last_end = 0;
    for (const auto& a : rec.layers[0].agents) last_end = std::max(last_end, a.end_ms);
    QVERIFY(rec.layers[1].agents[0].start_ms >= last_end);
}

void TestEngineHttp::maxConcurrencyLimitsParallelCalls() {
    std::vector<std::string> models;
    for (int i = 0; i < 4; ++i) models.push_back("ok?chunks=4&delay_ms=50&tag=lim" + std::to_string(i) + "-" + nonce());
    auto rec = run_to_end(make_config(config_json(url(), {models, {"ok?tag=agg-" + nonce()}}, {{"max_concurrency", 1}})), "Hi");
    QCOMPARE(rec.status, engine::RunStatus::Done);
    // With one slot the calls of the layer never overlap.
    auto agents = rec.layers[0].agents;
    std::sort(agents.begin(), agents.end(), [](const auto& a, const auto& b) { return a.start_ms < b.start_ms; });
    for (std::size_t i = 1; i < agents.size(); ++i) QVERIFY(agents[i].start_ms >= agents[i - 1].end_ms - 1.0);
}

void TestEngineHttp::layerTwoReceivesExactlyLayerOneAnswers() {
    std::string n = nonce();
    std::vector<std::string> l1{"ok?tag=A-" + n, "ok?tag=B-" + n + "&words=3", "ok?tag=C-" + n + "&chunks=2"};
    std::string agg = "ok?tag=AGG-" + n;
    auto rec = run_to_end(make_config(config_json(url(), {l1, {agg}})), "What is MoA?");
    QCOMPARE(rec.status, engine::RunStatus::Done);
    auto reqs = requests_for(agg);
    QCOMPARE(reqs.size(), 1);
    auto msgs = reqs[0].toObject()["body"].toObject()["messages"].toArray();
    QCOMPARE(msgs.size(), 2);
    std::string expected = config::default_aggregation_template();
    for (std::size_t i = 0; i < 3; ++i) expected += "\n" + std::to_string(i + 1) + ". " + rec.layers[0].agents[i].text;
    QCOMPARE(msgs[0].toObject()["role"].toString(), QStringLiteral("system"));
    QCOMPARE(msgs[0].toObject()["content"].toString().toStdString(), expected);
    QCOMPARE(msgs[1].toObject()["content"].toString(), QStringLiteral("What is MoA?"));
    QVERIFY(rec.final_text->find("AGG-" + n + " answers with 3 references.") == 0);
    // The record holds exactly what was sent.
    QCOMPARE(rec.layers[1].agents[0].messages[0].content, expected);
    // The request asked for a stream with usage.
    auto body = reqs[0].toObject()["body"].toObject();
    QVERIFY(body["stream"].toBool());
    QVERIFY(body["stream_options"].toObject()["include_usage"].toBool());
}

void TestEngineHttp::droppedAgentIsCountedAsMissing() {
    std::string n = nonce();
    auto rec = run_to_end(make_config(config_json(url(), {{"ok?tag=A-" + n, "status?code=400&tag=" + n, "ok?tag=C-" + n},
                                                          {"ok?tag=AGG-" + n}})),
                          "Q");
    QCOMPARE(rec.status, engine::RunStatus::Done);
    QCOMPARE(rec.layers[0].agents[1].state, engine::AgentState::Dropped);
    QCOMPARE(rec.layers[0].missing, 1);
    QVERIFY(rec.layers[1].agents[0].messages[0].content.find(
                "\n\nNote: 1 of 3 responses is missing because its model failed.") != std::string::npos);
    QVERIFY(rec.final_text->find("answers with 2 references.") != std::string::npos);
}

void TestEngineHttp::abortPolicyStopsTheRun() {
    std::string n = nonce();
    auto rec = run_to_end(make_config(config_json(url(), {{"ok?delay_ms=100&chunks=20&tag=A-" + n, "status?code=404&tag=" + n},
                                                          {"ok?tag=AGG-" + n}},
                                                  json::object(), "abort")),
                          "Q");
    QCOMPARE(rec.status, engine::RunStatus::Failed);
    QVERIFY2(rec.error.find("agent 2 failed and the policy is \"abort\"") != std::string::npos, rec.error.c_str());
    QVERIFY(rec.error.find("HTTP 404") != std::string::npos);
    QCOMPARE(rec.layers[0].agents[0].state, engine::AgentState::Cancelled);
    QCOMPARE(rec.layers[1].agents[0].attempts, 0);
}

void TestEngineHttp::layerWhereEveryAgentFailedEndsTheRun() {
    std::string n = nonce();
    auto rec = run_to_end(make_config(config_json(url(), {{"status?code=400&tag=x" + n, "status?code=403&tag=y" + n},
                                                          {"ok?tag=AGG-" + n}})),
                          "Q");
    QCOMPARE(rec.status, engine::RunStatus::Failed);
    QVERIFY2(rec.error.find("layer 1: every agent failed") != std::string::npos, rec.error.c_str());
    QVERIFY(rec.error.find("HTTP 400") != std::string::npos && rec.error.find("HTTP 403") != std::string::npos);
}

void TestEngineHttp::nonStreamingJsonResponseWorks() {
    std::string m = "json?tag=J-" + nonce();
    auto rec = run_to_end(make_config(config_json(url(), {{m}})), "Hi");
    QCOMPARE(rec.status, engine::RunStatus::Done);
    QVERIFY(rec.final_text->find("answers with 0 references.") != std::string::npos);
    QCOMPARE(rec.layers[0].agents[0].usage.prompt_tokens, 11L);
}

void TestEngineHttp::connectionRefusedIsRetriedThenFails() {
    // A port nobody listens on: bind a server, take its port, stop it.
    int dead_port;
    {
        TestServer tmp;
        dead_port = tmp.port();
    }
    auto cfg = make_config(config_json("http://127.0.0.1:" + std::to_string(dead_port) + "/v1", {{"ok"}},
                                       {{"max_retries", 2}, {"retry_base_ms", 5}}));
    EventLog log;
    auto rec = run_to_end(cfg, "Hi", &log);
    QCOMPARE(rec.status, engine::RunStatus::Failed);
    QCOMPARE(rec.layers[0].agents[0].attempts, 3);
    QCOMPARE(log.count(T::AgentRetry), 2);
    QVERIFY2(rec.layers[0].agents[0].error->find("cannot connect to http://127.0.0.1:") != std::string::npos,
             rec.layers[0].agents[0].error->c_str());
    QVERIFY(rec.layers[0].agents[0].error->find("after 3 attempts") != std::string::npos);
}

void TestEngineHttp::keyFromEnvironmentIsSentAsBearer() {
    std::string m1 = "ok?tag=key-" + nonce(), m2 = "ok?tag=nokey-" + nonce();
    qputenv("MOA_TEST_FAKE_KEY", "fake-test-key-123");
    run_to_end(make_config(config_json(url(), {{m1}}, {{"api_key_env", "MOA_TEST_FAKE_KEY"}})), "Hi");
    qunsetenv("MOA_TEST_FAKE_KEY");
    run_to_end(make_config(config_json(url(), {{m2}}, {{"api_key_env", "MOA_TEST_FAKE_KEY"}})), "Hi");
    QCOMPARE(requests_for(m1)[0].toObject()["authorization"].toString(), QStringLiteral("Bearer fake-test-key-123"));
    QVERIFY(requests_for(m2)[0].toObject()["authorization"].isNull());
}

void TestEngineHttp::redirectToAnotherHostIsNotFollowed() {
    // The server answers 307 to "localhost" (another host name for the same server): the key
    // must not travel there, so the redirect is not followed at all and the agent says why.
    const QString port = QString::fromStdString(url()).section(':', -1).section('/', 0, 0);
    std::string m = "redirect?to=http://localhost:" + port.toStdString() + "/v1/chat/completions&tag=" + nonce();
    qputenv("MOA_TEST_FAKE_KEY", "fake-redirect-key-456");
    auto rec = run_to_end(make_config(config_json(url(), {{m}}, {{"api_key_env", "MOA_TEST_FAKE_KEY"}, {"max_retries", 0}})), "Hi");
    qunsetenv("MOA_TEST_FAKE_KEY");
    const auto& a = rec.layers[0].agents[0];
    QCOMPARE(a.state, engine::AgentState::Failed);
    QVERIFY2(a.error && a.error->find("307") != std::string::npos && a.error->find("redirect") != std::string::npos,
             a.error.value_or("").c_str());
    QJsonArray seen = requests_for(m);
    QCOMPARE(seen.size(), 1); // the original request only
    QVERIFY(seen[0].toObject()["host"].toString().startsWith("127.0.0.1:"));
    int with_key_elsewhere = 0;
    for (const auto& r : server_->requests())
        if (r.toObject()["authorization"].toString().contains("fake-redirect-key-456") &&
            !r.toObject()["host"].toString().startsWith("127.0.0.1:"))
            ++with_key_elsewhere;
    QCOMPARE(with_key_elsewhere, 0);
}

void TestEngineHttp::selfSignedServerNeedsItsCertificateOrAnExplicitOptOut() {
    // A local HTTPS server with a self-signed certificate made for this test.
    QTemporaryDir dir;
    const QString cert = dir.filePath("cert.pem"), key = dir.filePath("key.pem");
    QProcess openssl;
    openssl.start("openssl", {"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                              "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"});
    QVERIFY(openssl.waitForFinished(60000));
    QCOMPARE(openssl.exitCode(), 0);
    TestServer tls(QStringLiteral(MOA_TEST_SERVERS "/openai_server.py"), {"--tls", cert, key});
    QVERIFY(tls.ok());
    const std::string base = "https://127.0.0.1:" + std::to_string(tls.port()) + "/v1";

    // Verified by default: the system CAs do not know it, so the agent fails at once (no
    // retries) and the message says what to do.
    auto rec = run_to_end(make_config(config_json(base, {{"ok?tag=tls-a"}})), "Hi");
    const auto& a = rec.layers[0].agents[0];
    QCOMPARE(a.state, engine::AgentState::Failed);
    QCOMPARE(a.attempts, 1);
    QVERIFY2(a.error && a.error->find("certificate could not be verified") != std::string::npos &&
                 a.error->find("\"ca_file\"") != std::string::npos,
             a.error.value_or("").c_str());

    // Trusting that certificate (ca_file) works, with verification still on.
    rec = run_to_end(make_config(config_json(base, {{"ok?tag=tls-b"}}, {{"ca_file", cert.toStdString()}})), "Hi");
    QCOMPARE(rec.layers[0].agents[0].state, engine::AgentState::Done);

    // The explicit opt-out works too, and loading such a configuration warns about it.
    json cj = config_json(base, {{"ok?tag=tls-c"}}, {{"tls_verify", false}});
    auto loaded = config::load_config_text(cj.dump(), "tls.moa.json");
    QVERIFY(loaded.ok());
    QVERIFY2(loaded.summary().find("warning: ") != std::string::npos &&
                 loaded.summary().find("TLS certificate verification is OFF") != std::string::npos,
             loaded.summary().c_str());
    rec = run_to_end(*loaded.config, "Hi");
    QCOMPARE(rec.layers[0].agents[0].state, engine::AgentState::Done);
    // Saved as it was given.
    QCOMPARE(config::to_json(*loaded.config)["providers"]["local"]["tls_verify"], json(false));
}

void TestEngineHttp::usageMissingIsEstimatedAndMarked() {
    // A recorded real stream without usage (vLLM), served by the server's replay of a file.
    TestServer replay(QStringLiteral(MOA_TEST_SERVERS "/replay_server.py"),
                      {QStringLiteral(MOA_SHARED_DATA "/provider_streams/streams/vllm__opt-125m.sse")});
    QVERIFY(replay.ok());
    auto rec = run_to_end(make_config(config_json(replay.base_url(), {{"facebook/opt-125m"}})), "Hi");
    QCOMPARE(rec.status, engine::RunStatus::Done);
    const auto& a = rec.layers[0].agents[0];
    QVERIFY(a.usage.estimated);
    QVERIFY(a.usage.completion_tokens > 0);
}

void TestEngineHttp::hostileServersFailTheAgentWithBoundedMemory_data() {
    QTest::addColumn<QString>("scenario");
    QTest::addColumn<QString>("message");
    QTest::newRow("never-ending stream") << "endless?seconds=30" << "grew past 4194304 bytes (max_answer_bytes)";
    QTest::newRow("100 MB of garbage") << "garbage?mb=100" << "without [DONE] or a finish_reason";
    QTest::newRow("one 50 MB line") << "longline?mb=50" << "line of the event stream is longer than 5242880 bytes";
    QTest::newRow("invalid UTF-8") << "badutf8?x=1" << "data line that is not valid UTF-8 (byte 0xFF at offset 52)";
    QTest::newRow("Content-Length promises more") << "liar?more=1" << "transfer closed with";
    QTest::newRow("Content-Length promises less") << "liar?less=1"
                                                  << "body that is not valid JSON: it ends in the middle of a value";
}

void TestEngineHttp::hostileServersFailTheAgentWithBoundedMemory() {
    QFETCH(QString, scenario);
    QFETCH(QString, message);
    // The hostile agent sits beside a good one; the run goes on without it.
    std::string n = nonce();
    std::string bad = scenario.toStdString() + "&tag=H-" + n;
    auto cfg = make_config(config_json(url(), {{bad, "ok?tag=G-" + n}, {"ok?tag=F-" + n}},
                                       {{"max_answer_bytes", 4 << 20}, {"max_retries", 0}}));
    // Peak memory of this process during the run, over its size before (Linux: writing 5 to
    // clear_refs resets the peak).
    { std::ofstream("/proc/self/clear_refs") << "5"; }
    const long rss_before = proc_status_kb("VmRSS");
    auto rec = run_to_end(cfg, "Hi");
    const long peak_growth_mb = (proc_status_kb("VmHWM") - rss_before) / 1024;
    qInfo("%s: peak memory growth %ld MB", qPrintable(scenario), peak_growth_mb);
    // The bound: max_answer_bytes (4 MB here) plus one line (5 MB) plus libcurl's buffers, with
    // room for the allocator; far below what the servers send (up to 100 MB).
    QVERIFY2(peak_growth_mb < 48, qPrintable(QString::number(peak_growth_mb)));
    for (const auto& L : rec.layers)
        for (const auto& x : L.agents)
            if (x.error) qInfo("layer %d agent %d: %s", x.layer, x.index, x.error->c_str());
    QCOMPARE(rec.status, engine::RunStatus::Done);
    const auto& a = rec.layers[0].agents[0];
    QCOMPARE(a.state, engine::AgentState::Dropped);
    QVERIFY2(QString::fromStdString(a.error.value_or("")).contains(message), a.error.value_or("").c_str());
    QVERIFY(rec.final_text->find("answers with 1 references.") != std::string::npos);
}

QTEST_GUILESS_MAIN(TestEngineHttp)
#include "tst_engine_http.moc"
