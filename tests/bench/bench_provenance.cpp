// SPDX-License-Identifier: MIT
// Provenance of long answers: a 2-layer run record with 3 proposers and an aggregator of N words
// each (10 000 by default), the aggregator made of the proposers' sentences (some whole, some
// reworded) and its own. Times compute_provenance (every share, every sentence's sources, the
// "ignored" marks) against two baselines in the same process: cutting the texts into words and
// sentences alone (the floor), and the ROUGE-L of the aggregator against each proposer (the
// quadratic word LCS the refinement view used). Also runs twice the length, to show the growth
// is near-linear. Prints numbers; asserts only that the shares are what the texts were built from.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

#include "engine/run_provenance.h"
#include "eval/overlap.h"
#include "eval/provenance.h"

using Clock = std::chrono::steady_clock;

namespace {

struct Texts {
    std::vector<std::string> proposers;
    std::string aggregate;
};

// Sentences of 8–28 words over a 4000-word vocabulary whose word frequencies fall off like a
// natural language's (the most common words in most sentences).
std::string sentence(std::mt19937& rng) {
    static const std::vector<std::string> vocab = [] {
        std::vector<std::string> v;
        const char* syl[] = {"ka", "lo", "mi", "ne", "su", "ta", "ri", "po", "de", "vu", "sha", "or", "el", "in", "um", "at"};
        for (int i = 0; i < 4000; ++i) {
            std::string w;
            int x = i;
            do {
                w += syl[x % 16];
                x /= 16;
            } while (x > 0);
            v.push_back(w);
        }
        return v;
    }();
    std::uniform_int_distribution<int> len(8, 28);
    std::uniform_real_distribution<double> u(0, 1);
    std::string s;
    const int n = len(rng);
    for (int i = 0; i < n; ++i) {
        const auto k = static_cast<std::size_t>(std::min(3999.0, std::pow(4000.0, u(rng)) - 1)); // Zipf-like
        if (i) s += ' ';
        s += vocab[k];
    }
    s[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[0])));
    return s + ".";
}

std::size_t words_in(const std::string& s) { return static_cast<std::size_t>(std::count(s.begin(), s.end(), ' ')) + 1; }

Texts make_texts(std::size_t words, unsigned seed) {
    std::mt19937 rng(seed);
    Texts t;
    std::vector<std::vector<std::string>> sents(3);
    for (int p = 0; p < 3; ++p) {
        std::string text;
        std::size_t n = 0;
        while (n < words) {
            auto s = sentence(rng);
            n += words_in(s);
            sents[p].push_back(s);
            text += s + (sents[p].size() % 5 == 0 ? "\n\n" : " ");
        }
        t.proposers.push_back(text);
    }
    // The aggregate: half whole sentences from the first two proposers (in another order), a
    // quarter half taken from the first proposer and half new, a quarter its own; nothing from the third.
    std::size_t n = 0;
    std::uniform_int_distribution<int> pick(0, 3);
    while (n < words) {
        const int k = pick(rng);
        std::string s;
        if (k <= 1) {
            auto& from = sents[static_cast<std::size_t>(k)];
            s = from[rng() % from.size()];
        } else if (k == 2) {
            // The first half of a proposer's sentence, ended in its own words: found by the word runs.
            const auto& from = sents[0][rng() % sents[0].size()];
            std::size_t cut = 0;
            for (std::size_t i = 0, w = 0; i < from.size() && w < words_in(from) / 2; ++i)
                if (from[i] == ' ') cut = i, ++w;
            s = from.substr(0, cut) + " " + sentence(rng);
        } else {
            s = sentence(rng);
        }
        n += words_in(s);
        t.aggregate += s + " ";
    }
    return t;
}

moa::engine::RunRecord record_of(const Texts& t) {
    moa::engine::RunRecord r;
    r.layers.resize(2);
    for (int p = 0; p < 3; ++p) {
        moa::engine::AgentRecord a;
        a.layer = 0;
        a.index = p;
        a.text = t.proposers[static_cast<std::size_t>(p)];
        a.state = moa::engine::AgentState::Done;
        r.layers[0].agents.push_back(a);
    }
    moa::engine::AgentRecord g;
    g.layer = 1;
    g.text = t.aggregate;
    g.state = moa::engine::AgentState::Done;
    r.layers[1].agents.push_back(g);
    r.final_text = g.text;
    return r;
}

template <class F> double best_of(int reps, F&& f) {
    double best = 1e9;
    for (int i = 0; i < reps; ++i) {
        auto t0 = Clock::now();
        f();
        best = std::min(best, std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    }
    return best;
}

} // namespace

int main(int argc, char** argv) {
    const std::size_t words = argc > 1 ? static_cast<std::size_t>(std::atol(argv[1])) : 10000;
    const Texts t = make_texts(words, 15);
    const auto rec = record_of(t);

    moa::engine::RunProvenance prov;
    const double ms = best_of(3, [&] { prov = moa::engine::compute_provenance(rec); });
    std::size_t cut_words = 0;
    const double floor_ms = best_of(3, [&] {
        cut_words = 0;
        for (const auto& a : t.proposers) cut_words += moa::eval::split_text(a).words.size();
        cut_words += moa::eval::split_text(t.aggregate).words.size() * 4; // the aggregate is read per layer and for the final
    });
    double rouge_ms = best_of(1, [&] {
        for (const auto& a : t.proposers) (void)moa::eval::rouge_l(t.aggregate, a, words + 100);
    });
    const Texts t2 = make_texts(words * 2, 15);
    const auto rec2 = record_of(t2);
    const double ms2 = best_of(3, [&] { (void)moa::engine::compute_provenance(rec2); });

    const auto& s = prov.layers[1][0].sources;
    std::printf("provenance, 3 proposers + 1 aggregator, %zu words each, best of 3\n", words);
    std::printf("  compute_provenance                 : %8.1f ms\n", ms);
    std::printf("  baseline: cutting the texts only   : %8.1f ms  (ratio %.1f)\n", floor_ms, ms / floor_ms);
    std::printf("  baseline: ROUGE-L against each (1x): %8.1f ms  (ratio %.3f)\n", rouge_ms, ms / rouge_ms);
    std::printf("  at twice the length                : %8.1f ms  (growth x%.2f for x2 words)\n", ms2, ms2 / ms);
    std::printf("  shares of the aggregate: %.3f %.3f %.3f; ignored: %d %d %d\n", *s[0].share, *s[1].share, *s[2].share,
                *prov.layers[0][0].ignored, *prov.layers[0][1].ignored, *prov.layers[0][2].ignored);
    // Built as ~1/2 whole sentences of proposers 1–2, ~1/4 reworded from proposer 1, none of 3.
    if (!(*s[0].share > 0.3 && *s[1].share > 0.15 && *s[2].share < moa::eval::kIgnored && *prov.layers[0][2].ignored)) {
        std::fprintf(stderr, "unexpected shares\n");
        return 1;
    }
    (void)cut_words;
    return 0;
}
