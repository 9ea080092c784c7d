// SPDX-License-Identifier: MIT
#include "engine/run_markdown.h"

#include "accounting/money.h"
#include "engine/run_outcome.h"
#include "util/markdown_text.h"

#include <cstdio>
#include <sstream>

namespace moa::engine {

namespace {
std::string num(double v, int decimals) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    return buf;
}
std::string money(const std::optional<double>& v) { return v ? accounting::format_usd(*v) : "unknown"; }
} // namespace

std::string to_markdown(const RunRecord& r) {
    std::ostringstream o;
    // Every text from others (names, prompts, answers, errors) goes through markdown_safe: a
    // renderer showing the file must not run their HTML or follow their javascript: links.
    o << "# " << text::markdown_inline(r.config_name) << " — run " << to_string(r.status) << "\n\n";
    for (const auto& m : r.input.conversation)
        o << "**" << text::markdown_inline(m.role) << ":**\n\n" << text::markdown_safe(m.content) << "\n\n";
    for (std::size_t li = 0; li < r.layers.size(); ++li) {
        const auto& L = r.layers[li];
        const bool last = li + 1 == r.layers.size();
        o << "## Layer " << li + 1 << (last ? " (aggregator)" : "") << " — " << num((L.end_ms - L.start_ms) / 1000.0, 2)
          << " s\n\n";
        for (const auto& a : L.agents) {
            o << "### " << a.index + 1 << ". " << text::markdown_inline(a.model) << " (" << text::markdown_inline(a.provider) << (a.demo ? ", offline demo — not a real model" : "")
              << ") — " << to_string(a.state) << "\n\n";
            o << "_" << a.usage.prompt_tokens << " + " << a.usage.completion_tokens << " tokens"
              << (a.usage.estimated ? " (estimated)" : "");
            if (a.ttft_ms) o << ", first token " << num(*a.ttft_ms, 0) << " ms";
            o << ", " << num(a.duration_ms / 1000.0, 2) << " s, " << money(a.cost_usd);
            if (a.tflops) o << ", " << num(*a.tflops, 2) << " TFLOPs";
            if (a.attempts > 1) o << ", " << a.attempts << " attempts";
            o << "_\n\n";
            // Each text starts a line of its own: that is where markdown_safe reads a code fence.
            if (a.error) o << "**Error:**\n\n" << text::markdown_safe(*a.error) << "\n\n";
            if (!a.text.empty()) o << text::markdown_safe(a.text) << "\n\n";
        }
    }
    if (r.final_text) o << "## Final answer\n\n" << text::markdown_safe(*r.final_text) << "\n\n";
    if (!r.error.empty()) o << "## Error\n\n" << text::markdown_safe(r.error) << "\n\n";
    const auto& t = r.totals;
    const Known cost_known = known(t.cost_complete, t.cost_usd), tf_known = known(t.tflops_complete, t.tflops);
    o << "---\n\nCost "
      << (cost_known == Known::None ? "unknown (no prices)"
          : cost_known == Known::Some ? "at least " + money(t.cost_usd) + " (some prices unknown)"
                                      : money(t.cost_usd))
      << " · "
      << (tf_known == Known::None ? "TFLOPs unknown (no parameter counts)"
          : (tf_known == Known::Some ? "at least " : "") + num(t.tflops, 2) + " TFLOPs" +
                (tf_known == Known::Some ? " (some parameter counts unknown)" : ""))
      << " · wall " << num(t.wall_ms / 1000.0, 2) << " s · critical path " << num(t.critical_path_ms / 1000.0, 2)
      << " s · " << t.prompt_tokens << " + " << t.completion_tokens << " tokens\n";
    return o.str();
}

} // namespace moa::engine
