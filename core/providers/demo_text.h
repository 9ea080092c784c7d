// SPDX-License-Identifier: MIT
#pragma once
#include <string>
#include <vector>

#include "providers/chat_types.h"

namespace moa::providers {
// The offline demo provider's deterministic answer for a model and the messages it was sent.
std::string demo_answer(const std::string& model, const std::vector<Message>& messages);
// What the demo writes for a call: its answer, or in a staircase step (the answer so far in the
// continuation instruction or a trailing assistant message) the continuation of the answer the
// whole call would give, as far as references still being written determine it.
std::string demo_step_answer(const std::string& model, const std::vector<Message>& messages, bool continue_final_message);
// The offline demo judge ("demo-judge…" models): a deterministic verdict for the built-in judge
// templates, counted from key words and sentences and labelled as not a real judge.
std::string demo_judge_answer(const std::string& model, const std::vector<Message>& messages);
} // namespace moa::providers
