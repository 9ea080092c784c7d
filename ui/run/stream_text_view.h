// SPDX-License-Identifier: MIT
#pragma once
// A read-only plain-text view for streamed, untrusted text. Qt lays out a paragraph as a whole,
// so appending to one paragraph costs time in proportion to its length: a model (or a hostile
// server) that streams megabytes without a line break would make every frame slower than the
// last. This view therefore starts a new display block every kMaxBlockChars characters of an
// unbroken line (at a space within kSlackChars of the limit when there is one) and marks it as a
// continuation,
// so the work per append stays bounded; text() and copying give the text exactly as it came,
// without those display breaks. Bidirectional controls are shown as marks, one character each
// (run/bidi_marks.h), so positions stay those of the text.
#include <QPlainTextEdit>

namespace moa::ui {

class StreamTextView : public QPlainTextEdit {
    Q_OBJECT
public:
    static constexpr int kMaxBlockChars = 4096;
    static constexpr int kSlackChars = 256; // how far before or after the limit a space is looked for

    explicit StreamTextView(QWidget* parent = nullptr);
    // Appends at the end, following the stream unless the user scrolled up.
    void appendStream(QStringView text);
    void clearStream();
    // The text exactly as appended (display breaks removed).
    QString text() const;
    // The text as it reads on screen: each bidirectional control as its mark "⟨U+202E⟩"
    // (run/bidi_marks.h), display breaks removed.
    QString shownText() const;
    // Display blocks that continue the previous line (for tests).
    int continuationBlocks() const;
    // Between an index into text() and a position in the document (which has a block break
    // wherever a long line was continued): for highlighting spans of the text.
    int documentPosition(int text_index) const;
    int textIndex(int document_position) const;
    QMimeData* createMimeDataFromSelectionForTest() const { return createMimeDataFromSelection(); }

protected:
    QMimeData* createMimeDataFromSelection() const override;

private:
    QString slice(int from, int to) const;
};

} // namespace moa::ui
