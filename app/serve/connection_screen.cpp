// SPDX-License-Identifier: MIT
#include "serve/connection_screen.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <chrono>
#include <cstring>
#include <map>
#include <vector>

#include "serve/openai_request.h"
#include "util/text.h"

namespace moa::serve {

namespace {
using Clock = std::chrono::steady_clock;

// Past this a head is refused (431): no client of this API sends that many header bytes, and
// the screen peeks at most this much.
constexpr std::size_t kMaxHead = 16 * 1024;
// A refused connection is read (and dropped) this long after the answer, so that the body the
// client is still sending does not make the kernel reset the connection before it reads the answer.
constexpr auto kLinger = std::chrono::seconds(2);
constexpr auto kPeekEvery = std::chrono::milliseconds(20);
// Out of descriptors, the listening socket is not polled for this long: it stays readable while
// accept() fails, so polling it would spin. The connections wait in the backlog meanwhile.
constexpr auto kAcceptPause = std::chrono::milliseconds(100);
// Descriptors left for libmicrohttpd's connections, the upstream calls and the history: the
// screen holds at most half of the process's limit.
std::size_t screen_limit(unsigned max_waiting) {
    rlimit r{};
    if (getrlimit(RLIMIT_NOFILE, &r) != 0 || r.rlim_cur == RLIM_INFINITY) return max_waiting;
    return std::min<std::size_t>(max_waiting, std::max<std::size_t>(8, r.rlim_cur / 2));
}

const char* reason(int status) {
    switch (status) {
    case 404: return "Not Found";
    case 413: return "Content Too Large";
    case 431: return "Request Header Fields Too Large";
    case 501: return "Not Implemented";
    case 505: return "HTTP Version Not Supported";
    case 503: return "Service Unavailable";
    default: return "Bad Request";
    }
}

std::string answer(int status, std::string message, std::string param) {
    return error_response(status, std::move(message), "bad_request_head", std::move(param));
}
} // namespace

std::string error_response(int status, std::string message, std::string code, std::string param) {
    // 501 and 505 refuse what the client sent (an encoding, a version): the client's to change.
    const bool client_side = status < 500 || status == 501 || status == 505;
    RequestError e{status, std::move(message), client_side ? "invalid_request_error" : "server_error", std::move(code),
                   param.empty() ? std::nullopt : std::optional<std::string>(std::move(param))};
    const std::string body = error_body(e).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return "HTTP/1.1 " + std::to_string(status) + " " + reason(status) +
           "\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: " + std::to_string(body.size()) +
           "\r\n\r\n" + body;
}

namespace {

bool is_digits(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s)
        if (c < '0' || c > '9') return false;
    return true;
}

// RFC 9110 token characters (methods, header names): anything else is read differently by
// different parsers, so a proxy in front may see another request than this server does.
bool is_tchar(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// A method or header name for a message: every byte outside printable ASCII as \xNN, valid UTF-8
// too (a name cannot have it, and echoed raw it could be bidi controls or look-alike letters).
std::string ascii_start(std::string_view s, std::size_t max_bytes) {
    std::string out;
    for (std::size_t i = 0; i < s.size() && i < max_bytes; ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c >= 0x20 && c < 0x7F) {
            out += static_cast<char>(c);
        } else {
            char hex[8];
            std::snprintf(hex, sizeof hex, "\\x%02X", c);
            out += hex;
        }
    }
    if (s.size() > max_bytes) out += "…";
    return out;
}

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Why the path of `target` can name no endpoint, or empty when it may. libmicrohttpd decodes
// the path before the server sees it, so "/v1/chat%2Fcompletions" reached chat completions (and
// "%00" would end the path early): a route is matched on the path as sent, so a percent-encoded
// "/", "\" or NUL, and a "." or ".." segment (spelled out or encoded, "%2e%2e"), name nothing.
std::string path_problem(std::string_view target) {
    const std::string_view path = target.substr(0, target.find_first_of("?#"));
    for (std::size_t from = 0; from <= path.size();) {
        const std::size_t end = std::min(path.find('/', from), path.size());
        std::string segment; // decoded
        for (std::size_t i = from; i < end; ++i) {
            if (path[i] == '%' && i + 2 < end && hex_digit(path[i + 1]) >= 0 && hex_digit(path[i + 2]) >= 0) {
                const char c = static_cast<char>(hex_digit(path[i + 1]) * 16 + hex_digit(path[i + 2]));
                if (c == '/' || c == '\\') return "a percent-encoded \"" + std::string(1, c) + "\" is not a path separator here";
                if (c == '\0') return "a percent-encoded NUL (%00) cannot be in a path";
                segment += c;
                i += 2;
            } else {
                segment += path[i];
            }
        }
        if (segment == "." || segment == "..") return "a \"" + segment + "\" segment: dot segments are not resolved here";
        from = end + 1;
    }
    return {};
}

// The request line, RFC 9112 section 3: method SP request-target SP HTTP-version, each part
// strict (libmicrohttpd accepts a bare CR or a tab in the target, odd bytes in the method, and
// any HTTP/1.x version). Sets `http11` for an HTTP/1.1 request.
std::optional<std::string> screen_request_line(std::string_view line, bool& http11) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty())
        return answer(400, "the request starts with an empty line; send the request line first (METHOD /path HTTP/1.1)",
                      "request_line");
    const std::size_t sp1 = line.find(' ');
    const std::size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos)
        return answer(400, "the request line \"" + text::quote_start(line, 60) +
                               "\" is not METHOD SP TARGET SP HTTP-VERSION with single spaces",
                      "request_line");
    const std::string_view method = line.substr(0, sp1), target = line.substr(sp1 + 1, sp2 - sp1 - 1),
                           version = line.substr(sp2 + 1);
    if (method.empty() || !std::all_of(method.begin(), method.end(), is_tchar))
        return answer(400, "the request method \"" + ascii_start(method, 40) +
                               "\" has a character a method cannot have (letters, digits and !#$%&'*+-.^_`|~ only)",
                      "method");
    if (target.empty())
        return answer(400, "the request line has an empty target; send a path like /v1/chat/completions", "path");
    for (std::size_t i = 0; i < target.size(); ++i)
        if (static_cast<unsigned char>(target[i]) <= 0x20 || static_cast<unsigned char>(target[i]) >= 0x7F)
        {
            char hex[8];
            std::snprintf(hex, sizeof hex, "0x%02X", static_cast<unsigned char>(target[i]));
            return answer(400, std::string("the request target has a byte that is not printable ASCII (") + hex + " at offset " +
                                   std::to_string(i) + "); encode it as %XX",
                          "path");
        }
    if (version == "HTTP/1.1") http11 = true;
    else if (version != "HTTP/1.0") {
        const bool looks_http = version.size() == 8 && version.substr(0, 5) == "HTTP/" && std::isdigit(static_cast<unsigned char>(version[5])) &&
                                version[6] == '.' && std::isdigit(static_cast<unsigned char>(version[7]));
        return answer(looks_http ? 505 : 400,
                      "the HTTP version \"" + text::quote_start(version, 20) + "\" is " +
                          (looks_http ? "not supported" : "not an HTTP version") + ": send HTTP/1.1 (or HTTP/1.0)",
                      "version");
    }
    if (const std::string why = path_problem(target); !why.empty())
        return error_response(404,
                              "no such endpoint: " + ascii_start(method, 16) + " " + text::quote_start(target.substr(0, target.find('?')), 80) +
                                  " (" + why + "; this server has /v1/chat/completions and /v1/models)",
                              "not_found", {});
    return std::nullopt;
}

// The end of the head (after its blank line), or npos while it is not complete.
std::size_t head_end(std::string_view data) {
    for (std::size_t i = data.find('\n'); i != std::string_view::npos; i = data.find('\n', i + 1)) {
        if (i + 1 < data.size() && data[i + 1] == '\n') return i + 2;
        if (i + 2 < data.size() && data[i + 1] == '\r' && data[i + 2] == '\n') return i + 3;
    }
    return std::string_view::npos;
}
} // namespace

std::optional<std::string> screen_request_head(std::string_view head, std::size_t max_body_bytes) {
    // Where this server and a proxy in front could read one head two ways, it is refused
    // (RFC 9112 sections 2.2, 5.1 and 6.3): each of these is a known request-smuggling vector.
    int hosts = 0, encodings = 0, origins = 0;
    std::size_t pos = head.find('\n');
    if (pos == std::string_view::npos) return std::nullopt; // not a head: libmicrohttpd says so
    const std::string_view request_line = head.substr(0, pos);
    bool http11 = false;
    if (auto refusal = screen_request_line(request_line, http11)) return refusal;
    bool bare_lf = request_line.empty() || request_line.back() != '\r';
    for (++pos; pos < head.size();) {
        std::size_t eol = head.find('\n', pos);
        if (eol == std::string_view::npos) eol = head.size();
        std::string_view line = head.substr(pos, eol - pos);
        pos = eol + 1;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        else bare_lf = true;
        if (line.empty()) break;
        if (line.front() == ' ' || line.front() == '\t')
            return answer(400, "the request head continues a header on the next line (obsolete line folding); send each header on one line",
                          "headers");
        const std::size_t colon = line.find(':');
        if (colon == std::string_view::npos)
            return answer(400, "the header line \"" + ascii_start(line, 40) + "\" has no ':'; send NAME: value",
                          "headers");
        const std::string_view raw_name = line.substr(0, colon);
        if (raw_name.empty())
            return answer(400, "a header line has no name (it starts with ':')", "headers");
        for (char ch : raw_name)
            if (ch == ' ' || ch == '\t' || static_cast<unsigned char>(ch) < 0x20 || ch == 0x7F)
                return answer(400, "the header name \"" + ascii_start(raw_name, 40) +
                                       "\" has white space or a control character in it (a proxy may read it as another header)",
                              "headers");
        if (!std::all_of(raw_name.begin(), raw_name.end(), is_tchar))
            return answer(400, "the header name \"" + ascii_start(raw_name, 40) +
                                   "\" has a character a header name cannot have (letters, digits and !#$%&'*+-.^_`|~ only)",
                          "headers");
        for (char ch : line.substr(colon + 1))
            if ((static_cast<unsigned char>(ch) < 0x20 && ch != '\t') || ch == 0x7F)
                return answer(400, "the value of the header " + text::quote_start(raw_name, 40) + " has a control character in it",
                              std::string(raw_name.substr(0, 40)));
        const std::string name = text::to_lower(raw_name);
        const std::string value = text::trim(line.substr(colon + 1));
        if (name == "host") ++hosts;
        if (name == "transfer-encoding") ++encodings;
        if (name == "origin") ++origins;
        if (name == "content-length") {
            // libmicrohttpd skips the white space before the number but not after it: "5 " or "5\t"
            // passed a trimmed check here and then got its own HTML 400 after ours (two status
            // lines). Refused here with the one JSON answer.
            std::string_view after = line.substr(colon + 1);
            while (!after.empty() && (after.front() == ' ' || after.front() == '\t')) after.remove_prefix(1);
            if (!after.empty() && (after.back() == ' ' || after.back() == '\t') && is_digits(value))
                return answer(400, "the Content-Length \"" + text::quote_start(after, 40) +
                                       "\" has white space after the number; send the number alone",
                              "Content-Length");
            if (!is_digits(value))
                return answer(400, "the Content-Length \"" + text::quote_start(value, 40) + "\" is not a number of bytes",
                              "Content-Length");
            const std::size_t first = std::min(value.find_first_not_of('0'), value.size());
            const std::string_view digits = std::string_view(value).substr(first);
            if (digits.size() > 19 || (!digits.empty() && std::stoull(std::string(digits)) > max_body_bytes))
                return answer(413, "the Content-Length " + text::quote_start(value, 40) + " is larger than " +
                                       std::to_string(max_body_bytes) + " bytes, this server's limit for a request body",
                              "Content-Length");
        }
        if (name == "transfer-encoding" && text::to_lower(value) != "chunked")
            return answer(501, "the Transfer-Encoding \"" + text::quote_start(value, 40) +
                                   "\" is not supported: send the body with Content-Length, or chunked alone",
                          "Transfer-Encoding");
    }
    if (bare_lf)
        return answer(400, "the request head ends a line with LF alone; HTTP lines end with CR LF", "headers");
    if (hosts > 1)
        return answer(400, "the request has " + std::to_string(hosts) + " Host headers; one is allowed (which one a proxy in "
                           "front checked is not known)",
                      "Host");
    if (hosts == 0 && http11) return answer(400, "an HTTP/1.1 request needs a Host header", "Host");
    if (encodings > 1)
        return answer(400, "the request has " + std::to_string(encodings) + " Transfer-Encoding headers; one is allowed",
                      "Transfer-Encoding");
    // HTTP/1.0 has no Transfer-Encoding (RFC 9112 section 6.1): a proxy may frame the body by
    // Content-Length or by the connection's end instead.
    if (encodings > 0 && !http11)
        return answer(400, "an HTTP/1.0 request cannot use Transfer-Encoding; send the body with Content-Length",
                      "Transfer-Encoding");
    // Only the first Origin was checked; a browser sends one.
    if (origins > 1)
        return answer(400, "the request has " + std::to_string(origins) + " Origin headers; one is allowed", "Origin");
    return std::nullopt;
}

bool is_chunked(std::string_view head) {
    for (std::size_t pos = head.find('\n'); pos != std::string_view::npos && pos + 1 < head.size();) {
        std::size_t eol = head.find('\n', pos + 1);
        if (eol == std::string_view::npos) eol = head.size();
        const std::string_view line = head.substr(pos + 1, eol - pos - 1);
        pos = eol;
        const std::size_t colon = line.find(':');
        if (colon != std::string_view::npos && text::to_lower(line.substr(0, colon)) == "transfer-encoding" &&
            text::to_lower(text::trim(line.substr(colon + 1))) == "chunked")
            return true;
    }
    return false;
}

ChunkedVerdict screen_chunked_body(std::string_view body, std::size_t max_bytes) {
    auto refuse = [](int status, std::string message) {
        return ChunkedVerdict{false, error_response(status, std::move(message), "bad_chunked_body", "Transfer-Encoding")};
    };
    auto is_hex = [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); };
    const std::string too_large = "the chunked request body is larger than " + std::to_string(max_bytes / 1024) +
                                  " KB, this server's limit for chunked bodies; send it with Content-Length";
    std::size_t pos = 0, total = 0;
    for (int chunk = 0;; ++chunk) {
        // chunk-size = 1*HEXDIG, then CR LF: no extension, no white space.
        std::size_t end = pos;
        while (end < body.size() && is_hex(body[end])) ++end;
        std::size_t digits = end - pos, first = pos;
        while (first < end && body[first] == '0') ++first; // leading zeros are allowed
        if (end - first > 8 || digits > 16) return refuse(413, too_large);
        if (end == body.size()) return {};
        const std::string where = "chunk " + std::to_string(chunk + 1);
        // The size line as far as its CR, for the message.
        auto size_line = [&](std::size_t from) { return body.substr(from, std::min<std::size_t>(body.find('\r', from), from + 40) - from); };
        if (body[end] == ';')
            return refuse(400, "the chunked request body has a chunk extension (\"" + text::quote_start(size_line(end), 20) +
                                   "\" after the size of " + where + "); send chunks without extensions, or the body with Content-Length");
        if (digits == 0 || body[end] != '\r')
            return refuse(400, "the chunked request body has a malformed size line at " + where + " (\"" +
                                   text::quote_start(size_line(pos), 20) + "\"): hex digits then CR LF");
        if (end + 1 == body.size()) return {};
        if (body[end + 1] != '\n')
            return refuse(400, "the size line of " + where + " of the chunked request body does not end with CR LF");
        const std::size_t size = first == end ? 0 : std::stoul(std::string(body.substr(first, end - first)), nullptr, 16);
        pos = end + 2;
        if (size == 0) { // the last chunk; then the (empty) trailer section
            if (body.size() - pos < 2) {
                if (body.size() == pos || body[pos] == '\r') return {};
            } else if (body.substr(pos, 2) == "\r\n") {
                return {true, std::nullopt};
            }
            return refuse(400, "the chunked request body has trailer fields (or bytes) after its last chunk; none are accepted");
        }
        total += size;
        if (total > max_bytes) return refuse(413, too_large);
        if (body.size() < pos + size + 2) {
            // A CR LF missing after the chunk's data shows once its bytes are there.
            if (body.size() >= pos + size + 1 && body[pos + size] != '\r')
                return refuse(400, where + " of the chunked request body is not followed by CR LF (its size says " +
                                       std::to_string(size) + " bytes)");
            return {};
        }
        if (body.substr(pos + size, 2) != "\r\n")
            return refuse(400, where + " of the chunked request body is not followed by CR LF (its size says " +
                                   std::to_string(size) + " bytes)");
        pos += size + 2;
    }
}

ConnectionScreen::ConnectionScreen(int listen_fd, Options options, Handover handover)
    : listen_fd_(listen_fd), opt_(options), handover_(std::move(handover)) {}

ConnectionScreen::~ConnectionScreen() { stop(); }

bool ConnectionScreen::start() {
    if (pipe2(wake_, O_CLOEXEC | O_NONBLOCK) != 0) return false;
    fcntl(listen_fd_, F_SETFL, fcntl(listen_fd_, F_GETFL) | O_NONBLOCK);
    thread_ = std::thread([this] { loop(); });
    return true;
}

void ConnectionScreen::stop() {
    if (!thread_.joinable()) return;
    (void)!write(wake_[1], "x", 1);
    thread_.join();
    close(wake_[0]);
    close(wake_[1]);
    wake_[0] = wake_[1] = -1;
}

void ConnectionScreen::loop() {
    struct Waiting {
        sockaddr_storage addr;
        socklen_t len;
        Clock::time_point since;
        bool refused = false; // answered; read and dropped until the client closes or kLinger passes
        Clock::time_point peeked{}; // when its head was last read
        bool again = false;         // more arrived since, not read yet (see kPeekEvery)
        bool chunked = false;       // its head is complete; its chunked body is awaited
    };
    // Edge-triggered: a head that is not complete yet stays unread in the socket (it is peeked,
    // for libmicrohttpd to read), so a level-triggered poll would report it again and again.
    const int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) return;
    auto watch = [&](int fd, std::uint32_t events) {
        epoll_event ev{};
        ev.events = events;
        ev.data.fd = fd;
        epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    };
    watch(wake_[0], EPOLLIN);
    watch(listen_fd_, EPOLLIN);
    std::map<int, Waiting> waiting;
    std::vector<char> buf(kMaxHead + kMaxChunkedBody + 1024); // a head, and a chunked body with its size lines
    // What the client sent and nobody read is read away first: closing with unread data would
    // send a reset, and the client would lose an answer it had not read yet.
    auto drop = [&](int fd) {
        for (int i = 0; i < 4 && recv(fd, buf.data(), buf.size(), MSG_DONTWAIT) > 0; ++i) {
        }
        close(fd); // also leaves the epoll set
        waiting.erase(fd);
    };
    auto refuse = [&](int fd, Waiting& w, const std::string& response) {
        (void)!send(fd, response.data(), response.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        shutdown(fd, SHUT_WR);
        w.refused = true;
        w.since = Clock::now();
        for (int i = 0; i < 4 && recv(fd, buf.data(), buf.size(), MSG_DONTWAIT) > 0; ++i) {
        } // the head it was refused for
    };
    // Reads what the client sent so far: the head complete, it is refused or handed over.
    auto examine = [&](int fd) {
        Waiting& w = waiting[fd];
        if (w.refused) {
            for (;;) {
                const ssize_t n = recv(fd, buf.data(), buf.size(), MSG_DONTWAIT);
                if (n > 0) continue;
                if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) drop(fd);
                return;
            }
        }
        // A client sending its head a byte at a time would have the whole head copied per byte:
        // it is read again at most every kPeekEvery (the ticks below catch up).
        const auto now = Clock::now();
        if (now - w.peeked < kPeekEvery) {
            w.again = true;
            return;
        }
        w.peeked = now;
        w.again = false;
        const ssize_t n = recv(fd, buf.data(), buf.size(), MSG_PEEK | MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
        if (n <= 0) {
            drop(fd);
            return;
        }
        const std::string_view data(buf.data(), static_cast<std::size_t>(n));
        const std::size_t end = head_end(data);
        if (end == std::string_view::npos && data.size() < kMaxHead) return; // not complete yet
        std::optional<std::string> refusal =
            end != std::string_view::npos && end <= kMaxHead
                ? screen_request_head(data.substr(0, end), opt_.max_body_bytes)
                : answer(431, "the request head is larger than " + std::to_string(kMaxHead / 1024) + " KB", "headers");
        if (!refusal && is_chunked(data.substr(0, end))) {
            ChunkedVerdict v = screen_chunked_body(data.substr(end));
            if (!v.complete && !v.refusal) {
                if (data.size() < buf.size()) {
                    // Room for the whole chunked body in the socket while it is peeked at.
                    if (!w.chunked) {
                        w.chunked = true;
                        const int room = static_cast<int>(buf.size() * 2);
                        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &room, sizeof room);
                    }
                    return;
                }
                v.refusal = error_response(413, "the chunked request body is larger than " + std::to_string(kMaxChunkedBody / 1024) +
                                                    " KB, this server's limit for chunked bodies; send it with Content-Length",
                                           "bad_chunked_body", "Transfer-Encoding");
            }
            refusal = std::move(v.refusal);
        }
        if (refusal) {
            refuse(fd, w, *refusal);
            return;
        }
        const Waiting ready = w;
        waiting.erase(fd);
        epoll_ctl(ep, EPOLL_CTL_DEL, fd, nullptr);
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
        handover_(fd, reinterpret_cast<const sockaddr*>(&ready.addr), ready.len);
    };
    const std::size_t limit = screen_limit(opt_.max_waiting);
    // Past the limit one connection makes room: an answered one first (its answer is sent), then
    // the one that has waited longest without a complete head. A complete head that arrived while
    // its reading was deferred (kPeekEvery) is read now, so it is handed over, never dropped.
    auto make_room = [&]() -> bool {
        std::vector<int> deferred;
        for (const auto& [fd, w] : waiting)
            if (w.again && !w.refused) deferred.push_back(fd);
        for (int fd : deferred)
            if (waiting.count(fd)) {
                waiting[fd].peeked = {};
                examine(fd);
            }
        if (waiting.size() < limit) return true;
        auto victim = waiting.end();
        for (auto it = waiting.begin(); it != waiting.end(); ++it) {
            if (victim == waiting.end() || (it->second.refused && !victim->second.refused) ||
                (it->second.refused == victim->second.refused && it->second.since < victim->second.since))
                victim = it;
        }
        if (victim == waiting.end()) return false;
        drop(victim->first);
        return true;
    };
    bool listening = true;
    Clock::time_point resume_at{};
    epoll_event events[64];
    bool stop = false;
    while (!stop) {
        const int n = epoll_wait(ep, events, 64, 20);
        if (n < 0 && errno != EINTR) break;
        for (int i = 0; i < n; ++i) {
            const int fd = events[i].data.fd;
            if (fd == wake_[0]) {
                stop = true;
            } else if (fd == listen_fd_) {
                bool made_room = false;
                for (;;) {
                    Waiting w{};
                    w.len = sizeof w.addr;
                    const int c = accept4(listen_fd_, reinterpret_cast<sockaddr*>(&w.addr), &w.len, SOCK_CLOEXEC | SOCK_NONBLOCK);
                    if (c < 0) {
                        if (errno != EMFILE && errno != ENFILE && errno != ENOBUFS && errno != ENOMEM) break;
                        if (!made_room && !waiting.empty()) { // one descriptor of ours is given back, once
                            made_room = true;
                            auto oldest = waiting.end();
                            for (auto it = waiting.begin(); it != waiting.end(); ++it)
                                if (oldest == waiting.end() || (it->second.refused && !oldest->second.refused) ||
                                    (it->second.refused == oldest->second.refused && it->second.since < oldest->second.since))
                                    oldest = it;
                            drop(oldest->first);
                            continue;
                        }
                        epoll_ctl(ep, EPOLL_CTL_DEL, listen_fd_, nullptr);
                        listening = false;
                        resume_at = Clock::now() + kAcceptPause;
                        break;
                    }
                    w.since = Clock::now();
                    // Answered connections that linger count too: otherwise they are not bounded.
                    if (waiting.size() >= limit) make_room();
                    waiting[c] = w;
                    watch(c, EPOLLIN | EPOLLRDHUP | EPOLLET);
                    examine(c); // the head may be there already
                }
            } else if (waiting.count(fd)) {
                examine(fd);
            }
        }
        // Heads not complete in time, and refused connections whose client does not close.
        const auto now = Clock::now();
        if (!listening && now >= resume_at) {
            watch(listen_fd_, EPOLLIN);
            listening = true;
        }
        std::vector<int> late, again;
        for (const auto& [fd, w] : waiting)
            if (w.again && !w.refused && now - w.peeked >= kPeekEvery) again.push_back(fd);
        for (int fd : again)
            if (waiting.count(fd)) examine(fd);
        for (const auto& [fd, w] : waiting)
            if (now - w.since > (w.refused ? std::chrono::duration_cast<Clock::duration>(kLinger)
                                           : std::chrono::duration_cast<Clock::duration>(std::chrono::milliseconds(opt_.header_timeout_ms))))
                late.push_back(fd);
        for (int fd : late) drop(fd);
    }
    for (const auto& [fd, _] : waiting) close(fd);
    close(ep);
}

} // namespace moa::serve
