// SPDX-License-Identifier: MIT
#include "providers/redact.h"

#include <cctype>

#include <nlohmann/json.hpp>

namespace moa::providers {

namespace {

constexpr std::size_t kMinKey = 4;        // shorter keys would redact ordinary words
constexpr std::size_t kMinPrefix = 12;    // a cut echo still this long is the key
constexpr std::size_t kMinBearerToken = 8; // "Bearer token" in prose is not a credential

bool token_char(char c) {
    // RFC 6750's b64token, and the other characters keys are made of.
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_' || c == '~' || c == '+' ||
           c == '/' || c == '=' || c == ':';
}

// Replaces every occurrence of `needle`, and of runs of at least `min_prefix` of its first bytes.
void redact_runs(std::string& s, std::string_view needle, std::size_t min_prefix) {
    if (needle.empty()) return;
    const std::size_t lead = std::min(min_prefix, needle.size());
    const std::string_view start = needle.substr(0, lead);
    for (std::size_t at = s.find(start); at != std::string::npos; at = s.find(start, at)) {
        std::size_t n = lead;
        while (n < needle.size() && at + n < s.size() && s[at + n] == needle[n]) ++n;
        s.replace(at, n, kRedacted);
        at += std::char_traits<char>::length(kRedacted);
    }
}

void redact_bearer(std::string& s) {
    static constexpr std::string_view kBearer = "bearer";
    for (std::size_t i = 0; i + kBearer.size() < s.size(); ++i) {
        bool match = true;
        for (std::size_t k = 0; k < kBearer.size() && match; ++k)
            match = std::tolower(static_cast<unsigned char>(s[i + k])) == kBearer[k];
        if (!match) continue;
        std::size_t t = i + kBearer.size();
        while (t < s.size() && (s[t] == ' ' || s[t] == '\t')) ++t;
        if (t == i + kBearer.size()) continue; // "Bearer" glued to something else
        std::size_t e = t;
        while (e < s.size() && token_char(s[e])) ++e;
        if (e - t >= kMinBearerToken) {
            s.replace(t, e - t, kRedacted);
            i = t + std::char_traits<char>::length(kRedacted) - 1;
        }
    }
}

} // namespace

std::string redact_secret(std::string_view text, std::string_view key) {
    std::string s(text);
    if (key.size() >= kMinKey) {
        // Whole copies first, also as a JSON string would carry it ("/" may come as "\/", quotes
        // and controls escaped).
        const std::string quoted = nlohmann::json(std::string(key)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        const std::string_view inner = std::string_view(quoted).substr(1, quoted.size() - 2);
        std::string slashed;
        for (char c : key) slashed += c == '/' ? std::string("\\/") : std::string(1, c);
        for (const std::string_view whole : {std::string_view(inner), std::string_view(slashed), key})
            redact_runs(s, whole, whole.size());
        // Then what is left of an echo cut short.
        redact_runs(s, key, kMinPrefix);
    }
    redact_bearer(s);
    return s;
}

CallEvents redacting_events(CallEvents events, std::string key) {
    if (auto retry = std::move(events.on_retry))
        events.on_retry = [retry, key](int next, long delay_ms, const std::string& why) {
            retry(next, delay_ms, redact_secret(why, key));
        };
    if (auto done = std::move(events.on_done))
        events.on_done = [done, key](const CallOutcome& o) {
            if (o.error.empty()) return done(o);
            CallOutcome clean = o;
            clean.error = redact_secret(o.error, key);
            done(clean);
        };
    return events;
}

} // namespace moa::providers
