// SPDX-License-Identifier: MIT
#include "common/latency.h"

#include <QCoreApplication>

namespace moa::ui {

QString first_token_text(const engine::Totals& t) {
    if (!t.ttft_ms) return QCoreApplication::translate("moa::ui", "no first token");
    const double s = *t.ttft_ms / 1000.0;
    return QCoreApplication::translate("moa::ui", "first token %1 s").arg(s, 0, 'f', s < 10 ? 2 : 1);
}

QString steps_text(std::size_t steps) {
    return steps == 1 ? QCoreApplication::translate("moa::ui", "1 step")
                      : QCoreApplication::translate("moa::ui", "%1 steps").arg(steps);
}

} // namespace moa::ui
