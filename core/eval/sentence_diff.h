// SPDX-License-Identifier: MIT
#pragma once
// A diff of two answers at sentence level first, as Compare answers shows it: sentences are
// paired across the texts by the provenance measure's sentence match (Dice ≥ kSentenceMatch,
// eval/provenance.h), so a sentence that changed place is "moved", not deleted on one side and
// added on the other; the pairs that keep their order (the longest such chain) stay in place.
// Words are compared only inside a pair (what changed in a reworded sentence), never across
// unrelated sentences, so scattered function words ("the", "of") are not matched.
#include <string_view>
#include <vector>

#include "eval/provenance.h"

namespace moa::eval {

struct SentenceDiffPiece {
    enum class Kind {
        Same,    // paired with a sentence at the same place in the order (perhaps with changed words)
        Moved,   // paired with a sentence that stands elsewhere in the order
        Only,    // no sentence of the other text matches: deleted (left) or added (right)
    } kind = Kind::Same;
    Span span;                        // byte offsets into its text
    int partner = -1;                 // index of the paired piece on the other side
    std::vector<Span> changed_words;  // words of a paired sentence missing from its partner
};

struct SentenceDiff {
    std::vector<SentenceDiffPiece> a, b; // in text order
    int moved = 0, deleted = 0, added = 0, changed = 0; // sentences (moved: pairs; changed: pairs with changed words)
};

// Paired words are aligned by longest common subsequence up to this many cells per pair; a
// longer pair marks none of its words (it still counts as paired).
inline constexpr std::size_t kPairWordCells = 250'000;

SentenceDiff diff_sentences(std::string_view a, std::string_view b);

} // namespace moa::eval
