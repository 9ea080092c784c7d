// SPDX-License-Identifier: MIT
#include "run/timeline_view.h"

#include "common/latency.h"

#include <QHelpEvent>
#include <QPainter>
#include <QScrollArea>
#include <QScrollBar>
#include <QToolTip>

#include <algorithm>
#include <cmath>

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
    followed_layer_ = -1;
    setMinimumHeight(static_cast<int>(bars_.size()) * kRowHeight + kLegendHeight + kAxisHeight + 8);
    update();
}

void TimelineView::apply(const std::vector<engine::Event>& batch) {
    using T = engine::Event::Type;
    for (const auto& e : batch) {
        now_ = std::max(now_, e.t_ms);
        auto it = bars_.find({e.layer, e.agent});
        if ((e.type == T::AgentStarted || e.type == T::AgentStep) && it != bars_.end() && e.layer > followed_layer_) follow(e.layer);
        switch (e.type) {
        case T::RunStarted: running_ = true; break;
        case T::AgentStarted:
            if (it != bars_.end()) {
                // A staircase agent's first step may be announced before its call's first attempt.
                Bar& b = it->second;
                b.start = b.steps.empty() ? e.t_ms : std::min(e.t_ms, b.steps.front().start);
                b.state = engine::AgentState::Waiting;
            }
            break;
        case T::AgentDelta:
            if (it != bars_.end()) {
                Bar& b = it->second;
                if (b.first_token < 0) b.first_token = e.t_ms, b.state = engine::AgentState::Streaming;
                // The step under way shows text: its first token came by now. (A step's first
                // tokens may be held back to remove a repeat; its AgentStepDone brings the exact time.)
                if (!b.steps.empty() && b.steps.back().end < 0 && b.steps.back().first_token < 0 && !e.text.empty())
                    b.steps.back().first_token = e.t_ms;
            }
            break;
        case T::AgentStep:
        case T::AgentStepDone:
            // Staircase streaming: each step's bar from its start, growing until it ends.
            if (it != bars_.end() && e.step >= 0 && e.step_record) {
                Bar& b = it->second;
                const auto& st = *e.step_record;
                if (b.steps.size() <= static_cast<std::size_t>(e.step)) b.steps.resize(static_cast<std::size_t>(e.step) + 1);
                if (e.type == T::AgentStep) b.steps[static_cast<std::size_t>(e.step)] = {st.start_ms, -1, -1};
                else b.steps[static_cast<std::size_t>(e.step)] = {st.start_ms, st.ttft_ms ? st.start_ms + *st.ttft_ms : -1, st.end_ms};
                b.start = b.start < 0 ? st.start_ms : std::min(b.start, st.start_ms);
                if (b.state == engine::AgentState::Queued) b.state = engine::AgentState::Waiting;
            }
            break;
        case T::AgentDone:
        case T::AgentFailed:
            if (it != bars_.end() && e.record) {
                it->second.end = e.t_ms;
                it->second.state = e.record->state;
                it->second.reason = QString::fromStdString(e.record->error.value_or(""));
                // The steps are known once the agent is over (each with its recorded times).
                it->second.steps.clear();
                for (const auto& st : e.record->steps)
                    it->second.steps.push_back({st.start_ms, st.ttft_ms ? st.start_ms + *st.ttft_ms : -1,
                                                st.end_ms > 0 ? st.end_ms : e.t_ms});
            }
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
            takeRecord(it->second, a);
        }
    now_ = std::max(now_, r.totals.wall_ms);
    running_ = false;
    update();
}

void TimelineView::takeRecord(Bar& b, const engine::AgentRecord& a) {
    b.start = a.start_ms;
    b.end = a.end_ms > 0 ? a.end_ms : a.start_ms + a.duration_ms;
    b.first_token = a.ttft_ms ? a.start_ms + *a.ttft_ms : -1;
    b.state = a.state;
    b.reason = QString::fromStdString(a.error.value_or(""));
    b.steps.clear();
    for (const auto& st : a.steps)
        b.steps.push_back({st.start_ms, st.ttft_ms ? st.start_ms + *st.ttft_ms : -1,
                           st.end_ms > 0 ? st.end_ms : st.start_ms + st.duration_ms});
}

double TimelineView::tickStep(double span_ms, int max_ticks) {
    // 1, 2 or 5 times a power of ten, the smallest giving at most max_ticks ticks.
    const double raw = span_ms / std::max(1, max_ticks);
    const double p = std::pow(10.0, std::floor(std::log10(std::max(raw, 1e-3))));
    for (double m : {1.0, 2.0, 5.0, 10.0})
        if (m * p >= raw) return m * p;
    return 10 * p;
}

QString TimelineView::tickLabel(double ms, double step_ms) {
    // The step is 1, 2 or 5 × 10^k: as many decimals as its own, and the labels differ.
    const auto decimals = [](double step) { return step >= 1 ? 0 : static_cast<int>(std::ceil(-std::log10(step) - 1e-9)); };
    if (step_ms < 100) return tr("%1 ms").arg(ms, 0, 'f', decimals(step_ms));
    return tr("%1 s").arg(ms / 1000.0, 0, 'f', decimals(step_ms / 1000.0));
}

std::vector<double> TimelineView::ticks() const {
    const double step = tickStep(span(), std::max(2, static_cast<int>(barsWidth() / 70)));
    std::vector<double> t;
    for (double x = 0; x <= span() + 1e-9; x += step) t.push_back(x);
    return t;
}

// At 1024×700 the timeline shows three rows while running: the rows of the layer just started
// (the last ones during a staircase run, L2 and L3 working at once) are scrolled into view.
QScrollArea* TimelineView::scrollArea() const {
    QScrollArea* area = nullptr;
    for (QWidget* w = parentWidget(); w && !area; w = w->parentWidget()) area = qobject_cast<QScrollArea*>(w);
    return area && area->widget() == this ? area : nullptr;
}

QRect TimelineView::shownArea() const {
    const auto* area = scrollArea();
    if (!area) return rect();
    return QRect(mapFrom(area->viewport(), QPoint(0, 0)), area->viewport()->size()).intersected(rect());
}

QRect TimelineView::legendRect() const {
    const QRect v = shownArea();
    return {v.left(), v.top(), v.width(), kLegendHeight + 4};
}

QRect TimelineView::axisLabelsRect() const {
    // Right below the rows, or at the bottom of the view when the rows go on below it.
    const QRect v = shownArea();
    const int y = std::min(rowsBottom() + 2, v.bottom() + 1 - kAxisHeight);
    return {v.left(), std::max(v.top() + kLegendHeight + 4, y), v.width(), kAxisHeight};
}

QRect TimelineView::emptyTextRect() const {
    // Centred in the view below the legend, whole (it was drawn half cut at the top).
    const QRect v = shownArea();
    QFont f = font();
    f.setPointSizeF(std::max(8.0, f.pointSizeF() * 0.8));
    const QFontMetrics fm(f);
    const QRect room(kLabelWidth, v.top() + kLegendHeight + 4, std::max(10, v.width() - kLabelWidth - 10),
                     std::max(fm.height(), v.height() - kLegendHeight - 4));
    const QRect text = fm.boundingRect(QRect(0, 0, room.width(), 10000), Qt::AlignHCenter | Qt::TextWordWrap, emptyText());
    const int h = std::min(text.height(), room.height());
    return {room.left(), room.top() + (room.height() - h) / 2, room.width(), h};
}

void TimelineView::follow(int layer) {
    followed_layer_ = layer;
    QScrollArea* area = scrollArea();
    if (!area) return;
    int first = -1, last = -1, row = 0;
    for (const auto& entry : bars_) {
        if (entry.first.first == layer) {
            if (first < 0) first = row;
            last = row;
        }
        ++row;
    }
    if (first < 0) return;
    const int top = kLegendHeight + 4;
    // Its last row, then its first (the first wins when the layer is taller than the view); the
    // legend and the axis are drawn over the view's top and bottom, so the rows keep clear of them.
    area->ensureVisible(kLabelWidth, top + (last + 1) * kRowHeight, 0, kAxisHeight + 2);
    area->ensureVisible(kLabelWidth, top + first * kRowHeight, 0, top + 2);
}

bool TimelineView::showsAxis() const {
    return running_ || std::any_of(bars_.begin(), bars_.end(), [](const auto& b) { return b.second.start >= 0; });
}

QString TimelineView::emptyText() const {
    return tr("No run yet: once a run starts, each agent's call is drawn here on one time axis.");
}

int TimelineView::rowOf(int layer, int index) const {
    int row = 0;
    for (const auto& [key, bar] : bars_) {
        if (key == std::pair{layer, index}) return row;
        ++row;
    }
    return -1;
}

QRectF TimelineView::rowRect(int row, double from, double to) const {
    const double w = barsWidth();
    return QRectF(kLabelWidth + from / span() * w, kLegendHeight + 4 + row * kRowHeight + 2,
                  std::max(2.0, (to - from) / span() * w), kRowHeight - 4);
}

QRectF TimelineView::barRect(int layer, int index) const {
    const int row = rowOf(layer, index);
    if (row < 0) return {};
    const Bar& bar = bars_.at({layer, index});
    if (bar.start < 0) return {};
    return rowRect(row, bar.start, bar.end >= 0 ? bar.end : now_);
}

std::vector<QRectF> TimelineView::stepRects(int layer, int index) const {
    std::vector<QRectF> out;
    const int row = rowOf(layer, index);
    if (row < 0) return out;
    for (const auto& st : bars_.at({layer, index}).steps) out.push_back(rowRect(row, st.start, st.end >= 0 ? st.end : now_));
    return out;
}

QString TimelineView::toolTipAt(QPoint pos) const {
    const int row = (pos.y() - kLegendHeight - 4) / kRowHeight;
    if (legendRect().contains(pos) || (showsAxis() && axisLabelsRect().contains(pos))) return {}; // drawn over the rows
    if (pos.y() < kLegendHeight + 4 || row < 0 || row >= static_cast<int>(bars_.size())) return {};
    auto it = std::next(bars_.begin(), row);
    const Bar& b = it->second;
    if (b.start < 0) return tr("%1: not started").arg(b.label);
    auto s = [](double ms) { return QString::number(ms / 1000.0, 'f', 2); };
    QString tip = tr("%1 (%2)\nstarted at %3 s").arg(b.label, QString::fromLatin1(engine::to_string(b.state)), s(b.start));
    if (b.first_token >= 0) tip += tr("\nwaited %1 s for the first token (at %2 s)").arg(s(b.first_token - b.start), s(b.first_token));
    else tip += tr("\nno token yet");
    if (b.end >= 0) tip += tr("\n%1 at %2 s: %3 s in all").arg(b.first_token >= 0 ? tr("ended") : tr("stopped"), s(b.end), s(b.end - b.start));
    if (b.first_token >= 0 && b.end >= 0) tip += tr(", %1 s streaming").arg(s(b.end - b.first_token));
    if (!b.steps.empty()) {
        tip += tr("\nran in %1, one call each (staircase streaming)").arg(steps_text(b.steps.size()));
        // The step under the pointer, if any.
        const auto rects = stepRects(it->first.first, it->first.second);
        for (std::size_t k = 0; k < rects.size(); ++k) {
            if (pos.x() < rects[k].left() - 1 || pos.x() > rects[k].right() + 1) continue;
            const Step& st = b.steps[k];
            tip += tr("\nstep %1: started at %2 s").arg(k + 1).arg(s(st.start));
            if (st.first_token >= 0) tip += tr(", first token after %1 s").arg(s(st.first_token - st.start));
            if (st.end >= 0) tip += tr(", ended at %1 s").arg(s(st.end));
            break;
        }
    }
    if (!b.reason.isEmpty() && b.state != engine::AgentState::Done) tip += "\n" + b.reason;
    return tip;
}

bool TimelineView::event(QEvent* e) {
    // In a scroll area the legend and the axis are drawn where the view is: a scroll repaints all.
    if (e->type() == QEvent::ParentChange || e->type() == QEvent::Show)
        if (auto* area = scrollArea())
            connect(area->verticalScrollBar(), &QScrollBar::valueChanged, this, qOverload<>(&QWidget::update), Qt::UniqueConnection);
    if (e->type() == QEvent::ToolTip) {
        auto* h = static_cast<QHelpEvent*>(e);
        const QString tip = toolTipAt(h->pos());
        if (tip.isEmpty()) QToolTip::hideText();
        else QToolTip::showText(h->globalPos(), tip, this);
        return true;
    }
    return QWidget::event(e);
}

void TimelineView::paintEvent(QPaintEvent*) {
    QPainter p(this);
    p.setRenderHint(QPainter::Antialiasing);
    const QPalette pal = palette();
    const int label_w = kLabelWidth, row_h = kRowHeight, top = kLegendHeight + 4;
    const double span = this->span();
    const double w = barsWidth();
    QFont f = font();
    f.setPointSizeF(std::max(8.0, f.pointSizeF() * 0.8));
    p.setFont(f);
    const QFontMetrics fm(f);
    const QColor streaming(0x2E, 0x9E, 0x5B), done(0x3A, 0x7B, 0xD5), failed(0xD0, 0x3A, 0x3A);
    // Waiting for the first token: light amber on every bar (amber is "waiting" on the graph's
    // nodes too), whatever the call's state after it.
    const QColor waiting(0xE0, 0xA8, 0x00);
    auto light = [&pal, waiting](QPainter& q, const QRectF& r) {
        q.fillRect(r, pal.color(QPalette::Base));
        q.fillRect(r, QColor(waiting.red(), waiting.green(), waiting.blue(), 110));
    };
    // The time axis: light grid lines behind the bars, seconds below them (none before a run: an
    // axis of 0.0–1.0 ms with no data looked like a measurement).
    const int bottom = top + static_cast<int>(bars_.size()) * row_h;
    if (!showsAxis()) {
        p.setPen(pal.color(QPalette::PlaceholderText));
        p.drawText(emptyTextRect(), Qt::AlignHCenter | Qt::AlignTop | Qt::TextWordWrap, emptyText());
    }
    const auto t = showsAxis() ? ticks() : std::vector<double>{};
    const double step = t.size() > 1 ? t[1] - t[0] : span;
    for (double ms : t) {
        const double x = label_w + ms / span * w;
        QColor grid = pal.color(QPalette::Mid);
        grid.setAlphaF(0.35);
        p.setPen(QPen(grid, 0.5));
        p.drawLine(QPointF(x, top), QPointF(x, bottom + 3));
    }
    int row = 0, last_layer = -1;
    for (const auto& [key, bar] : bars_) {
        const int y = top + row * row_h;
        if (key.first != last_layer && last_layer >= 0) {
            p.setPen(QPen(pal.color(QPalette::Mid), 0.5));
            p.drawLine(0, y - 1, width(), y - 1);
        }
        last_layer = key.first;
        p.setPen(pal.color(QPalette::Text));
        p.drawText(QRect(4, y, label_w - 8, row_h), Qt::AlignVCenter | Qt::AlignLeft, fm.elidedText(bar.label, Qt::ElideRight, label_w - 8));
        if (bar.start >= 0) {
            const QRectF r = barRect(key.first, key.second);
            using S = engine::AgentState;
            QColor c = bar.state == S::Failed || bar.state == S::Dropped ? failed
                       : bar.state == S::Cancelled || bar.state == S::Cut ? pal.color(QPalette::Mid)
                       : bar.end >= 0                                     ? done
                                                                          : streaming;
            // One bar per call: the agent's own, or each of its steps (a thin line joins them).
            std::vector<std::pair<QRectF, Step>> calls;
            if (bar.steps.empty()) {
                calls.push_back({r, Step{bar.start, bar.first_token, bar.end}});
            } else {
                QColor join = c;
                join.setAlphaF(0.6);
                p.setPen(QPen(join, 1));
                p.drawLine(QPointF(r.left(), r.center().y()), QPointF(r.right(), r.center().y()));
                const auto rects = stepRects(key.first, key.second);
                for (std::size_t k = 0; k < rects.size(); ++k) calls.push_back({rects[k], bar.steps[k]});
            }
            for (const auto& [cr, st] : calls) {
                p.fillRect(cr, c);
                // Waiting for the first token is drawn lighter (the whole bar while no token came). A
                // call that ended without any token keeps its own colour whole: red for a failed or
                // dropped one, which the wait would otherwise cover entirely.
                const bool ended_tokenless = st.first_token < 0 && st.end >= 0 && bar.state != S::Done;
                if (!ended_tokenless) {
                    const double wait_to = st.first_token >= 0 ? st.first_token : (st.end >= 0 ? st.end : now_);
                    light(p, QRectF(cr.left(), cr.top(), std::min(cr.width(), (wait_to - st.start) / span * w), cr.height()));
                }
                if (!bar.steps.empty()) { // the steps' edges stay apart even when they touch
                    p.setPen(QPen(pal.color(QPalette::Base), 1));
                    p.drawLine(cr.topLeft(), cr.bottomLeft());
                }
            }
        }
        ++row;
    }
    // The legend above and the seconds below stay in view; only the rows scroll (between them).
    const QRect legend = legendRect();
    p.fillRect(legend, pal.color(QPalette::Window));
    {
        int x = 4;
        const int y = legend.top();
        auto item = [&](const QColor& c, bool is_waiting, const QString& text) {
            const QRectF sw(x, y + 4, 18, 10);
            if (is_waiting) light(p, sw);
            else p.fillRect(sw, c);
            p.setPen(pal.color(QPalette::Text));
            p.drawText(QRect(x + 22, y, fm.horizontalAdvance(text) + 4, kLegendHeight), Qt::AlignVCenter | Qt::AlignLeft, text);
            x += 22 + fm.horizontalAdvance(text) + 16;
        };
        item(waiting, true, tr("waiting for the first token"));
        item(streaming, false, tr("streaming"));
        item(done, false, tr("done"));
        item(failed, false, tr("failed or dropped"));
        item(pal.color(QPalette::Mid), false, tr("cut or cancelled"));
    }
    if (running_) {
        p.setPen(pal.color(QPalette::PlaceholderText));
        p.drawText(QRect(label_w, legend.top(), static_cast<int>(w), kLegendHeight), Qt::AlignRight | Qt::AlignVCenter, tr("running"));
    }
    if (!t.empty()) {
        const QRect axis = axisLabelsRect();
        p.fillRect(axis, pal.color(QPalette::Window));
        p.setPen(pal.color(QPalette::PlaceholderText));
        for (double ms : t) {
            const double x = label_w + ms / span * w;
            const QString label = tickLabel(ms, step);
            const int lw = fm.horizontalAdvance(label);
            p.drawText(QRectF(std::min(x - lw / 2.0, width() - lw - 2.0), axis.top() + 2, lw + 2, fm.height()), Qt::AlignLeft, label);
        }
    }
}

} // namespace moa::ui
