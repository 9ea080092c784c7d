// SPDX-License-Identifier: MIT
#pragma once
#include <string>
#include <string_view>

namespace moa::text {

// The first `max_chars` bytes of `s` (cut at a UTF-8 boundary), with an ellipsis when cut,
// and control characters and bytes that are not UTF-8 shown as escapes: safe to quote in an error message.
std::string quote_start(std::string_view s, std::size_t max_chars = 80);
// A key as one step of a JSON pointer (RFC 6901: "~" becomes "~0", "/" becomes "~1"), so that a
// model id such as "Qwen/Qwen1.5-72B-Chat" is one step, not two.
std::string pointer_token(std::string_view key);

// The length of the well-formed UTF-8 sequence starting at s[i] (1–4), or 0 when the bytes
// there are not UTF-8 (a stray continuation byte, an overlong form, a surrogate, a cut sequence).
std::size_t utf8_sequence_at(std::string_view s, std::size_t i);

// Offset of the first byte that is not well-formed UTF-8, or npos when all of `s` is.
std::size_t invalid_utf8_at(std::string_view s);

// Unicode's bidirectional controls (U+061C, U+200E, U+200F, U+202A..U+202E, U+2066..U+2069):
// not controls to a terminal or a browser, but they make text read in another order than it is
// (a file name, a command, a line of code). Every output that shows them visibly asks here.
bool bidi_control(unsigned cp);
// How every output names a bidirectional control it shows instead of obeying: "⟨U+202E⟩".
std::string bidi_control_name(unsigned cp);
// `s` with each bidirectional control replaced by its name (bytes that are not UTF-8 kept as they are).
std::string name_bidi_controls(std::string_view s);

// The code point of the well-formed UTF-8 sequence of `len` bytes at s[i] (utf8_sequence_at).
unsigned code_point_at(std::string_view s, std::size_t i, std::size_t len);

// Number of Unicode code points in a UTF-8 string (invalid bytes count as one each).
std::size_t code_points(std::string_view s);

// Cheap token estimate used when a provider reports no usage: about four bytes a token.
long estimate_tokens(std::string_view s);

std::string trim(std::string_view s);
bool starts_with_ci(std::string_view s, std::string_view prefix);
std::string to_lower(std::string_view s);

// Reads a whole regular file of at most files::kMaxDataBytes; false when it cannot be read
// (files::read_regular_file says why).
bool read_file(const std::string& path, std::string& out);

} // namespace moa::text
