// SPDX-License-Identifier: MIT
#include "util/markdown_text.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <vector>

#include "util/text.h"

namespace moa::text {

namespace {

bool ascii_punct(char c) { return std::ispunct(static_cast<unsigned char>(c)) != 0; }

// A link target a reader may follow: the web, mail, a place on the page, or a plain relative
// path (no scheme, and nothing a renderer decodes into one: entities, escapes, percent signs,
// blanks a browser would drop). `rest` is the line after "](".
bool safe_target(std::string_view rest) {
    std::size_t i = 0;
    while (i < rest.size() && (rest[i] == ' ' || rest[i] == '\t')) ++i;
    if (i < rest.size() && rest[i] == '<') ++i;
    const std::string_view t = rest.substr(i);
    if (t.empty()) return false; // the target is on the next line: not looked into
    if (starts_with_ci(t, "http://") || starts_with_ci(t, "https://") || starts_with_ci(t, "mailto:") || t[0] == '#')
        return true;
    for (char c : t) {
        if (c == '/' || c == '?' || c == '#' || c == ')' || c == ' ' || c == '"' || c == '\'' || c == '>') return true;
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '~' && c != '-') return false;
    }
    return true;
}

// The length of the run of `c` starting at `i`.
std::size_t run_at(std::string_view s, std::size_t i, char c) {
    std::size_t n = 0;
    while (i + n < s.size() && s[i + n] == c) ++n;
    return n;
}

// One line outside code blocks, left to right as a CommonMark parser reads it: backslash
// escapes, code spans (kept as they are), then "<", "](" and "]:".
void inline_line(std::string_view line, std::string& out) {
    const bool table_row = line.find('|') != std::string_view::npos;
    // Where each run of backticks starts, by its length: a closer is found by a binary search,
    // so a long line of unmatched backticks costs no more than its length times a logarithm.
    std::map<std::size_t, std::vector<std::size_t>> runs;
    for (std::size_t j = line.find('`'); j != std::string_view::npos; j = line.find('`', j)) {
        const std::size_t m = run_at(line, j, '`');
        runs[m].push_back(j);
        j += m;
    }
    for (std::size_t i = 0; i < line.size();) {
        const char c = line[i];
        if (c == '\\' && i + 1 < line.size() && ascii_punct(line[i + 1])) {
            out.append(line.substr(i, 2));
            i += 2;
            continue;
        }
        if (c == '`') {
            const std::size_t n = run_at(line, i, '`');
            std::size_t close = std::string_view::npos;
            if (const auto same = runs.find(n); !table_row && same != runs.end()) {
                const auto next = std::upper_bound(same->second.begin(), same->second.end(), i);
                if (next != same->second.end()) close = *next;
            }
            const std::size_t end = close == std::string_view::npos ? i + n : close + n;
            out.append(line.substr(i, end - i)); // a code span whole, or backticks that open nothing
            i = end;
            continue;
        }
        if (c == '<') {
            out += "&lt;";
        } else if (c == '!' && i + 1 < line.size() && line[i + 1] == '[') {
            out += "\\!"; // never an image: a viewer fetches it on opening (a beacon), so it stays a link
        } else if (c == ']' && i + 1 < line.size() && line[i + 1] == '(' && !safe_target(line.substr(i + 2))) {
            out += "]\\(";
            ++i;
        } else if (c == ']' && i + 1 < line.size() && line[i + 1] == ':') {
            out += "]\\:"; // never a link reference definition
            ++i;
        } else {
            out += c;
        }
        ++i;
    }
}

// A code fence opening at the start of a line (CommonMark: three or more backticks, whose info
// string holds none, or tildes): its character and length, or 0.
std::size_t fence_at(std::string_view line, char& ch) {
    if (line.empty() || (line[0] != '`' && line[0] != '~')) return 0;
    const std::size_t n = run_at(line, 0, line[0]);
    if (n < 3) return 0;
    if (line[0] == '`' && line.find('`', n) != std::string_view::npos) return 0;
    ch = line[0];
    return n;
}

bool closes_fence(std::string_view line, char ch, std::size_t len) {
    std::size_t i = 0;
    while (i < line.size() && i < 3 && line[i] == ' ') ++i;
    const std::size_t n = run_at(line, i, ch);
    if (n < len) return false;
    for (std::size_t k = i + n; k < line.size(); ++k)
        if (line[k] != ' ' && line[k] != '\t' && line[k] != '\r') return false;
    return true;
}

} // namespace

std::string markdown_safe(std::string_view text) {
    // A bidirectional control is named, as --html and the terminal name it: a viewer would obey it.
    const std::string named = text::name_bidi_controls(text);
    const std::string_view s = named;
    std::string out;
    out.reserve(s.size() + s.size() / 16);
    char fence_ch = 0;
    std::size_t fence_len = 0; // non-zero inside a fenced block
    for (std::size_t at = 0; at <= s.size();) {
        std::size_t nl = s.find('\n', at);
        const bool last = nl == std::string_view::npos;
        if (last) nl = s.size();
        const std::string_view line = s.substr(at, nl - at);
        if (fence_len) {
            // Inside: as it is. The closing line is written in the opening's own form.
            if (closes_fence(line, fence_ch, fence_len)) {
                out.append(fence_len, fence_ch);
                fence_len = 0;
            } else {
                out.append(line);
            }
        } else if (char ch = 0; std::size_t n = fence_at(line, ch)) {
            // Only a fence at the very start of a line: there it opens a block at the top level
            // whatever came before (it ends a list or a quote), so where it ends is not in doubt.
            fence_ch = ch;
            fence_len = n;
            for (char c : line) {
                if (c == '<') out += "&lt;"; // the info string is not code
                else out += c;
            }
        } else {
            inline_line(line, out);
        }
        if (last) break;
        out += '\n';
        at = nl + 1;
    }
    if (fence_len) { // still open: closed, so that what follows in the document stays outside it
        out += '\n';
        out.append(fence_len, fence_ch);
    }
    return out;
}

std::string markdown_inline(std::string_view s) {
    std::string line = text::name_bidi_controls(s);
    for (auto& c : line)
        if (c == '\n' || c == '\r') c = ' ';
    std::string out;
    inline_line(line, out);
    return out;
}

} // namespace moa::text
