// SPDX-License-Identifier: MIT
#pragma once
#include <cstddef>
#include <string>

#include "engine/run_types.h"

namespace moa::engine {
// A run as one self-contained HTML page to hand out: inline CSS and an inline SVG of the layers
// whose edges carry "x% of B comes from A" (engine/run_provenance.h), then every answer with its
// sentences coloured by the answer of the layer before they come from. No script, no external
// reference of any kind; all model text is escaped (it is untrusted).
std::string to_html(const RunRecord& r);
// The colour of agent i of a layer, as the source colour of its text in the next layer (#rrggbb);
// the workbench's views use the same colours as the page.
const char* agent_colour(std::size_t i);
} // namespace moa::engine
