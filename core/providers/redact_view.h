// SPDX-License-Identifier: MIT
#pragma once
// A key can come back spelled so that a plain search misses it: percent-encoded (all of it or
// some characters, either case of hex), as HTML character references (&#115; &#x73; &amp;) or
// JSON \u escapes, with zero-width characters, soft hyphens or blanks between its characters,
// in fullwidth forms (ｓｋ－), with another dash or "_" for "-", with ANSI escapes or short HTML
// tags (<b></b>) inside, as Unicode tag characters. normalise() decodes those into a view in
// which every byte knows the bytes of the original it came from, so a key found in the view is
// replaced in the original, whole code points only. One pass over the text: linear in its size.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace moa::providers {

struct SourceRange {
    std::uint32_t begin = 0, end = 0; // the original bytes [begin, end)
};

struct NormalisedView {
    std::string text;                // the decoded text
    std::vector<SourceRange> source; // for each byte of `text`
    std::size_t pending = 0;         // (stream) the original from here on may be an escape cut short
};

// Blanks (space, tab, CR, LF, U+3000), zero-width characters (U+200B–U+200D, U+2060, U+FEFF) and
// the soft hyphen (U+00AD) are left out of the view; more than this many in a row leave a NUL
// in their place, so a key is not put together from pieces far apart (and a text cut while
// streaming holds back a bounded part).
inline constexpr int kMaxSkippedRun = 8;

// The most bytes of the original one byte of the view stands for (with the skipped run before it).
inline constexpr std::size_t kMaxSourcePerByte = 12 * (kMaxSkippedRun + 2);

// `stream`: an escape or a UTF-8 sequence that the end of `text` cuts short is left out of the
// view (`pending` says where it starts); otherwise it is taken as written (pending = size).
NormalisedView normalise(std::string_view text, bool stream);

} // namespace moa::providers
