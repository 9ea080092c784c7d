// SPDX-License-Identifier: MIT
#pragma once
#include <string>
#include <vector>

#include "providers/chat_types.h"

namespace moa::providers {
// The offline demo provider's deterministic answer for a model and the messages it was sent.
std::string demo_answer(const std::string& model, const std::vector<Message>& messages);
} // namespace moa::providers
