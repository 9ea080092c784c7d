// SPDX-License-Identifier: MIT
#include "engine/engine.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <deque>
#include <map>

#include "accounting/estimate.h"
#include "engine/prompt_builder.h"
#include "engine/run_state.h"
#include "providers/chat_call.h"

namespace moa::engine {

std::string key_from_environment(const config::Provider& p) {
    if (p.api_key_env.empty()) return {};
    const char* v = std::getenv(p.api_key_env.c_str());
    return v ? std::string(v) : std::string();
}

namespace {
std::atomic<std::uint64_t> g_next_run{1};
} // namespace

Engine::Engine(const accounting::Catalog& catalog, net::Transport& transport)
    : catalog_(catalog), transport_(transport) {}

std::shared_ptr<Run> Engine::start(const config::Config& config, RunInput input, EventSink sink, RunOptions options) {
    if (!options.key_for) options.key_for = key_from_environment;
    std::shared_ptr<Run> run(new Run(g_next_run++, *this, config, std::move(input), std::move(sink), std::move(options)));
    auto self = run;
    transport_.post([self] { self->begin(); });
    return run;
}

Run::Run(std::uint64_t id, Engine& engine, const config::Config& config, RunInput input, EventSink sink,
         RunOptions options)
    : id_(id), s_(std::make_unique<State>(engine, config, std::move(sink), std::move(options))) {
    s_->rec.id = id;
    s_->rec.config_name = config.name;
    s_->rec.input = std::move(input);
    // Keys out of what is sent and stored: the input here, each layer's messages as they are built.
    s_->redaction = PromptRedaction(config, s_->options.key_for);
    s_->redaction.apply(s_->rec.input.conversation);
    for (std::size_t li = 0; li < config.layers.size(); ++li) {
        LayerRecord L;
        for (std::size_t ai = 0; ai < config.layers[li].agents.size(); ++ai) {
            const auto& a = config.layers[li].agents[ai];
            AgentRecord r;
            r.layer = static_cast<int>(li);
            r.index = static_cast<int>(ai);
            r.provider = a.provider;
            r.model = a.model;
            const auto* p = config.provider(a.provider);
            r.demo = p && p->type == config::ProviderType::Demo;
            L.agents.push_back(std::move(r));
        }
        s_->rec.layers.push_back(std::move(L));
    }
    const std::size_t n = config.layers.size();
    s_->slots.resize(n);
    s_->pending.assign(n, 0);
    s_->layer_started.assign(n, 0);
    s_->layer_finished.assign(n, 0);
    s_->deadline_passed.assign(n, 0);
}

Run::~Run() = default;

bool Run::finished() const {
    std::lock_guard<std::mutex> lock(mu_);
    return finished_;
}

void Run::wait() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return finished_; });
}

bool Run::wait_for(std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [this] { return finished_; });
}

RunRecord Run::record() const {
    std::lock_guard<std::mutex> lock(mu_);
    return s_->rec;
}

// ---- everything below runs on the transport thread ----

void Run::publish(Event e, std::optional<double> at) {
    e.run = id_;
    e.t_ms = at ? *at : s_->now_ms();
    if (s_->sink) s_->sink(e);
}

void Run::begin() {
    s_->t0 = Clock::now();
    Event e;
    e.type = Event::Type::RunStarted;
    e.input = std::make_shared<const RunInput>(s_->rec.input);
    publish(std::move(e));
    start_layer(0);
}

void Run::start_layer(int li) {
    State& s = *s_;
    s.layer_started[static_cast<std::size_t>(li)] = 1;
    const auto& layer = s.config.layers[static_cast<std::size_t>(li)];
    std::optional<References> refs;
    if (li > 0) {
        bool complete = false;
        refs = references_for(li, complete);
    }
    {
        std::lock_guard<std::mutex> lock(mu_);
        auto& L = s.rec.layers[static_cast<std::size_t>(li)];
        L.start_ms = s.now_ms();
        for (std::size_t ai = 0; ai < layer.agents.size(); ++ai) {
            L.agents[ai].messages = build_messages(s.config, layer.agents[ai], s.rec.input, refs ? &*refs : nullptr,
                                                   aggregation_template_for(s.config, static_cast<std::size_t>(li)));
            s.redaction.apply(L.agents[ai].messages);
        }
    }
    Event ls;
    ls.type = Event::Type::LayerStarted;
    ls.layer = li;
    publish(std::move(ls));
    auto& slots = s.slots[static_cast<std::size_t>(li)];
    slots.assign(layer.agents.size(), State::Slot{});
    {
        // Identical agents (one model sampled n times) are n samples, numbered in config order so
        // that a re-run keys each one as before whatever order the calls start in.
        std::lock_guard<std::mutex> lock(mu_);
        for (std::size_t ai = 0; ai < layer.agents.size(); ++ai) {
            auto req = request_for(li, static_cast<int>(ai));
            slots[ai].sample = s.identical_calls[cache_key(req)]++;
        }
    }
    s.pending[static_cast<std::size_t>(li)] = static_cast<int>(layer.agents.size());
    if (layer.deadline_ms && !s.last_layer(li)) {
        // Weak: a run that ended long before its deadline is not kept alive by the timer.
        std::weak_ptr<Run> weak = shared_from_this();
        s.engine.transport().schedule(std::chrono::milliseconds(*layer.deadline_ms), [weak, li] {
            auto self = weak.lock();
            if (!self) return;
            State& s = *self->s_;
            if (s.over || s.layer_finished[static_cast<std::size_t>(li)]) return;
            s.deadline_passed[static_cast<std::size_t>(li)] = 1;
            self->check_quorum(li);
        });
    }
    for (std::size_t ai = 0; ai < layer.agents.size(); ++ai) {
        Event q;
        q.type = Event::Type::AgentQueued;
        q.layer = li;
        q.agent = static_cast<int>(ai);
        publish(std::move(q));
        s.waiting[layer.agents[ai].provider].emplace_back(li, static_cast<int>(ai));
    }
    std::vector<std::string> providers;
    for (const auto& [name, _] : s.waiting) providers.push_back(name);
    for (const auto& p : providers) pump(p);
}

// The request of agent `ai` of layer `li`, without its key. Called with mu_ held.
providers::CallRequest Run::request_for(int li, int ai) const {
    const State& s = *s_;
    const auto& agent = s.agent_config(li, ai);
    providers::CallRequest req;
    req.provider = *s.config.provider(agent.provider);
    req.model = agent.model;
    req.params = agent.params;
    req.messages = s.rec.layers[static_cast<std::size_t>(li)].agents[static_cast<std::size_t>(ai)].messages;
    return req;
}

// Starts waiting agents of `provider` while it has free slots (its max_concurrency).
void Run::pump(const std::string& provider) {
    State& s = *s_;
    const auto* p = s.config.provider(provider);
    int limit = p ? p->max_concurrency : 1;
    auto& q = s.waiting[provider];
    while (!s.over && !q.empty() && s.active[provider] < limit) {
        auto [li, ai] = q.front();
        q.pop_front();
        auto& slot = s.slot(li, ai);
        if (slot.finished) continue; // cut while it waited
        ++s.active[provider];
        slot.holds_provider = true;
        launch(li, ai);
    }
}

void Run::launch(int li, int ai) {
    State& s = *s_;
    if (stepping(li)) {
        s.slot(li, ai).in_step = true;
        start_step(li, ai);
        return;
    }
    const auto& agent = s.agent_config(li, ai);
    if (s.options.throttle) {
        long tokens = agent.params.max_tokens.value_or(512);
        {
            std::lock_guard<std::mutex> lock(mu_);
            for (const auto& m : s.agent(li, ai).messages) tokens += static_cast<long>(m.content.size() / 4);
        }
        if (long wait = s.options.throttle(agent.provider, tokens); wait > 0) {
            auto self = shared_from_this();
            s.engine.transport().schedule(std::chrono::milliseconds(wait), [self, li, ai] {
                if (!self->s_->over && !self->s_->slot(li, ai).finished) self->launch(li, ai);
            });
            return;
        }
    }
    auto& slot = s.slot(li, ai);
    slot.launched = true;
    slot.started = Clock::now();

    providers::CallRequest req;
    {
        std::lock_guard<std::mutex> lock(mu_);
        req = request_for(li, ai);
        s.agent(li, ai).start_ms = s.now_ms();
    }
    providers::CallEvents ev;
    ev.on_attempt = [this, li, ai] {
        State& s = *s_;
        int attempt;
        std::optional<AgentRecord> snapshot;
        {
            std::lock_guard<std::mutex> lock(mu_);
            auto& a = s.agent(li, ai);
            attempt = ++a.attempts;
            a.state = AgentState::Waiting;
            if (attempt == 1) snapshot = a;
        }
        if (attempt == 1) {
            Event e;
            e.type = Event::Type::AgentStarted;
            e.layer = li;
            e.agent = ai;
            e.attempt = attempt;
            e.record = std::move(snapshot);
            publish(std::move(e));
        }
    };
    ev.on_delta = [this, li, ai](std::string_view content, std::string_view reasoning) {
        State& s = *s_;
        auto& slot = s.slot(li, ai);
        {
            std::lock_guard<std::mutex> lock(mu_);
            auto& a = s.agent(li, ai);
            if (!slot.first_token) {
                slot.first_token = true;
                a.ttft_ms = ms_between(slot.started, Clock::now());
            }
            a.state = AgentState::Streaming;
            a.text.append(content);
            a.reasoning.append(reasoning);
            // When the text grew, for replays: a sample every 25 ms at most, 4096 at most.
            const double now = s.now_ms();
            if (!content.empty() && a.timeline.size() < 4096 &&
                (a.timeline.empty() || now - a.timeline.back().first >= 25.0))
                a.timeline.emplace_back(now, a.text.size());
            if (!content.empty() && s.last_layer(li) && !s.selects(li) && ai == 0 && !s.final_ttft_ms) s.final_ttft_ms = now;
        }
        Event e;
        e.type = Event::Type::AgentDelta;
        e.layer = li;
        e.agent = ai;
        e.text.assign(content);
        e.reasoning.assign(reasoning);
        publish(std::move(e));
        if (!content.empty() && !s.last_layer(li)) references_changed(li + 1);
    };
    ev.on_done = [this, li, ai](const providers::CallOutcome& o) { agent_finished(li, ai, o); };
    start_call(li, ai, std::move(req), std::move(ev));
}

// Starts the agent's call (a whole answer, or one step of a staircase) with its key. `ev`'s
// handlers run only while this is still the agent's call (not cut, cancelled or followed by a
// next step); a retry is told the same way for both.
void Run::start_call(int li, int ai, providers::CallRequest req, providers::CallEvents ev) {
    State& s = *s_;
    auto& slot = s.slot(li, ai);
    req.api_key = s.options.key_for(req.provider);
    const int id = ++slot.call_id;
    // The handlers capture `this`: `current`, in every wrapper, holds the run alive.
    auto self = shared_from_this();
    auto current = [self, li, ai, id] {
        State& s = *self->s_;
        return !s.over && !s.slot(li, ai).finished && s.slot(li, ai).call_id == id;
    };
    providers::CallEvents wrapped;
    wrapped.on_attempt = [current, f = std::move(ev.on_attempt)] {
        if (current()) f();
    };
    wrapped.on_delta = [current, f = std::move(ev.on_delta)](std::string_view content, std::string_view reasoning) {
        if (current()) f(content, reasoning);
    };
    wrapped.on_retry = [self, li, ai, current](int next_attempt, long delay_ms, const std::string& why) {
        if (!current()) return;
        State& s = *self->s_;
        {
            std::lock_guard<std::mutex> lock(self->mu_);
            s.agent(li, ai).state = AgentState::Retrying;
        }
        Event e;
        e.type = Event::Type::AgentRetry;
        e.layer = li;
        e.agent = ai;
        e.attempt = next_attempt;
        e.delay_ms = delay_ms;
        e.message = why;
        self->publish(std::move(e));
    };
    wrapped.on_done = [current, f = std::move(ev.on_done)](const providers::CallOutcome& o) {
        if (current()) f(o);
    };
    slot.call = start_cached_call(s.engine.transport(), s.options.cache, std::move(req), std::move(wrapped), slot.sample);
}

void Run::agent_finished(int li, int ai, const providers::CallOutcome& o) {
    State& s = *s_;
    auto& slot = s.slot(li, ai);
    if (slot.finished) return;
    slot.finished = true;
    slot.call.reset();
    const auto& agent = s.agent_config(li, ai);
    AgentRecord snapshot;
    {
        std::lock_guard<std::mutex> lock(mu_);
        auto& a = s.agent(li, ai);
        a.end_ms = s.now_ms();
        a.duration_ms = ms_between(slot.started, Clock::now());
        a.usage = o.usage;
        // A failed call that produced nothing (an HTTP error, no connection, a stream cut before
        // its first token) was not billed: no tokens, $0. A cut stream keeps its prompt and what
        // arrived; usage the provider reported is kept as reported.
        if (!o.ok && !o.cancelled && !o.cached && a.text.empty() && a.reasoning.empty() && o.usage.estimated) {
            a.usage = providers::Usage{};
            a.not_billed = true;
        }
        a.attempts = std::max(a.attempts, o.attempts);
        a.finish_reason = o.finish_reason;
        a.cached = o.cached;
        a.logprobs = o.logprobs;
        auto cost = accounting::cost_for(s.engine.catalog(), s.config, agent.provider, agent.model, a.usage);
        a.cost_usd = cost.usd;
        a.tflops = cost.tflops;
        // Nothing billed is $0 and no compute, whether or not the model has a price: one such
        // call must not make the run's cost "unknown".
        if (a.not_billed) a.cost_usd = 0.0, a.tflops = 0.0;
        set_output_rate(a);
        if (o.ok && a.text.empty()) {
            a.state = AgentState::Failed;
            a.error = "provider \"" + agent.provider + "\" (model " + agent.model + "): returned an empty answer" +
                      (o.finish_reason.empty() ? std::string() : " (finish_reason " + o.finish_reason + ")");
        } else if (o.ok && s.selects(li)) {
            // The ranker's reply must name exactly one of the answers it was shown; anything
            // else fails the aggregator rather than passing its own text off as an answer.
            auto sel = read_selection(a.text, s.shown);
            if (sel.index) {
                a.state = AgentState::Done;
                // The final answer (the one named) is there from now on, not from the reply's
                // first token: a ranker that explains its choice takes a while to name it.
                if (ai == 0) {
                    s.selected = sel.index;
                    s.final_ttft_ms = a.end_ms;
                }
            } else {
                a.state = AgentState::Failed;
                a.error = "provider \"" + agent.provider + "\" (model " + agent.model + "): " + sel.error;
            }
        } else if (o.ok) {
            a.state = AgentState::Done;
        } else {
            a.state = AgentState::Failed;
            a.error = o.error;
        }
        snapshot = a;
    }
    conclude_agent(li, ai, std::move(snapshot));
}

// An agent has finished (its record is final): tell, free its provider slot, and see whether
// its layer is done.
void Run::conclude_agent(int li, int ai, AgentRecord snapshot) {
    State& s = *s_;
    auto& slot = s.slot(li, ai);
    const auto& agent = s.agent_config(li, ai);
    if (slot.holds_provider) {
        --s.active[agent.provider];
        slot.holds_provider = false;
    }
    --s.pending[static_cast<std::size_t>(li)];
    bool failed = snapshot.state == AgentState::Failed;
    Event e;
    e.type = failed ? Event::Type::AgentFailed : Event::Type::AgentDone;
    e.layer = li;
    e.agent = ai;
    const std::string error = snapshot.error.value_or("");
    e.message = error;
    e.record = std::move(snapshot);
    publish(std::move(e));

    if (failed && s.config.on_agent_failure == config::FailurePolicy::Abort) {
        end(RunStatus::Failed, "layer " + std::to_string(li + 1) + ", agent " + std::to_string(ai + 1) + " failed and "
                               "the policy is \"abort\": " + error);
        return;
    }
    pump(agent.provider);
    if (s.over || s.layer_finished[static_cast<std::size_t>(li)]) return;
    check_quorum(li);
    if (s.over || s.layer_finished[static_cast<std::size_t>(li)]) return;
    if (s.pending[static_cast<std::size_t>(li)] == 0) finish_layer(li);
    else if (!s.last_layer(li)) references_changed(li + 1);
}

void Run::finish_layer(int li) {
    State& s = *s_;
    s.layer_finished[static_cast<std::size_t>(li)] = 1;
    int ok = 0;
    std::string errors;
    {
        std::lock_guard<std::mutex> lock(mu_);
        auto& L = s.rec.layers[static_cast<std::size_t>(li)];
        L.end_ms = s.now_ms();
        for (auto& a : L.agents) {
            if (a.state == AgentState::Done) ++ok;
            else {
                if (s.config.on_agent_failure == config::FailurePolicy::Drop && a.state == AgentState::Failed &&
                    !s.last_layer(li))
                    a.state = AgentState::Dropped;
                errors += "\n  agent " + std::to_string(a.index + 1) + " (" + a.model + "): " + a.error.value_or("failed");
            }
        }
    }
    Event e;
    e.type = Event::Type::LayerDone;
    e.layer = li;
    publish(std::move(e));
    if (ok == 0) {
        end(RunStatus::Failed, s.last_layer(li) ? "the aggregator (layer " + std::to_string(li + 1) + ") failed:" + errors
                                                : "layer " + std::to_string(li + 1) + ": every agent failed:" + errors);
        return;
    }
    if (!s.last_layer(li)) {
        if (!s.layer_started[static_cast<std::size_t>(li + 1)]) start_layer(li + 1);
        else references_changed(li + 1);
        return;
    }
    end(RunStatus::Done, {});
}

void Run::end(RunStatus status, const std::string& error) {
    State& s = *s_;
    if (s.over) return;
    s.over = true;
    // Stop whatever is still running (abort policy or cancel): connections close now.
    for (auto& layer : s.slots)
        for (auto& slot : layer)
            if (slot.call) {
                slot.call->cancel();
                slot.call.reset();
            }
    s.waiting.clear();
    Totals t;
    std::vector<Event> steps_ended;
    {
        std::lock_guard<std::mutex> lock(mu_);
        auto& r = s.rec;
        r.status = status;
        r.error = error;
        // With staircase streaming the layers overlap, so the sum of each layer's slowest agent
        // can exceed the wall time: there the critical path is the span from the first call's
        // start to the end of the last layer's slowest agent (what the chain of calls took).
        const bool overlapping = s.config.pipelining.mode == config::Pipelining::Mode::Staircase;
        double first_start = -1, last_end = 0;
        for (auto& L : r.layers) {
            double max_tf = 0, max_ms = 0;
            bool any = false;
            for (auto& a : L.agents) {
                if (a.state == AgentState::Queued || a.state == AgentState::Waiting ||
                    a.state == AgentState::Streaming || a.state == AgentState::Retrying) {
                    if (a.attempts > 0 || a.state != AgentState::Queued) {
                        a.end_ms = s.now_ms();
                        a.duration_ms = a.end_ms - a.start_ms;
                    }
                    a.state = AgentState::Cancelled;
                    if (!a.error) a.error = status == RunStatus::Cancelled ? "cancelled" : "stopped: " + error;
                    // A staircase step stopped midway ends here, as its AgentStep said it began.
                    if (!a.steps.empty()) {
                        const double end = s.now_ms();
                        const double start = a.steps.back().start_ms;
                        const auto& held = s.slot(a.layer, a.index).held;
                        if (auto e = stop_step(s, a, end, end - start, *a.error, held)) steps_ended.push_back(std::move(*e));
                    }
                    // A stream cut by the cancel was billed for its prompt and what arrived: an
                    // answer with text never counts 0 tokens (estimated, as for a cut agent).
                    // The offline demo costs nothing whatever happens ("$?" made the run's cost unknown).
                    if (a.demo && !a.cost_usd) a.cost_usd = 0.0;
                    if (a.steps.empty() && !a.text.empty() && a.usage.prompt_tokens == 0 && a.usage.completion_tokens == 0) {
                        a.usage = providers::estimate_usage(a.messages, a.text);
                        auto cost = accounting::cost_for(s.engine.catalog(), s.config, a.provider, a.model, a.usage);
                        a.cost_usd = cost.usd;
                        a.tflops = cost.tflops;
                    }
                }
                if (a.attempts == 0) continue;
                any = true;
                if (a.cost_usd) t.cost_usd += *a.cost_usd;
                else t.cost_complete = false;
                if (a.tflops) max_tf = std::max(max_tf, *a.tflops);
                else t.tflops_complete = false;
                max_ms = std::max(max_ms, a.duration_ms);
                if (first_start < 0 || a.start_ms < first_start) first_start = a.start_ms;
                if (&L == &r.layers.back()) last_end = std::max(last_end, a.end_ms);
                t.prompt_tokens += a.usage.prompt_tokens;
                t.completion_tokens += a.usage.completion_tokens;
                t.usage_estimated = t.usage_estimated || a.usage.estimated;
            }
            if (any) {
                t.tflops += max_tf;
                t.critical_path_ms += max_ms;
            }
        }
        if (overlapping) t.critical_path_ms = first_start >= 0 && last_end > first_start ? last_end - first_start : 0;
        t.wall_ms = s.now_ms();
        t.ttft_ms = s.final_ttft_ms;
        r.totals = t;
        if (status == RunStatus::Done) {
            const auto& last = r.layers.back().agents.front();
            r.final_text = last.text;
            if (s.config.aggregation.mode == config::Aggregation::Mode::Select && r.layers.size() > 1 && s.selected) {
                // The aggregator named the best of the answers it was shown (numbered from 1 in
                // config order, missing ones left out); that answer is the result.
                std::vector<const std::string*> shown;
                for (const auto& a : r.layers[r.layers.size() - 2].agents)
                    if (a.state == AgentState::Done) shown.push_back(&a.text);
                if (*s.selected < shown.size()) r.final_text = *shown[*s.selected];
            }
        }
    }
    for (auto& ended : steps_ended) {
        const double at = ended.step_record->end_ms;
        publish(std::move(ended), at);
    }
    Event e;
    e.type = status == RunStatus::Done ? Event::Type::RunDone
             : status == RunStatus::Cancelled ? Event::Type::RunCancelled
                                              : Event::Type::RunFailed;
    e.message = error;
    e.totals = t;
    {
        std::lock_guard<std::mutex> lock(mu_);
        e.final_record = std::make_shared<const RunRecord>(s.rec);
    }
    publish(std::move(e));
    {
        std::lock_guard<std::mutex> lock(mu_);
        finished_ = true;
    }
    cv_.notify_all();
}

void Run::cancel(std::string reason) {
    auto self = shared_from_this();
    s_->engine.transport().post([self, reason = std::move(reason)] { self->end(RunStatus::Cancelled, reason); });
}

} // namespace moa::engine
