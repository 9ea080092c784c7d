// SPDX-License-Identifier: MIT
#pragma once
// A run's working state on the transport thread (engine.cpp and staircase.cpp; not an API).
#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/engine.h"
#include "engine/prompt_redaction.h"

namespace moa::engine {

using Clock = std::chrono::steady_clock;

inline double ms_between(Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double, std::milli>(b - a).count();
}

// An agent's output rate (the "tok/s" of the views): its answer tokens over the time from its
// first token to its end (for an agent that ran in steps, the waits between steps included).
// Over less than 50 ms of streaming (an answer that came in one burst) a rate measures the
// clock, not the model (review 10: "ttft 1 ms · 30696 tok/s"): none is given.
inline constexpr double kMinRateWindowMs = 50;
inline void set_output_rate(AgentRecord& a) {
    a.tokens_per_s.reset();
    if (a.ttft_ms && a.duration_ms - *a.ttft_ms >= kMinRateWindowMs && a.usage.completion_tokens > 0)
        a.tokens_per_s = a.usage.completion_tokens / ((a.duration_ms - *a.ttft_ms) / 1000.0);
}

struct Run::State {
    Engine& engine;
    config::Config config;
    EventSink sink;
    RunOptions options;
    PromptRedaction redaction; // the run's keys, out of every message sent or stored
    RunRecord rec; // guarded by Run::mu_ for readers on other threads
    Clock::time_point t0;
    bool over = false;
    struct Slot {
        std::shared_ptr<providers::ChatCall> call;
        Clock::time_point started;
        bool holds_provider = false; // counted in `active` (pumped), until it finishes
        bool launched = false;
        bool finished = false;
        bool first_token = false;
        int sample = 0; // the k-th identical call of this run (see cache_key)
        int call_id = 0; // events of an older call (a step that ended) are ignored
        // Staircase streaming:
        bool in_step = false;          // a step's call is under way (or waiting for the throttle)
        bool last_step = false;        // the running step is the last
        bool step_first_token = false;
        Clock::time_point step_started;
        std::vector<long> ref_tokens;  // each reference's tokens when the last step started
        std::string held;              // a step's start, held back until a repeat can be told
        bool repeat_checked = true;
        std::string so_far;            // the answer when the step started
        // A step ended by the model itself (finish_reason "stop") before its references were
        // complete: the answer is whole on what it read, so the next (and last) step waits for
        // every reference instead of re-sending them each chunk for nothing.
        bool rested = false;
        std::size_t step_message_bytes = 0; // step messages the agent keeps (kStepMessagesKept)
        bool keep_step_messages = true;     // the running step's are kept once it ends
        // The answer used its max_tokens before its references were complete: the outcome of its
        // last call, kept until the previous layer ends (and then the agent's).
        std::shared_ptr<const providers::CallOutcome> spent;
    };
    std::vector<std::vector<Slot>> slots;                          // per layer
    std::vector<int> pending;                                      // per layer: agents not finished
    std::vector<char> layer_started, layer_finished, deadline_passed;
    std::map<std::string, int> active;                             // running calls per provider
    std::map<std::string, std::deque<std::pair<int, int>>> waiting; // (layer, agent) waiting for a slot
    std::map<std::string, int> identical_calls;                    // cache key of sample 0 -> calls so far
    std::optional<std::size_t> selected; // select mode: the answer the final aggregator named
    std::size_t shown = 0;               // select mode: answers the final aggregator was shown
    std::optional<double> final_ttft_ms; // run start -> the final answer's first token

    State(Engine& e, const config::Config& c, EventSink s, RunOptions o)
        : engine(e), config(c), sink(std::move(s)), options(std::move(o)) {}
    double now_ms() const { return ms_between(t0, Clock::now()); }
    bool last_layer(int li) const { return li + 1 == static_cast<int>(config.layers.size()); }
    // The final agent names one of the previous layer's answers instead of writing one (select
    // mode): it needs them complete, and its own text is not the final answer.
    bool selects(int li) const {
        return config.aggregation.mode == config::Aggregation::Mode::Select && li > 0 && last_layer(li);
    }
    AgentRecord& agent(int li, int ai) {
        return rec.layers[static_cast<std::size_t>(li)].agents[static_cast<std::size_t>(ai)];
    }
    Slot& slot(int li, int ai) { return slots[static_cast<std::size_t>(li)][static_cast<std::size_t>(ai)]; }
    const config::Agent& agent_config(int li, int ai) const {
        return config.layers[static_cast<std::size_t>(li)].agents[static_cast<std::size_t>(ai)];
    }
};

// The AgentStepDone of `a`'s last step as it ended, unless that step is an ordinary call (the
// first with every reference complete), which was not announced as a step (staircase.cpp).
std::optional<Event> step_ended(const AgentRecord& a, int li, int ai);

// Under mu_: `a`'s last step, if still unfinished, stopped at end_ms (cut or cancelled). What it
// wrote until then was paid for as far as the stream went, so its usage is estimated and costed
// like any stream cut short (counting `unshown`, the bytes still held back to tell a repeat, which
// arrived and were billed but are not shown), and the agent's usage, cost and TFLOPs become the
// sums of its steps. Returns that step's AgentStepDone, if it was announced as a step.
std::optional<Event> stop_step(const Run::State& s, AgentRecord& a, double end_ms, double duration_ms,
                               const std::string& why, std::string_view unshown);

} // namespace moa::engine
