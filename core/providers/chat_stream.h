// SPDX-License-Identifier: MIT
#pragma once
// Turns the data payloads of an OpenAI-compatible chat-completions stream into answer text,
// reasoning, usage and finish reason, tolerating what real providers send (see the .cpp).
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "providers/chat_types.h"

namespace moa::providers {

class ChatStreamDecoder {
public:
    // Called for every piece of text; either part may be empty.
    using DeltaSink = std::function<void(std::string_view content, std::string_view reasoning)>;
    explicit ChatStreamDecoder(DeltaSink sink) : sink_(std::move(sink)) {}

    // One SSE `data:` payload. Returns false when the stream must fail: a payload that is not
    // JSON, or an error object sent inside the stream. error() then says why.
    bool on_data(std::string_view data);

    // A whole non-streaming `chat.completion` body.
    bool on_body(std::string_view body);

    bool done() const { return done_; }
    // Complete when [DONE] arrived or a finish_reason did; anything else was cut.
    bool complete() const { return done_ || finish_reason_.has_value(); }
    const std::optional<std::string>& finish_reason() const { return finish_reason_; }
    const std::optional<Usage>& usage() const { return usage_; }
    // Why the provider's usage was not taken (the first count refused), or empty.
    const std::string& usage_refused() const { return usage_refused_; }
    const std::string& error() const { return error_; }
    std::size_t chunks() const { return chunks_; }
    bool any_content() const { return any_content_; }
    // Log-probabilities of the first kMaxLogprobPositions positions, when the provider sent them.
    const std::vector<TokenLogprobs>& logprobs() const { return logprobs_; }
    static constexpr std::size_t kMaxLogprobPositions = 16;

private:
    bool fail(std::string message);
    bool on_data_dom(std::string_view data);
    DeltaSink sink_;
    bool done_ = false;
    bool any_content_ = false;
    std::optional<std::string> finish_reason_;
    std::optional<Usage> usage_;
    std::string usage_refused_;
    std::string error_;
    std::size_t chunks_ = 0;
    std::vector<TokenLogprobs> logprobs_;
    void collect_logprobs(const nlohmann::json& choice);
};

// The human message of an OpenAI-shaped error body ({"error": {"message": ...}} and the
// variants providers use); the quoted start of the body when it has no such shape.
std::string error_message_from_body(std::string_view body);

} // namespace moa::providers
