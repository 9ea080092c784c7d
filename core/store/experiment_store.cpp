// SPDX-License-Identifier: MIT
#include "store/experiment_store.h"

#include <cstdlib>
#include <filesystem>

#include "util/resources.h"

namespace moa::store {

using nlohmann::json;

std::string ExperimentStore::default_path() { return resources::data_path("MOA_EXPERIMENT_DB", "experiments.sqlite"); }

namespace {
// Resets a kept statement when the scope ends: its read is over and its row buffers freed.
struct Reset {
    explicit Reset(Statement& statement) : s(statement) {}
    Reset(const Reset&) = delete;
    Reset& operator=(const Reset&) = delete;
    ~Reset() { s.reset(); }
    Statement& s;
};
const char* kSchema = R"SQL(
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS call_cache(
    key TEXT PRIMARY KEY, base_url TEXT, model TEXT, text TEXT NOT NULL, reasoning TEXT, finish_reason TEXT,
    prompt_tokens INTEGER, completion_tokens INTEGER, usage_estimated INTEGER, logprobs TEXT,
    created_at TEXT DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')));
CREATE TABLE IF NOT EXISTS generations(
    config_key TEXT NOT NULL, item_id TEXT NOT NULL, ok INTEGER NOT NULL, turns TEXT NOT NULL, error TEXT,
    cost_usd REAL, paid_usd REAL, cost_complete INTEGER, tflops REAL, wall_ms REAL, critical_path_ms REAL,
    prompt_tokens INTEGER, completion_tokens INTEGER, calls INTEGER, cached_calls INTEGER,
    created_at TEXT DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')),
    PRIMARY KEY(config_key, item_id));
CREATE TABLE IF NOT EXISTS judgments(
    judge_key TEXT NOT NULL, item_id TEXT NOT NULL, config_key TEXT NOT NULL, ref_key TEXT NOT NULL,
    preference REAL, score REAL, detail TEXT, raw TEXT, error TEXT, cost_usd REAL, paid_usd REAL, texts_key TEXT,
    created_at TEXT DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')),
    PRIMARY KEY(judge_key, item_id, config_key, ref_key));
CREATE TABLE IF NOT EXISTS experiments(
    path TEXT PRIMARY KEY, name TEXT, status TEXT,
    updated_at TEXT DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')));
)SQL";
// What to do about a damaged file (empty for other errors).
std::string damage_hint(const std::string& path, const Database& db) {
    if (!db.damaged()) return {};
    return "; the file is damaged: move it aside (mv '" + path + "' '" + path +
           ".damaged') and salvage it with: sqlite3 '" + path + ".damaged' .recover | sqlite3 '" + path + ".recovered'";
}
} // namespace

Result<std::shared_ptr<ExperimentStore>> ExperimentStore::open(const std::string& path) {
    std::shared_ptr<ExperimentStore> s(new ExperimentStore());
    s->path_ = path;
    std::error_code ec;
    auto dir = std::filesystem::path(path).parent_path();
    if (!dir.empty()) std::filesystem::create_directories(dir, ec);
    if (!s->db_.open(path)) return Error{path + ": cannot open the experiment database: " + s->db_.error()};
    if (!s->db_.exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;"))
        return Error{path + ": cannot set up the experiment database: " + s->db_.error()};
    if (!s->db_.exec(kSchema)) return Error{path + ": cannot create the experiment tables: " + s->db_.error()};
    {
        // Databases from before verdicts were tied to the texts judged get the column; their rows
        // have none, so they are judged again (the judge call itself comes from the cache).
        bool has = false;
        Statement cols(s->db_.handle(), "PRAGMA table_info(judgments)");
        while (cols.step()) has = has || cols.text(1) == "texts_key";
        if (!has && !s->db_.exec("ALTER TABLE judgments ADD COLUMN texts_key TEXT"))
            return Error{path + ": cannot update the experiment tables: " + s->db_.error()};
    }
    {
        // Results from before the time to first token was kept get the column, empty (NULL):
        // charts leave those results out of the first-token medians.
        bool has = false;
        Statement cols(s->db_.handle(), "PRAGMA table_info(generations)");
        while (cols.step()) has = has || cols.text(1) == "ttft_ms";
        if (!has && !s->db_.exec("ALTER TABLE generations ADD COLUMN ttft_ms REAL"))
            return Error{path + ": cannot update the experiment tables: " + s->db_.error()};
    }
    {
        // Results from before dropped agents were kept get the column, empty: read as none dropped.
        bool has = false;
        Statement cols(s->db_.handle(), "PRAGMA table_info(generations)");
        while (cols.step()) has = has || cols.text(1) == "degraded";
        if (!has && !s->db_.exec("ALTER TABLE generations ADD COLUMN degraded TEXT"))
            return Error{path + ": cannot update the experiment tables: " + s->db_.error()};
    }
    Statement v(s->db_.handle(), "SELECT value FROM meta WHERE key='schema_version'");
    const bool has_version = v.step();
    if (v.failed()) return Error{path + ": cannot read the experiment database (" + s->db_.error() + ")" + damage_hint(path, s->db_)};
    if (has_version) {
        int have = std::atoi(v.text(0).c_str());
        if (have > kExperimentSchemaVersion)
            return Error{path + ": the experiment database has schema version " + std::to_string(have) +
                         ", newer than this build understands (" + std::to_string(kExperimentSchemaVersion) +
                         "); use a newer MoA Workbench or another --db"};
    } else {
        Statement ins(s->db_.handle(), "INSERT INTO meta(key, value) VALUES('schema_version', ?)");
        ins.bind(1, std::to_string(kExperimentSchemaVersion)).run();
    }
    return s;
}

std::optional<engine::CachedAnswer> ExperimentStore::lookup(const std::string& key) {
    std::lock_guard<std::mutex> lock(mu_);
    Statement q(db_.handle(), "SELECT text, reasoning, finish_reason, prompt_tokens, completion_tokens, usage_estimated, "
                              "logprobs FROM call_cache WHERE key=?");
    q.bind(1, key);
    if (!q.step()) {
        if (q.failed()) note_read_error("a cached response");
        return std::nullopt;
    }
    engine::CachedAnswer a;
    a.text = q.text(0);
    a.reasoning = q.text(1);
    a.finish_reason = q.text(2);
    a.usage.prompt_tokens = static_cast<long>(q.i64(3));
    a.usage.completion_tokens = static_cast<long>(q.i64(4));
    a.usage.estimated = q.i64(5) != 0;
    json lp = json::parse(q.text(6), nullptr, false);
    if (lp.is_array())
        for (const auto& p : lp) {
            providers::TokenLogprobs t;
            t.token = p.value("token", "");
            t.logprob = p.value("logprob", 0.0);
            if (auto top = p.find("top"); top != p.end() && top->is_array())
                for (const auto& x : *top)
                    if (x.is_array() && x.size() == 2 && x[0].is_string() && x[1].is_number())
                        t.top.emplace_back(x[0].get<std::string>(), x[1].get<double>());
            a.logprobs.push_back(std::move(t));
        }
    ++hits_;
    return a;
}

void ExperimentStore::store(const std::string& key, const providers::CallRequest& r, const engine::CachedAnswer& a) {
    json lp = json::array();
    for (const auto& t : a.logprobs) {
        json top = json::array();
        for (const auto& [tok, l] : t.top) top.push_back({tok, l});
        lp.push_back({{"token", t.token}, {"logprob", t.logprob}, {"top", top}});
    }
    std::lock_guard<std::mutex> lock(mu_);
    Statement s(db_.handle(), "INSERT OR REPLACE INTO call_cache(key, base_url, model, text, reasoning, finish_reason, "
                              "prompt_tokens, completion_tokens, usage_estimated, logprobs) VALUES(?,?,?,?,?,?,?,?,?,?)");
    s.bind(1, key).bind(2, r.provider.base_url).bind(3, r.model).bind(4, a.text).bind(5, a.reasoning).bind(6, a.finish_reason)
        .bind(7, static_cast<std::int64_t>(a.usage.prompt_tokens)).bind(8, static_cast<std::int64_t>(a.usage.completion_tokens))
        .bind(9, a.usage.estimated ? 1 : 0).bind(10, lp.dump(-1, ' ', false, json::error_handler_t::replace));
    if (!s.run() && write_error_.empty()) write_error_ = path_ + ": cannot store a response: " + db_.error();
}

std::optional<Generation> ExperimentStore::generation(const std::string& ck, const std::string& item) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!generation_q_ || !generation_q_->ok())
        generation_q_ = std::make_unique<Statement>(
            db_.handle(), "SELECT ok, turns, error, cost_usd, paid_usd, cost_complete, tflops, wall_ms, critical_path_ms, "
                          "prompt_tokens, completion_tokens, calls, cached_calls, ttft_ms, degraded FROM generations WHERE config_key=? AND item_id=?");
    Statement& q = *generation_q_;
    Reset after(q); // ends the read, so the next one sees what was written since
    q.bind(1, ck).bind(2, item);
    if (!q.step()) {
        if (q.failed()) note_read_error("a result");
        return std::nullopt;
    }
    Generation g;
    g.config_key = ck;
    g.item_id = item;
    g.ok = q.i64(0) != 0;
    json t = json::parse(q.text(1), nullptr, false);
    if (t.is_array())
        for (const auto& x : t)
            if (x.is_string()) g.turns.push_back(x.get<std::string>());
    g.error = q.text(2);
    g.cost_usd = q.f64(3);
    g.paid_usd = q.f64(4);
    g.cost_complete = q.i64(5) != 0;
    g.tflops = q.f64(6);
    g.wall_ms = q.f64(7);
    g.critical_path_ms = q.f64(8);
    g.prompt_tokens = static_cast<long>(q.i64(9));
    g.completion_tokens = static_cast<long>(q.i64(10));
    g.calls = static_cast<int>(q.i64(11));
    g.cached_calls = static_cast<int>(q.i64(12));
    if (!q.is_null(13)) g.ttft_ms = q.f64(13);
    if (!q.is_null(14)) {
        json d = json::parse(q.text(14), nullptr, false);
        if (d.is_array())
            for (const auto& x : d)
                if (x.is_string()) g.degraded.push_back(x.get<std::string>());
    }
    return g;
}

Result<bool> ExperimentStore::put_generation(const Generation& g) {
    std::lock_guard<std::mutex> lock(mu_);
    Statement s(db_.handle(), "INSERT OR REPLACE INTO generations(config_key, item_id, ok, turns, error, cost_usd, paid_usd, "
                              "cost_complete, tflops, wall_ms, critical_path_ms, prompt_tokens, completion_tokens, calls, "
                              "cached_calls, ttft_ms, degraded) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    s.bind(1, g.config_key).bind(2, g.item_id).bind(3, g.ok ? 1 : 0)
        .bind(4, json(g.turns).dump(-1, ' ', false, json::error_handler_t::replace)).bind(5, g.error).bind(6, g.cost_usd)
        .bind(7, g.paid_usd).bind(8, g.cost_complete ? 1 : 0).bind(9, g.tflops).bind(10, g.wall_ms).bind(11, g.critical_path_ms)
        .bind(12, static_cast<std::int64_t>(g.prompt_tokens)).bind(13, static_cast<std::int64_t>(g.completion_tokens))
        .bind(14, g.calls).bind(15, g.cached_calls).bind(16, g.ttft_ms)
        .bind(17, json(g.degraded).dump(-1, ' ', false, json::error_handler_t::replace));
    if (!s.run()) return Error{path_ + ": cannot store a result: " + db_.error()};
    return true;
}

std::optional<Judgment> ExperimentStore::judgment(const std::string& jk, const std::string& item, const std::string& ck,
                                                  const std::string& rk) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!judgment_q_ || !judgment_q_->ok())
        judgment_q_ = std::make_unique<Statement>(db_.handle(), "SELECT preference, score, detail, raw, error, cost_usd, paid_usd, texts_key FROM judgments "
                                                                "WHERE judge_key=? AND item_id=? AND config_key=? AND ref_key=?");
    Statement& q = *judgment_q_;
    Reset after(q);
    q.bind(1, jk).bind(2, item).bind(3, ck).bind(4, rk);
    if (!q.step()) {
        if (q.failed()) note_read_error("a judgment");
        return std::nullopt;
    }
    Judgment j;
    j.judge_key = jk;
    j.item_id = item;
    j.config_key = ck;
    j.ref_key = rk;
    j.preference = q.opt_f64(0);
    j.score = q.opt_f64(1);
    j.detail = json::parse(q.text(2), nullptr, false);
    if (j.detail.is_discarded()) j.detail = json::object();
    j.raw = q.text(3);
    j.error = q.text(4);
    j.cost_usd = q.f64(5);
    j.paid_usd = q.f64(6);
    j.texts_key = q.text(7);
    return j;
}

Result<bool> ExperimentStore::put_judgment(const Judgment& j) {
    std::lock_guard<std::mutex> lock(mu_);
    Statement s(db_.handle(), "INSERT OR REPLACE INTO judgments(judge_key, item_id, config_key, ref_key, preference, score, "
                              "detail, raw, error, cost_usd, paid_usd, texts_key) VALUES(?,?,?,?,?,?,?,?,?,?,?,?)");
    s.bind(1, j.judge_key).bind(2, j.item_id).bind(3, j.config_key).bind(4, j.ref_key).bind(5, j.preference).bind(6, j.score)
        .bind(7, j.detail.dump(-1, ' ', false, json::error_handler_t::replace)).bind(8, j.raw).bind(9, j.error)
        .bind(10, j.cost_usd).bind(11, j.paid_usd).bind(12, j.texts_key);
    if (!s.run()) return Error{path_ + ": cannot store a judgment: " + db_.error()};
    return true;
}

void ExperimentStore::note_experiment(const std::string& path, const std::string& name, const std::string& status) {
    std::lock_guard<std::mutex> lock(mu_);
    Statement s(db_.handle(), "INSERT OR REPLACE INTO experiments(path, name, status) VALUES(?,?,?)");
    s.bind(1, path).bind(2, name).bind(3, status).run();
}

std::int64_t ExperimentStore::cache_entries() {
    std::lock_guard<std::mutex> lock(mu_);
    Statement q(db_.handle(), "SELECT count(*) FROM call_cache");
    if (q.step()) return q.i64(0);
    note_read_error("the response cache");
    return 0;
}

void ExperimentStore::note_read_error(const std::string& what) {
    // A read that fails is not a miss to pay for again silently: the run says so at its end.
    if (write_error_.empty()) write_error_ = path_ + ": cannot read " + what + " (" + db_.error() + ")" + damage_hint(path_, db_);
}

std::string ExperimentStore::write_error() const {
    std::lock_guard<std::mutex> lock(mu_);
    return write_error_;
}

} // namespace moa::store
