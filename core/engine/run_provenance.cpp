// SPDX-License-Identifier: MIT
#include "engine/run_provenance.h"

#include <algorithm>
#include <memory>

namespace moa::engine {

bool was_passed_on(const AgentRecord& a) { return a.state == AgentState::Done; }

// The offline demo starts every answer with the same label, "[offline demo, not a real model:
// MODEL]"; it is not what the answer says, so it is blanked (spaces keep the byte offsets).
std::string measured_text(const std::string& text, bool demo) {
    static const std::string label = "[offline demo, not a real model: ";
    if (!demo || text.compare(0, label.size(), label) != 0) return text;
    std::string out = text;
    const auto end = out.find(']');
    std::fill(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(end == std::string::npos ? out.size() : end + 1), ' ');
    return out;
}

namespace {
std::string measured(const std::string& text, bool demo) { return measured_text(text, demo); }

// Whether B was sent A's answer. A finished answer goes to every agent of the next layer. An
// answer cut or failed part-way still went, as it was then, into the steps a staircase agent
// took before it stopped: those steps' messages hold its start.
// A step holds it as reference number j + 1 (a staircase keeps the numbering), however little of
// it had been written then.
bool was_sent(const AgentRecord& a, std::size_t j, const AgentRecord& b) {
    if (was_passed_on(a)) return true;
    if (a.text.empty() || b.steps.empty()) return false;
    const std::string start = std::to_string(j + 1) + ". " + a.text.substr(0, std::min<std::size_t>(a.text.size(), 24));
    for (const auto& st : b.steps)
        for (const auto& m : st.messages)
            if (m.content.find(start) != std::string::npos) return true;
    return false;
}
} // namespace

RunProvenance compute_provenance(const RunRecord& r) {
    RunProvenance out;
    out.layers.resize(r.layers.size());
    for (std::size_t l = 0; l < r.layers.size(); ++l) out.layers[l].resize(r.layers[l].agents.size());

    // Each answer is indexed once, for the layer after it and for the final answer.
    std::vector<std::vector<std::unique_ptr<eval::SourceIndex>>> index(r.layers.size());
    for (std::size_t l = 0; l + 1 < r.layers.size(); ++l)
        for (std::size_t j = 0; j < r.layers[l].agents.size(); ++j) {
            const auto& a = r.layers[l].agents[j];
            const auto& next = r.layers[l + 1].agents;
            const bool sent = std::any_of(next.begin(), next.end(), [&](const AgentRecord& b) { return was_sent(a, j, b); });
            index[l].push_back(sent ? std::make_unique<eval::SourceIndex>(measured(a.text, a.demo)) : nullptr);
        }

    for (std::size_t l = 1; l < r.layers.size(); ++l) {
        const auto& before = r.layers[l - 1].agents;
        for (std::size_t k = 0; k < r.layers[l].agents.size(); ++k) {
            auto& p = out.layers[l][k];
            const auto& b = r.layers[l].agents[k];
            std::vector<const eval::SourceIndex*> sources;
            std::vector<int> which;
            std::vector<bool> got(before.size(), false);
            for (std::size_t j = 0; j < before.size(); ++j)
                if (index[l - 1][j] && was_sent(before[j], j, b)) {
                    sources.push_back(index[l - 1][j].get());
                    which.push_back(static_cast<int>(j));
                    got[j] = true;
                }
            p.detail = eval::attribute(measured(b.text, b.demo), sources);
            p.detail_sources = which;
            std::size_t next = 0;
            for (std::size_t j = 0; j < before.size(); ++j) {
                SourceShare s{static_cast<int>(l - 1), static_cast<int>(j), std::nullopt, {}};
                if (!got[j])
                    s.missing = std::string("not sent to this agent: the answer ") + to_string(before[j].state);
                else if (!(s.share = p.detail.share[next++]))
                    s.missing = "this answer has no words";
                p.sources.push_back(std::move(s));
            }
        }
    }

    const bool demo_final = !r.layers.empty() && !r.layers.back().agents.empty() && r.layers.back().agents.front().demo;
    const std::string final_text = r.final_text ? measured(*r.final_text, demo_final) : std::string();
    for (std::size_t l = 0; l + 1 < r.layers.size(); ++l)
        for (std::size_t j = 0; j < r.layers[l].agents.size(); ++j) {
            if (!index[l][j]) continue;
            // "Ignored" is said only of what every reader finished reading: an answer whose
            // readers were cancelled, cut or failed was not ignored, they stopped (review 10: a
            // cancelled run branded its finished proposers "ignored by the next layer").
            bool any = false, used = false, all_finished = true;
            for (std::size_t k = 0; k < out.layers[l + 1].size(); ++k) {
                const auto& s = out.layers[l + 1][k].sources[j].share;
                if (!s) continue;
                any = true;
                used = used || *s >= eval::kIgnored;
                all_finished = all_finished && r.layers[l + 1].agents[k].state == AgentState::Done;
            }
            if (any && (used || all_finished)) out.layers[l][j].ignored = !used;
            if (r.final_text) out.layers[l][j].final_share = eval::attribute(final_text, {index[l][j].get()}).share.front();
        }
    return out;
}

} // namespace moa::engine
