// SPDX-License-Identifier: MIT
#pragma once
// What a run is made of and what it reports: the record the CLI prints, the GUI shows and the
// store keeps, and the events that carry it while it happens.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "providers/chat_types.h"

namespace moa::engine {

using providers::Message;

struct RunInput {
    std::vector<Message> conversation; // system, user and assistant turns; the last is the user's
    static RunInput from_prompt(const std::string& prompt, const std::string& system = {});
    std::string last_user_text() const;
};

// Cut: still running when its layer reached its quorum or deadline; its call was closed.
enum class AgentState { Queued, Waiting, Streaming, Retrying, Done, Failed, Dropped, Cancelled, Cut };
enum class RunStatus { Running, Done, Failed, Cancelled };

// One call of an agent that ran in steps (staircase streaming): each step is a call of its own,
// paid and timed on its own.
struct StepRecord {
    std::vector<Message> messages; // exactly what was sent (unless omitted, below)
    // Every step re-sends the references, so keeping each step's messages grows with the square
    // of the answer: an agent keeps them up to kStepMessagesKept bytes (its first and last step's
    // always); past that a step records only their size here, and `messages` is empty.
    std::size_t messages_omitted_bytes = 0;
    std::string text;              // what the step added to the answer (a repeat of its end removed)
    std::size_t repeat_removed = 0; // bytes of the step's start that repeated the answer so far
    providers::Usage usage;
    std::optional<double> ttft_ms; // from the step's start
    double duration_ms = 0;
    double start_ms = 0; // since the run started
    double end_ms = 0;
    std::optional<double> cost_usd;
    std::optional<double> tflops;
    int attempts = 0;
    std::string finish_reason;
    bool last = false; // the step that ran to the agent's own max_tokens, every reference complete
    bool cached = false;
    std::optional<std::string> error;
};

// Bytes of step messages an agent keeps (see StepRecord::messages_omitted_bytes).
inline constexpr std::size_t kStepMessagesKept = std::size_t{2} << 20;

// The bytes of a request's messages (their contents).
std::size_t message_bytes(const std::vector<Message>& ms);

struct AgentRecord {
    int layer = 0;
    int index = 0;
    std::string provider;
    std::string model;
    bool demo = false; // the offline demo provider, not a real model
    std::vector<Message> messages; // exactly what was sent
    std::string text;
    std::string reasoning;
    providers::Usage usage;
    std::optional<double> ttft_ms;
    double duration_ms = 0;
    double start_ms = 0; // since the run started
    double end_ms = 0;
    std::optional<double> tokens_per_s;
    std::optional<double> cost_usd;
    std::optional<double> tflops;
    int attempts = 0;
    std::optional<std::string> error;
    std::string finish_reason;
    AgentState state = AgentState::Queued;
    bool cached = false; // answered from the response cache: cost_usd is what it cost when paid
    bool not_billed = false; // failed before producing a token: no usage, $0
    std::vector<providers::TokenLogprobs> logprobs; // when requested (judges); not in the JSON
    // How the text grew: (ms since the run started, bytes of text by then), sampled; for
    // replaying a recorded run at its own pace. Not in the JSON.
    std::vector<std::pair<double, std::size_t>> timeline;
    // Staircase streaming: the calls it ran, in order (empty for an agent that ran in one call).
    // Then `text` is the whole answer, `messages` the last step's, usage/cost/TFLOPs the sums.
    std::vector<StepRecord> steps;
};

struct LayerRecord {
    std::vector<AgentRecord> agents;
    double start_ms = 0;
    double end_ms = 0;
    int missing = 0; // agents whose answers the next layer did not get
};

struct Totals {
    double cost_usd = 0;
    bool cost_complete = true; // false when some call had no price in the catalog
    double tflops = 0;         // max within a layer, summed over layers
    bool tflops_complete = true;
    double wall_ms = 0;
    double critical_path_ms = 0; // the slowest agent's own time per layer, summed (staircase: first call's start to the last layer's end, as layers overlap)
    long prompt_tokens = 0;
    long completion_tokens = 0;
    // Some call's tokens were estimated (the provider sent no usage, or usage that was refused):
    // the token counts and the cost are then estimates too, whatever cost_complete says.
    bool usage_estimated = false;
    // From the run's start to the final answer's first token; unset when none came.
    std::optional<double> ttft_ms;
};

struct RunRecord {
    std::uint64_t id = 0;
    std::string config_name;
    RunInput input;
    std::vector<LayerRecord> layers;
    std::optional<std::string> final_text;
    RunStatus status = RunStatus::Running;
    std::string error;
    Totals totals;
};

struct Event {
    enum class Type {
        RunStarted, LayerStarted, AgentQueued, AgentStarted, AgentRetry, AgentDelta,
        AgentDone, AgentFailed, LayerDone, RunDone, RunFailed, RunCancelled,
        // Staircase streaming: a step (one call) of an agent started, at the step's start, and
        // ended, at its end. A step waits between its calls for the references to grow, so its
        // end is not the next one's start.
        AgentStep, AgentStepDone
    };
    Type type = Type::RunStarted;
    std::uint64_t run = 0;
    int layer = -1;
    int agent = -1;
    int attempt = 0;
    double t_ms = 0;         // since the run started
    std::string text;        // AgentDelta: answer piece
    std::string reasoning;   // AgentDelta: reasoning piece
    std::string message;     // errors, retry reasons
    long delay_ms = 0;       // AgentRetry
    int step = -1;           // AgentStep, AgentStepDone: the step's index (from 0)
    // AgentStep: the step as it starts (its messages, start, whether it is the last);
    // AgentStepDone: as it ended (times, usage, cost, text; without the messages).
    std::optional<StepRecord> step_record;
    std::optional<AgentRecord> record; // AgentStarted, AgentDone, AgentFailed: a snapshot
    std::optional<Totals> totals;      // LayerDone and the run's end
    std::shared_ptr<const struct RunRecord> final_record; // the run's end: the whole record
    std::shared_ptr<const RunInput> input; // RunStarted: the input as the run keeps it (keys redacted)
    nlohmann::json to_json() const;
};

using EventSink = std::function<void(const Event&)>;

const char* to_string(AgentState s);
const char* to_string(RunStatus s);
const char* to_string(Event::Type t);

nlohmann::json to_json(const AgentRecord& a, bool with_messages = true);
nlohmann::json to_json(const StepRecord& s, bool with_messages = true);
// The inverse of to_json(StepRecord) (the history keeps steps so); fields it lacks stay unset.
StepRecord step_from_json(const nlohmann::json& j);
nlohmann::json to_json(const Totals& t);
// The `moa run --json` document.
nlohmann::json to_json(const RunRecord& r);

} // namespace moa::engine
