// SPDX-License-Identifier: MIT
#pragma once
// The MoA rules for what an agent is sent: the conversation, the agent's own system prompt,
// and (after the first layer) the aggregate-and-synthesize prompt with the previous answers.
#include <string>
#include <vector>

#include "config/config.h"
#include "engine/run_types.h"

namespace moa::engine {

struct References {
    std::vector<std::string> answers; // the previous layer's answers, in config order
    int missing = 0;                  // agents of the previous layer whose answers are missing
};

// The aggregation prompt: the template, then "\n1. <answer 1>", "\n2. <answer 2>", ...
// and a note when answers are missing.
std::string aggregation_prompt(const std::string& template_text, const References& refs);

// The messages sent to `agent`. Without references (the first layer) the agent gets the
// conversation, after its own system prompt. With references, placement "system" puts the
// aggregation prompt into the system message (after the agent's own system prompt and a blank
// line); placement "user" puts it before the prompt in the last user turn, with a blank line.
std::vector<Message> build_messages(const config::Config& c, const config::Agent& agent, const RunInput& input,
                                    const References* refs);

} // namespace moa::engine
