// SPDX-License-Identifier: MIT
#pragma once
#include "providers/chat_call.h"

namespace moa::providers {
std::shared_ptr<ChatCall> start_openai_chat(net::Transport& t, CallRequest r, CallEvents e);
std::shared_ptr<ChatCall> start_demo_chat(net::Transport& t, CallRequest r, CallEvents e);
} // namespace moa::providers
