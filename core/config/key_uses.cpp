// SPDX-License-Identifier: MIT
#include "config/key_uses.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <utility>

#include <nlohmann/json.hpp>

#include "util/file_read.h"
#include "util/resources.h"
#include "util/text.h"

namespace moa::config {

namespace {
using Pair = std::pair<std::string, std::string>; // variable, server

std::set<Pair> read_pairs(const std::string& path) {
    std::set<Pair> out;
    auto text = files::read_regular_file(path, 1u << 20);
    if (!text) return out;
    auto j = nlohmann::json::parse(*text, nullptr, false);
    if (!j.is_object() || !j.contains("pairs") || !j["pairs"].is_array()) return out;
    for (const auto& p : j["pairs"])
        if (p.is_object() && p.value("api_key_env", nlohmann::json()).is_string() && p.value("server", nlohmann::json()).is_string())
            out.emplace(p["api_key_env"].get<std::string>(), p["server"].get<std::string>());
    return out;
}
} // namespace

std::string KeyUse::describe() const {
    return "provider \"" + provider + "\" sends the key in $" + api_key_env + " to " + server +
           ", which has not been done on this machine before; if you did not write this configuration, check that " +
           server + " is meant to get that key";
}

std::string key_server(const std::string& base_url) {
    std::string u = base_url;
    const auto scheme = u.find("://");
    const std::size_t host_start = scheme == std::string::npos ? 0 : scheme + 3;
    const auto path = u.find_first_of("/?#", host_start);
    if (path != std::string::npos) u.erase(path);
    if (auto at = u.rfind('@'); at != std::string::npos && at >= host_start) u.erase(host_start, at + 1 - host_start);
    return text::to_lower(u);
}

std::string KnownKeyUses::default_path() { return resources::data_path("MOA_KNOWN_KEYS", "known-keys.json"); }

KnownKeyUses::KnownKeyUses(std::string path) : path_(std::move(path)) {}

std::vector<KeyUse> KnownKeyUses::unfamiliar(const Config& c) const {
    const auto known = read_pairs(path_);
    std::set<std::string> used;
    for (const auto& l : c.layers)
        for (const auto& a : l.agents) used.insert(a.provider);
    std::vector<KeyUse> out;
    for (const auto& name : used) {
        const Provider* p = c.provider(name);
        if (!p || p->type != ProviderType::OpenAi || p->api_key_env.empty()) continue;
        const char* v = std::getenv(p->api_key_env.c_str());
        if (!v || !*v) continue; // nothing would be sent
        KeyUse u{name, p->api_key_env, key_server(p->base_url)};
        if (!known.count({u.api_key_env, u.server})) out.push_back(std::move(u));
    }
    return out;
}

std::string KnownKeyUses::remember(const std::vector<KeyUse>& uses) {
    if (uses.empty()) return {};
    auto pairs = read_pairs(path_);
    for (const auto& u : uses) pairs.emplace(u.api_key_env, u.server);
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& [var, server] : pairs) arr.push_back({{"api_key_env", var}, {"server", server}});
    std::error_code ec;
    const std::filesystem::path p(path_);
    if (p.has_parent_path()) std::filesystem::create_directories(p.parent_path(), ec);
    // Write then rename: two runs at once leave one whole file, never a torn one.
    const std::string tmp = path_ + ".tmp" + std::to_string(std::rand());
    {
        std::ofstream f(tmp, std::ios::trunc);
        f << nlohmann::json{{"pairs", arr}}.dump(2) << "\n";
        if (!f) {
            std::filesystem::remove(tmp, ec);
            return path_ + ": cannot write the list of known keys";
        }
    }
    std::filesystem::rename(tmp, path_, ec);
    if (ec) {
        std::filesystem::remove(tmp, ec);
        return path_ + ": cannot write the list of known keys: " + ec.message();
    }
    return {};
}

} // namespace moa::config
