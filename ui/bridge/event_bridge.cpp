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
    const auto key = std::make_tuple(e.run, e.layer, e.agent);
    if (e.type == engine::Event::Type::AgentDelta) {
        if (auto it = open_delta.find(key); it != open_delta.end()) {
            auto& pending = events[it->second];
            pending.text += e.text;
            pending.reasoning += e.reasoning;
            pending.t_ms = e.t_ms;
            return;
        }
        open_delta[key] = events.size();
    } else if (e.agent >= 0) {
        open_delta.erase(key); // later text must come after this event
    } else {
        open_delta.clear();
    }
    events.push_back(e);
}

void EventBridge::drain() {
    std::vector<engine::Event> batch;
    {
        std::lock_guard<std::mutex> lock(q_->mu);
        if (q_->events.empty()) return;
        batch.swap(q_->events);
        q_->open_delta.clear();
    }
    ++batches_;
    emit events(batch);
}

} // namespace moa::ui
