// SPDX-License-Identifier: MIT
#pragma once
// Runs an experiment: every configuration (and a reference configuration) on every prompt,
// then the judge on every answer, with a concurrency limit, per-provider rate limits, the
// response cache, a budget cap, pause/resume and resume after a crash. Results go to the
// ExperimentStore as each piece finishes; nothing finished is ever run (or paid for) twice.
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "accounting/catalog.h"
#include "engine/engine.h"
#include "engine/rate_limiter.h"
#include "eval/experiment.h"
#include "net/transport.h"
#include "store/experiment_store.h"

namespace moa::eval {

struct ExperimentProgress {
    int total = 0;      // generations + judgments
    int done = 0;       // finished (now or in an earlier session)
    int resumed = 0;    // of `done`, found already finished in the store
    int failed = 0;     // generations or judge calls that failed (kept, excluded)
    int running = 0;
    double spent_usd = 0;   // paid in this session (cached calls cost nothing)
    bool spent_complete = true; // false once a call of this session had no price: spent_usd is then a lower bound
    double eta_s = -1;      // -1 while unknown
    bool paused = false;
    std::string last;       // what finished last, for a status line
    std::vector<std::string> errors; // the first few distinct failures, to say what went wrong
};

enum class ExperimentStatus { Running, Done, BudgetStopped, Cancelled };
const char* to_string(ExperimentStatus s);

struct ExperimentOutcome {
    ExperimentStatus status = ExperimentStatus::Running;
    std::string message;
    ExperimentProgress progress;
};

class ExperimentRunner {
public:
    ExperimentRunner(Experiment e, std::shared_ptr<store::ExperimentStore> store, const accounting::Catalog& catalog,
                     net::Transport& transport = net::Transport::shared());
    ~ExperimentRunner();
    ExperimentRunner(const ExperimentRunner&) = delete;
    ExperimentRunner& operator=(const ExperimentRunner&) = delete;

    // Starts the scheduler thread. `on_progress` is called from worker threads; keep it quick.
    void start(std::function<void(const ExperimentProgress&)> on_progress = {},
               engine::RunOptions options = {});
    void pause();
    void resume();
    void cancel();
    ExperimentOutcome wait();
    bool finished() const;
    ExperimentProgress progress() const;

    // The least time the rate limits need for the calls still to make: a provider limited to R
    // requests a minute takes at least ceil(calls / R) - 1 minutes for its calls left (the first
    // R go at once). The ETA is never shorter; `provider` names the limit that takes longest.
    // Tokens-per-minute limits are not counted (the tokens of answers not yet written are unknown).
    struct RateLimitWait {
        double seconds = 0;
        std::string provider;
        long calls = 0;          // that provider's calls left
        long per_minute = 0;     // the requests it may start in a minute
    };
    RateLimitWait rate_limit_wait() const;

    // Keys of the stored results that belong to this experiment.
    static std::string reference_key(const Experiment& e);
    static std::string judge_key(const Experiment& e);
    static constexpr int kReference = -1; // config index of the reference configuration
    // The hash of the exact texts a verdict judges (Judgment::texts_key).
    static std::string texts_key(const PromptItem& item, const std::vector<std::string>& answer_turns,
                                 const std::string& reference);
    // The reference answer for `item`: from the imported outputs or the reference configuration's
    // stored generation. `failed` says why there is none (a failed or missing reference run).
    struct ReferenceAnswer {
        std::string text;
        bool ok = false;
        std::string failed; // "reference failed: ..." or "reference not generated yet"
    };
    static ReferenceAnswer reference_answer(const Experiment& e, store::ExperimentStore& store, const PromptItem& item);
    // Estimated price (and whether every model had one) of one run of `c` on these user turns,
    // and of one judgement of `item`.
    static std::pair<double, bool> estimate_generation(const config::Config& c, const accounting::Catalog& catalog,
                                                       const std::vector<std::string>& turns);
    static std::pair<double, bool> estimate_judgement(const Experiment& e, const accounting::Catalog& catalog, const PromptItem& item);

private:
    struct Task;
    void loop();
    bool ready(const Task& t) const;
    void launch(Task& t);
    void run_generation_turn(std::size_t task, std::size_t turn, store::Generation g);
    void run_judge(std::size_t task);
    void judge_call(std::size_t task, std::vector<providers::Message> messages,
                    std::function<void(const engine::RunRecord&)> done);
    void finish_task(std::size_t task, bool failed, double paid, const std::string& what);
    void note_unpriced(const engine::RunRecord& r); // a call made afresh without a price: the spent sum is a lower bound
    double estimate(const Task& t) const;
    RateLimitWait rate_limit_wait_locked() const; // mu_ held (or not yet started)
    const std::string& key_of(const Task& t) const;   // the stored results' configuration key
    std::vector<std::string> turns_of(const Task& t) const; // the user turns a generation answers
    std::string name_of(const Task& t) const;         // for status lines
    void report();

    Experiment e_;
    std::shared_ptr<store::ExperimentStore> store_;
    const accounting::Catalog& catalog_;
    net::Transport& transport_;
    engine::Engine engine_;
    engine::RunOptions options_;
    std::shared_ptr<engine::RateLimiter> limiter_;
    std::vector<std::string> config_keys_;
    std::string ref_key_, judge_key_;
    std::string variant_keys_[3]; // by Variant
    config::Config judge_config_;

    std::vector<Task> tasks_;
    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::thread thread_;
    std::function<void(const ExperimentProgress&)> on_progress_;
    std::vector<std::shared_ptr<engine::Run>> runs_;
    bool paused_ = false, cancelled_ = false, finished_ = false;
    int reporting_ = 0; // finish_task() calls between their count and the end of their report()
    double reserved_usd_ = 0;
    ExperimentProgress prog_;
    ExperimentOutcome outcome_;
    std::chrono::steady_clock::time_point t0_;
    int done_this_session_ = 0;
};

} // namespace moa::eval
