// SPDX-License-Identifier: MIT
#pragma once
// Plays a recorded run's events (engine::replay_events) at a chosen speed, in batches of one
// frame, through the same signal shape as the live EventBridge: the run view, the timeline and
// the graph cannot tell a replay from a run, except that nothing is called or paid.
#include <QElapsedTimer>
#include <QObject>
#include <QTimer>

#include <vector>

#include "engine/run_types.h"

namespace moa::ui {

class ReplayPlayer : public QObject {
    Q_OBJECT
public:
    explicit ReplayPlayer(QObject* parent = nullptr);
    void start(const engine::RunRecord& r, double speed);
    void setSpeed(double speed); // takes effect at once, mid-replay too
    void stop();
    bool isPlaying() const { return timer_.isActive(); }
    double speed() const { return speed_; }

signals:
    void events(const std::vector<moa::engine::Event>& batch);
    void finished();

private:
    void tick();
    QTimer timer_;
    QElapsedTimer clock_;
    std::vector<engine::Event> queue_;
    std::size_t next_ = 0;
    double base_ms_ = 0; // recorded time reached at the last speed change
    double speed_ = 1;
};

} // namespace moa::ui
