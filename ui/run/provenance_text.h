// SPDX-License-Identifier: MIT
#pragma once
// The words and colours every view uses for the provenance measure (core/eval/provenance.h):
// "x% of B comes from A". One phrasing, so the node, the edge, the pane, the tooltips, Compare
// answers and the walkthrough say the same thing with the same number.
#include <QColor>
#include <QString>

#include <string>
#include <vector>

namespace moa::ui {

// "42%" (rounded to a whole percent, as the HTML page does).
QString percent_text(double share);
// "L2.1": layer and agent, 1-based.
QString agent_name(int layer, int index);
// "42% of L2.1 comes from L1.3"
QString comes_from_text(double share, const QString& b, const QString& a);
// "42% of the final answer comes from this answer"
QString final_share_text(double share);
// What the share measures, for tooltips.
QString measure_explanation();
// What "ignored" means, for tooltips.
QString ignored_explanation();
// The colour of agent `index` of a layer as a source (the same as the HTML page's).
QColor source_colour(int index);

// Positions in a UTF-8 text and in the QString made from it: the measure's spans are byte
// offsets, the views index UTF-16 code units.
class Utf16Map {
public:
    explicit Utf16Map(const std::string& utf8);
    int toUtf16(std::size_t byte) const;
    std::size_t toByte(int utf16) const;

private:
    std::vector<int> at_byte_;           // UTF-16 index of each byte (and of the end)
    std::vector<std::size_t> at_utf16_;  // byte offset of each UTF-16 unit (and of the end)
};

} // namespace moa::ui
