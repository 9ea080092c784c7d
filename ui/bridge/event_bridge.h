// SPDX-License-Identifier: MIT
#pragma once
// Engine events -> the GUI thread. The engine calls the sink on its transport thread; events
// wait in a queue and are delivered in one batch per frame (~60 Hz), with consecutive text
// deltas of the same agent merged, so the GUI repaints at most once per frame, never per token.
#include <QObject>
#include <QTimer>

#include <map>
#include <memory>
#include <tuple>
#include <mutex>
#include <vector>

#include "engine/run_types.h"

namespace moa::ui {

class EventBridge : public QObject {
    Q_OBJECT
public:
    explicit EventBridge(QObject* parent = nullptr, int interval_ms = 16);
    ~EventBridge() override;
    // Thread-safe; may outlive the bridge (events after its end are dropped).
    engine::EventSink sink();
    // Delivers whatever is queued now (tests, and the end of a run).
    void drain();
    std::size_t batches() const { return batches_; }

signals:
    void events(const std::vector<moa::engine::Event>& batch);

private:
    struct Queue {
        std::mutex mu;
        std::vector<engine::Event> events;
        // Per agent (run, layer, agent): where its pending delta sits in `events`, so all its
        // text of one frame lands in one event even when agents interleave.
        std::map<std::tuple<std::uint64_t, int, int>, std::size_t> open_delta;
        bool closed = false;
        void push(const engine::Event& e);
    };
    std::shared_ptr<Queue> q_ = std::make_shared<Queue>();
    QTimer timer_;
    std::size_t batches_ = 0;
};

} // namespace moa::ui
