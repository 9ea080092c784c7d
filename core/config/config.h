// SPDX-License-Identifier: MIT
#pragma once
// A MoA configuration (`*.moa.json`): providers, layers of agents, the aggregation template.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "providers/chat_types.h"

namespace moa::config {

inline constexpr const char* kSchema = "moa-workbench/config@1";

// The size of a configuration the loader accepts (README, "Configuration"): far past any
// published MoA (the paper's largest is 6 proposers × 3 layers), small enough that a run's
// records, the graph and the timeline stay responsive.
inline constexpr std::size_t kMaxAgentsPerLayer = 64;
inline constexpr std::size_t kMaxLayers = 16;
inline constexpr std::size_t kMaxAgents = 256;
// A staircase whose agents would take more steps than this (each re-sending every reference)
// loads with a warning saying what it costs.
inline constexpr long kCostlySteps = 32;

enum class ProviderType { OpenAi, Demo };
enum class Placement { System, User };
enum class FailurePolicy { Drop, Abort };

// The user's own price and size for a model, over the catalog's (a negotiated price, a
// self-hosted model): any field left unset falls back to the catalog.
struct ModelOverride {
    std::optional<double> input_usd_per_mtok;
    std::optional<double> output_usd_per_mtok;
    std::optional<double> active_params_b;
    bool operator==(const ModelOverride&) const = default;
};

struct Provider {
    std::string name;
    ProviderType type = ProviderType::OpenAi;
    std::string base_url;
    std::string api_key_env; // the NAME of the variable holding the key, never the key
    int max_concurrency = 8;
    long connect_timeout_ms = 10'000;
    long first_token_timeout_ms = 120'000;
    // After the first token: no answer text (or reasoning) for this long fails the call;
    // keep-alive comments and empty deltas do not count as progress.
    long idle_timeout_ms = 60'000;
    // The whole call, every attempt and wait included: past it the call fails, whatever the
    // server still sends.
    long call_timeout_ms = 900'000;
    int max_retries = 3;
    long retry_base_ms = 1'000;
    long retry_max_ms = 30'000;
    // Extra request headers. Names that carry credentials are refused; values hold no CR, LF, NUL.
    std::map<std::string, std::string> headers;
    // The header the key is sent in (e.g. "api-key", "x-api-key"); empty: "Authorization: Bearer".
    std::string key_header;
    // TLS: certificates are always verified, against the system's CAs or, for a server with a
    // self-signed certificate, against `ca_file` (PEM). `tls_verify = false` is the explicit,
    // warned-about opt-out.
    bool tls_verify = true;
    std::string ca_file;
    // A stream whose answer (with reasoning) grows past this fails: a server that never stops
    // cannot exhaust memory.
    std::size_t max_answer_bytes = 8u << 20;
    // Offline demo provider only: pace of the simulated stream.
    double demo_tokens_per_second = 40.0;
    long demo_first_token_ms = 250;
    std::map<std::string, ModelOverride> models; // by model id
};

struct Agent {
    std::string provider;
    std::string model;
    std::optional<std::string> system;
    providers::ChatParams params;
};

struct Layer {
    std::vector<Agent> agents;
    // Not on the last layer. The layer is done once `quorum` agents have finished, or once
    // `deadline_ms` has passed since it started (with what finished by then, else the first to
    // finish); the agents still running are cut (their calls closed).
    std::optional<int> quorum;
    std::optional<long> deadline_ms;
};

// How a layer's agents get the previous layer's answers. Barrier: once every agent of the
// previous layer has finished. Staircase: from the previous layer's first `chunk_tokens` tokens
// on, in steps of at most `chunk_tokens` tokens while the references still grow.
struct Pipelining {
    enum class Mode { Barrier, Staircase } mode = Mode::Barrier;
    int chunk_tokens = 32;
    // How a step continues the agent's own answer so far: in the prompt with an instruction
    // (works everywhere), as a trailing assistant message marked "prefix": true (DeepSeek,
    // Mistral), or with vLLM's/SGLang's continue_final_message.
    enum class Continuation { Instruction, AssistantPrefix, ContinueFinalMessage } continuation = Continuation::Instruction;
    bool operator==(const Pipelining&) const = default;
};

struct Aggregation {
    std::string template_name = "default"; // "default" or a file path as written in the config
    std::string template_text;             // resolved text
    Placement placement = Placement::System;
    // synthesize: the aggregator writes the answer (MoA). select: it names the best previous
    // answer by its number and that answer is the result (the paper's LLM-ranker baseline).
    enum class Mode { Synthesize, Select } mode = Mode::Synthesize;
};

struct Config {
    std::string name;
    std::string description;
    std::map<std::string, Provider> providers;
    std::vector<Layer> layers;
    Aggregation aggregation;
    FailurePolicy on_agent_failure = FailurePolicy::Drop;
    Pipelining pipelining;
    std::string source_path; // where it was loaded from, if anywhere

    const Provider* provider(const std::string& name) const {
        auto it = providers.find(name);
        return it == providers.end() ? nullptr : &it->second;
    }
    std::size_t agent_count() const;
};

struct Issue {
    enum class Severity { Error, Warning };
    Severity severity = Severity::Error;
    std::string file;
    int line = 0;
    int column = 0;
    std::string pointer; // JSON pointer, empty for whole-document problems
    std::string message;
    // `file:line: /pointer: message` (with `warning: ` before warnings)
    std::string str() const;
};

struct LoadResult {
    std::optional<Config> config; // set when there are no errors (warnings may exist)
    std::vector<Issue> issues;
    // Files the configuration names that were refused for lying outside its folder (each also
    // an issue): what a confirmation would allow.
    std::vector<std::string> outside_files;
    bool ok() const { return config.has_value(); }
    std::string summary() const; // every issue, one per line
};

struct LoadOptions {
    // A configuration may name files (aggregation.template) outside its own folder. Off by
    // default: a shared *.moa.json must not put /proc/self/environ or ~/.ssh into a prompt sent
    // upstream. On when the user says so (`--allow-outside-files`, a confirmation in the workbench).
    bool allow_outside_files = false;
};

// `label` names the document in messages; `base_dir` resolves relative template paths and is
// the folder named files must lie in.
LoadResult load_config_text(const std::string& text, const std::string& label,
                            const std::string& base_dir = ".", const LoadOptions& options = {});
LoadResult load_config_file(const std::string& path, const LoadOptions& options = {});

nlohmann::json to_json(const Config& c);

// The MoA paper's aggregate-and-synthesize prompt (resources/templates, built in).
const std::string& default_aggregation_template();

const char* to_string(Placement p);
const char* to_string(FailurePolicy p);
const char* to_string(Pipelining::Mode m);
const char* to_string(Pipelining::Continuation c);

} // namespace moa::config
