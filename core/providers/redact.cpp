// SPDX-License-Identifier: MIT
#include "providers/redact.h"

#include <algorithm>
#include <cctype>
#include <memory>

#include <nlohmann/json.hpp>

namespace moa::providers {

namespace {

constexpr std::size_t kMinKey = 4;          // shorter keys would redact ordinary words
constexpr std::size_t kMinPrefix = 12;      // a cut echo still this long is the key
constexpr std::size_t kMinBearerToken = 8;  // "Bearer token" in prose is not a credential
constexpr std::size_t kMinBase64Middle = 16; // what base64 of the key shows whatever surrounds it

bool token_char(char c) {
    // RFC 6750's b64token, and the other characters keys are made of.
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_' || c == '~' || c == '+' ||
           c == '/' || c == '=' || c == ':';
}

std::string url_encoded(std::string_view key, const char* hex) {
    std::string out;
    for (char ch : key) {
        const auto c = static_cast<unsigned char>(ch);
        if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
            out += ch;
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

// The part of base64(x + key + y) that depends on the key alone, for x of `offset` bytes: the
// groups of three bytes that hold only key bytes.
std::string base64_middle(std::string_view key, std::size_t offset, const char* alphabet) {
    std::string bytes(offset, '\0');
    bytes.append(key);
    std::string enc;
    const std::size_t groups = bytes.size() / 3;
    for (std::size_t g = 0; g < groups; ++g) {
        const auto b0 = static_cast<unsigned char>(bytes[3 * g]), b1 = static_cast<unsigned char>(bytes[3 * g + 1]),
                   b2 = static_cast<unsigned char>(bytes[3 * g + 2]);
        enc += alphabet[b0 >> 2];
        enc += alphabet[((b0 & 3) << 4) | (b1 >> 4)];
        enc += alphabet[((b1 & 15) << 2) | (b2 >> 6)];
        enc += alphabet[b2 & 63];
    }
    const std::size_t skip = offset > 0 ? 4 : 0; // the first group mixes in unknown bytes
    return enc.size() > skip ? enc.substr(skip) : std::string();
}

// Every spelling of `key` that is replaced wherever it appears, longest first.
std::vector<std::string> key_forms(std::string_view key) {
    std::vector<std::string> forms;
    if (key.size() < kMinKey) return forms;
    auto add = [&](std::string f) {
        if (f.size() < kMinKey) return;
        for (const auto& g : forms)
            if (g == f) return;
        forms.push_back(std::move(f));
    };
    // As a JSON string would carry it ("/" may come as "\/", quotes and controls escaped).
    const std::string quoted = nlohmann::json(std::string(key)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    add(quoted.substr(1, quoted.size() - 2));
    std::string slashed;
    for (char c : key) slashed += c == '/' ? std::string("\\/") : std::string(1, c);
    add(slashed);
    add(url_encoded(key, "0123456789ABCDEF"));
    add(url_encoded(key, "0123456789abcdef"));
    add(std::string(key));
    // Lower- and upper-cased, as some providers and proxies fold the error text they echo (the
    // hostile review: "sk-test-secret123" got through); a folded mixed-case key gives most of it away.
    std::string lower(key), upper(key);
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    add(std::move(lower));
    add(std::move(upper));
    for (const char* alphabet : {"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
                                 "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"})
        for (std::size_t offset = 0; offset < 3; ++offset)
            if (std::string m = base64_middle(key, offset, alphabet); m.size() >= kMinBase64Middle) add(std::move(m));
    std::sort(forms.begin(), forms.end(), [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
    return forms;
}

// Replaces every occurrence of `needle`, and of runs of at least `min_prefix` of its first bytes, with `with`.
void redact_runs(std::string& s, std::string_view needle, std::size_t min_prefix, std::string_view with = kRedacted) {
    if (needle.empty()) return;
    const std::size_t lead = std::min(min_prefix, needle.size());
    const std::string_view start = needle.substr(0, lead);
    for (std::size_t at = s.find(start); at != std::string::npos; at = s.find(start, at)) {
        std::size_t n = lead;
        while (n < needle.size() && at + n < s.size() && s[at + n] == needle[n]) ++n;
        s.replace(at, n, with);
        at += with.size();
    }
}

void redact_forms(std::string& s, const std::vector<std::string>& forms, std::string_view key,
                  std::string_view with = kRedacted) {
    if (forms.empty()) return;
    for (const auto& f : forms) redact_runs(s, f, f.size(), with);
    redact_runs(s, key, kMinPrefix, with); // what is left of an echo cut short
}

void redact_bearer(std::string& s) {
    static constexpr std::string_view kBearer = "bearer";
    for (std::size_t i = 0; i + kBearer.size() < s.size(); ++i) {
        bool match = true;
        for (std::size_t k = 0; k < kBearer.size() && match; ++k)
            match = std::tolower(static_cast<unsigned char>(s[i + k])) == kBearer[k];
        if (!match) continue;
        std::size_t t = i + kBearer.size();
        while (t < s.size()) { // the separator: blanks, or as a URL or form encodes a space
            if (s[t] == ' ' || s[t] == '\t' || s[t] == '+') ++t;
            else if (s.compare(t, 3, "%20") == 0) t += 3;
            else break;
        }
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
    redact_forms(s, key_forms(key), key);
    redact_bearer(s);
    return s;
}

KeyRedactor::KeyRedactor(std::string_view key, std::string label)
    : key_(key), label_(std::move(label)), forms_(key_forms(key)) {}

std::string KeyRedactor::operator()(std::string_view text) const {
    std::string s(text);
    redact_forms(s, forms_, key_, label_);
    return s;
}

StreamRedactor::StreamRedactor(std::string_view key) : key_(key), forms_(key_forms(key)) {}

std::string StreamRedactor::feed(std::string_view piece) {
    if (forms_.empty()) return std::string(piece);
    held_.append(piece);
    // Hold back from the first position where what arrived could still become a spelling of
    // the key (or a run of its first bytes long enough to be redacted); before it, every match
    // is complete and is replaced now.
    std::size_t hold = held_.size();
    const std::size_t longest = forms_.front().size();
    for (std::size_t p = held_.size() > longest ? held_.size() - longest : 0; p < held_.size() && hold == held_.size(); ++p) {
        const std::string_view tail = std::string_view(held_).substr(p);
        for (const auto& f : forms_)
            if (tail.size() < f.size() && f.compare(0, tail.size(), tail) == 0) {
                hold = p;
                break;
            }
    }
    std::string out = held_.substr(0, hold);
    held_.erase(0, hold);
    redact_forms(out, forms_, key_);
    return out;
}

std::string StreamRedactor::flush() {
    std::string out;
    out.swap(held_);
    redact_forms(out, forms_, key_);
    return out;
}

CallEvents redacting_events(CallEvents events, std::string key) {
    if (auto retry = std::move(events.on_retry))
        events.on_retry = [retry, key](int next, long delay_ms, const std::string& why) {
            retry(next, delay_ms, redact_secret(why, key));
        };
    if (key.size() < kMinKey) {
        if (auto done = std::move(events.on_done))
            events.on_done = [done, key](const CallOutcome& o) {
                if (o.error.empty()) return done(o);
                CallOutcome clean = o;
                clean.error = redact_secret(o.error, key);
                done(clean);
            };
        return events;
    }
    // One call's text and reasoning, each through its own window; a new attempt starts over
    // (the engine drops a failed attempt's text).
    struct Streams {
        StreamRedactor text, reasoning;
    };
    auto streams = std::make_shared<Streams>(Streams{StreamRedactor(key), StreamRedactor(key)});
    auto delta = events.on_delta;
    if (auto attempt = std::move(events.on_attempt))
        events.on_attempt = [attempt, streams] {
            streams->text.reset();
            streams->reasoning.reset();
            attempt();
        };
    else
        events.on_attempt = [streams] {
            streams->text.reset();
            streams->reasoning.reset();
        };
    if (delta)
        events.on_delta = [delta, streams](std::string_view content, std::string_view reasoning) {
            // Called even when all of it is held back: the engine times the first token by it.
            delta(streams->text.feed(content), streams->reasoning.feed(reasoning));
        };
    if (auto done = std::move(events.on_done))
        events.on_done = [done, delta, streams, key](const CallOutcome& o) {
            if (delta) {
                const std::string t = streams->text.flush(), r = streams->reasoning.flush();
                if (!t.empty() || !r.empty()) delta(t, r);
            }
            if (o.error.empty()) return done(o);
            CallOutcome clean = o;
            clean.error = redact_secret(o.error, key);
            done(clean);
        };
    return events;
}

} // namespace moa::providers
