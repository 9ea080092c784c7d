// SPDX-License-Identifier: MIT
#pragma once
// One chat call of one agent, with its retries: the common face of the OpenAI-compatible
// client and the offline demo provider. Everything runs on the transport thread.
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "net/transport.h"
#include "providers/chat_types.h"

namespace moa::providers {

struct CallRequest {
    config::Provider provider;
    std::string model;
    std::vector<Message> messages;
    ChatParams params;
    // vLLM/SGLang: the trailing assistant message is continued, not answered (the body says
    // continue_final_message: true, add_generation_prompt: false).
    bool continue_final_message = false;
    std::string api_key; // resolved at run time from the environment or keychain; never stored
};

struct CallOutcome {
    bool ok = false;
    bool cancelled = false;
    std::string error;          // the reason, naming provider, model and HTTP status when failed
    long http_status = 0;       // last HTTP status seen (0 for none or the demo provider)
    std::string finish_reason;
    Usage usage;                // from the provider, else estimated (usage.estimated)
    int attempts = 0;
    std::vector<TokenLogprobs> logprobs; // the first positions, when requested and sent
    bool cached = false;                 // answered from the response cache: nothing was paid
};

struct CallEvents {
    std::function<void()> on_attempt;                                        // a request is sent
    std::function<void(std::string_view content, std::string_view reasoning)> on_delta;
    std::function<void(int next_attempt, long delay_ms, const std::string& why)> on_retry;
    std::function<void(const CallOutcome&)> on_done;                          // exactly once
};

class ChatCall {
public:
    virtual ~ChatCall() = default;
    // Stops the call and closes its connection; on_done follows with `cancelled`.
    virtual void cancel() = 0;
};

// Starts a call on `transport` with the client the provider's type asks for.
std::shared_ptr<ChatCall> start_chat_call(net::Transport& transport, CallRequest request, CallEvents events);

// The JSON body of a streaming chat-completions request.
std::string build_chat_body(const CallRequest& r, bool stream);

// The message for a TLS failure with `provider`: curl's reason and what the user can do.
std::string tls_failure_message(const config::Provider& provider, const std::string& reason);

// "redirect to HOST not followed (...)": redirects are never followed, so a key cannot be sent
// on to another address; the user sets base_url to the final address instead.
std::string redirect_message(const std::string& location);

// Usage estimated from the text when the provider reported none (about 4 bytes a token).
Usage estimate_usage(const std::vector<Message>& messages, std::string_view answer);

} // namespace moa::providers
