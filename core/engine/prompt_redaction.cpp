// SPDX-License-Identifier: MIT
#include "engine/prompt_redaction.h"

namespace moa::engine {

PromptRedaction::PromptRedaction(const config::Config& c,
                                 const std::function<std::string(const config::Provider&)>& key_for) {
    if (!key_for) return;
    for (const auto& [name, p] : c.providers) {
        if (p.type != config::ProviderType::OpenAi) continue;
        const std::string key = key_for(p);
        if (!key.empty()) keys_.emplace_back(key, "[redacted: key of provider " + name + "]");
    }
}

std::string PromptRedaction::operator()(std::string_view text) const {
    std::string s(text);
    for (const auto& k : keys_) s = k(s);
    return s;
}

void PromptRedaction::apply(std::vector<providers::Message>& messages) const {
    if (keys_.empty()) return;
    for (auto& m : messages) m.content = (*this)(m.content);
}

} // namespace moa::engine
