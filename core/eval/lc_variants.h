// SPDX-License-Identifier: MIT
#pragma once
// AlpacaEval's regularisation of the length-controlled win rate, for an experiment whose
// reference is a configuration: the reference model is asked again for a concise and a verbose
// answer to each prompt (its "baseline variants"), the judge compares each variant with the
// reference's own answer, and those verdicts become the weight-0.1 rows of the LC fit that tie
// the length term to what length alone does to the judge (see alpaca_stats.h, GamedRow).
// The instructions below are ours; the method (two variants, weights, features) is AlpacaEval's.
#include <cstddef>
#include <string>
#include <vector>

#include "accounting/catalog.h"
#include "eval/alpaca_stats.h"
#include "eval/experiment.h"

namespace moa::store {
class ExperimentStore;
}

namespace moa::eval {

enum class Variant { None = 0, Concise = 1, Verbose = 2 };
// The order of the variant rows in the fit: verbose first, then concise, each in prompt order
// (the order of AlpacaEval's df_gamed rows; it decides which cross-validation fold a row is in).
inline constexpr Variant kVariants[] = {Variant::Verbose, Variant::Concise};
const char* to_string(Variant v); // "concise", "verbose"

// What the reference is asked on top of each user turn for that variant.
const std::string& variant_instruction(Variant v);
// The user turns the reference configuration answers for a variant of `item`.
std::vector<std::string> variant_turns(const PromptItem& item, Variant v);
// The key of a variant's stored generations: the reference configuration's key, the variant and
// its instruction (a changed instruction is a different variant, generated again).
std::string variant_key(const Experiment& e, Variant v);

// Why baseline variants cannot be asked for in `e` (empty when they can): they need a pairwise
// judge and a reference that is a configuration (a model to ask), not a file of answers.
std::string lc_variants_unavailable(const Experiment& e);

// Provider calls one run of `c` makes for a prompt of `turns` user turns (every agent of every
// layer, once per turn).
int calls_per_run(const config::Config& c, std::size_t turns);

// What the baseline variants still cost, before anything is spent: the generations and judge
// calls not yet in `store` (all of them when `store` is null), the provider calls they make and
// their estimated price at list prices.
struct VariantPlan {
    int instances = 0;   // prompts
    int generations = 0; // variant answers still to generate (2 per prompt at most)
    int judgements = 0;  // variant verdicts still to obtain (2 per prompt at most)
    int calls = 0;       // provider calls those make
    double usd = 0;      // estimated
    bool cost_complete = true; // false when a model has no price
    int done = 0;        // variant generations and verdicts already stored
    int calls_per_answer = 1; // provider calls of one reference answer (its agents)
};
VariantPlan plan_lc_variants(const Experiment& e, const accounting::Catalog& catalog, store::ExperimentStore* store);
// "48 extra calls at most (24 variant answers x 1 call + 24 judge calls; 12 prompts), estimated
// $0.0123". At most: a variant identical to the reference's answer is a draw without a judge call.
std::string describe(const VariantPlan& p);

// One judged variant, for the fit.
struct VariantVerdict {
    std::size_t item = 0; // position of the prompt
    Variant variant = Variant::Concise;
    double preference = 1.5;      // in [1, 2]: 2 = the variant beats the reference's answer
    std::size_t length_ref = 0;   // code points
    std::size_t length_variant = 0;
};
// The fit's rows, as AlpacaEval featurises its baseline variants: per variant, delta = length of
// the reference's answer - length of the variant, divided by the sample standard deviation
// (ddof 1, not centred) of delta over that variant's rows; preference - 1 as the soft label; the
// prompt's difficulty (0 when `difficulty` is empty). Ordered as kVariants, then by prompt.
std::vector<GamedRow> gamed_rows(const std::vector<VariantVerdict>& verdicts, const std::vector<double>& difficulty);

} // namespace moa::eval
