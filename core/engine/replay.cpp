// SPDX-License-Identifier: MIT
#include "engine/replay.h"

#include <algorithm>
#include <memory>

namespace moa::engine {

namespace {
Event make(Event::Type t, double ms, int layer = -1, int agent = -1) {
    Event e;
    e.type = t;
    e.t_ms = ms;
    e.layer = layer;
    e.agent = agent;
    return e;
}

// Cut points for a text recorded without a timeline: about 24 pieces, each ending after a space
// (so no cut falls inside a UTF-8 character).
std::vector<std::size_t> even_cuts(const std::string& text) {
    std::vector<std::size_t> cuts;
    const std::size_t step = std::max<std::size_t>(1, text.size() / 24);
    std::size_t at = 0;
    while (at < text.size()) {
        std::size_t next = std::min(text.size(), at + step);
        while (next < text.size() && text[next - 1] != ' ' && text[next - 1] != '\n') ++next;
        cuts.push_back(next);
        at = next;
    }
    return cuts;
}
} // namespace

std::vector<Event> replay_events(const RunRecord& r) {
    std::vector<Event> out;
    out.push_back(make(Event::Type::RunStarted, 0));
    double run_end = r.totals.wall_ms;
    for (const auto& L : r.layers) {
        const int li = L.agents.empty() ? 0 : L.agents.front().layer;
        out.push_back(make(Event::Type::LayerStarted, L.start_ms, li));
        for (const auto& a : L.agents) {
            out.push_back(make(Event::Type::AgentQueued, L.start_ms, a.layer, a.index));
            if (a.attempts == 0 && a.state == AgentState::Queued) continue;
            // Its steps (staircase streaming), as the engine announced them: each at its start
            // with the messages it sent, and at its end as recorded.
            for (std::size_t k = 0; k < a.steps.size(); ++k) {
                const auto& st = a.steps[k];
                Event begun = make(Event::Type::AgentStep, st.start_ms, a.layer, a.index);
                begun.step = static_cast<int>(k);
                StepRecord as_begun;
                as_begun.messages = st.messages;
                as_begun.start_ms = st.start_ms;
                as_begun.last = st.last;
                begun.step_record = std::move(as_begun);
                out.push_back(std::move(begun));
                if (st.end_ms <= 0) continue; // never ended (a record from before steps had ends)
                Event ended = make(Event::Type::AgentStepDone, st.end_ms, a.layer, a.index);
                ended.step = static_cast<int>(k);
                StepRecord as_ended = st;
                as_ended.messages.clear();
                ended.step_record = std::move(as_ended);
                out.push_back(std::move(ended));
            }
            Event s = make(Event::Type::AgentStarted, a.start_ms, a.layer, a.index);
            AgentRecord snapshot = a;
            snapshot.text.clear();
            snapshot.reasoning.clear();
            snapshot.state = AgentState::Waiting;
            s.record = std::move(snapshot);
            out.push_back(std::move(s));
            // The text, piece by piece.
            std::size_t sent = 0;
            auto piece = [&](double ms, std::size_t upto) {
                upto = std::min(upto, a.text.size());
                if (upto <= sent) return;
                Event d = make(Event::Type::AgentDelta, std::clamp(ms, a.start_ms, std::max(a.start_ms, a.end_ms)), a.layer, a.index);
                d.text = a.text.substr(sent, upto - sent);
                sent = upto;
                out.push_back(std::move(d));
            };
            if (!a.timeline.empty()) {
                for (const auto& [ms, bytes] : a.timeline) piece(ms, bytes);
            } else if (!a.text.empty()) {
                const double first = a.start_ms + a.ttft_ms.value_or(0);
                auto cuts = even_cuts(a.text);
                for (std::size_t k = 0; k < cuts.size(); ++k)
                    piece(first + (a.end_ms - first) * static_cast<double>(k) / static_cast<double>(cuts.size()), cuts[k]);
            }
            piece(a.end_ms, a.text.size());
            const bool ok = a.state == AgentState::Done;
            Event done = make(ok ? Event::Type::AgentDone : Event::Type::AgentFailed, a.end_ms, a.layer, a.index);
            done.record = a;
            if (a.error) done.message = *a.error;
            out.push_back(std::move(done));
            run_end = std::max(run_end, a.end_ms);
        }
        Event ld = make(Event::Type::LayerDone, L.end_ms, li);
        out.push_back(std::move(ld));
    }
    const Event::Type end = r.status == RunStatus::Done        ? Event::Type::RunDone
                            : r.status == RunStatus::Cancelled ? Event::Type::RunCancelled
                                                               : Event::Type::RunFailed;
    Event fin = make(end, run_end);
    fin.totals = r.totals;
    fin.final_record = std::make_shared<const RunRecord>(r);
    out.push_back(std::move(fin));
    std::stable_sort(out.begin(), out.end(), [](const Event& x, const Event& y) { return x.t_ms < y.t_ms; });
    return out;
}

} // namespace moa::engine
