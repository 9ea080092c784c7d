// SPDX-License-Identifier: MIT
#include "run/bidi_marks.h"

#include <QAbstractTextDocumentLayout>
#include <QFontMetricsF>
#include <QPainter>
#include <QTextBlock>
#include <QTextCursor>
#include <QTextDocument>
#include <QTextObjectInterface>

#include "util/text.h"

namespace moa::ui::bidi {

namespace {

// Draws a mark: the control's name in a smaller font, in a thin box, so it reads as a sign
// placed there by the program, not as text the model wrote.
class MarkDrawer : public QObject, public QTextObjectInterface {
    Q_OBJECT
    Q_INTERFACES(QTextObjectInterface)
public:
    using QObject::QObject;
    QSizeF intrinsicSize(QTextDocument* doc, int, const QTextFormat& format) override {
        const QFontMetricsF big(font(doc, format, false)), small(font(doc, format, true));
        return {small.horizontalAdvance(label(format)) + 6,
                big.ascent()}; // on the baseline: the line keeps its height
    }
    void drawObject(QPainter* painter, const QRectF& rect, QTextDocument* doc, int,
                    const QTextFormat& format) override {
        painter->save();
        painter->setRenderHint(QPainter::Antialiasing);
        painter->setPen(QColor(0xB0, 0x40, 0x40));
        painter->setBrush(QColor(0xB0, 0x40, 0x40, 30));
        painter->drawRoundedRect(rect.adjusted(0.5, 0.5, -0.5, -0.5), 2, 2);
        painter->setFont(font(doc, format, true));
        painter->drawText(rect, Qt::AlignCenter, label(format));
        painter->restore();
    }

private:
    static QString label(const QTextFormat& format) {
        return name(QChar(static_cast<char16_t>(format.intProperty(kCodePoint))));
    }
    static QFont font(QTextDocument* doc, const QTextFormat& format, bool small) {
        QFont f = format.toCharFormat().font().resolve(doc->defaultFont());
        if (small) f.setPointSizeF(f.pointSizeF() > 0 ? f.pointSizeF() * 0.75 : 8);
        return f;
    }
};

void install(QTextDocument* doc) {
    auto* layout = doc->documentLayout();
    if (!layout->handlerForObject(kObjectType))
        layout->registerHandler(kObjectType, new MarkDrawer(doc));
}

QTextCharFormat markFormat(QChar c, QTextCharFormat base) {
    base.setObjectType(kObjectType);
    base.setProperty(kCodePoint, static_cast<int>(c.unicode()));
    base.setToolTip(QObject::tr("%1: a bidirectional control character in the text, shown, not "
                                "obeyed (it would make the text "
                                "read in another order than it is)")
                        .arg(name(c)));
    return base;
}

bool isMark(const QTextCharFormat& f) {
    return f.objectType() == kObjectType && f.hasProperty(kCodePoint);
}

} // namespace

bool isControl(QChar c) {
    return text::bidi_control(c.unicode());
}

QString name(QChar c) {
    return QString::fromStdString(text::bidi_control_name(c.unicode()));
}

void insertMarked(QTextCursor& cursor, QStringView text) {
    qsizetype from = 0;
    for (qsizetype i = 0; i < text.size(); ++i) {
        if (!isControl(text[i])) continue;
        if (i > from) cursor.insertText(text.mid(from, i - from).toString(), QTextCharFormat());
        install(cursor.document());
        cursor.insertText(QString(QChar::ObjectReplacementCharacter),
                          markFormat(text[i], QTextCharFormat()));
        from = i + 1;
    }
    if (from == 0)
        cursor.insertText(text.toString(), QTextCharFormat());
    else if (from < text.size())
        cursor.insertText(text.mid(from).toString(), QTextCharFormat());
}

int markDocument(QTextDocument* doc) {
    int n = 0;
    for (QTextBlock b = doc->begin(); b.isValid(); b = b.next()) {
        const QString t = b.text();
        for (qsizetype i = 0; i < t.size(); ++i) {
            if (!isControl(t[i])) continue;
            install(doc);
            QTextCursor c(doc);
            c.setPosition(b.position() + static_cast<int>(i));
            c.setPosition(b.position() + static_cast<int>(i) + 1, QTextCursor::KeepAnchor);
            // Its own format kept (a mark in a heading or a link is drawn in that font).
            c.insertText(QString(QChar::ObjectReplacementCharacter),
                         markFormat(t[i], c.charFormat()));
            ++n;
        }
    }
    return n;
}

QString originalText(const QTextBlock& block, int from, int to) {
    QString t = block.text().mid(from, to - from);
    if (!t.contains(QChar::ObjectReplacementCharacter)) return t;
    for (auto it = block.begin(); !it.atEnd(); ++it) {
        const QTextFragment f = it.fragment();
        if (!isMark(f.charFormat())) continue;
        const QChar c(static_cast<char16_t>(f.charFormat().intProperty(kCodePoint)));
        for (int k = 0; k < f.length(); ++k) {
            const int at = f.position() - block.position() + k - from;
            if (at >= 0 && at < t.size()) t[at] = c;
        }
    }
    return t;
}

QChar originalAt(const QTextDocument& doc, int position) {
    const QChar c = doc.characterAt(position);
    if (c != QChar::ObjectReplacementCharacter) return c;
    const QTextBlock b = doc.findBlock(position);
    const QString t = originalText(b, position - b.position(), position - b.position() + 1);
    return t.isEmpty() ? c : t.front();
}

QString shownText(const QTextBlock& block) {
    QString out;
    const bool drawn =
        block.document() && block.document()->documentLayout()->handlerForObject(kObjectType);
    for (auto it = block.begin(); !it.atEnd(); ++it) {
        const QTextFragment f = it.fragment();
        if (drawn && isMark(f.charFormat()))
            for (int k = 0; k < f.length(); ++k)
                out += name(QChar(static_cast<char16_t>(f.charFormat().intProperty(kCodePoint))));
        else
            out += f.text();
    }
    return out;
}

QString shownText(const QTextDocument& doc) {
    QString out;
    for (QTextBlock b = doc.begin(); b.isValid(); b = b.next()) {
        if (b != doc.begin()) out += u'\n';
        out += shownText(b);
    }
    return out;
}

QString named(const QString& text) {
    QString out;
    qsizetype from = 0;
    for (qsizetype i = 0; i < text.size(); ++i) {
        if (!isControl(text[i])) continue;
        out += text.mid(from, i - from) + name(text[i]);
        from = i + 1;
    }
    return from == 0 ? text : out + text.mid(from);
}

QString htmlEscaped(const QString& text) {
    QString out;
    qsizetype from = 0;
    for (qsizetype i = 0; i < text.size(); ++i) {
        if (!isControl(text[i])) continue;
        out += text.mid(from, i - from).toHtmlEscaped();
        out += QStringLiteral(
                   "<span style='color:#B04040; border:1px solid #B04040' title='%1'>%2</span>")
                   .arg(QObject::tr("a bidirectional control character, shown, not obeyed"),
                        name(text[i]));
        from = i + 1;
    }
    return from == 0 ? text.toHtmlEscaped() : out + text.mid(from).toHtmlEscaped();
}

} // namespace moa::ui::bidi

#include "bidi_marks.moc"
