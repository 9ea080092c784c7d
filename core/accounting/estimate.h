// SPDX-License-Identifier: MIT
#pragma once
// What one run of a configuration may cost before it runs: every agent writes up to its
// max_tokens (512 when unset), later layers read the previous layer's answers at that length.
#include <optional>
#include <string>
#include <vector>

#include "accounting/catalog.h"
#include "config/config.h"

namespace moa::accounting {

struct RunEstimate {
    double cost_usd = 0;
    bool cost_complete = true;
    double tflops = 0; // max within a layer, summed over layers
    bool tflops_complete = true;
    long prompt_tokens = 0;
    long completion_tokens = 0;
    // Whether any call has a price (a parameter count), and the models that have none, once each
    // in the order met: a sum of $0 may be demo and free models, not "nothing known".
    bool any_priced = false;
    bool any_sized = false;
    std::vector<std::string> unpriced;
    std::vector<std::string> unsized;
};

inline constexpr long kAssumedMaxTokens = 512;

// Cost and TFLOPs of a call by `model` on the configured provider `provider_name`: the
// provider's own overrides first, then the catalog; the offline demo costs nothing.
CallCost cost_for(const Catalog& catalog, const config::Config& c, const std::string& provider_name,
                  const std::string& model, const providers::Usage& u);

RunEstimate estimate_run(const config::Config& c, const Catalog& catalog, const std::string& prompt);

} // namespace moa::accounting
