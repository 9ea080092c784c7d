// SPDX-License-Identifier: MIT
#include "eval/lc_variants.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>

#include "eval/experiment_runner.h"
#include "store/experiment_store.h"
#include "util/sha256.h"

namespace moa::eval {

const char* to_string(Variant v) {
    switch (v) {
    case Variant::Concise: return "concise";
    case Variant::Verbose: return "verbose";
    case Variant::None: break;
    }
    return "";
}

const std::string& variant_instruction(Variant v) {
    // Our own wording. Each asks for the same content at a different length, so that what the
    // judge does with these answers is what length alone does to it.
    static const std::string concise =
        "(Reply as briefly as the question allows: give only what it needs, with no preamble, no repetition and no extra detail.)";
    static const std::string verbose =
        "(Reply at length: explain your reasoning step by step and add relevant detail, context and examples.)";
    static const std::string none;
    return v == Variant::Concise ? concise : v == Variant::Verbose ? verbose : none;
}

std::vector<std::string> variant_turns(const PromptItem& item, Variant v) {
    std::vector<std::string> turns = item.turns;
    if (v == Variant::None) return turns;
    for (auto& t : turns) t += "\n\n" + variant_instruction(v);
    return turns;
}

std::string variant_key(const Experiment& e, Variant v) {
    return "variant:" + std::string(to_string(v)) + ":" +
           util::sha256_hex(ExperimentRunner::reference_key(e) + '\x1f' + variant_instruction(v)).substr(0, 32);
}

std::string lc_variants_unavailable(const Experiment& e) {
    if (e.judge.mode != "pairwise")
        return "baseline variants regularise the LC of a pairwise judge; this experiment's judge grades (" + e.judge.mode + ")";
    if (!e.reference || e.reference->kind != ReferenceSpec::Kind::Configuration || !e.reference->config)
        return "baseline variants are asked of the reference model, and this experiment's reference is a file of answers "
               "(no model to ask): its LC stays unregularised";
    return {};
}

int calls_per_run(const config::Config& c, std::size_t turns) {
    int agents = 0;
    for (const auto& L : c.layers) agents += static_cast<int>(L.agents.size());
    return agents * static_cast<int>(turns);
}

VariantPlan plan_lc_variants(const Experiment& e, const accounting::Catalog& catalog, store::ExperimentStore* store) {
    VariantPlan p;
    if (!lc_variants_unavailable(e).empty()) return p;
    const std::string jk = ExperimentRunner::judge_key(e), rk = ExperimentRunner::reference_key(e);
    p.calls_per_answer = calls_per_run(*e.reference->config, 1);
    for (const auto& item : e.prompts.items) {
        ++p.instances;
        std::optional<std::string> ref_text;
        if (store)
            if (auto r = ExperimentRunner::reference_answer(e, *store, item); r.ok) ref_text = r.text;
        for (Variant v : kVariants) {
            const std::string vk = variant_key(e, v);
            std::optional<store::Generation> g;
            if (store) g = store->generation(vk, item.id);
            const bool generated = g && g->ok;
            if (generated) ++p.done;
            else {
                ++p.generations;
                p.calls += calls_per_run(*e.reference->config, item.turns.size());
                auto est = ExperimentRunner::estimate_generation(*e.reference->config, catalog, variant_turns(item, v));
                p.usd += est.first;
                p.cost_complete = p.cost_complete && est.second;
            }
            bool judged = false;
            if (store && generated && ref_text)
                if (auto j = store->judgment(jk, item.id, vk, rk))
                    judged = j->texts_key == ExperimentRunner::texts_key(item, g->turns, *ref_text);
            if (judged) ++p.done;
            else {
                ++p.judgements;
                ++p.calls;
                auto est = ExperimentRunner::estimate_judgement(e, catalog, item);
                p.usd += est.first;
                p.cost_complete = p.cost_complete && est.second;
            }
        }
    }
    return p;
}

std::string describe(const VariantPlan& p) {
    const int per_answer = p.calls_per_answer;
    char buf[400];
    std::snprintf(buf, sizeof buf, "%d extra call%s at most (%d variant answer%s x %d call%s + %d judge call%s; %d prompts), estimated $%.4f%s",
                  p.calls, p.calls == 1 ? "" : "s", p.generations, p.generations == 1 ? "" : "s", per_answer, per_answer == 1 ? "" : "s",
                  p.judgements, p.judgements == 1 ? "" : "s", p.instances, p.usd,
                  p.cost_complete ? "" : " (a model has no price: more than that)");
    std::string s = buf;
    if (p.done) s += "; " + std::to_string(p.done) + " already stored, not paid again";
    return s;
}

std::vector<GamedRow> gamed_rows(const std::vector<VariantVerdict>& verdicts, const std::vector<double>& difficulty) {
    std::vector<GamedRow> out;
    for (Variant v : kVariants) {
        std::vector<const VariantVerdict*> mine;
        for (const auto& x : verdicts)
            if (x.variant == v) mine.push_back(&x);
        std::sort(mine.begin(), mine.end(), [](const auto* a, const auto* b) { return a->item < b->item; });
        auto delta = [](const VariantVerdict* x) { return double(x->length_ref) - double(x->length_variant); };
        double mean = 0, var = 0;
        for (const auto* x : mine) mean += delta(x);
        if (!mine.empty()) mean /= double(mine.size());
        for (const auto* x : mine) var += (delta(x) - mean) * (delta(x) - mean);
        const double sd = mine.size() > 1 ? std::sqrt(var / double(mine.size() - 1)) : 0.0;
        for (const auto* x : mine) {
            GamedRow r;
            r.preference01 = x->preference - 1.0;
            r.std_delta_len = sd > 0 ? delta(x) / sd : 0.0;
            r.difficulty = x->item < difficulty.size() ? difficulty[x->item] : 0.0;
            out.push_back(r);
        }
    }
    return out;
}

} // namespace moa::eval
