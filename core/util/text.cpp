// SPDX-License-Identifier: MIT
#include "util/text.h"

#include "util/file_read.h"

#include <cctype>
#include <cstdio>

namespace moa::text {

std::size_t utf8_sequence_at(std::string_view s, std::size_t i) {
    auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    const unsigned char c = b(i);
    if (c < 0x80) return 1;
    std::size_t len;
    unsigned char lo = 0x80, hi = 0xBF; // allowed range of the second byte (RFC 3629 table)
    if (c >= 0xC2 && c <= 0xDF) len = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0) lo = 0xA0;      // no overlongs
        else if (c == 0xED) hi = 0x9F; // no surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0) lo = 0x90;      // no overlongs
        else if (c == 0xF4) hi = 0x8F; // nothing past U+10FFFF
    } else return 0;
    if (i + len > s.size()) return 0;
    if (b(i + 1) < lo || b(i + 1) > hi) return 0;
    for (std::size_t k = 2; k < len; ++k)
        if ((b(i + k) & 0xC0) != 0x80) return 0;
    return len;
}

bool bidi_control(unsigned cp) {
    return (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0x200E || cp == 0x200F || cp == 0x061C;
}

std::string bidi_control_name(unsigned cp) {
    char name[32];
    std::snprintf(name, sizeof name, "\u27E8U+%04X\u27E9", cp);
    return name;
}

std::string name_bidi_controls(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        const std::size_t len = static_cast<unsigned char>(s[i]) >= 0xC2 ? utf8_sequence_at(s, i) : 0;
        if (len >= 2 && bidi_control(code_point_at(s, i, len))) {
            out += bidi_control_name(code_point_at(s, i, len));
            i += len - 1;
        } else {
            out += s[i];
        }
    }
    return out;
}

unsigned code_point_at(std::string_view s, std::size_t i, std::size_t len) {
    const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
    if (len <= 1) return b(0);
    unsigned cp = b(0) & (len == 2 ? 0x1Fu : len == 3 ? 0x0Fu : 0x07u);
    for (std::size_t k = 1; k < len; ++k) cp = (cp << 6) | (b(k) & 0x3Fu);
    return cp;
}

std::size_t invalid_utf8_at(std::string_view s) {
    for (std::size_t i = 0; i < s.size();) {
        std::size_t n = utf8_sequence_at(s, i);
        if (n == 0) return i;
        i += n;
    }
    return std::string_view::npos;
}

std::string pointer_token(std::string_view key) {
    std::string r;
    for (char c : key) {
        if (c == '~') r += "~0";
        else if (c == '/') r += "~1";
        else r += c;
    }
    return r;
}

std::string quote_start(std::string_view s, std::size_t max_chars) {
    std::size_t n = s.size() <= max_chars ? s.size() : max_chars;
    // Do not cut inside a UTF-8 sequence (at most 3 bytes back: a run of stray continuation
    // bytes is not one).
    for (int back = 0; back < 3 && n < s.size() && n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80; ++back)
        --n;
    std::string out;
    out.reserve(n + 8);
    for (std::size_t i = 0; i < n; ++i) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        if (c >= 0x80) {
            std::size_t len = utf8_sequence_at(s, i);
            if (len == 0) {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\x%02X", c);
                out += buf;
            } else {
                out.append(s.substr(i, len));
                i += len - 1;
            }
            continue;
        }
        if (c == '\n') out += "\\n";
        else if (c == '\r') out += "\\r";
        else if (c == '\t') out += "\\t";
        else if (c < 0x20 || c == 0x7F) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02X", c);
            out += buf;
        } else out += static_cast<char>(c);
    }
    if (n < s.size()) out += "…";
    return out;
}

std::size_t code_points(std::string_view s) {
    std::size_t n = 0;
    for (unsigned char c : s)
        if ((c & 0xC0) != 0x80) ++n;
    return n;
}

long estimate_tokens(std::string_view s) {
    if (s.empty()) return 0;
    return static_cast<long>((s.size() + 3) / 4);
}

std::string trim(std::string_view s) {
    std::size_t b = 0, e = s.size();
    while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
    while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
    return std::string(s.substr(b, e - b));
}

bool starts_with_ci(std::string_view s, std::string_view prefix) {
    if (s.size() < prefix.size()) return false;
    for (std::size_t i = 0; i < prefix.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(s[i])) !=
            std::tolower(static_cast<unsigned char>(prefix[i])))
            return false;
    return true;
}

std::string to_lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

bool read_file(const std::string& path, std::string& out) {
    auto r = files::read_regular_file(path, files::kMaxDataBytes);
    if (!r) return false;
    out = std::move(*r);
    return true;
}

} // namespace moa::text
