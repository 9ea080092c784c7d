// SPDX-License-Identifier: MIT
#pragma once
// Money as every view of the project writes it (the window, `moa run`, a run's Markdown): "$1.23",
// "$0.0012", "<$0.0001", "$0" — two significant digits below a cent, never a row of zeros such
// as "$0.00000".
#include <string>

namespace moa::accounting {

std::string format_usd(double usd);

} // namespace moa::accounting
