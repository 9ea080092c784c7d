// SPDX-License-Identifier: MIT
#pragma once
// SHA-256 (FIPS 180-4), for content keys of the response cache.
#include <string>
#include <string_view>

namespace moa::util {

// Lower-case hex digest of `data`.
std::string sha256_hex(std::string_view data);

} // namespace moa::util
