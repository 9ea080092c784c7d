// SPDX-License-Identifier: MIT
#pragma once
// The run history in SQLite (WAL): every run's config snapshot, input, the exact messages sent,
// every answer with usage, timings and errors. Each finished answer is committed when it
// finishes, so a crash loses nothing that had finished. GUI, CLI and `moa serve` share it.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/run_types.h"
#include "store/sqlite_db.h"
#include "util/result.h"

namespace moa::store {

inline constexpr int kHistorySchemaVersion = 2;

struct RunSummary {
    std::int64_t id = 0;
    std::string started_at; // ISO 8601, UTC
    std::string source;     // "cli", "gui", "serve"
    std::string config_name;
    std::string prompt;     // the last user turn
    std::string status;
    std::optional<double> cost_usd;
    double wall_ms = 0;
    std::optional<std::int64_t> rerun_of; // the run this one repeats
    int agents = 0;  // agents recorded (a run that finished ran them all)
    int dropped = 0; // of those, failed or dropped (see engine::outcome_text)
};

class History {
public:
    // Opens or creates the database, upgrading an older schema. The error names the file.
    static Result<std::unique_ptr<History>> open(const std::string& path);
    // $MOA_HISTORY_DB, else $XDG_DATA_HOME/moa-workbench/history.sqlite (~/.local/share/...).
    static std::string default_path();

    Result<std::int64_t> begin_run(const std::string& source, const nlohmann::json& config_snapshot,
                                   const engine::RunInput& input, const std::string& config_name);
    Result<bool> record_agent(std::int64_t run, const engine::AgentRecord& a);
    Result<bool> finish_run(std::int64_t run, const engine::RunRecord& r);
    // Marks `run` as a re-run of `original` (same configuration and prompt).
    Result<bool> set_rerun_of(std::int64_t run, std::int64_t original);

    std::vector<RunSummary> list(const std::string& search = {}, int limit = 100);
    // The run as it was recorded; the record has the same shape as a live run's.
    std::optional<engine::RunRecord> load(std::int64_t run);
    std::optional<nlohmann::json> config_snapshot(std::int64_t run);
    const std::string& path() const { return path_; }
    // The schema version the file had when it was opened, when open() upgraded it (else 0).
    int migrated_from() const { return migrated_from_; }

private:
    int migrated_from_ = 0;
    Database db_;
    std::string path_;
};

} // namespace moa::store
