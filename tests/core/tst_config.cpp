// SPDX-License-Identifier: MIT
// Loading and validating *.moa.json, and the exact messages each agent is sent.
#include <QFileInfo>
#include <QtTest>

#include <fstream>
#include <iterator>

#include <filesystem>
#include <fstream>

#include <sys/stat.h>

#include "config/config.h"
#include "config/json_lines.h"
#include "engine/prompt_builder.h"
#include "util/resources.h"

using namespace moa;

namespace {
// The example configuration of issue 2, verbatim.
const std::string kExample = [] {
    std::ifstream f(MOA_SOURCE_ROOT "/tests/fixtures/issue2-example.moa.json");
    return std::string(std::istreambuf_iterator<char>(f), {});
}();

QStringList issue_strings(const config::LoadResult& r) {
    QStringList out;
    for (const auto& i : r.issues) out << QString::fromStdString(i.str());
    return out;
}

config::Config two_layer(config::Placement placement, std::optional<std::string> system = std::nullopt) {
    auto r = config::load_config_text(kExample, "x.moa.json");
    auto c = *r.config;
    c.aggregation.placement = placement;
    c.layers[1].agents[0].system = system;
    return c;
}
} // namespace

class TestConfig : public QObject {
    Q_OBJECT
private slots:
    void issueExampleLoads();
    void duplicateKeysAreRefused();
    void invalidConfigsReportEveryProblemWithLine_data();
    void invalidConfigsReportEveryProblemWithLine();
    void malformedJsonGivesLineAndColumn();
    void numberTooLargeIsAnIssueNotACrash();
    void unknownFieldsWarnButLoad();
    void saveThenLoadGivesTheSameConfig();
    void everyPresetIsValid();
    void firstLayerGetsConversationOnly();
    void systemPlacementMessagesAreExact();
    void systemPlacementAfterAgentSystemPrompt();
    void userPlacementMessagesAreExact();
    void missingAnswersAreCounted();
    void defaultTemplateIsThePapersPrompt();
    void templateFileIsReadRelativeToConfig();
    void deepNestingIsAnErrorNotAHang();
    void lineMapFinishesPastItsDepthLimit();
    void headerValuesAndKeyHeadersAreChecked_data();
    void headerValuesAndKeyHeadersAreChecked();
    void harmlessHeaderValuesPass();
    void keyHeaderSendsTheKeyInANamedHeader();
    void keyHeaderRefusesWhatHeadersRefuse_data();
    void keyHeaderRefusesWhatHeadersRefuse();
    void baseUrlWithControlsOrCredentialsIsRefused_data();
    void baseUrlWithControlsOrCredentialsIsRefused();
    void apiKeyAnywhereIsAnError();
    void templateOutsideTheFolderIsRefused();
    void templateMustBeASmallRegularFile();
    void templateFromSystemTreesIsRefusedEvenWhenAllowed();
    void templateMayNotBeHiddenOrHoldNul();
    void pipeliningAndLayerLimitsLoadAndRoundTrip();
    void pipeliningAndLayerLimitsAreChecked_data();
    void pipeliningAndLayerLimitsAreChecked();
    void partialAndCutReferencesAreSaidSo();
    void continuationMessagesAreExact();
    void numericFieldsSayFieldPointerAndRange_data();
    void numericFieldsSayFieldPointerAndRange();
    void wholeNumbersInAnyNotationAreWhole();
    void smallChunksWarnWhatTheyCost();
    void staircaseBeforeOnlyASelectorWarns();
    void agentCountsAreCapped();
};

void TestConfig::issueExampleLoads() {
    auto r = config::load_config_text(kExample, "x.moa.json");
    QVERIFY2(r.ok(), r.summary().c_str());
    QVERIFY(r.issues.empty());
    const auto& c = *r.config;
    QCOMPARE(c.name, std::string("MoA-Lite"));
    QCOMPARE(c.layers.size(), std::size_t(2));
    QCOMPARE(c.layers[0].agents[0].params.temperature.value(), 0.7);
    QCOMPARE(c.layers[0].agents[0].params.max_tokens.value(), 512L);
    QCOMPARE(c.provider("together")->api_key_env, std::string("TOGETHER_API_KEY"));
    QCOMPARE(c.provider("together")->max_concurrency, 8);
    QCOMPARE(c.on_agent_failure, config::FailurePolicy::Drop);
}

void TestConfig::invalidConfigsReportEveryProblemWithLine_data() {
    QTest::addColumn<QString>("doc");
    QTest::addColumn<QStringList>("expected");
    const QString head = "{\n\"schema\": \"moa-workbench/config@1\",\n\"name\": \"t\",\n"
                         "\"providers\": {\"p\": {\"base_url\": \"http://127.0.0.1:1/v1\"}},\n";
    QTest::newRow("missing model, unknown provider")
        << head + "\"layers\": [\n{\"agents\": [{\"provider\": \"p\", \"model\": \"a\"},\n"
                  "{\"provider\": \"q\", \"model\": \"b\"}]},\n{\"agents\": [{\"provider\": \"p\"}]}\n]\n}"
        << QStringList{"peer.moa.json:7: /layers/0/agents/1/provider: unknown provider \"q\" (defined: p)",
                       "peer.moa.json:8: /layers/1/agents/0/model: required"};
    QTest::newRow("empty layer and last layer with two agents")
        << head + "\"layers\": [\n{\"agents\": []},\n{\"agents\": [{\"provider\": \"p\", \"model\": \"a\"}, "
                  "{\"provider\": \"p\", \"model\": \"b\"}]}\n]\n}"
        << QStringList{"peer.moa.json:6: /layers/0/agents: empty layer",
                       "peer.moa.json:7: /layers/1/agents: the last layer must hold exactly one agent, the aggregator (it has 2)"};
    QTest::newRow("values out of range")
        << head + "\"layers\": [{\"agents\": [{\"provider\": \"p\", \"model\": \"a\",\n\"temperature\": 3,\n"
                  "\"top_p\": -1, \"max_tokens\": 0, \"seed\": 1.5}]}]\n}"
        << QStringList{"peer.moa.json:6: /layers/0/agents/0/temperature: out of range: 3 is not within [0, 2]",
                       "peer.moa.json:7: /layers/0/agents/0/top_p: out of range", "/layers/0/agents/0/max_tokens: out of range",
                       "/layers/0/agents/0/seed: must be an integer"};
    QTest::newRow("unknown placement and policy")
        << head + "\"layers\": [{\"agents\": [{\"provider\": \"p\", \"model\": \"a\"}]}],\n"
                  "\"aggregation\": {\"placement\": \"middle\"},\n\"on_agent_failure\": \"retry\"\n}"
        << QStringList{"peer.moa.json:6: /aggregation/placement: unknown placement \"middle\" (use \"system\" or \"user\")",
                       "peer.moa.json:7: /on_agent_failure: unknown policy \"retry\""};
    QTest::newRow("a key in the file is refused")
        << "{\n\"schema\": \"moa-workbench/config@1\",\n\"name\": \"t\",\n\"providers\": {\"p\": {\n"
           "\"base_url\": \"https://x/v1\",\n\"api_key\": \"not-a-real-key\"}},\n"
           "\"layers\": [{\"agents\": [{\"provider\": \"p\", \"model\": \"a\"}]}]\n}"
        << QStringList{"peer.moa.json:6: /providers/p/api_key: API keys never go into a configuration file"};
    QTest::newRow("wrong schema, missing name, no layers")
        << "{\"schema\": \"other@9\", \"providers\": {\"p\": {\"base_url\": \"ftp://x\"}}}"
        << QStringList{"/schema: unsupported schema \"other@9\"", "/name: required", "/layers: required",
                       "/providers/p/base_url: must start with http:// or https://"};
    QTest::newRow("not an object") << "[1, 2]" << QStringList{"peer.moa.json:1: /: a configuration must be a JSON object"};
}

void TestConfig::invalidConfigsReportEveryProblemWithLine() {
    QFETCH(QString, doc);
    QFETCH(QStringList, expected);
    auto r = config::load_config_text(doc.toStdString(), "peer.moa.json");
    QVERIFY(!r.ok());
    const QString all = issue_strings(r).join('\n');
    for (const auto& e : expected) QVERIFY2(all.contains(e), qPrintable("missing: " + e + "\ngot:\n" + all));
}

void TestConfig::malformedJsonGivesLineAndColumn() {
    auto r = config::load_config_text("{\n  \"schema\": \"moa-workbench/config@1\",\n  \"name\": \"x\" \"oops\"\n}", "bad.moa.json");
    QVERIFY(!r.ok());
    QCOMPARE(r.issues.size(), std::size_t(1));
    const QString s = QString::fromStdString(r.issues[0].str());
    QVERIFY2(s.startsWith("bad.moa.json:3:15: malformed JSON"), qPrintable(s));
}

void TestConfig::unknownFieldsWarnButLoad() {
    std::string doc = kExample;
    doc.replace(doc.find("\"temperature\": 0.7"), 18, "\"tempreature\": 0.7");
    auto r = config::load_config_text(doc, "w.moa.json");
    QVERIFY(r.ok());
    QCOMPARE(r.issues.size(), std::size_t(1));
    QVERIFY(QString::fromStdString(r.issues[0].str()).contains("w.moa.json:9: warning: /layers/0/agents/0/tempreature: unknown field"));
}

void TestConfig::saveThenLoadGivesTheSameConfig() {
    auto r = config::load_config_text(kExample, "x.moa.json");
    auto j1 = config::to_json(*r.config);
    auto r2 = config::load_config_text(j1.dump(2), "y.moa.json");
    QVERIFY2(r2.ok(), r2.summary().c_str());
    QVERIFY(r2.issues.empty());
    QCOMPARE(QString::fromStdString(config::to_json(*r2.config).dump()), QString::fromStdString(j1.dump()));
}

void TestConfig::everyPresetIsValid() {
    auto names = resources::preset_names();
    for (const char* needed : {"moa-paper", "moa-lite", "moa-gpt4o", "together-recipe", "self-moa", "groq", "ollama", "offline-demo"})
        QVERIFY2(std::find(names.begin(), names.end(), needed) != names.end(), needed);
    for (const auto& n : names) {
        auto r = config::load_config_file(resources::preset_path(n));
        QVERIFY2(r.ok() && r.issues.empty(), (n + ": " + r.summary()).c_str());
    }
    auto paper = *config::load_config_file(resources::preset_path("moa-paper")).config;
    QCOMPARE(paper.layers.size(), std::size_t(3));
    QCOMPARE(paper.layers[0].agents.size(), std::size_t(6));
    QCOMPARE(paper.layers[2].agents[0].model, std::string("Qwen/Qwen1.5-110B-Chat"));
    auto lite = *config::load_config_file(resources::preset_path("moa-lite")).config;
    QCOMPARE(lite.layers.size(), std::size_t(2));
    QCOMPARE(lite.layers[1].agents[0].model, std::string("Qwen/Qwen1.5-72B-Chat"));
    auto ollama = *config::load_config_file(resources::preset_path("ollama")).config;
    QCOMPARE(ollama.providers.begin()->second.base_url, std::string("http://localhost:11434/v1"));
}

void TestConfig::firstLayerGetsConversationOnly() {
    auto c = two_layer(config::Placement::System);
    auto msgs = engine::build_messages(c, c.layers[0].agents[0], engine::RunInput::from_prompt("Hi?"), nullptr);
    QCOMPARE(msgs.size(), std::size_t(1));
    QCOMPARE(msgs[0], (providers::Message{"user", "Hi?"}));
}

void TestConfig::systemPlacementMessagesAreExact() {
    auto c = two_layer(config::Placement::System);
    engine::References refs{{"Answer A", "Answer B"}, 0};
    auto msgs = engine::build_messages(c, c.layers[1].agents[0], engine::RunInput::from_prompt("Hi?"), &refs);
    QCOMPARE(msgs.size(), std::size_t(2));
    QCOMPARE(msgs[0].role, std::string("system"));
    QCOMPARE(msgs[0].content, config::default_aggregation_template() + "\n1. Answer A\n2. Answer B");
    QCOMPARE(msgs[1], (providers::Message{"user", "Hi?"}));
}

void TestConfig::systemPlacementAfterAgentSystemPrompt() {
    auto c = two_layer(config::Placement::System, std::string("Be terse."));
    engine::References refs{{"A"}, 0};
    auto msgs = engine::build_messages(c, c.layers[1].agents[0], engine::RunInput::from_prompt("Q"), &refs);
    QCOMPARE(msgs[0].content, "Be terse.\n\n" + config::default_aggregation_template() + "\n1. A");
    QCOMPARE(msgs[1].content, std::string("Q"));
}

void TestConfig::userPlacementMessagesAreExact() {
    auto c = two_layer(config::Placement::User, std::string("Be terse."));
    engine::References refs{{"A", "B"}, 0};
    auto msgs = engine::build_messages(c, c.layers[1].agents[0], engine::RunInput::from_prompt("Q"), &refs);
    QCOMPARE(msgs.size(), std::size_t(2));
    QCOMPARE(msgs[0], (providers::Message{"system", "Be terse."}));
    QCOMPARE(msgs[1], (providers::Message{"user", config::default_aggregation_template() + "\n1. A\n2. B\n\nQ"}));
}

void TestConfig::missingAnswersAreCounted() {
    engine::References refs{{"A"}, 2};
    auto p = engine::aggregation_prompt("T", refs);
    QCOMPARE(p, std::string("T\n1. A\n\nNote: 2 of 3 responses are missing because their models failed."));
}

void TestConfig::defaultTemplateIsThePapersPrompt() {
    const std::string& t = config::default_aggregation_template();
    QVERIFY(t.rfind("You have been provided with a set of responses from various open-source models to the latest user query. "
                    "Your task is to synthesize these responses into a single, high-quality response.", 0) == 0);
    QVERIFY(t.find("adheres to the highest standards of accuracy and reliability.\n\nResponses from models:") != std::string::npos);
    QCOMPARE(t.substr(t.size() - 22), std::string("Responses from models:"));
}

void TestConfig::templateFileIsReadRelativeToConfig() {
    QTemporaryDir dir;
    const std::string d = dir.path().toStdString();
    { std::ofstream(d + "/mine.txt") << "Merge these:\n"; }
    std::string doc = kExample;
    doc.replace(doc.find("\"template\": \"default\""), 21, "\"template\": \"mine.txt\"");
    { std::ofstream(d + "/c.moa.json") << doc; }
    auto r = config::load_config_file(d + "/c.moa.json");
    QVERIFY2(r.ok(), r.summary().c_str());
    QCOMPARE(r.config->aggregation.template_text, std::string("Merge these:"));
    doc.replace(doc.find("mine.txt"), 8, "gone.txt");
    auto r2 = config::load_config_text(doc, "c.moa.json", d);
    QVERIFY(!r2.ok());
    QVERIFY(QString::fromStdString(r2.summary()).contains("/aggregation/template: cannot read the template file"));
}

void TestConfig::numberTooLargeIsAnIssueNotACrash() {
    // Found by fuzz_config in CI: a number past double's range threw out of the loader.
    auto r = moa::config::load_config_text("{\n  \"name\": \"x\",\n  \"layers\": [7E7777777]\n}", "big.moa.json");
    QVERIFY(!r.ok());
    QCOMPARE(r.issues.size(), std::size_t(1));
    QCOMPARE(r.issues[0].line, 3);
    QCOMPARE(r.issues[0].column, 14);
    QVERIFY2(r.issues[0].message.find("a number too large to read") != std::string::npos, r.issues[0].message.c_str());
    QVERIFY(r.summary().find("big.moa.json:3:14") != std::string::npos);
}

void TestConfig::deepNestingIsAnErrorNotAHang() {
    // Issue 12 item 9: arrays nested past 512 levels hung every loader (the line scanner stopped
    // at its depth limit without consuming the value and its caller spun).
    for (int depth : {512, 600, 100000}) {
        for (const auto& [open, close] : {std::pair{"[", "]"}, std::pair{"{\"a\":", "}"}}) {
            std::string nested;
            for (int i = 0; i < depth; ++i) nested += open;
            nested += "1";
            for (int i = 0; i < depth; ++i) nested += close;
            const std::string doc = "{\n\"schema\": \"moa-workbench/config@1\",\n\"name\": \"deep\",\n\"x-deep\": " +
                                    nested + "\n}";
            auto r = config::load_config_text(doc, "deep.moa.json");
            QVERIFY(!r.ok());
            const QString all = issue_strings(r).join('\n');
            // With the document's own braces, 512 in x-deep make 513 levels.
            QVERIFY2(all.contains("deep.moa.json:4:") && all.contains("values nested more than 512 levels deep"),
                     qPrintable(QString::number(depth) + ": " + all));
        }
    }
    std::string ok_depth = "{\"schema\": \"moa-workbench/config@1\", \"x-deep\": " + std::string(511, '[') +
                           std::string(511, ']') + "}";
    auto r = config::load_config_text(ok_depth, "deep.moa.json");
    QVERIFY(r.summary().find("nested") == std::string::npos);
    QVERIFY(r.summary().find("/name: required") != std::string::npos);
}

void TestConfig::lineMapFinishesPastItsDepthLimit() {
    // The line map used after parsing (experiments, data files) must consume what it does not map.
    std::string deep = std::string(600, '[') + "1, \"a]b\\\"\", {\"k\": [2, {}]}, null" + std::string(600, ']');
    const std::string text = "{\n\"a\": 1,\n\"deep\": " + deep + ",\n\"b\": [\n2]\n}";
    config::JsonLineMap m(text);
    QCOMPARE(m.line_of("/a"), 2);
    QCOMPARE(m.line_of("/deep/0/0"), 3);
    QCOMPARE(m.line_of("/b"), 4);
    QCOMPARE(m.line_of("/b/0"), 5);
}

namespace {
// The issue 2 example with `extra` members added to provider "together".
std::string with_provider_fields(const std::string& extra) {
    std::string doc = kExample;
    const std::string anchor = "\"api_key_env\": \"TOGETHER_API_KEY\"";
    doc.replace(doc.find(anchor), anchor.size(), anchor + ", " + extra);
    return doc;
}
} // namespace

void TestConfig::headerValuesAndKeyHeadersAreChecked_data() {
    QTest::addColumn<QString>("headers");
    QTest::addColumn<QString>("expected");
    // Issue 12 item 7: CR/LF in a value injected header lines; key headers were stored in the clear.
    QTest::newRow("LF injects a line") << R"({"X-Title": "a\nAuthorization: Bearer x"})"
                                       << "/providers/together/headers/X-Title: must not contain CR, LF or NUL";
    QTest::newRow("CR") << R"({"X-Title": "a\rb"})" << "/providers/together/headers/X-Title: must not contain CR, LF or NUL";
    QTest::newRow("NUL") << R"({"X-Title": "a\u0000b"})" << "/providers/together/headers/X-Title: must not contain CR, LF or NUL";
    QTest::newRow("bad name") << R"({"X Title:": "a"})" << "/providers/together/headers/X Title:: not a valid header name";
    QTest::newRow("X-Api-Key") << R"({"X-Api-Key": "k"})" << "/providers/together/headers/X-Api-Key: a header named like this carries a key";
    QTest::newRow("api-key") << R"({"api-key": "k"})" << "\"key_header\": \"api-key\"";
    QTest::newRow("X-Auth-Token") << R"({"X-Auth-Token": "k"})" << "/providers/together/headers/X-Auth-Token: a header named like this carries a key";
    // Found by the hostile review: framing headers routed the key to another virtual host or smuggled a request.
    QTest::newRow("Host") << R"({"Host": "evil.example"})" << "/providers/together/headers/Host: this header frames or routes the request";
    QTest::newRow("Content-Length") << R"({"content-length": "0"})" << "headers/content-length: this header frames or routes";
    QTest::newRow("Transfer-Encoding") << R"({"Transfer-Encoding": "chunked"})" << "headers/Transfer-Encoding: this header frames or routes";
    QTest::newRow("authorization, any case") << R"({"AUTHORIZATION": "Bearer k"})"
                                             << "/providers/together/headers/AUTHORIZATION: the Authorization header is built from";
    // Found by the third hostile review: a key under a name that does not say so was stored in
    // every run's configuration snapshot.
    const char* use = "put the key in an environment variable named in \"api_key_env\" and set \"key_header\"";
    QTest::newRow("X-Credential") << R"({"X-Credential": "sk-test-SECRET999"})" << "/providers/together/headers/X-Credential:";
    QTest::newRow("X-Session") << R"({"X-Session": "sk-test-SECRET999"})" << "/providers/together/headers/X-Session:";
    QTest::newRow("X-Signature") << R"({"X-Signature": "sk"})" << "/providers/together/headers/X-Signature:";
    QTest::newRow("X-Access sk-") << R"({"X-Access": "sk-test-SECRET999"})"
                                  << "/providers/together/headers/X-Access: the value starts with \"sk-\", as keys do";
    QTest::newRow("sk_ any name") << R"({"X-Foo": "sk_live_abc"})" << QString("headers/X-Foo: the value starts with \"sk_\"");
    QTest::newRow("key- any name") << R"({"X-Foo": "key-abc"})" << QString("headers/X-Foo: the value starts with \"key-\"");
    QTest::newRow("Bearer any name") << R"({"X-A": "Bearer sk-test-SECRET999"})"
                                     << "/providers/together/headers/X-A: the value starts with \"Bearer \": it carries a credential";
    QTest::newRow("bearer any case") << R"({"X-A": "bEaReR abc"})" << QString("headers/X-A: the value starts with \"Bearer \": it carries a credential");
    QTest::newRow("Basic") << R"({"X-A": "Basic dXNlcjpwYXNz"})" << QString("headers/X-A: the value starts with \"Basic \"");
    QTest::newRow("long token") << R"({"X-Tenant": "a8f3k29dk3m4n5b6v7c8x9z0q1w2"})"
                                << QString("headers/X-Tenant: the value holds a long random-looking token");
    QTest::newRow("mixed-case token") << R"({"X-Tenant": "AbCdEf-GhIjKl-MnOpQr-StUv12"})"
                                      << QString("headers/X-Tenant: the value looks like a key");
    // Review 10: other schemes and separators, and key-shaped tokens inside the value.
    QTest::newRow("Bearer tab") << "{\"X-A\": \"Bearer\\tsk-test\"}" << QString("headers/X-A: the value starts with \"Bearer \"");
    QTest::newRow("Token scheme") << R"({"X-A": "Token sk-test-SECRET999"})" << QString("headers/X-A: the value starts with \"Token \"");
    QTest::newRow("key= inside") << R"({"X-A": "key=sk-test-SECRET999"})" << QString("headers/X-A: the value assigns \"key=\"");
    QTest::newRow("sk- inside") << R"({"X-A": "Key sk-test-SECRET999"})" << QString("headers/X-A: the value holds a token starting with \"sk-\"");
    QTest::newRow("slack token") << R"({"X-A": "xoxb-123-456-SECRET"})" << QString("headers/X-A: the value holds a token starting with \"xoxb-\"");
    QTest::newRow("password=") << R"({"X-A": "user=me;password=hunter2"})" << QString("headers/X-A: the value assigns \"password=\"");
    QTest::newRow("says what to do") << R"({"X-Access": "sk-x"})" << QString(use) + ": \"X-Access\" to send it in this header";
}

// Identifiers and versions that look a little like tokens still pass (few false positives).
void TestConfig::harmlessHeaderValuesPass() {
    const std::string headers = R"({"OpenAI-Organization": "org-AbCdEfGhIjKlMnOpQrStUv12", "OpenAI-Project": "proj_AbCdEfGhIjKlMnOpQrSt12",
        "anthropic-version": "2023-06-01", "anthropic-beta": "prompt-caching-2024-07-31,tools-2024-04-04",
        "X-Request-Id": "123e4567-e89b-12d3-a456-426614174000", "X-Title": "MoA Workbench, local test",
        "User-Agent": "moa-workbench/1.0", "HTTP-Referer": "https://example.com/some/path", "X-Region": "us-east-1",
        "X-Skip": "skip-this", "X-Model-Version": "gpt-4o-2024-08-06", "X-Task": "task-list, desk-top",
        "X-Feature": "risk-free"})";
    auto ok = config::load_config_text(with_provider_fields("\"headers\": " + headers), "h.moa.json");
    QVERIFY2(ok.ok(), ok.summary().c_str());
    QCOMPARE(ok.config->provider("together")->headers.size(), std::size_t(13));
}

void TestConfig::headerValuesAndKeyHeadersAreChecked() {
    QFETCH(QString, headers);
    QFETCH(QString, expected);
    auto r = config::load_config_text(with_provider_fields("\"headers\": " + headers.toStdString()), "h.moa.json");
    QVERIFY(!r.ok());
    const QString all = issue_strings(r).join('\n');
    QVERIFY2(all.contains(expected), qPrintable(all));
    QVERIFY2(all.startsWith("h.moa.json:5: "), qPrintable(all)); // the provider's line
    // A harmless header still passes.
    auto ok = config::load_config_text(with_provider_fields(R"("headers": {"X-Title": "MoA", "HTTP-Referer": "https://x"})"), "h.moa.json");
    QVERIFY2(ok.ok(), ok.summary().c_str());
    QCOMPARE(ok.config->provider("together")->headers.at("X-Title"), std::string("MoA"));
}

void TestConfig::keyHeaderSendsTheKeyInANamedHeader() {
    auto r = config::load_config_text(with_provider_fields(R"("key_header": "api-key")"), "k.moa.json");
    QVERIFY2(r.ok(), r.summary().c_str());
    QCOMPARE(r.config->provider("together")->key_header, std::string("api-key"));
    auto again = config::load_config_text(config::to_json(*r.config).dump(), "k2.moa.json");
    QCOMPARE(again.config->provider("together")->key_header, std::string("api-key"));
    auto bad = config::load_config_text(with_provider_fields(R"("key_header": "Authorization")"), "k.moa.json");
    QVERIFY(!bad.ok());
    QVERIFY(bad.summary().find("/providers/together/key_header: leave \"key_header\" out") != std::string::npos);
}

void TestConfig::keyHeaderRefusesWhatHeadersRefuse_data() {
    QTest::addColumn<QString>("name");
    // Found by the hostile review: "key_header": "Host" put the key in Host; Content-Length,
    // Transfer-Encoding, Connection and Expect broke the request's framing.
    for (const char* n : {"Host", "content-length", "Transfer-Encoding", "Connection", "Expect", "Upgrade", "TE",
                          "Keep-Alive", "Proxy-Connection", "Trailer", "Content-Encoding"})
        QTest::newRow(n) << QString(n);
}

void TestConfig::keyHeaderRefusesWhatHeadersRefuse() {
    QFETCH(QString, name);
    const std::string n = name.toStdString();
    auto r = config::load_config_text(with_provider_fields("\"key_header\": \"" + n + "\""), "k.moa.json");
    QVERIFY2(!r.ok(), n.c_str());
    const QString all = issue_strings(r).join('\n');
    QVERIFY2(all.contains("k.moa.json:5: /providers/together/key_header: this header frames or routes the request"),
             qPrintable(all));
    // The same name is refused in "headers", with the same reason.
    auto h = config::load_config_text(with_provider_fields("\"headers\": {\"" + n + "\": \"x\"}"), "k.moa.json");
    QVERIFY2(issue_strings(h).join('\n').contains("/headers/" + name + ": this header frames or routes the request"),
             h.summary().c_str());
}

void TestConfig::baseUrlWithControlsOrCredentialsIsRefused_data() {
    QTest::addColumn<QString>("url"); // as JSON text
    QTest::addColumn<QString>("expected");
    // Found by the hostile review: these passed `moa validate` and failed only in libcurl, and a
    // password in the URL was stored in the history with every run's configuration.
    const QString ctl = "/providers/together/base_url: must not contain spaces or control characters";
    QTest::newRow("LF") << R"("http://127.0.0.1:1/v1\nX-Evil: 1")" << ctl + " (CR, LF, NUL, tab, …): found LF at character 22";
    QTest::newRow("CR") << R"("http://127.0.0.1:1/v1\r")" << ctl;
    QTest::newRow("NUL") << R"("http://127.0.0.1:1/v1\u0000x")" << ctl;
    QTest::newRow("space") << R"("http://127.0.0.1:1/ v1")" << ctl + " (CR, LF, NUL, tab, …): found a space at character 20";
    QTest::newRow("tab") << R"("\thttp://127.0.0.1:1/v1")" << ctl;
    const QString cred = "/providers/together/base_url: must not contain a user name or password (user:password@host): "
                         "put credentials in api_key_env, not the URL";
    QTest::newRow("user:password") << R"("http://user:SuperSecretPw@127.0.0.1:18801/v1")" << cred;
    QTest::newRow("user only, https") << R"("HTTPS://user@api.example/v1")" << cred;
    // Issue 12 item 15: another scheme was refused for its scheme, quoting the URL whole, password too.
    const QString scheme = "/providers/together/base_url: must start with http:// or https:// (got ";
    QTest::newRow("ftp with a password") << R"("ftp://user:SuperSecretPw@files.example/pub/")" << scheme + "\"ftp://***@files.example/pub/\")";
    QTest::newRow("an @ in the password") << R"("ftp://u:Super@SuperSecretPw@host:21")" << scheme + "\"ftp://***@host:21\")";
    QTest::newRow("one slash") << R"("ftp:/u:SuperSecretPw@h")" << scheme + "\"ftp:/***@h\")";
    QTest::newRow("no scheme") << R"("user:SuperSecretPw@host/v1")" << scheme + "\"***@host/v1\")";
    QTest::newRow("another scheme, no password") << R"("ws://host/v1?q=a@b")" << scheme + "\"ws://host/v1?q=a@b\")";
}

void TestConfig::baseUrlWithControlsOrCredentialsIsRefused() {
    QFETCH(QString, url);
    QFETCH(QString, expected);
    std::string doc = kExample;
    const std::string from = "\"base_url\": \"https://api.together.xyz/v1\"";
    QVERIFY(doc.find(from) != std::string::npos);
    doc.replace(doc.find(from), from.size(), "\"base_url\": " + url.toStdString());
    auto r = config::load_config_text(doc, "u.moa.json");
    QVERIFY(!r.ok());
    const QString all = issue_strings(r).join('\n');
    QVERIFY2(all.contains(expected) && all.startsWith("u.moa.json:"), qPrintable(all));
    QVERIFY2(!all.contains("SuperSecretPw"), qPrintable(all)); // the message does not repeat the password
    // An "@" in the path is not a user name.
    doc = kExample;
    doc.replace(doc.find(from), from.size(), "\"base_url\": \"https://api.example/v1/@team\"");
    auto ok = config::load_config_text(doc, "u.moa.json");
    QVERIFY2(ok.ok(), ok.summary().c_str());
}

void TestConfig::apiKeyAnywhereIsAnError() {
    // Issue 12 item 7: outside a provider, "api_key" was only an unknown field (a warning).
    std::string doc = kExample;
    doc.replace(doc.find("\"name\": \"MoA-Lite\""), 18, "\"name\": \"MoA-Lite\", \"api_key\": \"sk-1\", \"x-opts\": {\"API-KEY\": \"sk-2\"}");
    doc.replace(doc.find("\"temperature\": 0.7"), 18, "\"temperature\": 0.7, \"apiKey\": \"sk-3\"");
    auto r = config::load_config_text(doc, "a.moa.json");
    QVERIFY(!r.ok());
    const QString all = issue_strings(r).join('\n');
    for (const char* p : {"/api_key: API keys never go", "/x-opts/API-KEY: API keys never go", "/layers/0/agents/0/apiKey: API keys never go"})
        QVERIFY2(all.contains(p), qPrintable(all));
    QVERIFY2(!all.contains("warning"), qPrintable(all));
    QVERIFY(config::load_config_text(kExample, "a.moa.json").ok()); // api_key_env is not a key
}

void TestConfig::templateOutsideTheFolderIsRefused() {
    // Issue 12 item 6: "template": "/proc/self/environ" put every key into the aggregator's prompt.
    QTemporaryDir dir, other;
    const std::string d = dir.path().toStdString();
    { std::ofstream(other.path().toStdString() + "/t.txt") << "outside\n"; }
    std::filesystem::create_symlink(other.path().toStdString() + "/t.txt", d + "/link.txt");
    for (const std::string& name : {std::string("../") + QFileInfo(other.path()).fileName().toStdString() + "/t.txt",
                                    other.path().toStdString() + "/t.txt", std::string("link.txt")}) {
        std::string doc = kExample;
        doc.replace(doc.find("\"template\": \"default\""), 21, "\"template\": " + nlohmann::json(name).dump());
        { std::ofstream(d + "/c.moa.json") << doc; }
        auto r = config::load_config_file(d + "/c.moa.json");
        QVERIFY2(!r.ok(), name.c_str());
        const QString all = issue_strings(r).join('\n');
        QVERIFY2(all.contains("/aggregation/template: cannot read the template file") &&
                     all.contains("is outside the configuration's folder") && all.contains("--allow-outside-files"),
                 qPrintable(all));
        QCOMPARE(r.outside_files.size(), std::size_t(1));
        // The user may allow it.
        config::LoadOptions allow;
        allow.allow_outside_files = true;
        auto ok = config::load_config_file(d + "/c.moa.json", allow);
        QVERIFY2(ok.ok(), (name + ": " + ok.summary()).c_str());
    }
}

// Issue 12: with --allow-outside-files, "template": "/proc/self/environ" still put every key into
// the aggregator's prompt. /proc, /sys and /dev are refused whatever the user allowed, also
// through a link or "..", and are not offered to the user as a file to allow.
void TestConfig::templateFromSystemTreesIsRefusedEvenWhenAllowed() {
    QTemporaryDir dir;
    const std::string d = dir.path().toStdString();
    std::filesystem::create_symlink("/proc/self/environ", d + "/link.txt");
    std::filesystem::create_symlink("/proc", d + "/p");
    const std::pair<std::string, std::string> cases[] = {{"/proc/self/environ", "is under /proc"},
                                                         {"link.txt", "is under /proc (after links)"},
                                                         {"p/self/environ", "is under /proc (after links)"},
                                                         {"/tmp/../proc/self/environ", "is under /proc"},
                                                         {"/dev/zero", "is under /dev"},
                                                         {"/sys/kernel/../power/state", "is under /sys"}};
    for (const auto& [name, why] : cases)
        for (bool allowed : {false, true}) {
            std::string doc = kExample;
            doc.replace(doc.find("\"template\": \"default\""), 21, "\"template\": " + nlohmann::json(name).dump());
            { std::ofstream(d + "/c.moa.json") << doc; }
            config::LoadOptions options;
            options.allow_outside_files = allowed;
            auto r = config::load_config_file(d + "/c.moa.json", options);
            QVERIFY2(!r.ok(), name.c_str());
            const QString all = issue_strings(r).join('\n');
            QVERIFY2(all.contains("/aggregation/template: cannot read the template file: \"" + QString::fromStdString(name) +
                                  "\" " + QString::fromStdString(why)) &&
                         all.contains("files under /proc, /sys and /dev are never read, even with --allow-outside-files"),
                     qPrintable(all));
            QVERIFY2(r.outside_files.empty(), name.c_str()); // nothing for the workbench to offer
        }
}

// Found by the hostile review: a configuration saved in a home folder named ".aws/credentials" as
// its template, which lies inside its folder. Hidden files and folders are refused, and a NUL in
// the name is not silently cut.
void TestConfig::templateMayNotBeHiddenOrHoldNul() {
    QTemporaryDir dir;
    const std::string d = dir.path().toStdString();
    std::filesystem::create_directory(d + "/.aws");
    { std::ofstream(d + "/.aws/credentials") << "aws_secret_access_key = not-real\n"; }
    { std::ofstream(d + "/.env") << "KEY=not-real\n"; }
    { std::ofstream(d + "/t.txt") << "Merge these:\n"; }
    for (const std::string& name : {std::string(".aws/credentials"), std::string(".env"), std::string("./.env")}) {
        std::string doc = kExample;
        doc.replace(doc.find("\"template\": \"default\""), 21, "\"template\": " + nlohmann::json(name).dump());
        { std::ofstream(d + "/c.moa.json") << doc; }
        auto r = config::load_config_file(d + "/c.moa.json");
        QVERIFY2(!r.ok(), name.c_str());
        QVERIFY2(issue_strings(r).join('\n').contains("names a hidden file or folder"), qPrintable(issue_strings(r).join('\n')));
        QCOMPARE(r.outside_files.size(), std::size_t(1)); // the workbench asks, as for a file outside
    }
    std::string doc = kExample;
    doc.replace(doc.find("\"template\": \"default\""), 21, std::string("\"template\": \"t.txt\\u0000x\""));
    { std::ofstream(d + "/c.moa.json") << doc; }
    auto r = config::load_config_file(d + "/c.moa.json");
    QVERIFY(!r.ok());
    QVERIFY2(issue_strings(r).join('\n').contains("NUL"), qPrintable(issue_strings(r).join('\n')));
    // An ordinary file next to it still loads.
    doc = kExample;
    doc.replace(doc.find("\"template\": \"default\""), 21, std::string("\"template\": \"t.txt\""));
    { std::ofstream(d + "/c.moa.json") << doc; }
    auto ok = config::load_config_file(d + "/c.moa.json");
    QVERIFY2(ok.ok(), ok.summary().c_str());
}

void TestConfig::templateMustBeASmallRegularFile() {
    QTemporaryDir dir;
    const std::string d = dir.path().toStdString();
    std::filesystem::create_directory(d + "/sub");
    QCOMPARE(::mkfifo((d + "/fifo").c_str(), 0600), 0); // nobody writes: opening it must not wait
    { std::ofstream(d + "/big.txt") << std::string((1u << 20) + 1, 'x'); }
    const std::pair<std::string, std::string> cases[] = {
        {"sub", "is a directory"}, {"fifo", "is a FIFO"}, {"big.txt", "is larger than 1 MiB"}, {"/dev/zero", "is under /dev"}};
    for (const auto& [name, why] : cases) {
        std::string doc = kExample;
        doc.replace(doc.find("\"template\": \"default\""), 21, "\"template\": \"" + name + "\"");
        config::LoadOptions allow; // /dev/zero is outside; allowed, it is still refused as a device
        allow.allow_outside_files = true;
        auto r = config::load_config_text(doc, "c.moa.json", d, allow);
        QVERIFY2(!r.ok(), name.c_str());
        QVERIFY2(r.summary().find(why) != std::string::npos, r.summary().c_str());
    }
    // The configuration file itself: a directory says so.
    auto r = config::load_config_file(d + "/sub");
    QVERIFY(!r.ok());
    QVERIFY2(r.summary().find("/sub: is a directory") != std::string::npos, r.summary().c_str());
}

namespace {
// The issue 2 example with `pipelining` and the first layer's limits spliced in.
std::string with_staircase(const std::string& pipelining, const std::string& layer0_extra) {
    std::string doc = kExample;
    const auto layers = doc.find("\"layers\"");
    doc.insert(layers, "\"pipelining\": " + pipelining + ",\n");
    if (!layer0_extra.empty()) {
        const auto agents = doc.find("\"agents\"", doc.find("\"layers\""));
        doc.insert(agents, layer0_extra + ", ");
    }
    return doc;
}
} // namespace

void TestConfig::pipeliningAndLayerLimitsLoadAndRoundTrip() {
    auto r = config::load_config_text(
        with_staircase(R"({"mode": "staircase", "chunk_tokens": 16, "continuation": "assistant_prefix"})",
                       R"("quorum": 2, "deadline_ms": 8000)"),
        "s.moa.json");
    QVERIFY2(r.ok(), r.summary().c_str());
    QVERIFY2(r.issues.empty(), r.summary().c_str());
    const auto& c = *r.config;
    QCOMPARE(c.pipelining.mode, config::Pipelining::Mode::Staircase);
    QCOMPARE(c.pipelining.chunk_tokens, 16);
    QCOMPARE(c.pipelining.continuation, config::Pipelining::Continuation::AssistantPrefix);
    QCOMPARE(c.layers[0].quorum, std::optional<int>(2));
    QCOMPARE(c.layers[0].deadline_ms, std::optional<long>(8000));
    QVERIFY(!c.layers[1].quorum);
    // Saved and loaded again: the same configuration.
    auto j = config::to_json(c);
    QCOMPARE(QString::fromStdString(j["pipelining"].dump()),
             QStringLiteral(R"({"chunk_tokens":16,"continuation":"assistant_prefix","mode":"staircase"})"));
    QCOMPARE(j["layers"][0]["quorum"].get<int>(), 2);
    QCOMPARE(j["layers"][0]["deadline_ms"].get<long>(), 8000L);
    auto r2 = config::load_config_text(j.dump(2), "again.moa.json");
    QVERIFY2(r2.ok() && r2.issues.empty(), r2.summary().c_str());
    QCOMPARE(QString::fromStdString(config::to_json(*r2.config).dump()), QString::fromStdString(j.dump()));
    // The default (barrier, no limits) writes nothing new: older files read and save as before.
    auto plain = config::load_config_text(kExample, "x.moa.json");
    auto pj = config::to_json(*plain.config);
    QVERIFY(!pj.contains("pipelining"));
    QVERIFY(!pj["layers"][0].contains("quorum"));
    QCOMPARE(plain.config->pipelining.mode, config::Pipelining::Mode::Barrier);
    QCOMPARE(plain.config->pipelining.chunk_tokens, 32);
    QCOMPARE(plain.config->pipelining.continuation, config::Pipelining::Continuation::Instruction);
}

void TestConfig::pipeliningAndLayerLimitsAreChecked_data() {
    QTest::addColumn<QString>("pipelining");
    QTest::addColumn<QString>("layer0");
    QTest::addColumn<QString>("last");
    QTest::addColumn<QString>("expected");
    QTest::newRow("unknown mode") << R"({"mode": "pipeline"})" << "" << ""
                                  << R"(/pipelining/mode: unknown mode "pipeline" (use "barrier" or "staircase"))";
    QTest::newRow("chunk of zero") << R"({"chunk_tokens": 0})" << "" << ""
                                   << "/pipelining/chunk_tokens: out of range: 0 is not within [1, 100000]";
    QTest::newRow("fractional chunk") << R"({"chunk_tokens": 2.5})" << "" << ""
                                      << "/pipelining/chunk_tokens: must be an integer, not a fraction";
    QTest::newRow("unknown continuation")
        << R"({"continuation": "prefix"})" << "" << ""
        << R"(/pipelining/continuation: unknown continuation "prefix" (use "instruction", "assistant_prefix" or "continue_final_message"))";
    QTest::newRow("not an object") << R"("staircase")" << "" << "" << "/pipelining: must be an object, not string";
    QTest::newRow("quorum above the layer") << "{}" << R"("quorum": 3)" << ""
                                            << "/layers/0/quorum: quorum 3 is more than the layer's 2 agents";
    QTest::newRow("quorum of zero") << "{}" << R"("quorum": 0)" << "" << "/layers/0/quorum: out of range";
    QTest::newRow("negative deadline") << "{}" << R"("deadline_ms": -5)" << "" << "/layers/0/deadline_ms: out of range";
    QTest::newRow("quorum on the last layer")
        << "{}" << "" << R"("quorum": 1)"
        << "/layers/1/quorum: quorum is for layers whose answers another layer reads; the last layer (the aggregator) "
           "has nothing to wait for";
    QTest::newRow("deadline on the last layer") << "{}" << "" << R"("deadline_ms": 100)" << "/layers/1/deadline_ms: deadline_ms is for layers";
}

void TestConfig::pipeliningAndLayerLimitsAreChecked() {
    QFETCH(QString, pipelining);
    QFETCH(QString, layer0);
    QFETCH(QString, last);
    QFETCH(QString, expected);
    std::string doc = with_staircase(pipelining.toStdString(), layer0.toStdString());
    if (!last.isEmpty()) {
        const auto second = doc.find("\"agents\"", doc.find("\"agents\"", doc.find("\"layers\"")) + 1);
        doc.insert(second, last.toStdString() + ", ");
    }
    auto r = config::load_config_text(doc, "bad.moa.json");
    QVERIFY(!r.ok());
    const QString all = issue_strings(r).join('\n');
    // Each message names the file, the line and the JSON pointer.
    QVERIFY2(all.contains(QRegularExpression("bad\\.moa\\.json:\\d+: " + QRegularExpression::escape(expected))),
             qPrintable("expected: " + expected + "\ngot:\n" + all));
}

void TestConfig::partialAndCutReferencesAreSaidSo() {
    engine::References refs;
    refs.answers = {"A so", "B"};
    refs.partial = {true, false};
    refs.cut = 1;
    QCOMPARE(engine::aggregation_prompt("T", refs),
             std::string("T\n1. A so [this response is still being written]\n2. B\n\nNote: 1 of 3 responses is missing "
                         "because its model was stopped at the layer's quorum or deadline."));
    refs.missing = 1;
    QCOMPARE(engine::aggregation_prompt("T", refs),
             std::string("T\n1. A so [this response is still being written]\n2. B\n\nNote: 2 of 4 responses are missing: 1 "
                         "because its model failed, 1 because its model was stopped at the layer's quorum or deadline."));
}

void TestConfig::continuationMessagesAreExact() {
    const std::vector<providers::Message> base{{"system", "S"}, {"user", "Q"}};
    bool cfm = true;
    using C = config::Pipelining::Continuation;
    // Nothing written yet: the messages as they are.
    QCOMPARE(engine::continue_answer(base, "", C::AssistantPrefix, cfm), base);
    QVERIFY(!cfm);
    auto ins = engine::continue_answer(base, "Half an", C::Instruction, cfm);
    QCOMPARE(ins.size(), std::size_t(2));
    QCOMPARE(ins[1].content, std::string("Q\n\n") + engine::kContinueInstruction + "\n<<<ANSWER SO FAR\nHalf an\nANSWER SO FAR>>>");
    QVERIFY(!cfm);
    auto pre = engine::continue_answer(base, "Half an", C::AssistantPrefix, cfm);
    QCOMPARE(pre.size(), std::size_t(3));
    QCOMPARE(pre[2].role, std::string("assistant"));
    QCOMPARE(pre[2].content, std::string("Half an"));
    QVERIFY(pre[2].prefix);
    QVERIFY(!cfm);
    auto vllm = engine::continue_answer(base, "Half an", C::ContinueFinalMessage, cfm);
    QCOMPARE(vllm.size(), std::size_t(3));
    QVERIFY(!vllm[2].prefix);
    QVERIFY(cfm);
}

namespace {
// A configuration with every numeric field, one of them (`field`, at `pointer`) set to `value`.
std::string every_number(const std::string& pointer, const std::string& value) {
    nlohmann::json j = nlohmann::json::parse(R"({
  "schema": "moa-workbench/config@1", "name": "n",
  "providers": {"p": {"base_url": "http://127.0.0.1:1/v1", "max_concurrency": 2, "connect_timeout_ms": 1000,
    "first_token_timeout_ms": 1000, "idle_timeout_ms": 1000, "call_timeout_ms": 1000, "max_retries": 1,
    "retry_base_ms": 10, "retry_max_ms": 100, "max_answer_bytes": 4096,
    "models": {"org/model-7b": {"input_usd_per_mtok": 1, "output_usd_per_mtok": 2, "active_params_b": 7}}},
    "d": {"type": "demo", "tokens_per_second": 100, "first_token_ms": 5}},
  "layers": [
    {"agents": [{"provider": "p", "model": "a", "temperature": 0.5, "top_p": 0.9, "max_tokens": 64, "seed": 1,
                 "top_logprobs": 2}, {"provider": "d", "model": "b"}], "quorum": 1, "deadline_ms": 1000},
    {"agents": [{"provider": "p", "model": "c"}]}],
  "pipelining": {"mode": "staircase", "chunk_tokens": 64}
})");
    j[nlohmann::json::json_pointer(pointer)] = nlohmann::json::parse(value);
    return j.dump(2);
}
} // namespace

void TestConfig::numericFieldsSayFieldPointerAndRange_data() {
    QTest::addColumn<QString>("pointer");
    QTest::addColumn<QString>("range");
    const std::pair<const char*, const char*> fields[] = {
        {"/providers/p/max_concurrency", "an integer between 1 and 1024"},
        {"/providers/p/connect_timeout_ms", "an integer between 1 and 600000"},
        {"/providers/p/first_token_timeout_ms", "an integer between 1 and 3600000"},
        {"/providers/p/idle_timeout_ms", "an integer between 1 and 3600000"},
        {"/providers/p/call_timeout_ms", "an integer between 1 and 86400000"},
        {"/providers/p/max_retries", "an integer between 0 and 20"},
        {"/providers/p/retry_base_ms", "an integer between 0 and 600000"},
        {"/providers/p/retry_max_ms", "an integer between 0 and 3600000"},
        {"/providers/p/max_answer_bytes", "an integer between 1024 and 1000000000"},
        {"/providers/p/models/org~1model-7b/input_usd_per_mtok", "a number between 0 and 1000000"},
        {"/providers/p/models/org~1model-7b/output_usd_per_mtok", "a number between 0 and 1000000"},
        {"/providers/p/models/org~1model-7b/active_params_b", "a number between 0 and 1000000"},
        {"/providers/d/tokens_per_second", "a number between 0.1 and 10000000"},
        {"/providers/d/first_token_ms", "an integer between 0 and 600000"},
        {"/layers/0/agents/0/temperature", "a number between 0 and 2"},
        {"/layers/0/agents/0/top_p", "a number between 0 and 1"},
        {"/layers/0/agents/0/max_tokens", "an integer between 1 and 10000000"},
        {"/layers/0/agents/0/seed", "an integer between -9.2e+18 and 9.2e+18"},
        {"/layers/0/agents/0/top_logprobs", "an integer between 0 and 20"},
        {"/layers/0/quorum", "an integer between 1 and 10000"},
        {"/layers/0/deadline_ms", "an integer between 1 and 86400000"},
        {"/pipelining/chunk_tokens", "an integer between 1 and 100000"},
    };
    for (const auto& [pointer, range] : fields) QTest::newRow(pointer) << pointer << range;
}

// Every numeric field's message names the file and line, the JSON pointer, the field and what it
// takes, whatever was wrong: 1e20 (a whole number, too large: not "a fraction"), a fraction, a string.
void TestConfig::numericFieldsSayFieldPointerAndRange() {
    QFETCH(QString, pointer);
    QFETCH(QString, range);
    const std::string ptr = pointer.toStdString();
    const QString field = pointer.section('/', -1);
    const QString takes = " (" + field + " must be " + range + ")";
    const bool integer = range.startsWith("an integer");
    struct Case {
        const char* value;
        QString message;
    };
    const Case cases[] = {
        {"1e20", "out of range: 1e+20 is not within ["},
        {"\"many\"", QString("must be ") + (integer ? "an integer" : "a number") + ", not string"},
        {"-1e20", "out of range: -1e+20 is not within ["},
    };
    for (const auto& c : cases) {
        auto r = config::load_config_text(every_number(ptr, c.value), "n.moa.json");
        QVERIFY2(!r.ok(), c.value);
        QCOMPARE(r.issues.size(), std::size_t(1));
        const QString got = QString::fromStdString(r.issues[0].str());
        QVERIFY2(got.contains(QRegularExpression("^n\\.moa\\.json:\\d+: " + QRegularExpression::escape(pointer + ": " + c.message))),
                 qPrintable(got));
        QVERIFY2(got.endsWith(takes), qPrintable(got + "\nexpected the end: " + takes));
        QVERIFY2(!got.contains("fraction"), qPrintable(got));
        QVERIFY(r.issues[0].line > 1);
    }
    if (integer) {
        auto r = config::load_config_text(every_number(ptr, "2.5"), "n.moa.json");
        QCOMPARE(r.issues.size(), std::size_t(1));
        QCOMPARE(QString::fromStdString(r.issues[0].pointer), pointer);
        QCOMPARE(QString::fromStdString(r.issues[0].message), "must be an integer, not a fraction: 2.5" + takes);
    }
}

// 1e2 and 64.0 are whole numbers: an integer field takes them (JSON does not tell them apart).
void TestConfig::wholeNumbersInAnyNotationAreWhole() {
    auto r = config::load_config_text(every_number("/pipelining/chunk_tokens", "1e2"), "n.moa.json");
    QVERIFY2(r.ok(), r.summary().c_str());
    QCOMPARE(r.config->pipelining.chunk_tokens, 100);
    r = config::load_config_text(every_number("/layers/0/agents/0/max_tokens", "64.0"), "n.moa.json");
    QVERIFY2(r.ok(), r.summary().c_str());
    QCOMPARE(r.config->layers[0].agents[0].params.max_tokens, std::optional<long>(64));
}

// A small chunk_tokens makes many steps, each re-sending every reference: the warning says what
// it costs (in `moa validate`, `moa run` and the GUI's warnings list, which all show these).
void TestConfig::smallChunksWarnWhatTheyCost() {
    auto r = config::load_config_text(with_staircase(R"({"mode": "staircase", "chunk_tokens": 1})", ""), "s.moa.json");
    QVERIFY2(r.ok(), r.summary().c_str());
    QCOMPARE(r.issues.size(), std::size_t(1));
    const auto& w = r.issues[0];
    QCOMPARE(w.severity, config::Issue::Severity::Warning);
    QCOMPARE(w.pointer, std::string("/pipelining/chunk_tokens"));
    QVERIFY(w.line > 0);
    QCOMPARE(QString::fromStdString(w.message),
             QStringLiteral("costly: with chunk_tokens 1 each agent after the first layer takes about 512 steps (its "
                            "references run to 512 tokens: /layers/0/agents/0/max_tokens), and each step re-sends every "
                            "reference, so those agents' prompt tokens are about 512× a barrier run's; chunk_tokens 32 "
                            "would make it about 16×"));
    // A little larger, still costly; the default (32) and 16 are not; nor is a barrier run.
    r = config::load_config_text(with_staircase(R"({"mode": "staircase", "chunk_tokens": 8})", ""), "s.moa.json");
    QCOMPARE(r.issues.size(), std::size_t(1));
    QVERIFY2(r.issues[0].message.find("about 64 steps") != std::string::npos, r.summary().c_str());
    for (const char* quiet : {R"({"mode": "staircase"})", R"({"mode": "staircase", "chunk_tokens": 16})",
                              R"({"mode": "barrier", "chunk_tokens": 1})"}) {
        r = config::load_config_text(with_staircase(quiet, ""), "s.moa.json");
        QVERIFY2(r.ok() && r.issues.empty(), (quiet + std::string("\n") + r.summary()).c_str());
    }
    // An agent without max_tokens: the estimate says what it assumed.
    std::string doc = with_staircase(R"({"mode": "staircase", "chunk_tokens": 4})", "");
    doc.replace(doc.find(", \"max_tokens\": 512"), std::string(", \"max_tokens\": 512").size(), "");
    r = config::load_config_text(doc, "s.moa.json");
    QCOMPARE(r.issues.size(), std::size_t(1));
    QVERIFY2(r.issues[0].message.find("(its references run to 512 tokens: /layers/0/agents/0/max_tokens is not set, 512 "
                                      "assumed)") != std::string::npos,
             r.summary().c_str());
}

// A selecting aggregator cannot choose before the answers are complete, so it does not run in
// steps: a staircase whose only later layer is that aggregator does nothing, and says so.
void TestConfig::staircaseBeforeOnlyASelectorWarns() {
    std::string doc = with_staircase(R"({"mode": "staircase"})", "");
    doc.replace(doc.find("\"placement\": \"system\""), std::string("\"placement\": \"system\"").size(),
                "\"placement\": \"system\", \"mode\": \"select\"");
    auto r = config::load_config_text(doc, "sel.moa.json");
    QVERIFY2(r.ok(), r.summary().c_str());
    QCOMPARE(r.issues.size(), std::size_t(1));
    QCOMPARE(r.issues[0].pointer, std::string("/pipelining/mode"));
    QCOMPARE(QString::fromStdString(r.issues[0].message),
             QStringLiteral("staircase streaming has no effect here: the only layer after the first is the selecting "
                            "aggregator (\"aggregation\": {\"mode\": \"select\"}), which names one answer and so waits for "
                            "every answer to be complete"));
}

namespace {
// `layers` layers of `width` agents each, then the aggregator.
std::string wide(std::size_t layers, std::size_t width) {
    nlohmann::json j{{"schema", "moa-workbench/config@1"}, {"name", "wide"},
                     {"providers", {{"d", {{"type", "demo"}}}}}, {"layers", nlohmann::json::array()}};
    for (std::size_t l = 0; l < layers; ++l) {
        nlohmann::json agents = nlohmann::json::array();
        for (std::size_t a = 0; a < width; ++a) agents.push_back({{"provider", "d"}, {"model", "m" + std::to_string(a)}});
        j["layers"].push_back({{"agents", agents}});
    }
    j["layers"].push_back({{"agents", {{{"provider", "d"}, {"model", "agg"}}}}});
    return j.dump(1);
}
} // namespace

// A 10 000-agent configuration used to validate and then freeze the GUI: layers, agents per layer
// and agents in all are capped, with an error naming the file, the line, the pointer and the limit.
// A key given twice says two things; readers disagree on which counts (nlohmann keeps the last,
// others the first): refused with the key's pointer and the line of the second (hostile review:
// {"mode": "staircase", "mode": "barrier"} validated).
void TestConfig::duplicateKeysAreRefused() {
    auto j = nlohmann::json::parse(kExample);
    std::string text = j.dump(2);
    const std::string at = "\"name\": ";
    const auto pos = text.find(at);
    QVERIFY(pos != std::string::npos);
    text.insert(pos, "\"pipelining\": {\"mode\": \"staircase\",\n\"mode\": \"barrier\"},\n");
    auto r = config::load_config_text(text, "dup.moa.json");
    QVERIFY(!r.ok());
    QVERIFY2(r.summary().find("/pipelining/mode: this key is given twice in one object") != std::string::npos, r.summary().c_str());
    bool line_ok = false;
    for (const auto& i : r.issues)
        if (i.pointer == "/pipelining/mode") line_ok = i.line > 1;
    QVERIFY(line_ok);
    // Two different escaped keys are two keys (an unknown-field warning each, no duplicate).
    auto k = nlohmann::json::parse(kExample);
    std::string t2 = k.dump(2);
    t2.insert(t2.find(at), "\"x\\u0061\": 1, \"x\\u0062\": 2,\n");
    auto r2 = config::load_config_text(t2, "esc.moa.json");
    QVERIFY2(r2.summary().find("twice") == std::string::npos, r2.summary().c_str());
}

void TestConfig::agentCountsAreCapped() {
    auto r = config::load_config_text(wide(1, 10'000), "big.moa.json");
    QVERIFY(!r.ok());
    QCOMPARE(r.issues.size(), std::size_t(1));
    QVERIFY2(QString::fromStdString(r.issues[0].str())
                 .contains(QRegularExpression("^big\\.moa\\.json:\\d+: /layers/0/agents: 10000 agents in one layer; a "
                                              "layer holds at most 64 \\(see the limits in the README\\)$")),
             r.summary().c_str());
    QVERIFY(r.issues[0].line > 1);
    r = config::load_config_text(wide(1, 65), "big.moa.json");
    QVERIFY(!r.ok());
    QVERIFY2(r.summary().find("/layers/0/agents: 65 agents in one layer; a layer holds at most 64") != std::string::npos,
             r.summary().c_str());
    r = config::load_config_text(wide(1, 64), "big.moa.json");
    QVERIFY2(r.ok(), r.summary().c_str());
    r = config::load_config_text(wide(16, 2), "big.moa.json"); // 17 layers
    QVERIFY(!r.ok());
    QVERIFY2(r.summary().find("big.moa.json:2: /layers: 17 layers; a configuration holds at most 16") != std::string::npos,
             r.summary().c_str());
    r = config::load_config_text(wide(15, 2), "big.moa.json");
    QVERIFY2(r.ok(), r.summary().c_str());
    r = config::load_config_text(wide(5, 60), "big.moa.json"); // 301 agents, none too many in a layer
    QVERIFY(!r.ok());
    QVERIFY2(r.summary().find("/layers: 301 agents in all; a configuration holds at most 256") != std::string::npos,
             r.summary().c_str());
    QCOMPARE(config::kMaxAgentsPerLayer, std::size_t(64));
}

QTEST_GUILESS_MAIN(TestConfig)
#include "tst_config.moc"
