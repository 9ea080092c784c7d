// SPDX-License-Identifier: MIT
#pragma once
// A response cache for chat calls, keyed by what determines the answer: the provider's kind and
// address, the model, the sampling parameters and the exact messages. An experiment re-run (or
// one that adds a configuration, or resumes after a crash) never pays twice for the same call.
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "net/transport.h"
#include "providers/chat_call.h"

namespace moa::engine {

struct CachedAnswer {
    std::string text;
    std::string reasoning;
    std::string finish_reason;
    providers::Usage usage;
    std::vector<providers::TokenLogprobs> logprobs;
};

class CallCache {
public:
    virtual ~CallCache() = default;
    // Both are called on the transport thread and must be quick (a local database).
    virtual std::optional<CachedAnswer> lookup(const std::string& key) = 0;
    // Called when a call has succeeded; must make the answer durable before returning.
    virtual void store(const std::string& key, const providers::CallRequest& request, const CachedAnswer& answer) = 0;

    // Transport thread only: calls waiting for an identical call already under way, so that
    // two configurations sharing a proposer pay for it once even when they run at the same time.
    std::map<std::string, std::vector<std::function<void(const std::optional<CachedAnswer>&)>>> in_flight;
};

// SHA-256 of the canonical request (no key, no headers: they do not change the answer) and of
// which sample it is: the k-th identical call of a run (from 0) is a different sample from the
// first, so n identical agents make n calls, and a re-run finds each of its n answers again.
// Sample 0 keys as before samples were counted, so older caches still answer.
std::string cache_key(const providers::CallRequest& r, int sample = 0);

// Starts the call, or answers it from `cache` without touching the network (the events arrive
// the same way, posted on the transport, with `cached` set in the outcome). Successful answers
// are stored. A null cache starts an ordinary call. `sample` as in cache_key.
std::shared_ptr<providers::ChatCall> start_cached_call(net::Transport& transport, const std::shared_ptr<CallCache>& cache,
                                                       providers::CallRequest request, providers::CallEvents events,
                                                       int sample = 0);

} // namespace moa::engine
