// SPDX-License-Identifier: MIT
#include "engine/prompt_builder.h"

#include <algorithm>
#include <cctype>
#include <regex>
#include <set>

#include "util/resources.h"
#include "util/text.h"

namespace moa::engine {

const std::string& selection_template() {
    static const std::string kText = [] {
        std::string t;
        if (!text::read_file(resources::dir() + "/templates/select_best.txt", t))
            t = "Reply with the number of the best response only.\n\nResponses from models:";
        while (!t.empty() && (t.back() == '\n' || t.back() == '\r')) t.pop_back();
        return t;
    }();
    return kText;
}

const std::string& aggregation_template_for(const config::Config& c, std::size_t li) {
    if (c.aggregation.mode != config::Aggregation::Mode::Select) return c.aggregation.template_text;
    if (li + 1 < c.layers.size()) return config::default_aggregation_template();
    return c.aggregation.template_name == "default" ? selection_template() : c.aggregation.template_text;
}

Selection read_selection(const std::string& reply, std::size_t shown) {
    std::set<long> named;
    auto add = [&named](const std::string& digits) {
        if (digits.size() <= 6) named.insert(std::stol(digits));
    };
    // Emphasis first ("**2**"), then the rest of the reply without the asterisks.
    static const std::regex bold(R"(\*\*\s*#?\s*(\d+)\s*\.?\s*\*\*)");
    for (std::sregex_iterator it(reply.begin(), reply.end(), bold), end; it != end; ++it) add((*it)[1].str());
    std::string plain;
    for (char ch : reply)
        if (ch != '*') plain += ch;
    std::size_t b = 0, e = plain.size();
    while (b < e && std::isspace(static_cast<unsigned char>(plain[b]))) ++b;
    while (e > b && (std::isspace(static_cast<unsigned char>(plain[e - 1])) || plain[e - 1] == '.')) --e;
    const std::string bare = plain.substr(b, e - b);
    if (!bare.empty() && bare.size() <= 6 && std::all_of(bare.begin(), bare.end(), [](char ch) { return ch >= '0' && ch <= '9'; }))
        add(bare);
    static const std::regex named_as(R"((?:\b(?:response|answer)\s*(?:number\s*|no\.?\s*)?[:#]?\s*|#\s*)(\d+)\b)", std::regex::icase);
    for (std::sregex_iterator it(plain.begin(), plain.end(), named_as), end; it != end; ++it) add((*it)[1].str());

    Selection s;
    auto quoted = [&reply] {
        std::string q = reply.size() > 400 ? reply.substr(0, 400) + "…" : reply;
        return "\"" + q + "\"";
    };
    if (named.empty()) {
        s.error = "the selecting aggregator named no answer (expected the number of one of the " + std::to_string(shown) +
                  " responses); its reply: " + quoted();
    } else if (named.size() > 1) {
        std::string list;
        for (long n : named) list += (list.empty() ? "" : ", ") + std::to_string(n);
        s.error = "the selecting aggregator named several different answers (" + list + "); its reply: " + quoted();
    } else if (*named.begin() < 1 || static_cast<std::size_t>(*named.begin()) > shown) {
        s.error = "the selecting aggregator named answer " + std::to_string(*named.begin()) + ", but only " +
                  std::to_string(shown) + " were shown; its reply: " + quoted();
    } else {
        s.index = static_cast<std::size_t>(*named.begin() - 1);
    }
    return s;
}

std::string aggregation_prompt(const std::string& template_text, const References& refs) {
    std::string p = template_text;
    for (std::size_t i = 0; i < refs.answers.size(); ++i) {
        p += "\n" + std::to_string(i + 1) + ". " + refs.answers[i];
        if (i < refs.partial.size() && refs.partial[i]) p += kStillBeingWritten;
    }
    const int total = refs.missing + refs.cut + static_cast<int>(refs.answers.size());
    if (refs.missing > 0 && refs.cut == 0) {
        p += "\n\nNote: " + std::to_string(refs.missing) + " of " + std::to_string(total) +
             (refs.missing == 1 ? " responses is missing because its model failed."
                                : " responses are missing because their models failed.");
    } else if (refs.cut > 0 && refs.missing == 0) {
        p += "\n\nNote: " + std::to_string(refs.cut) + " of " + std::to_string(total) +
             (refs.cut == 1 ? " responses is missing because its model was stopped at the layer's quorum or deadline."
                            : " responses are missing because their models were stopped at the layer's quorum or deadline.");
    } else if (refs.cut > 0) {
        p += "\n\nNote: " + std::to_string(refs.missing + refs.cut) + " of " + std::to_string(total) +
             " responses are missing: " + std::to_string(refs.missing) + " because " +
             (refs.missing == 1 ? "its model" : "their models") + " failed, " + std::to_string(refs.cut) + " because " +
             (refs.cut == 1 ? "its model was" : "their models were") + " stopped at the layer's quorum or deadline.";
    }
    return p;
}

const char* const kContinueInstruction =
    "Your answer so far is below, between the markers. Continue it exactly where it stops: do not repeat any of "
    "it and write nothing before the continuation.";

std::vector<Message> continue_answer(std::vector<Message> messages, const std::string& so_far,
                                     config::Pipelining::Continuation how, bool& continue_final_message) {
    continue_final_message = false;
    if (so_far.empty()) return messages;
    using C = config::Pipelining::Continuation;
    switch (how) {
    case C::Instruction: {
        const std::string block = std::string(kContinueInstruction) + "\n<<<ANSWER SO FAR\n" + so_far + "\nANSWER SO FAR>>>";
        for (auto it = messages.rbegin(); it != messages.rend(); ++it)
            if (it->role == "user") {
                it->content += "\n\n" + block;
                return messages;
            }
        messages.push_back({"user", block});
        return messages;
    }
    case C::AssistantPrefix: {
        Message m{"assistant", so_far};
        m.prefix = true;
        messages.push_back(std::move(m));
        return messages;
    }
    case C::ContinueFinalMessage:
        messages.push_back({"assistant", so_far});
        continue_final_message = true;
        return messages;
    }
    return messages;
}

std::vector<Message> build_messages(const config::Config& c, const config::Agent& agent, const RunInput& input,
                                    const References* refs) {
    return build_messages(c, agent, input, refs, c.aggregation.template_text);
}

std::vector<Message> build_messages(const config::Config& c, const config::Agent& agent, const RunInput& input,
                                    const References* refs, const std::string& template_text) {
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
        std::string agg = aggregation_prompt(template_text, *refs);
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
