// SPDX-License-Identifier: MIT
#pragma once
// Provider messages quote what a server sent back, and some gateways and proxies echo the
// request's Authorization header in their error bodies. Every message of a call passes through
// here before anything shows or stores it (stderr, --json, --events, history, exports, GUI, serve).
// A 200 stream can carry the key too (a proxy that answers with the request it got, a model
// that was shown the key): the answer text is redacted as it streams (StreamRedactor).
#include <memory>
#include <string>
#include <string_view>

#include "providers/chat_call.h"

namespace moa::providers {

struct KeySpellings; // what is searched for, worked out once per key

inline constexpr const char* kRedacted = "[redacted]";

// `text` with the key removed: every occurrence of `key`, also as a JSON string carries it,
// URL-encoded (%2F, either case) and inside base64 (at each of the three alignments, in both
// alphabets, when at least 16 characters of it are known); every run of at least 12 of its
// first bytes (an echo cut short by a length limit); and the token after any "Bearer " (any
// case, also "Bearer%20" and "Bearer+") that is at least 8 characters long, become
// "[redacted]". Keys shorter than 4 bytes are only caught after "Bearer ".
// Keys of 8 bytes or more are also looked for in the text as normalise() decodes it (percent-
// encoded in part or whole, HTML character references, JSON \u escapes, zero-width characters,
// soft hyphens or blanks between the characters, fullwidth forms, any dash or "_" for "-", ANSI
// escapes, short HTML tags, Unicode tag characters), in any case, reversed, as hex and inside
// base64 (so base64 of "Bearer KEY" too), and any run of 12 or more of its characters (from
// anywhere in it); the original bytes of what is found are replaced, whole code points. Linear
// in the size of `text`, whatever it holds.
std::string redact_secret(std::string_view text, std::string_view key);

// The key removed from text we send (a prompt, a template, the references): every spelling
// redact_secret finds, without its "Bearer" rule (a prompt may explain bearer tokens; "Bearer
// KEY" loses the key all the same), replaced by `label` ("[redacted: key of provider X]").
// The spellings are worked out once, for the many messages of a run.
class KeyRedactor {
public:
    KeyRedactor(std::string_view key, std::string label);
    std::string operator()(std::string_view text) const;

private:
    std::shared_ptr<const KeySpellings> spellings_;
    std::string label_;
};

// The key removed from text that arrives in pieces (an answer as it streams), as redact_secret
// does but without the "Bearer" rule (answers may explain bearer tokens). Only the end of what
// arrived that could be the start of the key (in any of its spellings) is held back until the
// next piece says; everything before it is passed on at once.
class StreamRedactor {
public:
    explicit StreamRedactor(std::string_view key);
    std::string feed(std::string_view piece);
    std::string flush(); // what is held back, redacted (the stream ended)
    void reset() {
        held_.clear();
        passed_.clear();
    }

private:
    std::string pass(bool stream);

    std::shared_ptr<const KeySpellings> spellings_;
    std::string held_;   // bounded: what could still become a spelling of the key, or an escape cut short
    std::string passed_; // the end of what was passed on (a part of the key may go on from it)
};

// `events` whose retry reasons and outcome errors are redacted for `key`, and whose answer
// text and reasoning pass through a StreamRedactor (what it holds goes out before on_done).
CallEvents redacting_events(CallEvents events, std::string key);

} // namespace moa::providers
