// SPDX-License-Identifier: MIT
#include "store/history.h"

#include "store/recorder_process.h"

#include "util/resources.h"
#include "util/sha256.h"

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <iterator>
#include <thread>

#include <sqlite3.h>

namespace moa::store {
using nlohmann::json;

namespace {

const char* kSchemaV1 = R"SQL(
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs(
    id INTEGER PRIMARY KEY,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    source TEXT NOT NULL,
    config_name TEXT NOT NULL,
    config_json TEXT NOT NULL,
    input_json TEXT NOT NULL,
    prompt TEXT NOT NULL,
    status TEXT NOT NULL,
    error TEXT,
    final_text TEXT,
    totals_json TEXT,
    layers_json TEXT
);
CREATE TABLE IF NOT EXISTS responses(
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    layer INTEGER NOT NULL,
    agent INTEGER NOT NULL,
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    demo INTEGER NOT NULL,
    state TEXT NOT NULL,
    messages_json TEXT NOT NULL,
    text TEXT NOT NULL,
    reasoning TEXT NOT NULL,
    prompt_tokens INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL,
    usage_estimated INTEGER NOT NULL,
    ttft_ms REAL,
    duration_ms REAL NOT NULL,
    start_ms REAL NOT NULL,
    end_ms REAL NOT NULL,
    tokens_per_s REAL,
    cost_usd REAL,
    tflops REAL,
    attempts INTEGER NOT NULL,
    finish_reason TEXT,
    error TEXT,
    PRIMARY KEY(run_id, layer, agent)
);
CREATE INDEX IF NOT EXISTS runs_started ON runs(started_at);
)SQL";

std::string now_iso() {
    auto t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

constexpr std::size_t kBlobMinBytes = 1024;
// The run list's copy of the prompt (for listing and search); the whole conversation is kept.
constexpr std::size_t kListedPromptBytes = 64 * 1024;

std::string listed_prompt(const std::string& p) {
    if (p.size() <= kListedPromptBytes) return p;
    std::size_t cut = kListedPromptBytes;
    while (cut > 0 && (static_cast<unsigned char>(p[cut]) & 0xC0) == 0x80) --cut; // not inside a UTF-8 sequence
    return p.substr(0, cut);
}

engine::AgentState state_from(const std::string& s) {
    using S = engine::AgentState;
    for (S st : {S::Queued, S::Waiting, S::Streaming, S::Retrying, S::Done, S::Failed, S::Dropped, S::Cancelled, S::Cut})
        if (s == engine::to_string(st)) return st;
    return S::Failed;
}

// A run still marked running whose recording process has ended: killed, crashed, or the machine
// restarted. Rows from before schema 6 name no process; once the file is upgraded no older build
// can write to it, so such a row is read as interrupted too. A process on another host (a history
// on a shared disk) cannot be checked: its run stays "running".
bool interrupted(const std::string& status, const std::optional<std::string>& recorder) {
    if (status != "running") return false;
    if (!recorder) return true;
    return recorder_state(*recorder) == Recorder::Gone;
}

engine::RunStatus status_from(const std::string& s) {
    using S = engine::RunStatus;
    for (S st : {S::Running, S::Done, S::Failed, S::Cancelled})
        if (s == engine::to_string(st)) return st;
    return S::Failed;
}

// [[ms, bytes], ...], or NULL when there is none (answers from the cache, old runs).
std::optional<std::string> timeline_json(const std::vector<std::pair<double, std::size_t>>& t) {
    if (t.empty()) return std::nullopt;
    json a = json::array();
    for (const auto& [ms, bytes] : t) a.push_back({std::round(ms * 10) / 10, bytes});
    return a.dump();
}

std::vector<std::pair<double, std::size_t>> timeline_from(const std::string& s) {
    std::vector<std::pair<double, std::size_t>> out;
    json a = json::parse(s, nullptr, false);
    if (!a.is_array()) return out;
    for (const auto& p : a)
        if (p.is_array() && p.size() == 2 && p[0].is_number() && p[1].is_number_unsigned())
            out.emplace_back(p[0].get<double>(), p[1].get<std::size_t>());
    return out;
}

// WAL mode, set on a new file by whichever process comes first. Switching the journal mode needs
// the file to itself and SQLite reports "database is locked" at once (no busy wait) when another
// process opens the same new file at that moment: try again for as long as the busy timeout.
bool set_up_connection(Database& db) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!db.exec("PRAGMA journal_mode=WAL;")) {
        if (db.error_code() != SQLITE_BUSY && db.error_code() != SQLITE_LOCKED) return false;
        if (std::chrono::steady_clock::now() > until) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    // The WAL shrinks back to 4 MB after a checkpoint instead of keeping its largest size (one
    // big run made it as large as that run for good).
    return db.exec("PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA journal_size_limit=4194304;");
}

// The file's schema version: 0 for a new file (no meta table or no version row yet).
Result<int> read_schema_version(Database& db) {
    Statement has(db.handle(), "SELECT name FROM sqlite_master WHERE type='table' AND name='meta'");
    if (has.step()) {
        Statement v(db.handle(), "SELECT value FROM meta WHERE key='schema_version'");
        if (v.step()) return std::atoi(v.text(0).c_str());
        if (v.failed()) return Error{db.error()};
        return 0;
    }
    if (has.failed()) return Error{db.error()};
    return 0;
}

Error newer_schema_error(const std::string& path, int version) {
    return Error{path + ": the history was written by a newer MoA Workbench (schema " + std::to_string(version) +
                 ", this one reads up to " + std::to_string(kHistorySchemaVersion) + ")"};
}

bool has_column(Database& db, const char* table, const char* column) {
    Statement s(db.handle(), std::string("SELECT 1 FROM pragma_table_info('") + table + "') WHERE name=?");
    s.bind(1, column);
    return s.step();
}

// Each step can run on a file where it already ran (wholly or in part): two processes that
// opened a new file at the same moment, or a file left half-upgraded by an older build.
bool add_column_if_missing(Database& db, const char* table, const char* column, const char* type) {
    if (has_column(db, table, column)) return true;
    return db.exec(std::string("ALTER TABLE ") + table + " ADD COLUMN " + column + " " + type + ";");
}

struct Migration {
    int to;
    const char* what;
    bool (*apply)(Database&);
};

constexpr Migration kMigrations[] = {
    {1, "create the history tables", [](Database& db) { return db.exec(kSchemaV1); }},
    // 2: how each answer's text grew (replays at the recorded pace), and re-runs linked to
    // the run they repeat.
    {2, "upgrade the history to schema 2",
     [](Database& db) {
         return add_column_if_missing(db, "responses", "timeline_json", "TEXT") &&
                add_column_if_missing(db, "runs", "rerun_of", "INTEGER");
     }},
    // 3: long message contents (the conversation every agent was sent, references) stored once
    // per run, by hash, instead of once per agent and again in the run's input. Rows written
    // before keep their inline contents and read as before.
    {3, "upgrade the history to schema 3",
     [](Database& db) { return db.exec("CREATE TABLE IF NOT EXISTS blobs(hash TEXT PRIMARY KEY, body TEXT NOT NULL);"); }},
    // 4: what a run's record left out (moa serve --record-max-bytes cut its messages).
    {4, "upgrade the history to schema 4",
     [](Database& db) { return add_column_if_missing(db, "runs", "record_note", "TEXT"); }},
    // 5: the calls of an agent that ran in steps (staircase streaming), each with its messages.
    {5, "upgrade the history to schema 5",
     [](Database& db) { return add_column_if_missing(db, "responses", "steps_json", "TEXT"); }},
    // 6: the process that records a run (store/recorder_process.h), so that a run whose
    // process ended before it finished reads "interrupted", not "running" for ever.
    {6, "upgrade the history to schema 6",
     [](Database& db) { return add_column_if_missing(db, "runs", "recorder", "TEXT"); }},
};

// The schema this build writes is the last migration's: two branches that each added a step
// once left the constant behind and every new file was refused as "newer".
static_assert(std::size(kMigrations) == static_cast<std::size_t>(kHistorySchemaVersion) &&
                  kMigrations[std::size(kMigrations) - 1].to == kHistorySchemaVersion,
              "kHistorySchemaVersion must be the last migration's version");

// Upgrades the file to this build's schema in one write transaction. The version is read again
// once the write lock is held: another process may have upgraded the file since we looked, and
// the version is only ever raised.
Result<bool> migrate(Database& db, const std::string& path) {
    if (!db.exec("BEGIN IMMEDIATE;")) return Error{path + ": cannot lock the history to upgrade it: " + db.error()};
    auto fail = [&](const std::string& e) {
        db.exec("ROLLBACK;");
        return Error{e};
    };
    auto version = read_schema_version(db);
    if (!version) return fail(path + ": cannot read the history's schema version: " + version.error());
    if (*version > kHistorySchemaVersion) return fail(newer_schema_error(path, *version).message);
    const int from = *version;
    for (const Migration& m : kMigrations) {
        if (*version >= m.to) continue;
        if (!m.apply(db))
            return fail(path + ": cannot " + m.what + " (schema " + std::to_string(*version) + " to " +
                        std::to_string(m.to) + "): " + db.error() + "; the file is unchanged");
        *version = m.to;
    }
    if (*version > from) {
        Statement set(db.handle(), "INSERT INTO meta(key, value) VALUES('schema_version', ?1) "
                                   "ON CONFLICT(key) DO UPDATE SET value=?1 WHERE CAST(value AS INTEGER) < CAST(?1 AS INTEGER)");
        set.bind(1, std::to_string(*version));
        if (!set.run()) return fail(path + ": cannot record the schema version: " + db.error() + "; the file is unchanged");
    }
    if (!db.exec("COMMIT;")) return fail(path + ": cannot commit the history upgrade: " + db.error() + "; the file is unchanged");
    return true;
}
} // namespace

std::string History::damage_message(const std::string& path, const std::string& sqlite_error) {
    return path + ": the history file is damaged (SQLite: " + sqlite_error +
           "); new runs are not written into it. Move it aside (mv '" + path + "' '" + path +
           ".damaged'; the next run starts a new history) and salvage what it still holds with: sqlite3 '" + path +
           ".damaged' .recover | sqlite3 '" + path + ".recovered'";
}

Result<std::string> History::encode_messages(const std::vector<engine::Message>& ms, RecordCap* cap) {
    json a = json::array();
    for (const auto& m : ms) {
        const std::string& content = cap ? cap->apply(m.content) : m.content;
        if (content.size() < kBlobMinBytes) {
            a.push_back({{"role", m.role}, {"content", content}});
            if (m.prefix) a.back()["prefix"] = true;
            continue;
        }
        const std::string hash = util::sha256_hex(content);
        Statement put(db_.handle(), "INSERT OR IGNORE INTO blobs(hash, body) VALUES(?, ?)");
        put.bind(1, hash).bind(2, content);
        if (!put.run()) return Error{write_failed("cannot store a message")};
        a.push_back({{"role", m.role}, {"ref", hash}});
        if (m.prefix) a.back()["prefix"] = true;
    }
    return a.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<bool> History::store_record_note(std::int64_t run, const RecordCap* cap) {
    if (!cap || !cap->truncated()) return true;
    Statement s(db_.handle(), "UPDATE runs SET record_note=? WHERE id=?");
    s.bind(1, cap->note()).bind(2, run);
    if (!s.run()) return Error{write_failed("cannot note that the run's record was truncated")};
    return true;
}

std::optional<std::vector<engine::Message>> History::decode_messages(const std::string& stored, const std::string& what) {
    std::vector<engine::Message> out;
    json a = json::parse(stored, nullptr, false);
    if (!a.is_array()) return out;
    for (const auto& m : a) {
        if (!m.is_object()) continue;
        auto ref = m.find("ref");
        if (ref == m.end() || !ref->is_string()) {
            out.push_back({m.value("role", ""), m.value("content", ""), m.value("prefix", false)});
            continue;
        }
        Statement get(db_.handle(), "SELECT body FROM blobs WHERE hash=?");
        get.bind(1, ref->get<std::string>());
        if (!get.step()) {
            if (get.failed()) read_failed(what);
            else read_error_ = path_ + ": " + what + " refers to a message that is not in the file (blob " +
                               ref->get<std::string>() + ")";
            return std::nullopt;
        }
        out.push_back({m.value("role", ""), get.text(0), m.value("prefix", false)});
    }
    return out;
}

std::string History::read_failed(const std::string& what) {
    if (db_.damaged() && damage_.empty()) damage_ = damage_message(path_, db_.error());
    read_error_ = db_.damaged() ? damage_ : path_ + ": cannot read " + what + ": " + db_.error();
    return read_error_;
}

std::string History::write_failed(const std::string& what) {
    if (db_.damaged() && damage_.empty()) damage_ = damage_message(path_, db_.error());
    return db_.damaged() ? damage_ : path_ + ": " + what + ": " + db_.error();
}

Result<bool> History::check() {
    Statement q(db_.handle(), "PRAGMA quick_check(5)");
    std::string problems;
    while (q.step()) {
        std::string line = q.text(0);
        if (line == "ok") return true;
        problems += (problems.empty() ? "" : "; ") + line;
    }
    if (q.failed()) return Error{read_failed("the file")};
    damage_ = read_error_ = damage_message(path_, problems.empty() ? "quick_check found problems" : problems);
    return Error{damage_};
}

std::string History::default_path() { return resources::data_path("MOA_HISTORY_DB", "history.sqlite"); }

Result<std::unique_ptr<History>> History::open(const std::string& path) {
    auto h = std::unique_ptr<History>(new History());
    h->path_ = path;
    std::error_code ec;
    auto dir = std::filesystem::path(path).parent_path();
    if (!dir.empty()) std::filesystem::create_directories(dir, ec);
    if (!h->db_.open(path)) return Error{path + ": cannot open the history database: " + h->db_.error()};
    if (!set_up_connection(h->db_))
        return Error{h->db_.damaged() ? damage_message(path, h->db_.error())
                                      : path + ": cannot set up the history database: " + h->db_.error()};
    // A quick look first: an up-to-date file (the usual case) is opened without taking the
    // write lock.
    auto version = read_schema_version(h->db_);
    if (!version)
        return Error{h->db_.damaged() ? damage_message(path, version.error())
                                      : path + ": cannot read the history's schema version: " + version.error()};
    if (*version > kHistorySchemaVersion) return newer_schema_error(path, *version);
    const int initial = *version;
    if (initial < kHistorySchemaVersion) {
        if (auto ok = migrate(h->db_, path); !ok) return Error{ok.error()};
    }
    if (initial > 0 && initial < kHistorySchemaVersion) h->migrated_from_ = initial;
    return h;
}

Result<std::int64_t> History::begin_run(const std::string& source, const json& config_snapshot,
                                        const engine::RunInput& input, const std::string& config_name, RecordCap* cap) {
    if (!damage_.empty()) return Error{damage_};
    if (!db_.exec("BEGIN;")) return Error{write_failed("cannot record the run")};
    auto conversation = encode_messages(input.conversation, cap);
    if (!conversation) {
        db_.exec("ROLLBACK;");
        return Error{conversation.error()};
    }
    Statement s(db_.handle(), "INSERT INTO runs(started_at, source, config_name, config_json, input_json, prompt, status, "
                              "recorder) VALUES(?, ?, ?, ?, ?, ?, 'running', ?)");
    s.bind(1, now_iso()).bind(2, source).bind(3, config_name).bind(4, config_snapshot.dump())
        .bind(5, *conversation).bind(6, listed_prompt(input.last_user_text())).bind(7, recorder_identity());
    if (!s.run()) {
        std::string e = write_failed("cannot record the run");
        db_.exec("ROLLBACK;");
        return Error{e};
    }
    const std::int64_t id = db_.last_insert_id();
    if (auto ok = store_record_note(id, cap); !ok) {
        db_.exec("ROLLBACK;");
        return Error{ok.error()};
    }
    if (!db_.exec("COMMIT;")) return Error{write_failed("cannot commit the run's start")};
    return id;
}

Result<bool> History::record_agent(std::int64_t run, const engine::AgentRecord& a, RecordCap* cap) {
    if (!damage_.empty()) return Error{damage_};
    auto messages = encode_messages(a.messages, cap);
    if (!messages) return Error{messages.error()};
    std::optional<std::string> steps;
    if (!a.steps.empty()) {
        json all = json::array();
        for (const auto& st : a.steps) {
            json j = engine::to_json(st, false);
            auto m = encode_messages(st.messages, cap); // a step re-sends the references: capped like the rest
            if (!m) return Error{m.error()};
            j["messages"] = json::parse(*m, nullptr, false);
            all.push_back(std::move(j));
        }
        steps = all.dump(-1, ' ', false, json::error_handler_t::replace);
    }
    Statement s(db_.handle(),
                "INSERT OR REPLACE INTO responses(run_id, layer, agent, provider, model, demo, state, messages_json, text, "
                "reasoning, prompt_tokens, completion_tokens, usage_estimated, ttft_ms, duration_ms, start_ms, end_ms, "
                "tokens_per_s, cost_usd, tflops, attempts, finish_reason, error, timeline_json, steps_json) "
                "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    s.bind(1, run).bind(2, a.layer).bind(3, a.index).bind(4, a.provider).bind(5, a.model).bind(6, a.demo ? 1 : 0)
        .bind(7, engine::to_string(a.state))
        .bind(8, *messages)
        .bind(9, a.text).bind(10, a.reasoning).bind(11, static_cast<std::int64_t>(a.usage.prompt_tokens))
        .bind(12, static_cast<std::int64_t>(a.usage.completion_tokens)).bind(13, a.usage.estimated ? 1 : 0)
        .bind(14, a.ttft_ms).bind(15, a.duration_ms).bind(16, a.start_ms).bind(17, a.end_ms).bind(18, a.tokens_per_s)
        .bind(19, a.cost_usd).bind(20, a.tflops).bind(21, a.attempts)
        .bind(22, a.finish_reason.empty() ? std::optional<std::string>() : a.finish_reason).bind(23, a.error)
        .bind(24, timeline_json(a.timeline)).bind(25, steps);
    if (!s.run())
        return Error{write_failed("cannot record the answer of L" + std::to_string(a.layer + 1) + "." + std::to_string(a.index + 1))};
    return store_record_note(run, cap);
}

Result<bool> History::finish_run(std::int64_t run, const engine::RunRecord& r, RecordCap* cap) {
    if (!damage_.empty()) return Error{damage_};
    db_.exec("BEGIN;");
    for (const auto& L : r.layers)
        for (const auto& a : L.agents)
            if (a.attempts > 0 || a.state != engine::AgentState::Queued)
                if (auto ok = record_agent(run, a, cap); !ok) {
                    db_.exec("ROLLBACK;");
                    return ok;
                }
    json layers = json::array();
    for (const auto& L : r.layers) layers.push_back({{"start_ms", L.start_ms}, {"end_ms", L.end_ms}, {"missing", L.missing}});
    Statement s(db_.handle(),
                "UPDATE runs SET finished_at=?, status=?, error=?, final_text=?, totals_json=?, layers_json=? WHERE id=?");
    s.bind(1, now_iso()).bind(2, engine::to_string(r.status))
        .bind(3, r.error.empty() ? std::optional<std::string>() : r.error).bind(4, r.final_text)
        .bind(5, engine::to_json(r.totals).dump()).bind(6, layers.dump()).bind(7, run);
    if (!s.run()) {
        std::string e = write_failed("cannot record the end of the run");
        db_.exec("ROLLBACK;");
        return Error{e};
    }
    if (!db_.exec("COMMIT;")) return Error{write_failed("cannot commit the end of the run")};
    // Fold the WAL into the file at the end of each run, without waiting for readers; the next
    // write then starts the WAL again from its beginning (and trims it to journal_size_limit).
    db_.exec("PRAGMA wal_checkpoint(PASSIVE);");
    return true;
}

Result<bool> History::set_rerun_of(std::int64_t run, std::int64_t original) {
    if (!damage_.empty()) return Error{damage_};
    Statement s(db_.handle(), "UPDATE runs SET rerun_of=? WHERE id=?");
    s.bind(1, original).bind(2, run);
    if (!s.run()) return Error{write_failed("cannot link the re-run")};
    return true;
}

Result<std::vector<RunSummary>> History::list(const std::string& search, int limit) {
    std::vector<RunSummary> out;
    Statement s(db_.handle(),
                "SELECT id, started_at, source, config_name, prompt, status, totals_json, rerun_of, record_note, "
                "(SELECT COUNT(*) FROM responses WHERE run_id = runs.id), "
                "(SELECT COUNT(*) FROM responses WHERE run_id = runs.id AND state IN ('failed', 'dropped')), "
                "(SELECT COUNT(*) FROM responses WHERE run_id = runs.id AND state = 'cut'), recorder FROM runs "
                "WHERE ?1 = '' OR prompt LIKE '%' || ?1 || '%' OR config_name LIKE '%' || ?1 || '%' "
                "OR final_text LIKE '%' || ?1 || '%' ORDER BY id DESC LIMIT ?2");
    s.bind(1, search).bind(2, limit);
    while (s.step()) {
        RunSummary r;
        r.id = s.i64(0);
        r.started_at = s.text(1);
        r.source = s.text(2);
        r.config_name = s.text(3);
        r.prompt = s.text(4);
        r.status = s.text(5);
        if (interrupted(r.status, s.opt_text(12))) r.status = "interrupted";
        json t = json::parse(s.text(6), nullptr, false);
        if (t.is_object()) {
            if (t.contains("cost_usd") && t["cost_usd"].is_number()) r.cost_usd = t["cost_usd"].get<double>();
            r.cost_complete = t.value("cost_complete", true);
            r.wall_ms = t.value("wall_ms", 0.0);
        }
        if (auto o = s.opt_f64(7)) r.rerun_of = static_cast<std::int64_t>(*o);
        r.record_note = s.opt_text(8).value_or("");
        r.agents = static_cast<int>(s.i64(9));
        r.dropped = static_cast<int>(s.i64(10));
        r.cut = static_cast<int>(s.i64(11));
        out.push_back(std::move(r));
    }
    if (s.failed()) return Error{read_failed("the list of runs")};
    return out;
}

std::optional<json> History::config_snapshot(std::int64_t run) {
    Statement s(db_.handle(), "SELECT config_json FROM runs WHERE id=?");
    s.bind(1, run);
    read_error_.clear();
    if (!s.step()) {
        if (s.failed()) read_failed("run " + std::to_string(run));
        return std::nullopt;
    }
    json j = json::parse(s.text(0), nullptr, false);
    if (j.is_discarded()) return std::nullopt;
    return j;
}

std::string History::record_note(std::int64_t run) {
    Statement s(db_.handle(), "SELECT record_note FROM runs WHERE id=?");
    s.bind(1, run);
    if (!s.step()) return {};
    return s.opt_text(0).value_or("");
}

std::optional<engine::RunRecord> History::load(std::int64_t run) {
    Statement s(db_.handle(), "SELECT config_name, input_json, status, error, final_text, totals_json, config_json, layers_json, "
                              "recorder FROM runs WHERE id=?");
    s.bind(1, run);
    read_error_.clear();
    if (!s.step()) {
        if (s.failed()) read_failed("run " + std::to_string(run));
        return std::nullopt;
    }
    engine::RunRecord r;
    r.id = static_cast<std::uint64_t>(run);
    r.config_name = s.text(0);
    auto conversation = decode_messages(s.text(1), "run " + std::to_string(run));
    if (!conversation) return std::nullopt;
    r.input.conversation = std::move(*conversation);
    r.status = status_from(s.text(2));
    r.error = s.opt_text(3).value_or("");
    if (interrupted(s.text(2), s.opt_text(8))) {
        r.status = engine::RunStatus::Failed;
        r.error = kInterrupted;
    }
    r.final_text = s.opt_text(4);
    json t = json::parse(s.opt_text(5).value_or("{}"), nullptr, false);
    if (t.is_object()) {
        r.totals.cost_usd = t.value("cost_usd", 0.0);
        r.totals.cost_complete = t.value("cost_complete", true);
        r.totals.tflops = t.value("tflops", 0.0);
        r.totals.tflops_complete = t.value("tflops_complete", true);
        r.totals.wall_ms = t.value("wall_ms", 0.0);
        r.totals.critical_path_ms = t.value("critical_path_ms", 0.0);
        r.totals.prompt_tokens = t.value("prompt_tokens", 0L);
        r.totals.completion_tokens = t.value("completion_tokens", 0L);
        r.totals.usage_estimated = t.value("usage_estimated", false);
        if (auto v = t.find("ttft_ms"); v != t.end() && v->is_number()) r.totals.ttft_ms = v->get<double>();
    }
    // The layer shape comes from the config snapshot, so agents that never ran still show.
    json cfg = json::parse(s.text(6), nullptr, false);
    json layer_times = json::parse(s.opt_text(7).value_or("null"), nullptr, false);
    if (cfg.is_object() && cfg.contains("layers") && cfg["layers"].is_array()) {
        int li = 0;
        for (const auto& L : cfg["layers"]) {
            engine::LayerRecord lr;
            int ai = 0;
            if (L.contains("agents") && L["agents"].is_array())
                for (const auto& a : L["agents"]) {
                    engine::AgentRecord ar;
                    ar.layer = li;
                    ar.index = ai++;
                    ar.provider = a.value("provider", "");
                    ar.model = a.value("model", "");
                    lr.agents.push_back(std::move(ar));
                }
            r.layers.push_back(std::move(lr));
            ++li;
        }
    }
    Statement q(db_.handle(),
                "SELECT layer, agent, provider, model, demo, state, messages_json, text, reasoning, prompt_tokens, "
                "completion_tokens, usage_estimated, ttft_ms, duration_ms, start_ms, end_ms, tokens_per_s, cost_usd, "
                "tflops, attempts, finish_reason, error, timeline_json, steps_json FROM responses WHERE run_id=? ORDER BY layer, agent");
    q.bind(1, run);
    while (q.step()) {
        auto li = static_cast<std::size_t>(q.i64(0)), ai = static_cast<std::size_t>(q.i64(1));
        while (r.layers.size() <= li) r.layers.emplace_back();
        auto& agents = r.layers[li].agents;
        while (agents.size() <= ai) agents.emplace_back();
        auto& a = agents[ai];
        a.layer = static_cast<int>(li);
        a.index = static_cast<int>(ai);
        a.provider = q.text(2);
        a.model = q.text(3);
        a.demo = q.i64(4) != 0;
        a.state = state_from(q.text(5));
        auto messages = decode_messages(q.text(6), "an answer of run " + std::to_string(run));
        if (!messages) return std::nullopt;
        a.messages = std::move(*messages);
        a.text = q.text(7);
        a.reasoning = q.text(8);
        a.usage.prompt_tokens = static_cast<long>(q.i64(9));
        a.usage.completion_tokens = static_cast<long>(q.i64(10));
        a.usage.estimated = q.i64(11) != 0;
        a.ttft_ms = q.opt_f64(12);
        a.duration_ms = q.f64(13);
        a.start_ms = q.f64(14);
        a.end_ms = q.f64(15);
        a.tokens_per_s = q.opt_f64(16);
        a.cost_usd = q.opt_f64(17);
        a.tflops = q.opt_f64(18);
        a.attempts = static_cast<int>(q.i64(19));
        a.finish_reason = q.opt_text(20).value_or("");
        a.error = q.opt_text(21);
        a.timeline = timeline_from(q.opt_text(22).value_or(""));
        json steps = json::parse(q.opt_text(23).value_or("null"), nullptr, false);
        if (steps.is_array())
            for (const auto& sj : steps) {
                engine::StepRecord st = engine::step_from_json(sj);
                if (sj.contains("messages")) {
                    auto ms = decode_messages(sj["messages"].dump(), "a step of run " + std::to_string(run));
                    if (!ms) return std::nullopt;
                    st.messages = std::move(*ms);
                }
                a.steps.push_back(std::move(st));
            }
    }
    if (q.failed()) {
        read_failed("the answers of run " + std::to_string(run));
        return std::nullopt;
    }
    if (layer_times.is_array() && layer_times.size() == r.layers.size()) {
        for (std::size_t i = 0; i < r.layers.size(); ++i) {
            r.layers[i].start_ms = layer_times[i].value("start_ms", 0.0);
            r.layers[i].end_ms = layer_times[i].value("end_ms", 0.0);
            r.layers[i].missing = layer_times[i].value("missing", 0);
        }
        return r;
    }
    // A run that never finished (the process died): layer times from its agents.
    for (auto& L : r.layers) {
        L.start_ms = 1e300;
        L.end_ms = 0;
        for (const auto& a : L.agents) {
            if (a.attempts == 0) continue;
            L.start_ms = std::min(L.start_ms, a.start_ms);
            L.end_ms = std::max(L.end_ms, a.end_ms);
            if (a.state == engine::AgentState::Dropped || a.state == engine::AgentState::Failed) ++L.missing;
        }
        if (L.start_ms > L.end_ms) L.start_ms = L.end_ms = 0;
    }
    return r;
}

} // namespace moa::store
