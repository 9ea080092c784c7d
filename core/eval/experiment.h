// SPDX-License-Identifier: MIT
#pragma once
// An experiment: configurations x a prompt set x a reference x a judge (+ sample size and seed,
// a concurrency limit, per-provider rate limits and a budget), saved as `*.moa-experiment.json`.
// Paths inside are relative to the experiment file; configurations may also name presets.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/config.h"
#include "eval/judge.h"
#include "eval/prompt_set.h"
#include "util/result.h"

namespace moa::eval {

inline constexpr const char* kExperimentSchema = "moa-workbench/experiment@1";

struct RateLimit {
    double requests_per_minute = 0; // 0 = no limit
    double tokens_per_minute = 0;
};

struct ReferenceSpec {
    enum class Kind { Configuration, Outputs } kind = Kind::Configuration;
    std::optional<config::Config> config;              // Kind::Configuration
    std::map<std::string, std::string> outputs;        // Kind::Outputs: instruction -> output
    std::string name;                                  // shown in tables and charts
    std::string source;                                // path or preset as written
};

struct JudgeSpec {
    std::string mode = "pairwise"; // pairwise, single, skills
    config::Config config;          // one layer with one agent: the judge model
    JudgeTemplate tmpl;
    std::optional<int> top_logprobs = 5; // pairwise: ask for the label probabilities
    std::map<std::string, std::string> skill_criteria; // skills mode: skill -> criteria (from a FLASK skillset file)
};

struct Experiment {
    std::string name;
    std::string path; // the file it was loaded from
    std::vector<config::Config> configs;
    std::vector<std::string> config_sources; // as written
    PromptSet prompts;                       // already sampled
    std::optional<ReferenceSpec> reference;  // required for pairwise
    JudgeSpec judge;
    std::size_t sample = 0;
    std::uint64_t seed = 0;
    int concurrency = 4;
    double budget_usd = 0; // 0 = no cap
    std::map<std::string, RateLimit> rate_limits; // by provider name
    // Ask the reference model for a concise and a verbose variant of each answer and use their
    // verdicts as the LC fit's baseline-variant rows (AlpacaEval's regularisation; lc_variants.h).
    bool lc_variants = false;
    // false: every configuration's calls are made afresh, none answered from the response cache
    // (a latency sweep: a cached call takes no time and would be measured as instant). Judges'
    // calls are cached either way.
    bool cache_generations = true;
};

// Every problem in the file: `file:line: /pointer: message`, joined by newlines.
Result<Experiment> load_experiment(const std::string& path);

// Content hash of a configuration (what it would send), the key of its stored results.
std::string config_key(const config::Config& c);

} // namespace moa::eval
