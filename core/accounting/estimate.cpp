// SPDX-License-Identifier: MIT
#include "accounting/estimate.h"

#include <algorithm>

#include "util/text.h"

namespace moa::accounting {

CallCost cost_for(const Catalog& catalog, const config::Config& c, const std::string& provider_name,
                  const std::string& model, const providers::Usage& u) {
    const auto* p = c.provider(provider_name);
    auto match = catalog.find(provider_name, p ? p->base_url : std::string(), model);
    ModelInfo merged;
    ModelInfo sized;
    if (p) {
        if (auto o = p->models.find(model); o != p->models.end()) {
            if (match.priced) merged = *match.priced;
            if (o->second.input_usd_per_mtok) merged.input_usd_per_mtok = o->second.input_usd_per_mtok;
            if (o->second.output_usd_per_mtok) merged.output_usd_per_mtok = o->second.output_usd_per_mtok;
            if (merged.input_usd_per_mtok && merged.output_usd_per_mtok) match.priced = &merged;
            if (o->second.active_params_b) {
                sized = match.params ? *match.params : ModelInfo{};
                sized.active_params_b = o->second.active_params_b;
                sized.total_params_b = sized.total_params_b ? sized.total_params_b : o->second.active_params_b;
                match.params = &sized;
            }
        }
    }
    auto cost = cost_of(match, u);
    if (p && p->type == config::ProviderType::Demo) cost.usd = 0.0;
    return cost;
}

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
            auto cost = cost_for(catalog, c, a.provider, a.model, u);
            auto note = [&a](std::vector<std::string>& names) {
                if (std::find(names.begin(), names.end(), a.model) == names.end()) names.push_back(a.model);
            };
            if (cost.usd) {
                e.cost_usd += *cost.usd;
                e.any_priced = true;
            } else {
                e.cost_complete = false;
                note(e.unpriced);
            }
            if (cost.tflops) {
                layer_tflops = std::max(layer_tflops, *cost.tflops);
                e.any_sized = true;
            } else {
                e.tflops_complete = false;
                note(e.unsized);
            }
            e.prompt_tokens += u.prompt_tokens;
            e.completion_tokens += u.completion_tokens;
        }
        e.tflops += layer_tflops;
        previous_answers = answers;
    }
    return e;
}

} // namespace moa::accounting
