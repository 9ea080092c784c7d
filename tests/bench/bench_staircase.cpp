// SPDX-License-Identifier: MIT
// Staircase streaming and layer quorums against a paced local server, as ratios measured in one
// process (medians of interleaved repetitions, so a busy machine slows both sides alike):
//  1. 3 proposers x 400 tokens at 5 ms a token, then an aggregator: the final answer's first
//     token (totals.ttft_ms) with staircase streaming (chunk 32) over the same with the barrier.
//     Goal: <= 0.15.
//  2. The same layer with one proposer 10x slower than its mates and quorum n-1: wall time over
//     the same run without the straggler. Goal: <= 1.1.
// Exits 1 when a goal is missed.
#include <QCoreApplication>

#include <algorithm>
#include <cstdio>

#include "engine/run_outcome.h"
#include "run_helpers.h"
#include "test_server.h"

using namespace testing_support;
using nlohmann::json;

namespace {
double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

bool run(const json& j, moa::engine::RunRecord& rec) {
    rec = run_to_end(make_config(j), "benchmark prompt", nullptr, 120'000);
    if (rec.status != moa::engine::RunStatus::Done) {
        std::fprintf(stderr, "run failed: %s\n", rec.error.c_str());
        return false;
    }
    return true;
}
} // namespace

int main(int argc, char** argv) {
    QCoreApplication app(argc, argv);
    TestServer server;
    if (!server.ok()) return 1;
    const int reps = argc > 1 ? std::max(1, std::atoi(argv[1])) : 5;

    // 1. Time to the final answer's first token. The scripted answer is 4 words of preamble and
    // 396 numbered words: 400 tokens (the server streams one word a token).
    std::vector<double> barrier_ttft, stair_ttft, ratios;
    long barrier_prompt = 0, stair_prompt = 0;
    std::size_t steps = 0;
    for (int rep = 0; rep < reps; ++rep) {
        std::vector<std::string> proposers;
        for (int a = 0; a < 3; ++a) proposers.push_back("ok?words=396&delay_ms=5&tag=p" + std::to_string(a) + "-" + nonce());
        const std::string agg = "ok?words=100&delay_ms=5&tag=agg-" + nonce();
        json j = config_json(server.base_url(), {proposers, {agg}});
        moa::engine::RunRecord b, s;
        if (!run(j, b)) return 1;
        j["pipelining"] = {{"mode", "staircase"}, {"chunk_tokens", 32}};
        if (!run(j, s)) return 1;
        if (!b.totals.ttft_ms || !s.totals.ttft_ms) {
            std::fprintf(stderr, "a run reported no time to first token\n");
            return 1;
        }
        barrier_ttft.push_back(*b.totals.ttft_ms);
        stair_ttft.push_back(*s.totals.ttft_ms);
        ratios.push_back(*s.totals.ttft_ms / *b.totals.ttft_ms);
        barrier_prompt = b.layers[1].agents[0].usage.prompt_tokens;
        stair_prompt = s.layers[1].agents[0].usage.prompt_tokens;
        steps = s.layers[1].agents[0].steps.size();
    }
    const double ttft_ratio = median(ratios);
    std::printf("staircase streaming, 3 proposers x 400 tokens at 5 ms/token + aggregator, paced local server\n");
    std::printf("  final answer's first token: barrier median %.0f ms, staircase (chunk 32) median %.0f ms\n",
                median(barrier_ttft), median(stair_ttft));
    std::printf("  staircase / barrier: median %.3f over %d runs (goal <= 0.15: %s)\n", ttft_ratio, reps,
                ttft_ratio <= 0.15 ? "met" : "NOT met");
    std::printf("  what it costs: the aggregator's prompt tokens %ld in %zu steps against %ld in one call (%.1fx)\n",
                stair_prompt, steps, barrier_prompt, barrier_prompt ? double(stair_prompt) / double(barrier_prompt) : 0.0);

    // 2. A straggler 10x slower than its layer-mates, with quorum n-1.
    std::vector<double> with, without, wall_ratios;
    std::string outcome;
    for (int rep = 0; rep < reps; ++rep) {
        auto layer = [&](bool straggler) {
            std::vector<std::string> agents;
            for (int a = 0; a < 3; ++a) {
                const int delay = straggler && a == 1 ? 50 : 5;
                agents.push_back("ok?words=96&delay_ms=" + std::to_string(delay) + "&tag=q" + std::to_string(a) + "-" + nonce());
            }
            json j = config_json(server.base_url(), {agents, {"ok?words=50&delay_ms=5&tag=qa-" + nonce()}});
            j["layers"][0]["quorum"] = 2;
            return j;
        };
        moa::engine::RunRecord a, b;
        // Which goes first alternates, so a burst of load elsewhere falls on both sides alike.
        if (rep % 2 == 0 ? (!run(layer(false), a) || !run(layer(true), b)) : (!run(layer(true), b) || !run(layer(false), a)))
            return 1;
        without.push_back(a.totals.wall_ms);
        with.push_back(b.totals.wall_ms);
        wall_ratios.push_back(b.totals.wall_ms / a.totals.wall_ms);
        outcome = moa::engine::outcome_text(b);
    }
    const double wall_ratio = median(wall_ratios);
    std::printf("quorum 2 of 3, one proposer 10x slower (100 tokens at 50 ms/token against 5 ms/token)\n");
    std::printf("  wall: without the straggler median %.0f ms, with it median %.0f ms (%s)\n", median(without),
                median(with), outcome.c_str());
    std::printf("  with / without: median %.3f over %d runs (goal <= 1.1: %s)\n", wall_ratio, reps,
                wall_ratio <= 1.1 ? "met" : "NOT met");
    return ttft_ratio <= 0.15 && wall_ratio <= 1.1 ? 0 : 1;
}
