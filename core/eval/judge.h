// SPDX-License-Identifier: MIT
#pragma once
// LLM judges: pairwise preference (AlpacaEval style), single-answer grading 1-10 (MT-Bench
// style, reference-guided where a reference exists) and skill grading 1-5 (FLASK's skills).
// Templates are text with placeholders; `<|im_start|>role ... <|im_end|>` blocks become chat
// messages (AlpacaEval's templates are written that way), anything else one user message.
#include <optional>
#include <string>
#include <vector>

#include "providers/chat_types.h"
#include "util/result.h"

namespace moa::eval {

using providers::Message;

struct JudgeTemplate {
    std::string name;
    std::vector<Message> messages; // with {placeholders}
    // Pairwise: the labels that name the first and the second output in the judge's answer.
    std::string label_1 = "A";
    std::string label_2 = "B";
};

// Splits a template text into messages; errors when a required placeholder is missing.
Result<JudgeTemplate> parse_template(const std::string& text, const std::string& name,
                                     const std::vector<std::string>& required);
Result<JudgeTemplate> load_template(const std::string& path, const std::vector<std::string>& required);
// The built-in templates (resources/templates/judge_*.txt).
Result<JudgeTemplate> builtin_template(const std::string& mode); // pairwise, single, skills

// Replaces each {key} in the template's messages (one pass: values are not re-expanded).
std::vector<Message> fill(const JudgeTemplate& t, const std::vector<std::pair<std::string, std::string>>& values);

struct PairwiseVerdict {
    std::optional<double> preference; // in [1, 2] in the order shown to the judge; empty if unreadable
    std::string method;               // "logprobs", "text" or "unreadable"
    std::string why;                  // for unreadable verdicts
};
// From the first answer position's top log-probabilities when they hold either label
// (preference = 1 + P(label_2) / (P(label_1) + P(label_2))), else from the answer text.
PairwiseVerdict read_pairwise(const JudgeTemplate& t, const std::string& answer,
                              const std::vector<providers::TokenLogprobs>& logprobs);

// "Rating: [[7]]" (or [[7.5]]) in 1..10; empty when absent or out of range.
std::optional<double> read_rating(const std::string& answer);

// "<skill>: <1-5>" lines for the given skills (case-insensitive); missing skills are left out.
std::vector<std::pair<std::string, double>> read_skill_grades(const std::string& answer,
                                                              const std::vector<std::string>& skills);

// FLASK's twelve skills (Ye et al. 2023, arXiv 2307.10928), by name.
const std::vector<std::string>& flask_skills();

} // namespace moa::eval
