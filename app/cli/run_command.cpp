// SPDX-License-Identifier: MIT
// moa run: streams each layer's answers to the terminal as they arrive, then the final answer.
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <iomanip>
#include <iostream>
#include <mutex>
#include <sstream>

#include "accounting/money.h"
#include "cli/cli.h"
#include "cli/terminal.h"
#include "config/key_uses.h"
#include "engine/engine.h"
#include "engine/run_outcome.h"
#include "store/history_recorder.h"
#include "util/file_read.h"
#include "util/resources.h"
#include "util/text.h"

namespace moa::cli {

namespace {

std::atomic<int> g_interrupted{0}; // the signal that stopped the run
extern "C" void on_sigint(int sig) { g_interrupted = sig; }

std::string money(const std::optional<double>& v) {
    return v ? accounting::format_usd(*v) : "$?"; // the README's style, as the window writes it
}

std::string agent_title(const engine::AgentRecord& a) {
    std::ostringstream o;
    o << "L" << a.layer + 1 << "." << a.index + 1 << " " << a.model << " (" << a.provider
      << (a.demo ? ", offline demo" : "") << ")";
    return o.str();
}

std::string agent_stats(const engine::AgentRecord& a) {
    std::ostringstream o;
    o << a.usage.prompt_tokens << "+" << a.usage.completion_tokens << " tok" << (a.usage.estimated ? " (estimated)" : "");
    if (a.ttft_ms) o << ", ttft " << std::fixed << std::setprecision(0) << *a.ttft_ms << " ms";
    o << ", " << std::fixed << std::setprecision(2) << a.duration_ms / 1000.0 << " s";
    if (a.tokens_per_s) o << ", " << std::setprecision(0) << *a.tokens_per_s << " tok/s";
    o << ", " << money(a.cost_usd);
    if (a.tflops) o << ", " << std::setprecision(2) << *a.tflops << " TFLOPs";
    if (a.attempts > 1) o << ", " << a.attempts << " attempts";
    return o.str();
}

// Human-readable rendering of the events. Layers with several agents print each answer as it
// completes (interleaved tokens would be unreadable); a layer of one agent streams live. With
// staircase streaming the layers overlap: what another layer prints while an answer streams live
// is held and printed after it, so the live answer reads as one piece.
class TextRenderer {
public:
    explicit TextRenderer(const config::Config& c) : c_(c) {}
    void operator()(const engine::Event& e) {
        using T = engine::Event::Type;
        std::lock_guard<std::mutex> lock(mu_);
        const std::size_t layers = c_.layers.size();
        // With staircase streaming layers overlap: each event is drawn as its own layer's.
        const bool streaming = e.layer >= 0 && c_.layers[static_cast<std::size_t>(e.layer)].agents.size() == 1;
        if (streaming && e.type == T::AgentStarted && live_ < 0) live_ = e.layer;
        const bool held = live_ >= 0 && e.layer >= 0 && e.layer != live_;
        std::ostream& out = held ? static_cast<std::ostream&>(held_) : std::cout;
        render(e, streaming, layers, out);
        const bool over = e.type == T::RunDone || e.type == T::RunFailed || e.type == T::RunCancelled;
        if (over || (!held && live_ >= 0 && (e.type == T::AgentDone || e.type == T::AgentFailed))) {
            live_ = -1;
            std::cout << held_.str() << std::flush;
            held_.str({});
        }
    }

private:
    void render(const engine::Event& e, bool streaming, std::size_t layers, std::ostream& out) {
        using T = engine::Event::Type;
        switch (e.type) {
        case T::LayerStarted: {
            std::size_t n = c_.layers[static_cast<std::size_t>(e.layer)].agents.size();
            bool last = static_cast<std::size_t>(e.layer) + 1 == layers;
            out << "\n── layer " << e.layer + 1 << "/" << layers << ": "
                      << (last ? std::string("aggregator") : std::to_string(n) + (e.layer == 0 ? " proposer" : " aggregator") + (n == 1 ? "" : "s"))
                      << " ──\n" << std::flush;
            break;
        }
        case T::AgentStarted:
            if (streaming && e.record) out << "▸ " << agent_title(*e.record) << "\n" << std::flush;
            break;
        case T::AgentDelta:
            if (streaming) out << e.text << std::flush;
            break;
        case T::AgentRetry:
            std::cerr << "  retry: L" << e.layer + 1 << "." << e.agent + 1 << " attempt " << e.attempt << " in "
                      << e.delay_ms << " ms: " << e.message << "\n";
            break;
        case T::AgentDone:
            if (!e.record) break;
            if (streaming) out << "\n  [" << agent_stats(*e.record) << "]\n";
            else out << "▸ " << agent_title(*e.record) << "  [" << agent_stats(*e.record) << "]\n"
                           << e.record->text << "\n\n";
            out << std::flush;
            break;
        case T::AgentFailed:
            if (streaming) out << "\n";
            if (e.record && e.record->state == engine::AgentState::Cut) {
                std::cerr << "✂ " << agent_title(*e.record) << " " << e.message
                          << " (the next layer is told that this answer is missing)\n";
                break;
            }
            std::cerr << "✗ " << (e.record ? agent_title(*e.record) : std::string("agent")) << " failed: " << e.message
                      << "\n";
            if (e.record && e.record->not_billed) std::cerr << "  (no tokens were produced: not billed, $0)\n";
            if (c_.on_agent_failure == config::FailurePolicy::Drop && static_cast<std::size_t>(e.layer) + 1 < layers)
                std::cerr << "  (dropped: the next layer is told that this answer is missing)\n";
            break;
        default:
            break;
        }
    }

    const config::Config& c_;
    std::mutex mu_;
    int live_ = -1;           // the layer whose one agent streams live now, or -1
    std::ostringstream held_; // what other layers printed meanwhile
};

void print_summary(const engine::RunRecord& r) {
    const auto& t = r.totals;
    using K = engine::Known;
    const K cost_known = engine::known(t.cost_complete, t.cost_usd), tf_known = engine::known(t.tflops_complete, t.tflops);
    std::ostringstream tf;
    tf << std::fixed << std::setprecision(2) << t.tflops;
    std::cout << "\n── " << engine::outcome_text(r) << " ── cost "
              << (cost_known == K::None ? "unknown (no prices)"
                  : cost_known == K::Some ? "at least " + money(t.cost_usd) + " (some prices unknown)"
                                          : money(t.cost_usd))
              << ", "
              << (tf_known == K::None ? "TFLOPs unknown (no parameter counts)"
                  : tf_known == K::Some ? "at least " + tf.str() + " TFLOPs (some parameter counts unknown)"
                                        : tf.str() + " TFLOPs")
              << ", wall " << std::fixed << std::setprecision(2)
              << t.wall_ms / 1000.0 << " s, critical path " << t.critical_path_ms / 1000.0 << " s, "
              << t.prompt_tokens << "+" << t.completion_tokens << " tokens"
              << (t.usage_estimated ? " (some estimated: cost and tokens are estimates)" : "") << "\n";
}

} // namespace

int cmd_run(const std::vector<std::string>& args) {
    Args a(args, {"json", "events", "quiet", "no-history", "allow-outside-files", "raw"}, {"config", "prompt", "prompt-file", "system"});
    // Model text may hold terminal escapes: filtered wherever the text output goes, unless --raw.
    guard_pipe_output(a.ok() && !a.flag("json") && !a.flag("events") && !a.flag("raw"), !a.flag("raw"));
    if (!a.ok() || !a.positional().empty()) {
        std::cerr << "moa run: " << (a.ok() ? "unexpected argument " + a.positional()[0] : a.error())
                  << "\nusage: moa run --config FILE (--prompt TEXT | --prompt-file FILE) [--system TEXT] [--json] [--events] [--no-history] [--allow-outside-files] [--raw]\n";
        return kUsage;
    }
    if (!a.get("config")) {
        std::cerr << "moa run: --config FILE is required (a *.moa.json file or a preset name; see moa presets)\n";
        return kUsage;
    }
    if (a.get("prompt").has_value() == a.get("prompt-file").has_value()) {
        std::cerr << "moa run: give exactly one of --prompt TEXT and --prompt-file FILE\n";
        return kUsage;
    }
    std::string prompt;
    if (auto pf = a.get("prompt-file")) {
        if (*pf == "-") {
            char buf[64 * 1024];
            while (std::cin.read(buf, sizeof buf) || std::cin.gcount() > 0) {
                prompt.append(buf, static_cast<std::size_t>(std::cin.gcount()));
                if (prompt.size() > files::kMaxPromptBytes) {
                    std::cerr << "moa run: the prompt on stdin is larger than " << files::size_text(files::kMaxPromptBytes) << "\n";
                    return kUsage;
                }
            }
        } else if (auto text = files::read_regular_file(*pf, files::kMaxPromptBytes)) {
            prompt = std::move(*text);
        } else {
            std::cerr << "moa run: --prompt-file " << text.error() << "\n";
            return kUsage;
        }
    } else {
        prompt = *a.get("prompt");
    }
    if (text::trim(prompt).empty()) {
        std::cerr << "moa run: the prompt is empty\n";
        return kUsage;
    }
    config::LoadOptions load_options;
    load_options.allow_outside_files = a.flag("allow-outside-files");
    auto cfg = load_config_or_preset(*a.get("config"), load_options);
    if (!cfg) return kUsage;
    {
        // A key going to a server it has not gone to before is said before anything is sent.
        config::KnownKeyUses known;
        auto fresh = known.unfamiliar(*cfg);
        for (const auto& u : fresh) std::cerr << "moa: note: " << u.describe() << "\n";
        if (auto e = known.remember(fresh); !e.empty()) std::cerr << "moa: warning: " << e << "\n";
    }

    accounting::Catalog catalog;
    if (auto c = accounting::Catalog::load_file(resources::catalog_path())) catalog = std::move(*c);
    else std::cerr << "moa: warning: " << c.error() << " (costs and TFLOPs will be unknown)\n";

    const bool json_doc = a.flag("json"), events = a.flag("events"), quiet = a.flag("quiet");
    TextRenderer renderer(*cfg);
    std::mutex out_mu;
    engine::EventSink sink = [&](const engine::Event& e) {
        if (events) {
            std::lock_guard<std::mutex> lock(out_mu);
            std::cout << e.to_json().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n" << std::flush;
        } else if (!json_doc && !quiet) {
            renderer(e);
        }
    };

    // Every run goes into the history (SQLite) unless asked not to; a history that cannot be
    // written is reported, and the run goes on.
    std::unique_ptr<store::HistoryRecorder> recorder;
    if (!a.flag("no-history")) {
        auto h = store::History::open(store::History::default_path());
        if (h) recorder = std::make_unique<store::HistoryRecorder>(std::move(*h));
        else std::cerr << "moa: warning: " << h.error() << " (this run is not recorded)\n";
    }
    const auto input = engine::RunInput::from_prompt(prompt, a.get("system").value_or(""));
    if (recorder) sink = recorder->sink("cli", *cfg, input, sink);

    std::signal(SIGINT, on_sigint);
    std::signal(SIGTERM, on_sigint);
    std::signal(SIGHUP, on_sigint); // the terminal closed: without this the run stays "running" in the history
    engine::Engine eng(catalog);
    auto run = eng.start(*cfg, input, sink);
    bool cancel_sent = false;
    while (!run->wait_for(std::chrono::milliseconds(50))) {
        if (g_interrupted && !cancel_sent) {
            // The record says what stopped it: Ctrl-C is the user; SIGTERM is often not
            // (a service manager, a timeout, a CI job being cancelled).
            run->cancel(g_interrupted == SIGTERM  ? "stopped: SIGTERM received by moa run"
                        : g_interrupted == SIGHUP ? "stopped: SIGHUP received by moa run"
                                                  : "cancelled by the user (Ctrl-C)");
            cancel_sent = true;
        }
    }
    engine::RunRecord rec = run->record();
    std::int64_t history_id = 0;
    if (recorder) {
        recorder->flush();
        history_id = recorder->stored_id(rec.id);
        for (const auto& e : recorder->errors()) std::cerr << "moa: warning: history: " << e << "\n";
    }
    if (json_doc) {
        auto doc = engine::to_json(rec);
        if (history_id) doc["history_id"] = history_id;
        std::cout << doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    } else if (!events && !quiet) {
        print_summary(rec);
        if (history_id) std::cout << "recorded as run " << history_id << " (moa history show " << history_id << ")\n";
    }
    // Name what was left out, whatever the output format; and once per agent, usage the provider
    // sent that was refused (its tokens and cost are estimates).
    for (const auto& L : rec.layers)
        for (const auto& ag : L.agents)
            if (!ag.usage.refused.empty())
                std::cerr << "moa: warning: L" << ag.layer + 1 << "." << ag.index + 1 << " " << ag.model << " ("
                          << ag.provider << "): the provider's usage was refused (" << ag.usage.refused
                          << "); its tokens and cost are estimated\n";
    for (const auto& L : rec.layers)
        for (const auto& ag : L.agents)
            if (ag.state == engine::AgentState::Dropped)
                std::cerr << "moa: dropped L" << ag.layer + 1 << "." << ag.index + 1 << " " << ag.model << " ("
                          << ag.provider << "): " << ag.error.value_or("failed") << "\n";
    if (rec.status == engine::RunStatus::Done) return kOk;
    std::cerr << "moa: run " << engine::to_string(rec.status) << ": " << rec.error << "\n";
    return kRunFailed;
}

} // namespace moa::cli
