// SPDX-License-Identifier: MIT
// `moa serve` over real HTTP: the official OpenAI Node.js client streams from it, and bad
// requests, keys, unknown models, limits, upstream failures, disconnects and 32 concurrent
// clients get what an OpenAI-compatible server owes them.
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QtTest>

#include <fstream>
#include <future>

#include "run_helpers.h"
#include "store/history.h"
#include "test_server.h"

using namespace testing_support;
using nlohmann::json;

namespace {
QJsonObject obj(const QByteArray& b) { return QJsonDocument::fromJson(b).object(); }
QByteArray chat_body(const std::string& model, bool stream, const json& extra = json::object()) {
    json b{{"model", model}, {"stream", stream}, {"messages", {{{"role", "user"}, {"content", "Hello MoA"}}}}};
    for (auto it = extra.begin(); it != extra.end(); ++it) b[it.key()] = *it;
    return QByteArray::fromStdString(b.dump());
}
// The text of a streamed body: the content deltas of its data chunks.
QString streamed_text(const QByteArray& body, int* keepalives = nullptr, bool* done = nullptr) {
    QString text;
    for (const auto& line : body.split('\n')) {
        if (keepalives && line.startsWith(": keep-alive")) ++*keepalives;
        if (done && line == "data: [DONE]") *done = true;
        if (!line.startsWith("data: {")) continue;
        auto o = obj(line.mid(6));
        auto ch = o["choices"].toArray();
        if (!ch.isEmpty()) text += ch[0].toObject()["delta"].toObject()["content"].toString();
    }
    return text;
}
} // namespace

class TestServe : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void officialOpenAiClientStreamsFromThreeLayers();
    void includeLayersSendsIntermediateDeltas();
    void nonStreamingGetsOneCompletion();
    void modelsListsEveryConfiguration();
    void badRequestsNameTheField_data();
    void badRequestsNameTheField();
    void unknownModelIs404();
    void apiKeyIsRequiredWhenConfigured();
    void temperatureAndMaxTokensReachTheAggregatorUnlessPinned();
    void maxTokensWrittenWithAnExponentIsWhole();
    void upstreamFailureIs502NamingTheAgent();
    void keepAliveCommentsWhileProposersWork();
    void fullServerAnswers429();
    void clientDisconnectCancelsTheRunAndUpstreamCalls();
    void thirtyTwoConcurrentClients();
    void runsAreRecordedInHistory();

private:
    std::string write_config(const std::string& name, const std::vector<std::vector<std::string>>& layers,
                             const json& agent_overrides = json::object());
    std::unique_ptr<TestServer> upstream_;
    std::unique_ptr<ServeProcess> serve_;
    QTemporaryDir dir_;
    std::string n_;
    QProcessEnvironment env_;
};

std::string TestServe::write_config(const std::string& name, const std::vector<std::vector<std::string>>& layers,
                                    const json& agent_overrides) {
    json j = config_json(upstream_->base_url(), layers);
    j["name"] = name;
    for (auto it = agent_overrides.begin(); it != agent_overrides.end(); ++it) j["layers"].back()["agents"][0][it.key()] = *it;
    std::string path = dir_.filePath(QString::fromStdString(name + ".moa.json")).toStdString();
    std::ofstream(path) << j.dump(2);
    return path;
}

void TestServe::initTestCase() {
    upstream_ = std::make_unique<TestServer>();
    QVERIFY(upstream_->ok());
    n_ = nonce();
    env_ = QProcessEnvironment::systemEnvironment();
    env_.insert("MOA_HISTORY_DB", dir_.filePath("history.sqlite"));
    QStringList args;
    // A 3-layer configuration whose aggregator streams slowly, so "first token before the end" shows.
    args << "--config" << QString::fromStdString(write_config("moa-three", {{"ok?chunks=4&delay_ms=50&tag=P1-" + n_, "ok?tag=P2-" + n_},
                                                                            {"ok?tag=M1-" + n_, "ok?tag=M2-" + n_},
                                                                            {"ok?chunks=17&delay_ms=60&tag=FINAL-" + n_}}));
    args << "--config" << QString::fromStdString(write_config("moa-pinned", {{"ok?tag=Q-" + n_}, {"ok?tag=PIN-" + n_}},
                                                                             {{"temperature", 0.3}, {"max_tokens", 77}}));
    args << "--config" << QString::fromStdString(write_config("moa-fails", {{"ok?tag=R-" + n_}, {"status?code=401&message=bad+upstream+key&tag=" + n_}}));
    args << "--config" << QString::fromStdString(write_config("moa-slow", {{"ok?chunks=40&delay_ms=100&tag=S1-" + n_, "ok?chunks=40&delay_ms=100&tag=S2-" + n_},
                                                                           {"ok?tag=SF-" + n_}}));
    // Providers' messages are passed on here, so that the 502 test can check them (by default a
    // client gets a generic upstream error: tst_serve_hostile).
    args << "--max-runs" << "40" << "--keepalive-ms" << "200" << "--expose-upstream-errors";
    serve_ = std::make_unique<ServeProcess>(args, env_);
    QVERIFY2(serve_->ok(), serve_->output().constData());
}

void TestServe::officialOpenAiClientStreamsFromThreeLayers() {
    const QString modules = QStringLiteral(MOA_BINARY_DIR "/npm/node_modules");
    if (!QFile::exists(modules + "/openai/package.json")) {
        if (qEnvironmentVariableIsSet("MOA_REQUIRE_THIRD_PARTY_SERVER")) QFAIL("the openai npm package is not installed");
        QSKIP("the openai npm package is not installed; tools/dev.sh test installs it");
    }
    QProcess node;
    node.start("node", {QStringLiteral(MOA_TEST_SERVERS "/openai_client_stream.cjs"), modules,
                        QString::fromStdString(serve_->url("/v1")), "moa-three"});
    QVERIFY(node.waitForFinished(60000));
    auto out = obj(node.readAllStandardOutput());
    QVERIFY2(!out.contains("error"), QJsonDocument(out).toJson().constData());
    const QString expected = QString::fromStdString("FINAL-" + n_ + " answers with 2 references. w0 w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 w11");
    QCOMPARE(out["text"].toString(), expected);
    QCOMPARE(out["finish_reason"].toString(), QStringLiteral("stop"));
    // The usage is the whole run's: all five agents' tokens (the test server counts words).
    auto usage = out["usage"].toObject();
    QVERIFY(usage["completion_tokens"].toInt() >= 5 * 17);
    QCOMPARE(usage["total_tokens"].toInt(), usage["prompt_tokens"].toInt() + usage["completion_tokens"].toInt());
    // The aggregator streams 17 pieces 60 ms apart: its first token reached the client well
    // before the run finished, i.e. nothing was buffered.
    const double first = out["first_content_ms"].toDouble(), end = out["end_ms"].toDouble();
    qInfo("first content at %.0f ms, end at %.0f ms, %d chunks", first, end, out["chunks"].toInt());
    QVERIFY(out["chunks"].toInt() >= 17);
    QVERIFY2(first < end - 500, "the first content chunk did not arrive before the run finished");
    // The whole conversation, system prompt included, reached the agents as the engine defines.
    for (const auto& q : upstream_->requests()) {
        auto o = q.toObject();
        auto msgs = o["body"].toObject()["messages"].toArray();
        if (o["model"].toString().contains(QString::fromStdString("P1-" + n_))) {
            QCOMPARE(msgs[0].toObject()["content"].toString(), QStringLiteral("Answer briefly."));
            QCOMPARE(msgs[1].toObject()["content"].toString(), QStringLiteral("What is a mixture of agents?"));
        }
        if (o["model"].toString().contains(QString::fromStdString("FINAL-" + n_)) && o["body"].toObject()["stream"].toBool() &&
            msgs[1].toObject()["content"].toString() == "What is a mixture of agents?")
            QVERIFY(msgs[0].toObject()["content"].toString().startsWith("Answer briefly.\n\nYou have been provided with a set of responses"));
    }
}

void TestServe::includeLayersSendsIntermediateDeltas() {
    auto r = http_request("POST", serve_->url("/v1/chat/completions"), chat_body("moa-three", true, {{"moa", {{"include_layers", true}}}}));
    QCOMPARE(r.status, 200L);
    int layer0 = 0, layer1 = 0;
    for (const auto& line : r.body.split('\n')) {
        if (!line.startsWith("data: {")) continue;
        auto m = obj(line.mid(6))["moa"].toObject();
        if (m.isEmpty()) continue;
        layer0 += m["layer"].toInt() == 0 && m["event"].toString() == "agent_delta";
        layer1 += m["layer"].toInt() == 1 && m["event"].toString() == "agent_delta";
    }
    QVERIFY(layer0 > 0 && layer1 > 0);
    QVERIFY(streamed_text(r.body).startsWith(QString::fromStdString("FINAL-" + n_)));
}

void TestServe::nonStreamingGetsOneCompletion() {
    auto r = http_request("POST", serve_->url("/v1/chat/completions"), chat_body("moa-three", false));
    QCOMPARE(r.status, 200L);
    auto o = obj(r.body);
    QCOMPARE(o["object"].toString(), QStringLiteral("chat.completion"));
    QCOMPARE(o["model"].toString(), QStringLiteral("moa-three"));
    QVERIFY(o["choices"].toArray()[0].toObject()["message"].toObject()["content"].toString().startsWith(
        QString::fromStdString("FINAL-" + n_ + " answers with 2 references.")));
    QVERIFY(o["usage"].toObject()["completion_tokens"].toInt() >= 5 * 17);
}

void TestServe::modelsListsEveryConfiguration() {
    auto r = http_request("GET", serve_->url("/v1/models"));
    QCOMPARE(r.status, 200L);
    QStringList ids;
    for (const auto& m : obj(r.body)["data"].toArray()) ids << m.toObject()["id"].toString();
    QCOMPARE(ids, (QStringList{"moa-three", "moa-pinned", "moa-fails", "moa-slow"}));
}

void TestServe::badRequestsNameTheField_data() {
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QString>("param");
    QTest::addColumn<QString>("message");
    QTest::newRow("not json") << QByteArray("{nope") << QString() << "not valid JSON";
    QTest::newRow("no model") << QByteArray(R"({"messages":[{"role":"user","content":"x"}]})") << "model" << "\"model\" is required";
    QTest::newRow("no messages") << QByteArray(R"({"model":"moa-three"})") << "messages" << "\"messages\" is required";
    QTest::newRow("bad role") << QByteArray(R"({"model":"moa-three","messages":[{"role":"tool","content":"x"}]})")
                              << "messages[0].role" << "not supported";
    QTest::newRow("bad temperature") << QByteArray(R"({"model":"moa-three","temperature":9,"messages":[{"role":"user","content":"x"}]})")
                                     << "temperature" << "from 0 to 2";
    QTest::newRow("bad max_tokens") << QByteArray(R"({"model":"moa-three","max_tokens":-1,"messages":[{"role":"user","content":"x"}]})")
                                    << "max_tokens" << "positive integer";
    QTest::newRow("fractional max_tokens") << QByteArray(R"({"model":"moa-three","max_tokens":2.5,"messages":[{"role":"user","content":"x"}]})")
                                           << "max_tokens" << "positive integer between 1 and 10000000, not 2.5";
    QTest::newRow("max_tokens too large") << QByteArray(R"({"model":"moa-three","max_tokens":1e8,"messages":[{"role":"user","content":"x"}]})")
                                          << "max_tokens" << "between 1 and 10000000";
    QTest::newRow("max_tokens as text") << QByteArray(R"({"model":"moa-three","max_tokens":"100","messages":[{"role":"user","content":"x"}]})")
                                        << "max_tokens" << "between 1 and 10000000";
    QTest::newRow("stream not bool") << QByteArray(R"({"model":"moa-three","stream":"yes","messages":[{"role":"user","content":"x"}]})")
                                     << "stream" << "true or false";
    QTest::newRow("n > 1") << QByteArray(R"({"model":"moa-three","n":3,"messages":[{"role":"user","content":"x"}]})") << "n" << "must be 1";
}

void TestServe::badRequestsNameTheField() {
    QFETCH(QByteArray, body);
    QFETCH(QString, param);
    QFETCH(QString, message);
    auto r = http_request("POST", serve_->url("/v1/chat/completions"), body);
    QCOMPARE(r.status, 400L);
    auto e = obj(r.body)["error"].toObject();
    QVERIFY2(e["message"].toString().contains(message), r.body.constData());
    QCOMPARE(e["type"].toString(), QStringLiteral("invalid_request_error"));
    if (!param.isEmpty()) QCOMPARE(e["param"].toString(), param);
}

void TestServe::unknownModelIs404() {
    auto r = http_request("POST", serve_->url("/v1/chat/completions"), chat_body("gpt-9", false));
    QCOMPARE(r.status, 404L);
    auto e = obj(r.body)["error"].toObject();
    QCOMPARE(e["code"].toString(), QStringLiteral("model_not_found"));
    QVERIFY(e["message"].toString().contains("served: moa-three, moa-pinned"));
    QCOMPARE(http_request("GET", serve_->url("/v2/nothing")).status, 404L);
}

void TestServe::apiKeyIsRequiredWhenConfigured() {
    auto env = env_;
    env.insert("MOA_SERVE_TEST_KEY", "serve-test-key-42");
    ServeProcess locked({"--config", QString::fromStdString(write_config("moa-locked", {{"ok?tag=L-" + n_}})),
                         "--api-key-env", "MOA_SERVE_TEST_KEY"},
                        env);
    QVERIFY(locked.ok());
    auto none = http_request("POST", locked.url("/v1/chat/completions"), chat_body("moa-locked", false));
    QCOMPARE(none.status, 401L);
    QCOMPARE(obj(none.body)["error"].toObject()["code"].toString(), QStringLiteral("invalid_api_key"));
    QCOMPARE(http_request("POST", locked.url("/v1/chat/completions"), chat_body("moa-locked", false), {"Authorization: Bearer wrong"}).status, 401L);
    QCOMPARE(http_request("GET", locked.url("/v1/models")).status, 401L);
    auto ok = http_request("POST", locked.url("/v1/chat/completions"), chat_body("moa-locked", false),
                           {"Authorization: Bearer serve-test-key-42"});
    QCOMPARE(ok.status, 200L);
    // Without the variable set, serve refuses to start rather than serve openly.
    ServeProcess refused({"--config", "offline-demo", "--api-key-env", "MOA_SERVE_UNSET_VAR"}, env_);
    QVERIFY(!refused.ok());
    QVERIFY(refused.output().contains("MOA_SERVE_UNSET_VAR (--api-key-env) is not set"));
}

void TestServe::temperatureAndMaxTokensReachTheAggregatorUnlessPinned() {
    http_request("POST", serve_->url("/v1/chat/completions"), chat_body("moa-three", false, {{"temperature", 1.25}, {"max_tokens", 33}}));
    http_request("POST", serve_->url("/v1/chat/completions"), chat_body("moa-pinned", false, {{"temperature", 1.25}, {"max_tokens", 33}}));
    QJsonObject agg, pinned, proposer;
    for (const auto& r : upstream_->requests()) {
        auto o = r.toObject();
        auto m = o["model"].toString();
        if (m.contains("FINAL-" + QString::fromStdString(n_))) agg = o["body"].toObject();
        if (m.contains("PIN-" + QString::fromStdString(n_))) pinned = o["body"].toObject();
        if (m.contains("M1-" + QString::fromStdString(n_))) proposer = o["body"].toObject();
    }
    QCOMPARE(agg["temperature"].toDouble(), 1.25);
    QCOMPARE(agg["max_tokens"].toInt(), 33);
    QCOMPARE(pinned["temperature"].toDouble(), 0.3);
    QCOMPARE(pinned["max_tokens"].toInt(), 77);
    QVERIFY(!proposer.contains("temperature")); // only the aggregator takes the request's settings
}

// 1e2 and 100.0 are the whole number 100, as in a configuration file (core/config's rule);
// serve refused them as "must be a positive integer" while `moa run` accepted the same value.
void TestServe::maxTokensWrittenWithAnExponentIsWhole() {
    for (const QByteArray& v : {QByteArray("1e2"), QByteArray("100.0"), QByteArray("1.01e2")}) {
        const QByteArray body = R"({"model":"moa-three","max_tokens":)" + v + R"(,"messages":[{"role":"user","content":"exp )" + v + R"("}]})";
        auto r = http_request("POST", serve_->url("/v1/chat/completions"), body);
        QVERIFY2(r.status == 200, r.body.constData());
    }
    int seen = 0;
    for (const auto& r : upstream_->requests()) {
        auto o = r.toObject();
        if (!o["model"].toString().contains("FINAL-" + QString::fromStdString(n_))) continue;
        const QJsonObject body = o["body"].toObject();
        const QString prompt = QString::fromUtf8(QJsonDocument(body["messages"].toArray()).toJson());
        if (prompt.contains("exp 1e2") || prompt.contains("exp 100.0")) {
            QCOMPARE(body["max_tokens"].toInt(), 100);
            ++seen;
        } else if (prompt.contains("exp 1.01e2")) {
            QCOMPARE(body["max_tokens"].toInt(), 101);
            ++seen;
        }
    }
    QCOMPARE(seen, 3);
}

void TestServe::upstreamFailureIs502NamingTheAgent() {
    for (bool stream : {false, true}) {
        auto r = http_request("POST", serve_->url("/v1/chat/completions"), chat_body("moa-fails", stream));
        QCOMPARE(r.status, 502L);
        auto e = obj(r.body)["error"].toObject();
        QCOMPARE(e["type"].toString(), QStringLiteral("upstream_error"));
        QVERIFY2(e["message"].toString().contains("the aggregator (layer 2) failed"), r.body.constData());
        QVERIFY(e["message"].toString().contains("HTTP 401: bad upstream key"));
    }
}

void TestServe::keepAliveCommentsWhileProposersWork() {
    ServeProcess eager({"--config", QString::fromStdString(write_config("moa-eager", {{"ok?chunks=10&delay_ms=100&tag=E1-" + n_}, {"ok?tag=EF-" + n_}})),
                        "--hold-ms", "0", "--keepalive-ms", "100"},
                       env_);
    QVERIFY(eager.ok());
    auto r = http_request("POST", eager.url("/v1/chat/completions"), chat_body("moa-eager", true));
    QCOMPARE(r.status, 200L);
    int keepalives = 0;
    bool done = false;
    QVERIFY(streamed_text(r.body, &keepalives, &done).startsWith(QString::fromStdString("EF-" + n_)));
    QVERIFY2(keepalives >= 3, r.body.left(300).constData());
    QVERIFY(done);
    // And they came before the first content chunk.
    QVERIFY(r.body.indexOf(": keep-alive") < r.body.indexOf("\"content\""));
}

void TestServe::fullServerAnswers429() {
    ServeProcess one({"--config", QString::fromStdString(write_config("moa-one", {{"ok?chunks=20&delay_ms=100&tag=O-" + n_}})), "--max-runs", "1"},
                     env_);
    QVERIFY(one.ok());
    auto first = std::async(std::launch::async, [&] { return http_request("POST", one.url("/v1/chat/completions"), chat_body("moa-one", true)); });
    QTest::qWait(500);
    auto second = http_request("POST", one.url("/v1/chat/completions"), chat_body("moa-one", false));
    QCOMPARE(second.status, 429L);
    QCOMPARE(obj(second.body)["error"].toObject()["code"].toString(), QStringLiteral("rate_limit_exceeded"));
    QCOMPARE(first.get().status, 200L);
    QTRY_COMPARE_WITH_TIMEOUT(http_request("POST", one.url("/v1/chat/completions"), chat_body("moa-one", false)).status, 200L, 10000);
}

void TestServe::clientDisconnectCancelsTheRunAndUpstreamCalls() {
    // The proposers stream for ~4 s; the client leaves after ~0.6 s (hold 2 s: the first bytes
    // are the status line once it is sent, so wait for the keep-alives of a no-hold server).
    ServeProcess eager({"--config", QString::fromStdString(write_config("moa-leave", {{"ok?chunks=40&delay_ms=100&tag=D1-" + n_,
                                                                                       "ok?chunks=40&delay_ms=100&tag=D2-" + n_},
                                                                                      {"ok?tag=DF-" + n_}})),
                        "--hold-ms", "0", "--keepalive-ms", "100"},
                       env_);
    QVERIFY(eager.ok());
    auto r = http_request("POST", eager.url("/v1/chat/completions"), chat_body("moa-leave", true), {}, 600);
    QVERIFY(r.aborted);
    // The upstream server sees both proposer streams closed long before their 4 s were up.
    auto aborted = [&] {
        auto stats = obj(http_get("http://127.0.0.1:" + std::to_string(upstream_->port()) + "/_stats"))["aborted"].toObject();
        int n = 0;
        for (auto it = stats.begin(); it != stats.end(); ++it)
            if (it.key().contains(QString::fromStdString("-" + n_)) && (it.key().contains("D1-") || it.key().contains("D2-"))) n += it.value().toInt();
        return n;
    };
    QTRY_COMPARE_WITH_TIMEOUT(aborted(), 2, 3000);
    // No aggregator call was made, and the history says the run was cancelled.
    for (const auto& q : upstream_->requests()) QVERIFY(!q.toObject()["model"].toString().contains(QString::fromStdString("DF-" + n_)));
    auto status = [&] {
        auto h = moa::store::History::open(dir_.filePath("history.sqlite").toStdString());
        auto runs = (*h)->list("moa-leave");
        if (!runs) return runs.error();
        for (const auto& run : *runs) return run.status;
        return std::string("not recorded");
    };
    QTRY_COMPARE_WITH_TIMEOUT(status(), std::string("cancelled"), 3000);
}

void TestServe::thirtyTwoConcurrentClients() {
    std::vector<std::future<HttpReply>> replies;
    for (int i = 0; i < 32; ++i)
        replies.push_back(std::async(std::launch::async, [&, i] {
            return http_request("POST", serve_->url("/v1/chat/completions"), chat_body("moa-three", i % 2 == 0));
        }));
    int ok = 0;
    for (int i = 0; i < 32; ++i) {
        auto r = replies[static_cast<std::size_t>(i)].get();
        QCOMPARE(r.status, 200L);
        QString text = i % 2 == 0 ? streamed_text(r.body)
                                  : obj(r.body)["choices"].toArray()[0].toObject()["message"].toObject()["content"].toString();
        QVERIFY2(text.startsWith(QString::fromStdString("FINAL-" + n_ + " answers with 2 references.")), r.body.left(200).constData());
        ++ok;
    }
    QCOMPARE(ok, 32);
}

void TestServe::runsAreRecordedInHistory() {
    auto h = moa::store::History::open(dir_.filePath("history.sqlite").toStdString());
    QVERIFY(h.ok());
    auto runs = (*h)->list({}, 1000);
    QVERIFY2(runs.ok(), runs.ok() ? "" : runs.error().c_str());
    int serve_runs = 0;
    for (const auto& r : *runs) serve_runs += r.source == "serve";
    QVERIFY(serve_runs >= 32);
    QCOMPARE(runs->front().source, std::string("serve"));
}

QTEST_GUILESS_MAIN(TestServe)
#include "tst_serve.moc"
