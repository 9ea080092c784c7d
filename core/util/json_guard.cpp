// SPDX-License-Identifier: MIT
#include "util/json_guard.h"

#include <cstdio>

#include <nlohmann/json.hpp>

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

std::string brief(const nlohmann::json& v, std::size_t max_bytes) {
    using T = nlohmann::json::value_t;
    switch (v.type()) {
    case T::string: {
        const auto& s = v.get_ref<const std::string&>();
        if (s.size() <= max_bytes) return s;
        std::size_t n = max_bytes;
        while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n; // a UTF-8 boundary
        return s.substr(0, n) + "…";
    }
    case T::boolean: return v.get<bool>() ? "true" : "false";
    case T::number_integer: return std::to_string(v.get<std::int64_t>());
    case T::number_unsigned: return std::to_string(v.get<std::uint64_t>());
    case T::number_float: {
        char buf[40];
        std::snprintf(buf, sizeof buf, "%.17g", v.get<double>());
        return buf;
    }
    case T::object: return "an object of " + std::to_string(v.size()) + (v.size() == 1 ? " member" : " members");
    case T::array: return "an array of " + std::to_string(v.size()) + (v.size() == 1 ? " value" : " values");
    case T::null: return "null";
    default: return "a value that is not text";
    }
}

} // namespace moa::json_guard
