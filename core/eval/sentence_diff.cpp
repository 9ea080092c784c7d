// SPDX-License-Identifier: MIT
#include "eval/sentence_diff.h"

#include <algorithm>

namespace moa::eval {

namespace {

bool same_words(const SplitText& x, const ProvSentence& s, const SplitText& y, const ProvSentence& t) {
    if (s.word_count != t.word_count) return false;
    for (std::size_t k = 0; k < s.word_count; ++k)
        if (x.words[s.first_word + k].hash != y.words[t.first_word + k].hash) return false;
    return true;
}

// The words of s missing from t and those of t missing from s (word LCS of the pair).
void changed_words(const SplitText& x, const ProvSentence& s, const SplitText& y, const ProvSentence& t,
                   std::vector<Span>& in_s, std::vector<Span>& in_t) {
    const std::size_t n = s.word_count, m = t.word_count;
    if (n * m > kPairWordCells) return;
    std::vector<std::vector<std::uint32_t>> len(n + 1, std::vector<std::uint32_t>(m + 1, 0));
    for (std::size_t i = n; i-- > 0;)
        for (std::size_t j = m; j-- > 0;)
            len[i][j] = x.words[s.first_word + i].hash == y.words[t.first_word + j].hash ? len[i + 1][j + 1] + 1
                                                                                        : std::max(len[i + 1][j], len[i][j + 1]);
    std::size_t i = 0, j = 0;
    while (i < n || j < m) {
        if (i < n && j < m && x.words[s.first_word + i].hash == y.words[t.first_word + j].hash) ++i, ++j;
        else if (j == m || (i < n && len[i + 1][j] >= len[i][j + 1])) in_s.push_back(x.words[s.first_word + i++].span);
        else in_t.push_back(y.words[t.first_word + j++].span);
    }
}

} // namespace

SentenceDiff diff_sentences(std::string_view a, std::string_view b) {
    SentenceDiff d;
    const SourceIndex index(a);
    const SplitText& sa = index.split();
    const SplitText sb = split_text(b);
    d.a.resize(sa.sentences.size());
    d.b.resize(sb.sentences.size());
    for (std::size_t i = 0; i < sa.sentences.size(); ++i) d.a[i] = {SentenceDiffPiece::Kind::Only, sa.sentences[i].span, -1, {}};
    for (std::size_t i = 0; i < sb.sentences.size(); ++i) d.b[i] = {SentenceDiffPiece::Kind::Only, sb.sentences[i].span, -1, {}};

    // Pair each sentence of b with its best match in a, each sentence of a used once (a repeat
    // in b is an added sentence).
    std::vector<std::pair<int, int>> pairs; // (b, a), in b's order
    for (std::size_t i = 0; i < sb.sentences.size(); ++i) {
        const auto m = index.best_sentence(sb, sb.sentences[i]);
        if (!m.sentence || d.a[*m.sentence].partner >= 0) continue;
        d.a[*m.sentence].partner = static_cast<int>(i);
        d.b[i].partner = static_cast<int>(*m.sentence);
        pairs.emplace_back(static_cast<int>(i), static_cast<int>(*m.sentence));
    }
    // The pairs in the same order on both sides: the longest increasing run of a's indices
    // (patience sorting, n log n). The other pairs moved.
    std::vector<int> tails, tail_at, prev(pairs.size(), -1);
    for (std::size_t k = 0; k < pairs.size(); ++k) {
        const int v = pairs[k].second;
        auto it = std::lower_bound(tails.begin(), tails.end(), v);
        const auto pos = static_cast<std::size_t>(it - tails.begin());
        if (pos > 0) prev[k] = tail_at[pos - 1];
        if (it == tails.end()) tails.push_back(v), tail_at.push_back(static_cast<int>(k));
        else *it = v, tail_at[pos] = static_cast<int>(k);
    }
    std::vector<bool> in_place(pairs.size(), false);
    for (int k = tail_at.empty() ? -1 : tail_at.back(); k >= 0; k = prev[static_cast<std::size_t>(k)]) in_place[static_cast<std::size_t>(k)] = true;
    for (std::size_t k = 0; k < pairs.size(); ++k) {
        auto& pb = d.b[static_cast<std::size_t>(pairs[k].first)];
        auto& pa = d.a[static_cast<std::size_t>(pairs[k].second)];
        const auto kind = in_place[k] ? SentenceDiffPiece::Kind::Same : SentenceDiffPiece::Kind::Moved;
        pa.kind = pb.kind = kind;
        d.moved += !in_place[k];
        const auto& s = sa.sentences[static_cast<std::size_t>(pairs[k].second)];
        const auto& t = sb.sentences[static_cast<std::size_t>(pairs[k].first)];
        if (!same_words(sa, s, sb, t)) {
            changed_words(sa, s, sb, t, pa.changed_words, pb.changed_words);
            ++d.changed;
        }
    }
    for (const auto& p : d.a) d.deleted += p.kind == SentenceDiffPiece::Kind::Only;
    for (const auto& p : d.b) d.added += p.kind == SentenceDiffPiece::Kind::Only;
    return d;
}

} // namespace moa::eval
