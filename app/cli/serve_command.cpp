// SPDX-License-Identifier: MIT
// moa serve --config FILE [--config FILE ...] [--host H] [--port N] [--api-key-env NAME]
#include <atomic>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <thread>

#include "cli/cli.h"
#include "serve/chat_server.h"
#include "util/resources.h"

namespace moa::cli {

namespace {
std::atomic<bool> g_stop{false};
std::atomic<int> g_signal{0};
extern "C" void on_stop_signal(int sig) {
    g_signal = sig;
    g_stop = true;
}
} // namespace

int cmd_serve(const std::vector<std::string>& args) {
    Args a(args, {"no-history", "no-record", "expose-upstream-errors"},
           {"config", "host", "port", "api-key-env", "max-runs", "keepalive-ms", "hold-ms", "allow-host", "max-connections",
            "header-timeout-ms", "body-timeout-ms", "record-max-bytes"});
    const char* usage = "usage: moa serve --config FILE [--config FILE ...] [--host 127.0.0.1] [--port N] "
                        "[--api-key-env NAME] [--max-runs N] [--keepalive-ms N] [--hold-ms N]\n"
                        "       [--no-record | --record-max-bytes N] [--expose-upstream-errors] [--allow-host NAME ...]\n"
                        "       [--max-connections N] [--header-timeout-ms N] [--body-timeout-ms N]\n";
    if (!a.ok() || !a.positional().empty() || a.all("config").empty()) {
        std::cerr << "moa serve: " << (a.ok() ? (a.positional().empty() ? "--config FILE is required" : "unexpected argument " + a.positional()[0]) : a.error())
                  << "\n" << usage;
        return kUsage;
    }
    serve::ServeOptions opt;
    for (const auto& f : a.all("config")) {
        auto c = load_config_or_preset(f);
        if (!c) return kUsage;
        for (const auto& other : opt.configs)
            if (other.name == c->name) {
                std::cerr << "moa serve: two configurations are named \"" << c->name << "\"; the name is the model id, "
                          << "so each must be unique\n";
                return kUsage;
            }
        opt.configs.push_back(std::move(*c));
    }
    auto number = [&](const char* name, long lo, long hi, long& out) {
        auto v = a.get(name);
        if (!v) return true;
        try {
            std::size_t used = 0;
            long n = std::stol(*v, &used);
            if (used == v->size() && n >= lo && n <= hi) {
                out = n;
                return true;
            }
        } catch (...) {
        }
        std::cerr << "moa serve: --" << name << " takes a number from " << lo << " to " << hi << "\n";
        return false;
    };
    long port = 0, max_runs = opt.max_runs, keepalive = opt.keepalive_ms, hold = opt.hold_ms;
    long max_connections = opt.max_connections, header_timeout = opt.header_timeout_ms, body_timeout = opt.body_timeout_ms;
    // Clients choose what a run records: without a cap, every 8 MB request stays in the history.
    long record_max = 1L << 20;
    if (!number("port", 0, 65535, port) || !number("max-runs", 1, 10000, max_runs) ||
        !number("keepalive-ms", 10, 600000, keepalive) || !number("hold-ms", 0, 600000, hold) ||
        !number("max-connections", 1, 10000, max_connections) || !number("header-timeout-ms", 100, 600000, header_timeout) ||
        !number("body-timeout-ms", 100, 3600000, body_timeout) ||
        !number("record-max-bytes", 0, 1L << 40, record_max))
        return kUsage;
    opt.max_connections = static_cast<unsigned>(max_connections);
    opt.header_timeout_ms = header_timeout;
    opt.body_timeout_ms = body_timeout;
    opt.expose_upstream_errors = a.flag("expose-upstream-errors");
    opt.allow_hosts = a.all("allow-host");
    opt.hold_ms = hold;
    opt.port = static_cast<int>(port);
    opt.max_runs = static_cast<int>(max_runs);
    opt.keepalive_ms = keepalive;
    opt.host = a.get("host").value_or("127.0.0.1");
    if (auto env = a.get("api-key-env")) {
        const char* key = std::getenv(env->c_str());
        if (!key || !*key) {
            std::cerr << "moa serve: the environment variable " << *env << " (--api-key-env) is not set\n";
            return kUsage;
        }
        opt.api_key = key;
    }
    if (opt.host != "127.0.0.1" && opt.host != "localhost" && opt.host != "::1" && opt.api_key.empty())
        std::cerr << "moa serve: warning: listening on " << opt.host << " without --api-key-env: anyone who can reach "
                  << "this address can spend your provider credit\n";

    accounting::Catalog catalog;
    if (auto c = accounting::Catalog::load_file(resources::catalog_path())) catalog = std::move(*c);
    std::unique_ptr<store::HistoryRecorder> recorder;
    if (!a.flag("no-history") && !a.flag("no-record")) {
        auto h = store::History::open(store::History::default_path());
        if (h) {
            recorder = std::make_unique<store::HistoryRecorder>(std::move(*h));
            recorder->set_message_cap(static_cast<std::size_t>(record_max));
        } else
            std::cerr << "moa serve: warning: " << h.error() << " (runs are not recorded)\n";
    }
    serve::ChatServer server(opt, catalog, recorder.get());
    auto bound = server.start();
    if (!bound) {
        std::cerr << "moa serve: " << bound.error() << "\n";
        return kRunFailed;
    }
    std::string host = opt.host.find(':') != std::string::npos ? "[" + opt.host + "]" : opt.host;
    std::cout << "moa serve: listening on http://" << host << ":" << *bound << "/v1 — models:";
    for (const auto& c : opt.configs) std::cout << " \"" << c.name << "\"";
    std::cout << std::endl;
    std::signal(SIGINT, on_stop_signal);
    std::signal(SIGTERM, on_stop_signal);
    std::signal(SIGHUP, on_stop_signal); // the terminal closed: stop cleanly so no run stays "running"
    while (!g_stop) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    std::cout << "moa serve: stopping" << std::endl;
    server.stop(std::string("stopped: ") + (g_signal == SIGTERM  ? "SIGTERM"
                                                     : g_signal == SIGHUP ? "SIGHUP"
                                                                          : "SIGINT (Ctrl-C)") + " received by moa serve");
    return kOk;
}

} // namespace moa::cli
