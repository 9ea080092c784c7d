// SPDX-License-Identifier: MIT
#include "run/rendered_text_map.h"

#include <QTextDocument>

#include "run/bidi_marks.h"

#include <algorithm>

namespace moa::ui {

namespace {
// Rendered characters that stand for no character of the source: spaces and block breaks (the
// source's line breaks and indentation vary), objects (images) and table frames.
bool layout_only(QChar c) {
    return c.isSpace() || c == QChar::ObjectReplacementCharacter || c.unicode() == 0xFDD0 || c.unicode() == 0xFDD1;
}

// The length of an HTML entity ("&amp;", "&#42;", "&#x2A;") starting at `at`, or 0.
int entity_length(const QString& s, int at) {
    if (at >= s.size() || s[at] != u'&') return 0;
    int i = at + 1;
    if (i < s.size() && s[i] == u'#') {
        ++i;
        if (i < s.size() && (s[i] == u'x' || s[i] == u'X')) ++i;
    }
    const int first = i;
    while (i < s.size() && i - at < 40 && s[i].isLetterOrNumber() && s[i].unicode() < 128) ++i;
    return i > first && i < s.size() && s[i] == u';' ? i - at + 1 : 0;
}

// Source characters never shown as text: link and image targets ("](…)"), image descriptions
// ("![…]") and code fence lines ("```cpp"). A rendered character matched inside a link's
// address ("here" after "[a link](https://…)") would put everything after it too early.
std::vector<bool> hidden_markup(const QString& s) {
    const auto n = static_cast<int>(s.size());
    std::vector<bool> hidden(static_cast<std::size_t>(n), false);
    auto hide = [&](int from, int to) {
        for (int i = from; i < to && i < n; ++i) hidden[static_cast<std::size_t>(i)] = true;
    };
    bool line_start = true;
    for (int i = 0; i < n; ++i) {
        if (line_start) {
            int j = i;
            while (j < n && j - i < 4 && s[j] == u' ') ++j;
            if (j + 2 < n && ((s[j] == u'`' && s[j + 1] == u'`' && s[j + 2] == u'`') || (s[j] == u'~' && s[j + 1] == u'~' && s[j + 2] == u'~'))) {
                int e = j;
                while (e < n && s[e] != u'\n') ++e;
                hide(i, e);
            }
        }
        line_start = s[i] == u'\n';
        if (s[i] == u'!' && i + 1 < n && s[i + 1] == u'[') {
            int e = i + 2;
            while (e < n && s[e] != u']' && s[e] != u'\n') ++e;
            if (e < n && s[e] == u']') hide(i, e);
        }
        if (s[i] == u']' && i + 1 < n && s[i + 1] == u'(') {
            int depth = 0, e = i + 1;
            for (; e < n && s[e] != u'\n'; ++e) {
                if (s[e] == u'(') ++depth;
                else if (s[e] == u')' && --depth == 0) break;
            }
            if (e < n && s[e] == u')') hide(i + 1, e + 1);
        }
    }
    return hidden;
}
} // namespace

RenderedTextMap::RenderedTextMap(const QString& source, const QTextDocument& rendered) {
    const int n = std::max(0, rendered.characterCount());
    source_of_.resize(static_cast<std::size_t>(n));
    real_.resize(static_cast<std::size_t>(n));
    const std::vector<bool> hidden = hidden_markup(source);
    int r = 0; // where the next rendered character is looked for in the source
    for (int p = 0; p < n; ++p) {
        const QChar c = bidi::originalAt(rendered, p); // a bidi control's mark is that control
        if (layout_only(c)) {
            source_of_[static_cast<std::size_t>(p)] = r;
            continue;
        }
        const int end = std::min<int>(static_cast<int>(source.size()), r + kLookAhead);
        int k = r;
        while (k < end && (source[k] != c || hidden[static_cast<std::size_t>(k)])) ++k;
        // An entity before the match is this character decoded ("&lt;" for "<"): matching a
        // later "<" instead (or none) would put every character after it too far on.
        bool entity = false;
        for (int e = r; e < k && c != u'&' && !entity; ++e)
            if (const int len = entity_length(source, e)) {
                k = e;
                r = e + len;
                entity = true;
            }
        if (k == end) { // not in the source (a list number): no advance
            source_of_[static_cast<std::size_t>(p)] = r;
            continue;
        }
        source_of_[static_cast<std::size_t>(p)] = k;
        real_[static_cast<std::size_t>(p)] = true;
        r = std::max(r, k + 1);
        if (!entity && c == u'&') r = std::max(r, k + entity_length(source, k)); // "&amp;" is one "&"
    }
}

int RenderedTextMap::toSource(int document_position) const {
    if (source_of_.empty()) return 0;
    return source_of_[static_cast<std::size_t>(std::clamp(document_position, 0, static_cast<int>(source_of_.size()) - 1))];
}

int RenderedTextMap::toDocument(int source_index) const {
    auto p = static_cast<std::size_t>(std::lower_bound(source_of_.begin(), source_of_.end(), source_index) - source_of_.begin());
    while (p < real_.size() && !real_[p]) ++p; // not a space or block break before the text
    return static_cast<int>(p);
}

int RenderedTextMap::toDocumentEnd(int source_index) const {
    auto p = static_cast<std::size_t>(std::lower_bound(source_of_.begin(), source_of_.end(), source_index) - source_of_.begin());
    while (p > 0 && !real_[p - 1]) --p; // after the last character, not after the space that follows it
    return static_cast<int>(p);
}

} // namespace moa::ui
