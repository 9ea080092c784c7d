// SPDX-License-Identifier: MIT
#pragma once
// Unicode's bidirectional controls (U+202E and its kind, core/util/text.h) in model text make it
// read in another order than it is: "\u202Eevil" reads "live". The views show each one as a small
// marked "⟨U+202E⟩" instead of obeying it. The provenance measure's spans, the clicks and the
// highlights are offsets into the text, so the mark must not move them: a control stays one
// character of the document, an object character (U+FFFC, which reorders nothing) drawn as its
// name and carrying its code point, so text() and copying still give the text exactly.
#include <QString>
#include <QStringView>
#include <QTextFormat>

class QTextBlock;
class QTextCursor;
class QTextDocument;

namespace moa::ui::bidi {

constexpr int kObjectType = QTextFormat::UserObject + 12;  // a shown control
constexpr int kCodePoint = QTextFormat::UserProperty + 12; // the control it stands for

bool isControl(QChar c);
// "⟨U+202E⟩" (core's words, the same as --html and the terminal's).
QString name(QChar c);

// Inserts `text` at the cursor, each control as a mark (one character, like the control).
void insertMarked(QTextCursor& cursor, QStringView text);
// Replaces every control already in `doc` (a rendered Markdown document) by its mark; cheap
// when there is none. Returns how many were marked.
int markDocument(QTextDocument* doc);

// Characters [from, to) of a block (relative to the block), with each mark back to its control.
QString originalText(const QTextBlock& block, int from, int to);
// The character at a document position, a mark read as its control.
QChar originalAt(const QTextDocument& doc, int position);
// The whole document as it reads on screen: each mark as its name (for tests and copying notes).
QString shownText(const QTextDocument& doc);
QString shownText(const QTextBlock& block);

// Text for a plain label: each control replaced by its name (no positions to keep there).
QString named(const QString& text);
// Text for a rich-text (HTML) view: escaped, each control as a marked name.
QString htmlEscaped(const QString& text);

} // namespace moa::ui::bidi
