// SPDX-License-Identifier: MIT
#pragma once
// One libcurl multi loop on one thread carries every HTTP exchange of the process, and also
// runs timers (retry backoff, first-token deadlines, the demo provider's pace). All handler
// callbacks and timers run on that thread, so the code above it needs no locks of its own.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace moa::net {

struct HttpRequest {
    std::string method = "POST";
    std::string url;
    std::vector<std::string> headers; // "Name: value"
    std::string body;
    long connect_timeout_ms = 10'000;
    // No byte for this long once the response has started: the exchange fails (0 = never).
    long idle_timeout_ms = 60'000;
    // The exchange fails when the response body grows past this (0 = unbounded).
    std::size_t max_response_bytes = 0;
    // TLS: verify the server's certificate (against the system CAs, or `ca_file` when set).
    bool verify_tls = true;
    std::string ca_file;
};

struct HttpHead {
    long status = 0;
    std::string content_type;
    std::optional<long> retry_after_ms; // from a Retry-After header (seconds or HTTP date)
    std::string location;               // a redirect's target (never followed)
};

// Tls: the server's certificate could not be verified (retrying will not help).
enum class HttpFailure { None, Connect, Tls, IdleTimeout, TooLarge, Cancelled, Aborted, Other };

struct HttpResult {
    long status = 0;
    HttpFailure failure = HttpFailure::None;
    std::string message; // set when failure != None
    std::size_t bytes = 0;
};

struct HttpHandler {
    std::function<void(const HttpHead&)> on_head;   // once, before the first body byte
    std::function<bool(std::string_view)> on_body;  // return false to abort the exchange
    std::function<void(const HttpResult&)> on_done; // exactly once, always last
};

class Transport {
public:
    using Id = std::uint64_t;
    using Clock = std::chrono::steady_clock;

    Transport();
    ~Transport();
    Transport(const Transport&) = delete;
    Transport& operator=(const Transport&) = delete;

    // Any thread. The handler's callbacks run on the transport thread.
    Id start(HttpRequest request, HttpHandler handler);
    // Any thread. Closes the connection; on_done follows with Cancelled unless it already ran.
    void cancel(Id request);
    // Any thread. Runs `fn` on the transport thread after `delay`.
    Id schedule(std::chrono::milliseconds delay, std::function<void()> fn);
    void cancel_timer(Id timer);
    void post(std::function<void()> fn) { schedule(std::chrono::milliseconds(0), std::move(fn)); }

    bool on_transport_thread() const;
    std::size_t active_requests() const; // for tests and diagnostics

    // The process-wide transport every engine uses unless given another.
    static Transport& shared();

private:
    struct Impl;
    std::unique_ptr<Impl> d_;
};

// Parses a Retry-After value (delta seconds or an HTTP date) into milliseconds from now.
std::optional<long> parse_retry_after(std::string_view value);

} // namespace moa::net
