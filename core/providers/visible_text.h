// SPDX-License-Identifier: MIT
#pragma once
// Whether pieces of a streamed answer add anything a reader sees: the idle timer counts only
// those as progress. White space and Unicode format characters (zero-width spaces and joiners,
// the byte order mark, the soft hyphen, bidi controls) are invisible, so a stream of them is a
// keep-alive like comments or empty deltas, not an answer growing.
#include <string>
#include <string_view>

namespace moa::providers {

class VisibleText {
public:
    // True when `piece` holds a visible character. A character split between pieces (a UTF-8
    // sequence cut at the end of one delta) is judged once it is whole.
    bool adds_visible(std::string_view piece);
    void reset() { carry_.clear(); }

private:
    std::string carry_; // the start of a UTF-8 sequence cut at the end of the last piece
};

// White space or a format character (Unicode White_Space or general category Cf).
bool is_invisible(char32_t cp);

} // namespace moa::providers
