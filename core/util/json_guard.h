// SPDX-License-Identifier: MIT
#pragma once
// A pass over untrusted JSON text before any DOM is built from it. nlohmann::json parses
// iteratively, but copying, comparing and dump() recurse, so a value nested tens of thousands
// deep (100 KB of `[`) overflows the stack later; and a DOM of many tiny values costs 10–80×
// its text. This scan keeps a few counters, and stops at the first limit passed.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

namespace moa::json_guard {

// Deep enough for every real provider chunk, error body and chat request (they nest < 10).
constexpr std::size_t kMaxDepth = 64;

struct Limits {
    std::size_t max_depth = kMaxDepth;
    std::size_t max_values = 0; // objects, arrays, scalars and keys together; 0: no limit
};

// Scans text that arrives in pieces (a request body as it is uploaded).
class Scanner {
public:
    explicit Scanner(Limits limits = {}) : limits_(limits) {}
    // False once a limit is passed; error() then says which and where.
    bool feed(std::string_view piece);
    const std::string& error() const { return error_; }

private:
    Limits limits_;
    std::size_t offset_ = 0, depth_ = 0, values_ = 0;
    bool in_string_ = false, escaped_ = false, in_scalar_ = false;
    std::string error_;
};

// Why `text` must not become a DOM ("nests deeper than 64 levels (at byte 4096)"), or nothing
// when it is within the limits. It does not check that `text` is JSON: the parser does that.
std::optional<std::string> check(std::string_view text, const Limits& limits = {});

// A value as text for a message, never by dump() (which recurses and copies the whole value):
// strings (cut at `max_bytes` on a UTF-8 boundary, with "…"), numbers, booleans and null as
// they are; an object or array as "an object of N members" / "an array of N values".
std::string brief(const nlohmann::json& v, std::size_t max_bytes = 200);

} // namespace moa::json_guard
