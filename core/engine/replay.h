// SPDX-License-Identifier: MIT
#pragma once
// A recorded run as the events it made, at the times it made them, so a run from the history can
// be watched again (at any speed) through the same views as a live one. The text grows as its
// recorded timeline says; for runs recorded without one (schema 1, cached answers), evenly
// between the first token and the end.
#include <vector>

#include "engine/run_types.h"

namespace moa::engine {

// Ordered by t_ms (the recorded milliseconds since the run started).
std::vector<Event> replay_events(const RunRecord& r);

} // namespace moa::engine
