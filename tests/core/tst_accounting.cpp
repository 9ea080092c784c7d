// SPDX-License-Identifier: MIT
// Cost and TFLOPs arithmetic, and the model catalog that feeds it.
#include <QtTest>

#include "accounting/catalog.h"
#include "accounting/money.h"
#include "util/resources.h"

using namespace moa;

class TestAccounting : public QObject {
    Q_OBJECT
private slots:
    void costIsTokensTimesPricePerMillion();
    void moneyIsWrittenOneWay();
    void tflopsIsTwiceActiveParamsTimesTokens();
    void unknownModelHasUnknownCost();
    void providerFoundByHostWhenNamedDifferently();
    void shippedCatalogHasPaperModelsWithSources();
};

void TestAccounting::costIsTokensTimesPricePerMillion() {
    accounting::Catalog c;
    c.add({"together", "m", 0.9, 1.8, 72, 72, 32768, "src", "2024", "src"});
    auto m = c.find("together", "https://api.together.xyz/v1", "m");
    QVERIFY(m.priced);
    providers::Usage u{1000, 500, false, {}};
    auto cost = accounting::cost_of(m, u);
    QVERIFY(cost.usd);
    QVERIFY(qFuzzyCompare(*cost.usd, (1000 * 0.9 + 500 * 1.8) / 1e6));
}

void TestAccounting::tflopsIsTwiceActiveParamsTimesTokens() {
    accounting::Catalog c;
    c.add({"together", "moe", 1.2, 1.2, 141, 39, 65536, "", "", ""});
    providers::Usage u{600, 400, false, {}};
    auto cost = accounting::cost_of(c.find("together", "", "moe"), u);
    // 2 x 39e9 x 1000 tokens = 78e12 FLOPs = 78 TFLOPs
    QVERIFY(qFuzzyCompare(*cost.tflops, 78.0));
}

void TestAccounting::unknownModelHasUnknownCost() {
    accounting::Catalog c;
    auto cost = accounting::cost_of(c.find("x", "", "nope"), providers::Usage{10, 10, false, {}});
    QVERIFY(!cost.usd);
    QVERIFY(!cost.tflops);
}

void TestAccounting::providerFoundByHostWhenNamedDifferently() {
    accounting::Catalog c;
    c.add_provider_host("together", "api.together.xyz");
    c.add({"together", "m", 1.0, 1.0, 10, 10, 0, "", "", ""});
    auto m = c.find("my-together", "https://api.together.xyz/v1", "m");
    QVERIFY(m.priced);
    // Another provider serving the same model: parameters apply, the price does not.
    auto other = c.find("elsewhere", "https://example.invalid/v1", "m");
    QVERIFY(!other.priced);
    QVERIFY(other.params);
}

void TestAccounting::shippedCatalogHasPaperModelsWithSources() {
    auto cat = accounting::Catalog::load_file(resources::catalog_path());
    QVERIFY2(cat.ok(), cat.ok() ? "" : cat.error().c_str());
    for (const char* model : {"Qwen/Qwen1.5-110B-Chat", "Qwen/Qwen1.5-72B-Chat", "microsoft/WizardLM-2-8x22B",
                              "meta-llama/Llama-3-70b-chat-hf", "mistralai/Mixtral-8x22B-Instruct-v0.1", "databricks/dbrx-instruct"}) {
        auto m = cat->find("together", "https://api.together.xyz/v1", model);
        QVERIFY2(m.priced, model);
        QVERIFY(m.priced->input_usd_per_mtok && m.priced->output_usd_per_mtok);
        QVERIFY(m.priced->active_params_b && m.priced->total_params_b);
        QVERIFY(!m.priced->price_source.empty());
        QVERIFY(!m.priced->params_source.empty());
    }
    for (const auto& m : cat->models()) QVERIFY2(!m.price_source.empty(), m.model.c_str());
}

void TestAccounting::moneyIsWrittenOneWay() {
    // The window, `moa run` and a run's Markdown write money so (`moa run` wrote "$0.00000").
    using moa::accounting::format_usd;
    QCOMPARE(format_usd(0), std::string("$0"));
    QCOMPARE(format_usd(0.00004), std::string("<$0.0001"));
    QCOMPARE(format_usd(0.0012), std::string("$0.0012"));
    QCOMPARE(format_usd(0.003), std::string("$0.003"));
    QCOMPARE(format_usd(0.5), std::string("$0.50"));
    QCOMPARE(format_usd(12.345), std::string("$12.35"));
    QCOMPARE(format_usd(-0.0012), std::string("-$0.0012"));
}

QTEST_GUILESS_MAIN(TestAccounting)
#include "tst_accounting.moc"
