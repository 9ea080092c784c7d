// SPDX-License-Identifier: MIT
#include "eval/alpaca_stats.h"

#include <cmath>

#include "eval/logistic_l1.h"

namespace moa::eval {

WinRate win_rate(const std::vector<Judged>& rows) {
    WinRate r;
    double sum = 0, sum_len = 0;
    std::vector<double> v;
    for (const auto& row : rows) {
        if (!row.preference) {
            ++r.n_excluded;
            continue;
        }
        double p = *row.preference - 1.0;
        v.push_back(p);
        sum += p;
        sum_len += static_cast<double>(row.length_2);
        if (*row.preference == 1.5)
            ++r.n_draws;
        else if (p > 0.5)
            ++r.n_wins;
        else
            ++r.n_wins_base;
    }
    r.n_total = static_cast<int>(v.size());
    if (v.empty()) return r;
    double n = static_cast<double>(v.size());
    double mean = sum / n;
    r.win_rate = 100.0 * mean;
    if (v.size() > 1) {
        double ss = 0;
        for (double p : v) ss += (p - mean) * (p - mean);
        r.standard_error = 100.0 * std::sqrt(ss / (n - 1)) / std::sqrt(n);
    }
    r.discrete_win_rate = 100.0 * (r.n_wins + r.n_draws / 2.0) / n;
    r.avg_length = static_cast<long>(std::floor(sum_len / n));
    return r;
}

double lc_from_coefficients(double beta_identity, double beta_difficulty, const std::vector<double>& difficulties) {
    double s = 0;
    for (double d : difficulties) s += sigmoid(beta_identity + beta_difficulty * d);
    return difficulties.empty() ? 50.0 : 100.0 * s / double(difficulties.size());
}

namespace {
// `fixed_C` > 0 holds C there; otherwise it is chosen by 5-fold cross-validation.
Result<LengthControlled> fit_lc(const std::vector<Judged>& rows, const std::vector<double>& difficulty,
                                const std::vector<GamedRow>& gamed, double fixed_C) {
    LengthControlled out;
    out.used_difficulty = !difficulty.empty();
    out.used_baseline_variants = !gamed.empty();

    std::vector<std::size_t> idx; // positions with a preference
    bool identical = true;
    for (std::size_t i = 0; i < rows.size(); ++i) {
        if (!rows[i].preference) continue;
        idx.push_back(i);
        double delta = double(rows[i].length_1) - double(rows[i].length_2);
        identical = identical && *rows[i].preference == 1.5 && delta == 0;
    }
    if (idx.size() < 10) return Error{"the length-controlled win rate needs at least 10 judged rows; there are " + std::to_string(idx.size())};
    if (identical) {
        // The baseline against itself: every pair is a draw of equal length.
        out.lc_win_rate = 50.0;
        out.note = "every pair is a draw between outputs of equal length (the baseline against itself): 50 by definition";
        return out;
    }
    if (out.used_difficulty && difficulty.size() < rows.size())
        return Error{"the difficulty file has " + std::to_string(difficulty.size()) + " instructions but the annotations have " +
                     std::to_string(rows.size()) + " rows (difficulties are matched by position)"};
    // Sample standard deviation of delta, not centred on its mean (AlpacaEval divides by std only).
    double mean = 0;
    for (std::size_t i : idx) mean += double(rows[i].length_1) - double(rows[i].length_2);
    mean /= double(idx.size());
    double var = 0;
    for (std::size_t i : idx) {
        double d = double(rows[i].length_1) - double(rows[i].length_2) - mean;
        var += d * d;
    }
    double sd = std::sqrt(var / double(idx.size() - 1));

    WeightedRows data;
    data.features = out.used_difficulty ? 3 : 2;
    auto features = [&](double std_delta, double d, double identity) {
        std::vector<double> x{std::tanh(std_delta)};
        if (out.used_difficulty) x.push_back(d);
        x.push_back(identity);
        return x;
    };
    for (const auto& g : gamed) data.add(features(g.std_delta_len, g.difficulty, 0.0), g.preference01, 0.1);
    for (std::size_t i : idx) {
        double delta = double(rows[i].length_1) - double(rows[i].length_2);
        double std_delta = sd > 0 ? delta / sd : 0.0;
        data.add(features(std_delta, out.used_difficulty ? difficulty[i] : 0.0, 1.0), *rows[i].preference - 1.0, 1.0);
    }
    if (fixed_C > 0) {
        out.C = fixed_C;
        out.beta = fit_logistic_l1(data, fixed_C).beta;
    } else {
        auto cv = fit_logistic_l1_cv(data, logspace(-4, 4, 10), 5);
        out.C = cv.C;
        out.beta = cv.fit.beta;
    }
    const double b_id = out.beta.back();
    const double b_d = out.used_difficulty ? out.beta[1] : 0.0;
    std::vector<double> judged_difficulty;
    for (std::size_t i : idx) judged_difficulty.push_back(out.used_difficulty ? difficulty[i] : 0.0);
    out.lc_win_rate = lc_from_coefficients(b_id, b_d, judged_difficulty);
    out.note = std::string("L1 logistic model on tanh(length difference / sd)") +
               (out.used_difficulty ? ", instruction difficulty" : " (no instruction difficulty given: fitted without it)") +
               " and identity; " +
               (out.used_baseline_variants ? std::to_string(gamed.size()) + " baseline-variant rows (weight 0.1) regularise the length term"
                                           : "no baseline-variant rows: the length term is not regularised, so LC is less reliable") +
               (fixed_C > 0 ? "; C held fixed" : "; C chosen by 5-fold cross-validation");
    return out;
}
} // namespace

Result<LengthControlled> length_controlled_win_rate(const std::vector<Judged>& rows, const std::vector<double>& difficulty,
                                                    const std::vector<GamedRow>& gamed) {
    return fit_lc(rows, difficulty, gamed, 0.0);
}

Result<LengthControlled> length_controlled_win_rate_at(const std::vector<Judged>& rows, const std::vector<double>& difficulty,
                                                       const std::vector<GamedRow>& gamed, double C) {
    return fit_lc(rows, difficulty, gamed, C > 0 ? C : 1.0);
}

} // namespace moa::eval
