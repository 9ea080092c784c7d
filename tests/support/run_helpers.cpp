// SPDX-License-Identifier: MIT
#include "run_helpers.h"

#include <atomic>
#include <chrono>
#include <stdexcept>

namespace testing_support {
using nlohmann::json;

json config_json(const std::string& base_url, const std::vector<std::vector<std::string>>& layers,
                 const json& provider_extra, const std::string& policy) {
    json prov = {{"base_url", base_url}, {"max_concurrency", 16}, {"retry_base_ms", 10}, {"retry_max_ms", 2000}};
    for (auto it = provider_extra.begin(); it != provider_extra.end(); ++it) prov[it.key()] = *it;
    json ls = json::array();
    for (const auto& l : layers) {
        json agents = json::array();
        for (const auto& m : l) agents.push_back({{"provider", "local"}, {"model", m}});
        ls.push_back({{"agents", agents}});
    }
    return {{"schema", "moa-workbench/config@1"}, {"name", "test"}, {"providers", {{"local", prov}}},
            {"layers", ls}, {"on_agent_failure", policy}};
}

moa::config::Config make_config(const json& j) {
    auto r = moa::config::load_config_text(j.dump(2), "test.moa.json");
    if (!r.ok()) throw std::runtime_error("test config invalid: " + r.summary());
    return *r.config;
}

moa::engine::RunRecord run_to_end(const moa::config::Config& c, const std::string& prompt, EventLog* log, long timeout_ms) {
    static moa::accounting::Catalog catalog;
    moa::engine::Engine engine(catalog);
    auto run = engine.start(c, moa::engine::RunInput::from_prompt(prompt), log ? log->sink() : moa::engine::EventSink{});
    if (!run->wait_for(std::chrono::milliseconds(timeout_ms))) {
        run->cancel();
        run->wait();
    }
    return run->record();
}

std::string nonce() {
    static std::atomic<int> n{0};
    return "n" + std::to_string(std::chrono::steady_clock::now().time_since_epoch().count() % 1000000) + "-" +
           std::to_string(++n);
}

} // namespace testing_support
