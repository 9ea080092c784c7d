// SPDX-License-Identifier: MIT
#pragma once
// AlpacaEval's metrics, defined as AlpacaEval defines them: the win rate of a model against a
// baseline from judge preferences in [1, 2] (1 = baseline better, 2 = model better, 1.5 = draw),
// its standard error, the counts, and the length-controlled win rate from a logistic model of
// the preference on the length difference, the instruction's difficulty and the model's identity.
#include <optional>
#include <string>
#include <vector>

#include "util/result.h"

namespace moa::eval {

// One judged pair. `preference` is empty when the verdict could not be read: such rows are
// excluded from every number but keep their position (AlpacaEval looks difficulties up by it).
struct Judged {
    std::optional<double> preference;
    std::size_t length_1 = 0; // baseline output, Unicode code points
    std::size_t length_2 = 0; // model output
};

struct WinRate {
    double win_rate = 0;       // 100 * mean(p - 1)
    double standard_error = 0; // 100 * sd(p - 1, ddof=1) / sqrt(n)
    int n_wins = 0;            // p > 1.5
    int n_wins_base = 0;       // p < 1.5
    int n_draws = 0;           // p == 1.5
    int n_total = 0;
    double discrete_win_rate = 0; // 100 * (n_wins + n_draws / 2) / n_total
    long avg_length = 0;          // floor(mean code points of the model's outputs)
    int n_excluded = 0;           // rows without a readable preference
};
WinRate win_rate(const std::vector<Judged>& rows);

// A regularisation row of the length-controlled fit (AlpacaEval's `df_gamed`: the baseline's
// own verbose and concise variants judged against it).
struct GamedRow {
    double preference01 = 0.5; // already in [0, 1]
    double std_delta_len = 0;
    double difficulty = 0;
};

struct LengthControlled {
    double lc_win_rate = 0;
    double C = 0;             // chosen by cross-validation
    std::vector<double> beta; // [length, difficulty (if used), identity]
    bool used_difficulty = false;
    bool used_baseline_variants = false;
    std::string note; // how it was fitted, for the user
};

// The LC win rate from a fitted model's coefficients: 100 x the mean over `difficulties` (one
// per judged instruction) of sigmoid(beta_identity + beta_difficulty x d), the model's predicted
// preference with the length term set to 0. Kept apart from the fit so that it can be checked
// against AlpacaEval's published coefficients and leaderboard (tests/core/tst_lc_formula).
double lc_from_coefficients(double beta_identity, double beta_difficulty, const std::vector<double>& difficulties);

// `difficulty` is looked up by row POSITION (AlpacaEval's quirk); pass an empty vector to fit
// without that feature. Errors when there are too few rows or no length variation.
Result<LengthControlled> length_controlled_win_rate(const std::vector<Judged>& rows,
                                                    const std::vector<double>& difficulty,
                                                    const std::vector<GamedRow>& gamed);
// The same fit with the regularisation strength held at `C` instead of cross-validated: for
// bootstrap resamples, which keep the C chosen on all the rows (one fit each instead of 51).
Result<LengthControlled> length_controlled_win_rate_at(const std::vector<Judged>& rows,
                                                       const std::vector<double>& difficulty,
                                                       const std::vector<GamedRow>& gamed, double C);

} // namespace moa::eval
