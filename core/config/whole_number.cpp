// SPDX-License-Identifier: MIT
#include "config/whole_number.h"

#include <cmath>

#include <nlohmann/json.hpp>

namespace moa::config {

bool is_whole_number(const nlohmann::json& v) {
    if (v.is_number_integer()) return true;
    if (!v.is_number()) return false;
    const double d = v.get<double>();
    return std::isfinite(d) && std::floor(d) == d;
}

} // namespace moa::config
