// SPDX-License-Identifier: MIT
#pragma once
#include <string>

#include "engine/run_types.h"

namespace moa::engine {
// A run as a Markdown document: the prompt, every layer's answers with their numbers, the final
// answer, the totals. Model output is quoted as it is (a reader renders it; we fetch nothing).
std::string to_markdown(const RunRecord& r);
} // namespace moa::engine
