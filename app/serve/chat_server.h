// SPDX-License-Identifier: MIT
#pragma once
// `moa serve`: MoA configurations behind an OpenAI-compatible HTTP/1.1 endpoint, on GNU
// libmicrohttpd (thread per connection). The final aggregator's tokens are sent the moment they
// arrive; while the proposer layers work, SSE comments keep the connection alive. Checks that
// cost nothing (Host, Origin, key, Content-Type, a run slot) come before the body is read.
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "accounting/catalog.h"
#include "config/config.h"
#include "engine/engine.h"
#include "store/history_recorder.h"
#include "util/result.h"

struct MHD_Daemon;

namespace moa::serve {
class ConnectionScreen;

struct ServeOptions {
    std::vector<config::Config> configs; // each is a model, named by its `name`
    std::string host = "127.0.0.1";
    int port = 0;                        // 0: any free port
    std::string api_key;                 // required as a bearer token when not empty
    int max_runs = 8;                    // runs at once; one more gets 429
    long keepalive_ms = 1000;            // SSE comment interval while no token flows
    long hold_ms = 2000;                 // a streaming request waits this long for the first token
                                         // before sending 200, so early failures get a real 502
    std::size_t max_body_bytes = 8u << 20;
    // Clients get "an upstream provider failed" unless the operator opts in to pass providers'
    // own messages on (they can hold details of the operator's account or gateway).
    bool expose_upstream_errors = false;
    // Host header names accepted besides localhost, IP literals and --host (DNS rebinding).
    std::vector<std::string> allow_hosts;
    // Open connections. One more is still accepted: the connection that has waited longest
    // for its request's headers is closed to make room (idle connections cannot lock others out).
    unsigned max_connections = 256;
    // A request's headers must be complete this soon after its connection is opened (or after
    // the previous request on it ended), or the connection is closed.
    long header_timeout_ms = 10000;
    // And its body this soon after its headers. A run slot is taken only once the body is
    // complete; bodies being received share a budget of max_runs × max_body_bytes.
    long body_timeout_ms = 30000;
};

class ChatServer {
public:
    ChatServer(ServeOptions options, const accounting::Catalog& catalog, store::HistoryRecorder* recorder);
    ~ChatServer();
    // Binds and starts serving; returns the bound port.
    Result<int> start();
    // Ends every open stream with an error event (no [DONE]), answers waiting requests with 503,
    // cancels their runs, closes the server and returns once every run has ended (their
    // engine belongs to this server).
    // `reason` is what the cancelled runs' records say.
    void stop(const std::string& reason = "stopped: the server was stopped");
    int running_runs() const;

    struct Impl; // the request handling, in the .cpp
    struct Live; // what outlives a request: run slots, open jobs, the header watchdog

private:
    ServeOptions opt_;
    engine::Engine engine_;
    store::HistoryRecorder* recorder_;
    MHD_Daemon* daemon_ = nullptr;
    int listen_fd_ = -1;
    std::unique_ptr<ConnectionScreen> screen_; // reads each new connection's head first
    std::shared_ptr<Live> live_;
    friend struct Impl;
};

} // namespace moa::serve
