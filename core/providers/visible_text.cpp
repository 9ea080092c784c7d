// SPDX-License-Identifier: MIT
#include "providers/visible_text.h"

namespace moa::providers {

bool is_invisible(char32_t c) {
    // Controls (C0, DEL, C1) draw nothing either (review 10: NUL deltas held a run).
    if (c <= 0x20 || (c >= 0x7F && c <= 0xA0) || c == 0xAD || c == 0x034F) return true;
    if (c < 0x0600) return false;
    // Blank-looking letters and fillers: Hangul fillers, Khmer inherent vowels, the braille blank,
    // variation selectors (review 10: U+2800, U+3164, U+FE0F deltas held a run).
    if (c == 0x115F || c == 0x1160 || c == 0x17B4 || c == 0x17B5 || (c >= 0x180B && c <= 0x180F) || c == 0x2800 ||
        c == 0x3164 || c == 0xFFA0 || (c >= 0xFE00 && c <= 0xFE0F) || (c >= 0xE0100 && c <= 0xE01EF))
        return true;
    if ((c >= 0x0600 && c <= 0x0605) || c == 0x061C || c == 0x06DD || c == 0x070F || c == 0x08E2 || c == 0x1680 ||
        c == 0x180E)
        return true;
    if ((c >= 0x2000 && c <= 0x200F) || (c >= 0x2028 && c <= 0x202F) || (c >= 0x205F && c <= 0x2064) ||
        (c >= 0x2066 && c <= 0x206F) || c == 0x3000 || c == 0xFEFF || (c >= 0xFFF9 && c <= 0xFFFB))
        return true;
    return c == 0x110BD || c == 0x110CD || (c >= 0x13430 && c <= 0x1343F) || (c >= 0x1BCA0 && c <= 0x1BCA3) ||
           (c >= 0x1D173 && c <= 0x1D17A) || c == 0xE0001 || (c >= 0xE0020 && c <= 0xE007F);
}

bool VisibleText::adds_visible(std::string_view piece) {
    std::string joined;
    if (!carry_.empty()) {
        joined = carry_ + std::string(piece);
        piece = joined;
        carry_.clear();
    }
    bool visible = false;
    for (std::size_t i = 0; i < piece.size();) {
        const auto b = static_cast<unsigned char>(piece[i]);
        const std::size_t len = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3 : (b >> 3) == 0x1E ? 4 : 0;
        if (len == 0) { // a stray continuation byte or an invalid one: bytes of answer all the same
            visible = true;
            ++i;
            continue;
        }
        if (i + len > piece.size()) { // cut at the end of the piece: judged with the next one
            bool well_formed = true;
            for (std::size_t k = i + 1; k < piece.size(); ++k)
                well_formed = well_formed && (static_cast<unsigned char>(piece[k]) & 0xC0) == 0x80;
            if (well_formed) carry_.assign(piece.substr(i));
            else visible = true;
            break;
        }
        // A terminal escape (ESC [ … final byte, ESC ] … BEL or ESC \) draws nothing: skipped whole.
        if (b == 0x1B && i + 1 < piece.size() && (piece[i + 1] == '[' || piece[i + 1] == ']')) {
            const bool csi = piece[i + 1] == '[';
            std::size_t k = i + 2;
            while (k < piece.size()) {
                const auto e = static_cast<unsigned char>(piece[k]);
                if (csi ? (e >= 0x40 && e <= 0x7E) : (e == 0x07 || e == 0x1B)) break;
                ++k;
            }
            i = k < piece.size() ? k + 1 : k;
            continue;
        }
        char32_t cp = len == 1 ? b : len == 2 ? (b & 0x1F) : len == 3 ? (b & 0x0F) : (b & 0x07);
        bool ok = true;
        for (std::size_t k = 1; k < len; ++k) {
            const auto cb = static_cast<unsigned char>(piece[i + k]);
            if ((cb & 0xC0) != 0x80) {
                ok = false;
                break;
            }
            cp = (cp << 6) | (cb & 0x3F);
        }
        if (!ok) {
            visible = true;
            ++i;
            continue;
        }
        if (!is_invisible(cp)) visible = true;
        i += len;
    }
    return visible;
}

} // namespace moa::providers
