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
        }
    return o;
}

std::string outcome_text(const Outcome& o) {
    std::string s = o.status;
    if (o.dropped > 0 && o.status == "done")
        s += " — " + std::to_string(o.dropped) + " of " + std::to_string(o.agents) + " dropped";
    return s;
}

} // namespace moa::engine
