// SPDX-License-Identifier: MIT
#include "accounting/money.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace moa::accounting {

std::string format_usd(double usd) {
    if (!std::isfinite(usd)) return "$?";
    const double v = std::abs(usd);
    const std::string sign = usd < 0 ? "-" : "";
    if (v == 0) return "$0";
    if (v < 0.0001) return sign + "<$0.0001";
    char buf[64];
    if (v >= 0.01) {
        std::snprintf(buf, sizeof buf, "%.2f", v);
        return sign + "$" + buf;
    }
    // Below a cent: two significant digits, trailing zeros dropped ($0.0012, $0.003).
    const int decimals = std::min(4, 1 - static_cast<int>(std::floor(std::log10(v))));
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    std::string s = buf;
    while (!s.empty() && s.back() == '0') s.pop_back();
    return sign + "$" + s;
}

} // namespace moa::accounting
