// SPDX-License-Identifier: MIT
#include "accounting/catalog.h"

#include <nlohmann/json.hpp>

#include "util/text.h"

namespace moa::accounting {
using nlohmann::json;

namespace {
std::optional<double> opt_num(const json& j, const char* k) {
    auto it = j.find(k);
    if (it == j.end() || !it->is_number()) return std::nullopt;
    return it->get<double>();
}
std::string host_of(const std::string& url) {
    auto p = url.find("://");
    std::string rest = p == std::string::npos ? url : url.substr(p + 3);
    auto e = rest.find_first_of("/:");
    return text::to_lower(e == std::string::npos ? rest : rest.substr(0, e));
}
} // namespace

Result<Catalog> Catalog::load_file(const std::string& path) {
    std::string text;
    if (!text::read_file(path, text)) return Error{path + ": cannot read the model catalog"};
    return load_text(text, path);
}

Result<Catalog> Catalog::load_text(const std::string& text, const std::string& label) {
    json j = json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return Error{label + ": the model catalog is not a JSON object"};
    Catalog c;
    if (auto p = j.find("providers"); p != j.end() && p->is_object())
        for (auto it = p->begin(); it != p->end(); ++it)
            if (auto h = it->find("hosts"); h != it->end() && h->is_array())
                for (const auto& host : *h)
                    if (host.is_string()) c.add_provider_host(it.key(), text::to_lower(host.get<std::string>()));
    auto m = j.find("models");
    if (m == j.end() || !m->is_array()) return Error{label + ": /models: required array"};
    for (std::size_t i = 0; i < m->size(); ++i) {
        const json& e = (*m)[i];
        if (!e.is_object() || !e.contains("model") || !e["model"].is_string())
            return Error{label + ": /models/" + std::to_string(i) + "/model: required string"};
        ModelInfo mi;
        mi.provider = e.value("provider", std::string());
        mi.model = e["model"].get<std::string>();
        mi.input_usd_per_mtok = opt_num(e, "input_usd_per_mtok");
        mi.output_usd_per_mtok = opt_num(e, "output_usd_per_mtok");
        mi.total_params_b = opt_num(e, "total_params_b");
        mi.active_params_b = opt_num(e, "active_params_b");
        if (!mi.active_params_b) mi.active_params_b = mi.total_params_b;
        if (auto ctx = opt_num(e, "context")) mi.context = static_cast<long>(*ctx);
        mi.price_source = e.value("price_source", std::string());
        mi.price_date = e.value("price_date", std::string());
        mi.params_source = e.value("params_source", std::string());
        c.add(std::move(mi));
    }
    return c;
}

Catalog::Match Catalog::find(const std::string& provider_name, const std::string& base_url,
                             const std::string& model) const {
    std::string key = provider_name;
    bool known_key = false;
    for (const auto& [k, _] : hosts_) known_key = known_key || k == provider_name;
    for (const auto& m : models_) known_key = known_key || m.provider == provider_name;
    if (!known_key) {
        std::string host = host_of(base_url);
        for (const auto& [k, h] : hosts_)
            if (!host.empty() && host == h) key = k;
    }
    Match out;
    std::string lm = text::to_lower(model);
    for (const auto& m : models_) {
        if (text::to_lower(m.model) != lm) continue;
        if (m.provider == key && !out.priced) out.priced = &m;
        if (!out.params && m.active_params_b) out.params = &m;
    }
    if (out.priced && out.priced->active_params_b) out.params = out.priced;
    return out;
}

CallCost cost_of(const Catalog::Match& m, const providers::Usage& u) {
    CallCost c;
    if (m.priced && m.priced->input_usd_per_mtok && m.priced->output_usd_per_mtok)
        c.usd = (static_cast<double>(u.prompt_tokens) * *m.priced->input_usd_per_mtok +
                 static_cast<double>(u.completion_tokens) * *m.priced->output_usd_per_mtok) / 1e6;
    if (m.params && m.params->active_params_b)
        c.tflops = 2.0 * *m.params->active_params_b * 1e9 *
                   static_cast<double>(u.prompt_tokens + u.completion_tokens) / 1e12;
    return c;
}

} // namespace moa::accounting
