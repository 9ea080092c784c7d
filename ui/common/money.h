// SPDX-License-Identifier: MIT
#pragma once
// Money as the UI shows it, everywhere: "$1.23", "$0.0012", "<$0.0001", "$0" — two significant
// digits below a cent, never a row of zeros such as "$0.00000". "$?" when the price is unknown.
#include <QString>
#include <optional>

namespace moa::ui {

QString format_money(const std::optional<double>& usd);

// A run's or a configuration's cost as the run view says it: "cost unknown" when nothing of it has
// a price (never "$0": that would read as free), "≥ $0.012" when only part of it has one (the
// known part is a lower bound), else the amount.
QString cost_text(bool complete, const std::optional<double>& usd);

} // namespace moa::ui
