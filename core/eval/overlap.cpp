// SPDX-License-Identifier: MIT
#include "eval/overlap.h"

#include <algorithm>
#include <cctype>
#include <cstdint>

namespace moa::eval {

std::vector<std::string> word_tokens(std::string_view text) {
    std::vector<std::string> out;
    std::string cur;
    for (unsigned char c : text) {
        // Letters and digits (and any byte of a multi-byte UTF-8 character) make words.
        if (std::isalnum(c) || c >= 0x80) cur.push_back(static_cast<char>(std::tolower(c)));
        else if (!cur.empty()) {
            out.push_back(std::move(cur));
            cur.clear();
        }
    }
    if (!cur.empty()) out.push_back(std::move(cur));
    return out;
}

RougeL rouge_l(std::string_view candidate, std::string_view reference, std::size_t max_tokens) {
    auto a = word_tokens(candidate), b = word_tokens(reference);
    if (a.size() > max_tokens) a.resize(max_tokens);
    if (b.size() > max_tokens) b.resize(max_tokens);
    RougeL r;
    if (a.empty() || b.empty()) return r;
    std::vector<std::size_t> prev(b.size() + 1, 0), cur(b.size() + 1, 0);
    for (std::size_t i = 1; i <= a.size(); ++i) {
        for (std::size_t j = 1; j <= b.size(); ++j)
            cur[j] = a[i - 1] == b[j - 1] ? prev[j - 1] + 1 : std::max(prev[j], cur[j - 1]);
        std::swap(prev, cur);
    }
    r.lcs = prev[b.size()];
    r.precision = static_cast<double>(r.lcs) / static_cast<double>(a.size());
    r.recall = static_cast<double>(r.lcs) / static_cast<double>(b.size());
    r.f = r.lcs ? 2 * r.precision * r.recall / (r.precision + r.recall) : 0;
    return r;
}

namespace {
// Words (letters, digits, UTF-8 bytes) and single other characters, each with the spaces after it.
std::vector<std::string_view> diff_tokens(std::string_view t, bool lines) {
    std::vector<std::string_view> out;
    std::size_t i = 0;
    auto word = [](unsigned char c) { return std::isalnum(c) || c >= 0x80; };
    while (i < t.size()) {
        std::size_t j = i + 1;
        if (lines) {
            while (j < t.size() && t[j - 1] != '\n') ++j;
        } else {
            if (word(static_cast<unsigned char>(t[i])))
                while (j < t.size() && word(static_cast<unsigned char>(t[j]))) ++j;
            // Spaces go with the word before them, so a changed passage is marked in one piece
            // rather than word, space, word.
            while (j < t.size() && (t[j] == ' ' || t[j] == '\t')) ++j;
        }
        out.push_back(t.substr(i, j - i));
        i = j;
    }
    return out;
}

void push(std::vector<DiffPiece>& v, DiffPiece::Op op, std::string_view text) {
    if (text.empty()) return;
    if (!v.empty() && v.back().op == op) v.back().text.append(text);
    else v.push_back({op, std::string(text)});
}

// LCS alignment of token lists; false when the table would pass `max_cells`.
bool align(const std::vector<std::string_view>& a, const std::vector<std::string_view>& b, std::size_t max_cells,
           std::vector<DiffPiece>& out) {
    std::size_t pre = 0;
    while (pre < a.size() && pre < b.size() && a[pre] == b[pre]) ++pre;
    std::size_t suf = 0;
    while (suf < a.size() - pre && suf < b.size() - pre && a[a.size() - 1 - suf] == b[b.size() - 1 - suf]) ++suf;
    const std::size_t n = a.size() - pre - suf, m = b.size() - pre - suf;
    if (n && m && n * m > max_cells) return false;
    for (std::size_t i = 0; i < pre; ++i) push(out, DiffPiece::Op::Equal, a[i]);
    // L[i][j]: LCS of a[pre+i..] and b[pre+j..] (suffix table, so the walk goes forward).
    std::vector<std::uint32_t> L((n + 1) * (m + 1), 0);
    auto at = [&](std::size_t i, std::size_t j) -> std::uint32_t& { return L[i * (m + 1) + j]; };
    for (std::size_t i = n; i-- > 0;)
        for (std::size_t j = m; j-- > 0;)
            at(i, j) = a[pre + i] == b[pre + j] ? at(i + 1, j + 1) + 1 : std::max(at(i + 1, j), at(i, j + 1));
    std::size_t i = 0, j = 0;
    while (i < n || j < m) {
        if (i < n && j < m && a[pre + i] == b[pre + j]) {
            push(out, DiffPiece::Op::Equal, a[pre + i]);
            ++i, ++j;
        } else if (j < m && (i == n || at(i, j + 1) >= at(i + 1, j))) {
            push(out, DiffPiece::Op::Insert, b[pre + j++]);
        } else {
            push(out, DiffPiece::Op::Delete, a[pre + i++]);
        }
    }
    for (std::size_t k = a.size() - suf; k < a.size(); ++k) push(out, DiffPiece::Op::Equal, a[k]);
    return true;
}
} // namespace

TextDiff diff_texts(std::string_view a, std::string_view b, std::size_t max_cells) {
    TextDiff d;
    if (!align(diff_tokens(a, false), diff_tokens(b, false), max_cells, d.pieces)) {
        d.pieces.clear();
        d.granularity = TextDiff::Granularity::Lines;
        if (!align(diff_tokens(a, true), diff_tokens(b, true), max_cells, d.pieces)) {
            d.pieces.clear();
            d.granularity = TextDiff::Granularity::Whole;
            push(d.pieces, DiffPiece::Op::Delete, a);
            push(d.pieces, DiffPiece::Op::Insert, b);
        }
    }
    std::size_t same = 0;
    for (const auto& p : d.pieces)
        if (p.op == DiffPiece::Op::Equal) same += p.text.size();
    d.shared_a = a.empty() ? 1.0 : static_cast<double>(same) / static_cast<double>(a.size());
    d.shared_b = b.empty() ? 1.0 : static_cast<double>(same) / static_cast<double>(b.size());
    return d;
}

} // namespace moa::eval
