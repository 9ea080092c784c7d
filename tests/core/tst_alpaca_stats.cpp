// SPDX-License-Identifier: MIT
// AlpacaEval's metrics against the published leaderboard, computed from the published
// annotations (read in place from ../shared/data/alpaca_eval), and the readers' messages.
#include <QtTest>

#include <cmath>
#include <fstream>

#include "eval/alpaca_files.h"
#include "eval/lc_variants.h"
#include "eval/logistic_l1.h"
#include "util/csv.h"

using namespace moa::eval;

namespace {
const std::string kData = std::string(MOA_SHARED_DATA) + "/alpaca_eval/";

struct Published {
    double win_rate, standard_error, discrete_win_rate, lc;
    int n_wins, n_wins_base, n_draws, n_total;
    long avg_length;
};

Published published(const std::string& model) {
    auto t = moa::csv::read_file(kData + "weighted_alpaca_eval_gpt4_turbo_leaderboard.csv");
    if (!t) qFatal("%s", t.error().c_str());
    auto col = [&](const moa::csv::Record& r, const char* name) { return r.fields[*t->column(name)]; };
    for (const auto& r : t->rows)
        if (r.fields[0] == model)
            return {std::stod(col(r, "win_rate")), std::stod(col(r, "standard_error")),
                    std::stod(col(r, "discrete_win_rate")), std::stod(col(r, "length_controlled_winrate")),
                    std::stoi(col(r, "n_wins")), std::stoi(col(r, "n_wins_base")), std::stoi(col(r, "n_draws")),
                    std::stoi(col(r, "n_total")), std::stol(col(r, "avg_length"))};
    qFatal("no %s in the leaderboard", model.c_str());
}

std::string write_temp(const QTemporaryDir& dir, const char* name, const std::string& text) {
    std::string p = dir.path().toStdString() + "/" + name;
    std::ofstream(p) << text;
    return p;
}
} // namespace

class TestAlpacaStats : public QObject {
    Q_OBJECT
private slots:
    void reproducesLeaderboard_data();
    void reproducesLeaderboard();
    void lengthControlledWithoutDifficultySaysSo();
    void lengthControlledAtAFixedCIsTheSameFit();
    void solverMatchesKnownOptimum();
    void preferenceMayBeAString();
    void badAnnotationsNameFileLineAndField();
    void csvHandlesQuotesAndNewlines();
    void csvErrorsNameTheLine();
    void modelOutputsLoad();
    void baselineVariantRowsByHand();
};

void TestAlpacaStats::reproducesLeaderboard_data() {
    QTest::addColumn<QString>("model");
    for (const char* m : {"alpaca-7b", "alpaca-7b_concise", "gpt-3.5-turbo-1106", "gpt4_1106_preview"}) QTest::newRow(m) << m;
}

void TestAlpacaStats::reproducesLeaderboard() {
    QFETCH(QString, model);
    const std::string m = model.toStdString();
    auto ann = load_annotations(kData + "annotations/" + m + ".json");
    QVERIFY2(ann.ok(), ann.ok() ? "" : ann.error().c_str());
    QVERIFY(ann->warnings.empty());
    auto rows = ann->judged();
    auto wr = win_rate(rows);
    auto pub = published(m);
    QVERIFY(std::abs(wr.win_rate - pub.win_rate) < 1e-6);
    QVERIFY(std::abs(wr.standard_error - pub.standard_error) < 1e-6);
    QVERIFY(std::abs(wr.discrete_win_rate - pub.discrete_win_rate) < 1e-6);
    QCOMPARE(wr.n_wins, pub.n_wins);
    QCOMPARE(wr.n_wins_base, pub.n_wins_base);
    QCOMPARE(wr.n_draws, pub.n_draws);
    QCOMPARE(wr.n_total, pub.n_total);
    QCOMPARE(wr.avg_length, pub.avg_length);

    auto diff = load_difficulty(kData + "instruction_difficulty_reconstructed.csv");
    auto gamed = load_baseline_variants(kData + "df_gamed_synthetic.csv");
    QVERIFY2(diff.ok(), diff.ok() ? "" : diff.error().c_str());
    QVERIFY2(gamed.ok(), gamed.ok() ? "" : gamed.error().c_str());
    QCOMPARE(diff->size(), std::size_t(805));
    QCOMPARE(gamed->size(), std::size_t(1610));
    auto lc = length_controlled_win_rate(rows, *diff, *gamed);
    QVERIFY2(lc.ok(), lc.ok() ? "" : lc.error().c_str());
    const double gap = std::abs(lc->lc_win_rate - pub.lc);
    qInfo("%s: LC %.4f, published %.4f, gap %.3f points (C = %.4g)", m.c_str(), lc->lc_win_rate, pub.lc, gap, lc->C);
    QVERIFY2(gap < 0.3, qPrintable(QString("LC %1 vs published %2").arg(lc->lc_win_rate).arg(pub.lc)));
}

void TestAlpacaStats::lengthControlledWithoutDifficultySaysSo() {
    auto ann = load_annotations(kData + "annotations/gpt-3.5-turbo-1106.json");
    QVERIFY(ann.ok());
    auto lc = length_controlled_win_rate(ann->judged(), {}, {});
    QVERIFY(lc.ok());
    QVERIFY(!lc->used_difficulty);
    QVERIFY(lc->note.find("no instruction difficulty") != std::string::npos);
    QCOMPARE(lc->beta.size(), std::size_t(2));
    // Controlling for length lifts a short-answer model above its raw win rate.
    QVERIFY(lc->lc_win_rate > win_rate(ann->judged()).win_rate);
}

// The bootstrap's fixed-C fit is the cross-validated fit at the C that cross-validation chose:
// same LC, same coefficients; a different C gives a different fit.
void TestAlpacaStats::lengthControlledAtAFixedCIsTheSameFit() {
    auto ann = load_annotations(kData + "annotations/gpt-3.5-turbo-1106.json");
    auto diff = load_difficulty(kData + "instruction_difficulty_reconstructed.csv");
    QVERIFY(ann.ok() && diff.ok());
    auto cv = length_controlled_win_rate(ann->judged(), *diff, {});
    QVERIFY(cv.ok());
    auto at = length_controlled_win_rate_at(ann->judged(), *diff, {}, cv->C);
    QVERIFY(at.ok());
    QCOMPARE(at->C, cv->C);
    QVERIFY(std::abs(at->lc_win_rate - cv->lc_win_rate) < 1e-12);
    for (std::size_t i = 0; i < cv->beta.size(); ++i) QVERIFY(std::abs(at->beta[i] - cv->beta[i]) < 1e-12);
    QVERIFY(at->note.find("C held fixed") != std::string::npos);
    auto other = length_controlled_win_rate_at(ann->judged(), *diff, {}, cv->C * 1e-3);
    QVERIFY(other.ok());
    QVERIFY(std::abs(other->lc_win_rate - cv->lc_win_rate) > 1e-6);
}

void TestAlpacaStats::solverMatchesKnownOptimum() {
    // One feature, y = 0.8 everywhere: the unpenalised optimum is logit(0.8) = ln 4. With the
    // L1 term the optimum satisfies C * n * (sigmoid(b) - 0.8) = -1.
    WeightedRows d;
    d.features = 1;
    for (int i = 0; i < 100; ++i) d.add({1.0}, 0.8, 1.0);
    auto big = fit_logistic_l1(d, 1e6);
    QVERIFY(big.converged);
    QVERIFY(std::abs(big.beta[0] - std::log(4.0)) < 1e-4);
    auto fit = fit_logistic_l1(d, 0.1);
    double p = sigmoid(fit.beta[0]);
    QVERIFY(std::abs(0.1 * 100 * (p - 0.8) + 1.0) < 1e-8);
    // A penalty larger than the gradient at zero keeps the coefficient at exactly zero.
    auto zero = fit_logistic_l1(d, 0.001);
    QCOMPARE(zero.beta[0], 0.0);
}

void TestAlpacaStats::preferenceMayBeAString() {
    std::string why;
    QCOMPARE(*read_preference(nlohmann::json("1.75"), why), 1.75);
    QCOMPARE(*read_preference(nlohmann::json(2), why), 2.0);
    QVERIFY(!read_preference(nlohmann::json("2.5"), why));
    QVERIFY(why.find("outside [1, 2]") != std::string::npos);
    QVERIFY(!read_preference(nlohmann::json("M"), why));
    QVERIFY(why.find("not a number") != std::string::npos);
}

void TestAlpacaStats::badAnnotationsNameFileLineAndField() {
    QTemporaryDir dir;
    auto p = write_temp(dir, "a.json",
                        "[\n"
                        " {\"instruction\": \"x\", \"output_1\": \"a\", \"output_2\": \"b\", \"preference\": \"1.9\"},\n"
                        " {\"instruction\": \"y\", \"output_1\": \"a\",\n"
                        "  \"output_2\": 7, \"preference\": 1}\n"
                        "]\n");
    auto r = load_annotations(p);
    QVERIFY(!r.ok());
    QCOMPARE(QString::fromStdString(r.error()), QString::fromStdString(p + ":4: /1/output_2: expected a string, got number"));

    auto q = write_temp(dir, "b.json",
                        "[\n {\"instruction\": \"x\", \"output_1\": \"a\", \"output_2\": \"b\",\n  \"preference\": null}\n]\n");
    auto w = load_annotations(q);
    QVERIFY(w.ok());
    QCOMPARE(w->warnings.size(), std::size_t(1));
    QCOMPARE(QString::fromStdString(w->warnings[0]),
             QString::fromStdString(q + ":3: /0/preference: no preference (null); the row is excluded"));
    QCOMPARE(win_rate(w->judged()).n_excluded, 1);

    auto broken = write_temp(dir, "c.json", "[\n {\"instruction\": \"x\",,}\n]");
    auto b = load_annotations(broken);
    QVERIFY(!b.ok());
    QVERIFY2(QString::fromStdString(b.error()).startsWith(QString::fromStdString(broken + ":2:")), b.error().c_str());

    auto missing = load_annotations(dir.path().toStdString() + "/nope.json");
    QVERIFY(missing.error().find("cannot read") != std::string::npos);
}

void TestAlpacaStats::csvHandlesQuotesAndNewlines() {
    auto t = moa::csv::parse("index,instruction,difficulty\n0,\"a, \"\"quoted\"\"\nline\",0.5\r\n1,plain,-1\n", "x.csv");
    QVERIFY(t.ok());
    QCOMPARE(t->rows.size(), std::size_t(2));
    QCOMPARE(QString::fromStdString(t->rows[0].fields[1]), QString("a, \"quoted\"\nline"));
    QCOMPARE(t->rows[1].line, 4);
    QCOMPARE(moa::csv::escape("a,\"b\""), std::string("\"a,\"\"b\"\"\""));
}

void TestAlpacaStats::csvErrorsNameTheLine() {
    auto open = moa::csv::parse("a,b\n1,2\n3,\"never closed\n", "f.csv");
    QCOMPARE(QString::fromStdString(open.error()), QString("f.csv:3: a quoted field is never closed (a missing \")"));
    auto wide = moa::csv::parse("a,b\n1,2,3\n", "f.csv");
    QCOMPARE(QString::fromStdString(wide.error()), QString("f.csv:2: 3 fields, but the header has 2"));
    QTemporaryDir dir;
    auto p = write_temp(dir, "d.csv", "index,instruction,difficulty\n0,x,0.1\n1,y,high\n");
    auto d = load_difficulty(p);
    QCOMPARE(QString::fromStdString(d.error()), QString::fromStdString(p + ":3: column \"difficulty\": \"high\" is not a number"));
}

void TestAlpacaStats::modelOutputsLoad() {
    auto m = load_model_outputs(kData + "gpt4_1106_preview_model_outputs.json");
    QVERIFY2(m.ok(), m.ok() ? "" : m.error().c_str());
    QCOMPARE(m->size(), std::size_t(805));
    QCOMPARE(QString::fromStdString(m->front().generator), QString("gpt4_1106_preview"));
    QVERIFY(!m->front().output.empty());
}

QTEST_GUILESS_MAIN(TestAlpacaStats)
// The baseline-variant rows of the LC fit from hand-made verdicts: verbose first, then concise,
// each in prompt order whatever order they come in; each variant's length difference (reference
// minus variant) divided by its own sample standard deviation, not centred; preference - 1; the
// prompt's difficulty. Then the fit says it used them (weight 0.1) and LC moves.
void TestAlpacaStats::baselineVariantRowsByHand() {
    using moa::eval::Variant;
    std::vector<moa::eval::VariantVerdict> v = {
        {2, Variant::Concise, 1.5, 10, 5},   {0, Variant::Verbose, 1.8, 100, 300}, {1, Variant::Concise, 1.4, 50, 20},
        {2, Variant::Verbose, 1.7, 10, 100}, {0, Variant::Concise, 1.2, 100, 40},  {1, Variant::Verbose, 1.6, 50, 80}};
    const std::vector<double> d = {0.5, -0.25, 1.0};
    auto rows = moa::eval::gamed_rows(v, d);
    QCOMPARE(rows.size(), std::size_t(6));
    // verbose deltas -200, -30, -90: mean -320/3; concise deltas 60, 30, 5: mean 95/3
    const double sd_verbose = std::sqrt((std::pow(-200 + 320.0 / 3, 2) + std::pow(-30 + 320.0 / 3, 2) + std::pow(-90 + 320.0 / 3, 2)) / 2);
    const double sd_concise = std::sqrt((std::pow(60 - 95.0 / 3, 2) + std::pow(30 - 95.0 / 3, 2) + std::pow(5 - 95.0 / 3, 2)) / 2);
    const double delta[] = {-200, -30, -90, 60, 30, 5};
    const double pref[] = {0.8, 0.6, 0.7, 0.2, 0.4, 0.5};
    for (int k = 0; k < 6; ++k) {
        QVERIFY(std::abs(rows[std::size_t(k)].std_delta_len - delta[k] / (k < 3 ? sd_verbose : sd_concise)) < 1e-12);
        QVERIFY(std::abs(rows[std::size_t(k)].preference01 - pref[k]) < 1e-12);
        QCOMPARE(rows[std::size_t(k)].difficulty, d[std::size_t(k % 3)]);
    }
    // No difficulty: 0.
    for (const auto& r : moa::eval::gamed_rows(v, {})) QCOMPARE(r.difficulty, 0.0);

    // Twelve model rows whose preference follows length: the variant rows change the fit.
    std::vector<moa::eval::Judged> model;
    for (int i = 0; i < 12; ++i) model.push_back({1.0 + (i % 4) / 4.0 + 0.1, 100, std::size_t(60 + 20 * (i % 4))});
    auto plain = moa::eval::length_controlled_win_rate(model, {}, {});
    auto regular = moa::eval::length_controlled_win_rate(model, {}, moa::eval::gamed_rows(v, {}));
    QVERIFY(plain.ok() && regular.ok());
    QVERIFY(!plain->used_baseline_variants);
    QVERIFY(regular->used_baseline_variants);
    QVERIFY(regular->note.find("6 baseline-variant rows (weight 0.1)") != std::string::npos);
    QVERIFY(plain->lc_win_rate != regular->lc_win_rate);
}

#include "tst_alpaca_stats.moc"
