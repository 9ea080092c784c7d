// SPDX-License-Identifier: MIT
#include "serve/openai_request.h"

#include <functional>
#include <variant>

#include "config/whole_number.h"
#include "util/duplicate_keys.h"
#include "util/json_guard.h"
#include "util/text.h"

namespace moa::serve {
using nlohmann::json;

namespace {
RequestError bad(std::string message, std::string param) {
    RequestError e;
    e.message = std::move(message);
    e.param = std::move(param);
    e.code = "invalid_value";
    return e;
}

constexpr const char* kMaxTokensRange = "\" must be a positive integer between 1 and 10000000, not ";

// A number past a double's range (1e400) fails the parse itself, so the field's own check never
// sees it: parsed again for the reason and where, it gets that field's message, not "not JSON".
std::optional<RequestError> number_overflow(const std::string& body) {
    json_guard::DuplicateKeys where;
    try {
        const json parsed = json::parse(body, std::ref(where));
        (void)parsed;
    } catch (const json::out_of_range& x) {
        if (x.id != 406) return std::nullopt;
        const std::string what = x.what();
        const std::size_t from = what.find('\''), to = what.rfind('\'');
        const std::string number = from < to ? what.substr(from + 1, to - from - 1) : "a number that large";
        const std::string at = where.pointer();
        for (const char* k : {"max_tokens", "max_completion_tokens"})
            if (at == std::string("/") + k) return bad(std::string("\"") + k + kMaxTokensRange + text::quote_start(number, 40), k);
        return bad("the number " + text::quote_start(number, 40) + " at " + (at.empty() ? "/" : at) +
                       " is too large for any field of this request",
                   at.empty() ? "body" : at);
    } catch (const json::exception&) {
    }
    return std::nullopt;
}
} // namespace

std::variant<ChatRequest, RequestError> parse_chat_request(const std::string& body) {
    if (auto e = json_guard::check(body, {json_guard::kMaxDepth, kMaxRequestValues})) {
        RequestError r;
        r.message = "the request body " + *e + ": it is not accepted";
        r.code = "invalid_json";
        return r;
    }
    json_guard::DuplicateKeys duplicates;
    json j = json::parse(body, std::ref(duplicates), false);
    if (j.is_discarded()) {
        if (auto e = number_overflow(body)) return *e;
        RequestError e;
        e.message = "the request body is not valid JSON";
        e.code = "invalid_json";
        return e;
    }
    if (duplicates.found) {
        RequestError e = bad("the request body has the key at " + *duplicates.found +
                                 " twice; each key once (which one counts is ambiguous)",
                             *duplicates.found);
        e.code = "duplicate_key";
        return e;
    }
    if (!j.is_object()) return bad("the request body must be a JSON object", "body");
    ChatRequest r;
    auto m = j.find("model");
    if (m == j.end() || !m->is_string() || m->get_ref<const std::string&>().empty())
        return bad("\"model\" is required: the name of one of the served configurations (GET /v1/models)", "model");
    r.model = m->get<std::string>();

    auto msgs = j.find("messages");
    if (msgs == j.end() || !msgs->is_array() || msgs->empty())
        return bad("\"messages\" is required: a non-empty array of {role, content}", "messages");
    for (std::size_t i = 0; i < msgs->size(); ++i) {
        const json& mj = (*msgs)[i];
        std::string at = "messages[" + std::to_string(i) + "]";
        if (!mj.is_object()) return bad(at + " must be an object", at);
        auto role = mj.find("role");
        if (role == mj.end() || !role->is_string()) return bad(at + ".role is required", at + ".role");
        std::string rs = role->get<std::string>();
        if (rs == "developer") rs = "system";
        if (rs != "system" && rs != "user" && rs != "assistant")
            return bad(at + ".role \"" + text::quote_start(rs, 40) + "\" is not supported (system, developer, user, assistant)", at + ".role");
        auto content = mj.find("content");
        std::string text;
        if (content == mj.end() || content->is_null()) {
            if (rs != "assistant") return bad(at + ".content is required", at + ".content");
        } else if (content->is_string()) {
            text = content->get<std::string>();
        } else if (content->is_array()) {
            for (const auto& part : *content) {
                if (!part.is_object() || part.value("type", "") != "text" || !part.contains("text") || !part["text"].is_string())
                    return bad(at + ".content: only text parts are supported", at + ".content");
                text += part["text"].get<std::string>();
            }
        } else {
            return bad(at + ".content must be a string or a list of text parts", at + ".content");
        }
        r.input.conversation.push_back({rs, text});
    }
    bool has_user = false;
    for (const auto& msg : r.input.conversation) has_user = has_user || msg.role == "user";
    if (!has_user) return bad("\"messages\" needs at least one user message", "messages");

    if (auto s = j.find("stream"); s != j.end() && !s->is_null()) {
        if (!s->is_boolean()) return bad("\"stream\" must be true or false", "stream");
        r.stream = s->get<bool>();
    }
    if (auto so = j.find("stream_options"); so != j.end() && so->is_object())
        if (auto iu = so->find("include_usage"); iu != so->end() && iu->is_boolean()) r.include_usage = iu->get<bool>();
    if (auto t = j.find("temperature"); t != j.end() && !t->is_null()) {
        if (!t->is_number() || t->get<double>() < 0 || t->get<double>() > 2)
            return bad("\"temperature\" must be a number from 0 to 2", "temperature");
        r.temperature = t->get<double>();
    }
    for (const char* k : {"max_tokens", "max_completion_tokens"}) {
        if (auto mt = j.find(k); mt != j.end() && !mt->is_null()) {
            // The rule of configuration files (1e2 is 100), and their range.
            if (!config::is_whole_number(*mt) || mt->get<double>() < config::kMinMaxTokens ||
                mt->get<double>() > config::kMaxMaxTokens)
                return bad(std::string("\"") + k + kMaxTokensRange + json_guard::brief(*mt, 40),
                           k);
            r.max_tokens = static_cast<long>(mt->get<double>());
        }
    }
    if (auto n = j.find("n"); n != j.end() && !n->is_null() && !(n->is_number_integer() && n->get<long>() == 1))
        return bad("\"n\" must be 1: a MoA run gives one answer", "n");
    if (auto mo = j.find("moa"); mo != j.end() && mo->is_object())
        if (auto il = mo->find("include_layers"); il != mo->end() && il->is_boolean()) r.include_layers = il->get<bool>();
    return r;
}

config::Config apply_request(const config::Config& base, const ChatRequest& r) {
    config::Config c = base;
    auto& agg = c.layers.back().agents.back();
    if (r.temperature && !agg.params.temperature) agg.params.temperature = r.temperature;
    if (r.max_tokens && !agg.params.max_tokens) agg.params.max_tokens = r.max_tokens;
    return c;
}

json error_body(const RequestError& e) {
    json err{{"message", e.message}, {"type", e.type}, {"code", e.code.empty() ? json(nullptr) : json(e.code)}};
    err["param"] = e.param ? json(*e.param) : json(nullptr);
    return {{"error", err}};
}

std::string sse_data(const json& j) {
    return "data: " + j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n\n";
}

json usage_json(const engine::Totals& t) {
    return {{"prompt_tokens", t.prompt_tokens},
            {"completion_tokens", t.completion_tokens},
            {"total_tokens", t.prompt_tokens + t.completion_tokens}};
}

} // namespace moa::serve
