// SPDX-License-Identifier: MIT
#include "cli/terminal.h"

#include <unistd.h>

#include <iostream>
#include <streambuf>

#include "util/text.h"

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


// Byte by byte, so that it works on a stream cut anywhere: a multi-byte UTF-8 sequence is held
// back until it is complete, then shown, or replaced when it is a C1 control (U+0080..U+009F),
// or named ("⟨U+202E⟩") when it is a bidirectional control.
class Filter {
public:
    void put(unsigned char c, std::string& out) {
        if (c >= 0x80 && c < 0xC0 && need_ > 0) { // a continuation of the held sequence
            seq_ += static_cast<char>(c);
            cp_ = (cp_ << 6) | (c & 0x3Fu);
            if (--need_ == 0) {
                if (cp_ <= 0x9F) out += kReplacement; // C1
                else if (text::bidi_control(cp_)) out += text::bidi_control_name(cp_); // named, as --html names it
                else out += seq_;
                seq_.clear();
            }
            return;
        }
        flush(out); // a sequence cut short goes out as it came
        if (c < 0x80) {
            if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7F) picture(out, c);
            else out += static_cast<char>(c);
            return;
        }
        if (c < 0xC0) {
            out += kReplacement; // stray: could be a raw 8-bit C1 such as 0x9B (CSI)
            return;
        }
        need_ = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : 1;
        cp_ = c & (c >= 0xF0 ? 0x07u : c >= 0xE0 ? 0x0Fu : 0x1Fu);
        seq_.assign(1, static_cast<char>(c));
    }
    void flush(std::string& out) {
        out += seq_;
        seq_.clear();
        need_ = 0;
    }

private:
    std::string seq_; // the lead byte and continuations so far
    int need_ = 0;     // continuation bytes still to come
    unsigned cp_ = 0;
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

namespace {
bool g_out_filtered = false, g_err_filtered = false;
} // namespace

void guard_pipe_output(bool out, bool err) {
    // Never freed: the streams are flushed at exit, after any static object would be destroyed.
    if (out && !g_out_filtered) std::cout.rdbuf(new FilterBuf(std::cout.rdbuf()));
    if (err && !g_err_filtered) std::cerr.rdbuf(new FilterBuf(std::cerr.rdbuf()));
    g_out_filtered = g_out_filtered || out;
    g_err_filtered = g_err_filtered || err;
}

void guard_terminal_output() { guard_pipe_output(::isatty(STDOUT_FILENO), ::isatty(STDERR_FILENO)); }

} // namespace moa::cli
