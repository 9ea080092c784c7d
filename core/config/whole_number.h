// SPDX-License-Identifier: MIT
#pragma once
// The one rule for a whole-number field in JSON that a person or a client wrote: configuration
// files and `moa serve` requests read 1e2 and 64.0 as the whole numbers 100 and 64, and call
// only a value with a fractional part a fraction.
#include <nlohmann/json_fwd.hpp>

namespace moa::config {

// A number whose value is whole however it is written (an integer, 1e2, 64.0); false for
// anything else, fractions, infinities and non-numbers included.
bool is_whole_number(const nlohmann::json& v);

// The range of max_tokens, in a configuration and in a serve request.
constexpr double kMinMaxTokens = 1;
constexpr double kMaxMaxTokens = 10'000'000;

} // namespace moa::config
