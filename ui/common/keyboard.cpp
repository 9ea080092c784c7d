// SPDX-License-Identifier: MIT
#include "common/keyboard.h"

#include <QCoreApplication>
#include <QKeyEvent>
#include <QPlainTextEdit>

namespace moa::ui {

namespace {
// Ctrl+Tab becomes a plain Tab (Ctrl+Shift+Tab a Backtab), which the field hands to focus.
class CtrlTabLeaves : public QObject {
public:
    using QObject::QObject;
    bool eventFilter(QObject* o, QEvent* e) override {
        if (e->type() != QEvent::KeyPress && e->type() != QEvent::ShortcutOverride) return false;
        auto* k = static_cast<QKeyEvent*>(e);
        if (!(k->modifiers() & Qt::ControlModifier) || (k->key() != Qt::Key_Tab && k->key() != Qt::Key_Backtab)) return false;
        if (e->type() == QEvent::ShortcutOverride) {
            e->accept(); // ours, not a window shortcut's
            return true;
        }
        const bool back = k->key() == Qt::Key_Backtab || (k->modifiers() & Qt::ShiftModifier);
        QKeyEvent plain(QEvent::KeyPress, back ? Qt::Key_Backtab : Qt::Key_Tab, back ? Qt::ShiftModifier : Qt::NoModifier);
        QCoreApplication::sendEvent(o, &plain);
        return true;
    }
};
} // namespace

void tab_moves_focus(QPlainTextEdit* edit) {
    edit->setTabChangesFocus(true);
    edit->installEventFilter(new CtrlTabLeaves(edit));
}

QString focus_style_sheet() {
    return QStringLiteral("QPlainTextEdit:focus, QTextEdit:focus, QLineEdit:focus, QAbstractItemView:focus, QGraphicsView:focus "
                          "{ border: 2px solid palette(highlight); }");
}

} // namespace moa::ui
