// SPDX-License-Identifier: MIT
#include "eval/experiment_results.h"

#include <algorithm>
#include <cmath>

#include "eval/experiment_runner.h"
#include "util/text.h"

namespace moa::eval {

using nlohmann::json;

std::vector<std::size_t> pareto_front(const std::vector<double>& cost, const std::vector<double>& quality) {
    std::vector<std::size_t> out;
    for (std::size_t i = 0; i < cost.size(); ++i) {
        bool dominated = false;
        for (std::size_t k = 0; k < cost.size() && !dominated; ++k)
            dominated = k != i && cost[k] <= cost[i] && quality[k] >= quality[i] && (cost[k] < cost[i] || quality[k] > quality[i]);
        if (!dominated) out.push_back(i);
    }
    std::sort(out.begin(), out.end(), [&](auto a, auto b) { return cost[a] < cost[b] || (cost[a] == cost[b] && a < b); });
    return out;
}

std::vector<double> joint_difficulty(const std::vector<std::vector<std::optional<double>>>& prefs) {
    if (prefs.size() < 3) return {};
    const std::size_t n = prefs.front().size();
    std::vector<double> d(n, 0.0);
    double total = 0;
    int counted = 0;
    for (std::size_t i = 0; i < n; ++i) {
        double s = 0;
        int k = 0;
        for (const auto& c : prefs)
            if (i < c.size() && c[i]) {
                double y = std::clamp(2.0 - *c[i], 0.02, 0.98); // the baseline's win probability
                s += std::log(y / (1 - y));
                ++k;
            }
        d[i] = k ? s / k : 0.0;
        total += d[i];
        ++counted;
    }
    double mean = counted ? total / counted : 0.0;
    for (auto& x : d) x -= mean;
    return d;
}

ExperimentResults compute_results(const Experiment& e, store::ExperimentStore& store) {
    ExperimentResults out;
    out.name = e.name;
    out.mode = e.judge.mode;
    out.reference_name = e.reference ? e.reference->name : "";
    const std::string jk = ExperimentRunner::judge_key(e);
    const std::string rk = ExperimentRunner::reference_key(e);
    std::vector<std::vector<Judged>> judged(e.configs.size());
    std::vector<std::vector<std::optional<double>>> prefs(e.configs.size());
    for (std::size_t c = 0; c < e.configs.size(); ++c) {
        ConfigResult cr;
        cr.name = e.configs[c].name.empty() ? e.config_sources[c] : e.configs[c].name;
        cr.source = e.config_sources[c];
        const std::string ck = config_key(e.configs[c]);
        double cost = 0, tflops = 0, wall = 0, tokens = 0;
        std::vector<double> scores;
        std::map<std::string, std::pair<double, int>> skills;
        for (const auto& item : e.prompts.items) {
            auto g = store.generation(ck, item.id);
            if (!g) {
                judged[c].push_back({});
                prefs[c].push_back(std::nullopt);
                continue;
            }
            if (!g->ok) {
                ++cr.failed;
                judged[c].push_back({});
                prefs[c].push_back(std::nullopt);
                continue;
            }
            ++cr.generated;
            cost += g->cost_usd;
            cr.cost_complete = cr.cost_complete && g->cost_complete;
            tflops += g->tflops;
            wall += g->wall_ms;
            tokens += static_cast<double>(g->prompt_tokens + g->completion_tokens);
            cr.paid_usd += g->paid_usd;
            InstanceResult ir;
            ir.item_id = item.id;
            ir.category = item.category;
            ir.instruction = item.instruction();
            ir.config = cr.name;
            ir.output = g->turns.back();
            if (e.reference) {
                if (e.reference->kind == ReferenceSpec::Kind::Outputs) {
                    auto it = e.reference->outputs.find(item.instruction());
                    if (it != e.reference->outputs.end()) ir.reference = it->second;
                } else if (auto rg = store.generation(rk, item.id); rg && rg->ok) {
                    ir.reference = rg->turns.back();
                }
            }
            auto j = store.judgment(jk, item.id, ck, rk);
            Judged row;
            row.length_1 = text::code_points(ir.reference);
            row.length_2 = text::code_points(ir.output);
            if (j) {
                ++cr.judged;
                cr.paid_usd += j->paid_usd;
                ir.judge_raw = j->raw;
                ir.error = j->error;
                ir.detail = j->detail;
                ir.preference = j->preference;
                ir.score = j->score;
                if (!j->error.empty() && j->error.rfind("unreadable", 0) == 0) ++cr.unreadable;
                if (j->error.empty()) {
                    row.preference = j->preference;
                    if (j->score) scores.push_back(*j->score);
                    if (j->detail.contains("skills"))
                        for (const auto& [s, v] : j->detail["skills"].items())
                            if (v.is_number()) skills[s].first += v.get<double>(), skills[s].second++;
                }
            }
            judged[c].push_back(row);
            prefs[c].push_back(row.preference);
            out.instances.push_back(std::move(ir));
        }
        if (cr.generated) {
            cr.cost_per_instance = cost / cr.generated;
            cr.tflops_per_instance = tflops / cr.generated;
            cr.latency_ms = wall / cr.generated;
            cr.tokens_per_instance = tokens / cr.generated;
        }
        if (!scores.empty()) {
            double m = 0;
            for (double s : scores) m += s;
            m /= static_cast<double>(scores.size());
            cr.score = m;
            if (scores.size() > 1) {
                double ss = 0;
                for (double s : scores) ss += (s - m) * (s - m);
                cr.score_se = std::sqrt(ss / static_cast<double>(scores.size() - 1)) / std::sqrt(double(scores.size()));
            }
        }
        for (const auto& [s, v] : skills) cr.skills[s] = v.first / v.second;
        out.configs.push_back(std::move(cr));
    }
    if (e.judge.mode == "pairwise") {
        auto difficulty = joint_difficulty(prefs);
        out.lc_note = difficulty.empty()
                          ? "LC fitted per configuration on length and identity only (prompt difficulty needs 3 or more configurations)"
                          : "LC fitted with each prompt's difficulty estimated jointly over the " +
                                std::to_string(e.configs.size()) + " configurations";
        out.lc_note += "; no baseline-variant rows regularise the length term (see README)";
        for (std::size_t c = 0; c < e.configs.size(); ++c) {
            auto& cr = out.configs[c];
            cr.win = win_rate(judged[c]);
            auto lc = length_controlled_win_rate(judged[c], difficulty, {});
            if (lc) cr.lc_win_rate = lc->lc_win_rate;
        }
    }
    std::vector<double> cost, quality;
    for (const auto& c : out.configs) {
        cost.push_back(c.cost_per_instance);
        quality.push_back(c.lc_win_rate.value_or(c.score.value_or(c.win.win_rate)));
    }
    out.frontier = pareto_front(cost, quality);
    return out;
}

json to_json(const ExperimentResults& r) {
    json cs = json::array();
    for (std::size_t i = 0; i < r.configs.size(); ++i) {
        const auto& c = r.configs[i];
        auto opt = [](const std::optional<double>& v) { return v ? json(*v) : json(nullptr); };
        json j{{"name", c.name},
               {"source", c.source},
               {"generated", c.generated},
               {"failed", c.failed},
               {"judged", c.judged},
               {"unreadable", c.unreadable},
               {"cost_per_instance_usd", c.cost_per_instance},
               {"cost_complete", c.cost_complete},
               {"tflops_per_instance", c.tflops_per_instance},
               {"latency_ms", c.latency_ms},
               {"tokens_per_instance", c.tokens_per_instance},
               {"paid_usd", c.paid_usd},
               {"on_frontier", std::find(r.frontier.begin(), r.frontier.end(), i) != r.frontier.end()}};
        if (r.mode == "pairwise") {
            j["length_controlled_winrate"] = opt(c.lc_win_rate);
            j["win_rate"] = c.win.win_rate;
            j["standard_error"] = c.win.standard_error;
            j["n_wins"] = c.win.n_wins;
            j["n_wins_base"] = c.win.n_wins_base;
            j["n_draws"] = c.win.n_draws;
            j["n_total"] = c.win.n_total;
            j["discrete_win_rate"] = c.win.discrete_win_rate;
            j["avg_length"] = c.win.avg_length;
        } else {
            j["score"] = opt(c.score);
            j["score_se"] = opt(c.score_se);
            if (!c.skills.empty()) j["skills"] = c.skills;
        }
        cs.push_back(std::move(j));
    }
    json inst = json::array();
    for (const auto& i : r.instances) {
        inst.push_back({{"item", i.item_id}, {"category", i.category}, {"config", i.config}, {"instruction", i.instruction},
                        {"output", i.output}, {"reference", i.reference},
                        {"preference", i.preference ? json(*i.preference) : json(nullptr)},
                        {"score", i.score ? json(*i.score) : json(nullptr)}, {"judge_raw", i.judge_raw},
                        {"error", i.error}, {"detail", i.detail}});
    }
    return {{"name", r.name}, {"mode", r.mode}, {"reference", r.reference_name}, {"lc_note", r.lc_note},
            {"configurations", cs}, {"instances", inst}};
}

} // namespace moa::eval
