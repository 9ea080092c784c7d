// SPDX-License-Identifier: MIT
#pragma once
#include <string>
#include <vector>

#include "config/config.h"
#include "net/transport.h"
#include "util/result.h"

namespace moa::providers {
// GET {base_url}/models and the ids it lists. Blocks the calling thread (never call it on a
// GUI thread); the exchange itself runs on the transport thread.
Result<std::vector<std::string>> list_models(net::Transport& t, const config::Provider& p, const std::string& api_key);
// The ids in an OpenAI-shaped model list body ({"data": [{"id": ...}]}, or a bare array).
Result<std::vector<std::string>> parse_model_list(const std::string& body);
} // namespace moa::providers
