// SPDX-License-Identifier: MIT
#include "common/plural.h"

namespace moa::ui {

QString plural(qint64 n, const QString& one, const QString& many) { return n == 1 ? one : many; }

QString count_text(qint64 n, const QString& one, const QString& many) { return QString::number(n) + u' ' + plural(n, one, many); }

} // namespace moa::ui
