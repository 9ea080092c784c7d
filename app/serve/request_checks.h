// SPDX-License-Identifier: MIT
#pragma once
// Checks of a request's headers that keep web pages away from `moa serve`: a page the user
// visits can send a "simple" cross-site POST (text/plain, no preflight) to 127.0.0.1, or point
// its own DNS name at 127.0.0.1 (DNS rebinding) and then read the answers as same-origin.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "serve/openai_request.h"

namespace moa::serve {

// The Host header must name this machine the way a client configured by hand does: localhost,
// an IP literal (127.0.0.1, [::1], the LAN address), the --host name or an --allow-host name.
// A DNS name an attacker controls never passes. An Origin header, when sent, must be such a host
// too (any port: a local web UI is fine; another site is not), and "null" is refused.
std::optional<RequestError> check_origin(std::string_view host_header, std::string_view origin,
                                         const std::string& bound_host, const std::vector<std::string>& allow_hosts);

// application/json, parameters allowed ("application/json; charset=utf-8").
std::optional<RequestError> check_content_type(std::string_view content_type);

} // namespace moa::serve
