// SPDX-License-Identifier: MIT
#pragma once
// Money as the UI shows it, everywhere: "$1.23", "$0.0012", "<$0.0001", "$0" — two significant
// digits below a cent, never a row of zeros such as "$0.00000". "$?" when the price is unknown.
#include <QString>
#include <optional>

namespace moa::ui {

QString format_money(const std::optional<double>& usd);

} // namespace moa::ui
