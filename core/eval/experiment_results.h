// SPDX-License-Identifier: MIT
#pragma once
// The results of an experiment, from its stored generations and judgments: a row per
// configuration (LC win rate ± SE, win rate ± SE, grade, cost, TFLOPs, latency, tokens) and a
// row per judged instance; plus the cost/quality Pareto frontier.
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "eval/alpaca_stats.h"
#include "eval/experiment.h"
#include "store/experiment_store.h"

namespace moa::eval {

struct ConfigResult {
    std::string name;
    std::string source;
    int generated = 0, failed = 0, judged = 0, unreadable = 0;
    WinRate win;                                // pairwise
    std::optional<double> lc_win_rate;          // pairwise
    std::optional<double> score, score_se;      // single (1-10) or skills (1-5)
    std::map<std::string, double> skills;       // skills mode: mean per skill
    double cost_per_instance = 0;               // USD, what one run costs at list prices
    bool cost_complete = true;
    double tflops_per_instance = 0;
    double latency_ms = 0;                      // mean wall time
    double tokens_per_instance = 0;
    double paid_usd = 0;
};

struct InstanceResult {
    std::string item_id, category, instruction;
    std::string config;
    std::string output, reference;
    std::optional<double> preference, score;
    std::string judge_raw, error;
    nlohmann::json detail;
};

struct ExperimentResults {
    std::string name, mode, reference_name, lc_note;
    std::vector<ConfigResult> configs;
    std::vector<InstanceResult> instances;
    std::vector<std::size_t> frontier; // indices of configs on the cost / quality Pareto frontier
};

ExperimentResults compute_results(const Experiment& e, store::ExperimentStore& store);
nlohmann::json to_json(const ExperimentResults& r);

// Indices of the points not dominated by another (lower or equal cost and higher or equal
// quality, one of them strictly), sorted by cost.
std::vector<std::size_t> pareto_front(const std::vector<double>& cost, const std::vector<double>& quality);

// The difficulty of each prompt estimated jointly over the configurations: the mean logit of
// the baseline's win probability across configurations, centred. Needs at least 3 configurations.
std::vector<double> joint_difficulty(const std::vector<std::vector<std::optional<double>>>& prefs_by_config);

} // namespace moa::eval
