// SPDX-License-Identifier: MIT
#include "accounting/estimate.h"

#include <algorithm>

#include "util/text.h"

namespace moa::accounting {

RunEstimate estimate_run(const config::Config& c, const Catalog& catalog, const std::string& prompt) {
    RunEstimate e;
    const long template_tokens = text::estimate_tokens(c.aggregation.template_text);
    long previous_answers = 0; // tokens of the previous layer's answers, all together
    for (std::size_t li = 0; li < c.layers.size(); ++li) {
        double layer_tflops = 0;
        long answers = 0;
        for (const auto& a : c.layers[li].agents) {
            providers::Usage u;
            u.prompt_tokens = text::estimate_tokens(prompt) + text::estimate_tokens(a.system.value_or("")) + 8;
            if (li > 0) u.prompt_tokens += template_tokens + previous_answers;
            u.completion_tokens = a.params.max_tokens.value_or(kAssumedMaxTokens);
            answers += u.completion_tokens;
            const auto* p = c.provider(a.provider);
            auto cost = cost_of(catalog.find(a.provider, p ? p->base_url : std::string(), a.model), u);
            if (p && p->type == config::ProviderType::Demo) cost.usd = 0.0;
            if (cost.usd) e.cost_usd += *cost.usd;
            else e.cost_complete = false;
            if (cost.tflops) layer_tflops = std::max(layer_tflops, *cost.tflops);
            else e.tflops_complete = false;
            e.prompt_tokens += u.prompt_tokens;
            e.completion_tokens += u.completion_tokens;
        }
        e.tflops += layer_tflops;
        previous_answers = answers;
    }
    return e;
}

} // namespace moa::accounting
