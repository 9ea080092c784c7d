// SPDX-License-Identifier: MIT
#include "util/json_guard.h"

namespace moa::json_guard {

bool Scanner::feed(std::string_view piece) {
    if (!error_.empty()) return false;
    for (std::size_t i = 0; i < piece.size(); ++i) {
        const char c = piece[i];
        if (in_string_) {
            if (escaped_) escaped_ = false;
            else if (c == '\\') escaped_ = true;
            else if (c == '"') in_string_ = false;
            continue;
        }
        bool starts_value = false;
        switch (c) {
        case '"':
            in_string_ = true;
            starts_value = true;
            in_scalar_ = false;
            break;
        case '[':
        case '{':
            if (++depth_ > limits_.max_depth) {
                error_ = "nests deeper than " + std::to_string(limits_.max_depth) + " levels (at byte " +
                         std::to_string(offset_ + i) + ")";
                return false;
            }
            starts_value = true;
            in_scalar_ = false;
            break;
        case ']':
        case '}':
            if (depth_ > 0) --depth_;
            in_scalar_ = false;
            break;
        case ',':
        case ':':
        case ' ':
        case '\t':
        case '\n':
        case '\r':
            in_scalar_ = false;
            break;
        default: // a number, true, false, null (or garbage, which the parser refuses)
            if (!in_scalar_) starts_value = true;
            in_scalar_ = true;
            break;
        }
        // Keys are strings too and are counted as values: an upper bound is all this needs.
        if (starts_value && limits_.max_values && ++values_ > limits_.max_values) {
            error_ = "has more than " + std::to_string(limits_.max_values) + " values (at byte " +
                     std::to_string(offset_ + i) + ")";
            return false;
        }
    }
    offset_ += piece.size();
    return true;
}

std::optional<std::string> check(std::string_view text, const Limits& limits) {
    Scanner s(limits);
    if (s.feed(text)) return std::nullopt;
    return s.error();
}

} // namespace moa::json_guard
