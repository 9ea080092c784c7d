// SPDX-License-Identifier: MIT
#include "eval/experiment_runner.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <random>

#include "accounting/estimate.h"
#include "eval/lc_variants.h"
#include "util/sha256.h"

namespace moa::eval {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

const char* to_string(ExperimentStatus s) {
    switch (s) {
    case ExperimentStatus::Running: return "running";
    case ExperimentStatus::Done: return "done";
    case ExperimentStatus::BudgetStopped: return "stopped at the budget";
    case ExperimentStatus::Cancelled: return "cancelled";
    }
    return "?";
}

struct ExperimentRunner::Task {
    enum class Kind { Gen, Judge } kind = Kind::Gen;
    int config = 0; // kReference for the reference configuration
    std::size_t item = 0;
    Variant variant = Variant::None; // with kReference: a baseline variant of the reference's answer
    enum class State { Pending, Running, Done } state = State::Pending;
    bool ok = false;
    double est = 0;
};

std::string ExperimentRunner::reference_key(const Experiment& e) {
    if (!e.reference) return "none";
    if (e.reference->kind == ReferenceSpec::Kind::Configuration && e.reference->config) return config_key(*e.reference->config);
    std::string all;
    for (const auto& [k, v] : e.reference->outputs) all += k + '\x1f' + v + '\x1e';
    return "outputs:" + util::sha256_hex(all).substr(0, 24);
}

std::string ExperimentRunner::judge_key(const Experiment& e) {
    json j{{"mode", e.judge.mode}, {"config", config_key(e.judge.config)}, {"labels", {e.judge.tmpl.label_1, e.judge.tmpl.label_2}},
           {"top_logprobs", e.judge.top_logprobs.value_or(0)}, {"seed", e.seed}};
    json m = json::array();
    for (const auto& msg : e.judge.tmpl.messages) m.push_back({msg.role, msg.content});
    j["template"] = m;
    j["skills"] = e.judge.skill_criteria;
    return util::sha256_hex(j.dump()).substr(0, 32);
}

std::string ExperimentRunner::texts_key(const PromptItem& item, const std::vector<std::string>& answer_turns,
                                        const std::string& reference) {
    json j{{"turns", item.turns}, {"answer", answer_turns}, {"reference", reference}, {"references", item.references}};
    return util::sha256_hex(j.dump(-1, ' ', false, json::error_handler_t::replace)).substr(0, 32);
}

ExperimentRunner::ReferenceAnswer ExperimentRunner::reference_answer(const Experiment& e, store::ExperimentStore& store,
                                                                     const PromptItem& item) {
    ReferenceAnswer r;
    if (!e.reference) return r;
    if (e.reference->kind == ReferenceSpec::Kind::Outputs) {
        auto it = e.reference->outputs.find(item.instruction());
        if (it != e.reference->outputs.end()) r.text = it->second, r.ok = true;
        else r.failed = "reference failed: the imported outputs have no answer for this instruction";
        return r;
    }
    auto g = store.generation(reference_key(e), item.id);
    if (!g) r.failed = "reference not generated yet";
    else if (!g->ok || g->turns.empty()) r.failed = "reference failed: " + (g->error.empty() ? std::string("no answer") : g->error);
    else r.text = g->turns.back(), r.ok = true;
    return r;
}

ExperimentRunner::ExperimentRunner(Experiment e, std::shared_ptr<store::ExperimentStore> store, const accounting::Catalog& catalog,
                                   net::Transport& transport)
    : e_(std::move(e)), store_(std::move(store)), catalog_(catalog), transport_(transport), engine_(catalog, transport),
      limiter_(std::make_shared<engine::RateLimiter>()) {
    for (const auto& c : e_.configs) config_keys_.push_back(config_key(c));
    ref_key_ = reference_key(e_);
    judge_key_ = judge_key(e_);
    const bool variants = e_.lc_variants && lc_variants_unavailable(e_).empty();
    for (Variant v : kVariants) variant_keys_[static_cast<int>(v)] = variant_key(e_, v);
    judge_config_ = e_.judge.config;
    if (e_.judge.mode == "pairwise" && e_.judge.top_logprobs && !judge_config_.layers.empty())
        judge_config_.layers[0].agents[0].params.top_logprobs = *e_.judge.top_logprobs;
    for (const auto& [name, l] : e_.rate_limits) limiter_->set_limit(name, l.requests_per_minute, l.tokens_per_minute);

    const bool ref_runs = e_.reference && e_.reference->kind == ReferenceSpec::Kind::Configuration && e_.reference->config;
    for (std::size_t i = 0; i < e_.prompts.items.size(); ++i) {
        if (ref_runs) tasks_.push_back({Task::Kind::Gen, kReference, i});
        for (int c = 0; c < static_cast<int>(e_.configs.size()); ++c) {
            tasks_.push_back({Task::Kind::Gen, c, i});
            tasks_.push_back({Task::Kind::Judge, c, i});
        }
        if (variants)
            for (Variant v : kVariants) {
                tasks_.push_back({Task::Kind::Gen, kReference, i, v});
                tasks_.push_back({Task::Kind::Judge, kReference, i, v});
            }
    }
    // What earlier sessions finished is done already.
    for (auto& t : tasks_) {
        const auto& item = e_.prompts.items[t.item];
        const std::string& ck = key_of(t);
        if (t.kind == Task::Kind::Gen) {
            auto g = store_->generation(ck, item.id);
            if (g && g->ok) t.state = Task::State::Done, t.ok = true;
        } else {
            // A verdict holds for the texts it judged: a changed answer or reference is judged again.
            auto j = store_->judgment(judge_key_, item.id, ck, ref_key_);
            auto g = store_->generation(ck, item.id);
            if (j && g && g->ok &&
                j->texts_key == texts_key(item, g->turns, e_.judge.mode == "pairwise" ? reference_answer(e_, *store_, item).text : ""))
                t.state = Task::State::Done, t.ok = j->error.empty();
        }
        if (t.state == Task::State::Done) ++prog_.resumed;
        t.est = estimate(t);
    }
    prog_.total = static_cast<int>(tasks_.size());
    prog_.done = prog_.resumed;
    // Before anything has finished, the rate limits alone say how long it takes at least.
    if (const double floor_s = rate_limit_wait_locked().seconds; floor_s > 0) prog_.eta_s = floor_s;
}

ExperimentRunner::RateLimitWait ExperimentRunner::rate_limit_wait() const {
    std::lock_guard<std::mutex> lock(mu_);
    return rate_limit_wait_locked();
}

ExperimentRunner::RateLimitWait ExperimentRunner::rate_limit_wait_locked() const {
    RateLimitWait w;
    if (e_.rate_limits.empty()) return w;
    std::map<std::string, long> calls; // per provider, in the tasks not done
    auto add = [&](const config::Config& c, long times) {
        for (const auto& L : c.layers)
            for (const auto& a : L.agents) calls[a.provider] += times;
    };
    for (const auto& t : tasks_) {
        if (t.state == Task::State::Done) continue;
        // One run per user turn (a baseline variant rewrites a turn, it adds none); one judge
        // call per turn when grading, one per answer in pairwise mode.
        const auto turns = static_cast<long>(std::max<std::size_t>(1, e_.prompts.items[t.item].turns.size()));
        if (t.kind == Task::Kind::Gen)
            add(t.config == kReference ? *e_.reference->config : e_.configs[static_cast<std::size_t>(t.config)], turns);
        else add(judge_config_, e_.judge.mode == "single" ? turns : 1);
    }
    for (const auto& [name, l] : e_.rate_limits) {
        // The limiter starts a call while fewer than the limit started in the last minute.
        const auto per_minute = static_cast<long>(std::floor(l.requests_per_minute));
        const auto it = calls.find(name);
        if (per_minute < 1 || it == calls.end()) continue;
        const long minutes = (it->second + per_minute - 1) / per_minute - 1;
        if (const double s = 60.0 * static_cast<double>(minutes); s > w.seconds) w = {s, name, it->second, per_minute};
    }
    return w;
}

ExperimentRunner::~ExperimentRunner() {
    cancel();
    if (thread_.joinable()) thread_.join();
}

std::pair<double, bool> ExperimentRunner::estimate_generation(const config::Config& c, const accounting::Catalog& catalog,
                                                              const std::vector<std::string>& turns) {
    std::string prompt;
    for (const auto& turn : turns) prompt += turn;
    auto est = accounting::estimate_run(c, catalog, prompt);
    return {est.cost_usd * static_cast<double>(turns.size()), est.cost_complete};
}

std::pair<double, bool> ExperimentRunner::estimate_judgement(const Experiment& e, const accounting::Catalog& catalog,
                                                             const PromptItem& item) {
    std::string prompt;
    for (const auto& turn : item.turns) prompt += turn;
    // A judge reads the instruction and two answers of about max_tokens each.
    std::string shown = prompt + std::string(static_cast<std::size_t>(accounting::kAssumedMaxTokens) * 8, 'x');
    auto est = accounting::estimate_run(e.judge.config, catalog, shown);
    return {est.cost_usd * static_cast<double>(e.judge.mode == "single" ? item.turns.size() : 1), est.cost_complete};
}

double ExperimentRunner::estimate(const Task& t) const {
    const auto& item = e_.prompts.items[t.item];
    if (t.kind == Task::Kind::Gen) {
        const auto& c = t.config == kReference ? *e_.reference->config : e_.configs[static_cast<std::size_t>(t.config)];
        return estimate_generation(c, catalog_, turns_of(t)).first;
    }
    return estimate_judgement(e_, catalog_, item).first;
}

const std::string& ExperimentRunner::key_of(const Task& t) const {
    if (t.variant != Variant::None) return variant_keys_[static_cast<int>(t.variant)];
    return t.config == kReference ? ref_key_ : config_keys_[static_cast<std::size_t>(t.config)];
}

std::vector<std::string> ExperimentRunner::turns_of(const Task& t) const { return variant_turns(e_.prompts.items[t.item], t.variant); }

std::string ExperimentRunner::name_of(const Task& t) const {
    if (t.config != kReference) return e_.configs[static_cast<std::size_t>(t.config)].name;
    return t.variant == Variant::None ? std::string("reference") : std::string("reference (") + to_string(t.variant) + " variant)";
}

void ExperimentRunner::start(std::function<void(const ExperimentProgress&)> on_progress, engine::RunOptions options) {
    on_progress_ = std::move(on_progress);
    options_ = std::move(options);
    options_.cache = store_;
    auto limiter = limiter_;
    options_.throttle = [limiter](const std::string& p, long tokens) { return limiter->admit(p, tokens); };
    t0_ = Clock::now();
    store_->note_experiment(e_.path, e_.name, "running");
    thread_ = std::thread([this] { loop(); });
}

void ExperimentRunner::pause() {
    std::lock_guard<std::mutex> lock(mu_);
    paused_ = true;
    prog_.paused = true;
    cv_.notify_all();
}

void ExperimentRunner::resume() {
    std::lock_guard<std::mutex> lock(mu_);
    paused_ = false;
    prog_.paused = false;
    cv_.notify_all();
}

void ExperimentRunner::cancel() {
    std::vector<std::shared_ptr<engine::Run>> runs;
    {
        std::lock_guard<std::mutex> lock(mu_);
        if (cancelled_ || finished_) return;
        cancelled_ = true;
        runs = runs_;
        cv_.notify_all();
    }
    for (auto& r : runs) r->cancel();
}

ExperimentOutcome ExperimentRunner::wait() {
    if (thread_.joinable()) thread_.join();
    std::lock_guard<std::mutex> lock(mu_);
    return outcome_;
}

bool ExperimentRunner::finished() const {
    std::lock_guard<std::mutex> lock(mu_);
    return finished_;
}

ExperimentProgress ExperimentRunner::progress() const {
    std::lock_guard<std::mutex> lock(mu_);
    return prog_;
}

bool ExperimentRunner::ready(const Task& t) const {
    if (t.state != Task::State::Pending) return false;
    if (t.kind == Task::Kind::Gen) return true;
    // A judgment needs the configuration's (or the variant's) answer and the reference's.
    for (const auto& o : tasks_)
        if (o.kind == Task::Kind::Gen && o.item == t.item &&
            ((o.config == t.config && o.variant == t.variant) || (o.config == kReference && o.variant == Variant::None)) &&
            o.state != Task::State::Done)
            return false;
    return true;
}

void ExperimentRunner::report() {
    ExperimentProgress p;
    {
        std::lock_guard<std::mutex> lock(mu_);
        p = prog_;
    }
    if (on_progress_) on_progress_(p);
}

void ExperimentRunner::loop() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
        if (cancelled_) {
            cv_.wait(lock, [this] { return prog_.running == 0; });
            outcome_.status = ExperimentStatus::Cancelled;
            outcome_.message = "what had finished is kept, and running the experiment again resumes it";
            break;
        }
        std::size_t pick = tasks_.size();
        bool any_pending = false;
        for (std::size_t i = 0; i < tasks_.size(); ++i) {
            if (tasks_[i].state == Task::State::Pending) any_pending = true;
            if (pick == tasks_.size() && ready(tasks_[i])) pick = i;
        }
        if (!any_pending && prog_.running == 0) {
            outcome_.status = ExperimentStatus::Done;
            break;
        }
        if (pick < tasks_.size() && !paused_ && prog_.running < e_.concurrency) {
            Task& t = tasks_[pick];
            if (e_.budget_usd > 0 && prog_.spent_usd + reserved_usd_ + t.est > e_.budget_usd) {
                if (prog_.running > 0) {
                    cv_.wait(lock); // spending may settle below the estimate; look again when a task ends
                    continue;
                }
                char buf[256];
                std::snprintf(buf, sizeof buf,
                              "stopped before the budget of $%.4f would be passed: $%.4f spent, the next task is estimated at "
                              "$%.4f; raise budget_usd and run again to continue (nothing finished is paid for twice)",
                              e_.budget_usd, prog_.spent_usd, t.est);
                outcome_.status = ExperimentStatus::BudgetStopped;
                outcome_.message = buf;
                break;
            }
            t.state = Task::State::Running;
            reserved_usd_ += t.est;
            ++prog_.running;
            launch(t);
            continue;
        }
        cv_.wait(lock);
    }
    // The last task's report() runs after its count went down: the runner (which the caller may
    // destroy once wait() returns) must outlive it.
    cv_.wait(lock, [this] { return reporting_ == 0; });
    finished_ = true;
    outcome_.progress = prog_;
    const char* status = to_string(outcome_.status);
    lock.unlock();
    store_->note_experiment(e_.path, e_.name, status);
    if (auto w = store_->write_error(); !w.empty()) {
        std::lock_guard<std::mutex> l(mu_);
        outcome_.message += (outcome_.message.empty() ? "" : "; ") + w;
    }
    report();
}

// Called with mu_ held.
void ExperimentRunner::launch(Task& t) {
    const std::size_t idx = static_cast<std::size_t>(&t - tasks_.data());
    if (t.kind == Task::Kind::Gen) {
        store::Generation g;
        g.config_key = key_of(t);
        g.item_id = e_.prompts.items[t.item].id;
        g.ok = true;
        run_generation_turn(idx, 0, std::move(g));
    } else {
        run_judge(idx);
    }
}

void ExperimentRunner::run_generation_turn(std::size_t ti, std::size_t turn, store::Generation g) {
    const Task& t = tasks_[ti];
    const auto turns = turns_of(t);
    const auto& cfg = t.config == kReference ? *e_.reference->config : e_.configs[static_cast<std::size_t>(t.config)];
    engine::RunInput in;
    for (std::size_t k = 0; k <= turn; ++k) {
        in.conversation.push_back({"user", turns[k]});
        if (k < turn) in.conversation.push_back({"assistant", g.turns[k]});
    }
    auto sink = [this, ti, turn, g](const engine::Event& ev) mutable {
        if (!ev.final_record) return;
        const engine::RunRecord& r = *ev.final_record;
        note_unpriced(r);
        for (const auto& L : r.layers)
            for (const auto& a : L.agents) {
                if (a.attempts == 0 && !a.cached) continue;
                ++g.calls;
                if (a.cached) ++g.cached_calls;
                if (a.cost_usd && !a.cached) g.paid_usd += *a.cost_usd;
            }
        g.cost_usd += r.totals.cost_usd;
        g.cost_complete = g.cost_complete && r.totals.cost_complete;
        g.tflops += r.totals.tflops;
        g.wall_ms += r.totals.wall_ms;
        // Summed over the turns like the wall time; a turn without a first token unsets it.
        if (turn == 0) g.ttft_ms = r.totals.ttft_ms;
        else if (g.ttft_ms && r.totals.ttft_ms) *g.ttft_ms += *r.totals.ttft_ms;
        else g.ttft_ms.reset();
        g.critical_path_ms += r.totals.critical_path_ms;
        // The agents this turn went without, counted as engine::outcome counts them, so the
        // results say which answers were not made by the whole configuration.
        if (r.status == engine::RunStatus::Done)
            for (const auto& L : r.layers)
                for (const auto& a : L.agents) {
                    const bool dropped = a.state == engine::AgentState::Dropped || a.state == engine::AgentState::Failed;
                    if (!dropped && a.state != engine::AgentState::Cut) continue;
                    std::string line = (turn > 0 ? "turn " + std::to_string(turn + 1) + ": " : std::string()) + "L" +
                                       std::to_string(a.layer + 1) + "." + std::to_string(a.index + 1) +
                                       (dropped ? " dropped" : " cut") + " (" + a.model + ")";
                    if (a.error && !a.error->empty()) line += ": " + *a.error;
                    g.degraded.push_back(std::move(line));
                }
        g.prompt_tokens += r.totals.prompt_tokens;
        g.completion_tokens += r.totals.completion_tokens;
        bool ok = r.status == engine::RunStatus::Done && r.final_text;
        if (ok) g.turns.push_back(*r.final_text);
        const auto& items = e_.prompts.items;
        if (ok && turn + 1 < items[tasks_[ti].item].turns.size()) {
            std::lock_guard<std::mutex> lock(mu_);
            if (!cancelled_) {
                run_generation_turn(ti, turn + 1, g);
                return;
            }
        }
        if (r.status == engine::RunStatus::Cancelled) {
            finish_task(ti, true, g.paid_usd, "cancelled");
            return;
        }
        g.ok = ok && g.turns.size() == items[tasks_[ti].item].turns.size();
        if (!g.ok) g.error = r.error.empty() ? "the run did not finish" : r.error;
        auto stored = store_->put_generation(g);
        std::string what = name_of(tasks_[ti]) + " on " + g.item_id + (g.ok ? "" : ": failed: " + g.error);
        if (!stored) what += "; " + stored.error();
        finish_task(ti, !g.ok || !stored, g.paid_usd, what);
    };
    auto opts = options_;
    if (!e_.cache_generations) opts.cache = nullptr; // measured afresh (a latency sweep)
    auto run = engine_.start(cfg, std::move(in), sink, opts);
    runs_.push_back(run);
}

void ExperimentRunner::judge_call(std::size_t, std::vector<providers::Message> messages,
                                  std::function<void(const engine::RunRecord&)> done) {
    engine::RunInput in;
    in.conversation = std::move(messages);
    auto sink = [this, done](const engine::Event& ev) {
        if (!ev.final_record) return;
        note_unpriced(*ev.final_record);
        done(*ev.final_record);
    };
    runs_.push_back(engine_.start(judge_config_, std::move(in), sink, options_));
}

namespace {
double paid_of(const engine::RunRecord& r) {
    double p = 0;
    for (const auto& L : r.layers)
        for (const auto& a : L.agents)
            if (a.cost_usd && !a.cached) p += *a.cost_usd;
    return p;
}
const engine::AgentRecord* judge_answer(const engine::RunRecord& r) {
    if (r.layers.empty() || r.layers[0].agents.empty()) return nullptr;
    return &r.layers[0].agents[0];
}
// The judge's answer with its cost noted in `j`; null (and `j.error` set) when the call failed.
const engine::AgentRecord* judged_answer(const engine::RunRecord& r, store::Judgment& j) {
    const auto* a = judge_answer(r);
    j.cost_usd = r.totals.cost_usd;
    if (r.status != engine::RunStatus::Done || !a) {
        j.error = "the judge call failed: " + r.error;
        return nullptr;
    }
    j.raw = a->text;
    return a;
}
} // namespace

// Called with mu_ held.
void ExperimentRunner::run_judge(std::size_t ti) {
    const Task& t = tasks_[ti];
    const auto& item = e_.prompts.items[t.item];
    const std::string ck = key_of(t);
    auto gen = store_->generation(ck, item.id);
    store::Judgment j;
    j.judge_key = judge_key_;
    j.item_id = item.id;
    j.config_key = ck;
    j.ref_key = ref_key_;
    const std::string what = "judge: " + name_of(t) + " on " + item.id;
    if (!gen || !gen->ok) {
        // No answer to judge: nothing is stored, so a later run tries again.
        transport_.post([this, ti, what] { finish_task(ti, true, 0, what + ": the configuration has no answer"); });
        return;
    }
    auto finish = [this, ti, what](store::Judgment jj, double paid) {
        // A verdict (even an unreadable one) is final and kept; a judge call that failed is not
        // stored, so running the experiment again asks again.
        Result<bool> stored = true;
        if (jj.error.rfind("the judge call failed", 0) != 0) stored = store_->put_judgment(jj);
        finish_task(ti, !jj.error.empty() || !stored, paid,
                    what + (jj.error.empty() ? "" : ": " + jj.error) + (stored ? "" : "; " + stored.error()));
    };

    if (e_.judge.mode == "pairwise") {
        auto reference = reference_answer(e_, *store_, item);
        if (!reference.ok) {
            // Nothing is judged against a failed reference: no verdict is stored, so the next
            // run generates the reference again and judges then.
            transport_.post([this, ti, what, why = reference.failed] { finish_task(ti, true, 0, what + ": " + why); });
            return;
        }
        const std::string ref = reference.text;
        j.texts_key = texts_key(item, gen->turns, ref);
        const std::string& out = gen->turns.back();
        if (out == ref) {
            j.preference = 1.5;
            j.detail = {{"method", "identical outputs: a draw without a judge call"}};
            transport_.post([finish, j] { finish(j, 0); });
            return;
        }
        // The order shown to the judge: random per (seed, prompt, configuration), recorded, undone below.
        std::seed_seq seq{static_cast<unsigned>(e_.seed), static_cast<unsigned>(e_.seed >> 32),
                          static_cast<unsigned>(std::hash<std::string>{}(item.id + '\x1f' + ck))};
        std::mt19937 rng(seq);
        const bool swapped = (rng() & 1u) != 0;
        auto msgs = fill(e_.judge.tmpl, {{"instruction", item.instruction()},
                                         {"output_1", swapped ? out : ref},
                                         {"output_2", swapped ? ref : out}});
        auto tmpl = e_.judge.tmpl;
        judge_call(ti, std::move(msgs), [j, swapped, tmpl, finish](const engine::RunRecord& r) mutable {
            const auto* a = judged_answer(r, j);
            if (!a) return finish(j, paid_of(r));
            auto v = read_pairwise(tmpl, a->text, a->logprobs);
            j.detail = {{"swapped", swapped}, {"method", v.method}};
            if (v.preference) {
                j.detail["shown_preference"] = *v.preference;
                j.preference = swapped ? 3.0 - *v.preference : *v.preference;
            } else {
                j.error = "unreadable verdict: " + v.why;
            }
            finish(j, paid_of(r));
        });
        return;
    }

    if (e_.judge.mode != "pairwise") j.texts_key = texts_key(item, gen->turns, "");
    if (e_.judge.mode == "single") {
        // One grade per turn, each seeing the conversation up to that turn; reference-guided
        // (math, reasoning, coding) when the item has a reference for that turn.
        struct Acc {
            std::vector<double> scores;
            std::string raw;
            double cost = 0, paid = 0;
            std::string error;
        };
        auto acc = std::make_shared<Acc>();
        auto item_copy = item;
        auto turns = gen->turns;
        auto tmpl = e_.judge.tmpl;
        auto step = std::make_shared<std::function<void(std::size_t)>>();
        std::weak_ptr<std::function<void(std::size_t)>> weak = step;
        *step = [this, ti, acc, item_copy, turns, tmpl, j, finish, weak](std::size_t k) mutable {
            std::string conv;
            for (std::size_t q = 0; q <= k; ++q)
                conv += "[User]\n" + item_copy.turns[q] + "\n\n[Assistant]\n" + turns[q] + "\n\n";
            std::string refblock;
            static const std::vector<std::string> guided = {"math", "reasoning", "coding"};
            bool use_ref = k < item_copy.references.size() && !item_copy.references[k].empty() &&
                           (item_copy.category.empty() ||
                            std::find(guided.begin(), guided.end(), item_copy.category) != guided.end());
            if (use_ref) refblock = "\n[Reference answer to the last question]\n" + item_copy.references[k] + "\n";
            auto msgs = fill(tmpl, {{"conversation", conv}, {"reference_block", refblock}});
            auto self_step = weak.lock();
            judge_call(ti, std::move(msgs), [this, acc, k, turns, j, finish, self_step](const engine::RunRecord& r) mutable {
                const auto* a = judge_answer(r);
                acc->cost += r.totals.cost_usd;
                acc->paid += paid_of(r);
                if (r.status != engine::RunStatus::Done || !a) acc->error = "the judge call failed: " + r.error;
                else {
                    acc->raw += (acc->raw.empty() ? "" : "\n---\n") + a->text;
                    if (auto s = read_rating(a->text)) acc->scores.push_back(*s);
                    else acc->error = "unreadable grade for turn " + std::to_string(k + 1) + ": no \"[[N]]\" with N in 1..10";
                }
                if (acc->error.empty() && k + 1 < turns.size()) {
                    std::lock_guard<std::mutex> lock(mu_);
                    if (!cancelled_ && self_step) {
                        (*self_step)(k + 1);
                        return;
                    }
                }
                j.cost_usd = acc->cost;
                j.raw = acc->raw;
                j.error = acc->error;
                j.detail = {{"turn_scores", acc->scores}};
                if (acc->error.empty() && !acc->scores.empty()) {
                    double s = 0;
                    for (double x : acc->scores) s += x;
                    j.score = s / static_cast<double>(acc->scores.size());
                }
                finish(j, acc->paid);
            });
        };
        // Each call's callback holds the step function until the next turn has started.
        (*step)(0);
        return;
    }

    // skills (FLASK)
    std::vector<std::string> skills = item.skills.empty() ? flask_skills() : item.skills;
    std::string list;
    for (const auto& s : skills) {
        auto c = e_.judge.skill_criteria.find(s);
        list += "- " + s + (c != e_.judge.skill_criteria.end() && !c->second.empty() ? ": " + c->second : "") + "\n";
    }
    std::string refblock = item.references.empty() ? "" : "\nReference answer:\n<<<\n" + item.references[0] + "\n>>>\n";
    auto msgs = fill(e_.judge.tmpl, {{"instruction", item.instruction()}, {"output", gen->turns.back()},
                                     {"skills", list}, {"reference_block", refblock}});
    judge_call(ti, std::move(msgs), [j, skills, finish](const engine::RunRecord& r) mutable {
        const auto* a = judged_answer(r, j);
        if (!a) return finish(j, paid_of(r));
        auto grades = read_skill_grades(a->text, skills);
        json sk = json::object();
        double sum = 0;
        for (const auto& [s, g] : grades) {
            sk[s] = g;
            sum += g;
        }
        j.detail = {{"skills", sk}};
        if (grades.empty()) j.error = "unreadable verdict: no \"<skill>: <1-5>\" lines";
        else j.score = sum / static_cast<double>(grades.size());
        finish(j, paid_of(r));
    });
}

void ExperimentRunner::note_unpriced(const engine::RunRecord& r) {
    // The engine's own definition of a complete cost (every call made has a price).
    if (r.totals.cost_complete) return;
    std::lock_guard<std::mutex> lock(mu_);
    prog_.spent_complete = false;
}

void ExperimentRunner::finish_task(std::size_t ti, bool failed, double paid, const std::string& what) {
    {
        std::lock_guard<std::mutex> lock(mu_);
        Task& t = tasks_[ti];
        if (t.state == Task::State::Done) return;
        reserved_usd_ -= t.est;
        prog_.spent_usd += paid;
        --prog_.running;
        if (what == "cancelled" || cancelled_) {
            t.state = Task::State::Pending; // not finished: a later session does it
        } else {
            t.state = Task::State::Done;
            t.ok = !failed;
            ++prog_.done;
            ++done_this_session_;
            if (failed) {
                ++prog_.failed;
                if (prog_.errors.size() < 5 && std::find(prog_.errors.begin(), prog_.errors.end(), what) == prog_.errors.end())
                    prog_.errors.push_back(what);
            }
        }
        prog_.last = what;
        const double elapsed = std::chrono::duration<double>(Clock::now() - t0_).count();
        const int left = prog_.total - prog_.done;
        prog_.eta_s = done_this_session_ > 0 ? elapsed / done_this_session_ * left : -1;
        // What finished first went at once; the rate limiter holds what is left (1 request a
        // minute made a 3-hour run say "ETA 40s").
        if (left > 0) prog_.eta_s = std::max(prog_.eta_s, rate_limit_wait_locked().seconds);
        else prog_.eta_s = 0;
        // Forget finished runs (their records were consumed above).
        runs_.erase(std::remove_if(runs_.begin(), runs_.end(), [](const auto& r) { return r->finished(); }), runs_.end());
        ++reporting_;
        cv_.notify_all();
    }
    report();
    {
        std::lock_guard<std::mutex> lock(mu_);
        --reporting_;
    }
    cv_.notify_all();
}

} // namespace moa::eval
