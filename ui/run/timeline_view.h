// SPDX-License-Identifier: MIT
#pragma once
// Every call of a run on one time axis: a bar per agent from its start to its end, grouped by
// layer, growing live while the run goes on. Each bar is lighter while the call waits for its
// first token and solid while it streams; a legend says so, an axis below gives the seconds, and
// a bar's tooltip gives its times. An agent that ran in steps (staircase streaming) gets one bar
// per step, joined by a thin line, so the staircase is visible (live, each step's bar appears as
// the step starts and grows until it ends); a cut agent's bar is grey, the reason in its tooltip.
#include <QWidget>

class QScrollArea;

#include <map>

#include "config/config.h"
#include "engine/run_types.h"

namespace moa::ui {

class TimelineView : public QWidget {
    Q_OBJECT
public:
    explicit TimelineView(QWidget* parent = nullptr);
    void prepare(const config::Config& c);
    void apply(const std::vector<engine::Event>& batch);
    void showRecord(const engine::RunRecord& r);
    QSize sizeHint() const override { return {600, 160}; }
    // Where agent (layer, index)'s bar is drawn (empty when it has not started), what its tooltip
    // says, and the axis's ticks (ms) with their step.
    QRectF barRect(int layer, int index) const;
    // An agent that ran in steps: where each step's bar is drawn, in order (else empty).
    std::vector<QRectF> stepRects(int layer, int index) const;
    QString toolTipAt(QPoint pos) const;
    std::vector<double> ticks() const;
    // The time the axis spans (ms) and the x of a time on it.
    double spanMs() const { return span(); }
    double xOf(double ms) const { return kLabelWidth + ms / span() * barsWidth(); }
    static double tickStep(double span_ms, int max_ticks);
    // A tick's label, its unit and precision chosen with the step so that no two ticks read the
    // same: milliseconds below a 100 ms step ("5 ms", "10 ms"), else seconds ("0.2 s", "3 s").
    static QString tickLabel(double ms, double step_ms);
    // Before any run there is nothing to measure: a sentence says so instead of an empty axis.
    bool showsAxis() const;
    QString emptyText() const;
    // The legend above the rows and the seconds below them stay in the part of the timeline in
    // view (its dock scrolls only the rows): where each is drawn, and the empty state's sentence,
    // in this widget's coordinates.
    QRect legendRect() const;
    QRect axisLabelsRect() const;
    QRect emptyTextRect() const;
    // The layer whose rows are kept in view while a run goes on (the last one started: during a
    // staircase run, the last layers), -1 before a run.
    int followedLayer() const { return followed_layer_; }
    static constexpr int kLabelWidth = 170, kRowHeight = 14, kLegendHeight = 18, kAxisHeight = 20;

    struct Step {
        double start = -1, first_token = -1, end = -1;
    };
    struct Bar {
        QString label;
        double start = -1, first_token = -1, end = -1;
        engine::AgentState state = engine::AgentState::Queued;
        std::vector<Step> steps; // staircase streaming: one per call
        QString reason;          // why it was cut, failed or dropped
    };
    const std::map<std::pair<int, int>, Bar>& bars() const { return bars_; }

protected:
    void paintEvent(QPaintEvent*) override;
    bool event(QEvent* e) override;

private:
    double span() const { return std::max(now_, 1.0); }
    QRectF rowRect(int row, double from, double to) const;
    int rowOf(int layer, int index) const;
    static void takeRecord(Bar& b, const engine::AgentRecord& a);
    void follow(int layer);
    QScrollArea* scrollArea() const;
    QRect shownArea() const; // the part of this widget in its scroll area's view (else all of it)
    int rowsBottom() const { return kLegendHeight + 4 + static_cast<int>(bars_.size()) * kRowHeight; }
    double barsWidth() const { return std::max(10, width() - kLabelWidth - 10); }
    std::map<std::pair<int, int>, Bar> bars_;
    double now_ = 0;
    bool running_ = false;
    int followed_layer_ = -1;
};

} // namespace moa::ui
