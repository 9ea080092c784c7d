// SPDX-License-Identifier: MIT
#include "run/timeline_view.h"

#include <QPainter>

namespace moa::ui {

TimelineView::TimelineView(QWidget* parent) : QWidget(parent) {
    setAccessibleName(tr("Timeline of the calls"));
    setMinimumHeight(80);
}

void TimelineView::prepare(const config::Config& c) {
    bars_.clear();
    for (std::size_t li = 0; li < c.layers.size(); ++li)
        for (std::size_t ai = 0; ai < c.layers[li].agents.size(); ++ai)
            bars_[{static_cast<int>(li), static_cast<int>(ai)}].label =
                QStringLiteral("L%1.%2 %3").arg(li + 1).arg(ai + 1).arg(QString::fromStdString(c.layers[li].agents[ai].model).section('/', -1));
    now_ = 0;
    running_ = false;
    setMinimumHeight(static_cast<int>(bars_.size()) * 14 + 30);
    update();
}

void TimelineView::apply(const std::vector<engine::Event>& batch) {
    using T = engine::Event::Type;
    for (const auto& e : batch) {
        now_ = std::max(now_, e.t_ms);
        auto it = bars_.find({e.layer, e.agent});
        switch (e.type) {
        case T::RunStarted: running_ = true; break;
        case T::AgentStarted:
            if (it != bars_.end()) it->second.start = e.t_ms, it->second.state = engine::AgentState::Waiting;
            break;
        case T::AgentDelta:
            if (it != bars_.end() && it->second.first_token < 0) it->second.first_token = e.t_ms, it->second.state = engine::AgentState::Streaming;
            break;
        case T::AgentDone:
        case T::AgentFailed:
            if (it != bars_.end() && e.record) it->second.end = e.t_ms, it->second.state = e.record->state;
            break;
        case T::RunDone:
        case T::RunFailed:
        case T::RunCancelled:
            running_ = false;
            if (e.final_record) showRecord(*e.final_record);
            break;
        default:
            break;
        }
    }
    update();
}

void TimelineView::showRecord(const engine::RunRecord& r) {
    for (const auto& L : r.layers)
        for (const auto& a : L.agents) {
            auto it = bars_.find({a.layer, a.index});
            if (it == bars_.end() || a.attempts == 0) continue;
            it->second.start = a.start_ms;
            it->second.end = a.end_ms > 0 ? a.end_ms : a.start_ms + a.duration_ms;
            it->second.first_token = a.ttft_ms ? a.start_ms + *a.ttft_ms : -1;
            it->second.state = a.state;
        }
    now_ = std::max(now_, r.totals.wall_ms);
    running_ = false;
    update();
}

void TimelineView::paintEvent(QPaintEvent*) {
    QPainter p(this);
    p.setRenderHint(QPainter::Antialiasing);
    const QPalette pal = palette();
    const int label_w = 170, row_h = 14, top = 4;
    const double span = std::max(now_, 1.0);
    const double w = std::max(10, width() - label_w - 10);
    QFont f = font();
    f.setPointSizeF(f.pointSizeF() * 0.8);
    p.setFont(f);
    int row = 0, last_layer = -1;
    for (const auto& [key, bar] : bars_) {
        const int y = top + row * row_h;
        if (key.first != last_layer && last_layer >= 0) {
            p.setPen(QPen(pal.color(QPalette::Mid), 0.5));
            p.drawLine(0, y - 1, width(), y - 1);
        }
        last_layer = key.first;
        p.setPen(pal.color(QPalette::Text));
        p.drawText(QRect(4, y, label_w - 8, row_h), Qt::AlignVCenter | Qt::AlignLeft,
                   QFontMetrics(f).elidedText(bar.label, Qt::ElideRight, label_w - 8));
        if (bar.start >= 0) {
            const double end = bar.end >= 0 ? bar.end : now_;
            QRectF r(label_w + bar.start / span * w, y + 2, std::max(2.0, (end - bar.start) / span * w), row_h - 4);
            using S = engine::AgentState;
            QColor c = bar.state == S::Failed || bar.state == S::Dropped ? QColor(0xD0, 0x3A, 0x3A)
                       : bar.state == S::Cancelled                        ? pal.color(QPalette::Mid)
                       : bar.end >= 0                                     ? QColor(0x3A, 0x7B, 0xD5)
                                                                          : QColor(0x2E, 0x9E, 0x5B);
            p.fillRect(r, c);
            if (bar.first_token >= 0) {
                // Waiting for the first token is drawn lighter.
                QRectF wait(r.left(), r.top(), std::min(r.width(), (bar.first_token - bar.start) / span * w), r.height());
                p.fillRect(wait, pal.color(QPalette::Base));
                p.fillRect(wait, QColor(c.red(), c.green(), c.blue(), 90));
            }
        }
        ++row;
    }
    p.setPen(pal.color(QPalette::PlaceholderText));
    p.drawText(QRect(label_w, top + row * row_h, static_cast<int>(w), 14), Qt::AlignRight,
               tr("%1 s%2").arg(span / 1000.0, 0, 'f', 2).arg(running_ ? tr(" · running") : QString()));
}

} // namespace moa::ui
