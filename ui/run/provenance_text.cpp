// SPDX-License-Identifier: MIT
#include "run/provenance_text.h"

#include <QObject>

#include <cmath>

#include "engine/run_html.h"
#include "eval/provenance.h"

namespace moa::ui {

QString percent_text(double share) { return QStringLiteral("%1%").arg(std::lround(share * 100)); }

QString agent_name(int layer, int index) { return QStringLiteral("L%1.%2").arg(layer + 1).arg(index + 1); }

QString comes_from_text(double share, const QString& b, const QString& a) {
    return QObject::tr("%1 of %2 comes from %3").arg(percent_text(share), b, a);
}

QString final_share_text(double share) { return QObject::tr("%1 of the final answer comes from this answer").arg(percent_text(share)); }

QString measure_explanation() {
    return QObject::tr("\"x% of B comes from A\" is the share of B's words found in A: a sentence of B counts whole when A has a "
                       "sentence with at least %1% of the same words (wherever it stands in A); otherwise only B's words in a "
                       "run of %2 consecutive words that A also has count. Each source is measured alone, so the shares of one "
                       "answer can add up to more than 100%.")
        .arg(std::lround(eval::kSentenceMatch * 100))
        .arg(eval::kRun);
}

QString ignored_explanation() {
    return QObject::tr("Ignored: every answer of the next layer takes less than %1% of its words from this one.")
        .arg(std::lround(eval::kIgnored * 100));
}

QColor source_colour(int index) { return QColor(QString::fromLatin1(engine::agent_colour(static_cast<std::size_t>(std::max(0, index))))); }

Utf16Map::Utf16Map(const std::string& utf8) {
    at_byte_.resize(utf8.size() + 1);
    at_utf16_.reserve(utf8.size() + 1);
    int u = 0;
    std::size_t i = 0;
    while (i < utf8.size()) {
        const auto c = static_cast<unsigned char>(utf8[i]);
        // QString::fromStdString turns each malformed byte into one U+FFFD; a well-formed
        // sequence of 4 bytes into a surrogate pair.
        // Well-formed sequences only (Unicode table 3-7: no overlong forms, no surrogates, nothing
        // past U+10FFFF); anything else is one unit per byte.
        std::size_t len = c < 0x80 ? 1 : (c >= 0xC2 && c <= 0xDF) ? 2 : (c >= 0xE0 && c <= 0xEF) ? 3 : (c >= 0xF0 && c <= 0xF4) ? 4 : 1;
        if (i + len > utf8.size()) len = 1;
        for (std::size_t k = 1; k < len; ++k)
            if ((static_cast<unsigned char>(utf8[i + k]) & 0xC0) != 0x80) len = 1;
        if (len > 2) {
            const auto c1 = static_cast<unsigned char>(utf8[i + 1]);
            if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 > 0x9F) || (c == 0xF0 && c1 < 0x90) || (c == 0xF4 && c1 > 0x8F)) len = 1;
        }
        const int units = len == 4 ? 2 : 1;
        for (std::size_t k = 0; k < len; ++k) at_byte_[i + k] = u;
        for (int k = 0; k < units; ++k) at_utf16_.push_back(i);
        u += units;
        i += len;
    }
    at_byte_[utf8.size()] = u;
    at_utf16_.push_back(utf8.size());
}

int Utf16Map::toUtf16(std::size_t byte) const { return at_byte_[std::min(byte, at_byte_.size() - 1)]; }

std::size_t Utf16Map::toByte(int utf16) const {
    return at_utf16_[static_cast<std::size_t>(std::clamp(utf16, 0, static_cast<int>(at_utf16_.size()) - 1))];
}

} // namespace moa::ui
