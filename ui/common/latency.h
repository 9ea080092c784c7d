// SPDX-License-Identifier: MIT
#pragma once
// The run's time to first token as every view says it ("first token 0.16 s"): from the run's
// start to the final answer's first token (engine Totals::ttft_ms), for barrier and staircase
// runs alike.
#include <QString>

#include "engine/run_types.h"

namespace moa::ui {

QString first_token_text(const engine::Totals& t);
// "1 step", "7 steps": the calls of an agent that ran in steps (staircase streaming).
QString steps_text(std::size_t steps);

} // namespace moa::ui
