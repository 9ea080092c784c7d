// SPDX-License-Identifier: MIT
#include "cli/terminal.h"

#include <unistd.h>

#include <iostream>
#include <streambuf>

namespace moa::cli {

namespace {

// U+2400 + c for C0, U+2421 for DEL: "␛" shows where an escape was.
void picture(std::string& out, unsigned char c) {
    const unsigned cp = c == 0x7F ? 0x2421u : 0x2400u + c;
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
}
constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

// Byte by byte, so that it works on a stream cut anywhere: a 0xC2 lead byte is held back until
// the next byte says whether it starts a C1 control (U+0080..U+009F).
class Filter {
public:
    void put(unsigned char c, std::string& out) {
        if (held_c2_) {
            held_c2_ = false;
            if (c >= 0x80 && c <= 0x9F) {
                out += kReplacement;
                return;
            }
            out += '\xC2';
            if (c >= 0xA0 && c <= 0xBF) {
                out += static_cast<char>(c);
                return;
            }
            // Not a continuation: the 0xC2 was cut short; go on with c on its own.
        }
        if (c < 0x80) {
            pending_ = 0;
            if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7F) picture(out, c);
            else out += static_cast<char>(c);
            return;
        }
        if (c < 0xC0) { // a continuation byte
            if (pending_ > 0) {
                --pending_;
                out += static_cast<char>(c);
            } else {
                out += kReplacement; // stray: could be a raw 8-bit C1 such as 0x9B (CSI)
            }
            return;
        }
        if (c == 0xC2) {
            held_c2_ = true;
            pending_ = 0;
            return;
        }
        pending_ = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : 1;
        out += static_cast<char>(c);
    }
    void flush(std::string& out) {
        if (held_c2_) out += '\xC2';
        held_c2_ = false;
    }

private:
    bool held_c2_ = false;
    int pending_ = 0;
};

class FilterBuf : public std::streambuf {
public:
    explicit FilterBuf(std::streambuf* dest) : dest_(dest) {}

protected:
    int_type overflow(int_type ch) override {
        if (traits_type::eq_int_type(ch, traits_type::eof())) return sync() == 0 ? traits_type::not_eof(ch) : ch;
        std::string out;
        filter_.put(static_cast<unsigned char>(traits_type::to_char_type(ch)), out);
        if (!out.empty() && dest_->sputn(out.data(), static_cast<std::streamsize>(out.size())) != std::streamsize(out.size()))
            return traits_type::eof();
        return ch;
    }
    std::streamsize xsputn(const char* s, std::streamsize n) override {
        std::string out;
        out.reserve(static_cast<std::size_t>(n) + 16);
        for (std::streamsize i = 0; i < n; ++i) filter_.put(static_cast<unsigned char>(s[i]), out);
        if (!out.empty() && dest_->sputn(out.data(), static_cast<std::streamsize>(out.size())) != std::streamsize(out.size()))
            return 0;
        return n;
    }
    int sync() override { return dest_->pubsync(); }

private:
    std::streambuf* dest_;
    Filter filter_;
};

} // namespace

std::string terminal_safe(std::string_view s) {
    Filter f;
    std::string out;
    out.reserve(s.size());
    for (char c : s) f.put(static_cast<unsigned char>(c), out);
    f.flush(out);
    return out;
}

std::string for_fd(int fd, std::string_view s) { return ::isatty(fd) ? terminal_safe(s) : std::string(s); }

void guard_terminal_output() {
    // Never freed: the streams are flushed at exit, after any static object would be destroyed.
    if (::isatty(STDOUT_FILENO)) std::cout.rdbuf(new FilterBuf(std::cout.rdbuf()));
    if (::isatty(STDERR_FILENO)) std::cerr.rdbuf(new FilterBuf(std::cerr.rdbuf()));
}

} // namespace moa::cli
