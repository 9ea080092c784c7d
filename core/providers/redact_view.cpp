// SPDX-License-Identifier: MIT
#include "providers/redact_view.h"

#include <array>

namespace moa::providers {

namespace {

constexpr std::size_t kMaxRefDigits = 8; // &#x0000FF53; at most: a longer reference is text
constexpr std::size_t kMaxRefName = 8;
constexpr std::size_t kMaxTerminalEscape = 64; // "ESC ]8;;URL BEL" hyperlinks can be longer: then text
constexpr std::size_t kMaxHtmlTag = 32;        // "<" to ">", both included

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

bool skipped(char32_t cp) {
    return cp == ' ' || cp == '\t' || cp == '\r' || cp == '\n' || cp == 0x3000 || cp == 0xAD || (cp >= 0x200B && cp <= 0x200D) ||
           cp == 0x2060 || cp == 0xFEFF;
}

// The named references a key's characters (or what surrounds them) are written with.
char32_t named_reference(std::string_view name) {
    static constexpr std::array<std::pair<std::string_view, char>, 13> kNames{{{"amp", '&'},
                                                                               {"lt", '<'},
                                                                               {"gt", '>'},
                                                                               {"quot", '"'},
                                                                               {"apos", '\''},
                                                                               {"sol", '/'},
                                                                               {"plus", '+'},
                                                                               {"equals", '='},
                                                                               {"lowbar", '_'},
                                                                               {"period", '.'},
                                                                               {"colon", ':'},
                                                                               {"num", '#'},
                                                                               {"percnt", '%'}}};
    for (const auto& [n, c] : kNames)
        if (n == name) return static_cast<char32_t>(c);
    if (name == "shy") return 0xAD;
    if (name == "ZeroWidthSpace") return 0x200B;
    return 0;
}

// Characters that show as a dash (and "_", which keys use in its place): all read as "-", so a
// key echoed with U+2011 or "_" for its "-" is still found.
bool dash_like(char32_t cp) {
    return cp == '_' || cp == 0x058A || cp == 0x05BE || cp == 0x1806 || (cp >= 0x2010 && cp <= 0x2015) || cp == 0x2043 ||
           cp == 0x2212 || cp == 0x2E17 || cp == 0x2E1A || cp == 0x2E3A || cp == 0x2E3B || cp == 0x2E40 || cp == 0x301C ||
           cp == 0x30A0 || cp == 0xFE31 || cp == 0xFE32 || cp == 0xFE58 || cp == 0xFE63;
}

bool scalar(char32_t cp) { return cp <= 0x10FFFF && (cp < 0xD800 || cp > 0xDFFF); }

// Puts decoded bytes and code points into the view, putting UTF-8 sequences together (their
// bytes may come percent-encoded one by one) and folding fullwidth forms to ASCII.
class Builder {
public:
    explicit Builder(NormalisedView& v) : v_(v) {}

    void byte(unsigned char b, SourceRange r) {
        if (have_ > 0) {
            if ((b & 0xC0) == 0x80) {
                buf_[have_] = b;
                range_[have_] = r;
                if (++have_ == need_) finish_sequence();
                return;
            }
            flush_partial();
        }
        if (b < 0x80) return code_point(b, r);
        need_ = b >= 0xC2 && b < 0xE0 ? 2 : b >= 0xE0 && b < 0xF0 ? 3 : b >= 0xF0 && b < 0xF5 ? 4 : 0;
        if (need_ == 0) return put(b, r); // not the start of a character: as it is
        buf_[0] = b;
        range_[0] = r;
        have_ = 1;
    }

    void code_point(char32_t cp, SourceRange r) {
        if (have_ > 0) flush_partial();
        if (skipped(cp)) {
            if (++skipped_run_ > kMaxSkippedRun) put(0, r); // and counts again
            return;
        }
        if (cp >= 0xE0020 && cp <= 0xE007E) cp -= 0xE0000; // tag characters spell ASCII invisibly
        if (cp >= 0xFF01 && cp <= 0xFF5E) cp -= 0xFEE0;   // fullwidth ASCII
        if (dash_like(cp)) cp = '-';
        if (cp < 0x80) return put(static_cast<unsigned char>(cp), r);
        char out[4];
        int n = 0;
        if (cp < 0x800) {
            out[n++] = static_cast<char>(0xC0 | (cp >> 6));
        } else if (cp < 0x10000) {
            out[n++] = static_cast<char>(0xE0 | (cp >> 12));
            out[n++] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        } else {
            out[n++] = static_cast<char>(0xF0 | (cp >> 18));
            out[n++] = static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
            out[n++] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        }
        if (cp >= 0x80) out[n++] = static_cast<char>(0x80 | (cp & 0x3F));
        for (int i = 0; i < n; ++i) put(static_cast<unsigned char>(out[i]), r); // each byte: the whole character
    }

    // Bytes of a sequence the text ended in the middle of.
    bool partial() const { return have_ > 0; }
    std::uint32_t partial_begin() const { return range_[0].begin; }
    void flush_partial() {
        for (int i = 0; i < have_; ++i) put(buf_[i], range_[i]);
        have_ = 0;
    }

private:
    void put(unsigned char b, SourceRange r) {
        skipped_run_ = 0;
        v_.text += static_cast<char>(b);
        v_.source.push_back(r);
    }

    void finish_sequence() {
        char32_t cp = buf_[0] & (need_ == 2 ? 0x1F : need_ == 3 ? 0x0F : 0x07);
        for (int i = 1; i < need_; ++i) cp = (cp << 6) | (buf_[i] & 0x3F);
        const char32_t least = need_ == 2 ? 0x80 : need_ == 3 ? 0x800 : 0x10000;
        if (cp < least || !scalar(cp)) return flush_partial(); // overlong or a surrogate: bytes as they are
        have_ = 0;
        code_point(cp, SourceRange{range_[0].begin, range_[need_ - 1].end});
    }

    NormalisedView& v_;
    std::array<unsigned char, 4> buf_{};
    std::array<SourceRange, 4> range_{};
    int have_ = 0, need_ = 0;
    int skipped_run_ = 0;
};

enum class Escape { None, Decoded, CutShort };

// "%XX" at `i`.
Escape percent(std::string_view s, std::size_t i, Builder& b, std::size_t& next) {
    const std::size_t n = s.size();
    for (std::size_t k = i + 1; k < i + 3; ++k) {
        if (k >= n) return Escape::CutShort;
        if (hex_value(s[k]) < 0) return Escape::None;
    }
    b.byte(static_cast<unsigned char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2])),
           SourceRange{static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(i + 3)});
    next = i + 3;
    return Escape::Decoded;
}

// "&#115;", "&#x73;", "&amp;" at `i`.
Escape reference(std::string_view s, std::size_t i, Builder& b, std::size_t& next) {
    const std::size_t n = s.size();
    std::size_t k = i + 1;
    char32_t cp = 0;
    if (k < n && s[k] == '#') {
        ++k;
        const bool hex = k < n && (s[k] == 'x' || s[k] == 'X');
        if (hex) ++k;
        const std::size_t first = k;
        for (; k < n && k - first < kMaxRefDigits; ++k) {
            const int d = hex ? hex_value(s[k]) : (s[k] >= '0' && s[k] <= '9' ? s[k] - '0' : -1);
            if (d < 0) break;
            cp = cp * (hex ? 16 : 10) + static_cast<char32_t>(d);
        }
        if (k >= n) return Escape::CutShort;
        if (k == first || s[k] != ';' || !scalar(cp)) return Escape::None;
    } else {
        const std::size_t first = k;
        while (k < n && k - first < kMaxRefName && ((s[k] >= 'a' && s[k] <= 'z') || (s[k] >= 'A' && s[k] <= 'Z'))) ++k;
        if (k >= n) return Escape::CutShort;
        if (s[k] != ';' || k == first) return Escape::None;
        cp = named_reference(s.substr(first, k - first));
        if (cp == 0) return Escape::None;
    }
    b.code_point(cp, SourceRange{static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(k + 1)});
    next = k + 1;
    return Escape::Decoded;
}

// "\u0073" and "\/" (JSON) at `i`.
Escape json_escape(std::string_view s, std::size_t i, Builder& b, std::size_t& next) {
    const std::size_t n = s.size();
    if (i + 1 >= n) return Escape::CutShort;
    if (s[i + 1] == '/') {
        b.code_point('/', SourceRange{static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(i + 2)});
        next = i + 2;
        return Escape::Decoded;
    }
    if (s[i + 1] != 'u') return Escape::None;
    char32_t cp = 0;
    for (std::size_t k = i + 2; k < i + 6; ++k) {
        if (k >= n) return Escape::CutShort;
        const int d = hex_value(s[k]);
        if (d < 0) return Escape::None;
        cp = cp * 16 + static_cast<char32_t>(d);
    }
    if (!scalar(cp)) return Escape::None;
    b.code_point(cp, SourceRange{static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(i + 6)});
    next = i + 6;
    return Escape::Decoded;
}

// An ANSI CSI ("ESC [" ... final byte) or OSC ("ESC ]" ... BEL or "ESC \\") sequence at `i`:
// a terminal shows nothing for it, so it is left out of the view.
Escape terminal_escape(std::string_view s, std::size_t i, std::size_t& next) {
    const std::size_t n = s.size();
    if (i + 1 >= n) return Escape::CutShort;
    const char kind = s[i + 1];
    if (kind != '[' && kind != ']') return Escape::None;
    for (std::size_t k = i + 2; k < i + 2 + kMaxTerminalEscape; ++k) {
        if (k >= n) return Escape::CutShort;
        const auto c = static_cast<unsigned char>(s[k]);
        if (kind == '[') {
            if (c >= 0x40 && c <= 0x7E) {
                next = k + 1;
                return Escape::Decoded;
            }
            if (c < 0x20 || c > 0x3F) return Escape::None;
        } else if (c == 0x07 || (c == 0x1B && k + 1 < n && s[k + 1] == '\\')) {
            next = c == 0x07 ? k + 1 : k + 2;
            return Escape::Decoded;
        } else if (c == 0x1B && k + 1 >= n) {
            return Escape::CutShort;
        }
    }
    return Escape::None;
}

// A short HTML tag ("<b>", "</b>", "<span class=x>") at `i`: markup shows nothing either.
Escape html_tag(std::string_view s, std::size_t i, std::size_t& next) {
    const std::size_t n = s.size();
    if (i + 1 >= n) return Escape::CutShort;
    if (s[i + 1] == ' ' || s[i + 1] == '\t' || s[i + 1] == '\n' || s[i + 1] == '\r' || s[i + 1] == '<' || s[i + 1] == '>')
        return Escape::None;
    for (std::size_t k = i + 1; k < i + kMaxHtmlTag; ++k) {
        if (k >= n) return Escape::CutShort;
        if (s[k] == '<') return Escape::None;
        if (s[k] == '>') {
            next = k + 1;
            return Escape::Decoded;
        }
    }
    return Escape::None;
}

} // namespace

NormalisedView normalise(std::string_view text, bool stream) {
    NormalisedView v;
    v.text.reserve(text.size());
    v.source.reserve(text.size());
    v.pending = text.size();
    Builder b(v);
    std::size_t i = 0;
    while (i < text.size()) {
        const char c = text[i];
        Escape e = Escape::None;
        std::size_t next = i;
        if (c == '%') e = percent(text, i, b, next);
        else if (c == '&') e = reference(text, i, b, next);
        else if (c == '\\') e = json_escape(text, i, b, next);
        else if (c == '\x1b') e = terminal_escape(text, i, next);
        else if (c == '<') e = html_tag(text, i, next);
        if (e == Escape::Decoded) {
            i = next;
            continue;
        }
        if (e == Escape::CutShort && stream) {
            v.pending = i;
            break;
        }
        b.byte(static_cast<unsigned char>(c), SourceRange{static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(i + 1)});
        ++i;
    }
    if (b.partial()) {
        if (stream) v.pending = b.partial_begin();
        else b.flush_partial();
    }
    return v;
}

} // namespace moa::providers
