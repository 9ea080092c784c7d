// SPDX-License-Identifier: MIT
#pragma once
// The MoA rules for what an agent is sent: the conversation, the agent's own system prompt,
// and (after the first layer) the aggregate-and-synthesize prompt with the previous answers.
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "engine/run_types.h"

namespace moa::engine {

struct References {
    std::vector<std::string> answers; // the previous layer's answers, in config order
    int missing = 0;                  // agents of the previous layer whose answers are missing
    // Staircase streaming: answers still being written (same size as answers, or empty: none),
    // and agents cut at their layer's quorum or deadline (missing too, said apart).
    std::vector<bool> partial = {};
    int cut = 0;
};

// What marks a reference that is still being written (staircase streaming).
inline constexpr const char* kStillBeingWritten = " [this response is still being written]";

// The messages of a staircase step that continues `so_far` (the agent's own answer until now)
// the configured way; empty `so_far` leaves the messages as they are. Sets
// `continue_final_message` for that continuation.
std::vector<Message> continue_answer(std::vector<Message> messages, const std::string& so_far,
                                     config::Pipelining::Continuation how, bool& continue_final_message);
// The instruction that precedes the answer so far in "instruction" continuation.
extern const char* const kContinueInstruction;

// The aggregation prompt: the template, then "\n1. <answer 1>", "\n2. <answer 2>", ...
// and a note when answers are missing.
std::string aggregation_prompt(const std::string& template_text, const References& refs);

// The built-in selection template (resources/templates/select_best.txt): the LLM-ranker's
// final aggregator names the best answer by its number instead of writing one.
const std::string& selection_template();

// The template layer `li` aggregates with. Synthesize: the configuration's. Select: only the
// last layer selects, with the configuration's template when one was given, else the built-in
// selection template; earlier layers synthesize with the paper's prompt.
const std::string& aggregation_template_for(const config::Config& c, std::size_t li);

struct Selection {
    std::optional<std::size_t> index; // from 0, into the answers that were shown
    std::string error;                // when no valid answer or several different ones were named
};
// Reads a selecting aggregator's reply: a bare number ("2", "2.", "**2**"), or an answer named
// as "Response 2", "Answer 2", "#2" or "**2**" in a sentence. `shown` answers were numbered 1..shown.
Selection read_selection(const std::string& reply, std::size_t shown);

// The messages sent to `agent`. Without references (the first layer) the agent gets the
// conversation, after its own system prompt. With references, placement "system" puts the
// aggregation prompt into the system message (after the agent's own system prompt and a blank
// line); placement "user" puts it before the prompt in the last user turn, with a blank line.
// `template_text` is the aggregation template to use (aggregation_template_for the layer).
std::vector<Message> build_messages(const config::Config& c, const config::Agent& agent, const RunInput& input,
                                    const References* refs, const std::string& template_text);
// With the configuration's own template (single-layer tools and tests).
std::vector<Message> build_messages(const config::Config& c, const config::Agent& agent, const RunInput& input,
                                    const References* refs);

} // namespace moa::engine
