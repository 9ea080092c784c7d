// SPDX-License-Identifier: MIT
#include "common/money.h"

#include <QObject>
#include <cmath>

#include "accounting/money.h"

namespace moa::ui {

QString format_money(const std::optional<double>& usd) {
    if (!usd || !std::isfinite(*usd)) return QObject::tr("$?");
    return QString::fromStdString(accounting::format_usd(*usd)); // one formatter for the window and the CLI
}

QString cost_text(bool complete, const std::optional<double>& usd) {
    if (complete) return format_money(usd);
    if (!usd || !(*usd > 0)) return QObject::tr("cost unknown");
    return QObject::tr("≥ %1").arg(format_money(usd));
}

} // namespace moa::ui
