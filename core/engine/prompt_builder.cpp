// SPDX-License-Identifier: MIT
#include "engine/prompt_builder.h"

namespace moa::engine {

std::string aggregation_prompt(const std::string& template_text, const References& refs) {
    std::string p = template_text;
    for (std::size_t i = 0; i < refs.answers.size(); ++i) p += "\n" + std::to_string(i + 1) + ". " + refs.answers[i];
    if (refs.missing > 0) {
        int total = refs.missing + static_cast<int>(refs.answers.size());
        p += "\n\nNote: " + std::to_string(refs.missing) + " of " + std::to_string(total) +
             (refs.missing == 1 ? " responses is missing because its model failed."
                                : " responses are missing because their models failed.");
    }
    return p;
}

std::vector<Message> build_messages(const config::Config& c, const config::Agent& agent, const RunInput& input,
                                    const References* refs) {
    std::string system;
    auto add_system = [&system](const std::string& part) {
        if (part.empty()) return;
        if (!system.empty()) system += "\n\n";
        system += part;
    };
    if (agent.system) add_system(*agent.system);
    for (const auto& m : input.conversation)
        if (m.role == "system") add_system(m.content);

    std::vector<Message> turns;
    for (const auto& m : input.conversation)
        if (m.role != "system") turns.push_back(m);

    if (refs) {
        std::string agg = aggregation_prompt(c.aggregation.template_text, *refs);
        if (c.aggregation.placement == config::Placement::System) {
            add_system(agg);
        } else {
            // The last user turn carries the aggregation prompt first, then the user's prompt.
            for (auto it = turns.rbegin(); it != turns.rend(); ++it)
                if (it->role == "user") {
                    it->content = agg + "\n\n" + it->content;
                    break;
                }
        }
    }
    std::vector<Message> out;
    if (!system.empty()) out.push_back({"system", system});
    for (auto& t : turns) out.push_back(std::move(t));
    return out;
}

} // namespace moa::engine
