// SPDX-License-Identifier: MIT
#pragma once
// How a run ended, in the same words everywhere (status bar, final header, history, Compare
// runs, CLI): a run that finished without some of its agents is not simply "done".
#include <string>

#include "engine/run_types.h"

namespace moa::engine {

struct Outcome {
    std::string status; // "done", "failed", "cancelled", "running"
    int agents = 0;     // agents of the run (every layer)
    int dropped = 0;    // agents that failed and whose answers the run went on without
    int cut = 0;        // agents stopped at their layer's quorum or deadline
};

Outcome outcome(const RunRecord& r);
// "done", "done — 1 of 3 dropped", "done — 1 of 3 cut", "failed", "cancelled".
std::string outcome_text(const Outcome& o);
inline std::string outcome_text(const RunRecord& r) { return outcome_text(outcome(r)); }

// How much of a run's cost or TFLOPs total is known: every part, some (the sum is then a lower
// bound: "at least"), or none (the sum is 0 and means nothing: "unknown", never "$0").
enum class Known { All, Some, None };
inline Known known(bool complete, double sum) { return complete ? Known::All : sum > 0 ? Known::Some : Known::None; }

} // namespace moa::engine
