// SPDX-License-Identifier: MIT
#pragma once
// `moa serve`: MoA configurations behind an OpenAI-compatible HTTP/1.1 endpoint, on GNU
// libmicrohttpd (thread per connection). The final aggregator's tokens are sent the moment they
// arrive; while the proposer layers work, SSE comments keep the connection alive.
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
};

class ChatServer {
public:
    ChatServer(ServeOptions options, const accounting::Catalog& catalog, store::HistoryRecorder* recorder);
    ~ChatServer();
    // Binds and starts serving; returns the bound port.
    Result<int> start();
    // Stops serving, cancels the runs still going and returns once they have ended: their
    // engine and sinks (which count them here) belong to this server.
    void stop();
    int running_runs() const { return running_; }

    struct Impl; // the request handling, in the .cpp

private:
    ServeOptions opt_;
    engine::Engine engine_;
    store::HistoryRecorder* recorder_;
    MHD_Daemon* daemon_ = nullptr;
    std::atomic<int> running_{0};
    std::mutex runs_mu_; // with runs_cv_: a run's end, for stop()
    std::condition_variable runs_cv_;
    friend struct Impl;
};

} // namespace moa::serve
