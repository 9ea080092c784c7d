// SPDX-License-Identifier: MIT
#pragma once
// The first look at a new connection, before libmicrohttpd reads a byte of it. libmicrohttpd
// 0.9.75 answers a Content-Length it cannot read (past 2^64, or not a number) itself, and writes
// that answer's header block twice: a malformed response that a proxy in front would take as
// the answer to the next request. So each connection's request head is read here first (peeked,
// not consumed); a bad one gets our own single JSON answer, a good one goes to libmicrohttpd.
// Every response of the server closes its connection, so every request passes this screen.
#include <sys/socket.h>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

namespace moa::serve {

// What to send instead of serving a request whose head is `head` (the bytes up to and
// including the blank line): a whole HTTP response, or nothing when the head may be served.
std::optional<std::string> screen_request_head(std::string_view head, std::size_t max_body_bytes);

// A chunked request body is read by libmicrohttpd, which answers every fault in it (a chunk
// extension longer than its buffer, a size that is not hex, a chunk not ended by CR LF) with an
// HTML page of its own. So the screen waits for the whole chunked body (up to this size) and
// checks it first: strict chunks, no extensions, no trailer fields; longer chunked bodies get
// 413 (send them with Content-Length).
constexpr std::size_t kMaxChunkedBody = 64 * 1024;

struct ChunkedVerdict {
    bool complete = false;               // the last chunk and the blank line after it are there
    std::optional<std::string> refusal;  // a whole HTTP response, when the body is refused
};
// `body`: what follows the head so far.
ChunkedVerdict screen_chunked_body(std::string_view body, std::size_t max_bytes = kMaxChunkedBody);
// Whether the (screened) head says Transfer-Encoding: chunked.
bool is_chunked(std::string_view head);

// A whole HTTP/1.1 response carrying an OpenAI-shaped error object; it closes the connection.
std::string error_response(int status, std::string message, std::string code, std::string param);

class ConnectionScreen {
public:
    struct Options {
        long header_timeout_ms = 10000; // the head must be complete this soon, or the connection closes
        unsigned max_waiting = 256;     // connections still sending their head; one more closes the oldest
        std::size_t max_body_bytes = 8u << 20;
    };
    // Hands a screened connection on; it owns `fd` from then on.
    using Handover = std::function<void(int fd, const sockaddr* addr, socklen_t len)>;

    ConnectionScreen(int listen_fd, Options options, Handover handover);
    ~ConnectionScreen();
    ConnectionScreen(const ConnectionScreen&) = delete;
    ConnectionScreen& operator=(const ConnectionScreen&) = delete;
    bool start();
    void stop(); // closes the connections still being screened; the listening socket stays open

private:
    void loop();
    int listen_fd_;
    Options opt_;
    Handover handover_;
    int wake_[2] = {-1, -1};
    std::thread thread_;
};

} // namespace moa::serve
