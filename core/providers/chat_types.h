// SPDX-License-Identifier: MIT
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace moa::providers {

struct Message {
    std::string role; // "system", "user" or "assistant"
    std::string content;
    // A trailing assistant message the model continues rather than answers (DeepSeek's and
    // Mistral's "prefix": true); staircase streaming's assistant_prefix continuation.
    bool prefix = false;
    bool operator==(const Message&) const = default;
};

struct Usage {
    long prompt_tokens = 0;
    long completion_tokens = 0;
    bool estimated = false; // true when the provider sent no usage and we counted ourselves
    std::string refused;    // why the provider's usage was not believed (then estimated), or empty
};

// Sampling settings of one call; unset ones are left to the provider.
struct ChatParams {
    std::optional<double> temperature;
    std::optional<double> top_p;
    std::optional<long> max_tokens;
    std::optional<std::int64_t> seed;
    // Ask for the log-probabilities of the `top_logprobs` most likely tokens at each position
    // (a judge weighs its verdict with them). Unset: not requested.
    std::optional<int> top_logprobs;
    bool operator==(const ChatParams&) const = default;
};

// The alternatives a provider reported for one position of the answer.
struct TokenLogprobs {
    std::string token;
    double logprob = 0;
    std::vector<std::pair<std::string, double>> top; // token, logprob
};

} // namespace moa::providers
