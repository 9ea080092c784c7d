// SPDX-License-Identifier: MIT
#include "run/replay_player.h"

#include "engine/replay.h"

namespace moa::ui {

ReplayPlayer::ReplayPlayer(QObject* parent) : QObject(parent) {
    timer_.setInterval(16);
    connect(&timer_, &QTimer::timeout, this, &ReplayPlayer::tick);
}

void ReplayPlayer::start(const engine::RunRecord& r, double speed) {
    queue_ = engine::replay_events(r);
    next_ = 0;
    base_ms_ = 0;
    speed_ = speed > 0 ? speed : 1;
    clock_.start();
    timer_.start();
    tick();
}

void ReplayPlayer::setSpeed(double speed) {
    if (speed <= 0) return;
    if (timer_.isActive()) {
        base_ms_ += static_cast<double>(clock_.nsecsElapsed()) / 1e6 * speed_;
        clock_.restart();
    }
    speed_ = speed;
}

void ReplayPlayer::stop() {
    timer_.stop();
    queue_.clear();
    next_ = 0;
}

void ReplayPlayer::tick() {
    const double now = base_ms_ + static_cast<double>(clock_.nsecsElapsed()) / 1e6 * speed_;
    std::vector<engine::Event> batch;
    while (next_ < queue_.size() && queue_[next_].t_ms <= now) batch.push_back(std::move(queue_[next_++]));
    if (!batch.empty()) emit events(batch);
    if (next_ >= queue_.size()) {
        timer_.stop();
        queue_.clear();
        next_ = 0;
        emit finished();
    }
}

} // namespace moa::ui
