// SPDX-License-Identifier: MIT
#pragma once
// The results of an experiment, from its stored generations and judgments: a row per
// configuration (LC win rate ± SE, win rate ± SE, grade, cost, TFLOPs, latency, tokens) and a
// row per judged instance; plus the cost/quality Pareto frontier.
#include <cstdint>
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
    int generated = 0, judged = 0, unreadable = 0;
    int failed = 0;           // failed generations: each counts as a loss (pairwise) or the lowest grade
    int reference_failed = 0; // instances not judged because the reference failed
    int pending = 0;          // instances not generated or not judged yet
    WinRate win;                                // pairwise
    std::optional<double> lc_win_rate;          // pairwise
    std::optional<double> lc_standard_error;    // pairwise: seeded bootstrap over the instances
    // Why the LC or its standard error is missing (pairwise), to say so where "n/a" is shown.
    std::string lc_missing, lc_se_missing;
    std::optional<double> score, score_se;      // single (1-10) or skills (1-5)
    std::map<std::string, double> skills;       // skills mode: mean per skill
    double cost_per_instance = 0;               // USD, what one run costs at list prices
    bool cost_complete = true;
    double tflops_per_instance = 0;
    std::optional<double> latency_ms;           // mean wall time, of the answers made afresh (below)
    // Per-prompt medians over the stored answers (the charts' time axes): wall time, and the
    // time to the final answer's first token (unset when no stored answer has one).
    // Over the answers whose every call was made afresh: an answer served from the response cache
    // took no time, so it measures nothing (unset when no answer was made afresh).
    std::optional<double> median_wall_ms, median_ttft_ms;
    int timing_from_cache = 0; // answers left out of those medians: some of their calls were cached
    double tokens_per_instance = 0;
    double paid_usd = 0;
    // Answers (judged or not) made without some of the configuration's agents (dropped after an
    // error, or cut at a quorum): their numbers are not the whole configuration's. One line per
    // agent left out: "coding-02: L1.2 dropped (model): error".
    int degraded = 0;
    std::vector<std::string> degraded_notes;
};

struct InstanceResult {
    std::string item_id, category, instruction;
    std::string config;
    std::string output, reference;
    std::optional<double> preference, score;
    std::string judge_raw, error;
    nlohmann::json detail;
    bool failed_generation = false; // scored as a loss / the lowest grade
    bool reference_failed = false;  // no verdict: nothing is judged against a failed reference
    std::vector<std::string> degraded; // the agents the answer was made without ("L1.2 dropped (model): error")
};

// A baseline variant of the reference's answer and its verdict against that answer.
struct VariantResult {
    std::string item_id, variant; // "concise" or "verbose"
    std::string output;
    std::optional<double> preference; // 2 = the variant beats the reference's answer
    std::string error;                // why there is no row for the fit (not generated, failed, unreadable)
};

struct ExperimentResults {
    std::string name, mode, reference_name, lc_note;
    // Set when the judge is the built-in offline demo judge, so every view of these results says
    // so: "offline demo judge: counts words, not a real judge".
    std::string judge_note;
    // How the LC column is named: "LC (unregularised)" when no baseline-variant rows regularise
    // its length term (AlpacaEval's LC has them), else "LC".
    std::string lc_label = "LC (unregularised)";
    bool lc_regularised = false;
    // Baseline variants (Experiment::lc_variants): asked for, rows used in the fit, rows missing.
    bool lc_variants = false;
    int variant_rows = 0, variant_missing = 0;
    std::vector<VariantResult> variants;
    std::vector<ConfigResult> configs;
    std::vector<InstanceResult> instances;
    std::vector<std::size_t> frontier; // indices of configs on the cost / quality Pareto frontier
    // Some instance failed or is not done yet: the numbers are not final until a re-run succeeds.
    bool incomplete = false;
    std::string incomplete_note;
};

// "offline demo judge: counts words, not a real judge" when the experiment's judge is the
// built-in offline demo judge (a "demo-judge…" model on a demo provider), else empty.
std::string judge_note(const Experiment& e);
ExperimentResults compute_results(const Experiment& e, store::ExperimentStore& store);

// No call of the configuration had a price: its cost is unknown (never shown as $0).
bool cost_unknown(const ConfigResult& c);
// Its cost per instance as text: "cost unknown", "≥ $0.00012" (only part priced), "$0.00012",
// or "n/a" before any answer.
std::string cost_text(const ConfigResult& c);

// Whether the configuration has a verdict to show: a readable preference (pairwise) or grade; a
// failed generation counts as one (a loss, the lowest grade). Without one its win rate or grade is
// "n/a", never 0.00 ± 0.00, and it is never on the frontier.
bool has_verdict(const ConfigResult& c, const std::string& mode);
// Why it has none: "no readable verdict" when the judge answered but nothing could be read,
// "not judged yet" when no judge call has finished.
std::string no_verdict_reason(const ConfigResult& c);
nlohmann::json to_json(const ExperimentResults& r);

// Indices of the points not dominated by another (lower or equal cost and higher or equal
// quality, one of them strictly), sorted by cost.
std::vector<std::size_t> pareto_front(const std::vector<double>& cost, const std::vector<double>& quality);

// The difficulty of each prompt estimated jointly over the configurations: the mean logit of
// the baseline's win probability across configurations, centred. Needs at least 3 configurations.
// The standard error of the LC win rate: the standard deviation of LC over `resamples` seeded
// bootstrap resamples of the instances (each keeps its own difficulty), each fitted at the C
// chosen on all of them (`C`); empty when too few resamples fit.
// `gamed_of[i]`, when given, are the baseline-variant rows of instance i: a resampled instance
// brings its own.
std::optional<double> lc_bootstrap_se(const std::vector<Judged>& rows, const std::vector<double>& difficulty, double C,
                                      std::uint64_t seed, int resamples = 200,
                                      const std::vector<std::vector<GamedRow>>& gamed_of = {});

std::vector<double> joint_difficulty(const std::vector<std::vector<std::optional<double>>>& prefs_by_config);

} // namespace moa::eval
