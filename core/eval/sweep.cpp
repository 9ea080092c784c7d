// SPDX-License-Identifier: MIT
#include "eval/sweep.h"

#include <algorithm>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "util/resources.h"
#include "util/text.h"

namespace moa::eval {

std::optional<SweepKind> sweep_kind_from_string(const std::string& s) {
    if (s == "proposers") return SweepKind::Proposers;
    if (s == "layers") return SweepKind::Layers;
    if (s == "aggregator") return SweepKind::Aggregator;
    if (s == "samples") return SweepKind::Samples;
    if (s == "ranker") return SweepKind::Ranker;
    if (s == "latency") return SweepKind::Latency;
    return std::nullopt;
}

const char* to_string(SweepKind k) {
    switch (k) {
    case SweepKind::Proposers: return "proposers";
    case SweepKind::Layers: return "layers";
    case SweepKind::Aggregator: return "aggregator";
    case SweepKind::Samples: return "samples";
    case SweepKind::Ranker: return "ranker";
    case SweepKind::Latency: return "latency";
    }
    return "?";
}

namespace {
Result<bool> write_whole(const std::filesystem::path& p, const std::string& text) {
    auto tmp = p;
    tmp += ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out << text;
        out.flush();
        if (!out) {
            std::error_code ec;
            std::filesystem::remove(tmp, ec);
            return Error{p.string() + ": cannot write (disk full or no permission); nothing was changed"};
        }
    }
    std::error_code ec;
    std::filesystem::rename(tmp, p, ec);
    if (ec) return Error{p.string() + ": cannot replace the file: " + ec.message()};
    return true;
}
std::string absolute_or_preset(const std::string& s) {
    std::error_code ec;
    if (s.empty() || !std::filesystem::exists(s, ec)) return s; // a preset name
    return std::filesystem::absolute(s, ec).lexically_normal().string();
}
} // namespace

Result<std::string> write_sweep_experiment(const std::vector<config::Config>& variants, const SweepFiles& f) {
    std::error_code ec;
    std::filesystem::create_directories(f.dir, ec);
    if (ec) return Error{f.dir + ": cannot create the folder: " + ec.message()};
    nlohmann::json configs = nlohmann::json::array();
    for (std::size_t i = 0; i < variants.size(); ++i) {
        char name[64];
        std::snprintf(name, sizeof name, "variant-%02zu.moa.json", i + 1);
        auto w = write_whole(std::filesystem::path(f.dir) / name, config::to_json(variants[i]).dump(2) + "\n");
        if (!w) return Error{w.error()};
        configs.push_back(name);
    }
    nlohmann::json e{{"schema", "moa-workbench/experiment@1"},
                     {"name", (variants.empty() ? std::string("sweep") : variants.front().name.substr(0, variants.front().name.find(" — "))) + " sweep"},
                     {"configurations", configs},
                     {"prompts", f.prompts == "starter" ? nlohmann::json("starter") : nlohmann::json(absolute_or_preset(f.prompts))},
                     {"sample", f.sample},
                     {"seed", f.seed},
                     {"judge", {{"config", absolute_or_preset(f.judge)}, {"mode", f.judge_mode}}},
                     {"concurrency", 4}};
    if (!f.cache_generations) e["cache_generations"] = false;
    if (!f.reference_config.empty()) e["reference"] = {{"configuration", absolute_or_preset(f.reference_config)}};
    else if (!f.reference_outputs.empty()) e["reference"] = {{"outputs", absolute_or_preset(f.reference_outputs)}};
    auto path = std::filesystem::path(f.dir) / "sweep.moa-experiment.json";
    auto w = write_whole(path, e.dump(2) + "\n");
    if (!w) return Error{w.error()};
    return path.string();
}

std::string select_template() {
    std::string t;
    if (!text::read_file(resources::dir() + "/templates/select_best.txt", t))
        t = "Reply with the number of the best response only.\n\nResponses from models:";
    while (!t.empty() && t.back() == '\n') t.pop_back();
    return t;
}

Result<std::vector<config::Config>> make_sweep(const config::Config& base, const SweepOptions& o) {
    if (base.layers.size() < 2 || base.layers.front().agents.empty())
        return Error{"a sweep starts from a MoA configuration: at least one layer of proposers and an aggregator"};
    const std::string stem = base.name.empty() ? "base" : base.name;
    const auto& proposers = base.layers.front().agents;
    const config::Agent& aggregator = base.layers.back().agents.front();
    std::vector<config::Config> out;
    auto variant = [&](const std::string& what) {
        config::Config c = base;
        c.name = stem + " — " + what;
        c.source_path.clear();
        return c;
    };
    switch (o.kind) {
    case SweepKind::Proposers: {
        int n_max = o.max > 0 ? o.max : static_cast<int>(proposers.size());
        for (int n = 1; n <= n_max; ++n) {
            auto c = variant(std::to_string(n) + (n == 1 ? " proposer" : " proposers"));
            for (std::size_t li = 0; li + 1 < c.layers.size(); ++li) {
                const auto src = base.layers[li].agents;
                c.layers[li].agents.clear();
                for (int k = 0; k < n; ++k) c.layers[li].agents.push_back(src[static_cast<std::size_t>(k) % src.size()]);
            }
            out.push_back(std::move(c));
        }
        break;
    }
    case SweepKind::Layers: {
        int k_max = o.max > 0 ? o.max : static_cast<int>(base.layers.size()) - 1;
        for (int k = 0; k <= k_max; ++k) {
            auto c = variant(k == 0 ? "aggregator alone" : std::to_string(k + 1) + " layers");
            c.layers.clear();
            for (int i = 0; i < k; ++i) {
                std::size_t src = std::min<std::size_t>(static_cast<std::size_t>(i), base.layers.size() - 2);
                c.layers.push_back(base.layers[src]);
            }
            c.layers.push_back(base.layers.back());
            out.push_back(std::move(c));
        }
        break;
    }
    case SweepKind::Aggregator: {
        if (o.models.empty()) return Error{"an aggregator sweep needs the models to try (\"model\" or \"provider/model\")"};
        for (const auto& m : o.models) {
            config::Agent a = aggregator;
            auto slash = m.find('/');
            if (slash != std::string::npos && base.provider(m.substr(0, slash))) {
                a.provider = m.substr(0, slash);
                a.model = m.substr(slash + 1);
            } else {
                a.model = m;
            }
            auto c = variant("aggregator " + a.model);
            c.layers.back().agents.front() = a;
            out.push_back(std::move(c));
        }
        break;
    }
    case SweepKind::Samples: {
        // The paper's single-proposer setting: one model answering n times (sampled) against the
        // base's n different models.
        out.push_back(variant(std::to_string(proposers.size()) + " different models"));
        std::vector<std::string> seen;
        for (const auto& p : proposers) {
            if (std::find(seen.begin(), seen.end(), p.provider + "/" + p.model) != seen.end()) continue;
            seen.push_back(p.provider + "/" + p.model);
            auto c = variant(p.model + " sampled " + std::to_string(proposers.size()) + "x");
            for (std::size_t li = 0; li + 1 < c.layers.size(); ++li)
                for (std::size_t k = 0; k < c.layers[li].agents.size(); ++k) {
                    config::Agent a = p;
                    a.params.temperature = o.sample_temperature;
                    a.params.seed = static_cast<std::int64_t>(k + 1); // distinct samples, and distinct cache keys
                    c.layers[li].agents[k] = a;
                }
            out.push_back(std::move(c));
        }
        break;
    }
    case SweepKind::Ranker: {
        out.push_back(variant("aggregate and synthesize"));
        auto c = variant("LLM ranker (selects one answer)");
        c.aggregation.mode = config::Aggregation::Mode::Select;
        c.aggregation.template_name = "inline";
        c.aggregation.template_text = select_template();
        out.push_back(std::move(c));
        break;
    }
    case SweepKind::Latency: {
        // The user's own configuration is a row when it is not one of the plain variants below
        // (it already streams in steps, or has a quorum or deadline).
        const bool own = base.pipelining.mode != config::Pipelining::Mode::Barrier ||
                         std::any_of(base.layers.begin(), base.layers.end(),
                                     [](const config::Layer& L) { return L.quorum || L.deadline_ms; });
        if (own) out.push_back(variant("as configured"));
        auto barrier = variant("barrier");
        barrier.pipelining.mode = config::Pipelining::Mode::Barrier;
        for (auto& L : barrier.layers) {
            L.quorum.reset();
            L.deadline_ms.reset();
        }
        out.push_back(barrier);
        for (int chunk : {16, 64}) {
            auto c = variant("staircase, chunk " + std::to_string(chunk));
            c.layers = barrier.layers;
            c.pipelining.mode = config::Pipelining::Mode::Staircase;
            c.pipelining.chunk_tokens = chunk;
            out.push_back(std::move(c));
        }
        auto q = variant("quorum n-1");
        q.layers = barrier.layers;
        q.pipelining = barrier.pipelining;
        bool any = false;
        for (std::size_t li = 0; li + 1 < q.layers.size(); ++li)
            if (q.layers[li].agents.size() >= 2) {
                q.layers[li].quorum = static_cast<int>(q.layers[li].agents.size()) - 1;
                any = true;
            }
        if (any) out.push_back(std::move(q));
        break;
    }
    }
    // Every variant must open again: one past the loader's limits would make the whole experiment
    // refuse to load (the valid variants with it), so none is written.
    for (std::size_t i = 0; i < out.size(); ++i) {
        const auto& c = out[i];
        std::size_t total = 0, widest = 0;
        for (const auto& L : c.layers) total += L.agents.size(), widest = std::max(widest, L.agents.size());
        std::string why;
        if (c.layers.size() > config::kMaxLayers)
            why = std::to_string(c.layers.size()) + " layers; a configuration holds at most " + std::to_string(config::kMaxLayers);
        else if (widest > config::kMaxAgentsPerLayer)
            why = std::to_string(widest) + " agents in a layer; a layer holds at most " + std::to_string(config::kMaxAgentsPerLayer);
        else if (total > config::kMaxAgents)
            why = std::to_string(total) + " agents in all; a configuration holds at most " + std::to_string(config::kMaxAgents);
        if (!why.empty())
            return Error{"variant " + std::to_string(i + 1) + " (" + c.name + ") would have " + why +
                         " (the limits in the README): choose a smaller --max / \"Up to\""};
    }
    return out;
}

} // namespace moa::eval
