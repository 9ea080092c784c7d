// SPDX-License-Identifier: MIT
// Numbers that must be exactly right, checked against values worked out by hand here rather
// than against the code or files under test: the paper's aggregate-and-synthesize prompt as a
// layer-2 agent receives it over HTTP, and a run's tokens, cost and TFLOPs (and the pre-run
// estimate) from the catalog's published prices and parameter counts and the scripted server's
// usage numbers (tests/servers/openai_server.py).
#include <QJsonArray>
#include <QJsonObject>
#include <QtTest>

#include <cmath>
#include <sstream>

#include "accounting/catalog.h"
#include "accounting/estimate.h"
#include "config/config.h"
#include "engine/engine.h"
#include "run_helpers.h"
#include "test_server.h"

using namespace moa;
using namespace testing_support;
using nlohmann::json;

namespace {
// Wang et al. 2024, "Mixture-of-Agents Enhances Large Language Model Capabilities"
// (arXiv 2406.04692), Table 1, "Aggregate-and-Synthesize Prompt", typed out from the paper; the
// numbered responses follow it, one per line.
const std::string kPaperPrompt =
    "You have been provided with a set of responses from various open-source models to the latest user "
    "query. Your task is to synthesize these responses into a single, high-quality response. It is crucial "
    "to critically evaluate the information provided in these responses, recognizing that some of it may be "
    "biased or incorrect. Your response should not simply replicate the given answers but should offer a "
    "refined, accurate, and comprehensive reply to the instruction. Ensure your response is well-structured, "
    "coherent, and adheres to the highest standards of accuracy and reliability.\n"
    "\n"
    "Responses from models:";

long words(const std::string& s) { // what the scripted server counts as tokens
    std::istringstream in(s);
    std::string w;
    long n = 0;
    while (in >> w) ++n;
    return n;
}

// Equal up to the last bits of a double (the sums here are of a handful of terms).
bool same(double a, double b) { return std::fabs(a - b) <= 1e-12 * std::max(std::fabs(a), std::fabs(b)); }
} // namespace

class TestExactNumbers : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void layerTwoIsSentThePaperPromptVerbatim();
    void runTotalsAreExact();
    void preRunEstimateIsExact();

private:
    std::unique_ptr<TestServer> server_;
    accounting::Catalog catalog_;
    // A 2-proposer, 1-aggregator run on the scripted server under the catalog's provider
    // "together": its models are priced and sized by the catalog.
    config::Config together_config(const std::vector<std::vector<std::string>>& layers) const {
        json j = config_json(server_->base_url(), layers);
        j["providers"]["together"] = j["providers"]["local"];
        j["providers"].erase("local");
        for (auto& l : j["layers"])
            for (auto& a : l["agents"]) a["provider"] = "together";
        return make_config(j);
    }
};

void TestExactNumbers::initTestCase() {
    server_ = std::make_unique<TestServer>();
    QVERIFY2(server_->ok(), "the local test server did not start");
    auto c = accounting::Catalog::load_file(MOA_SOURCE_ROOT "/resources/catalog/models.json");
    QVERIFY2(c.ok(), "resources/catalog/models.json did not load");
    catalog_ = *c;
}

void TestExactNumbers::layerTwoIsSentThePaperPromptVerbatim() {
    const std::string n = nonce();
    const std::string a = "ok?tag=A-" + n + "&words=3", b = "ok?tag=B-" + n + "&words=2", agg = "ok?tag=AGG-" + n;
    auto rec = run_to_end(make_config(config_json(server_->base_url(), {{a, b}, {agg}})), "Why layers?");
    QCOMPARE(rec.status, engine::RunStatus::Done);

    // What the scripted server answers: "<tag> answers with <n> references." and <words> fillers.
    const std::string answer_a = "A-" + n + " answers with 0 references. w0 w1 w2";
    const std::string answer_b = "B-" + n + " answers with 0 references. w0 w1";
    QJsonArray msgs;
    int seen = 0;
    for (const auto& r : server_->requests())
        if (r.toObject()["model"].toString().toStdString() == agg) {
            msgs = r.toObject()["body"].toObject()["messages"].toArray();
            ++seen;
        }
    QCOMPARE(seen, 1);
    QCOMPARE(msgs.size(), 2);
    QCOMPARE(msgs[0].toObject()["role"].toString(), QStringLiteral("system"));
    QCOMPARE(msgs[0].toObject()["content"].toString().toStdString(),
             kPaperPrompt + "\n1. " + answer_a + "\n2. " + answer_b);
    QCOMPARE(msgs[1].toObject()["role"].toString(), QStringLiteral("user"));
    QCOMPARE(msgs[1].toObject()["content"].toString(), QStringLiteral("Why layers?"));
}

void TestExactNumbers::runTotalsAreExact() {
    // Catalog (resources/catalog/models.json, Together AI 2024-06 prices, model cards):
    //   Qwen/Qwen1.5-72B-Chat       0.9 $/Mtok in and out, 72.3 B parameters (dense)
    //   microsoft/WizardLM-2-8x22B  1.2 $/Mtok in and out, 39 B active of 141 B (MoE)
    //   Qwen/Qwen1.5-110B-Chat      1.8 $/Mtok in and out, 111 B parameters (dense)
    const std::string qwen72 = "Qwen/Qwen1.5-72B-Chat", wizard = "microsoft/WizardLM-2-8x22B",
                      qwen110 = "Qwen/Qwen1.5-110B-Chat";
    auto c = together_config({{qwen72, wizard}, {qwen110}});
    engine::Engine eng(catalog_);
    auto run = eng.start(c, engine::RunInput::from_prompt("What is MoA?"), {});
    QVERIFY(run->wait_for(std::chrono::seconds(60)));
    auto rec = run->record();
    QCOMPARE(rec.status, engine::RunStatus::Done);

    // The scripted server reports as tokens the words of all messages (prompt) and of its
    // answer "<model> answers with <n> references. w0 … w11" (completion: 1 + 4 + 12 = 17).
    const long p1 = 3; // "What is MoA?"
    const long c1 = 17;
    const long p2 = words(kPaperPrompt) + 2 * (1 + c1) + p1; // "1. " + answer, "2. " + answer, the prompt
    QCOMPARE(words(kPaperPrompt), 92L);
    for (const auto& a : rec.layers[0].agents) {
        QCOMPARE(a.usage.prompt_tokens, p1);
        QCOMPARE(a.usage.completion_tokens, c1);
        QVERIFY(!a.usage.estimated);
    }
    QCOMPARE(rec.layers[1].agents[0].usage.prompt_tokens, p2);
    QCOMPARE(rec.layers[1].agents[0].usage.completion_tokens, c1);

    const auto& t = rec.totals;
    QCOMPARE(t.prompt_tokens, 2 * p1 + p2);
    QCOMPARE(t.completion_tokens, 3 * c1);
    QVERIFY(t.cost_complete && t.tflops_complete);
    const double usd = (p1 * 0.9 + c1 * 0.9) / 1e6 + (p1 * 1.2 + c1 * 1.2) / 1e6 + (p2 * 1.8 + c1 * 1.8) / 1e6;
    QVERIFY2(same(t.cost_usd, usd), qPrintable(QString("cost %1, by hand %2").arg(t.cost_usd, 0, 'g', 17).arg(usd, 0, 'g', 17)));
    // TFLOPs: 2 x active parameters x tokens per call; the largest call of a layer counts (the
    // layer's agents run in parallel), summed over layers. Layer 1: Qwen 72.3 B beats 39 B active.
    const double tf = 2 * 72.3e9 * (p1 + c1) / 1e12 + 2 * 111e9 * (p2 + c1) / 1e12;
    QVERIFY2(same(t.tflops, tf), qPrintable(QString("TFLOPs %1, by hand %2").arg(t.tflops, 0, 'g', 17).arg(tf, 0, 'g', 17)));
    // The numbers themselves, so that a change of formula cannot hide behind the same change above.
    QVERIFY(std::fabs(usd - 0.0003084) < 1e-15); // (20*0.9 + 20*1.2 + 148*1.8) / 1e6
    QVERIFY(std::fabs(tf - 35.748) < 1e-9);      // 2*72.3e9*20/1e12 + 2*111e9*148/1e12
}

void TestExactNumbers::preRunEstimateIsExact() {
    auto c = together_config({{"Qwen/Qwen1.5-72B-Chat", "microsoft/WizardLM-2-8x22B"}, {"Qwen/Qwen1.5-110B-Chat"}});
    auto e = accounting::estimate_run(c, catalog_, "What is MoA?");
    // Every agent writes max_tokens (512 when unset). Prompt tokens estimated as ceil(chars / 4):
    // the prompt (12 chars: 3), 8 for the message framing; layer 2 adds the template and the
    // previous layer's two answers at 512 each.
    const long tmpl = (static_cast<long>(kPaperPrompt.size()) + 3) / 4;
    QCOMPARE(tmpl, 152L); // 606 characters
    const long p1 = 3 + 8, c1 = 512;
    const long p2 = p1 + tmpl + 2 * 512;
    QCOMPARE(e.prompt_tokens, 2 * p1 + p2);
    QCOMPARE(e.completion_tokens, 3 * c1);
    QVERIFY(e.cost_complete && e.tflops_complete);
    const double usd = (p1 + c1) * 0.9 / 1e6 + (p1 + c1) * 1.2 / 1e6 + (p2 + c1) * 1.8 / 1e6;
    QVERIFY2(same(e.cost_usd, usd), qPrintable(QString("estimate %1, by hand %2").arg(e.cost_usd, 0, 'g', 17).arg(usd, 0, 'g', 17)));
    const double tf = 2 * 72.3e9 * (p1 + c1) / 1e12 + 2 * 111e9 * (p2 + c1) / 1e12;
    QVERIFY2(same(e.tflops, tf), qPrintable(QString("estimate TFLOPs %1, by hand %2").arg(e.tflops, 0, 'g', 17).arg(tf, 0, 'g', 17)));
}

QTEST_GUILESS_MAIN(TestExactNumbers)
#include "tst_exact_numbers.moc"
