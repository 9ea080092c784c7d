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
#include "store/record_cap.h"
#include "store/sqlite_db.h"
#include "util/result.h"

namespace moa::store {

inline constexpr int kHistorySchemaVersion = 6;

// What a run reads as when the process that recorded it ended before the run finished.
inline constexpr const char* kInterrupted = "interrupted (the process ended before the run finished)";

struct RunSummary {
    std::int64_t id = 0;
    std::string started_at; // ISO 8601, UTC
    std::string source;     // "cli", "gui", "serve"
    std::string config_name;
    std::string prompt;     // the last user turn
    std::string status;
    std::optional<double> cost_usd;
    bool cost_complete = true; // false when a call had no price: cost_usd is then only the known part
    double wall_ms = 0;
    std::optional<std::int64_t> rerun_of; // the run this one repeats
    int agents = 0;  // agents recorded (a run that finished ran them all)
    int dropped = 0; // of those, failed or dropped (see engine::outcome_text)
    int cut = 0;     // of those, cut at their layer's quorum or deadline
    std::string record_note; // "record truncated: …" when messages were cut (RecordCap); else empty
};

class History {
public:
    // Opens or creates the database, upgrading an older schema. The error names the file.
    static Result<std::unique_ptr<History>> open(const std::string& path);
    // Reads every page (PRAGMA quick_check; about 7.5 ms per MB, measured: 3.4 s for 450 MB).
    // A damaged file is refused for writing from then on; the error says what to do.
    Result<bool> check();
    // What to tell the user about a damaged history: that it is, and how to move it aside and
    // salvage what it holds.
    static std::string damage_message(const std::string& path, const std::string& sqlite_error);
    // $MOA_HISTORY_DB, else $XDG_DATA_HOME/moa-workbench/history.sqlite (~/.local/share/...).
    static std::string default_path();

    // With a `cap`, message contents are stored as cap->apply() gives them, and the run's row
    // notes it once something was cut (record_note()).
    Result<std::int64_t> begin_run(const std::string& source, const nlohmann::json& config_snapshot,
                                   const engine::RunInput& input, const std::string& config_name, RecordCap* cap = nullptr);
    Result<bool> record_agent(std::int64_t run, const engine::AgentRecord& a, RecordCap* cap = nullptr);
    Result<bool> finish_run(std::int64_t run, const engine::RunRecord& r, RecordCap* cap = nullptr);
    // Marks `run` as a re-run of `original` (same configuration and prompt).
    Result<bool> set_rerun_of(std::int64_t run, std::int64_t original);

    // The newest runs first. A read error (a damaged page) is an error, never a shorter list.
    Result<std::vector<RunSummary>> list(const std::string& search = {}, int limit = 100);
    // The run as it was recorded; the record has the same shape as a live run's. Empty when
    // there is no such run or it could not be read: read_error() tells which.
    std::optional<engine::RunRecord> load(std::int64_t run);
    std::optional<nlohmann::json> config_snapshot(std::int64_t run);
    // "record truncated: …" when the run's stored messages were cut (schema 4); else empty.
    std::string record_note(std::int64_t run);
    // The last read that failed (empty when none did), with what to do when the file is damaged.
    const std::string& read_error() const { return read_error_; }
    bool damaged() const { return !damage_.empty(); }
    const std::string& path() const { return path_; }
    // The schema version the file had when it was opened, when open() upgraded it (else 0).
    int migrated_from() const { return migrated_from_; }

private:
    // Messages as stored: a content of kBlobMinBytes or more is kept once in `blobs`, by its
    // SHA-256, and referred to ({"role", "ref"}); shorter ones inline ({"role", "content"}).
    Result<std::string> encode_messages(const std::vector<engine::Message>& ms, RecordCap* cap);
    Result<bool> store_record_note(std::int64_t run, const RecordCap* cap);
    std::optional<std::vector<engine::Message>> decode_messages(const std::string& stored, const std::string& what);
    std::string read_failed(const std::string& what);
    std::string write_failed(const std::string& what);

    int migrated_from_ = 0;
    std::string damage_; // set once the file is known to be damaged: no write is tried after
    std::string read_error_;
    Database db_;
    std::string path_;
};

} // namespace moa::store
