// SPDX-License-Identifier: MIT
// The LC formula alone, apart from the fit: AlpacaEval's published GLM coefficients of each
// leaderboard model (weights_*.csv) put through core/eval's formula with the instruction
// difficulties must give the leaderboard's LC win rate.
//
// Why not to 1e-9: AlpacaEval's own instruction_difficulty.csv is not reachable here, only a
// reconstruction (../shared/data/README.md). LC is a mean of sigmoid(identity + beta_d x d_i) over
// the 805 instructions, so it depends on every d_i; with the reconstructed d_i the 198 models
// are within 0.72 points (mean 0.26). The error is systematic, not the formula's: models with a
// negative identity term come out low and those with a positive one high, as from d_i that
// are a little off in their spread, and no single rescaling or shift of d_i removes it. The
// exact parts hold exactly: the baseline (all coefficients 0) gives 50, and the formula is the
// plain mean of sigmoids to 1e-12. The bounds below still tell the formula from its likely
// mistakes, which miss by far more: sigmoid of the mean difficulty (mean error 4.4 points,
// max 8.5), dropping the difficulty (4.1, 7.8), the wrong sign of its term (1.9, 5.3), leaving
// the length term in at tanh(1) (14, 37).
#include <QtTest>

#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

#include "eval/alpaca_files.h"
#include "eval/alpaca_stats.h"

using namespace moa::eval;

namespace {
const std::string kData = std::string(MOA_SHARED_DATA) + "/alpaca_eval/";

// A CSV without quoted fields (both published files are such): header -> column, first column -> row.
std::map<std::string, std::map<std::string, std::string>> read_csv(const std::string& path) {
    std::ifstream in(path);
    std::string line;
    std::vector<std::string> header;
    std::map<std::string, std::map<std::string, std::string>> out;
    auto split = [](const std::string& l) {
        std::vector<std::string> f;
        std::stringstream ss(l);
        std::string x;
        while (std::getline(ss, x, ',')) f.push_back(x);
        if (!l.empty() && l.back() == ',') f.push_back("");
        return f;
    };
    if (std::getline(in, line)) header = split(line);
    while (std::getline(in, line)) {
        auto f = split(line);
        if (f.size() != header.size() || f.empty()) continue;
        for (std::size_t i = 1; i < f.size(); ++i) out[f[0]][header[i]] = f[i];
    }
    return out;
}
} // namespace

class TestLcFormula : public QObject {
    Q_OBJECT
private slots:
    void publishedCoefficientsGiveTheLeaderboardLc();
    void formulaIsTheMeanOfSigmoids();
};

void TestLcFormula::publishedCoefficientsGiveTheLeaderboardLc() {
    const std::string weights_path =
        kData + "weights_weighted_alpaca_eval_gpt4_turbo_length_controlled_v1_baseline_gpt4_1106_preview.csv";
    auto weights = read_csv(weights_path);
    auto board = read_csv(kData + "weighted_alpaca_eval_gpt4_turbo_leaderboard.csv");
    auto difficulty = load_difficulty(kData + "instruction_difficulty_reconstructed.csv");
    QVERIFY2(difficulty.ok(), difficulty.ok() ? "" : difficulty.error().c_str());
    QCOMPARE(difficulty->size(), std::size_t(805));
    QVERIFY2(weights.size() >= 190, "the published weights file is missing or short");

    int compared = 0;
    double sum_err = 0, max_err = 0;
    std::string worst;
    for (const auto& [model, w] : weights) {
        auto b = board.find(model);
        if (b == board.end() || b->second["length_controlled_winrate"].empty()) continue;
        const double published = std::stod(b->second["length_controlled_winrate"]);
        const double lc = lc_from_coefficients(std::stod(w.at("not_gamed_baseline.astype(float)")),
                                               std::stod(w.at("instruction_difficulty")), *difficulty);
        if (model == "gpt4_1106_preview") { // the baseline: every coefficient 0
            QVERIFY(std::fabs(lc - 50.0) < 1e-12);
            QVERIFY(std::fabs(published - 50.0) < 1e-12);
            continue;
        }
        const double err = std::fabs(lc - published);
        ++compared;
        sum_err += err;
        if (err > max_err) max_err = err, worst = model;
    }
    qInfo("%d models: mean |LC - published| %.4f, max %.4f (%s)", compared, sum_err / compared, max_err, worst.c_str());
    QVERIFY(compared >= 190);
    QVERIFY2(max_err < 0.75, worst.c_str());   // measured 0.7186 (dbrx-instruct)
    QVERIFY(sum_err / compared < 0.27);         // measured 0.2557
}

void TestLcFormula::formulaIsTheMeanOfSigmoids() {
    // By hand: sigmoid(-0.5 + 1 x 0.5) = 0.5, sigmoid(-0.5 + 1 x -0.5) = 1 / (1 + e).
    const double expected = 100.0 * (0.5 + 1.0 / (1.0 + std::exp(1.0))) / 2.0;
    QVERIFY(std::fabs(lc_from_coefficients(-0.5, 1.0, {0.5, -0.5}) - expected) < 1e-12);
    QVERIFY(std::fabs(lc_from_coefficients(0.0, 0.0, {3.0, -2.0, 0.1}) - 50.0) < 1e-12);
}

QTEST_GUILESS_MAIN(TestLcFormula)
#include "tst_lc_formula.moc"
