// SPDX-License-Identifier: MIT
#pragma once
// Positions in a rendered Markdown document and in the Markdown text it was rendered from. The
// provenance measure's sentence spans are offsets into the answer's raw text, but the final
// answer is shown rendered (headings, list markers, emphasis, link targets and code fences
// gone): a click there must name the same sentence as a click in the aggregator's own pane.
// Qt's Markdown reader keeps no source positions, so the rendered characters are aligned with
// the text: the rendered text is the source with markup removed (plus decoded entities), so each
// rendered character is matched with the next equal character of the source that can be shown
// (link targets and code fence lines are not).
#include <QString>

#include <vector>

class QTextDocument;

namespace moa::ui {

class RenderedTextMap {
public:
    RenderedTextMap() = default;
    RenderedTextMap(const QString& source, const QTextDocument& rendered);
    bool isEmpty() const { return source_of_.empty(); }
    // The index into the source of the character at a document position (for a space, a list
    // marker or a block break: the source index where the next character is looked for).
    int toSource(int document_position) const;
    // The first document position whose character comes from `source_index` or later (where a
    // span of the source starts in the document).
    int toDocument(int source_index) const;
    // Just after the last document character that comes from before `source_index` (where a
    // span of the source ending there ends in the document: no trailing space or block break).
    int toDocumentEnd(int source_index) const;

    // How far ahead a rendered character is looked for (the longest link target skipped).
    static constexpr int kLookAhead = 4096;

private:
    std::vector<int> source_of_; // per document position, non-decreasing
    std::vector<bool> real_;     // per document position: a character of the source (not layout)
};

} // namespace moa::ui
