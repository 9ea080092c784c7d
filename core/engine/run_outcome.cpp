// SPDX-License-Identifier: MIT
#include "engine/run_outcome.h"

namespace moa::engine {

Outcome outcome(const RunRecord& r) {
    Outcome o;
    o.status = to_string(r.status);
    for (const auto& L : r.layers)
        for (const auto& a : L.agents) {
            ++o.agents;
            // A failed agent of a run that still finished is one the run went on without (the
            // engine marks it "dropped" at its layer's end; a stored record may still say failed).
            if (a.state == AgentState::Dropped || (r.status == RunStatus::Done && a.state == AgentState::Failed)) ++o.dropped;
            if (a.state == AgentState::Cut) ++o.cut;
        }
    return o;
}

std::string outcome_text(const Outcome& o) {
    std::string s = o.status;
    if (o.status != "done") return s;
    const std::string of = " of " + std::to_string(o.agents);
    if (o.dropped > 0 && o.cut > 0)
        s += " — " + std::to_string(o.dropped) + of + " dropped, " + std::to_string(o.cut) + " cut";
    else if (o.dropped > 0) s += " — " + std::to_string(o.dropped) + of + " dropped";
    else if (o.cut > 0) s += " — " + std::to_string(o.cut) + of + " cut";
    return s;
}

} // namespace moa::engine
