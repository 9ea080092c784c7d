// SPDX-License-Identifier: MIT
#pragma once
// Reading an OpenAI chat-completions request for `moa serve`, and writing the OpenAI-shaped
// answers (chunks, completion object, error objects). No I/O here.
#include <optional>
#include <variant>
#include <string>

#include <nlohmann/json.hpp>

#include "config/config.h"
#include "engine/run_types.h"

namespace moa::serve {

struct ChatRequest {
    std::string model;
    engine::RunInput input;
    bool stream = false;
    bool include_usage = false;
    bool include_layers = false; // "moa": {"include_layers": true}
    std::optional<double> temperature;
    std::optional<long> max_tokens;
};

struct RequestError {
    int status = 400;
    std::string message;
    std::string type = "invalid_request_error";
    std::string code;
    std::optional<std::string> param;
};

// A request's JSON: nested 64 deep at most (json_guard::kMaxDepth) and 200,000 values at most
// (objects, arrays, scalars and keys), so that its DOM costs a few times its text, not 30×.
constexpr std::size_t kMaxRequestValues = 200000;

// Parses and checks a request body; the error names the field that is wrong.
std::variant<ChatRequest, RequestError> parse_chat_request(const std::string& body);

// The configuration a request runs: the request's temperature and max_tokens apply to the final
// aggregator unless the configuration pins them.
config::Config apply_request(const config::Config& base, const ChatRequest& r);

// {"error": {"message", "type", "code", "param"}}
nlohmann::json error_body(const RequestError& e);

std::string sse_data(const nlohmann::json& j); // "data: <json>\n\n"

nlohmann::json usage_json(const engine::Totals& t);

} // namespace moa::serve
