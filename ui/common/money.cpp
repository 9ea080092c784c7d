// SPDX-License-Identifier: MIT
#include "common/money.h"

#include <QObject>
#include <cmath>

namespace moa::ui {

QString format_money(const std::optional<double>& usd) {
    if (!usd || !std::isfinite(*usd)) return QObject::tr("$?");
    const double v = std::abs(*usd);
    const QString sign = *usd < 0 ? QStringLiteral("-") : QString();
    if (v == 0) return QStringLiteral("$0");
    if (v < 0.0001) return sign + QStringLiteral("<$0.0001");
    if (v >= 0.01) return sign + QStringLiteral("$%1").arg(v, 0, 'f', 2);
    // Below a cent: two significant digits, trailing zeros dropped ($0.0012, $0.003).
    const int decimals = std::min(4, 1 - static_cast<int>(std::floor(std::log10(v))));
    QString s = QString::number(v, 'f', decimals);
    while (s.endsWith('0')) s.chop(1);
    return sign + "$" + s;
}

} // namespace moa::ui
