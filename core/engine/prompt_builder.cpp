// SPDX-License-Identifier: MIT
#include "engine/prompt_builder.h"

#include <algorithm>
#include <cctype>
#include <optional>
#include <string_view>
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

namespace {
// The ranker's reply is model text: it is read by hand-written scanners that look at each
// character a bounded number of times. std::regex recursed once per matched character and
// overflowed the stack on a reply of 200,000 digits or spaces.
bool is_space(char ch) { return std::isspace(static_cast<unsigned char>(ch)) != 0; }
bool is_digit(char ch) { return ch >= '0' && ch <= '9'; }
bool is_word(char ch) { return std::isalnum(static_cast<unsigned char>(ch)) != 0 || ch == '_'; }
std::size_t skip_spaces(const std::string& s, std::size_t i) {
    while (i < s.size() && is_space(s[i])) ++i;
    return i;
}
std::size_t skip_digits(const std::string& s, std::size_t i) {
    while (i < s.size() && is_digit(s[i])) ++i;
    return i;
}
bool starts_with_nocase(const std::string& s, std::size_t i, std::string_view word) {
    if (s.size() - std::min(i, s.size()) < word.size()) return false;
    for (std::size_t k = 0; k < word.size(); ++k)
        if (std::tolower(static_cast<unsigned char>(s[i + k])) != word[k]) return false;
    return true;
}
struct Span {
    std::size_t digits_begin, digits_end, end; // the number, and where the match ends
};
// "**", spaces, an optional '#', spaces, digits, spaces, an optional '.', spaces, "**" at `i`.
std::optional<Span> bold_at(const std::string& s, std::size_t i) {
    if (s.compare(i, 2, "**") != 0) return std::nullopt;
    std::size_t j = skip_spaces(s, i + 2);
    if (j < s.size() && s[j] == '#') j = skip_spaces(s, j + 1);
    const std::size_t d = j;
    j = skip_digits(s, j);
    if (j == d) return std::nullopt;
    const std::size_t de = j;
    j = skip_spaces(s, j);
    if (j < s.size() && s[j] == '.') j = skip_spaces(s, j + 1);
    if (s.compare(j, 2, "**") != 0) return std::nullopt;
    return Span{d, de, j + 2};
}
// Digits that end a word at `i`; after a name, an optional ':' or '#' and spaces first.
std::optional<Span> number_at(const std::string& s, std::size_t i, bool after_name) {
    if (after_name && i < s.size() && (s[i] == ':' || s[i] == '#')) i = skip_spaces(s, i + 1);
    const std::size_t d = i;
    i = skip_digits(s, i);
    if (i == d || (i < s.size() && is_word(s[i]))) return std::nullopt;
    return Span{d, i, i};
}
// "response"/"answer" starting a word, then "number" or "no"/"no." and the number; or "#" and
// the number, at `i` (case does not matter).
std::optional<Span> named_at(const std::string& s, std::size_t i) {
    if (s[i] == '#') return number_at(s, skip_spaces(s, i + 1), false);
    if (i > 0 && is_word(s[i - 1])) return std::nullopt;
    std::size_t j;
    if (starts_with_nocase(s, i, "response")) j = i + 8;
    else if (starts_with_nocase(s, i, "answer")) j = i + 6;
    else return std::nullopt;
    j = skip_spaces(s, j);
    if (starts_with_nocase(s, j, "number")) return number_at(s, skip_spaces(s, j + 6), true);
    if (starts_with_nocase(s, j, "no")) {
        std::size_t k = j + 2;
        if (k < s.size() && s[k] == '.') ++k;
        return number_at(s, skip_spaces(s, k), true);
    }
    return number_at(s, j, true);
}
} // namespace

Selection read_selection(const std::string& reply, std::size_t shown) {
    std::set<long> named;
    auto add = [&named](const std::string& text, const Span& n) {
        if (n.digits_end - n.digits_begin <= 6) named.insert(std::stol(text.substr(n.digits_begin, n.digits_end - n.digits_begin)));
    };
    // Emphasis first ("**2**"), then the rest of the reply without the asterisks.
    for (std::size_t i = 0; i + 1 < reply.size();) {
        if (auto m = bold_at(reply, i)) {
            add(reply, *m);
            i = m->end;
        } else {
            ++i;
        }
    }
    std::string plain;
    for (char ch : reply)
        if (ch != '*') plain += ch;
    std::size_t b = 0, e = plain.size();
    while (b < e && std::isspace(static_cast<unsigned char>(plain[b]))) ++b;
    while (e > b && (std::isspace(static_cast<unsigned char>(plain[e - 1])) || plain[e - 1] == '.')) --e;
    if (e > b && e - b <= 6 && std::all_of(plain.begin() + static_cast<std::ptrdiff_t>(b), plain.begin() + static_cast<std::ptrdiff_t>(e), is_digit))
        add(plain, Span{b, e, e});
    for (std::size_t i = 0; i < plain.size();) {
        if (auto m = named_at(plain, i)) {
            add(plain, *m);
            i = std::max(m->end, i + 1);
        } else {
            ++i;
        }
    }

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
