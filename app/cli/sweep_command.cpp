// SPDX-License-Identifier: MIT
// moa sweep --base CONFIG --kind proposers|layers|aggregator|samples|ranker|latency --out DIR --judge CONFIG
//           (--reference CONFIG | --outputs FILE) [--max N] [--models a,b] [--prompts starter|FILE]
//           [--sample N] [--seed N] [--judge-mode pairwise|single]
#include <iostream>
#include <sstream>

#include "cli/cli.h"
#include "eval/sweep.h"

namespace moa::cli {

int cmd_sweep(const std::vector<std::string>& args) {
    Args a(args, {}, {"base", "kind", "out", "judge", "reference", "outputs", "max", "models", "prompts", "sample", "seed", "judge-mode"});
    const char* usage = "usage: moa sweep --base CONFIG --kind proposers|layers|aggregator|samples|ranker|latency --out DIR --judge CONFIG "
                        "(--reference CONFIG | --outputs FILE) [--max N] [--models a,b] [--prompts starter|FILE] [--sample N] "
                        "[--seed N] [--judge-mode pairwise|single]";
    if (!a.ok() || !a.get("base") || !a.get("kind") || !a.get("out") || !a.get("judge") || !a.positional().empty()) {
        std::cerr << "moa sweep: " << (a.ok() ? usage : a.error()) << "\n";
        return kUsage;
    }
    auto kind = eval::sweep_kind_from_string(*a.get("kind"));
    if (!kind) {
        std::cerr << "moa sweep: --kind is proposers, layers, aggregator, samples, ranker or latency, not \"" << *a.get("kind") << "\"\n";
        return kUsage;
    }
    auto base = load_config_or_preset(*a.get("base"));
    if (!base) return kUsage;
    eval::SweepOptions o;
    o.kind = *kind;
    try {
        if (auto m = a.get("max")) o.max = std::stoi(*m);
        eval::SweepFiles f;
        f.dir = *a.get("out");
        f.judge = *a.get("judge");
        f.reference_config = a.get("reference").value_or("");
        f.reference_outputs = a.get("outputs").value_or("");
        f.prompts = a.get("prompts").value_or("starter");
        f.judge_mode = a.get("judge-mode").value_or("pairwise");
        if (auto s = a.get("sample")) f.sample = std::stoul(*s);
        if (auto s = a.get("seed")) f.seed = std::stoull(*s);
        if (auto m = a.get("models")) {
            std::stringstream ss(*m);
            for (std::string x; std::getline(ss, x, ',');)
                if (!x.empty()) o.models.push_back(x);
        }
        if (f.judge_mode == "pairwise" && f.reference_config.empty() && f.reference_outputs.empty()) {
            std::cerr << "moa sweep: a pairwise judge compares with a reference: give --reference CONFIG or --outputs FILE\n";
            return kUsage;
        }
        auto variants = eval::make_sweep(*base, o);
        if (!variants) {
            std::cerr << "moa sweep: " << variants.error() << "\n";
            return kUsage;
        }
        f.cache_generations = o.kind != eval::SweepKind::Latency;
        auto path = eval::write_sweep_experiment(*variants, f);
        if (!path) {
            std::cerr << "moa sweep: " << path.error() << "\n";
            return kRunFailed;
        }
        for (const auto& v : *variants) std::cerr << "  " << v.name << "\n";
        std::cout << *path << "\n";
        std::cerr << variants->size() << " variants; run them with: moa eval --experiment " << *path << "\n";
    } catch (const std::exception&) {
        std::cerr << "moa sweep: --max, --sample and --seed take whole numbers\n";
        return kUsage;
    }
    return kOk;
}

} // namespace moa::cli
