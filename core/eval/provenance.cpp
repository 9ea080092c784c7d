// SPDX-License-Identifier: MIT
#include "eval/provenance.h"

#include <algorithm>

#include "util/text.h"

namespace moa::eval {

namespace {

constexpr std::uint64_t kFnvBasis = 1469598103934665603ull;
constexpr std::uint64_t kFnvPrime = 1099511628211ull;

// A finaliser so that hashes that differ in few bits spread over the tables (splitmix64).
std::uint64_t mix(std::uint64_t x) {
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}
std::uint64_t combine(std::uint64_t seed, std::uint64_t v) { return mix(seed ^ (v + 0x9e3779b97f4a7c15ull + (seed << 6))); }

char32_t decode(std::string_view s, std::size_t i, std::size_t len) {
    const auto b = [&](std::size_t k) { return static_cast<char32_t>(static_cast<unsigned char>(s[i + k])); };
    switch (len) {
    case 1: return b(0);
    case 2: return ((b(0) & 0x1F) << 6) | (b(1) & 0x3F);
    case 3: return ((b(0) & 0x0F) << 12) | ((b(1) & 0x3F) << 6) | (b(2) & 0x3F);
    default: return ((b(0) & 0x07) << 18) | ((b(1) & 0x3F) << 12) | ((b(2) & 0x3F) << 6) | (b(3) & 0x3F);
    }
}

enum class Kind { Word, Single, Space, Newline, Other };

Kind classify(char32_t c) {
    if (c < 0x80) {
        if (c == '\n') return Kind::Newline;
        if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') return Kind::Space;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return Kind::Word;
        return Kind::Other;
    }
    if (c == 0x3000 || c == 0x00A0 || (c >= 0x2000 && c <= 0x200A)) return Kind::Space;
    if (c == 0x2028 || c == 0x2029) return Kind::Newline;
    if ((c >= 0x3040 && c <= 0x9FFF) || (c >= 0xAC00 && c <= 0xD7AF) || (c >= 0xF900 && c <= 0xFAFF)) return Kind::Single;
    if ((c >= 0x00A0 && c <= 0x00BF) || c == 0x00D7 || c == 0x00F7 || (c >= 0x2000 && c <= 0x2BFF) ||
        (c >= 0x3000 && c <= 0x303F) || (c >= 0xFE30 && c <= 0xFE4F) || (c >= 0xFF00 && c <= 0xFF0F) ||
        (c >= 0xFF1A && c <= 0xFF20) || (c >= 0xFF3B && c <= 0xFF40) || (c >= 0xFF5B && c <= 0xFF65))
        return Kind::Other;
    return Kind::Word;
}

bool ends_sentence(char32_t c) { return c == '.' || c == '!' || c == '?' || c == 0x2026; }
bool ends_sentence_without_space(char32_t c) { return c == 0x3002 || c == 0xFF01 || c == 0xFF1F; }
bool closes(char32_t c) {
    return c == '"' || c == '\'' || c == ')' || c == ']' || c == '}' || c == '*' || c == '_' || c == 0x2019 ||
           c == 0x201D || c == 0x00BB || c == 0x300D || c == 0x300F || c == 0xFF09;
}
bool is_space_byte(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'; }

bool all_digits(std::string_view w) {
    return !w.empty() && std::all_of(w.begin(), w.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Byte spans of the runs of consecutive words marked in `found`.
std::vector<Span> marked_spans(const SplitText& t, const ProvSentence& s, const std::vector<bool>& found) {
    std::vector<Span> out;
    for (std::size_t k = 0; k < s.word_count; ++k) {
        if (!found[k]) continue;
        const Span w = t.words[s.first_word + k].span;
        if (k > 0 && found[k - 1] && !out.empty()) out.back().end = w.end;
        else out.push_back(w);
    }
    return out;
}

// Distinct words of a sentence with their counts.
std::vector<std::pair<std::uint64_t, std::uint32_t>> bag(const SplitText& t, const ProvSentence& s) {
    std::vector<std::uint64_t> hs;
    hs.reserve(s.word_count);
    for (std::size_t k = 0; k < s.word_count; ++k) hs.push_back(t.words[s.first_word + k].hash);
    std::sort(hs.begin(), hs.end());
    std::vector<std::pair<std::uint64_t, std::uint32_t>> out;
    for (auto h : hs) {
        if (!out.empty() && out.back().first == h) ++out.back().second;
        else out.emplace_back(h, 1);
    }
    return out;
}

std::uint64_t sentence_key(const SplitText& t, const ProvSentence& s) {
    std::uint64_t h = kFnvBasis;
    for (std::size_t k = 0; k < s.word_count; ++k) h = combine(h, t.words[s.first_word + k].hash);
    return h;
}

std::uint64_t run_key(const SplitText& t, std::size_t first) {
    std::uint64_t h = 0x5157;
    for (std::size_t k = 0; k < kRun; ++k) h = combine(h, t.words[first + k].hash);
    return h;
}

} // namespace

SplitText split_text(std::string_view text) {
    SplitText out;
    const std::size_t n = text.size();
    constexpr std::size_t none = std::string_view::npos;
    std::size_t sent_begin = none, sent_first_word = 0;
    std::size_t word_begin = none;
    std::uint64_t word_hash = kFnvBasis;

    auto end_word = [&](std::size_t end) {
        if (word_begin == none) return;
        out.words.push_back({mix(word_hash), {word_begin, end}});
        word_begin = none;
    };
    auto end_sentence = [&](std::size_t end) {
        if (sent_begin != none && out.words.size() > sent_first_word) {
            while (end > sent_begin && is_space_byte(text[end - 1])) --end;
            out.sentences.push_back({{sent_begin, end}, sent_first_word, out.words.size() - sent_first_word});
        }
        sent_begin = none;
        sent_first_word = out.words.size();
    };

    std::size_t i = 0;
    while (i < n) {
        const std::size_t len = text::utf8_sequence_at(text, i);
        if (len == 0) { // not UTF-8: separates words
            end_word(i);
            if (sent_begin == none) sent_begin = i;
            ++i;
            continue;
        }
        const char32_t cp = decode(text, i, len);
        const Kind kind = classify(cp);
        if (kind == Kind::Newline) {
            end_word(i);
            end_sentence(i);
            i += len;
            continue;
        }
        if (kind == Kind::Space) {
            end_word(i);
            i += len;
            continue;
        }
        if (sent_begin == none) sent_begin = i;
        if (kind == Kind::Word) {
            if (word_begin == none) {
                word_begin = i;
                word_hash = kFnvBasis;
            }
            for (std::size_t k = 0; k < len; ++k) {
                unsigned char c = static_cast<unsigned char>(text[i + k]);
                if (c >= 'A' && c <= 'Z') c = static_cast<unsigned char>(c - 'A' + 'a');
                word_hash = (word_hash ^ c) * kFnvPrime;
            }
            i += len;
            continue;
        }
        end_word(i);
        if (kind == Kind::Single) {
            std::uint64_t h = kFnvBasis;
            for (std::size_t k = 0; k < len; ++k) h = (h ^ static_cast<unsigned char>(text[i + k])) * kFnvPrime;
            out.words.push_back({mix(h), {i, i + len}});
            i += len;
            continue;
        }
        std::size_t j = i + len;
        if (ends_sentence(cp) || ends_sentence_without_space(cp)) {
            while (j < n) {
                const std::size_t l = text::utf8_sequence_at(text, j);
                if (l == 0 || !closes(decode(text, j, l))) break;
                j += l;
            }
            const bool at_break = j >= n || is_space_byte(text[j]);
            const std::size_t words_here = out.words.size() - sent_first_word;
            const bool list_number = cp == '.' && words_here == 1 && j < n && text[j] != '\n' &&
                                     all_digits(text.substr(out.words.back().span.begin,
                                                            out.words.back().span.end - out.words.back().span.begin));
            if ((at_break || ends_sentence_without_space(cp)) && !list_number) {
                end_sentence(j);
                i = j;
                continue;
            }
        }
        i += len;
    }
    end_word(n);
    end_sentence(n);
    return out;
}

SourceIndex::SourceIndex(std::string_view text) : split_(split_text(text)) {
    for (std::size_t t = 0; t < split_.sentences.size(); ++t) {
        const auto& s = split_.sentences[t];
        const auto sid = static_cast<std::uint32_t>(t);
        bag_at_.push_back(static_cast<std::uint32_t>(bags_.size()));
        for (const auto& [h, c] : bag(split_, s)) {
            postings_[h].push_back({sid, c});
            bags_.emplace_back(h, c);
        }
        exact_.emplace(sentence_key(split_, s), sid);
        if (s.word_count >= kRun)
            for (std::size_t k = s.first_word; k + kRun <= s.first_word + s.word_count; ++k)
                runs_.emplace(run_key(split_, k), static_cast<std::uint32_t>(k));
    }
    bag_at_.push_back(static_cast<std::uint32_t>(bags_.size()));
}

SourceIndex::SentenceMatch SourceIndex::best_sentence(const SplitText& b, const ProvSentence& s) const {
    SentenceMatch best;
    if (split_.sentences.empty() || s.word_count == 0) return best;
    const auto words = bag(b, s);
    // Candidates: the sentences here sharing the most uncommon words, and an identical one.
    std::vector<std::pair<std::uint32_t, std::uint32_t>> hits; // (sentence, shared words), one per posting
    for (const auto& [h, c] : words) {
        auto it = postings_.find(h);
        if (it == postings_.end() || it->second.size() > kCommonWord) continue;
        for (const auto& p : it->second) hits.emplace_back(p.sentence, std::min(c, p.count));
    }
    std::sort(hits.begin(), hits.end());
    std::vector<std::pair<std::uint32_t, std::uint32_t>> cand; // (sentence, shared uncommon words)
    for (const auto& [t, n] : hits) {
        if (!cand.empty() && cand.back().first == t) cand.back().second += n;
        else cand.emplace_back(t, n);
    }
    const auto by_shared = [](const auto& x, const auto& y) { return x.second != y.second ? x.second > y.second : x.first < y.first; };
    if (cand.size() > kCandidates) {
        std::partial_sort(cand.begin(), cand.begin() + static_cast<std::ptrdiff_t>(kCandidates), cand.end(), by_shared);
        cand.resize(kCandidates);
    }
    if (auto it = exact_.find(sentence_key(b, s)); it != exact_.end()) cand.emplace_back(it->second, 0);
    std::sort(cand.begin(), cand.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
    for (const auto& [t, unused] : cand) {
        // All shared words, common ones included, by binary search in the candidate's sorted bag.
        const auto first = bags_.begin() + bag_at_[t], last = bags_.begin() + bag_at_[t + 1];
        std::size_t shared = 0;
        for (const auto& [h, c] : words) {
            auto it = std::lower_bound(first, last, h, [](const auto& e, std::uint64_t v) { return e.first < v; });
            if (it != last && it->first == h) shared += std::min(c, it->second);
        }
        const double dice = 2.0 * static_cast<double>(shared) /
                            static_cast<double>(s.word_count + split_.sentences[t].word_count);
        if (dice > best.dice) {
            best.dice = dice;
            best.sentence = t;
        }
    }
    if (best.dice < kSentenceMatch) best.sentence.reset();
    return best;
}

void SourceIndex::runs_in(const SplitText& b, const ProvSentence& s, std::vector<bool>& found,
                          std::vector<Span>& spans_here) const {
    found.assign(s.word_count, false);
    if (s.word_count < kRun) return;
    std::optional<std::size_t> last_first; // the previous run's first word here, to merge neighbours
    for (std::size_t k = 0; k + kRun <= s.word_count; ++k) {
        auto it = runs_.find(run_key(b, s.first_word + k));
        if (it == runs_.end()) continue;
        for (std::size_t r = 0; r < kRun; ++r) found[k + r] = true;
        const std::size_t first = it->second;
        const Span span{split_.words[first].span.begin, split_.words[first + kRun - 1].span.end};
        if (last_first && first > *last_first && first < *last_first + kRun)
            spans_here.back().end = span.end; // the same passage, one word further
        else
            spans_here.push_back(span);
        last_first = first;
    }
}

Provenance attribute(std::string_view b, const std::vector<const SourceIndex*>& sources) {
    Provenance out;
    const SplitText split = split_text(b);
    out.words = split.words.size();
    std::vector<std::size_t> found_words(sources.size(), 0);
    std::vector<bool> found;
    for (const auto& s : split.sentences) {
        SentenceProvenance sp;
        sp.span = s.span;
        sp.words = s.word_count;
        for (std::size_t i = 0; i < sources.size(); ++i) {
            const SourceIndex& src = *sources[i];
            SentenceSource ss;
            ss.source = i;
            if (auto m = src.best_sentence(split, s); m.sentence) {
                ss.share = 1.0;
                ss.whole = true;
                ss.in_b = {s.span};
                ss.in_source = {src.split().sentences[*m.sentence].span};
                found_words[i] += s.word_count;
            } else {
                src.runs_in(split, s, found, ss.in_source);
                const auto n = static_cast<std::size_t>(std::count(found.begin(), found.end(), true));
                if (n == 0) continue;
                ss.share = static_cast<double>(n) / static_cast<double>(s.word_count);
                ss.in_b = marked_spans(split, s, found);
                found_words[i] += n;
            }
            sp.sources.push_back(std::move(ss));
        }
        std::stable_sort(sp.sources.begin(), sp.sources.end(), [](const auto& x, const auto& y) { return x.share > y.share; });
        out.sentences.push_back(std::move(sp));
    }
    out.share.resize(sources.size());
    for (std::size_t i = 0; i < sources.size(); ++i)
        if (out.words > 0) out.share[i] = static_cast<double>(found_words[i]) / static_cast<double>(out.words);
    return out;
}

std::optional<double> share_from(std::string_view b, std::string_view a) {
    const SourceIndex ia(a);
    return attribute(b, {&ia}).share.front();
}

} // namespace moa::eval
