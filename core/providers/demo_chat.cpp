// SPDX-License-Identifier: MIT
// The offline demo provider: in-process, no network, no keys. Its text is derived
// deterministically from the prompt, the model name and the references it was given, and is
// streamed word by word at the provider's pace. It is not a real model and says so. Proposers
// answer from different parts of built-in notes (demo_topics.h); agents that are sent answers
// compose theirs from those answers' sentences, so later layers really combine their sources.
#include <algorithm>
#include <cstdint>
#include <sstream>

#include "providers/chat_call.h"
#include "eval/provenance.h"
#include "providers/demo_text.h"
#include "providers/demo_topics.h"
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

// The sentences of a reference, without the demo's own label line.
std::vector<std::string> sentences_of(std::string_view ref) {
    const auto nl = ref.find('\n');
    if (ref.substr(0, nl).starts_with("[offline demo")) ref = nl == std::string_view::npos ? std::string_view{} : ref.substr(nl + 1);
    std::vector<std::string> out;
    for (const auto& s : eval::split_text(ref).sentences) out.emplace_back(ref.substr(s.span.begin, s.span.end - s.span.begin));
    return out;
}

// The same sentence up to case, spacing and punctuation.
std::string sentence_key(const std::string& s) {
    std::string key;
    for (const auto& w : eval::split_text(s).words) key += std::to_string(w.hash) + ' ';
    return key;
}

// Deterministic extractive synthesis: sentences taken in turn from each reference (starting
// from a reference chosen by `h`), repeats dropped, at most `max` of them; then those the
// built-in notes hold are put back in the notes' order, the others after them.
std::string synthesize(const std::vector<std::string>& refs, const DemoTopic& topic, std::uint64_t h, std::size_t max) {
    std::vector<std::vector<std::string>> per_ref;
    std::size_t longest = 0;
    for (const auto& r : refs) {
        per_ref.push_back(sentences_of(r));
        longest = std::max(longest, per_ref.back().size());
    }
    std::vector<std::string> chosen, keys;
    const std::size_t first = h % refs.size();
    for (std::size_t round = 0; round < longest && chosen.size() < max; ++round)
        for (std::size_t k = 0; k < per_ref.size() && chosen.size() < max; ++k) {
            const auto& sents = per_ref[(first + k) % per_ref.size()];
            if (round >= sents.size()) continue;
            const std::string key = sentence_key(sents[round]);
            if (std::find(keys.begin(), keys.end(), key) != keys.end()) continue;
            keys.push_back(key);
            chosen.push_back(sents[round]);
        }
    auto place = [&](const std::string& s) {
        for (std::size_t i = 0; i < topic.sentences.size(); ++i)
            if (s == topic.sentences[i]) return i;
        return topic.sentences.size();
    };
    std::stable_sort(chosen.begin(), chosen.end(), [&](const auto& a, const auto& b) { return place(a) < place(b); });
    std::string out;
    for (const auto& c : chosen) out += (out.empty() ? "" : " ") + c;
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
    std::string quoted = text::quote_start(text::trim(prompt), 90);
    const DemoTopic& topic = demo_topic_for(prompt, fnv1a(prompt)); // the same for every agent of a run
    std::ostringstream o;
    o << "[offline demo, not a real model: " << model << "] ";
    if (refs.empty()) {
        // A part of the notes of its own: five sentences in a row from a place chosen by the model.
        const std::size_t n = topic.sentences.size(), take = std::min<std::size_t>(5, n);
        const std::size_t from = h % (n - take + 1);
        o << "From the built-in notes on " << topic.title << ", for \"" << quoted << "\":\n";
        for (std::size_t i = 0; i < take; ++i) o << (i ? " " : "") << topic.sentences[from + i];
    } else {
        o << "Composed from the sentences of the " << refs.size() << " answer" << (refs.size() == 1 ? "" : "s")
          << " it was sent:\n";
        std::string body = synthesize(refs, topic, h >> 8, 5 + (h >> 16) % 3);
        o << (body.empty() ? "The answers it was sent hold no sentences to compose from." : body);
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
