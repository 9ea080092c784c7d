// SPDX-License-Identifier: MIT
#pragma once
// Building configurations that point at a test server, and running them to the end.
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "accounting/catalog.h"
#include "config/config.h"
#include "engine/engine.h"

namespace testing_support {

// A config whose layers list model strings (scenarios of openai_server.py) on one provider.
nlohmann::json config_json(const std::string& base_url, const std::vector<std::vector<std::string>>& layers,
                           const nlohmann::json& provider_extra = nlohmann::json::object(),
                           const std::string& policy = "drop");
moa::config::Config make_config(const nlohmann::json& j);

// Collects events (from the transport thread) for inspection after the run.
struct EventLog {
    std::mutex mu;
    std::vector<moa::engine::Event> events;
    moa::engine::EventSink sink() {
        return [this](const moa::engine::Event& e) {
            std::lock_guard<std::mutex> lock(mu);
            events.push_back(e);
        };
    }
    int count(moa::engine::Event::Type t) {
        std::lock_guard<std::mutex> lock(mu);
        int n = 0;
        for (const auto& e : events) n += e.type == t;
        return n;
    }
};

// Runs to the end (or `timeout_ms`) and returns the record.
moa::engine::RunRecord run_to_end(const moa::config::Config& c, const std::string& prompt, EventLog* log = nullptr,
                                  long timeout_ms = 60'000);

// A unique tag so that per-model counters of the test server do not collide between tests.
std::string nonce();

} // namespace testing_support
