// SPDX-License-Identifier: MIT
// The `moa` command as users run it: exit codes, messages, the --json document, and a 3-layer
// run against an OpenAI-compatible server that nobody on this project wrote (mock-llm, npm).
#include <fstream>
#include <nlohmann/json.hpp>
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QUrl>
#include <QTemporaryDir>
#include <QtTest>

#include <set>

#include <nlohmann/json.hpp>

#include "config/config.h"
#include "run_helpers.h"
#include "test_server.h"

using namespace testing_support;

class TestCli : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void versionAndHelp();
    void runWritesMoneyAsTheWindowDoes();
    void everySubcommandHasHelp();
    void overviewListsEveryOption();
    void validateReportsEveryProblemWithLines();
    void validateAcceptsPresets();
    void presetsListAndShow();
    void runJsonDocumentHasEveryLayer();
    void runStreamsLayersAsText();
    void runEventsAreJsonLines();
    void droppedAgentsAreNamedAndExitIsZero();
    void failedRunExitsThreeWithMessage();
    void badUsageExitsTwo_data();
    void badUsageExitsTwo();
    void modelsListsProviderModels();
    void offlineDemoPresetRunsEndToEnd();
    void threeLayersAgainstThirdPartyServer();
    void runsAreRecordedAndShownFromHistory();
    void runJsonHasSourcesAndIgnoredFromCraftedAnswers();
    void historyShowHtmlIsSelfContainedAndEscaped();
    void historyShowMarkdownNeutralisesHtmlAndLinks();
    void historyShowMarkdownFetchesNoImages();
    void unwritableHistoryWarnsAndTheRunGoesOn();
    void statsJsonHasExactlyTheLeaderboardKeys();

private:
    std::unique_ptr<TestServer> server_;
    QTemporaryDir dir_;
};

void TestCli::initTestCase() {
    server_ = std::make_unique<TestServer>();
    QVERIFY(server_->ok());
    QVERIFY(dir_.isValid());
    qputenv("MOA_HISTORY_DB", dir_.filePath("history.sqlite").toUtf8()); // the children inherit it
}

void TestCli::versionAndHelp() {
    auto r = run_moa({"--version"});
    QCOMPARE(r.code, 0);
    QVERIFY(r.out.startsWith("moa 0."));
    r = run_moa({"--help"});
    QCOMPARE(r.code, 0);
    QVERIFY(r.out.contains("moa run --config FILE"));
    r = run_moa({"frobnicate"});
    QCOMPARE(r.code, 2);
    QVERIFY(r.err.contains("unknown command \"frobnicate\""));
}

void TestCli::everySubcommandHasHelp() {
    // `moa COMMAND --help` prints that command's usage on stdout and exits 0 (it said "unknown option").
    for (const char* c : {"run", "validate", "presets", "models", "serve", "eval", "chart", "sweep", "stats", "history"}) {
        for (const char* h : {"--help", "-h"}) {
            auto r = run_moa({c, h});
            QVERIFY2(r.code == 0, qPrintable(QString("%1 %2: exit %3, %4").arg(c, h).arg(r.code).arg(QString::fromUtf8(r.err))));
            QVERIFY2(r.out.startsWith(QByteArray("usage: moa ") + c), r.out.constData());
            QVERIFY(r.err.isEmpty());
        }
        auto r = run_moa({"help", c});
        QCOMPARE(r.code, 0);
        QVERIFY(r.out.startsWith(QByteArray("usage: moa ") + c));
    }
    // Also after other options, and with nothing run: no history is touched, no config is needed.
    auto r = run_moa({"run", "--config", "no-such-file", "--help"});
    QCOMPARE(r.code, 0);
    QVERIFY(r.out.contains("--prompt-file FILE"));
    r = run_moa({"help", "frobnicate"});
    QCOMPARE(r.code, 2);
    QVERIFY(r.err.contains("unknown command \"frobnicate\""));
}

void TestCli::overviewListsEveryOption() {
    // `moa --help` omitted `run --quiet/--raw` and `eval --lc-variants/--plan`, and ran the two
    // history synopses together on one line: every option of every command's usage is in the
    // overview, and each synopsis starts its own line.
    const auto overview = QString::fromUtf8(run_moa({"--help"}).out);
    const QRegularExpression option("--[a-z][a-z-]*");
    for (const char* c : {"run", "validate", "presets", "models", "serve", "eval", "chart", "sweep", "stats", "history"}) {
        const auto usage = QString::fromUtf8(run_moa({c, "--help"}).out);
        const auto synopsis = usage.left(usage.indexOf("\n\n"));
        auto it = option.globalMatch(synopsis);
        while (it.hasNext()) {
            const auto o = it.next().captured();
            QVERIFY2(overview.contains(o), qPrintable(QString("moa --help lacks %1 of moa %2").arg(o, c)));
        }
        QVERIFY2(overview.contains(QString("\n  moa %1").arg(c)), c);
    }
    // Options a command accepts that its usage left out (review 10).
    const auto serve = QString::fromUtf8(run_moa({"serve", "--help"}).out);
    for (const char* o : {"--allow-host", "--expose-upstream-errors", "--no-record", "--record-max-bytes"})
        QVERIFY2(serve.contains(o) && overview.contains(o), o);
    QVERIFY(overview.contains(QRegularExpression("\n +moa history show ID")));
    QVERIFY(!overview.contains(QRegularExpression("--json[^\n]*moa history show")));
}

void TestCli::validateReportsEveryProblemWithLines() {
    QString f = write_file(dir_, "peer.moa.json",
                           "{\n  \"schema\": \"moa-workbench/config@1\",\n  \"name\": \"peer\",\n"
                           "  \"providers\": {\"p\": {\"base_url\": \"http://127.0.0.1:9/v1\"}},\n  \"layers\": [\n"
                           "    {\"agents\": [{\"provider\": \"p\"}]},\n    {\"agents\": [{\"provider\": \"p\", \"model\": \"m\"}]}\n  ]\n}\n");
    auto r = run_moa({"validate", f});
    QCOMPARE(r.code, 2);
    QVERIFY2(r.err.contains((f + ":6: /layers/0/agents/0/model: required").toUtf8()), r.err.constData());
    QVERIFY(r.err.contains("1 error"));
    QString broken = write_file(dir_, "broken.moa.json", "{\n  \"name\": \"x\",\n  \"layers\": [\n}");
    r = run_moa({"validate", broken});
    QCOMPARE(r.code, 2);
    QVERIFY2(r.err.contains((broken + ":4:1: malformed JSON").toUtf8()), r.err.constData());
    r = run_moa({"validate", dir_.filePath("nope.moa.json")});
    QCOMPARE(r.code, 2);
    QVERIFY(r.err.contains("no such file"));
}

void TestCli::validateAcceptsPresets() {
    auto r = run_moa({"validate", QStringLiteral(MOA_SOURCE_ROOT "/resources/presets/moa-paper.moa.json")});
    QCOMPARE(r.code, 0);
    QVERIFY(r.out.contains("ok: \"MoA\", 3 layers, 13 agents"));
    // A hostile name: its start only, and no escape sequence reaches the terminal or a log
    // (hostile review: a 25,000-character name was printed whole).
    auto j = nlohmann::json::parse(std::ifstream(MOA_SOURCE_ROOT "/resources/presets/offline-demo.moa.json"));
    j["name"] = "\x1b]0;owned\x07" + std::string(25000, 'n');
    const QString f = write_file(dir_, "named.moa.json", QByteArray::fromStdString(j.dump()));
    r = run_moa({"validate", f});
    QCOMPARE(r.code, 0);
    QVERIFY2(r.out.size() < 400, r.out.left(400).constData());
    QVERIFY(!r.out.contains('\x1b') && !r.out.contains('\x07'));
}

void TestCli::presetsListAndShow() {
    auto r = run_moa({"presets"});
    QCOMPARE(r.code, 0);
    for (const char* n : {"moa-paper", "moa-lite", "moa-gpt4o", "together-recipe", "self-moa", "groq", "ollama", "offline-demo"})
        QVERIFY2(r.out.contains(n), n);
    r = run_moa({"presets", "moa-lite"});
    QCOMPARE(r.code, 0);
    QCOMPARE(QJsonDocument::fromJson(r.out).object()["name"].toString(), QStringLiteral("MoA-Lite"));
    r = run_moa({"presets", "nope"});
    QCOMPARE(r.code, 2);
}

void TestCli::runJsonDocumentHasEveryLayer() {
    std::string n = nonce();
    auto j = config_json(server_->base_url(), {{"ok?tag=A-" + n, "ok?tag=B-" + n}, {"ok?tag=C-" + n, "ok?tag=D-" + n}, {"ok?tag=F-" + n}});
    QString f = write_file(dir_, "three.moa.json", QByteArray::fromStdString(j.dump(2)));
    auto r = run_moa({"run", "--config", f, "--prompt", "Why is the sky blue?", "--json"});
    QCOMPARE(r.code, 0);
    auto doc = QJsonDocument::fromJson(r.out).object();
    QVERIFY2(!doc.isEmpty(), r.out.constData());
    QVERIFY(doc["final"].toObject()["text"].toString().startsWith(QString::fromStdString("F-" + n + " answers with 2 references.")));
    auto layers = doc["layers"].toArray();
    QCOMPARE(layers.size(), 3);
    QCOMPARE(layers[0].toObject()["agents"].toArray().size(), 2);
    auto a = layers[1].toObject()["agents"].toArray()[1].toObject();
    for (const char* k : {"provider", "model", "text", "reasoning", "usage", "ttft_ms", "duration_ms", "cost_usd", "tflops", "attempts", "error"})
        QVERIFY2(a.contains(k), k);
    QCOMPARE(a["model"].toString(), QString::fromStdString("ok?tag=D-" + n));
    QVERIFY(a["text"].toString().startsWith(QString::fromStdString("D-" + n + " answers with 2 references.")));
    QVERIFY(a["error"].isNull());
    for (const char* k : {"prompt_tokens", "completion_tokens", "estimated"}) QVERIFY(a["usage"].toObject().contains(k));
    auto totals = doc["totals"].toObject();
    for (const char* k : {"cost_usd", "tflops", "wall_ms", "critical_path_ms"}) QVERIFY2(totals.contains(k), k);
    QVERIFY(totals["critical_path_ms"].toDouble() <= totals["wall_ms"].toDouble() + 1);
}

void TestCli::runStreamsLayersAsText() {
    std::string n = nonce();
    auto j = config_json(server_->base_url(), {{"ok?tag=A-" + n, "ok?tag=B-" + n}, {"ok?tag=F-" + n}});
    QString f = write_file(dir_, "two.moa.json", QByteArray::fromStdString(j.dump(2)));
    QString pf = write_file(dir_, "prompt.txt", "A prompt\nfrom a file");
    auto r = run_moa({"run", "--config", f, "--prompt-file", pf});
    QCOMPARE(r.code, 0);
    const QString out = QString::fromUtf8(r.out);
    QVERIFY(out.contains("layer 1/2: 2 proposers"));
    QVERIFY(out.contains(QString::fromStdString("A-" + n + " answers with 0 references.")));
    QVERIFY(out.contains("layer 2/2: aggregator"));
    QVERIFY(out.contains(QString::fromStdString("F-" + n + " answers with 2 references.")));
    QVERIFY(out.contains("── done ──"));
    // Layer 1's answers come before the final answer.
    QVERIFY(out.indexOf(QString::fromStdString("A-" + n)) < out.indexOf(QString::fromStdString("F-" + n + " answers")));
    // No model of this configuration has a price or a parameter count: the totals are unknown,
    // never "$0.00000" or "0.00 TFLOPs".
    QVERIFY2(out.contains("cost unknown (no prices), TFLOPs unknown (no parameter counts)"), r.out.constData());
    QVERIFY2(!out.contains("$0.0") && !out.contains("0.00 TFLOPs"), r.out.constData());
    // One model priced and sized: the sums are lower bounds, said so.
    j["providers"]["local"]["models"] = {{"ok?tag=F-" + n, {{"input_usd_per_mtok", 1.0}, {"output_usd_per_mtok", 2.0}, {"active_params_b", 8}}}};
    f = write_file(dir_, "two-priced.moa.json", QByteArray::fromStdString(j.dump(2)));
    auto p = run_moa({"run", "--config", f, "--prompt", "A prompt"});
    QCOMPARE(p.code, 0);
    const QString priced = QString::fromUtf8(p.out);
    QVERIFY2(priced.contains("cost at least $") && priced.contains("(some prices unknown)") &&
                 priced.contains("TFLOPs (some parameter counts unknown)") && priced.contains(", at least "),
             p.out.constData());
}

void TestCli::runWritesMoneyAsTheWindowDoes() {
    // The offline demo costs nothing: `moa run` wrote "$0.00000" per agent; the window "$0".
    const nlohmann::json demo = {
        {"schema", "moa-workbench/config@1"},
        {"name", "Demo"},
        {"providers", {{"demo", {{"type", "demo"}, {"tokens_per_second", 5000}, {"first_token_ms", 0}}}}},
        {"layers", {{{"agents", {{{"provider", "demo"}, {"model", "demo-proposer-a"}}}}},
                    {{"agents", {{{"provider", "demo"}, {"model", "demo-aggregator"}}}}}}}};
    const QString f = write_file(dir_, "demo-money.moa.json", QByteArray::fromStdString(demo.dump(2)));
    auto r = run_moa({"run", "--config", f, "--prompt", "Hi"});
    QCOMPARE(r.code, 0);
    const QString out = QString::fromUtf8(r.out);
    QVERIFY2(out.contains(", $0, ") || out.contains(", $0]"), r.out.constData());
    QVERIFY2(!out.contains("$0.0"), r.out.constData());
}

void TestCli::runEventsAreJsonLines() {
    std::string n = nonce();
    auto j = config_json(server_->base_url(), {{"ok?tag=A-" + n}, {"ok?tag=F-" + n}});
    QString f = write_file(dir_, "ev.moa.json", QByteArray::fromStdString(j.dump(2)));
    auto r = run_moa({"run", "--config", f, "--prompt", "Hi", "--events"});
    QCOMPARE(r.code, 0);
    QStringList kinds;
    for (const auto& line : r.out.split('\n')) {
        if (line.isEmpty()) continue;
        auto o = QJsonDocument::fromJson(line).object();
        QVERIFY2(!o.isEmpty(), line.constData());
        kinds << o["event"].toString();
    }
    QCOMPARE(kinds.first(), QStringLiteral("run_started"));
    QCOMPARE(kinds.last(), QStringLiteral("run_done"));
    for (const char* k : {"layer_started", "agent_started", "agent_delta", "agent_done", "layer_done"}) QVERIFY2(kinds.contains(k), k);
}

void TestCli::droppedAgentsAreNamedAndExitIsZero() {
    std::string n = nonce();
    auto j = config_json(server_->base_url(), {{"ok?tag=A-" + n, "status?code=404&message=model+not+found&tag=" + n}, {"ok?tag=F-" + n}});
    QString f = write_file(dir_, "drop.moa.json", QByteArray::fromStdString(j.dump(2)));
    auto r = run_moa({"run", "--config", f, "--prompt", "Hi", "--json"});
    QCOMPARE(r.code, 0);
    QVERIFY2(r.err.contains("moa: dropped L1.2 status?code=404"), r.err.constData());
    QVERIFY(r.err.contains("HTTP 404: model not found"));
    auto doc = QJsonDocument::fromJson(r.out).object();
    auto failed = doc["layers"].toArray()[0].toObject()["agents"].toArray()[1].toObject();
    QVERIFY(failed["error"].toString().contains("HTTP 404: model not found"));
    QCOMPARE(failed["state"].toString(), QStringLiteral("dropped"));
    // The history says so too, in the same words: its list (text and --json) and the HTML page.
    const QString said = QString::fromUtf8("done — 1 of 3 dropped");
    auto listed = run_moa({"history", "--limit", "1", "--json"}); // the newest run: this one
    QCOMPARE(listed.code, 0);
    auto runs = QJsonDocument::fromJson(listed.out).array();
    QCOMPARE(runs.size(), 1);
    QCOMPARE(runs[0].toObject()["outcome"].toString(), said);
    const QString id = QString::number(runs[0].toObject()["id"].toInteger());
    auto text = run_moa({"history", "--limit", "1"});
    QVERIFY2(QString::fromUtf8(text.out).contains(said), text.out.constData());
    auto html = run_moa({"history", "show", id, "--html"});
    QVERIFY2(QString::fromUtf8(html.out).contains("run " + said + "</title>"), html.out.left(400).constData());
}

void TestCli::failedRunExitsThreeWithMessage() {
    std::string n = nonce();
    auto j = config_json(server_->base_url(), {{"ok?tag=A-" + n}, {"status?code=401&message=Incorrect+API+key&tag=" + n}});
    QString f = write_file(dir_, "fail.moa.json", QByteArray::fromStdString(j.dump(2)));
    auto r = run_moa({"run", "--config", f, "--prompt", "Hi"});
    QCOMPARE(r.code, 3);
    QVERIFY2(r.err.contains("moa: run failed: the aggregator (layer 2) failed"), r.err.constData());
    QVERIFY(r.err.contains("HTTP 401: Incorrect API key"));
    r = run_moa({"run", "--config", f, "--prompt", "Hi", "--json"});
    QCOMPARE(r.code, 3);
    auto doc = QJsonDocument::fromJson(r.out).object();
    QCOMPARE(doc["status"].toString(), QStringLiteral("failed"));
    QVERIFY(doc["final"].toObject()["text"].isNull());
}

void TestCli::badUsageExitsTwo_data() {
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QString>("message");
    QTest::newRow("no config") << QStringList{"run", "--prompt", "x"} << "--config FILE is required";
    QTest::newRow("no prompt") << QStringList{"run", "--config", "offline-demo"} << "exactly one of --prompt";
    QTest::newRow("two prompts") << QStringList{"run", "--config", "offline-demo", "--prompt", "a", "--prompt-file", "b"}
                                 << "exactly one of --prompt";
    QTest::newRow("unknown option") << QStringList{"run", "--frob"} << "unknown option --frob";
    QTest::newRow("missing file") << QStringList{"run", "--config", "/nonexistent/x.moa.json", "--prompt", "x"} << "no such file";
    QTest::newRow("empty prompt") << QStringList{"run", "--config", "offline-demo", "--prompt", "  "} << "the prompt is empty";
    QTest::newRow("models without provider") << QStringList{"models", "--config", "offline-demo"} << "usage: moa models";
}

void TestCli::badUsageExitsTwo() {
    QFETCH(QStringList, args);
    QFETCH(QString, message);
    auto r = run_moa(args);
    QCOMPARE(r.code, 2);
    QVERIFY2(r.err.contains(message.toUtf8()), r.err.constData());
}

void TestCli::modelsListsProviderModels() {
    auto j = config_json(server_->base_url(), {{"ok"}});
    QString f = write_file(dir_, "models.moa.json", QByteArray::fromStdString(j.dump(2)));
    auto r = run_moa({"models", "--config", f, "--provider", "local"});
    QCOMPARE(r.code, 0);
    QVERIFY(r.out.contains("ok\n"));
    QVERIFY(r.out.contains("slow-first\n"));
    r = run_moa({"models", "--config", f, "--provider", "nope"});
    QCOMPARE(r.code, 2);
}

void TestCli::offlineDemoPresetRunsEndToEnd() {
    auto r = run_moa({"run", "--config", "offline-demo", "--prompt", "What is a mixture of agents?", "--json"});
    QCOMPARE(r.code, 0);
    auto doc = QJsonDocument::fromJson(r.out).object();
    QVERIFY(doc["final"].toObject()["text"].toString().contains("offline demo, not a real model"));
    QCOMPARE(doc["layers"].toArray().size(), 3);
    QVERIFY(doc["layers"].toArray()[2].toObject()["agents"].toArray()[0].toObject()["demo"].toBool());
}

// mock-llm (@dwmkerr/mock-llm on npm, pinned in tools/dev.sh) is an OpenAI-compatible server
// written by others. Its answers report how many messages an agent got and how long the first
// one was, so the final answer proves exactly what each layer was sent.
void TestCli::threeLayersAgainstThirdPartyServer() {
    const QString main_js = QStringLiteral(MOA_BINARY_DIR "/npm/node_modules/@dwmkerr/mock-llm/dist/main.js");
    if (!QFile::exists(main_js)) {
        if (qEnvironmentVariableIsSet("MOA_REQUIRE_THIRD_PARTY_SERVER")) QFAIL("mock-llm is not installed (tools/dev.sh installs it)");
        QSKIP("mock-llm is not installed; tools/dev.sh test installs it from npm");
    }
    QTemporaryDir work;
    QFile::copy(QStringLiteral(MOA_SOURCE_ROOT "/tests/fixtures/mock-llm.yaml"), work.filePath("mock-llm.yaml"));
    // A free port: bind our own server, note its port, stop it.
    int port;
    {
        TestServer probe;
        port = probe.port();
    }
    QProcess node;
    node.setWorkingDirectory(work.path());
    auto env = QProcessEnvironment::systemEnvironment();
    env.insert("PORT", QString::number(port));
    env.insert("HOST", "127.0.0.1");
    node.setProcessEnvironment(env);
    node.setProcessChannelMode(QProcess::MergedChannels);
    node.start("node", {main_js});
    QVERIFY(node.waitForStarted());
    QByteArray log;
    QTRY_VERIFY_WITH_TIMEOUT((log += node.readAll()).contains("running on") || node.state() != QProcess::Running, 20000);
    QVERIFY2(node.state() == QProcess::Running, log.constData());

    const std::string base = "http://127.0.0.1:" + std::to_string(port) + "/v1";
    auto j = config_json(base, {{"mock-a", "mock-b", "mock-c"}, {"mock-d", "mock-e"}, {"mock-final"}});
    QString f = write_file(dir_, "third-party.moa.json", QByteArray::fromStdString(j.dump(2)));
    const std::string prompt = "Explain mixture of agents in one line.";
    auto r = run_moa({"run", "--config", f, "--prompt", QString::fromStdString(prompt), "--json"});
    node.kill();
    node.waitForFinished();
    QVERIFY2(r.code == 0, r.err.constData());
    auto doc = QJsonDocument::fromJson(r.out).object();

    auto answer = [](const std::string& model, int messages, std::size_t first_len) {
        return model + " heard " + std::to_string(messages) + " messages; the first has " + std::to_string(first_len) + " characters.";
    };
    const std::string& tmpl = moa::config::default_aggregation_template();
    auto system_len = [&](const std::vector<std::string>& refs) {
        std::string s = tmpl;
        for (std::size_t i = 0; i < refs.size(); ++i) s += "\n" + std::to_string(i + 1) + ". " + refs[i];
        return s.size();
    };
    std::vector<std::string> l1, l2;
    for (const char* m : {"mock-a", "mock-b", "mock-c"}) l1.push_back(answer(m, 1, prompt.size()));
    for (const char* m : {"mock-d", "mock-e"}) l2.push_back(answer(m, 2, system_len(l1)));
    const std::string final_expected = answer("mock-final", 2, system_len(l2));

    auto layers = doc["layers"].toArray();
    QCOMPARE(layers.size(), 3);
    for (int i = 0; i < 3; ++i)
        QCOMPARE(layers[0].toObject()["agents"].toArray()[i].toObject()["text"].toString().toStdString(), l1[static_cast<std::size_t>(i)]);
    for (int i = 0; i < 2; ++i)
        QCOMPARE(layers[1].toObject()["agents"].toArray()[i].toObject()["text"].toString().toStdString(), l2[static_cast<std::size_t>(i)]);
    QCOMPARE(doc["final"].toObject()["text"].toString().toStdString(), final_expected);
    // mock-llm sends no usage: the counts are estimated, and say so.
    QVERIFY(layers[2].toObject()["agents"].toArray()[0].toObject()["usage"].toObject()["estimated"].toBool());
}

void TestCli::runsAreRecordedAndShownFromHistory() {
    std::string n = nonce();
    auto j = config_json(server_->base_url(), {{"ok?tag=A-" + n, "ok?tag=B-" + n}, {"ok?tag=F-" + n}});
    QString f = write_file(dir_, "hist.moa.json", QByteArray::fromStdString(j.dump(2)));
    auto r = run_moa({"run", "--config", f, "--prompt", "remember me " + QString::fromStdString(n), "--json"});
    QCOMPARE(r.code, 0);
    auto doc = QJsonDocument::fromJson(r.out).object();
    const int id = doc["history_id"].toInt();
    QVERIFY(id > 0);
    doc.remove("history_id");
    auto shown = run_moa({"history", "show", QString::number(id), "--json"});
    QCOMPARE(shown.code, 0);
    QCOMPARE(QJsonDocument::fromJson(shown.out).object(), doc);
    auto list = run_moa({"history", "--search", QString::fromStdString(n)});
    QCOMPARE(list.code, 0);
    QVERIFY(list.out.contains(("remember me " + n).c_str()));
    QCOMPARE(run_moa({"history", "show", "999999"}).code, 2);
    auto md = run_moa({"history", "show", QString::number(id), "--markdown"});
    QCOMPARE(md.code, 0);
    QVERIFY(md.out.startsWith("# test — run done"));
    QVERIFY(md.out.contains("## Layer 1 — "));
    QVERIFY(md.out.contains(("### 2. ok?tag=B-" + n + " (local) — done").c_str()));
    QVERIFY(md.out.contains(("## Final answer\n\nF-" + n + " answers with 2 references.").c_str()));
    // --no-history leaves no trace.
    run_moa({"run", "--config", f, "--prompt", "forget me " + QString::fromStdString(n), "--no-history", "--quiet"});
    QVERIFY(!run_moa({"history", "--search", "forget me"}).out.contains("forget me"));
}

void TestCli::runJsonHasSourcesAndIgnoredFromCraftedAnswers() {
    // Three proposers and an aggregator answer crafted texts over HTTP; the aggregate is
    // "Sugar dissolves fast in tea." (5 words, whole from answer 2) + two sentences (11 words,
    // whole from answer 1), 16 words in all; nothing comes from answer 3.
    const std::string n = nonce();
    auto say = [&](const std::string& text) {
        return "ok?tag=" + n + "&text=" + QUrl::toPercentEncoding(QString::fromStdString(text)).toStdString();
    };
    auto j = config_json(server_->base_url(),
                         {{say("Water boils at one hundred degrees. Ice melts at zero degrees."),
                           say("Salt raises the boiling point. Sugar dissolves fast in tea."),
                           say("Penguins live in the south. They cannot fly at all.")},
                          {say("Sugar dissolves fast in tea. Water boils at one hundred degrees. Ice melts at zero degrees.")}});
    QString f = write_file(dir_, "sources.moa.json", QByteArray::fromStdString(j.dump(2)));
    auto r = run_moa({"run", "--config", f, "--prompt", "Tell me facts " + QString::fromStdString(n), "--json"});
    QCOMPARE(r.code, 0);
    auto doc = QJsonDocument::fromJson(r.out).object();
    auto layers = doc["layers"].toArray();
    QCOMPARE(layers.size(), 2);
    auto l1 = layers[0].toObject()["agents"].toArray();
    QVERIFY(!l1[0].toObject().contains("sources"));
    QCOMPARE(l1[0].toObject()["ignored"].toBool(true), false);
    QCOMPARE(l1[1].toObject()["ignored"].toBool(true), false);
    QCOMPARE(l1[2].toObject()["ignored"].toBool(false), true);
    auto sources = layers[1].toObject()["agents"].toArray()[0].toObject()["sources"].toArray();
    QCOMPARE(sources.size(), 3);
    const double want[] = {11.0 / 16, 5.0 / 16, 0.0};
    for (int k = 0; k < 3; ++k) {
        auto s = sources[k].toObject();
        QCOMPARE(s["layer"].toInt(), 0);
        QCOMPARE(s["agent"].toInt(), k);
        QCOMPARE(s["share"].toDouble(), want[k]);
    }
    // history show recomputes from the stored texts: the same numbers.
    const int id = doc["history_id"].toInt();
    QVERIFY(id > 0);
    auto shown = run_moa({"history", "show", QString::number(id), "--json"});
    QCOMPARE(shown.code, 0);
    auto again = QJsonDocument::fromJson(shown.out).object()["layers"].toArray();
    QCOMPARE(again, layers);
}

void TestCli::historyShowHtmlIsSelfContainedAndEscaped() {
    const std::string n = nonce();
    auto say = [&](const std::string& text) {
        return "ok?tag=" + n + "&text=" + QUrl::toPercentEncoding(QString::fromStdString(text)).toStdString();
    };
    // Untrusted model text: a script, an image from the network, a stylesheet link.
    auto j = config_json(server_->base_url(),
                         {{say("Water boils at one hundred degrees. <script>alert('x')</script> Ice melts at zero degrees."),
                           say("Salt raises the boiling point. <img src=\"https://evil.example/p.png\"> Sugar dissolves fast in tea.")},
                          {say("Sugar dissolves fast in tea. Water boils at one hundred degrees. <link rel=stylesheet href=http://evil.example/s.css>")}});
    QString f = write_file(dir_, "html.moa.json", QByteArray::fromStdString(j.dump(2)));
    auto r = run_moa({"run", "--config", f, "--prompt", "Facts <b>please</b> " + QString::fromStdString(n), "--json"});
    QCOMPARE(r.code, 0);
    const auto doc = QJsonDocument::fromJson(r.out).object();
    const int id = doc["history_id"].toInt();
    auto h = run_moa({"history", "show", QString::number(id), "--html"});
    QCOMPARE(h.code, 0);
    const QString page = QString::fromUtf8(h.out);
    QVERIFY(page.startsWith("<!DOCTYPE html>"));
    QVERIFY(page.contains("<svg"));
    // Nothing is fetched: no script at all, and no tag (model text has none: its '<' are escaped)
    // with a src, href, url() or @import, nor the style sheet.
    QVERIFY(!page.contains("<script", Qt::CaseInsensitive));
    auto tags = QRegularExpression("<[^>]*>").globalMatch(page);
    int ntags = 0;
    while (tags.hasNext()) {
        const QString tag = tags.next().captured(0);
        ++ntags;
        QVERIFY2(!tag.contains(QRegularExpression("(src|href|xmlns)\\s*=|url\\(|https?:", QRegularExpression::CaseInsensitiveOption)),
                 qPrintable(tag));
    }
    QVERIFY(ntags > 20);
    const QString style = page.section("<style>", 1).section("</style>", 0, 0);
    QVERIFY(!style.isEmpty() && !style.contains("url(") && !style.contains("@import"));
    QVERIFY(!page.contains("<img", Qt::CaseInsensitive));
    QVERIFY(!page.contains("<link", Qt::CaseInsensitive));
    QVERIFY(!page.contains("<b>please"));
    // The untrusted text is there, escaped.
    QVERIFY(page.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
    QVERIFY(page.contains("&lt;img src=&quot;https://evil.example/p.png&quot;&gt;"));
    QVERIFY(page.contains("Facts &lt;b&gt;please&lt;/b&gt;"));
    // Each share of the JSON is on the page, in the same words.
    const auto agg = doc["layers"].toArray()[1].toObject()["agents"].toArray()[0].toObject();
    for (const auto& v : agg["sources"].toArray()) {
        const auto s = v.toObject();
        const QString want = QString("%1% of L2.1 comes from L1.%2").arg(qRound(s["share"].toDouble() * 100)).arg(s["agent"].toInt() + 1);
        QVERIFY2(page.contains(want), qPrintable(want));
    }
    QVERIFY(page.contains("<mark"));
}

// Issue 12: `history show --markdown` (and the workbench's Export run as Markdown) wrote model
// text as it came: a renderer showing the file ran its <script>, <img onerror> and javascript:
// links. Raw HTML is escaped outside code, unsafe link targets lose their link, code is kept.
void TestCli::historyShowMarkdownNeutralisesHtmlAndLinks() {
    const std::string n = nonce();
    auto j = config_json(server_->base_url(), {{"markup?tag=A-" + n}, {"markup?tag=F-" + n}});
    j["name"] = "<img src=x onerror=alert(11)>";
    QString f = write_file(dir_, "md.moa.json", QByteArray::fromStdString(j.dump(2)));
    auto r = run_moa({"run", "--config", f, "--prompt", "Show <script>alert(12)</script> " + QString::fromStdString(n), "--json"});
    QVERIFY2(r.code == 0, r.err.constData());
    const int id = QJsonDocument::fromJson(r.out).object()["history_id"].toInt();
    auto h = run_moa({"history", "show", QString::number(id), "--markdown"});
    QCOMPARE(h.code, 0);
    const QString md = QString::fromUtf8(h.out);
    // Raw "<" is left only in code: an inline code span, a fenced block, and the fence the text
    // left open (closed by the export).
    QString rest = md;
    for (const char* code : {"`vector<int>`", "```html\n<div>code stays</div>\n```", "```\n<svg onload=alert(10)>\n```"}) {
        QVERIFY2(md.count(code) == 3, qPrintable(QString(code) + " in:\n" + md)); // the proposer, the aggregator, the final answer
        rest.remove(code);
    }
    QVERIFY2(!rest.contains('<'), qPrintable(rest));
    QVERIFY2(md.contains("# &lt;img src=x onerror=alert(11)> — run") && md.contains("Show &lt;script>alert(12)&lt;/script>"),
             qPrintable(md));
    QVERIFY(md.contains("Intro &lt;script>alert(1)&lt;/script> and &lt;img src=x onerror=alert(2)>."));
    // No link to javascript:, data:, vbscript:, an entity or a tab spelling of them; safe ones stay links.
    for (const char* bad : {"javascript:alert(3)", "JaVaScRiPt:alert(4)", "data:text/html", "vbscript:msgbox(5)", "&#106;avascript",
                            "java\tscript"}) {
        QVERIFY2(!md.contains(QString("](") + bad), bad);
        QVERIFY2(md.contains(QString("]\\(") + bad), bad);
    }
    QVERIFY(md.contains("[ok](https://example.org/a?b=1) [rel](docs/page.md)"));
    QVERIFY(md.contains("[ref]\\: javascript:alert(7)")); // not a link reference definition
    QVERIFY(md.contains("\\`&lt;u>not code&lt;/u>`"));      // an escaped backtick opens no code span
    QVERIFY(md.contains("| `a | &lt;b>x&lt;/b> | c` |"));      // GFM splits table cells inside code
    QVERIFY(md.contains("  ```\n&lt;iframe src=javascript:alert(8)>")); // an indented fence is not trusted
}

// Found by the second hostile review: `![i](http://...)` in a prompt, an answer or a name stayed an
// image in the Markdown export, fetched (a beacon to its server) whenever the file is viewed.
// Every image is written as "\![": a "!" and a link, nothing fetched; code keeps it as it is.
void TestCli::historyShowMarkdownFetchesNoImages() {
    const std::string n = nonce();
    auto j = config_json(server_->base_url(), {{"ok?tag=A-" + n}, {"ok?tag=F-" + n}});
    j["name"] = "![name](http://127.0.0.1:1/name.png)";
    QString f = write_file(dir_, "img.moa.json", QByteArray::fromStdString(j.dump(2)));
    const QString prompt = "See ![beacon](http://127.0.0.1:1/b.png) and [![nested](https://127.0.0.1:1/n.png)](https://example.org) "
                           "and ![rel](pic.png) and \\\\![after a backslash](http://127.0.0.1:1/c.png) and `![in code](x.png)` " +
                           QString::fromStdString(n);
    auto r = run_moa({"run", "--config", f, "--prompt", prompt, "--json"});
    QVERIFY2(r.code == 0, r.err.constData());
    const int id = QJsonDocument::fromJson(r.out).object()["history_id"].toInt();
    auto h = run_moa({"history", "show", QString::number(id), "--markdown"});
    QCOMPARE(h.code, 0);
    QString md = QString::fromUtf8(h.out);
    QVERIFY2(md.contains("See \\![beacon](http://127.0.0.1:1/b.png) and [\\![nested](https://127.0.0.1:1/n.png)](https://example.org) "
                         "and \\![rel](pic.png) and \\\\\\![after a backslash](http://127.0.0.1:1/c.png)"),
             qPrintable(md));
    QVERIFY2(md.contains("# \\![name](http://127.0.0.1:1/name.png) — run"), qPrintable(md));
    QVERIFY2(md.contains("`![in code](x.png)`"), qPrintable(md)); // code shows as it is, and is never an image
    md.remove("`![in code](x.png)`");
    // No "![" is left that is not escaped.
    for (qsizetype at = md.indexOf("!["); at >= 0; at = md.indexOf("![", at + 1))
        QVERIFY2(at > 0 && md[at - 1] == '\\', qPrintable(md.mid(std::max<qsizetype>(0, at - 40), 80)));
}

void TestCli::unwritableHistoryWarnsAndTheRunGoesOn() {
    const QByteArray saved = qgetenv("MOA_HISTORY_DB");
    qputenv("MOA_HISTORY_DB", "/proc/moa-no/history.sqlite");
    std::string n = nonce();
    auto j = config_json(server_->base_url(), {{"ok?tag=A-" + n}});
    QString f = write_file(dir_, "nohist.moa.json", QByteArray::fromStdString(j.dump(2)));
    auto r = run_moa({"run", "--config", f, "--prompt", "x", "--json"});
    qputenv("MOA_HISTORY_DB", saved);
    QCOMPARE(r.code, 0);
    QVERIFY2(r.err.contains("moa: warning: /proc/moa-no/history.sqlite: cannot open the history database"), r.err.constData());
    QVERIFY(r.err.contains("(this run is not recorded)"));
    QVERIFY(!QJsonDocument::fromJson(r.out).object()["final"].toObject()["text"].isNull());
}

void TestCli::statsJsonHasExactlyTheLeaderboardKeys() {
    const QString d = QString(MOA_SHARED_DATA) + "/alpaca_eval/";
    auto r = run_moa({"stats", "--annotations", d + "annotations/alpaca-7b.json", "--difficulty",
                      d + "instruction_difficulty_reconstructed.csv", "--baseline-variants", d + "df_gamed_synthetic.csv",
                      "--json"});
    QCOMPARE(r.code, 0);
    auto j = nlohmann::json::parse(r.out.toStdString());
    std::set<std::string> keys;
    for (const auto& [k, _] : j.items()) keys.insert(k);
    QCOMPARE(keys, (std::set<std::string>{"win_rate", "standard_error", "n_wins", "n_wins_base", "n_draws", "n_total",
                                          "discrete_win_rate", "avg_length", "length_controlled_winrate"}));
    QVERIFY(std::abs(j["win_rate"].get<double>() - 2.591450540223603) < 1e-6);
    QCOMPARE(j["n_total"].get<int>(), 805);
    QVERIFY(std::abs(j["length_controlled_winrate"].get<double>() - 5.875487163278986) < 0.3);

    // Without a difficulty file the fit says it went without.
    r = run_moa({"stats", "--annotations", d + "annotations/alpaca-7b.json"});
    QCOMPARE(r.code, 0);
    QVERIFY(r.out.contains("no instruction difficulty given"));
    QVERIFY(r.out.contains("not regularised"));

    r = run_moa({"stats", "--annotations", d + "annotations/alpaca-7b.json", "--difficulty", d + "df_gamed_synthetic.csv"});
    QCOMPARE(r.code, 2);
    QVERIFY2(r.err.contains("df_gamed_synthetic.csv:1: the header has no column \"difficulty\""), r.err.constData());
}

QTEST_GUILESS_MAIN(TestCli)
#include "tst_cli.moc"
