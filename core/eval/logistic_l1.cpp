// SPDX-License-Identifier: MIT
#include "eval/logistic_l1.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace moa::eval {

void WeightedRows::add(const std::vector<double>& xi, double yi, double wi) {
    x.insert(x.end(), xi.begin(), xi.end());
    y.push_back(yi);
    w.push_back(wi);
}

double sigmoid(double z) {
    if (z >= 0) return 1.0 / (1.0 + std::exp(-z));
    double e = std::exp(z);
    return e / (1.0 + e);
}

namespace {

// log(1 + e^z) without overflow
double softplus(double z) { return z > 0 ? z + std::log1p(std::exp(-z)) : std::log1p(std::exp(z)); }

template <class F> void for_rows(const WeightedRows& d, const std::vector<std::size_t>* subset, F f) {
    if (subset)
        for (std::size_t i : *subset) f(i);
    else
        for (std::size_t i = 0; i < d.rows(); ++i) f(i);
}

double dot(const WeightedRows& d, std::size_t i, const std::vector<double>& b) {
    double z = 0;
    for (std::size_t j = 0; j < d.features; ++j) z += d.x[i * d.features + j] * b[j];
    return z;
}

double l1(const std::vector<double>& b) {
    double s = 0;
    for (double v : b) s += std::abs(v);
    return s;
}

} // namespace

double weighted_log_loss(const WeightedRows& d, const std::vector<double>& beta, const std::vector<std::size_t>* subset) {
    double s = 0;
    for_rows(d, subset, [&](std::size_t i) {
        double z = dot(d, i, beta);
        // y*log(1+e^-z) + (1-y)*log(1+e^z)
        s += d.w[i] * (d.y[i] * softplus(-z) + (1 - d.y[i]) * softplus(z));
    });
    return s;
}

LogisticFit fit_logistic_l1(const WeightedRows& d, double C, const std::vector<std::size_t>* subset) {
    const std::size_t k = d.features;
    LogisticFit out;
    out.beta.assign(k, 0.0);
    auto& b = out.beta;
    auto objective = [&](const std::vector<double>& beta) { return l1(beta) + C * weighted_log_loss(d, beta, subset); };
    double f = objective(b);
    std::vector<double> g(k), H(k * k), step(k), trial(k);
    for (int it = 0; it < 200; ++it) {
        out.iterations = it + 1;
        std::fill(g.begin(), g.end(), 0.0);
        std::fill(H.begin(), H.end(), 0.0);
        for_rows(d, subset, [&](std::size_t i) {
            double p = sigmoid(dot(d, i, b));
            double gi = C * d.w[i] * (p - d.y[i]);
            double hi = C * d.w[i] * p * (1 - p);
            const double* xi = &d.x[i * k];
            for (std::size_t a = 0; a < k; ++a) {
                g[a] += gi * xi[a];
                for (std::size_t c = 0; c < k; ++c) H[a * k + c] += hi * xi[a] * xi[c];
            }
        });
        // Minimise g.s + s'Hs/2 + |b+s|_1 over s by cyclic coordinate descent.
        std::fill(step.begin(), step.end(), 0.0);
        for (int cd = 0; cd < 1000; ++cd) {
            double biggest = 0;
            for (std::size_t j = 0; j < k; ++j) {
                double hjj = H[j * k + j];
                if (hjj <= 1e-300) continue;
                double grad = g[j];
                for (std::size_t c = 0; c < k; ++c) grad += H[j * k + c] * step[c];
                // minimise over u = b_j + s_j: hjj/2 (u - v)^2 + |u| with v = b_j + s_j - grad/hjj
                double v = b[j] + step[j] - grad / hjj;
                double u = v > 1 / hjj ? v - 1 / hjj : (v < -1 / hjj ? v + 1 / hjj : 0.0);
                double ns = u - b[j];
                biggest = std::max(biggest, std::abs(ns - step[j]));
                step[j] = ns;
            }
            if (biggest < 1e-14) break;
        }
        double delta = -l1(b);
        for (std::size_t j = 0; j < k; ++j) {
            trial[j] = b[j] + step[j];
            delta += g[j] * step[j];
        }
        delta += l1(trial);
        double max_step = 0;
        for (double s : step) max_step = std::max(max_step, std::abs(s));
        if (max_step < 1e-11 || delta >= 0) {
            out.converged = true;
            break;
        }
        // Near the optimum the decrease drops below the rounding of the objective and a line
        // search cannot see it; the full Newton step is then safe and converges quadratically.
        if (-delta < 1e-10 * std::max(1.0, std::abs(f))) {
            b = trial;
            f = objective(b);
            continue;
        }
        double t = 1;
        bool accepted = false;
        for (int ls = 0; ls < 60; ++ls) {
            for (std::size_t j = 0; j < k; ++j) trial[j] = b[j] + t * step[j];
            double ft = objective(trial);
            if (ft <= f + 0.01 * t * delta) {
                b = trial;
                f = ft;
                accepted = true;
                break;
            }
            t *= 0.5;
        }
        if (!accepted) {
            out.converged = true; // no further decrease is representable
            break;
        }
    }
    return out;
}

CvFit fit_logistic_l1_cv(const WeightedRows& d, const std::vector<double>& Cs, int folds, const std::vector<int>* fold_of) {
    CvFit out;
    std::vector<std::vector<std::size_t>> train(folds), test(folds);
    for (std::size_t i = 0; i < d.rows(); ++i)
        for (int f = 0; f < folds; ++f) {
            int fi = fold_of ? (*fold_of)[i] : static_cast<int>(i % static_cast<std::size_t>(folds));
            (fi == f ? test : train)[static_cast<std::size_t>(f)].push_back(i);
        }
    double best = INFINITY;
    for (double C : Cs) {
        double loss = 0;
        for (int f = 0; f < folds; ++f) {
            auto fit = fit_logistic_l1(d, C, &train[f]);
            loss += weighted_log_loss(d, fit.beta, &test[f]);
        }
        out.cv_loss.push_back(loss);
        if (loss < best) {
            best = loss;
            out.C = C;
        }
    }
    out.fit = fit_logistic_l1(d, out.C);
    return out;
}

std::vector<double> logspace(double lo, double hi, int n) {
    std::vector<double> v;
    for (int i = 0; i < n; ++i) v.push_back(std::pow(10.0, n == 1 ? lo : lo + (hi - lo) * i / (n - 1)));
    return v;
}

} // namespace moa::eval
