// SPDX-License-Identifier: MIT
#include "providers/model_list.h"

#include <future>

#include <nlohmann/json.hpp>

#include "providers/chat_call.h"
#include "providers/chat_stream.h"
#include "providers/redact.h"
#include "util/json_guard.h"

namespace moa::providers {
using nlohmann::json;

Result<std::vector<std::string>> parse_model_list(const std::string& body) {
    if (auto deep = json_guard::check(body)) return Error{"the model list " + *deep};
    json j = json::parse(body, nullptr, false);
    if (j.is_discarded()) return Error{"the model list is not JSON: " + error_message_from_body(body)};
    const json* arr = nullptr;
    if (j.is_object()) {
        for (const char* k : {"data", "models"})
            if (auto it = j.find(k); it != j.end() && it->is_array()) {
                arr = &*it;
                break;
            }
    } else if (j.is_array()) {
        arr = &j;
    }
    if (!arr) return Error{"the model list has no \"data\" array"};
    std::vector<std::string> ids;
    for (const auto& m : *arr) {
        if (m.is_string()) ids.push_back(m.get<std::string>());
        else if (m.is_object()) {
            for (const char* k : {"id", "name", "model"})
                if (auto it = m.find(k); it != m.end() && it->is_string()) {
                    ids.push_back(it->get<std::string>());
                    break;
                }
        }
    }
    return ids;
}

Result<std::vector<std::string>> list_models(net::Transport& t, const config::Provider& p, const std::string& api_key) {
    if (p.type == config::ProviderType::Demo)
        return std::vector<std::string>{"demo-proposer-a", "demo-proposer-b", "demo-proposer-c", "demo-aggregator", "demo-judge"};
    struct Shared {
        std::promise<void> done;
        long status = 0;
        std::string body, location;
        net::HttpResult result;
    };
    auto sh = std::make_shared<Shared>();
    net::HttpRequest req;
    req.method = "GET";
    req.url = p.base_url + "/models";
    req.connect_timeout_ms = p.connect_timeout_ms;
    req.idle_timeout_ms = p.idle_timeout_ms;
    req.max_response_bytes = 32u << 20;
    req.verify_tls = p.tls_verify;
    req.ca_file = p.ca_file;
    if (!api_key.empty())
        req.headers.push_back(p.key_header.empty() ? "Authorization: Bearer " + api_key : p.key_header + ": " + api_key);
    for (const auto& [k, v] : p.headers) req.headers.push_back(k + ": " + v);
    net::HttpHandler h;
    h.on_head = [sh](const net::HttpHead& head) {
        sh->status = head.status;
        sh->location = head.location;
    };
    h.on_body = [sh](std::string_view b) {
        sh->body.append(b);
        return true;
    };
    h.on_done = [sh](const net::HttpResult& r) {
        sh->result = r;
        sh->done.set_value();
    };
    auto fut = sh->done.get_future();
    auto id = t.start(std::move(req), std::move(h));
    long limit = p.connect_timeout_ms + p.first_token_timeout_ms;
    if (fut.wait_for(std::chrono::milliseconds(limit)) != std::future_status::ready) {
        t.cancel(id);
        fut.wait();
        return Error{"provider \"" + p.name + "\": no answer from " + p.base_url + "/models within " +
                     std::to_string(limit) + " ms"};
    }
    if (sh->result.failure == net::HttpFailure::Tls)
        return Error{"provider \"" + p.name + "\": " + tls_failure_message(p, sh->result.message)};
    if (sh->result.failure != net::HttpFailure::None)
        return Error{"provider \"" + p.name + "\": " + p.base_url + "/models: " + sh->result.message};
    if (sh->status < 200 || sh->status >= 300)
        return Error{"provider \"" + p.name + "\": " + p.base_url + "/models: HTTP " + std::to_string(sh->status) +
                     ": " +
                     (sh->status >= 300 && sh->status < 400 ? redirect_message(sh->location)
                                                            : redact_secret(error_message_from_body(sh->body), api_key))};
    auto r = parse_model_list(sh->body);
    if (!r) return Error{"provider \"" + p.name + "\": " + redact_secret(r.error(), api_key)};
    return r;
}

} // namespace moa::providers
