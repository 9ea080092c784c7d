// SPDX-License-Identifier: MIT
// moa stats --annotations FILE [--difficulty FILE] [--baseline-variants FILE] [--json]
#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/cli.h"
#include "cli/terminal.h"
#include "eval/alpaca_files.h"

namespace moa::cli {

int cmd_stats(const std::vector<std::string>& args) {
    Args a(args, {"json"}, {"annotations", "difficulty", "baseline-variants"});
    if (!a.ok() || !a.get("annotations") || !a.positional().empty()) {
        std::cerr << "moa stats: "
                  << (a.ok() ? "usage: moa stats --annotations FILE [--difficulty FILE] [--baseline-variants FILE] [--json]"
                             : a.error())
                  << "\n";
        return kUsage;
    }
    auto ann = eval::load_annotations(*a.get("annotations"));
    if (!ann) {
        std::cerr << "moa stats: " << ann.error() << "\n";
        return kUsage;
    }
    for (const auto& w : ann->warnings) std::cerr << "warning: " << w << "\n";
    std::vector<double> difficulty;
    if (auto f = a.get("difficulty")) {
        auto d = eval::load_difficulty(*f);
        if (!d) {
            std::cerr << "moa stats: " << d.error() << "\n";
            return kUsage;
        }
        difficulty = std::move(*d);
    }
    std::vector<eval::GamedRow> gamed;
    if (auto f = a.get("baseline-variants")) {
        auto g = eval::load_baseline_variants(*f);
        if (!g) {
            std::cerr << "moa stats: " << g.error() << "\n";
            return kUsage;
        }
        gamed = std::move(*g);
    }
    auto rows = ann->judged();
    auto wr = eval::win_rate(rows);
    auto lc = eval::length_controlled_win_rate(rows, difficulty, gamed);
    if (!lc) {
        std::cerr << "moa stats: " << *a.get("annotations") << ": " << lc.error() << "\n";
        return kUsage;
    }
    if (a.flag("json")) {
        nlohmann::json j{{"win_rate", wr.win_rate},
                         {"standard_error", wr.standard_error},
                         {"n_wins", wr.n_wins},
                         {"n_wins_base", wr.n_wins_base},
                         {"n_draws", wr.n_draws},
                         {"n_total", wr.n_total},
                         {"discrete_win_rate", wr.discrete_win_rate},
                         {"avg_length", wr.avg_length},
                         {"length_controlled_winrate", lc->lc_win_rate}};
        std::cout << j.dump(2) << "\n";
        std::cerr << "note: " << lc->note << "\n";
        return kOk;
    }
    // The generator's name comes from the file: shown, not obeyed, on a terminal.
    std::printf("%s (%s)\n", for_fd(1, ann->generator()).c_str(), for_fd(1, *a.get("annotations")).c_str());
    std::printf("  length-controlled win rate  %8.3f\n", lc->lc_win_rate);
    std::printf("  win rate                    %8.3f  ± %.3f (standard error)\n", wr.win_rate, wr.standard_error);
    std::printf("  discrete win rate           %8.3f\n", wr.discrete_win_rate);
    std::printf("  wins / losses / draws       %d / %d / %d of %d", wr.n_wins, wr.n_wins_base, wr.n_draws, wr.n_total);
    if (wr.n_excluded) std::printf(" (%d rows excluded: no readable preference)", wr.n_excluded);
    std::printf("\n  average length              %ld characters\n", wr.avg_length);
    std::printf("  LC model: %s; C = %.4g\n", lc->note.c_str(), lc->C);
    return kOk;
}

} // namespace moa::cli
