// SPDX-License-Identifier: MIT
// Key redaction of big hostile texts (issue 12 item 5): an upstream error body or answer of
// many megabytes full of percent signs, references, near-misses of the key, copies of the key
// or "Bearer" tokens. Times redact_secret (the best of 3) on N MiB (2 in the suite) and 8N MiB of each in the same process and
// exits 1 if the larger costs more than 3 times its share (linear: about 8 times the smaller;
// quadratic: about 64). Prints the times.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "providers/redact.h"

using Clock = std::chrono::steady_clock;

namespace {

const std::string kKey = "sk-test-Q7vX2mL9pR4tK8wZ";

std::string repeat(const std::string& unit, std::size_t size) {
    std::string s;
    s.reserve(size + unit.size());
    while (s.size() < size) s += unit;
    return s;
}

double seconds(const std::string& text, std::size_t& redacted) {
    double best = 1e9;
    for (int rep = 0; rep < 3; ++rep) {
        const auto t0 = Clock::now();
        const std::string out = moa::providers::redact_secret(text, kKey);
        best = std::min(best, std::chrono::duration<double>(Clock::now() - t0).count());
        redacted = text.size() - std::min(text.size(), out.size());
    }
    return best;
}

} // namespace

int main(int argc, char** argv) {
    const std::size_t mib = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 1;
    const std::size_t small = mib << 20, large = 8 * small;
    const struct {
        const char* name;
        std::string unit;
    } cases[] = {
        {"percent signs", "%%%41%4"},
        {"references", "&#115;&#x6b;&amp;&#"},
        {"near misses", "sk-test-Q7v\u200B%73k-te "},
        {"key copies", kKey + " "},
        {"bearer tokens", "Bearer abcdefghij "},
        {"plain text", "The quick brown fox jumps over the lazy dog. "},
    };
    bool ok = true;
    for (const auto& c : cases) {
        std::size_t gone_small = 0, gone_large = 0;
        const double ts = seconds(repeat(c.unit, small), gone_small);
        const double tl = seconds(repeat(c.unit, large), gone_large);
        const double ratio = tl / std::max(ts, 1e-6);
        const bool linear = ratio <= 24.0;
        ok = ok && linear;
        std::printf("%-14s %4zu MiB %8.3f s  %4zu MiB %8.3f s  ratio %5.1f (linear: 8) %s\n", c.name, small >> 20, ts, large >> 20, tl,
                    ratio, linear ? "ok" : "NOT LINEAR");
    }
    return ok ? 0 : 1;
}
