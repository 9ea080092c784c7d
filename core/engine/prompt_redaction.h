// SPDX-License-Identifier: MIT
#pragma once
// A key resolved for a run must never travel in what the run sends or stores. A template the
// user allowed from outside the configuration's folder, a prompt file, or an earlier answer can
// hold one (/proc/self/environ held every key of the environment): every message is passed
// through here before it is sent or recorded, and each key becomes "[redacted: key of provider X]".
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "providers/chat_call.h"
#include "providers/redact.h"

namespace moa::engine {

class PromptRedaction {
public:
    PromptRedaction() = default;
    // The keys `key_for` resolves for the configuration's providers (each asked once).
    PromptRedaction(const config::Config& c, const std::function<std::string(const config::Provider&)>& key_for);
    std::string operator()(std::string_view text) const;
    void apply(std::vector<providers::Message>& messages) const;
    bool empty() const { return keys_.empty(); }

private:
    std::vector<providers::KeyRedactor> keys_;
};

} // namespace moa::engine
