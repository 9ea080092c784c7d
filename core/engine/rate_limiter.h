// SPDX-License-Identifier: MIT
#pragma once
// Per-provider request and token limits over a sliding minute, as providers state them
// (requests per minute, tokens per minute). Thread-safe.
#include <chrono>
#include <deque>
#include <map>
#include <mutex>
#include <string>

namespace moa::engine {

class RateLimiter {
public:
    using Clock = std::chrono::steady_clock;
    void set_limit(const std::string& provider, double requests_per_minute, double tokens_per_minute);
    // 0 when a call of `tokens` may start now (and counts it), else milliseconds to wait.
    long admit(const std::string& provider, long tokens, Clock::time_point now = Clock::now());

private:
    struct Bucket {
        double rpm = 0, tpm = 0;
        std::deque<std::pair<Clock::time_point, long>> calls; // start, tokens
        long tokens_in_window = 0;
    };
    std::mutex mu_;
    std::map<std::string, Bucket> buckets_;
};

} // namespace moa::engine
