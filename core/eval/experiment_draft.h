// SPDX-License-Identifier: MIT
#pragma once
// An experiment being made (by the New experiment dialog, the sweep dialog or the demo): its
// fields checked one by one, each problem naming the field, before any file is written; then
// written whole and read back with load_experiment, so a broken file is never left behind.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "accounting/catalog.h"
#include "config/config.h"
#include "eval/lc_variants.h"
#include "util/result.h"

namespace moa::eval {

// The built-in offline demo judge (a preset): deterministic, labelled, not a real judge.
inline constexpr const char* kDemoJudge = "offline-demo-judge";

struct ExperimentDraft {
    std::string name;
    std::vector<std::string> configurations; // configuration files or preset names
    std::string prompts = "starter";         // "starter" or a prompt file
    std::size_t sample = 10;                 // 0 = every prompt
    std::uint64_t seed = 1;
    std::string judge;                       // a one-agent configuration file or preset name
    std::string judge_mode = "pairwise";     // pairwise, single or skills
    std::string reference;                   // pairwise: a configuration file or preset name
    int concurrency = 4;
    bool lc_variants = false;                // pairwise: regularise LC with the reference's baseline variants
};

struct DraftIssue {
    std::string field;   // "Name", "Configurations", "Prompts", "Judge", "Reference", "File"
    std::string message; // what is wrong, naming the file or preset where there is one
};

// A configuration file or preset name loaded; the error names `field` and what was given.
Result<config::Config> load_config_field(const std::string& field, const std::string& value);
// Like load_config_field, and the configuration must be one layer with one agent.
Result<config::Config> load_judge_field(const std::string& field, const std::string& value);

// Every problem with the draft (empty when it can be written).
std::vector<DraftIssue> check_draft(const ExperimentDraft& d);

// What the baseline variants of the draft would cost (nothing is stored yet, so all of it);
// an error names the field that keeps it from being known.
Result<VariantPlan> plan_draft_lc_variants(const ExperimentDraft& d, const accounting::Catalog& catalog);

// Checks, then writes `path` (*.moa-experiment.json) whole and loads it back; on any problem
// nothing is left at `path`. The error lists every issue as "Field: message" lines.
Result<std::string> write_draft(const ExperimentDraft& d, const std::string& path);

// The demo experiment in `dir`: two offline-demo MoA configurations against one demo model,
// judged by the offline demo judge on `sample` starter prompts. No keys, no network.
Result<std::string> write_demo_experiment(const std::string& dir, std::size_t sample = 5);

} // namespace moa::eval
