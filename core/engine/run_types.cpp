// SPDX-License-Identifier: MIT
#include "engine/run_types.h"

#include "engine/run_provenance.h"

namespace moa::engine {
using nlohmann::json;

RunInput RunInput::from_prompt(const std::string& prompt, const std::string& system) {
    RunInput in;
    if (!system.empty()) in.conversation.push_back({"system", system});
    in.conversation.push_back({"user", prompt});
    return in;
}

std::string RunInput::last_user_text() const {
    for (auto it = conversation.rbegin(); it != conversation.rend(); ++it)
        if (it->role == "user") return it->content;
    return {};
}

const char* to_string(AgentState s) {
    switch (s) {
    case AgentState::Queued: return "queued";
    case AgentState::Waiting: return "waiting";
    case AgentState::Streaming: return "streaming";
    case AgentState::Retrying: return "retrying";
    case AgentState::Done: return "done";
    case AgentState::Failed: return "failed";
    case AgentState::Dropped: return "dropped";
    case AgentState::Cancelled: return "cancelled";
    case AgentState::Cut: return "cut";
    }
    return "?";
}

const char* to_string(RunStatus s) {
    switch (s) {
    case RunStatus::Running: return "running";
    case RunStatus::Done: return "done";
    case RunStatus::Failed: return "failed";
    case RunStatus::Cancelled: return "cancelled";
    }
    return "?";
}

const char* to_string(Event::Type t) {
    using T = Event::Type;
    switch (t) {
    case T::RunStarted: return "run_started";
    case T::LayerStarted: return "layer_started";
    case T::AgentQueued: return "agent_queued";
    case T::AgentStarted: return "agent_started";
    case T::AgentRetry: return "agent_retry";
    case T::AgentDelta: return "agent_delta";
    case T::AgentDone: return "agent_done";
    case T::AgentFailed: return "agent_failed";
    case T::LayerDone: return "layer_done";
    case T::RunDone: return "run_done";
    case T::RunFailed: return "run_failed";
    case T::RunCancelled: return "run_cancelled";
    case T::AgentStep: return "agent_step";
    case T::AgentStepDone: return "agent_step_done";
    }
    return "?";
}

namespace {
json opt(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }
json messages_json(const std::vector<Message>& ms) {
    json m = json::array();
    for (const auto& msg : ms) {
        json one{{"role", msg.role}, {"content", msg.content}};
        if (msg.prefix) one["prefix"] = true;
        m.push_back(std::move(one));
    }
    return m;
}
std::optional<double> opt_from(const json& j, const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_number() ? std::optional<double>(it->get<double>()) : std::nullopt;
}
} // namespace

std::size_t message_bytes(const std::vector<Message>& ms) {
    std::size_t n = 0;
    for (const auto& m : ms) n += m.content.size();
    return n;
}

namespace {
// "refused" only when the provider's usage was refused (why), so other records read as before.
json usage_json(const providers::Usage& u) {
    json j{{"prompt_tokens", u.prompt_tokens}, {"completion_tokens", u.completion_tokens}, {"estimated", u.estimated}};
    if (!u.refused.empty()) j["refused"] = u.refused;
    return j;
}
} // namespace

json to_json(const StepRecord& s, bool with_messages) {
    json j{{"text", s.text},
           {"usage", usage_json(s.usage)},
           {"ttft_ms", opt(s.ttft_ms)},
           {"duration_ms", s.duration_ms},
           {"start_ms", s.start_ms},
           {"end_ms", s.end_ms},
           {"cost_usd", opt(s.cost_usd)},
           {"tflops", opt(s.tflops)},
           {"attempts", s.attempts},
           {"finish_reason", s.finish_reason.empty() ? json(nullptr) : json(s.finish_reason)},
           {"last", s.last}};
    if (s.repeat_removed > 0) j["repeat_removed"] = s.repeat_removed;
    if (s.cached) j["cached"] = true;
    if (s.error) j["error"] = *s.error;
    if (with_messages) j["messages"] = messages_json(s.messages);
    if (s.messages_omitted_bytes > 0) j["messages_omitted_bytes"] = s.messages_omitted_bytes;
    return j;
}

StepRecord step_from_json(const json& j) {
    StepRecord s;
    if (!j.is_object()) return s;
    if (auto m = j.find("messages"); m != j.end() && m->is_array())
        for (const auto& msg : *m)
            if (msg.is_object()) {
                Message one{msg.value("role", ""), msg.value("content", "")};
                one.prefix = msg.value("prefix", false);
                s.messages.push_back(std::move(one));
            }
    s.text = j.value("text", "");
    s.repeat_removed = j.value("repeat_removed", std::size_t{0});
    if (auto o = j.find("messages_omitted_bytes"); o != j.end() && o->is_number_unsigned())
        s.messages_omitted_bytes = o->get<std::size_t>();
    if (auto u = j.find("usage"); u != j.end() && u->is_object()) {
        s.usage.prompt_tokens = u->value("prompt_tokens", 0L);
        s.usage.completion_tokens = u->value("completion_tokens", 0L);
        s.usage.estimated = u->value("estimated", false);
        if (auto why = u->find("refused"); why != u->end() && why->is_string()) s.usage.refused = why->get<std::string>();
    }
    s.ttft_ms = opt_from(j, "ttft_ms");
    s.duration_ms = j.value("duration_ms", 0.0);
    s.start_ms = j.value("start_ms", 0.0);
    s.end_ms = j.value("end_ms", 0.0);
    s.cost_usd = opt_from(j, "cost_usd");
    s.tflops = opt_from(j, "tflops");
    s.attempts = j.value("attempts", 0);
    if (auto f = j.find("finish_reason"); f != j.end() && f->is_string()) s.finish_reason = f->get<std::string>();
    s.last = j.value("last", false);
    s.cached = j.value("cached", false);
    if (auto e = j.find("error"); e != j.end() && e->is_string()) s.error = e->get<std::string>();
    return s;
}

json to_json(const AgentRecord& a, bool with_messages) {
    json j{{"layer", a.layer},
           {"index", a.index},
           {"provider", a.provider},
           {"model", a.model},
           {"demo", a.demo},
           {"state", to_string(a.state)},
           {"text", a.text},
           {"reasoning", a.reasoning},
           {"usage", usage_json(a.usage)},
           {"ttft_ms", opt(a.ttft_ms)},
           {"duration_ms", a.duration_ms},
           {"tokens_per_s", opt(a.tokens_per_s)},
           {"cost_usd", opt(a.cost_usd)},
           {"tflops", opt(a.tflops)},
           {"attempts", a.attempts},
           {"finish_reason", a.finish_reason.empty() ? json(nullptr) : json(a.finish_reason)},
           {"error", a.error ? json(*a.error) : json(nullptr)}};
    if (a.cached) j["cached"] = true;
    // Said from what the record keeps (so a run reopened from the history reads the same): a
    // call that failed with no tokens and no text was not billed.
    const bool failed = a.state == AgentState::Failed || a.state == AgentState::Dropped;
    if (a.not_billed || (failed && !a.cached && a.text.empty() && a.reasoning.empty() && a.usage.prompt_tokens == 0 &&
                         a.usage.completion_tokens == 0 && !a.usage.estimated))
        j["not_billed"] = true;
    if (with_messages) j["messages"] = messages_json(a.messages);
    if (!a.steps.empty()) {
        json steps = json::array();
        for (const auto& s : a.steps) steps.push_back(to_json(s, with_messages));
        j["steps"] = std::move(steps);
    }
    return j;
}

json to_json(const Totals& t) {
    return {{"cost_usd", t.cost_usd},
            {"cost_complete", t.cost_complete},
            {"tflops", t.tflops},
            {"tflops_complete", t.tflops_complete},
            {"wall_ms", t.wall_ms},
            {"critical_path_ms", t.critical_path_ms},
            {"prompt_tokens", t.prompt_tokens},
            {"completion_tokens", t.completion_tokens},
            {"usage_estimated", t.usage_estimated},
            {"ttft_ms", opt(t.ttft_ms)}};
}

json to_json(const RunRecord& r) {
    json layers = json::array();
    const RunProvenance prov = compute_provenance(r);
    for (std::size_t li = 0; li < r.layers.size(); ++li) {
        const auto& l = r.layers[li];
        json agents = json::array();
        for (std::size_t ai = 0; ai < l.agents.size(); ++ai) {
            json a = to_json(l.agents[ai]);
            const auto& p = prov.layers[li][ai];
            if (li > 0) {
                json sources = json::array();
                for (const auto& s : p.sources) {
                    json j{{"layer", s.layer}, {"agent", s.agent}, {"share", s.share ? json(*s.share) : json(nullptr)}};
                    if (!s.missing.empty()) j["missing"] = s.missing;
                    sources.push_back(std::move(j));
                }
                a["sources"] = std::move(sources);
            }
            if (p.ignored) a["ignored"] = *p.ignored;
            if (p.final_share) a["final_share"] = *p.final_share;
            agents.push_back(std::move(a));
        }
        layers.push_back({{"agents", agents}, {"wall_ms", l.end_ms - l.start_ms}, {"missing", l.missing}});
    }
    json j{{"config", r.config_name},
           {"status", to_string(r.status)},
           {"error", r.error.empty() ? json(nullptr) : json(r.error)},
           {"final", r.final_text ? json{{"text", *r.final_text}} : json{{"text", nullptr}}},
           {"layers", layers},
           {"totals", to_json(r.totals)}};
    return j;
}

json Event::to_json() const {
    json j{{"event", engine::to_string(type)}, {"run", run}, {"t_ms", t_ms}};
    if (layer >= 0) j["layer"] = layer;
    if (agent >= 0) j["agent"] = agent;
    switch (type) {
    case Type::AgentDelta:
        if (!text.empty()) j["text"] = text;
        if (!reasoning.empty()) j["reasoning"] = reasoning;
        break;
    case Type::AgentRetry:
        j["attempt"] = attempt;
        j["delay_ms"] = delay_ms;
        j["reason"] = message;
        break;
    case Type::AgentStarted:
        if (record) {
            j["provider"] = record->provider;
            j["model"] = record->model;
            j["demo"] = record->demo;
            j["messages"] = messages_json(record->messages);
        }
        break;
    case Type::AgentDone:
    case Type::AgentFailed:
        if (record) j["agent_record"] = engine::to_json(*record, false);
        break;
    case Type::AgentStep:
        j["step"] = step;
        if (step_record) {
            j["last"] = step_record->last;
            j["messages"] = messages_json(step_record->messages);
            if (step_record->messages_omitted_bytes > 0) j["messages_omitted_bytes"] = step_record->messages_omitted_bytes;
        }
        break;
    case Type::AgentStepDone:
        j["step"] = step;
        if (step_record) j["step_record"] = engine::to_json(*step_record, false);
        break;
    default:
        if (!message.empty()) j["message"] = message;
        if (totals) j["totals"] = engine::to_json(*totals);
        break;
    }
    return j;
}

} // namespace moa::engine
