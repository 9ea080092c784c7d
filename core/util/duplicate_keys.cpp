// SPDX-License-Identifier: MIT
#include "util/duplicate_keys.h"

#include "util/text.h"

namespace moa::json_guard {

bool DuplicateKeys::operator()(int, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    using E = nlohmann::json::parse_event_t;
    switch (event) {
    case E::object_start: stack.push_back({}); break;
    case E::array_start: stack.push_back({true, 0, {}, {}}); break;
    case E::key:
        if (!stack.empty()) {
            Frame& f = stack.back();
            f.key = parsed.get<std::string>();
            if (!f.keys.insert(f.key).second && !found) found = pointer();
        }
        break;
    case E::object_end:
    case E::array_end:
        if (!stack.empty()) stack.pop_back();
        if (!stack.empty() && stack.back().array) ++stack.back().index;
        break;
    case E::value:
        if (!stack.empty() && stack.back().array) ++stack.back().index;
        break;
    }
    return true;
}

// A key in a pointer: escaped (RFC 6901), and only its start when it is huge.
std::string DuplicateKeys::pointer() const {
    std::string p;
    for (const Frame& f : stack) p += "/" + (f.array ? std::to_string(f.index) : text::pointer_token(text::quote_start(f.key, 60)));
    return p;
}

} // namespace moa::json_guard
