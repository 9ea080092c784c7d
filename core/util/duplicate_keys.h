// SPDX-License-Identifier: MIT
#pragma once
// A key given twice in one JSON object: parsers disagree on which of the two wins, so a gateway
// in front (or whatever logged the value) may have seen the other one. Untrusted JSON with one
// (a serve request, a provider's stream line or body) is refused, naming the key's JSON pointer.
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace moa::json_guard {

// A parser callback: json::parse(text, std::ref(keys), false), then `found`.
struct DuplicateKeys {
    struct Frame {
        bool array = false;
        std::size_t index = 0;
        std::string key;
        std::set<std::string> keys;
    };
    std::vector<Frame> stack;
    std::optional<std::string> found; // the JSON pointer of the second key (escaped, cut when huge)

    bool operator()(int depth, nlohmann::json::parse_event_t event, nlohmann::json& parsed);
    std::string pointer() const;
};

} // namespace moa::json_guard
