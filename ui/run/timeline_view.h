// SPDX-License-Identifier: MIT
#pragma once
// Every call of a run on one time axis: a bar per agent from its start to its end, grouped by
// layer, growing live while the run goes on; the first token marked on each bar.
#include <QWidget>

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

    struct Bar {
        QString label;
        double start = -1, first_token = -1, end = -1;
        engine::AgentState state = engine::AgentState::Queued;
    };
    const std::map<std::pair<int, int>, Bar>& bars() const { return bars_; }

protected:
    void paintEvent(QPaintEvent*) override;

private:
    std::map<std::pair<int, int>, Bar> bars_;
    double now_ = 0;
    bool running_ = false;
};

} // namespace moa::ui
