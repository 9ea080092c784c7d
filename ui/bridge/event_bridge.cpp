// SPDX-License-Identifier: MIT
#include "bridge/event_bridge.h"

namespace moa::ui {

EventBridge::EventBridge(QObject* parent, int interval_ms) : QObject(parent) {
    timer_.setInterval(interval_ms);
    timer_.setTimerType(Qt::PreciseTimer);
    connect(&timer_, &QTimer::timeout, this, &EventBridge::drain);
    timer_.start();
}

EventBridge::~EventBridge() {
    std::lock_guard<std::mutex> lock(q_->mu);
    q_->closed = true;
    q_->events.clear();
}

engine::EventSink EventBridge::sink() {
    auto q = q_;
    return [q](const engine::Event& e) { q->push(e); };
}

void EventBridge::Queue::push(const engine::Event& e) {
    std::lock_guard<std::mutex> lock(mu);
    if (closed) return;
    using T = engine::Event::Type;
    if (e.type == T::AgentDelta && !events.empty()) {
        auto& last = events.back();
        if (last.type == T::AgentDelta && last.run == e.run && last.layer == e.layer && last.agent == e.agent) {
            last.text += e.text;
            last.reasoning += e.reasoning;
            last.t_ms = e.t_ms;
            return;
        }
    }
    events.push_back(e);
}

void EventBridge::drain() {
    std::vector<engine::Event> batch;
    {
        std::lock_guard<std::mutex> lock(q_->mu);
        if (q_->events.empty()) return;
        batch.swap(q_->events);
    }
    ++batches_;
    emit events(batch);
}

} // namespace moa::ui
