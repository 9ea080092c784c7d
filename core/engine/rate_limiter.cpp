// SPDX-License-Identifier: MIT
#include "engine/rate_limiter.h"

#include <algorithm>

namespace moa::engine {

void RateLimiter::set_limit(const std::string& provider, double rpm, double tpm) {
    std::lock_guard<std::mutex> lock(mu_);
    auto& b = buckets_[provider];
    b.rpm = rpm;
    b.tpm = tpm;
}

long RateLimiter::admit(const std::string& provider, long tokens, Clock::time_point now) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = buckets_.find(provider);
    if (it == buckets_.end()) return 0;
    auto& b = it->second;
    const auto window = std::chrono::minutes(1);
    while (!b.calls.empty() && now - b.calls.front().first >= window) {
        b.tokens_in_window -= b.calls.front().second;
        b.calls.pop_front();
    }
    // A single call larger than the whole token budget may still go when the window is empty.
    bool over_requests = b.rpm > 0 && static_cast<double>(b.calls.size()) + 1 > b.rpm;
    bool over_tokens = b.tpm > 0 && !b.calls.empty() && static_cast<double>(b.tokens_in_window + tokens) > b.tpm;
    // An empty window always admits (a limit below one call a minute is refused when it is read).
    if (b.calls.empty() || (!over_requests && !over_tokens)) {
        b.calls.emplace_back(now, tokens);
        b.tokens_in_window += tokens;
        return 0;
    }
    // Wait until the oldest call leaves the window (then ask again).
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(b.calls.front().first + window - now).count();
    return std::max<long>(1, static_cast<long>(wait) + 1);
}

} // namespace moa::engine
