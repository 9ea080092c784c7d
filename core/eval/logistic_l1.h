// SPDX-License-Identifier: MIT
#pragma once
// L1-penalised logistic regression without intercept, for a handful of features:
//   minimise ||beta||_1 + C * sum_i w_i * [y_i log(1+e^-z_i) + (1-y_i) log(1+e^z_i)],  z_i = x_i.beta
// with soft labels y_i in [0, 1]. This is liblinear's L1 objective after splitting each row into
// a label-1 row of weight w*y and a label-0 row of weight w*(1-y), which AlpacaEval's
// length-controlled win rate uses. Solved by proximal Newton steps (GLMNET style: a quadratic
// model minimised by coordinate descent, then a backtracking line search) to a tight tolerance.
#include <cstddef>
#include <vector>

namespace moa::eval {

struct WeightedRows {
    std::size_t features = 0;
    std::vector<double> x; // row-major, rows * features
    std::vector<double> y; // soft label in [0, 1]
    std::vector<double> w; // weight >= 0
    std::size_t rows() const { return y.size(); }
    void add(const std::vector<double>& xi, double yi, double wi);
};

struct LogisticFit {
    std::vector<double> beta;
    int iterations = 0;
    bool converged = false;
};

LogisticFit fit_logistic_l1(const WeightedRows& data, double C, const std::vector<std::size_t>* subset = nullptr);

// Weighted log loss sum_i w_i * loss_i of `beta` over `subset` (all rows when null).
double weighted_log_loss(const WeightedRows& data, const std::vector<double>& beta,
                         const std::vector<std::size_t>* subset = nullptr);

// C chosen from `Cs` by k-fold cross-validation (row i is in fold i % k: both halves of a
// soft-labelled row stay together), scored by held-out weighted log loss summed over folds;
// the smallest C wins a tie. Then refitted on all rows.
struct CvFit {
    double C = 0;
    std::vector<double> cv_loss; // per C
    LogisticFit fit;
};
// `fold_of`, when given, assigns each row its fold instead.
CvFit fit_logistic_l1_cv(const WeightedRows& data, const std::vector<double>& Cs, int folds = 5,
                         const std::vector<int>* fold_of = nullptr);

// numpy.logspace(lo, hi, n)
std::vector<double> logspace(double lo, double hi, int n);

double sigmoid(double z);

} // namespace moa::eval
