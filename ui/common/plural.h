// SPDX-License-Identifier: MIT
#pragma once
// A count with its noun in the right number, everywhere on screen: "1 provider", "2 providers",
// "0 calls" — never "1 provider(s)" or "1 calls".
#include <QString>

namespace moa::ui {

// "1 call" / "3 calls": `n`, a space, then `one` when n is 1, else `many`.
QString count_text(qint64 n, const QString& one, const QString& many);
// Only the noun: `one` when n is 1, else `many` (for "the other agent calls" / "the other 2 agents call").
QString plural(qint64 n, const QString& one, const QString& many);

} // namespace moa::ui
