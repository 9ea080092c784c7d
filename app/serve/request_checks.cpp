// SPDX-License-Identifier: MIT
#include "serve/request_checks.h"

#include <arpa/inet.h>

#include "util/text.h"

namespace moa::serve {

namespace {

// "name:port", "[v6]:port", "name" -> the host name, lower case, without a trailing dot.
std::string host_part(std::string_view authority) {
    std::string_view h = authority;
    if (!h.empty() && h.front() == '[') {
        auto close = h.find(']');
        h = close == std::string_view::npos ? h : h.substr(0, close + 1);
    } else if (auto colon = h.find(':'); colon != std::string_view::npos && h.find(':', colon + 1) == std::string_view::npos) {
        h = h.substr(0, colon);
    }
    std::string s = text::to_lower(h);
    if (s.size() > 1 && s.back() == '.') s.pop_back();
    return s;
}

bool ip_literal(const std::string& h) {
    unsigned char buf[16];
    if (inet_pton(AF_INET, h.c_str(), buf) == 1) return true;
    if (h.size() > 2 && h.front() == '[' && h.back() == ']')
        return inet_pton(AF_INET6, h.substr(1, h.size() - 2).c_str(), buf) == 1;
    return false;
}

bool loopback(const std::string& h) {
    unsigned char buf[16];
    if (h == "localhost" || h == "[::1]") return true;
    return inet_pton(AF_INET, h.c_str(), buf) == 1 && buf[0] == 127;
}

bool named(const std::string& h, const std::string& bound_host, const std::vector<std::string>& allow_hosts) {
    auto same = [&](const std::string& name) {
        std::string n = text::to_lower(name);
        if (n.find(':') != std::string::npos && n.front() != '[') n = "[" + n + "]"; // a bare IPv6 --host
        return !n.empty() && host_part(n) == h;
    };
    if (same(bound_host)) return true;
    for (const auto& a : allow_hosts)
        if (same(a)) return true;
    return false;
}

RequestError forbidden(std::string message, std::string code) {
    return {403, std::move(message), "invalid_request_error", std::move(code), {}};
}

} // namespace

std::optional<RequestError> check_origin(std::string_view host_header, std::string_view origin,
                                         const std::string& bound_host, const std::vector<std::string>& allow_hosts) {
    if (!host_header.empty()) {
        std::string h = host_part(host_header);
        if (!loopback(h) && !ip_literal(h) && !named(h, bound_host, allow_hosts))
            return forbidden("the Host header \"" + text::quote_start(host_header, 80) +
                                 "\" does not name this server (localhost, an IP address or --host); another name "
                                 "is refused, as DNS rebinding would use one (the operator can add it with --allow-host)",
                             "host_not_allowed");
    }
    if (origin.empty()) return std::nullopt;
    std::string_view o = origin;
    std::string h;
    for (std::string_view scheme : {"http://", "https://"})
        if (text::starts_with_ci(o, scheme)) h = host_part(o.substr(scheme.size(), o.find('/', scheme.size()) - scheme.size()));
    if (h.empty() || !(loopback(h) || named(h, bound_host, allow_hosts)))
        return forbidden("requests from the web page at " + text::quote_start(origin, 80) +
                             " are refused (Origin): only pages served from this host may call this server",
                         "origin_not_allowed");
    return std::nullopt;
}

std::optional<RequestError> check_content_type(std::string_view content_type) {
    std::string ct = text::to_lower(text::trim(content_type));
    const std::string_view want = "application/json";
    if (ct.compare(0, want.size(), want) == 0 && (ct.size() == want.size() || ct[want.size()] == ';' || ct[want.size()] == ' '))
        return std::nullopt;
    return RequestError{415,
                        ct.empty() ? "the request has no Content-Type: send the body as application/json"
                                   : "the Content-Type \"" + text::quote_start(content_type, 80) +
                                         "\" is not accepted: send the body as application/json",
                        "invalid_request_error", "unsupported_media_type", std::string("Content-Type")};
}

} // namespace moa::serve
