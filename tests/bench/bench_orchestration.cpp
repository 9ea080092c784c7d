// SPDX-License-Identifier: MIT
// Orchestration overhead: a 3-layer x 6-agent run against a paced local server. The ratio is
// wall time over the ideal critical path (the sum over layers of the slowest agent's own
// time), both measured in this process. Goal: <= 1.03.
#include <QCoreApplication>

#include <algorithm>
#include <cstdio>

#include "run_helpers.h"
#include "test_server.h"

int main(int argc, char** argv) {
    QCoreApplication app(argc, argv);
    TestServer server;
    if (!server.ok()) return 1;
    std::vector<double> ratios;
    double wall = 0, ideal = 0;
    for (int rep = 0; rep < 3; ++rep) {
        std::vector<std::vector<std::string>> layers;
        for (int l = 0; l < 3; ++l) {
            std::vector<std::string> agents;
            for (int a = 0; a < 6; ++a)
                agents.push_back("ok?chunks=20&delay_ms=" + std::to_string(15 + 5 * a) + "&tag=b" + std::to_string(l) +
                                 std::to_string(a) + "-" + testing_support::nonce());
            layers.push_back(agents);
        }
        layers.push_back({"ok?chunks=20&delay_ms=20&tag=final-" + testing_support::nonce()});
        auto rec = testing_support::run_to_end(testing_support::make_config(testing_support::config_json(server.base_url(), layers)),
                                               "benchmark prompt");
        if (rec.status != moa::engine::RunStatus::Done) {
            std::fprintf(stderr, "run failed: %s\n", rec.error.c_str());
            return 1;
        }
        wall = rec.totals.wall_ms;
        ideal = rec.totals.critical_path_ms;
        ratios.push_back(wall / ideal);
    }
    std::sort(ratios.begin(), ratios.end());
    std::printf("orchestration overhead, 3 layers x 6 agents + aggregator, paced local server\n");
    std::printf("  last run: wall %.1f ms, ideal critical path %.1f ms\n", wall, ideal);
    std::printf("  wall / critical path: median %.4f (min %.4f, max %.4f) over %zu runs\n", ratios[1], ratios[0],
                ratios[2], ratios.size());
    std::printf("  goal <= 1.03: %s\n", ratios[1] <= 1.03 ? "met" : "NOT met");
    return 0;
}
