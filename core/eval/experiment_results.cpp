// SPDX-License-Identifier: MIT
#include "eval/experiment_results.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>

#include "eval/experiment_runner.h"
#include "eval/lc_variants.h"
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

std::optional<double> lc_bootstrap_se(const std::vector<Judged>& rows, const std::vector<double>& difficulty, double C,
                                      std::uint64_t seed, int resamples, const std::vector<std::vector<GamedRow>>& gamed_of) {
    std::vector<std::size_t> idx;
    for (std::size_t i = 0; i < rows.size(); ++i)
        if (rows[i].preference) idx.push_back(i);
    if (idx.size() < 10) return std::nullopt;
    std::mt19937_64 rng(seed);
    std::uniform_int_distribution<std::size_t> pick(0, idx.size() - 1);
    std::vector<double> lcs;
    std::vector<Judged> rs(idx.size());
    std::vector<double> ds(difficulty.empty() ? 0 : idx.size());
    std::vector<GamedRow> gs;
    for (int b = 0; b < resamples; ++b) {
        gs.clear();
        for (std::size_t k = 0; k < idx.size(); ++k) {
            const std::size_t i = idx[pick(rng)];
            rs[k] = rows[i];
            if (!ds.empty()) ds[k] = difficulty[i]; // each instance keeps its own difficulty
            if (i < gamed_of.size()) gs.insert(gs.end(), gamed_of[i].begin(), gamed_of[i].end());
        }
        if (auto lc = length_controlled_win_rate_at(rs, ds, gs, C)) lcs.push_back(lc->lc_win_rate);
    }
    if (lcs.size() < 2) return std::nullopt;
    double mean = 0;
    for (double v : lcs) mean += v;
    mean /= static_cast<double>(lcs.size());
    double ss = 0;
    for (double v : lcs) ss += (v - mean) * (v - mean);
    return std::sqrt(ss / static_cast<double>(lcs.size() - 1));
}

namespace {
std::optional<double> median_of(std::vector<double> v) {
    if (v.empty()) return std::nullopt;
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}
} // namespace

std::string judge_note(const Experiment& e) {
    if (e.judge.config.layers.size() != 1 || e.judge.config.layers[0].agents.size() != 1) return {};
    const auto& a = e.judge.config.layers[0].agents[0];
    const auto* p = e.judge.config.provider(a.provider);
    if (p && p->type == config::ProviderType::Demo && a.model.rfind("demo-judge", 0) == 0)
        return "offline demo judge: counts words, not a real judge";
    return {};
}

ExperimentResults compute_results(const Experiment& e, store::ExperimentStore& store) {
    ExperimentResults out;
    out.name = e.name;
    out.mode = e.judge.mode;
    out.reference_name = e.reference ? e.reference->name : "";
    out.judge_note = judge_note(e);
    const std::string jk = ExperimentRunner::judge_key(e);
    const std::string rk = ExperimentRunner::reference_key(e);
    const bool pairwise = e.judge.mode == "pairwise";
    std::vector<ExperimentRunner::ReferenceAnswer> refs;
    for (const auto& item : e.prompts.items) refs.push_back(ExperimentRunner::reference_answer(e, store, item));
    std::vector<std::vector<Judged>> judged(e.configs.size());
    std::vector<std::vector<std::optional<double>>> prefs(e.configs.size());
    for (std::size_t c = 0; c < e.configs.size(); ++c) {
        ConfigResult cr;
        cr.name = e.configs[c].name.empty() ? e.config_sources[c] : e.configs[c].name;
        cr.source = e.config_sources[c];
        const std::string ck = config_key(e.configs[c]);
        double cost = 0, tflops = 0, wall = 0, tokens = 0;
        std::vector<double> walls, ttfts;
        std::vector<double> scores;
        std::map<std::string, std::pair<double, int>> skills;
        for (std::size_t ii = 0; ii < e.prompts.items.size(); ++ii) {
            const auto& item = e.prompts.items[ii];
            const auto& ref = refs[ii];
            auto g = store.generation(ck, item.id);
            if (!g) {
                ++cr.pending;
                judged[c].push_back({});
                prefs[c].push_back(std::nullopt);
                continue;
            }
            if (g->ok) {
                // What the answer cost counts whether or not it could be judged yet.
                ++cr.generated;
                cost += g->cost_usd;
                cr.cost_complete = cr.cost_complete && g->cost_complete;
                tflops += g->tflops;
                if (g->cached_calls > 0) ++cr.timing_from_cache;
                else {
                    wall += g->wall_ms;
                    walls.push_back(g->wall_ms);
                    if (g->ttft_ms) ttfts.push_back(*g->ttft_ms);
                }
                tokens += static_cast<double>(g->prompt_tokens + g->completion_tokens);
                cr.paid_usd += g->paid_usd;
                if (!g->degraded.empty()) {
                    ++cr.degraded;
                    for (const auto& d : g->degraded) cr.degraded_notes.push_back(item.id + ": " + d);
                }
            }
            if (!g->ok || (pairwise && !ref.ok)) {
                InstanceResult ir;
                ir.item_id = item.id;
                ir.category = item.category;
                ir.instruction = item.instruction();
                ir.config = cr.name;
                if (g->ok) ir.output = g->turns.back();
                ir.reference = ref.text;
                if (g->ok) ir.degraded = g->degraded;
                Judged row;
                if (pairwise && !ref.ok) {
                    // Nothing is judged against a failed reference: no verdict until it succeeds.
                    ir.reference_failed = true;
                    ir.error = ref.failed;
                    if (ref.failed.rfind("reference failed", 0) == 0) ++cr.reference_failed;
                    else ++cr.pending;
                    if (!g->ok) ++cr.failed;
                } else {
                    // A failed generation is a loss (pairwise) or the lowest grade, never left out:
                    // leaving it out would score the configuration on the prompts it could answer.
                    ++cr.failed;
                    ir.failed_generation = true;
                    ir.error = "generation failed: " + g->error;
                    if (pairwise) {
                        ir.preference = 1.0;
                        row.preference = 1.0;
                        row.length_1 = text::code_points(ref.text);
                    } else {
                        const double lowest = 1.0; // [[1]] of 1-10, or 1 of FLASK's 1-5
                        ir.score = lowest;
                        scores.push_back(lowest);
                        if (e.judge.mode == "skills")
                            for (const auto& sk : item.skills.empty() ? flask_skills() : item.skills)
                                skills[sk].first += lowest, skills[sk].second++;
                    }
                }
                judged[c].push_back(row);
                prefs[c].push_back(row.preference);
                out.instances.push_back(std::move(ir));
                continue;
            }
            InstanceResult ir;
            ir.item_id = item.id;
            ir.category = item.category;
            ir.instruction = item.instruction();
            ir.config = cr.name;
            ir.output = g->turns.back();
            ir.reference = ref.text;
            ir.degraded = g->degraded;
            auto j = store.judgment(jk, item.id, ck, rk);
            // A verdict on other texts (the reference or the answer has changed since) is stale.
            if (j && j->texts_key != ExperimentRunner::texts_key(item, g->turns, pairwise ? ref.text : "")) j.reset();
            if (!j) ++cr.pending;
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
            if (!walls.empty()) cr.latency_ms = wall / static_cast<double>(walls.size());
            cr.median_wall_ms = median_of(walls);
            cr.median_ttft_ms = median_of(ttfts);
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
        // The reference's baseline variants judged against its answers: the regularisation rows.
        std::vector<VariantVerdict> verdicts;
        out.lc_variants = e.lc_variants && lc_variants_unavailable(e).empty();
        if (out.lc_variants) {
            for (std::size_t ii = 0; ii < e.prompts.items.size(); ++ii) {
                const auto& item = e.prompts.items[ii];
                for (Variant v : kVariants) {
                    VariantResult vr;
                    vr.item_id = item.id;
                    vr.variant = to_string(v);
                    const std::string vk = variant_key(e, v);
                    auto g = store.generation(vk, item.id);
                    if (g && g->ok) vr.output = g->turns.back();
                    std::optional<store::Judgment> j;
                    if (g && g->ok && refs[ii].ok) j = store.judgment(jk, item.id, vk, rk);
                    if (j && j->texts_key != ExperimentRunner::texts_key(item, g->turns, refs[ii].text)) j.reset();
                    if (!g) vr.error = "not generated yet";
                    else if (!g->ok) vr.error = "generation failed: " + g->error;
                    else if (!refs[ii].ok) vr.error = refs[ii].failed;
                    else if (!j) vr.error = "not judged yet";
                    else if (!j->error.empty() || !j->preference) vr.error = j->error.empty() ? "no verdict" : j->error;
                    else {
                        vr.preference = j->preference;
                        verdicts.push_back({ii, v, *j->preference, text::code_points(refs[ii].text), text::code_points(vr.output)});
                    }
                    if (!vr.preference) ++out.variant_missing;
                    out.variants.push_back(std::move(vr));
                }
            }
        }
        auto gamed = gamed_rows(verdicts, difficulty);
        // The same rows by instance, for the bootstrap (a resampled instance brings its own).
        std::vector<std::vector<GamedRow>> gamed_of(e.prompts.items.size());
        {
            std::vector<const VariantVerdict*> order;
            for (Variant v : kVariants)
                for (const auto& x : verdicts)
                    if (x.variant == v) order.push_back(&x);
            std::stable_sort(order.begin(), order.end(), [](const auto* a, const auto* b) {
                return a->variant != b->variant ? a->variant == Variant::Verbose : a->item < b->item;
            });
            for (std::size_t k = 0; k < order.size(); ++k) gamed_of[order[k]->item].push_back(gamed[k]);
        }
        out.variant_rows = static_cast<int>(gamed.size());
        out.lc_regularised = !gamed.empty();
        out.lc_label = out.lc_regularised ? "LC" : "LC (unregularised)";
        out.lc_note = difficulty.empty()
                          ? "LC fitted per configuration on length and identity only (prompt difficulty needs 3 or more configurations)"
                          : "LC fitted with each prompt's difficulty estimated jointly over the " +
                                std::to_string(e.configs.size()) + " configurations";
        if (out.lc_regularised)
            out.lc_note += "; " + std::to_string(gamed.size()) +
                           " baseline-variant rows (the reference's concise and verbose answers judged against its own, weight 0.1 "
                           "each, as AlpacaEval) regularise the length term" +
                           (out.variant_missing ? " (" + std::to_string(out.variant_missing) + " variant rows missing)" : "");
        else if (out.lc_variants)
            out.lc_note += "; the baseline variants are not generated and judged yet, so this is LC (unregularised), not AlpacaEval's LC";
        else
            out.lc_note += "; no baseline-variant rows regularise the length term, so this is LC (unregularised), not AlpacaEval's LC";
        out.lc_note += "; its ± is the standard deviation over 200 seeded bootstrap resamples of the instances (see README)";
        for (std::size_t c = 0; c < e.configs.size(); ++c) {
            auto& cr = out.configs[c];
            cr.win = win_rate(judged[c]);
            auto lc = length_controlled_win_rate(judged[c], difficulty, gamed);
            if (lc) {
                cr.lc_win_rate = lc->lc_win_rate;
                cr.lc_standard_error = lc_bootstrap_se(judged[c], difficulty, lc->C, e.seed * 1000003u + c + 1, 200, gamed_of);
                if (!cr.lc_standard_error)
                    cr.lc_se_missing = "fewer than 2 of 200 bootstrap resamples of the instances could be fitted";
            } else {
                cr.lc_missing = lc.error();
                cr.lc_se_missing = "no LC: " + lc.error();
            }
        }
    }
    int failed = 0, ref_failed = 0, pending = 0;
    for (const auto& c : out.configs) failed += c.failed, ref_failed += c.reference_failed, pending += c.pending;
    if (failed || ref_failed || pending || out.variant_missing) {
        out.incomplete = true;
        std::string parts;
        auto part = [&parts](int n, const std::string& what) {
            if (n) parts += (parts.empty() ? "" : ", ") + std::to_string(n) + " " + what;
        };
        part(failed, failed == 1 ? "failed generation (counted as a loss or the lowest grade)"
                                 : "failed generations (each counted as a loss or the lowest grade)");
        part(ref_failed, ref_failed == 1 ? "instance whose reference failed (not judged)" : "instances whose reference failed (not judged)");
        part(pending, pending == 1 ? "instance not generated or judged yet" : "instances not generated or judged yet");
        part(out.variant_missing, out.variant_missing == 1 ? "baseline variant without a verdict (LC uses the others)"
                                                           : "baseline variants without a verdict (LC uses the others)");
        // "Retry" only when something failed; answers not made yet are made by the next Run (a sweep
        // whose one configuration was answered from the cache read "run again to retry them").
        out.incomplete_note = "incomplete: " + parts +
                              (failed || ref_failed || out.variant_missing ? "; run the experiment again to retry them"
                                                                           : "; Run makes them");
        // Nothing generated, judged or failed yet (a sweep just created): not run, not "retry".
        const bool never_run = std::all_of(out.configs.begin(), out.configs.end(), [](const ConfigResult& c) {
            return c.generated == 0 && c.judged == 0 && c.failed == 0 && c.reference_failed == 0;
        });
        if (never_run && pending)
            out.incomplete_note = "not run yet: " + std::to_string(pending) +
                                  (pending == 1 ? " instance to generate and judge" : " instances to generate and judge") +
                                  "; Run starts it";
    }
    // Only configurations with a verdict compete for the frontier: one without any would sit
    // there at 0% and, when cheap, look like a choice.
    std::vector<double> cost, quality;
    std::vector<std::size_t> index;
    // A cost nobody knows is not $0: beside configurations whose cost is known (in part at least),
    // one of unknown cost would sit on the frontier as the cheapest.
    const bool some_cost_known = std::any_of(out.configs.begin(), out.configs.end(), [&](const ConfigResult& c) {
        return has_verdict(c, out.mode) && !cost_unknown(c);
    });
    for (std::size_t i = 0; i < out.configs.size(); ++i) {
        const auto& c = out.configs[i];
        if (!has_verdict(c, out.mode) || (some_cost_known && cost_unknown(c))) continue;
        index.push_back(i);
        cost.push_back(c.cost_per_instance);
        quality.push_back(c.lc_win_rate.value_or(c.score.value_or(c.win.win_rate)));
    }
    for (auto k : pareto_front(cost, quality)) out.frontier.push_back(index[k]);
    return out;
}

bool cost_unknown(const ConfigResult& c) { return !c.cost_complete && !(c.cost_per_instance > 0); }

std::string cost_text(const ConfigResult& c) {
    if (c.generated == 0) return "n/a";
    if (cost_unknown(c)) return "cost unknown";
    char b[48];
    std::snprintf(b, sizeof b, "%s$%.5f", c.cost_complete ? "" : "≥ ", c.cost_per_instance);
    return b;
}

bool has_verdict(const ConfigResult& c, const std::string& mode) {
    // Stored judgments less the unreadable ones are readable verdicts; a failed generation is one.
    if (c.judged - c.unreadable + c.failed > 0) return true;
    return mode == "pairwise" ? c.win.n_total > 0 : c.score.has_value();
}

std::string no_verdict_reason(const ConfigResult& c) { return c.judged > 0 ? "no readable verdict" : "not judged yet"; }

json to_json(const ExperimentResults& r) {
    json cs = json::array();
    for (std::size_t i = 0; i < r.configs.size(); ++i) {
        const auto& c = r.configs[i];
        auto opt = [](const std::optional<double>& v) { return v ? json(*v) : json(nullptr); };
        json j{{"name", c.name},
               {"source", c.source},
               {"generated", c.generated},
               {"failed", c.failed},
               {"reference_failed", c.reference_failed},
               {"pending", c.pending},
               {"judged", c.judged},
               {"unreadable", c.unreadable},
               // No price for any call: null and "cost unknown", never 0 (free); part priced: a lower bound.
               {"cost_per_instance_usd", cost_unknown(c) ? json(nullptr) : json(c.cost_per_instance)},
               {"cost_text", cost_text(c)},
               {"cost_complete", c.cost_complete},
               {"tflops_per_instance", c.tflops_per_instance},
               {"latency_ms", opt(c.latency_ms)},
               {"median_wall_ms", opt(c.median_wall_ms)},
               {"median_ttft_ms", opt(c.median_ttft_ms)},
               {"timing_from_cache", c.timing_from_cache},
               {"tokens_per_instance", c.tokens_per_instance},
               {"paid_usd", c.paid_usd},
               {"with_dropped_agents", c.degraded},
               {"dropped_agents", c.degraded_notes},
               {"on_frontier", std::find(r.frontier.begin(), r.frontier.end(), i) != r.frontier.end()}};
        if (r.mode == "pairwise") {
            j["length_controlled_winrate"] = opt(c.lc_win_rate);
            j["length_controlled_winrate_se"] = opt(c.lc_standard_error);
            if (!c.lc_missing.empty()) j["length_controlled_winrate_missing"] = c.lc_missing;
            if (!c.lc_se_missing.empty()) j["length_controlled_winrate_se_missing"] = c.lc_se_missing;
            // No verdict: null with the reason, never a 0.00 that reads as "lost every time".
            const bool v = has_verdict(c, r.mode);
            j["win_rate"] = v ? json(c.win.win_rate) : json(nullptr);
            j["standard_error"] = v ? json(c.win.standard_error) : json(nullptr);
            if (!v) j["win_rate_missing"] = no_verdict_reason(c);
            j["n_wins"] = c.win.n_wins;
            j["n_wins_base"] = c.win.n_wins_base;
            j["n_draws"] = c.win.n_draws;
            j["n_total"] = c.win.n_total;
            j["discrete_win_rate"] = c.win.discrete_win_rate;
            j["avg_length"] = c.win.avg_length;
        } else {
            j["score"] = opt(c.score);
            j["score_se"] = opt(c.score_se);
            if (!c.score) j["score_missing"] = no_verdict_reason(c);
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
                        {"error", i.error}, {"detail", i.detail}, {"failed_generation", i.failed_generation},
                        {"reference_failed", i.reference_failed}, {"dropped_agents", i.degraded}});
    }
    json variants = json::array();
    for (const auto& v : r.variants)
        variants.push_back({{"item", v.item_id}, {"variant", v.variant}, {"output", v.output},
                            {"preference", v.preference ? json(*v.preference) : json(nullptr)}, {"error", v.error}});
    return {{"name", r.name}, {"mode", r.mode}, {"reference", r.reference_name}, {"lc_note", r.lc_note},
            {"judge_note", r.judge_note.empty() ? json(nullptr) : json(r.judge_note)},
            {"incomplete", r.incomplete}, {"incomplete_note", r.incomplete_note},
            {"lc_label", r.mode == "pairwise" ? json(r.lc_label) : json(nullptr)}, {"lc_regularised", r.lc_regularised},
            {"lc_variants", {{"enabled", r.lc_variants}, {"rows", r.variant_rows}, {"missing", r.variant_missing}}},
            {"baseline_variants", variants},
            {"configurations", cs}, {"instances", inst}};
}

} // namespace moa::eval
