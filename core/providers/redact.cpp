// SPDX-License-Identifier: MIT
#include "providers/redact.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstring>
#include <memory>
#include <unordered_map>
#include <utility>

#include <nlohmann/json.hpp>

#include "providers/redact_view.h"

namespace moa::providers {

namespace {

constexpr std::size_t kMinKey = 4;          // shorter keys would redact ordinary words
constexpr std::size_t kMinPrefix = 12;      // a cut echo still this long is the key
constexpr std::size_t kMinFragment = 12;    // so is a run this long from anywhere in it
constexpr std::size_t kMinHeldFragment = 4; // (stream) an end this long that is part of the key waits
constexpr std::size_t kStreamContext = 64;  // (stream) bytes passed on that the next piece is searched with
constexpr std::uint64_t kGramBase = 1099511628211ULL;
constexpr std::size_t kMinBearerToken = 8;  // "Bearer token" in prose is not a credential
constexpr std::size_t kMinBase64Middle = 16; // what base64 of the key shows whatever surrounds it
// Shorter keys are matched only as written (decoding, skipping blanks and folding case would
// find them in ordinary text).
constexpr std::size_t kMinNormalised = 8;
constexpr const char* kBase64Alphabets[] = {"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
                                            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"};

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

// The spellings of `key` matched in the text as written: the key (and a run of at least 12 of
// its first bytes), JSON-escaped, URL-encoded, case-folded, inside base64.
std::vector<std::string> raw_forms(std::string_view key) {
    std::vector<std::string> forms;
    auto add = [&](std::string f) {
        if (f.size() < kMinKey) return;
        for (const auto& g : forms)
            if (g == f) return;
        forms.push_back(std::move(f));
    };
    add(std::string(key)); // first: it also carries the rule for runs of its first bytes
    // As a JSON string would carry it ("/" may come as "\/", quotes and controls escaped).
    const std::string quoted = nlohmann::json(std::string(key)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    add(quoted.substr(1, quoted.size() - 2));
    std::string slashed;
    for (char c : key) slashed += c == '/' ? std::string("\\/") : std::string(1, c);
    add(slashed);
    add(url_encoded(key, "0123456789ABCDEF"));
    add(url_encoded(key, "0123456789abcdef"));
    // Lower- and upper-cased, as some providers and proxies fold the error text they echo (the
    // hostile review: "sk-test-secret123" got through); a folded mixed-case key gives most of it away.
    std::string lower(key), upper(key);
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    add(std::move(lower));
    add(std::move(upper));
    for (const char* alphabet : kBase64Alphabets)
        for (std::size_t offset = 0; offset < 3; ++offset)
            if (std::string m = base64_middle(key, offset, alphabet); m.size() >= kMinBase64Middle) add(std::move(m));
    return forms;
}

// A spelling searched for with Knuth–Morris–Pratt: linear in the text whatever it holds (a
// body of 10 MB of near-misses costs what one of plain text does).
struct Needle {
    std::string pat;                // lower-cased when `fold`
    bool fold = false;              // ASCII case does not matter
    std::size_t min_run = 0;        // a run of this many of its first bytes is redacted too
    std::vector<std::size_t> fail;  // the longest proper prefix of pat[0..i] that is also its suffix
};

Needle make_needle(std::string pat, bool fold, std::size_t min_run) {
    Needle n;
    if (fold)
        for (auto& c : pat) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    n.pat = std::move(pat);
    n.fold = fold;
    n.min_run = std::min(min_run, n.pat.size());
    n.fail.assign(n.pat.size(), 0);
    for (std::size_t i = 1, k = 0; i < n.pat.size(); ++i) {
        while (k > 0 && n.pat[i] != n.pat[k]) k = n.fail[k - 1];
        if (n.pat[i] == n.pat[k]) ++k;
        n.fail[i] = k;
    }
    return n;
}

struct Range {
    std::size_t begin, end;
};

void add_range(std::vector<Range>& out, std::size_t begin, std::size_t end) {
    if (!out.empty() && begin < out.back().end) out.back().end = std::max(out.back().end, end);
    else out.push_back(Range{begin, end});
}

// Every match of `n` in `text` (ranges in `text`, in order) and how much of the end of `text` is
// the start of `n` (it may go on in what comes next).
std::size_t scan(std::string_view text, const Needle& n, std::vector<Range>& out) {
    const std::size_t m = n.pat.size();
    // Where the next byte that can start a match is, in either case (each found once: a skip
    // never searches the same bytes again).
    char starts[2] = {n.pat[0], static_cast<char>(std::toupper(static_cast<unsigned char>(n.pat[0])))};
    const int kinds = n.fold && starts[1] != starts[0] ? 2 : 1;
    auto find_from = [&](int k, std::size_t from) {
        const void* at = std::memchr(text.data() + from, starts[k], text.size() - from);
        return at ? static_cast<std::size_t>(static_cast<const char*>(at) - text.data()) : text.size();
    };
    if (text.empty()) return 0;
    std::size_t next_start[2] = {find_from(0, 0), kinds == 2 ? find_from(1, 0) : text.size()};
    std::size_t q = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (q == 0) { // most of a text cannot start a match: skip to where one could
            std::size_t next = text.size();
            for (int k = 0; k < kinds; ++k) {
                if (next_start[k] < i) next_start[k] = find_from(k, i);
                next = std::min(next, next_start[k]);
            }
            if (next == text.size()) break;
            i = next;
        }
        char c = text[i];
        if (n.fold) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        while (q > 0 && n.pat[q] != c) q = n.fail[q - 1];
        if (n.pat[q] == c) ++q;
        if (q >= n.min_run) add_range(out, i + 1 - q, i + 1);
        if (q == m) q = n.fail[m - 1];
    }
    return q;
}

char fold_char(char c) { return c == '_' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

std::uint64_t gram_hash(std::string_view g) {
    std::uint64_t h = 0;
    for (char c : g) h = h * kGramBase + static_cast<unsigned char>(c);
    return h;
}

} // namespace

struct KeySpellings {
    std::vector<Needle> raw;  // matched in the text as written
    std::vector<Needle> view; // matched in the text as normalise() decodes it
    // Every run of kMinFragment characters of the key (lower-cased, "_" as "-"), by hash: a part
    // of the key from anywhere in it (its last 13 characters, a middle part) is found in the view.
    std::string gram_key;
    std::unordered_map<std::uint64_t, std::vector<std::size_t>> grams; // hash -> where in gram_key
    std::size_t overlap = 0;  // the most bytes of the original a match can span
    bool empty() const { return raw.empty() && view.empty(); }
};

namespace {

std::shared_ptr<const KeySpellings> key_spellings(std::string_view key) {
    auto sp = std::make_shared<KeySpellings>();
    if (key.size() < kMinKey) return sp;
    std::size_t longest_raw = 0, longest_view = 0;
    for (auto& f : raw_forms(key)) {
        const std::size_t run = f == key ? kMinPrefix : f.size();
        longest_raw = std::max(longest_raw, f.size());
        sp->raw.push_back(make_needle(std::move(f), false, run));
    }
    if (key.size() >= kMinNormalised) {
        auto add = [&](std::string f, bool fold, std::size_t run) {
            for (auto& c : f) // the view reads every dash-like character and "_" as "-"
                if (c == '_') c = '-';
            for (const auto& n : sp->view)
                if (n.pat == f) return;
            longest_view = std::max(longest_view, f.size());
            sp->view.push_back(make_needle(std::move(f), fold, run));
        };
        // The key in any case, and a run of its first bytes, as the view spells it.
        add(std::string(key), true, kMinPrefix);
        const std::string quoted = nlohmann::json(std::string(key)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        if (quoted.size() != key.size() + 2) add(quoted.substr(1, quoted.size() - 2), true, SIZE_MAX);
        // Reversed, and hex-encoded (each byte as two hex digits), as some error bodies show it.
        add(std::string(key.rbegin(), key.rend()), true, SIZE_MAX);
        std::string hex;
        for (char ch : key) {
            const auto c = static_cast<unsigned char>(ch);
            hex += "0123456789abcdef"[c >> 4];
            hex += "0123456789abcdef"[c & 15];
        }
        add(std::move(hex), true, SIZE_MAX);
        // Inside base64 (of the key, of "Bearer KEY", of "user:KEY"): any alignment, either alphabet.
        for (const char* alphabet : kBase64Alphabets)
            for (std::size_t offset = 0; offset < 3; ++offset)
                if (std::string m = base64_middle(key, offset, alphabet); m.size() >= kMinBase64Middle) add(std::move(m), false, SIZE_MAX);
    }
    if (key.size() >= kMinNormalised && key.size() >= kMinFragment) {
        // Any run of 12 of its characters, as the view spells them (case and dashes folded).
        std::string g(key);
        for (auto& c : g) c = c == '_' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        for (std::size_t i = 0; i + kMinFragment <= g.size(); ++i) {
            auto& at = sp->grams[gram_hash(std::string_view(g).substr(i, kMinFragment))];
            bool seen = false;
            for (std::size_t j : at) seen = seen || g.compare(j, kMinFragment, g, i, kMinFragment) == 0;
            if (!seen) at.push_back(i);
        }
        sp->gram_key = std::move(g);
    }
    sp->overlap = std::max(longest_raw, (longest_view + 1) * kMaxSourcePerByte) + 16;
    return sp;
}

// Every run of kMinFragment or more bytes of `text` that are, 12 at a time, parts of the key
// (a rolling hash of each 12 bytes, a hit verified), and the length of the longest end of
// `text` that is a part of the key (it may go on in what comes next). Linear in `text`.
std::size_t scan_fragments(std::string_view text, const KeySpellings& sp, std::vector<Range>& out) {
    const std::size_t m = kMinFragment, n = text.size();
    const std::string& key = sp.gram_key;
    std::size_t tail = 0;
    // An end that a next piece may complete; shorter ends pass (a letter of the key ends many a
    // word), and what they start is caught by the context the stream keeps (StreamRedactor::passed_).
    for (std::size_t k = std::min(n, m - 1); k >= kMinHeldFragment && tail == 0; --k) {
        bool found = false;
        for (std::size_t j = 0; !found && j + k <= key.size(); ++j) {
            found = true;
            for (std::size_t t = 0; found && t < k; ++t) found = fold_char(text[n - k + t]) == key[j + t];
        }
        if (found) tail = k;
    }
    if (n < m) return tail;
    std::uint64_t top = 1; // kGramBase^(m-1)
    for (std::size_t t = 1; t < m; ++t) top *= kGramBase;
    std::uint64_t h = 0;
    for (std::size_t i = 0; i < n; ++i) {
        if (i >= m) h -= top * static_cast<unsigned char>(fold_char(text[i - m]));
        h = h * kGramBase + static_cast<unsigned char>(fold_char(text[i]));
        if (i + 1 < m) continue;
        const auto it = sp.grams.find(h);
        if (it == sp.grams.end()) continue;
        const std::size_t b = i + 1 - m;
        for (std::size_t j : it->second) {
            bool same = true;
            for (std::size_t t = 0; same && t < m; ++t) same = fold_char(text[b + t]) == key[j + t];
            if (same) {
                add_range(out, b, i + 1);
                break;
            }
        }
    }
    return tail;
}

struct Found {
    std::vector<Range> ranges; // in the original, in order, not overlapping
    std::size_t hold = 0;      // (stream) from here on the text may go on into a match
};

// The original text is searched in windows of about 1 MiB that overlap by the longest a match
// can be, so the decoded view (9 bytes for each byte of the original) stays small.
Found find_key(std::string_view text, const KeySpellings& sp, bool stream) {
    Found f;
    f.hold = text.size();
    std::vector<Range> all, part;
    const std::size_t chunk = std::max<std::size_t>(std::size_t{1} << 20, 4 * sp.overlap);
    for (std::size_t start = 0;;) {
        const std::size_t end = std::min(text.size(), start + chunk + sp.overlap);
        const bool last = end == text.size();
        const std::string_view w = text.substr(start, end - start);
        for (const auto& n : sp.raw) {
            part.clear();
            const std::size_t q = scan(w, n, part);
            for (const auto& r : part) all.push_back(Range{start + r.begin, start + r.end});
            if (stream && last) f.hold = std::min(f.hold, start + w.size() - q);
        }
        if (!sp.view.empty()) {
            const NormalisedView v = normalise(w, stream && last);
            for (const auto& n : sp.view) {
                part.clear();
                const std::size_t q = scan(v.text, n, part);
                for (const auto& r : part)
                    all.push_back(Range{start + v.source[r.begin].begin, start + v.source[r.end - 1].end});
                if (stream && last && q > 0) f.hold = std::min(f.hold, start + v.source[v.text.size() - q].begin);
            }
            if (!sp.gram_key.empty()) {
                part.clear();
                const std::size_t q = scan_fragments(v.text, sp, part);
                for (const auto& r : part)
                    all.push_back(Range{start + v.source[r.begin].begin, start + v.source[r.end - 1].end});
                if (stream && last && q > 0) f.hold = std::min(f.hold, start + v.source[v.text.size() - q].begin);
            }
            if (stream && last) f.hold = std::min(f.hold, start + v.pending);
        }
        if (last) break;
        start += chunk;
        while (start > 0 && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start; // whole characters
    }
    std::sort(all.begin(), all.end(), [](const Range& a, const Range& b) { return a.begin < b.begin; });
    for (const auto& r : all) add_range(f.ranges, r.begin, r.end);
    if (stream) // a match that is complete is not cut by what is held back
        for (const auto& r : f.ranges)
            if (r.begin < f.hold && f.hold < r.end) f.hold = r.begin;
    return f;
}

// `text` up to `until` with every range that ends there or before replaced by `with`.
std::string replace_ranges(std::string_view text, const std::vector<Range>& ranges, std::string_view with, std::size_t until) {
    std::string out;
    out.reserve(until);
    std::size_t at = 0;
    for (const auto& r : ranges) {
        if (r.end > until) break;
        out.append(text.substr(at, r.begin - at));
        out.append(with);
        at = r.end;
    }
    out.append(text.substr(at, until - at));
    return out;
}

std::string redact_with(std::string_view text, const KeySpellings& sp, std::string_view with) {
    if (sp.empty()) return std::string(text);
    return replace_ranges(text, find_key(text, sp, false).ranges, with, text.size());
}

// The token after any "Bearer", in one pass.
std::string redact_bearer(std::string_view s) {
    static constexpr std::string_view kBearer = "bearer";
    std::string out;
    out.reserve(s.size());
    std::size_t copied = 0;
    for (std::size_t i = 0; i + kBearer.size() < s.size();) {
        bool match = true;
        for (std::size_t k = 0; k < kBearer.size() && match; ++k)
            match = std::tolower(static_cast<unsigned char>(s[i + k])) == kBearer[k];
        if (!match) {
            ++i;
            continue;
        }
        std::size_t t = i + kBearer.size();
        while (t < s.size()) { // the separator: blanks, or as a URL or form encodes a space
            if (s[t] == ' ' || s[t] == '\t' || s[t] == '+') ++t;
            else if (s.compare(t, 3, "%20") == 0) t += 3;
            else break;
        }
        std::size_t e = t;
        while (e < s.size() && token_char(s[e])) ++e;
        if (t == i + kBearer.size() || e - t < kMinBearerToken) { // "Bearer" glued to something else, or a word
            ++i;
            continue;
        }
        out.append(s.substr(copied, t - copied));
        out.append(kRedacted);
        copied = i = e;
    }
    out.append(s.substr(copied));
    return out;
}

} // namespace

std::string redact_secret(std::string_view text, std::string_view key) {
    return redact_bearer(redact_with(text, *key_spellings(key), kRedacted));
}

KeyRedactor::KeyRedactor(std::string_view key, std::string label) : spellings_(key_spellings(key)), label_(std::move(label)) {}

std::string KeyRedactor::operator()(std::string_view text) const { return redact_with(text, *spellings_, label_); }

StreamRedactor::StreamRedactor(std::string_view key) : spellings_(key_spellings(key)) {}

std::string StreamRedactor::feed(std::string_view piece) {
    if (spellings_->empty()) return std::string(piece);
    held_.append(piece);
    return pass(true);
}

std::string StreamRedactor::flush() {
    if (spellings_->empty()) return std::exchange(held_, std::string());
    std::string out = pass(false);
    held_.clear();
    passed_.clear();
    return out;
}

// Hold back from the first position where what arrived could still become a spelling of the
// key (or a run of its first bytes long enough to be redacted, or an escape cut short); before
// it, every match is complete and is replaced now. The end of what was passed on is searched
// too, so a part of the key that began there (too short to be held) is not passed on in full.
std::string StreamRedactor::pass(bool stream) {
    const std::size_t ctx = passed_.size();
    const std::string all = passed_ + held_;
    Found f = find_key(all, *spellings_, stream);
    const std::size_t hold = std::max(f.hold, ctx);
    std::vector<Range> mine;
    for (const auto& r : f.ranges)
        if (r.end > ctx) mine.push_back(Range{std::max(r.begin, ctx), r.end});
    std::string out = replace_ranges(all, mine, kRedacted, hold).substr(ctx);
    std::size_t keep = hold > kStreamContext ? hold - kStreamContext : 0;
    while (keep > 0 && keep < hold && (static_cast<unsigned char>(all[keep]) & 0xC0) == 0x80) --keep; // whole characters
    passed_ = all.substr(keep, hold - keep);
    held_.erase(0, hold - ctx);
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
