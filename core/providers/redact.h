// SPDX-License-Identifier: MIT
#pragma once
// Provider messages quote what a server sent back, and some gateways and proxies echo the
// request's Authorization header in their error bodies. Every message of a call passes through
// here before anything shows or stores it (stderr, --json, --events, history, exports, GUI, serve).
#include <string>
#include <string_view>

#include "providers/chat_call.h"

namespace moa::providers {

inline constexpr const char* kRedacted = "[redacted]";

// `text` with the key removed: every occurrence of `key` (also JSON-escaped), every run of at
// least 12 of its first bytes (an echo cut short by a length limit), and the token after any
// "Bearer " (any case) that is at least 8 characters long, become "[redacted]". Keys shorter
// than 4 bytes are only caught after "Bearer ".
std::string redact_secret(std::string_view text, std::string_view key);

// `events` whose retry reasons and outcome errors are redacted for `key`.
CallEvents redacting_events(CallEvents events, std::string key);

} // namespace moa::providers
