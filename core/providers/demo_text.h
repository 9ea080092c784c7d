// SPDX-License-Identifier: MIT
#pragma once
#include <string>
#include <vector>

#include "providers/chat_types.h"

namespace moa::providers {
// The offline demo provider's deterministic answer for a model and the messages it was sent.
std::string demo_answer(const std::string& model, const std::vector<Message>& messages);
// The offline demo judge ("demo-judge…" models): a deterministic verdict for the built-in judge
// templates, counted from key words and sentences and labelled as not a real judge.
std::string demo_judge_answer(const std::string& model, const std::vector<Message>& messages);
} // namespace moa::providers
