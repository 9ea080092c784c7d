// SPDX-License-Identifier: MIT
#include "engine/call_cache.h"

#include <nlohmann/json.hpp>

#include "util/sha256.h"

namespace moa::engine {

using nlohmann::json;

std::string cache_key(const providers::CallRequest& r, int sample) {
    json j;
    j["kind"] = r.provider.type == config::ProviderType::Demo ? "demo" : "openai";
    j["base_url"] = r.provider.base_url;
    j["model"] = r.model;
    json p = json::object();
    if (r.params.temperature) p["temperature"] = *r.params.temperature;
    if (r.params.top_p) p["top_p"] = *r.params.top_p;
    if (r.params.max_tokens) p["max_tokens"] = *r.params.max_tokens;
    if (r.params.seed) p["seed"] = *r.params.seed;
    if (r.params.top_logprobs) p["top_logprobs"] = *r.params.top_logprobs;
    j["params"] = std::move(p);
    json m = json::array();
    for (const auto& msg : r.messages) {
        if (msg.prefix) m.push_back({msg.role, msg.content, "prefix"});
        else m.push_back({msg.role, msg.content});
    }
    j["messages"] = std::move(m);
    if (r.continue_final_message) j["continue_final_message"] = true;
    if (sample > 0) j["sample"] = sample;
    return util::sha256_hex(j.dump(-1, ' ', false, json::error_handler_t::replace));
}

namespace {

class CachedCall : public providers::ChatCall, public std::enable_shared_from_this<CachedCall> {
public:
    CachedCall(net::Transport& t, CachedAnswer a, providers::CallEvents e) : t_(t), a_(std::move(a)), e_(std::move(e)) {}
    void begin() {
        auto self = shared_from_this();
        t_.post([self] {
            if (self->done_) return;
            if (self->e_.on_attempt) self->e_.on_attempt();
            if (self->e_.on_delta) self->e_.on_delta(self->a_.text, self->a_.reasoning);
            providers::CallOutcome o;
            o.ok = true;
            o.cached = true;
            o.finish_reason = self->a_.finish_reason;
            o.usage = self->a_.usage;
            o.logprobs = self->a_.logprobs;
            o.attempts = 0;
            self->finish(o);
        });
    }
    void cancel() override {
        auto self = shared_from_this();
        t_.post([self] {
            providers::CallOutcome o;
            o.cancelled = true;
            o.error = "cancelled";
            self->finish(o);
        });
    }

private:
    void finish(const providers::CallOutcome& o) {
        if (done_) return;
        done_ = true;
        if (e_.on_done) e_.on_done(o);
    }
    net::Transport& t_;
    CachedAnswer a_;
    providers::CallEvents e_;
    bool done_ = false;
};

// A call that waits for an identical one under way: served from its answer when it succeeds,
// started for real when it fails.
class WaitingCall : public providers::ChatCall, public std::enable_shared_from_this<WaitingCall> {
public:
    WaitingCall(net::Transport& t, std::shared_ptr<CallCache> cache, providers::CallRequest r, providers::CallEvents e, int sample)
        : t_(t), cache_(std::move(cache)), r_(std::move(r)), e_(std::move(e)), sample_(sample) {}
    void ready(const std::optional<CachedAnswer>& a) {
        if (cancelled_) return;
        if (a) {
            auto c = std::make_shared<CachedCall>(t_, *a, e_);
            inner_ = c;
            c->begin();
        } else {
            inner_ = start_cached_call(t_, cache_, r_, e_, sample_);
        }
    }
    void cancel() override {
        auto self = shared_from_this();
        t_.post([self] {
            if (self->inner_) return self->inner_->cancel();
            if (self->cancelled_) return;
            self->cancelled_ = true;
            providers::CallOutcome o;
            o.cancelled = true;
            o.error = "cancelled";
            if (self->e_.on_done) self->e_.on_done(o);
        });
    }

private:
    net::Transport& t_;
    std::shared_ptr<CallCache> cache_;
    providers::CallRequest r_;
    providers::CallEvents e_;
    int sample_ = 0;
    std::shared_ptr<providers::ChatCall> inner_;
    bool cancelled_ = false;
};

} // namespace

std::shared_ptr<providers::ChatCall> start_cached_call(net::Transport& transport, const std::shared_ptr<CallCache>& cache,
                                                       providers::CallRequest request, providers::CallEvents events,
                                                       int sample) {
    if (!cache) return providers::start_chat_call(transport, std::move(request), std::move(events));
    const std::string key = cache_key(request, sample);
    if (auto hit = cache->lookup(key)) {
        auto call = std::make_shared<CachedCall>(transport, std::move(*hit), std::move(events));
        call->begin();
        return call;
    }
    if (auto w = cache->in_flight.find(key); w != cache->in_flight.end()) {
        // Wait for the identical call; take its answer, or make our own call if it fails.
        auto waiter = std::make_shared<WaitingCall>(transport, cache, request, std::move(events), sample);
        w->second.push_back([waiter](const std::optional<CachedAnswer>& a) { waiter->ready(a); });
        return waiter;
    }
    cache->in_flight[key];
    // Collect the answer on its way to the caller and store it once the call has succeeded.
    struct Acc {
        std::string text, reasoning;
    };
    auto acc = std::make_shared<Acc>();
    auto inner_delta = events.on_delta;
    events.on_delta = [acc, inner_delta](std::string_view c, std::string_view r) {
        acc->text.append(c);
        acc->reasoning.append(r);
        if (inner_delta) inner_delta(c, r);
    };
    auto inner_done = events.on_done;
    auto req_copy = std::make_shared<providers::CallRequest>(request);
    req_copy->api_key.clear(); // the cache never sees the key
    auto retry = events.on_retry;
    events.on_retry = [acc, retry](int n, long d, const std::string& why) {
        acc->text.clear(); // a retried attempt starts its answer again
        acc->reasoning.clear();
        if (retry) retry(n, d, why);
    };
    events.on_done = [cache, key, acc, inner_done, req_copy](const providers::CallOutcome& o) {
        std::optional<CachedAnswer> answer;
        if (o.ok && !acc->text.empty()) {
            answer = CachedAnswer{acc->text, acc->reasoning, o.finish_reason, o.usage, o.logprobs};
            cache->store(key, *req_copy, *answer);
        }
        auto waiting = std::move(cache->in_flight[key]);
        cache->in_flight.erase(key);
        if (inner_done) inner_done(o);
        for (auto& w : waiting) w(answer);
    };
    return providers::start_chat_call(transport, std::move(request), std::move(events));
}

} // namespace moa::engine
