// SPDX-License-Identifier: MIT
#pragma once
// Writes runs into the History as they happen, on a writer thread of its own: the transport
// thread never waits on the disk. Each finished answer is committed when its event arrives, and
// the event goes on to the next sink (the screen, the CLI's output) only once it is committed,
// passed on from the writer thread when it acknowledges the commit (AckOrder keeps the order;
// other agents' text flows on meanwhile). The run's end rewrites the whole record once more and
// is passed on once that is committed. The next sink must be thread-safe: it is called from the
// engine's thread and from the writer's, one call at a time per run.
#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "config/config.h"
#include "engine/run_types.h"
#include "store/history.h"

namespace moa::store {

class HistoryRecorder {
public:
    explicit HistoryRecorder(std::unique_ptr<History> history);
    ~HistoryRecorder(); // writes what is queued, then stops

    // A sink that records one run's events, then passes each on to `next` (may be empty).
    // `rerun_of`: the stored run this one repeats (0: none).
    engine::EventSink sink(const std::string& source, const config::Config& config, const engine::RunInput& input,
                           engine::EventSink next, std::int64_t rerun_of = 0);
    // Blocks until everything queued so far is written.
    void flush();
    // Problems met while writing (a full disk, a read-only file), oldest first.
    std::vector<std::string> errors() const;
    // Called on the writer thread right after a problem is added to errors() (the GUI posts
    // itself a check; it never waits on a timer for a slow disk). Set before the first sink.
    void on_error(std::function<void()> fn) { on_error_ = std::move(fn); }
    // The database id of the run with this engine run id, 0 until it was written.
    std::int64_t stored_id(std::uint64_t engine_run) const;
    const std::string& path() const { return history_->path(); }
    // At most this many bytes of message contents per run from now on (0: no cap); see
    // RecordCap. Set before the runs it is for start.
    void set_message_cap(std::size_t bytes) { message_cap_ = bytes; }

private:
    void post(std::function<void(History&)> job);
    void note(const std::string& err); // adds to errors() (once) and calls on_error
    // Test hook: MOA_TEST_COMMIT_DELAY_MS slows every commit of an answer or a run's end by that
    // much, as a slow disk would (benchmarks and tests of the writer's acknowledgements).
    static long commit_delay_from_environment();
    void slow_disk() const;
    void loop();

    std::unique_ptr<History> history_;
    const long commit_delay_ms_;
    std::atomic<std::size_t> message_cap_{0};
    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::condition_variable idle_cv_;
    std::deque<std::function<void(History&)>> jobs_;
    bool busy_ = false;
    bool stop_ = false;
    bool checked_ = false; // the file's check is queued (before the first run's writes)
    std::vector<std::string> errors_;
    std::function<void()> on_error_;
    std::vector<std::pair<std::uint64_t, std::int64_t>> ids_;
    std::thread thread_;
};

} // namespace moa::store
