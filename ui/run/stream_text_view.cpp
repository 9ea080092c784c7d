// SPDX-License-Identifier: MIT
#include "run/stream_text_view.h"

#include "run/bidi_marks.h"

#include <QMimeData>
#include <QScrollBar>
#include <QTextBlock>
#include <QTextCursor>

namespace moa::ui {

namespace {
constexpr int kContinuation = 1; // QTextBlock::userState of a block that continues the line before
} // namespace

StreamTextView::StreamTextView(QWidget* parent) : QPlainTextEdit(parent) {
    setReadOnly(true);
    setUndoRedoEnabled(false); // nothing to undo in a read-only view; an undo stack would grow with the text
}

void StreamTextView::appendStream(QStringView text) {
    if (text.isEmpty()) return;
    auto* sb = verticalScrollBar();
    const bool at_end = sb->value() == sb->maximum();
    QTextCursor c(document());
    c.movePosition(QTextCursor::End);
    c.beginEditBlock();
    qsizetype line_len = c.block().length() - 1; // characters already in the last display block
    while (!text.isEmpty()) {
        const qsizetype nl = text.indexOf(u'\n');
        const qsizetype seg = nl < 0 ? text.size() : nl; // characters before the next line break
        const qsizetype room = kMaxBlockChars - line_len;
        if (seg <= room) {
            // Fits (with its line break, if any) in the current display block.
            const qsizetype take = nl < 0 ? seg : seg + 1;
            bidi::insertMarked(c, text.first(take)); // a bidi control shown, not obeyed
            line_len = nl < 0 ? line_len + seg : 0;
            text = text.sliced(take);
            continue;
        }
        // An unbroken line past the limit: fill the block (up to a space near its end, when the
        // line has one there), then continue on a new display block.
        qsizetype cut = room;
        bool found = false;
        for (qsizetype i = room; i > 0 && i > room - kSlackChars && !found; --i)
            if (text[i - 1] == u' ') cut = i, found = true;
        for (qsizetype i = room + 1; i <= seg && i <= room + kSlackChars && !found; ++i) // or a little past it
            if (text[i - 1] == u' ') cut = i, found = true;
        if (cut > 0 && text[cut - 1].isHighSurrogate()) --cut; // never split a surrogate pair
        if (cut > 0) bidi::insertMarked(c, text.first(cut));
        text = text.sliced(cut);
        if (c.block().length() > 1) { // an empty block needs no continuation
            c.insertBlock();
            QTextBlock b = c.block();
            b.setUserState(kContinuation);
        }
        line_len = 0;
    }
    c.endEditBlock();
    if (at_end) sb->setValue(sb->maximum());
}

void StreamTextView::clearStream() { clear(); }

QString StreamTextView::slice(int from, int to) const {
    QString out;
    for (QTextBlock b = document()->findBlock(from); b.isValid() && b.position() <= to; b = b.next()) {
        if (b.position() > from && b.userState() != kContinuation) out += u'\n';
        const int start = std::max(from, b.position()) - b.position();
        const int end = std::min(to, b.position() + b.length() - 1) - b.position();
        if (end > start) out += bidi::originalText(b, start, end); // a mark back to its control
    }
    return out;
}

QString StreamTextView::text() const { return slice(0, document()->characterCount() - 1); }

QString StreamTextView::shownText() const {
    QString out;
    for (QTextBlock b = document()->begin(); b.isValid(); b = b.next()) {
        if (b != document()->begin() && b.userState() != kContinuation) out += u'\n';
        out += bidi::shownText(b);
    }
    return out;
}

int StreamTextView::continuationBlocks() const {
    int n = 0;
    for (QTextBlock b = document()->begin(); b.isValid(); b = b.next()) n += b.userState() == kContinuation;
    return n;
}

int StreamTextView::documentPosition(int text_index) const {
    // Each continuation block adds one position (its block break) that text() does not have.
    int extra = 0;
    for (QTextBlock b = document()->begin(); b.isValid(); b = b.next()) {
        if (b.userState() == kContinuation) ++extra;
        if (b.position() + b.length() - 1 >= text_index + extra) break;
    }
    return text_index + extra;
}

int StreamTextView::textIndex(int document_position) const {
    int extra = 0;
    for (QTextBlock b = document()->begin(); b.isValid() && b.position() <= document_position; b = b.next())
        if (b.userState() == kContinuation) ++extra;
    return std::max(0, document_position - extra);
}

QMimeData* StreamTextView::createMimeDataFromSelection() const {
    auto* data = new QMimeData;
    const QTextCursor c = textCursor();
    data->setText(slice(c.selectionStart(), c.selectionEnd()));
    return data;
}

} // namespace moa::ui
