// SPDX-License-Identifier: MIT
#pragma once
// How much of one text another one keeps: ROUGE-L (Lin 2004) over lower-cased word tokens,
// the F-measure of the longest common subsequence. Used by the refinement view to show how much
// of the final answer each earlier answer contributed.
#include <string>
#include <string_view>
#include <vector>

namespace moa::eval {

struct RougeL {
    double precision = 0; // LCS / tokens of the candidate
    double recall = 0;    // LCS / tokens of the reference
    double f = 0;         // harmonic mean
    std::size_t lcs = 0;
};

std::vector<std::string> word_tokens(std::string_view text);

// `candidate` scored against `reference`. Texts are cut at `max_tokens` tokens each to bound
// the quadratic work (two rows of memory).
RougeL rouge_l(std::string_view candidate, std::string_view reference, std::size_t max_tokens = 4000);

// A side-by-side diff of two answers: the texts cut into words, spaces and punctuation (kept
// byte for byte), aligned by their longest common subsequence. Long texts whose difference is too
// large for a word table (more than `max_cells` cells after the common start and end are set
// aside) are compared line by line instead, and `granularity` says so.
struct DiffPiece {
    enum class Op { Equal, Delete, Insert } op = Op::Equal; // Delete: only in a; Insert: only in b
    std::string text;
};
struct TextDiff {
    std::vector<DiffPiece> pieces;
    enum class Granularity { Words, Lines, Whole } granularity = Granularity::Words;
    double shared_a = 0; // bytes of a kept in b / bytes of a
    double shared_b = 0; // bytes of b that come from a / bytes of b
};
TextDiff diff_texts(std::string_view a, std::string_view b, std::size_t max_cells = 4'000'000);

} // namespace moa::eval
