// SPDX-License-Identifier: MIT
#pragma once
// "x% of B comes from A": the share of answer B's words found in an earlier answer A, sentence
// by sentence with a word-level fallback. The one definition every view, the CLI and the JSON
// use (architecture: "Every number has one definition").
//
// Words. A word is a maximal run of word characters: ASCII letters and digits, and every code
// point from U+0080 up except punctuation and symbols (U+00A0–U+00BF, U+00D7, U+00F7,
// U+2000–U+2BFF, U+3000–U+303F, U+FE30–U+FE4F, U+FF00–U+FF0F, U+FF1A–U+FF20, U+FF3B–U+FF40,
// U+FF5B–U+FF65). Ideographs, kana and Hangul syllables (U+3040–U+9FFF, U+AC00–U+D7AF,
// U+F900–U+FAFF) are one word each, as those scripts do not separate words with spaces.
// Normalisation: ASCII letters are lower-cased; nothing else is changed. Bytes that are not
// UTF-8 separate words.
//
// Sentences. A sentence ends after '.', '!', '?', '…', '。', '！' or '？' (with any closing quotes
// or brackets right after) when white space or the end of the text follows, and at every line
// break (list items and headings are sentences of their own). A '.' that closes a leading list
// number ("2. ") does not end a sentence. A sentence's span is trimmed of white space; sentences
// without a word are skipped.
//
// Found. A sentence s of B is taken whole from A when A holds a sentence t with word overlap
// Dice(s, t) = 2·|s ∩ t| / (|s| + |t|) ≥ kSentenceMatch (words as multisets): then every word
// of s counts as found in A, wherever t stands in A (moved sentences are found). Otherwise the
// word-level fallback counts the words of s that lie in a run of kRun consecutive words also
// found consecutively in one sentence of A (so scattered function words do not count).
//
// Share. share(B ← A) = words of B found in A / words of B, in [0, 1]; it is computed for each
// source alone, so the shares of several sources may add up to more than 1 when the sources
// say the same thing. It is missing (nullopt) when B has no word.
//
// Ignored. An answer is ignored by the next layer when every answer of that layer with words
// takes less than kIgnored of its words from it.
//
// Cost: indexing A is linear in its length; attributing B is linear in B's length times a
// constant bound (a word that occurs in more than kCommonWord sentences of A is not used to find
// candidate sentences, and at most kCandidates candidates are scored per sentence of B).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace moa::eval {

inline constexpr double kSentenceMatch = 0.6;
inline constexpr std::size_t kRun = 3;
inline constexpr double kIgnored = 0.05;
inline constexpr std::size_t kCommonWord = 64;
inline constexpr std::size_t kCandidates = 8;

struct Span {
    std::size_t begin = 0; // byte offsets into the text, [begin, end)
    std::size_t end = 0;
    bool operator==(const Span&) const = default;
};

struct ProvWord {
    std::uint64_t hash = 0; // of the normalised word
    Span span;
};
struct ProvSentence {
    Span span;
    std::size_t first_word = 0; // index into the words
    std::size_t word_count = 0;
};

// A text cut into words and sentences by the rules above.
struct SplitText {
    std::vector<ProvWord> words;
    std::vector<ProvSentence> sentences;
};
SplitText split_text(std::string_view text);

// An earlier answer, indexed once and matched against any number of later answers.
class SourceIndex {
public:
    explicit SourceIndex(std::string_view text);
    const SplitText& split() const { return split_; }
    std::size_t words() const { return split_.words.size(); }

    struct SentenceMatch {
        std::optional<std::size_t> sentence; // best sentence of this text, when Dice ≥ kSentenceMatch
        double dice = 0;
    };
    SentenceMatch best_sentence(const SplitText& b, const ProvSentence& s) const;
    // Marks the words of s (found[k] for b.words[s.first_word + k]) that lie in a kRun-word run
    // found in one sentence here; `spans_here` gets where those runs stand here (first occurrence).
    void runs_in(const SplitText& b, const ProvSentence& s, std::vector<bool>& found, std::vector<Span>& spans_here) const;

private:
    struct Posting {
        std::uint32_t sentence;
        std::uint32_t count;
    };
    SplitText split_;
    std::unordered_map<std::uint64_t, std::vector<Posting>> postings_; // word → sentences holding it
    std::vector<std::pair<std::uint64_t, std::uint32_t>> bags_;        // each sentence's distinct words, sorted, with counts
    std::vector<std::uint32_t> bag_at_;                                  // where sentence t's bag starts in bags_
    std::unordered_map<std::uint64_t, std::uint32_t> exact_;           // a sentence's words → sentence
    std::unordered_map<std::uint64_t, std::uint32_t> runs_;            // kRun-word run → its first word
};

// Where one sentence of B came from.
struct SentenceSource {
    std::size_t source = 0;  // index into the sources given
    double share = 0;        // words of the sentence found in that source / its words
    bool whole = false;      // taken as a whole sentence (Dice ≥ kSentenceMatch), not word runs
    std::vector<Span> in_b;  // what matched, in B
    std::vector<Span> in_source;
};
struct SentenceProvenance {
    Span span;
    std::size_t words = 0;
    std::vector<SentenceSource> sources; // only sources with share > 0, best first
};
struct Provenance {
    std::size_t words = 0;                       // of B
    std::vector<std::optional<double>> share;    // per source; nullopt when B has no word
    std::vector<SentenceProvenance> sentences;
};

Provenance attribute(std::string_view b, const std::vector<const SourceIndex*>& sources);
// share(B ← A) alone.
std::optional<double> share_from(std::string_view b, std::string_view a);

} // namespace moa::eval
