// SPDX-License-Identifier: MIT
#pragma once
// The MoA engine: runs the layers of a configuration over the providers' clients. The agents
// of a layer run in parallel; the next layer starts when the previous one has finished and gets
// its answers as references (barrier), or, with staircase streaming, once the previous layer's
// answers have begun, in steps that re-read them as they grow. A layer with a quorum or a
// deadline ends early and cuts its agents still running. All of a run's work happens on the transport thread; events go to
// the sink from there (the sink must be quick and thread-safe, e.g. a queue for a GUI).
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "accounting/catalog.h"
#include "engine/call_cache.h"
#include "engine/prompt_builder.h"
#include "config/config.h"
#include "engine/run_types.h"
#include "net/transport.h"
#include "providers/chat_call.h"

namespace moa::engine {

class Run;
struct RunStateAccess;

struct RunOptions {
    // Resolves a provider's API key at run time (environment by default; the GUI adds the
    // keychain). The key is used for the request header only and stored nowhere.
    std::function<std::string(const config::Provider&)> key_for;
    // Answers repeated calls without paying for them again (experiments); none by default.
    std::shared_ptr<CallCache> cache;
    // Rate limits: asked before each call (on the transport thread) with the provider's name
    // and the call's estimated tokens; returns 0 to go now or the milliseconds to wait.
    std::function<long(const std::string& provider, long tokens)> throttle;
};

class Engine {
public:
    explicit Engine(const accounting::Catalog& catalog, net::Transport& transport = net::Transport::shared());
    std::shared_ptr<Run> start(const config::Config& config, RunInput input, EventSink sink, RunOptions options = {});

    net::Transport& transport() { return transport_; }
    const accounting::Catalog& catalog() const { return catalog_; }

private:
    const accounting::Catalog& catalog_;
    net::Transport& transport_;
};

class Run : public std::enable_shared_from_this<Run> {
public:
    struct State;
    ~Run();
    std::uint64_t id() const { return id_; }
    // Any thread: stops every call at once and closes the connections. `reason` is what the
    // record says (a signal, a client that went away), not always the user.
    void cancel(std::string reason = "cancelled by the user");
    void wait();
    bool wait_for(std::chrono::milliseconds timeout);
    bool finished() const;
    // A copy of the record as it stands (complete once finished()).
    RunRecord record() const;

private:
    friend class Engine;
    Run(std::uint64_t id, Engine& engine, const config::Config& config, RunInput input, EventSink sink,
        RunOptions options);
    void begin();
    // Transport thread only:
    void start_layer(int li);
    void pump(const std::string& provider);
    void launch(int li, int ai);
    void start_call(int li, int ai, providers::CallRequest req, providers::CallEvents ev);
    providers::CallRequest request_for(int li, int ai) const;
    void agent_finished(int li, int ai, const providers::CallOutcome& o);
    void conclude_agent(int li, int ai, AgentRecord snapshot);
    void finish_layer(int li);
    void end(RunStatus status, const std::string& error);
    // Staircase streaming (staircase.cpp) and quorum/deadline cuts.
    bool stepping(int li) const;
    References references_for(int li, bool& complete);
    void start_step(int li, int ai);
    void step_delta(int li, int ai, std::string_view content, std::string_view reasoning);
    void emit_text(int li, int ai, const std::string& content, std::string_view reasoning);
    void step_done(int li, int ai, const providers::CallOutcome& o);
    void end_steps(int li, int ai, const providers::CallOutcome& o);
    void references_changed(int li);
    void maybe_next_step(int li, int ai);
    void check_quorum(int li);
    void cut_rest(int li, const std::string& reason);
    // `at`: the time the event stands for when it was recorded a moment before (a step's start
    // and end are its StepRecord's, to the bit); else now.
    void publish(Event e, std::optional<double> at = std::nullopt);

    std::uint64_t id_;
    std::unique_ptr<State> s_;
    mutable std::mutex mu_;
    std::condition_variable cv_;
    bool finished_ = false;
};

// The default key lookup: the provider's `api_key_env` variable, empty when unset.
std::string key_from_environment(const config::Provider& p);

} // namespace moa::engine
