// SPDX-License-Identifier: MIT
// Loading and validating *.moa.json, and the exact messages each agent is sent.
#include <QtTest>

#include <fstream>
#include <iterator>

#include <filesystem>
#include <fstream>

#include "config/config.h"
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

QTEST_GUILESS_MAIN(TestConfig)
#include "tst_config.moc"
