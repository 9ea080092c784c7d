// SPDX-License-Identifier: MIT
// moa history [--search TEXT] [--limit N] [--json]   |   moa history show ID [--json | --markdown | --html]
#include <iomanip>
#include <iostream>

#include "cli/cli.h"
#include "cli/terminal.h"
#include "engine/run_html.h"
#include "engine/run_markdown.h"
#include "engine/run_outcome.h"
#include "store/history.h"
#include "util/text.h"

namespace moa::cli {

int cmd_history(const std::vector<std::string>& args) {
    Args a(args, {"json", "markdown", "html", "no-check", "raw"}, {"search", "limit", "db"});
    // Stored model text may hold terminal escapes: the text and Markdown output are filtered
    // wherever they go, unless --raw; JSON and HTML escape what they hold themselves.
    guard_pipe_output(!a.flag("json") && !a.flag("html") && !a.flag("raw"), !a.flag("raw"));
    if (!a.ok()) {
        std::cerr << "moa history: " << a.error() << "\n";
        return kUsage;
    }
    const std::string path = a.get("db").value_or(store::History::default_path());
    auto h = store::History::open(path);
    if (!h) {
        std::cerr << "moa history: " << h.error() << "\n";
        return kRunFailed;
    }
    // Every page is read first (about 7 ms per MB): a damaged file is said to be damaged, with
    // what to do, rather than listed in part. --no-check skips it for a very large history;
    // read errors are still reported.
    if (!a.flag("no-check"))
        if (auto ok = (*h)->check(); !ok) {
            std::cerr << "moa history: " << ok.error() << "\n";
            return kRunFailed;
        }
    const auto& pos = a.positional();
    if (!pos.empty() && pos[0] == "show") {
        if (pos.size() != 2) {
            std::cerr << "moa history: usage: moa history show ID [--json | --markdown | --html]\n";
            return kUsage;
        }
        std::int64_t id = 0;
        try {
            id = std::stoll(pos[1]);
        } catch (...) {
            std::cerr << "moa history: \"" << pos[1] << "\" is not a run id\n";
            return kUsage;
        }
        auto rec = (*h)->load(id);
        if (!rec && !(*h)->read_error().empty()) {
            std::cerr << "moa history: " << (*h)->read_error() << "\n";
            return kRunFailed;
        }
        if (!rec) {
            std::cerr << "moa history: no run " << id << " in " << path << "\n";
            return kUsage;
        }
        if (a.flag("json")) {
            std::cout << engine::to_json(*rec).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
            return kOk;
        }
        if (a.flag("html")) {
            std::cout << engine::to_html(*rec);
            return kOk;
        }
        if (a.flag("markdown")) {
            std::cout << engine::to_markdown(*rec);
            return kOk;
        }
        std::cout << "run " << id << ": " << rec->config_name << " — " << engine::outcome_text(*rec) << "\n";
        std::cout << "prompt: " << rec->input.last_user_text() << "\n";
        if (const std::string note = (*h)->record_note(id); !note.empty()) std::cout << note << "\n";
        for (const auto& L : rec->layers) {
            for (const auto& ag : L.agents) {
                std::cout << "\n▸ L" << ag.layer + 1 << "." << ag.index + 1 << " " << ag.model << " (" << ag.provider
                          << (ag.demo ? ", offline demo" : "") << ") — " << engine::to_string(ag.state) << "\n";
                if (ag.error) std::cout << "  error: " << *ag.error << "\n";
                if (!ag.text.empty()) std::cout << ag.text << "\n";
            }
        }
        if (rec->final_text) std::cout << "\n── final ──\n" << *rec->final_text << "\n";
        if (!rec->error.empty()) std::cout << "\nerror: " << rec->error << "\n";
        return kOk;
    }
    if (!pos.empty()) {
        std::cerr << "moa history: unexpected argument \"" << pos[0] << "\"\n";
        return kUsage;
    }
    int limit = 50;
    if (auto l = a.get("limit")) {
        try {
            limit = std::stoi(*l);
        } catch (...) {
            std::cerr << "moa history: --limit takes a number\n";
            return kUsage;
        }
    }
    auto listed = (*h)->list(a.get("search").value_or(""), limit);
    if (!listed) {
        std::cerr << "moa history: " << listed.error() << "\n";
        return kRunFailed;
    }
    const auto& runs = *listed;
    if (a.flag("json")) {
        nlohmann::json arr = nlohmann::json::array();
        for (const auto& r : runs)
            arr.push_back({{"id", r.id}, {"started_at", r.started_at}, {"source", r.source}, {"config", r.config_name},
                           {"status", r.status}, {"outcome", engine::outcome_text({r.status, r.agents, r.dropped, r.cut})},
                           {"prompt", r.prompt},
                           {"cost_usd", r.cost_usd ? nlohmann::json(*r.cost_usd) : nlohmann::json(nullptr)},
                           {"wall_ms", r.wall_ms},
                           {"record_truncated", !r.record_note.empty()}});
        std::cout << arr.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
        return kOk;
    }
    for (const auto& r : runs) {
        std::cout << std::setw(5) << r.id << "  " << r.started_at << "  " << std::setw(5) << r.source << "  "
                  << std::setw(9) << engine::outcome_text({r.status, r.agents, r.dropped, r.cut}) << "  " << r.config_name << "  " << text::quote_start(r.prompt, 60)
                  << (r.record_note.empty() ? "" : "  [record truncated]") << "\n";
    }
    return kOk;
}

} // namespace moa::cli
