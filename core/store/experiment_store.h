// SPDX-License-Identifier: MIT
#pragma once
// Experiment results and the response cache in SQLite (WAL). Each generation, judgment and
// paid call is committed the moment it finishes, so an experiment killed at any point resumes
// without paying again for anything that had finished. Results are keyed by content (the
// configuration's hash, the prompt id, the judge's hash), so editing an experiment keeps them.
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/call_cache.h"
#include "store/sqlite_db.h"
#include "util/result.h"

namespace moa::store {

inline constexpr int kExperimentSchemaVersion = 1;

struct Generation {
    std::string config_key, item_id;
    bool ok = false;
    std::vector<std::string> turns; // the final answer for each user turn
    std::string error;
    double cost_usd = 0; // what the run costs (cached calls at their price)
    double paid_usd = 0; // what this run actually paid (cached calls are free)
    bool cost_complete = true;
    double tflops = 0;
    double wall_ms = 0;
    double critical_path_ms = 0;
    // From each turn's start to its final answer's first token, summed over the turns (as
    // wall_ms is); unset when a turn had none, or for results stored before it was kept.
    std::optional<double> ttft_ms;
    long prompt_tokens = 0, completion_tokens = 0;
    int calls = 0, cached_calls = 0;
    // The agents the run went on without, one line each ("L1.2 dropped (model): error", "… cut"):
    // an answer made by fewer agents than configured still counts, but is not the configuration's.
    std::vector<std::string> degraded;
};

struct Judgment {
    std::string judge_key, item_id, config_key, ref_key;
    std::optional<double> preference; // pairwise, in [1, 2]: 2 = the configuration's output wins
    std::optional<double> score;      // single: mean over turns, 1..10
    nlohmann::json detail = nlohmann::json::object(); // per-turn scores, skills, swapped, method
    std::string raw;   // the judge's raw answer(s)
    std::string error; // unreadable or failed: kept, counted, excluded
    double cost_usd = 0, paid_usd = 0;
    // A hash of the exact texts judged (instruction, answer, reference): a verdict holds only for
    // those texts, so a changed reference or answer is judged again. Empty for older rows.
    std::string texts_key;
};

class ExperimentStore : public engine::CallCache {
public:
    static Result<std::shared_ptr<ExperimentStore>> open(const std::string& path);
    // $MOA_EXPERIMENT_DB, else $XDG_DATA_HOME/moa-workbench/experiments.sqlite
    static std::string default_path();
    const std::string& path() const { return path_; }

    // CallCache
    std::optional<engine::CachedAnswer> lookup(const std::string& key) override;
    void store(const std::string& key, const providers::CallRequest& request, const engine::CachedAnswer& answer) override;

    std::optional<Generation> generation(const std::string& config_key, const std::string& item_id);
    Result<bool> put_generation(const Generation& g);
    std::optional<Judgment> judgment(const std::string& judge_key, const std::string& item_id, const std::string& config_key,
                                     const std::string& ref_key);
    Result<bool> put_judgment(const Judgment& j);
    // Remembers an experiment file (for the GUI's list) with its last status.
    void note_experiment(const std::string& path, const std::string& name, const std::string& status);

    std::int64_t cache_entries();
    std::int64_t cache_hits() const { return hits_; }
    // The first error of a failed write (a full disk) or read (a damaged file); empty when all
    // went well.
    std::string write_error() const;

private:
    void note_read_error(const std::string& what); // with mu_ held
    Database db_;
    // Compiled once and reset after each use: a large prompt set looks its rows up one by one.
    std::unique_ptr<Statement> generation_q_, judgment_q_;
    std::string path_;
    mutable std::mutex mu_;
    std::int64_t hits_ = 0;
    std::string write_error_;
};

} // namespace moa::store
