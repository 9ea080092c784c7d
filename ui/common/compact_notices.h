// SPDX-License-Identifier: MIT
#pragma once
// The notices above the graph (the demo banner, a warning before a run, crash recovery) at full
// length, or, when the centre is short of room (1024×700 with two of them), a line each: the
// first line of the text in view, all of it in the label's tooltip, the buttons slim. The graph and
// the run's panes keep their rows; nothing said is lost.
#include <QList>
#include <QObject>

class QLabel;
class QWidget;

namespace moa::ui {

class CompactNotices : public QObject {
    Q_OBJECT
public:
    explicit CompactNotices(QObject* parent = nullptr);
    // A notice: its frame (shown or hidden by its owner), its text, its buttons.
    void add(QWidget* frame, QLabel* text, const QList<QWidget*>& buttons);
    void setCompact(bool compact);
    bool isCompact() const { return compact_; }
    // The texts changed: the tooltips of shortened notices follow.
    void refresh();
    // The height the visible notices take now, and would take at full length (at their widths).
    int shownHeight() const;
    int fullHeight() const;

protected:
    bool eventFilter(QObject* watched, QEvent* e) override;

private:
    struct Notice {
        QWidget* frame;
        QLabel* text;
        QList<QWidget*> buttons;
    };
    void apply(const Notice& n);
    QList<Notice> notices_;
    bool compact_ = false;
};

} // namespace moa::ui
