// SPDX-License-Identifier: MIT
#include "common/compact_notices.h"

#include <QEvent>
#include <QLabel>
#include <QLayout>
#include <QTextDocumentFragment>
#include <QWidget>

#include <algorithm>

namespace moa::ui {

namespace {
constexpr int kFullMargin = 4, kCompactMargin = 1;

QString plain(const QLabel* label) {
    return label->textFormat() == Qt::PlainText ? label->text() : QTextDocumentFragment::fromHtml(label->text()).toPlainText();
}
} // namespace

CompactNotices::CompactNotices(QObject* parent) : QObject(parent) {}

void CompactNotices::add(QWidget* frame, QLabel* text, const QList<QWidget*>& buttons) {
    notices_.push_back({frame, text, buttons});
    text->installEventFilter(this); // the tooltip says the text as it is when asked
    apply(notices_.back());
}

void CompactNotices::setCompact(bool compact) {
    if (compact_ == compact) return;
    compact_ = compact;
    for (const auto& n : std::as_const(notices_)) apply(n);
}

void CompactNotices::refresh() {
    if (compact_)
        for (const auto& n : std::as_const(notices_)) n.text->setToolTip(plain(n.text));
}

void CompactNotices::apply(const Notice& n) {
    const int line = n.text->fontMetrics().lineSpacing();
    // A wrapped label shows its first lines from the top; the rest is in the tooltip.
    n.text->setMaximumHeight(compact_ ? line : QWIDGETSIZE_MAX);
    n.text->setAlignment(compact_ ? Qt::AlignLeft | Qt::AlignTop : Qt::AlignLeft | Qt::AlignVCenter);
    n.text->setToolTip(compact_ ? plain(n.text) : QString());
    for (auto* b : n.buttons) b->setMaximumHeight(compact_ ? line + 6 : QWIDGETSIZE_MAX);
    if (auto* l = n.frame->layout()) {
        auto m = l->contentsMargins();
        m.setTop(compact_ ? kCompactMargin : kFullMargin);
        m.setBottom(compact_ ? kCompactMargin : kFullMargin);
        l->setContentsMargins(m);
    }
    n.frame->updateGeometry();
}

int CompactNotices::shownHeight() const {
    int h = 0;
    for (const auto& n : notices_)
        if (n.frame->isVisible()) h += n.frame->height();
    return h;
}

int CompactNotices::fullHeight() const {
    int h = 0;
    for (const auto& n : notices_) {
        if (!n.frame->isVisible()) continue;
        int buttons = 0;
        for (auto* b : n.buttons)
            if (b->isVisibleTo(n.frame)) buttons = std::max(buttons, b->sizeHint().height());
        h += std::max(n.text->heightForWidth(n.text->width()), buttons) + 2 * kFullMargin;
    }
    return h;
}

bool CompactNotices::eventFilter(QObject* watched, QEvent* e) {
    if (e->type() == QEvent::ToolTip)
        for (const auto& n : std::as_const(notices_))
            if (n.text == watched) n.text->setToolTip(compact_ ? plain(n.text) : QString());
    return QObject::eventFilter(watched, e);
}

} // namespace moa::ui
