// SPDX-License-Identifier: MIT
// The offline demo provider: in-process, no network, no keys. Its text is derived
// deterministically from the prompt, the model name and the references it was given, and is
// streamed word by word at the provider's pace. It is not a real model and says so.
#include <cstdint>
#include <sstream>

#include "providers/chat_call.h"
#include "providers/demo_text.h"
#include "providers/openai_chat.h"
#include "util/text.h"

namespace moa::providers {

namespace {

std::uint64_t fnv1a(std::string_view s, std::uint64_t h = 1469598103934665603ull) {
    for (unsigned char c : s) {
        h ^= c;
        h *= 1099511628211ull;
    }
    return h;
}

const char* const kPoints[] = {
    "Start by stating the goal in one sentence, so every later step can be checked against it.",
    "Break the problem into small parts and solve the easiest part first.",
    "Check each assumption against a concrete example before relying on it.",
    "Name the trade-off explicitly: what is gained, and what it costs.",
    "Prefer the simplest explanation that accounts for all the facts given.",
    "Write down what would prove the answer wrong, then look for it.",
    "Give one worked example; it clarifies more than a general rule.",
    "Separate what is known from what is guessed, and say which is which.",
    "Keep the audience in mind: the same fact needs different detail for different readers.",
    "Summarize the answer at the end in a single line.",
    "Consider the edge cases: empty input, very large input, and the unusual but legal case.",
    "Compare at least two approaches before choosing one.",
    "Say what the answer does not cover, so nobody over-reads it.",
};
// 13 points, a prime: any step below it visits distinct points.
constexpr std::size_t kPointCount = sizeof(kPoints) / sizeof(kPoints[0]);

// The numbered answers ("\n1. ...", "\n2. ...") after "Responses from models:" in an
// aggregation prompt. Numbers are matched in sequence, so an answer may hold its own lists.
std::vector<std::string> references_in(const std::vector<Message>& msgs) {
    std::vector<std::string> refs;
    for (const auto& m : msgs) {
        if (m.role == "assistant") continue;
        auto pos = m.content.find("Responses from models:");
        if (pos == std::string::npos) continue;
        std::string_view rest(m.content);
        rest = rest.substr(pos);
        std::size_t start = std::string_view::npos;
        for (int k = 1;; ++k) {
            std::string marker = "\n" + std::to_string(k) + ". ";
            auto at = rest.find(marker, start == std::string_view::npos ? 0 : start);
            if (start != std::string_view::npos)
                refs.emplace_back(rest.substr(start, (at == std::string_view::npos ? rest.find("\n\nNote: ", start) : at) - start));
            if (at == std::string_view::npos) break;
            start = at + marker.size();
        }
    }
    return refs;
}

// Sentences of a reference that came from the point bank (so synthesis visibly reuses them).
std::vector<std::string> points_of(const std::string& ref) {
    std::vector<std::string> out;
    for (const char* p : kPoints)
        if (ref.find(p) != std::string::npos) out.push_back(p);
    return out;
}

} // namespace

std::string demo_answer(const std::string& model, const std::vector<Message>& messages) {
    if (model.rfind("demo-judge", 0) == 0) return demo_judge_answer(model, messages);
    std::string prompt;
    for (auto it = messages.rbegin(); it != messages.rend(); ++it)
        if (it->role == "user") {
            prompt = it->content;
            break;
        }
    auto refs = references_in(messages);
    // With placement "user" the aggregation prompt shares the user turn: quote only the question.
    if (auto p = prompt.rfind("\n\n"); !refs.empty() && p != std::string::npos && prompt.find("Responses from models:") != std::string::npos)
        prompt = prompt.substr(p + 2);
    std::uint64_t h = fnv1a(model, fnv1a(prompt));
    std::string topic = text::quote_start(text::trim(prompt), 90);
    std::ostringstream o;
    o << "[offline demo, not a real model: " << model << "] ";
    if (refs.empty()) {
        o << "On \"" << topic << "\": ";
        std::size_t first = h % kPointCount;
        std::size_t step = 1 + (h >> 8) % (kPointCount - 1);
        for (std::size_t i = 0; i < 3; ++i) {
            o << kPoints[(first + i * step) % kPointCount]; // distinct: the count is prime
            if (i < 2) o << ' ';
        }
        o << " (Draft " << (h % 900 + 100) << ".)";
    } else {
        o << "Synthesis of " << refs.size() << " answer" << (refs.size() == 1 ? "" : "s") << " on \"" << topic << "\":";
        std::vector<std::string> seen;
        int n = 0;
        for (const auto& r : refs)
            for (const auto& p : points_of(r)) {
                bool dup = false;
                for (const auto& s : seen) dup = dup || s == p;
                if (dup || n >= 5) continue;
                seen.push_back(p);
                ++n;
                o << "\n- " << p;
            }
        if (n == 0) o << " the answers agree on little; " << kPoints[h % kPointCount];
        o << "\n\nIn short: " << kPoints[(h >> 16) % kPointCount];
    }
    return o.str();
}

namespace {

class DemoChatCall : public ChatCall, public std::enable_shared_from_this<DemoChatCall> {
public:
    DemoChatCall(net::Transport& t, CallRequest r, CallEvents e) : t_(t), r_(std::move(r)), e_(std::move(e)) {}

    void begin() {
        std::string answer = demo_answer(r_.model, r_.messages);
        // Words keep their trailing space or newline so the pieces add up to the answer exactly.
        std::size_t i = 0;
        while (i < answer.size()) {
            std::size_t j = answer.find_first_of(" \n", i);
            j = j == std::string::npos ? answer.size() : j + 1;
            pieces_.push_back(answer.substr(i, j - i));
            i = j;
        }
        if (r_.params.max_tokens && pieces_.size() > static_cast<std::size_t>(*r_.params.max_tokens)) {
            pieces_.resize(static_cast<std::size_t>(*r_.params.max_tokens));
            finish_reason_ = "length";
        }
        interval_ms_ = static_cast<long>(1000.0 / r_.provider.demo_tokens_per_second);
        auto self = shared_from_this();
        t_.post([self] {
            if (self->e_.on_attempt) self->e_.on_attempt();
            self->schedule(self->r_.provider.demo_first_token_ms);
        });
    }

    void cancel() override {
        auto self = shared_from_this();
        t_.post([self] {
            if (self->finished_) return;
            if (self->timer_) self->t_.cancel_timer(self->timer_);
            self->timer_ = 0;
            CallOutcome o;
            o.cancelled = true;
            o.error = "cancelled";
            o.attempts = 1;
            self->done(o);
        });
    }

private:
    void schedule(long ms) {
        auto self = shared_from_this();
        timer_ = t_.schedule(std::chrono::milliseconds(ms), [self] { self->tick(); });
    }

    void tick() {
        timer_ = 0;
        if (finished_) return;
        if (next_ < pieces_.size()) {
            text_ += pieces_[next_];
            if (e_.on_delta) e_.on_delta(pieces_[next_], {});
            ++next_;
            if (next_ < pieces_.size()) return schedule(interval_ms_);
        }
        CallOutcome o;
        o.ok = true;
        o.attempts = 1;
        o.finish_reason = finish_reason_;
        o.usage = estimate_usage(r_.messages, text_);
        o.usage.completion_tokens = static_cast<long>(pieces_.size());
        o.usage.estimated = false; // the demo counts its own words as tokens
        done(o);
    }

    void done(const CallOutcome& o) {
        if (finished_) return;
        finished_ = true;
        if (e_.on_done) e_.on_done(o);
    }

    net::Transport& t_;
    CallRequest r_;
    CallEvents e_;
    std::vector<std::string> pieces_;
    std::size_t next_ = 0;
    long interval_ms_ = 25;
    std::string text_;
    std::string finish_reason_ = "stop";
    net::Transport::Id timer_ = 0;
    bool finished_ = false;
};

} // namespace

std::shared_ptr<ChatCall> start_demo_chat(net::Transport& t, CallRequest r, CallEvents e) {
    auto call = std::make_shared<DemoChatCall>(t, std::move(r), std::move(e));
    call->begin();
    return call;
}

std::shared_ptr<ChatCall> start_chat_call(net::Transport& t, CallRequest r, CallEvents e) {
    if (r.provider.type == config::ProviderType::Demo) return start_demo_chat(t, std::move(r), std::move(e));
    return start_openai_chat(t, std::move(r), std::move(e));
}

} // namespace moa::providers
