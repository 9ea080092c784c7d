// SPDX-License-Identifier: MIT
// Staircase streaming (an agent of layer N+1 works in steps over layer N's answers while they
// are still being written) and the quorum/deadline cuts of a layer. Transport thread only.
#include <algorithm>

#include "accounting/estimate.h"
#include "engine/engine.h"
#include "engine/prompt_builder.h"
#include "engine/run_state.h"
#include "util/text.h"

namespace moa::engine {

namespace {
// A step's start is held back until this many bytes (or the whole answer so far, if shorter)
// have arrived, to tell whether it repeats the end of the answer so far.
constexpr std::size_t kRepeatWindow = 200;
// A repeat is at least this long and holds more than white space: shorter overlaps are as
// likely to be the text going on.
constexpr std::size_t kMinRepeat = 4;

// Bytes at the start of `step` that repeat the end of `so_far` (the longest such overlap).
std::size_t repeated_bytes(const std::string& so_far, const std::string& step) {
    const std::size_t most = std::min(so_far.size(), step.size());
    for (std::size_t k = most; k >= kMinRepeat; --k) {
        if (so_far.compare(so_far.size() - k, k, step, 0, k) != 0) continue;
        const bool words = std::any_of(step.begin(), step.begin() + static_cast<long>(k),
                                       [](char c) { return !std::isspace(static_cast<unsigned char>(c)); });
        if (words) return k;
    }
    return 0;
}

long tokens_of(const AgentRecord& a) { return text::estimate_tokens(a.text); }

bool live(AgentState st) {
    return st == AgentState::Queued || st == AgentState::Waiting || st == AgentState::Streaming ||
           st == AgentState::Retrying;
}

void omit_messages(StepRecord& st) {
    st.messages_omitted_bytes = message_bytes(st.messages);
    std::vector<Message>().swap(st.messages);
}

// Usage, cost and TFLOPs of an agent that ran in steps: the sums of its steps'.
void sum_steps(AgentRecord& a) {
    providers::Usage u;
    std::optional<double> cost = 0.0, tflops = 0.0;
    int attempts = 0;
    for (const auto& st : a.steps) {
        u.prompt_tokens += st.usage.prompt_tokens;
        u.completion_tokens += st.usage.completion_tokens;
        u.estimated = u.estimated || st.usage.estimated;
        if (u.refused.empty()) u.refused = st.usage.refused;
        cost = cost && st.cost_usd ? std::optional<double>(*cost + *st.cost_usd) : std::nullopt;
        tflops = tflops && st.tflops ? std::optional<double>(*tflops + *st.tflops) : std::nullopt;
        attempts += st.attempts;
    }
    a.usage = u;
    a.cost_usd = cost;
    a.tflops = tflops;
    a.attempts = std::max(a.attempts, attempts);
}
} // namespace

std::optional<Event> stop_step(const Run::State& s, AgentRecord& a, double end_ms, double duration_ms,
                               const std::string& why, std::string_view unshown) {
    std::optional<Event> ended;
    if (a.steps.empty()) return ended;
    auto& st = a.steps.back();
    if (st.end_ms == 0) {
        st.end_ms = end_ms;
        st.duration_ms = duration_ms;
        const std::string arrived = st.text + std::string(unshown);
        st.usage = arrived.empty() ? providers::Usage{} : providers::estimate_usage(st.messages, arrived);
        st.error = why;
        auto cost = accounting::cost_for(s.engine.catalog(), s.config, a.provider, a.model, st.usage);
        st.cost_usd = cost.usd;
        st.tflops = cost.tflops;
        if (!s.slots[static_cast<std::size_t>(a.layer)][static_cast<std::size_t>(a.index)].keep_step_messages)
            omit_messages(st);
        ended = step_ended(a, a.layer, a.index);
    }
    sum_steps(a);
    // One call with every reference complete is an ordinary call, as in end_steps.
    if (a.steps.size() == 1 && a.steps.front().last) a.steps.clear();
    return ended;
}

// Under mu_ (a is the run's record).
std::optional<Event> step_ended(const AgentRecord& a, int li, int ai) {
    if (a.steps.empty() || (a.steps.size() == 1 && a.steps.front().last)) return std::nullopt;
    Event e;
    e.type = Event::Type::AgentStepDone;
    e.layer = li;
    e.agent = ai;
    e.step = static_cast<int>(a.steps.size()) - 1;
    StepRecord st = a.steps.back();
    st.messages.clear(); // sent with its AgentStep
    e.step_record = std::move(st);
    return e;
}

bool Run::stepping(int li) const {
    const State& s = *s_;
    if (s.config.pipelining.mode != config::Pipelining::Mode::Staircase || li == 0) return false;
    // A selecting aggregator names one finished answer: it cannot choose before they are all
    // complete, and the answer it names is not its own to continue. It waits for them all.
    return !s.selects(li);
}

// Layer li-1's answers as layer li sees them now: finished ones whole, unfinished ones as far as
// they go (marked), failed and cut ones missing. `complete` when every one has finished.
References Run::references_for(int li, bool& complete) {
    State& s = *s_;
    References r;
    complete = true;
    std::lock_guard<std::mutex> lock(mu_);
    const auto& prev = s.slots[static_cast<std::size_t>(li - 1)];
    auto& L = s.rec.layers[static_cast<std::size_t>(li - 1)];
    for (std::size_t j = 0; j < L.agents.size(); ++j) {
        const auto& a = L.agents[j];
        const bool finished = s.layer_finished[static_cast<std::size_t>(li - 1)] || (j < prev.size() && prev[j].finished);
        if (a.state == AgentState::Done) {
            r.answers.push_back(a.text);
            r.partial.push_back(false);
        } else if (a.state == AgentState::Cut) {
            ++r.cut;
        } else if (!finished && live(a.state) && !a.text.empty()) {
            r.answers.push_back(a.text);
            r.partial.push_back(true);
            complete = false;
        } else if (!finished && live(a.state)) {
            complete = false; // not begun: left out of this step
        } else {
            ++r.missing;
        }
    }
    if (std::none_of(r.partial.begin(), r.partial.end(), [](bool p) { return p; })) r.partial.clear();
    if (complete) {
        L.missing = r.missing + r.cut;
        if (s.last_layer(li)) s.shown = r.answers.size();
    }
    return r;
}

void Run::start_step(int li, int ai) {
    State& s = *s_;
    auto& slot = s.slot(li, ai);
    const auto& agent = s.agent_config(li, ai);
    bool complete = false;
    References refs = references_for(li, complete);
    providers::CallRequest req;
    {
        std::lock_guard<std::mutex> lock(mu_);
        auto& a = s.agent(li, ai);
        auto messages = build_messages(s.config, agent, s.rec.input, &refs,
                                       aggregation_template_for(s.config, static_cast<std::size_t>(li)));
        req.messages = continue_answer(std::move(messages), a.text, s.config.pipelining.continuation,
                                       req.continue_final_message);
        s.redaction.apply(req.messages);
    }
    if (s.options.throttle) {
        long tokens = agent.params.max_tokens.value_or(512);
        for (const auto& m : req.messages) tokens += static_cast<long>(m.content.size() / 4);
        if (long wait = s.options.throttle(agent.provider, tokens); wait > 0) {
            auto self = shared_from_this();
            s.engine.transport().schedule(std::chrono::milliseconds(wait), [self, li, ai] {
                if (!self->s_->over && !self->s_->slot(li, ai).finished) self->start_step(li, ai);
            });
            return;
        }
    }
    req.provider = *s.config.provider(agent.provider);
    req.model = agent.model;
    req.params = agent.params;
    // While the references grow a step writes at most chunk_tokens; the last runs to the
    // agent's own limit. That limit is the whole answer's, as in one call: the steps so far
    // have used some of it (otherwise every step would add up to max_tokens more).
    const long chunk = s.config.pipelining.chunk_tokens;
    if (agent.params.max_tokens) {
        long used = 0;
        {
            std::lock_guard<std::mutex> lock(mu_);
            used = s.agent(li, ai).usage.completion_tokens;
        }
        const long left = std::max(1L, *agent.params.max_tokens - used);
        req.params.max_tokens = complete ? left : std::min(chunk, left);
    } else if (!complete) {
        req.params.max_tokens = chunk;
    }
    const auto now = Clock::now();
    std::optional<Event> announce;
    {
        std::lock_guard<std::mutex> lock(mu_);
        auto& a = s.agent(li, ai);
        const auto& prev = s.rec.layers[static_cast<std::size_t>(li - 1)].agents;
        slot.ref_tokens.clear();
        for (const auto& p : prev) slot.ref_tokens.push_back(tokens_of(p));
        if (!slot.launched) {
            slot.launched = true;
            slot.started = now;
            a.start_ms = s.now_ms();
        }
        slot.last_step = complete;
        slot.step_started = now;
        slot.step_first_token = false;
        slot.so_far = a.text;
        slot.held.clear();
        slot.repeat_checked = a.text.empty();
        // A first call with every reference complete is an ordinary call (end_steps forgets
        // it as a step): not announced as one.
        const bool ordinary = complete && a.steps.empty();
        StepRecord st;
        st.messages = req.messages;
        st.start_ms = s.now_ms();
        st.last = complete;
        // Kept while it runs (a stop estimates its usage from them); dropped at its end if over
        // the agent's budget, and never announced in full then.
        const std::size_t bytes = message_bytes(req.messages);
        slot.keep_step_messages = complete || slot.step_message_bytes == 0 ||
                                  slot.step_message_bytes + bytes <= kStepMessagesKept;
        if (slot.keep_step_messages) slot.step_message_bytes += bytes;
        a.steps.push_back(std::move(st));
        a.messages = req.messages;
        if (!ordinary) {
            Event e;
            e.type = Event::Type::AgentStep;
            e.layer = li;
            e.agent = ai;
            e.step = static_cast<int>(a.steps.size()) - 1;
            e.step_record = a.steps.back();
            if (!slot.keep_step_messages) {
                e.step_record->messages.clear();
                e.step_record->messages_omitted_bytes = bytes;
            }
            announce = std::move(e);
        }
    }
    if (announce) {
        const double at = announce->step_record->start_ms;
        publish(std::move(*announce), at);
    }
    providers::CallEvents ev;
    ev.on_attempt = [this, li, ai] {
        State& s = *s_;
        std::optional<AgentRecord> snapshot;
        {
            std::lock_guard<std::mutex> lock(mu_);
            auto& a = s.agent(li, ai);
            ++a.steps.back().attempts;
            if (++a.attempts == 1) {
                a.state = AgentState::Waiting;
                snapshot = a;
            }
        }
        if (snapshot) {
            Event e;
            e.type = Event::Type::AgentStarted;
            e.layer = li;
            e.agent = ai;
            e.attempt = 1;
            e.record = std::move(snapshot);
            publish(std::move(e));
        }
    };
    ev.on_delta = [this, li, ai](std::string_view content, std::string_view reasoning) { step_delta(li, ai, content, reasoning); };
    ev.on_done = [this, li, ai](const providers::CallOutcome& o) { step_done(li, ai, o); };
    start_call(li, ai, std::move(req), std::move(ev));
}

void Run::step_delta(int li, int ai, std::string_view content, std::string_view reasoning) {
    State& s = *s_;
    auto& slot = s.slot(li, ai);
    if (!slot.step_first_token) {
        slot.step_first_token = true;
        std::lock_guard<std::mutex> lock(mu_);
        auto& a = s.agent(li, ai);
        a.steps.back().ttft_ms = ms_between(slot.step_started, Clock::now());
        if (!slot.first_token) {
            slot.first_token = true;
            a.ttft_ms = ms_between(slot.started, Clock::now());
        }
    }
    if (slot.repeat_checked) {
        emit_text(li, ai, std::string(content), reasoning);
        return;
    }
    slot.held.append(content);
    if (slot.held.size() < std::min(slot.so_far.size(), kRepeatWindow)) {
        if (!reasoning.empty()) emit_text(li, ai, {}, reasoning);
        return;
    }
    const std::size_t k = repeated_bytes(slot.so_far, slot.held);
    std::string rest = slot.held.substr(k);
    slot.held.clear();
    slot.repeat_checked = true;
    {
        std::lock_guard<std::mutex> lock(mu_);
        s.agent(li, ai).steps.back().repeat_removed = k;
    }
    emit_text(li, ai, rest, reasoning);
}

// Text the user sees: appended to the agent's answer and the step's, and sent as a delta.
void Run::emit_text(int li, int ai, const std::string& content, std::string_view reasoning) {
    State& s = *s_;
    if (content.empty() && reasoning.empty()) return;
    {
        std::lock_guard<std::mutex> lock(mu_);
        auto& a = s.agent(li, ai);
        a.state = AgentState::Streaming;
        a.text.append(content);
        a.reasoning.append(reasoning);
        a.steps.back().text.append(content);
        const double now = s.now_ms();
        if (!content.empty() && a.timeline.size() < 4096 && (a.timeline.empty() || now - a.timeline.back().first >= 25.0))
            a.timeline.emplace_back(now, a.text.size());
        if (!content.empty() && s.last_layer(li) && !s.selects(li) && ai == 0 && !s.final_ttft_ms) s.final_ttft_ms = now;
    }
    Event e;
    e.type = Event::Type::AgentDelta;
    e.layer = li;
    e.agent = ai;
    e.text = content;
    e.reasoning.assign(reasoning);
    publish(std::move(e));
    if (!content.empty() && !s.last_layer(li)) references_changed(li + 1);
}

void Run::step_done(int li, int ai, const providers::CallOutcome& o) {
    State& s = *s_;
    auto& slot = s.slot(li, ai);
    if (!slot.repeat_checked) {
        // The step ended before the window filled: decide on what came.
        const std::size_t k = repeated_bytes(slot.so_far, slot.held);
        std::string rest = slot.held.substr(k);
        slot.held.clear();
        slot.repeat_checked = true;
        {
            std::lock_guard<std::mutex> lock(mu_);
            s.agent(li, ai).steps.back().repeat_removed = k;
        }
        emit_text(li, ai, rest, {});
        if (s.over || slot.finished) return;
    }
    slot.in_step = false;
    slot.call.reset();
    const auto& agent = s.agent_config(li, ai);
    bool spent = false;
    std::optional<Event> ended;
    {
        std::lock_guard<std::mutex> lock(mu_);
        auto& a = s.agent(li, ai);
        auto& st = a.steps.back();
        st.end_ms = s.now_ms();
        st.duration_ms = ms_between(slot.step_started, Clock::now());
        st.usage = o.usage;
        if (!o.ok && !o.cancelled && !o.cached && st.text.empty() && o.usage.estimated) st.usage = providers::Usage{};
        st.attempts = std::max(st.attempts, o.attempts);
        st.finish_reason = o.finish_reason;
        st.cached = o.cached;
        if (!o.ok) st.error = o.error;
        auto cost = accounting::cost_for(s.engine.catalog(), s.config, agent.provider, agent.model, st.usage);
        st.cost_usd = cost.usd;
        st.tflops = cost.tflops;
        if (!slot.keep_step_messages) omit_messages(st);
        sum_steps(a);
        a.cached = std::all_of(a.steps.begin(), a.steps.end(), [](const StepRecord& x) { return x.cached; });
        // An answer that has used its max_tokens is over, as one call would be, even while its
        // references still grow.
        spent = agent.params.max_tokens && a.usage.completion_tokens >= *agent.params.max_tokens;
        ended = step_ended(a, li, ai);
    }
    if (ended) {
        const double at = ended->step_record->end_ms;
        publish(std::move(*ended), at);
    }
    if (!o.ok || slot.last_step) return end_steps(li, ai, o);
    if (o.finish_reason == "stop") slot.rested = true;
    if (spent) {
        // It takes no more steps, and ends once the layer before it has (a layer is not done
        // before the one it reads).
        slot.spent = std::make_shared<const providers::CallOutcome>(o);
        if (s.layer_finished[static_cast<std::size_t>(li - 1)]) end_steps(li, ai, o);
        return;
    }
    maybe_next_step(li, ai);
}

// The agent's last call (its last step, a failed one, or the one that used up its max_tokens)
// has ended: its record is final.
void Run::end_steps(int li, int ai, const providers::CallOutcome& o) {
    State& s = *s_;
    auto& slot = s.slot(li, ai);
    const auto& agent = s.agent_config(li, ai);
    AgentRecord snapshot;
    {
        std::lock_guard<std::mutex> lock(mu_);
        auto& a = s.agent(li, ai);
        a.end_ms = s.now_ms();
        a.duration_ms = ms_between(slot.started, Clock::now());
        a.finish_reason = o.finish_reason;
        set_output_rate(a);
        if (!o.ok) {
            a.state = AgentState::Failed;
            a.error = o.error + " (step " + std::to_string(a.steps.size()) + " of a staircase)";
            if (a.text.empty() && a.reasoning.empty() && a.usage.prompt_tokens == 0) {
                a.not_billed = true;
                a.cost_usd = 0.0, a.tflops = 0.0; // $0 and no compute, priced model or not
            }
        } else if (a.text.empty()) {
            a.state = AgentState::Failed;
            a.error = "provider \"" + agent.provider + "\" (model " + agent.model + "): returned an empty answer" +
                      (o.finish_reason.empty() ? std::string() : " (finish_reason " + o.finish_reason + ")");
        } else {
            a.state = AgentState::Done;
        }
        // One call with every reference complete is an ordinary call, not a staircase.
        if (a.steps.size() == 1 && a.steps.front().last) a.steps.clear();
        snapshot = a;
    }
    slot.finished = true;
    slot.spent.reset();
    conclude_agent(li, ai, std::move(snapshot));
}

// Layer li-1's answers grew, finished or were cut: layer li may open, or its agents may take
// their next step.
void Run::references_changed(int li) {
    State& s = *s_;
    if (s.over || !stepping(li) || s.layer_finished[static_cast<std::size_t>(li)]) return;
    if (!s.layer_started[static_cast<std::size_t>(li)]) {
        // Every live agent of the previous layer has written its first chunk (or finished),
        // and there is something to read.
        const long chunk = s.config.pipelining.chunk_tokens;
        bool ready = true, any = false;
        {
            std::lock_guard<std::mutex> lock(mu_);
            const auto& prev = s.rec.layers[static_cast<std::size_t>(li - 1)].agents;
            for (std::size_t j = 0; j < prev.size(); ++j) {
                const bool finished = s.slots[static_cast<std::size_t>(li - 1)][j].finished;
                if (!finished && tokens_of(prev[j]) < chunk) ready = false;
                if (prev[j].state == AgentState::Done || (!finished && !prev[j].text.empty())) any = true;
            }
        }
        if (ready && any) start_layer(li);
        return;
    }
    const auto n = static_cast<int>(s.slots[static_cast<std::size_t>(li)].size());
    for (int ai = 0; ai < n && !s.over; ++ai) maybe_next_step(li, ai);
}

// The next step starts once the last has ended and each unfinished reference has grown by
// chunk_tokens since it started; the last step once every reference is complete.
void Run::maybe_next_step(int li, int ai) {
    State& s = *s_;
    auto& slot = s.slot(li, ai);
    if (s.over || slot.finished || !slot.launched || slot.in_step) return;
    if (slot.spent) {
        if (s.layer_finished[static_cast<std::size_t>(li - 1)]) end_steps(li, ai, *slot.spent);
        return;
    }
    const long chunk = s.config.pipelining.chunk_tokens;
    bool grown = true, complete = true;
    {
        std::lock_guard<std::mutex> lock(mu_);
        const auto& prev = s.rec.layers[static_cast<std::size_t>(li - 1)].agents;
        for (std::size_t j = 0; j < prev.size(); ++j) {
            if (s.slots[static_cast<std::size_t>(li - 1)][j].finished) continue;
            complete = false;
            const long before = j < slot.ref_tokens.size() ? slot.ref_tokens[j] : 0;
            if (tokens_of(prev[j]) < before + chunk) grown = false;
        }
    }
    if (!grown) return; // (every reference finished counts as grown)
    if (slot.rested && !complete) return; // its last step reads them all
    slot.in_step = true;
    start_step(li, ai);
}

// A layer with a quorum is done once that many of its agents have finished; one past its
// deadline once one has (or at the deadline, if some had).
void Run::check_quorum(int li) {
    State& s = *s_;
    if (s.over || s.layer_finished[static_cast<std::size_t>(li)] || s.last_layer(li)) return;
    if (s.pending[static_cast<std::size_t>(li)] == 0) return;
    const auto& layer = s.config.layers[static_cast<std::size_t>(li)];
    int done = 0;
    {
        std::lock_guard<std::mutex> lock(mu_);
        for (const auto& a : s.rec.layers[static_cast<std::size_t>(li)].agents) done += a.state == AgentState::Done;
    }
    if (layer.quorum && done >= *layer.quorum)
        cut_rest(li, "cut: the layer's quorum of " + std::to_string(*layer.quorum) + " was reached");
    else if (s.deadline_passed[static_cast<std::size_t>(li)] && done >= 1)
        cut_rest(li, "cut: the layer's deadline of " + std::to_string(layer.deadline_ms.value_or(0)) + " ms passed");
}

// Stops the layer's agents still running (their calls are closed, so nothing more is paid) and
// ends the layer with the answers it has.
void Run::cut_rest(int li, const std::string& reason) {
    State& s = *s_;
    std::vector<std::string> freed;
    const auto n = static_cast<int>(s.slots[static_cast<std::size_t>(li)].size());
    for (int ai = 0; ai < n; ++ai) {
        auto& slot = s.slot(li, ai);
        if (slot.finished) continue;
        slot.finished = true;
        if (slot.call) {
            slot.call->cancel();
            slot.call.reset();
        }
        const auto& agent = s.agent_config(li, ai);
        auto& q = s.waiting[agent.provider];
        q.erase(std::remove(q.begin(), q.end(), std::make_pair(li, ai)), q.end());
        AgentRecord snapshot;
        std::optional<Event> ended;
        {
            std::lock_guard<std::mutex> lock(mu_);
            auto& a = s.agent(li, ai);
            if (slot.launched) {
                a.end_ms = s.now_ms();
                a.duration_ms = ms_between(slot.started, Clock::now());
                // What it wrote until now was paid for (as far as the stream went): counted, as
                // a stream cut short is.
                if (!a.steps.empty()) {
                    ended = stop_step(s, a, a.end_ms, ms_between(slot.step_started, Clock::now()), reason, slot.held);
                } else {
                    a.usage = a.text.empty() ? providers::Usage{} : providers::estimate_usage(a.messages, a.text);
                    auto cost = accounting::cost_for(s.engine.catalog(), s.config, agent.provider, agent.model, a.usage);
                    a.cost_usd = cost.usd;
                    a.tflops = cost.tflops;
                }
            }
            a.state = AgentState::Cut;
            a.error = reason;
            snapshot = a;
        }
        if (slot.holds_provider) {
            --s.active[agent.provider];
            slot.holds_provider = false;
            freed.push_back(agent.provider);
        }
        --s.pending[static_cast<std::size_t>(li)];
        if (ended) {
            const double at = ended->step_record->end_ms;
            publish(std::move(*ended), at);
        }
        Event e;
        e.type = Event::Type::AgentFailed;
        e.layer = li;
        e.agent = ai;
        e.message = reason;
        e.record = std::move(snapshot);
        publish(std::move(e));
    }
    for (const auto& p : freed) pump(p);
    if (!s.over && !s.layer_finished[static_cast<std::size_t>(li)]) finish_layer(li);
}

} // namespace moa::engine
