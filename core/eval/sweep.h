// SPDX-License-Identifier: MIT
#pragma once
// The MoA paper's ablations as generated variants of a base configuration, to evaluate as one
// experiment: the number of proposers, the number of layers, the aggregator's model, one model
// sampled n times against n different models, and an aggregator that selects one answer (the
// LLM-ranker baseline) against one that synthesizes; and the latency variants (staircase
// streaming, quorums).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "util/result.h"

namespace moa::eval {

// Latency: barrier, staircase streaming at two chunk sizes, and quorum n-1 on every layer of
// proposers: what cutting the wait costs in quality, judged on the user's prompts.
enum class SweepKind { Proposers, Layers, Aggregator, Samples, Ranker, Latency };
std::optional<SweepKind> sweep_kind_from_string(const std::string& s);
const char* to_string(SweepKind k);

struct SweepOptions {
    SweepKind kind = SweepKind::Proposers;
    int max = 0; // proposers: 1..max (default: the base's first layer); layers: 0..max proposer layers
    std::vector<std::string> models; // aggregator models ("model" or "provider/model")
    double sample_temperature = 0.7; // Samples: one model sampled n times at this temperature
};

// The variants, each named after what changed; the base itself is among them where it fits.
Result<std::vector<config::Config>> make_sweep(const config::Config& base, const SweepOptions& o);

// Where a sweep's files go and what the experiment compares against.
struct SweepFiles {
    std::string dir;                // written here: one *.moa.json per variant and sweep.moa-experiment.json
    std::string judge;              // the judge's configuration (a path or a preset)
    std::string reference_config;   // a reference configuration, or
    std::string reference_outputs;  // imported reference outputs (AlpacaEval model_outputs.json)
    std::string prompts = "starter";
    std::string judge_mode = "pairwise";
    std::size_t sample = 30;
    std::uint64_t seed = 1;
    // Written into the experiment: false for a latency sweep, whose variants share calls that the
    // response cache would answer at once (and so measure no time).
    bool cache_generations = true;
};
// Writes the variants and an experiment over them (each file written whole, then renamed);
// returns the experiment's path.
Result<std::string> write_sweep_experiment(const std::vector<config::Config>& variants, const SweepFiles& f);

// The built-in template of the selecting aggregator (resources/templates/select_best.txt).
std::string select_template();

} // namespace moa::eval
