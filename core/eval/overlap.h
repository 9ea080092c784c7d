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

} // namespace moa::eval
