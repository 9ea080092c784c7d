// SPDX-License-Identifier: MIT
#pragma once
// Provenance of a whole run, computed from its record alone (so a run loaded from the history
// gives the same numbers as the live one): for every answer of layer 2 and later, the share of
// it that comes from each answer of the layer before (eval/provenance.h defines the measure),
// and which answers the next layer ignored.
#include <optional>
#include <string>
#include <vector>

#include "engine/run_types.h"
#include "eval/provenance.h"

namespace moa::engine {

struct SourceShare {
    int layer = 0; // 0-based, as in the record
    int agent = 0;
    std::optional<double> share; // "x% of this answer comes from that one"; nullopt: see `missing`
    std::string missing;         // why there is no share
};

struct AgentProvenance {
    std::vector<SourceShare> sources;         // layer 2 and later: one per answer of the layer before
    std::optional<bool> ignored;              // answers the next layer was sent: it took almost nothing
    std::optional<double> final_share;        // layers before the last: the share of the final answer from it
    eval::Provenance detail;                  // per sentence; its source i is agent detail_sources[i] of the layer before
    std::vector<int> detail_sources;
};

struct RunProvenance {
    std::vector<std::vector<AgentProvenance>> layers; // same shape as the record's layers
};

// Whether the next layer was sent this answer (the engine passes on only finished answers).
bool was_passed_on(const AgentRecord& a);

// The text the measure reads: the answer with the offline demo's label blanked (same length, so
// spans index the answer itself). Any view measuring a pair of its own (Compare answers) uses it.
std::string measured_text(const std::string& text, bool demo);

RunProvenance compute_provenance(const RunRecord& r);

} // namespace moa::engine
