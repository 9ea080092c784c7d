// SPDX-License-Identifier: MIT
#include "eval/overlap.h"

#include <algorithm>
#include <cctype>

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

} // namespace moa::eval
