// SPDX-License-Identifier: MIT
#include "store/history_recorder.h"

#include <algorithm>
#include <cstdlib>
#include <thread>

#include "store/ack_order.h"

namespace moa::store {

HistoryRecorder::HistoryRecorder(std::unique_ptr<History> history)
    : history_(std::move(history)), commit_delay_ms_(commit_delay_from_environment()), thread_([this] { loop(); }) {}

long HistoryRecorder::commit_delay_from_environment() {
    const char* v = std::getenv("MOA_TEST_COMMIT_DELAY_MS");
    return v ? std::max(0L, std::atol(v)) : 0;
}

void HistoryRecorder::slow_disk() const {
    if (commit_delay_ms_ > 0) std::this_thread::sleep_for(std::chrono::milliseconds(commit_delay_ms_));
}

void HistoryRecorder::note(const std::string& err) {
    {
        std::lock_guard<std::mutex> lock(mu_);
        for (const auto& e : errors_)
            if (e == err) return; // a damaged file refuses every run the same way: said once
        errors_.push_back(err);
    }
    if (on_error_) on_error_();
}

HistoryRecorder::~HistoryRecorder() {
    {
        std::lock_guard<std::mutex> lock(mu_);
        stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
}

void HistoryRecorder::post(std::function<void(History&)> job) {
    {
        std::lock_guard<std::mutex> lock(mu_);
        jobs_.push_back(std::move(job));
    }
    cv_.notify_all();
}

void HistoryRecorder::loop() {
    std::unique_lock<std::mutex> lock(mu_);
    while (true) {
        cv_.wait(lock, [this] { return stop_ || !jobs_.empty(); });
        if (jobs_.empty() && stop_) break;
        auto job = std::move(jobs_.front());
        jobs_.pop_front();
        busy_ = true;
        lock.unlock();
        job(*history_);
        lock.lock();
        busy_ = false;
        if (jobs_.empty()) idle_cv_.notify_all();
    }
    idle_cv_.notify_all();
}

void HistoryRecorder::flush() {
    std::unique_lock<std::mutex> lock(mu_);
    idle_cv_.wait(lock, [this] { return jobs_.empty() && !busy_; });
}

std::vector<std::string> HistoryRecorder::errors() const {
    std::lock_guard<std::mutex> lock(mu_);
    return errors_;
}

std::int64_t HistoryRecorder::stored_id(std::uint64_t engine_run) const {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [e, s] : ids_)
        if (e == engine_run) return s;
    return 0;
}

engine::EventSink HistoryRecorder::sink(const std::string& source, const config::Config& config,
                                        const engine::RunInput& input, engine::EventSink next, std::int64_t rerun_of) {
    struct RunState {
        std::int64_t id = 0; // written only by the writer thread
        std::unique_ptr<RecordCap> cap; // likewise used only there
    };
    bool first = false;
    {
        std::lock_guard<std::mutex> lock(mu_);
        first = !checked_;
        checked_ = true;
    }
    // Every page is read once before the first write, on the writer thread (nobody waits for
    // it; on_error is set by now): a damaged file gets no new runs, and the user hears what to
    // do about it.
    if (first)
        post([this](History& h) {
            if (auto ok = h.check(); !ok) note(ok.error());
        });
    auto state = std::make_shared<RunState>();
    if (const std::size_t cap = message_cap_; cap > 0) state->cap = std::make_unique<RecordCap>(cap);
    auto snapshot = std::make_shared<nlohmann::json>(config::to_json(config));
    auto in = std::make_shared<engine::RunInput>(input);
    auto order = std::make_shared<AckOrder>(std::move(next));
    std::string name = config.name;
    return [this, state, snapshot, in, name, source, order, rerun_of](const engine::Event& e) {
        using T = engine::Event::Type;
        auto note = [this](const std::string& err) { this->note(err); };
        switch (e.type) {
        case T::RunStarted: {
            std::uint64_t engine_id = e.run;
            // The run's own copy of the input: any key it resolved is redacted there.
            std::shared_ptr<const engine::RunInput> input = in;
            if (e.input) input = e.input;
            post([this, state, snapshot, input, name, source, note, engine_id, rerun_of](History& h) {
                auto id = h.begin_run(source, *snapshot, *input, name, state->cap.get());
                if (!id) return note(id.error());
                state->id = *id;
                if (rerun_of > 0)
                    if (auto ok = h.set_rerun_of(*id, rerun_of); !ok) note(ok.error());
                std::lock_guard<std::mutex> lock(mu_);
                ids_.emplace_back(engine_id, *id);
            });
            break;
        }
        case T::AgentDone:
        case T::AgentFailed:
            if (e.record) {
                // The answer is committed before anyone hears it is done: whatever a user saw
                // finish survives a crash a moment later. The transport thread does not wait
                // for the disk: the done is held, and the writer passes it on once committed
                // (a failed write is noted in errors(); the done goes on all the same).
                auto rec = std::make_shared<engine::AgentRecord>(*e.record);
                const auto ticket = order->hold(e);
                post([this, state, rec, note, order, ticket](History& h) {
                    slow_disk();
                    if (state->id)
                        if (auto ok = h.record_agent(state->id, *rec, state->cap.get()); !ok) note(ok.error());
                    order->ack(ticket);
                });
                return;
            }
            break;
        case T::RunDone:
        case T::RunFailed:
        case T::RunCancelled:
            if (e.final_record) {
                // Likewise the run's end: reported once the whole record is committed, and after
                // every answer's done.
                auto rec = e.final_record;
                const auto ticket = order->hold(e);
                post([this, state, rec, note, order, ticket](History& h) {
                    slow_disk();
                    if (state->id)
                        if (auto ok = h.finish_run(state->id, *rec, state->cap.get()); !ok) note(ok.error());
                    order->ack(ticket);
                });
                return;
            }
            break;
        default:
            break;
        }
        order->pass(e);
    };
}

} // namespace moa::store
