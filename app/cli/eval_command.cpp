// SPDX-License-Identifier: MIT
// moa eval --experiment FILE [--db PATH] [--lc-variants] [--plan] [--json] [--quiet]
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <mutex>

#include "cli/cli.h"
#include "cli/terminal.h"
#include "eval/experiment_results.h"
#include "eval/experiment_runner.h"
#include "eval/lc_variants.h"
#include "util/resources.h"

namespace moa::cli {

namespace {
std::atomic<bool> g_interrupted{false};
void on_sigint(int) { g_interrupted = true; }

// A mean wall time, or n/a with why, as the window says it: every answer came (partly) from the
// response cache, which takes no time, or no answer was made yet.
std::string seconds(const eval::ConfigResult& c) {
    const auto& ms = c.latency_ms;
    if (!ms) return c.timing_from_cache > 0 ? "n/a (cached)" : "n/a (no answer)";
    char b[32];
    std::snprintf(b, sizeof b, "%.1fs", *ms / 1000);
    return b;
}

constexpr double kLongRateLimitWait_s = 3600; // longer than this is said up front

std::string duration(double s) {
    if (s < 0) return "--";
    char b[32];
    if (s < 60) std::snprintf(b, sizeof b, "%.0fs", s);
    else if (s < 3600) std::snprintf(b, sizeof b, "%dm%02ds", int(s) / 60, int(s) % 60);
    else std::snprintf(b, sizeof b, "%dh%02dm", int(s) / 3600, (int(s) % 3600) / 60);
    return b;
}

// Money as `moa run` says it: "cost unknown" when nothing of it has a price (never "$0.0000",
// which reads as free), "≥ $x" when only part of it has one.
std::string money(double usd, bool complete, int decimals) {
    if (!complete && !(usd > 0)) return "cost unknown";
    // Two significant digits at least: a sum of $0.000012 is not "$0.0000".
    while (usd > 0 && decimals < 8 && usd < std::pow(10.0, 1 - decimals)) ++decimals;
    char b[48];
    std::snprintf(b, sizeof b, "%s$%.*f", complete ? "" : "≥ ", decimals, usd);
    return b;
}

std::string bar(const eval::ExperimentProgress& p) {
    const int width = 24;
    int filled = p.total ? p.done * width / p.total : width;
    std::string s = "[" + std::string(std::size_t(filled), '#') + std::string(std::size_t(width - filled), '.') + "] ";
    char b[200];
    std::snprintf(b, sizeof b, "%d/%d  %s spent  ETA %s%s%s", p.done, p.total, money(p.spent_usd, p.spent_complete, 4).c_str(),
                  duration(p.eta_s).c_str(),
                  p.failed ? ("  " + std::to_string(p.failed) + " failed").c_str() : "", p.paused ? "  (paused)" : "");
    return s + b;
}

// What is missing from a configuration's numbers, said next to them.
std::string flags(const eval::ConfigResult& c, bool pairwise) {
    std::string f;
    if (c.failed)
        f += "  (" + std::to_string(c.failed) + " failed: " +
             (pairwise ? (c.failed == 1 ? "counted as a loss)" : "counted as losses)") : "graded lowest)");
    if (c.reference_failed) f += "  (" + std::to_string(c.reference_failed) + " not judged: reference failed)";
    // Answers made without some agents: the numbers are not the whole configuration's.
    if (c.degraded) f += "  (" + std::to_string(c.degraded) + (c.degraded == 1 ? " answer" : " answers") + " with dropped agents)";
    return f;
}

// The $/inst column: "unknown" when no call had a price, "≥0.00012" when only some had.
std::string per_instance_cost(const eval::ConfigResult& c) {
    if (eval::cost_unknown(c)) return "unknown";
    char b[48];
    std::snprintf(b, sizeof b, "%s%.5f", c.cost_complete ? "" : "≥", c.cost_per_instance);
    return b;
}

void print_table(const eval::ExperimentResults& r) {
    std::printf("\n%s: %s judge%s%s\n", for_fd(1, r.name).c_str(), r.mode.c_str(),
                r.judge_note.empty() ? "" : (" (" + r.judge_note + ")").c_str(),
                r.reference_name.empty() ? "" : (", reference: " + for_fd(1, r.reference_name)).c_str());
    if (r.mode == "pairwise") {
        std::printf("%-28s %18s %15s %10s %10s %15s %8s %s\n", "configuration", r.lc_label.c_str(), "win rate ± SE", "$/inst",
                    "TFLOPs", "latency", "tokens", "n");
        for (std::size_t i = 0; i < r.configs.size(); ++i) {
            const auto& c = r.configs[i];
            bool front = std::find(r.frontier.begin(), r.frontier.end(), i) != r.frontier.end();
            char lc[64] = "n/a";
            if (c.lc_win_rate && c.lc_standard_error) std::snprintf(lc, sizeof lc, "%.2f ± %.2f", *c.lc_win_rate, *c.lc_standard_error);
            else if (c.lc_win_rate) std::snprintf(lc, sizeof lc, "%.2f", *c.lc_win_rate);
            // No verdict at all (every judge answer unreadable, or no judge call finished): "n/a", never 0.00 ± 0.00.
            char win[64];
            if (eval::has_verdict(c, r.mode)) std::snprintf(win, sizeof win, "%8.2f ± %4.2f", c.win.win_rate, c.win.standard_error);
            else std::snprintf(win, sizeof win, "n/a (%s)", eval::no_verdict_reason(c).c_str());
            std::printf("%-28.28s %18s %15s %10s %10.2f %15s %8.0f %d%s%s\n", for_fd(1, c.name).c_str(), lc,
                        win, per_instance_cost(c).c_str(), c.tflops_per_instance, seconds(c).c_str(),
                        c.tokens_per_instance, c.win.n_total, front ? "  *frontier" : "",
                        (flags(c, true) + (c.unreadable ? "  (" + std::to_string(c.unreadable) + " unreadable verdicts excluded)" : ""))
                            .c_str());
        }
        std::printf("%s\n", r.lc_note.c_str());
    } else {
        std::printf("%-28s %12s %10s %10s %15s %8s %s\n", "configuration", "score ± SE", "$/inst", "TFLOPs", "latency", "tokens", "n");
        for (const auto& c : r.configs) {
            char score[64];
            if (c.score) std::snprintf(score, sizeof score, "%6.2f ± %4.2f", *c.score, c.score_se.value_or(0));
            else std::snprintf(score, sizeof score, "n/a (%s)", eval::no_verdict_reason(c).c_str());
            std::printf("%-28.28s %12s %10s %10.2f %15s %8.0f %d%s\n", for_fd(1, c.name).c_str(), score, per_instance_cost(c).c_str(),
                        c.tflops_per_instance, seconds(c).c_str(), c.tokens_per_instance, c.judged + c.failed,
                        flags(c, false).c_str());
        }
    }
    // Which instances have no verdict because their reference failed, with the reference's error.
    int shown = 0;
    for (const auto& i : r.instances)
        if (i.reference_failed && shown++ < 5)
            std::printf("  reference failed on %s (%s): %s\n", for_fd(1, i.item_id).c_str(), for_fd(1, i.config).c_str(), for_fd(1, i.error).c_str());
    // Which agents the answers went without, with their errors.
    for (const auto& c : r.configs) {
        shown = 0;
        for (const auto& d : c.degraded_notes)
            if (shown++ < 3) std::printf("  %s: %s\n", for_fd(1, c.name).c_str(), for_fd(1, d).c_str());
        if (c.degraded_notes.size() > 3)
            std::printf("  %s: … %zu more agents dropped (--json lists all)\n", for_fd(1, c.name).c_str(), c.degraded_notes.size() - 3);
    }
    if (r.incomplete) std::printf("%s\n", for_fd(1, r.incomplete_note).c_str());
}
} // namespace

int cmd_eval(const std::vector<std::string>& args) {
    Args a(args, {"json", "quiet", "lc-variants", "plan"}, {"experiment", "db"});
    if (!a.ok() || !a.get("experiment") || !a.positional().empty()) {
        std::cerr << "moa eval: "
                  << (a.ok() ? "usage: moa eval --experiment FILE [--db PATH] [--lc-variants] [--plan] [--json] [--quiet]" : a.error())
                  << "\n";
        return kUsage;
    }
    auto e = eval::load_experiment(*a.get("experiment"));
    if (!e) {
        std::cerr << e.error() << "\n";
        return kUsage;
    }
    if (a.flag("lc-variants")) {
        if (auto why = eval::lc_variants_unavailable(*e); !why.empty()) {
            std::cerr << "moa eval: --lc-variants: " << for_fd(2, *a.get("experiment")) << ": " << for_fd(2, why) << "\n";
            return kUsage;
        }
        e->lc_variants = true;
    }
    auto store = store::ExperimentStore::open(a.get("db").value_or(store::ExperimentStore::default_path()));
    if (!store) {
        std::cerr << "moa eval: " << store.error() << "\n";
        return kRunFailed;
    }
    accounting::Catalog cat;
    if (auto c = accounting::Catalog::load_file(resources::catalog_path())) cat = std::move(*c);
    // What the baseline variants will cost, said before the first call.
    std::optional<eval::VariantPlan> plan;
    if (e->lc_variants) plan = eval::plan_lc_variants(*e, cat, store->get());
    auto plan_json = [&] {
        if (!plan) return nlohmann::json(nullptr);
        return nlohmann::json{{"extra_calls", plan->calls},        {"generations", plan->generations},
                              {"judgements", plan->judgements},    {"estimated_usd", plan->usd},
                              {"cost_complete", plan->cost_complete}, {"already_stored", plan->done},
                              {"instances", plan->instances}};
    };
    if (a.flag("plan")) {
        // Nothing is run: what a run would add for the baseline variants.
        if (a.flag("json")) std::cout << nlohmann::json{{"lc_variants_plan", plan_json()}}.dump(2) << "\n";
        else if (plan) std::printf("baseline variants for LC: %s\n", eval::describe(*plan).c_str());
        else std::printf("no baseline variants asked for (add \"lc_variants\": true to the experiment, or --lc-variants)\n");
        return kOk;
    }
    if (plan && !a.flag("quiet"))
        std::fprintf(stderr, "baseline variants for LC (AlpacaEval's regularisation): %s\n", eval::describe(*plan).c_str());
    // Ctrl-C, a closed terminal and a plain `kill` (SIGTERM, as a service manager or a shell's job
    // control sends) all stop the same way: finished work is kept and the table printed, exit 3.
    // Set before the runner looks through the store, which takes a while for a large set.
    auto old = std::signal(SIGINT, on_sigint);
    auto old_hup = std::signal(SIGHUP, on_sigint);
    auto old_term = std::signal(SIGTERM, on_sigint);
    eval::ExperimentRunner runner(*e, *store, cat);
    const bool tty = isatty(STDERR_FILENO) != 0;
    const bool quiet = a.flag("quiet");
    std::mutex out_mu;
    int last_decile = -1;
    {
        auto p = runner.progress();
        if (!quiet)
            std::fprintf(stderr, "%s: %zu configurations x %zu prompts, %s judge; %d of %d tasks already done (database %s)\n",
                         for_fd(2, e->name).c_str(), e->configs.size(), e->prompts.items.size(), e->judge.mode.c_str(), p.resumed,
                         p.total, (*store)->path().c_str());
    }
    // A tiny requests_per_minute stretches a run to hours while the first answers come at once:
    // said before the first call, not found out from an ETA that grows.
    if (const auto w = runner.rate_limit_wait(); w.seconds > kLongRateLimitWait_s)
        std::fprintf(stderr,
                     "moa eval: warning: the rate limits make this run take at least %s: provider \"%s\" may start %ld "
                     "request%s a minute and has %ld calls left (rate_limits in %s)\n",
                     duration(w.seconds).c_str(), for_fd(2, w.provider).c_str(), w.per_minute, w.per_minute == 1 ? "" : "s",
                     w.calls, for_fd(2, *a.get("experiment")).c_str());
    runner.start([&](const eval::ExperimentProgress& p) {
        if (quiet) return;
        std::lock_guard<std::mutex> lock(out_mu);
        if (tty) {
            std::fprintf(stderr, "\r\033[K%s", bar(p).c_str());
        } else {
            int decile = p.total ? p.done * 10 / p.total : 10;
            if (decile != last_decile) {
                last_decile = decile;
                std::fprintf(stderr, "%s\n", bar(p).c_str());
            }
        }
        std::fflush(stderr);
    });
    while (!runner.finished()) {
        if (g_interrupted.exchange(false)) {
            std::fprintf(stderr, "\ninterrupted: stopping; finished work is kept\n");
            runner.cancel();
        }
        usleep(50 * 1000);
    }
    auto outcome = runner.wait();
    std::signal(SIGINT, old);
    std::signal(SIGHUP, old_hup);
    std::signal(SIGTERM, old_term);
    if (!quiet && tty) std::fprintf(stderr, "\n");
    if (!outcome.message.empty()) std::fprintf(stderr, "%s\n", for_fd(2, outcome.message).c_str());
    if (outcome.progress.failed > 0) {
        std::fprintf(stderr, "%d tasks failed (a failed generation counts as a loss or the lowest grade, an instance whose reference "
                             "failed is not judged; running again retries them). The first:\n", outcome.progress.failed);
        for (const auto& e : outcome.progress.errors) std::fprintf(stderr, "  %s\n", for_fd(2, e).c_str());
    }
    auto results = eval::compute_results(*e, **store);
    if (a.flag("json")) {
        auto j = eval::to_json(results);
        j["status"] = eval::to_string(outcome.status);
        j["lc_variants_plan"] = plan_json();
        // Unknown is null, never 0; a partial sum is a lower bound (spent_complete false).
        j["spent_usd"] = !outcome.progress.spent_complete && !(outcome.progress.spent_usd > 0) ? nlohmann::json(nullptr)
                                                                                               : nlohmann::json(outcome.progress.spent_usd);
        j["spent_complete"] = outcome.progress.spent_complete;
        j["spent_text"] = money(outcome.progress.spent_usd, outcome.progress.spent_complete, 4);
        j["tasks"] = {{"total", outcome.progress.total}, {"done", outcome.progress.done},
                      {"resumed", outcome.progress.resumed}, {"failed", outcome.progress.failed}};
        std::cout << j.dump(2) << "\n";
    } else {
        print_table(results);
        std::printf("spent this session: %s; %d of %d tasks done (%d from earlier sessions, %d failed)\n",
                    money(outcome.progress.spent_usd, outcome.progress.spent_complete, 4).c_str(), outcome.progress.done, outcome.progress.total, outcome.progress.resumed,
                    outcome.progress.failed);
    }
    switch (outcome.status) {
    case eval::ExperimentStatus::Done: return kOk;
    case eval::ExperimentStatus::BudgetStopped: return kStopped;
    default: return kRunFailed;
    }
}

} // namespace moa::cli
