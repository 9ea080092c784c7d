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
#include "engine/prompt_builder.h"
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

// A reference as the demo reads it: its text, and whether it is still being written (staircase
// streaming marks such an answer, and the demo reads only its sentences that are surely whole).
struct Reference {
    std::string text;
    bool partial = false;
};

// The numbered answers ("\n1. ...", "\n2. ...") after "Responses from models:" in an
// aggregation prompt. Numbers are matched in sequence, so an answer may hold its own lists.
std::vector<Reference> references_in(const std::vector<Message>& msgs) {
    std::vector<Reference> refs;
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
            if (start != std::string_view::npos) {
                std::string_view ref = rest.substr(start, (at == std::string_view::npos ? rest.find("\n\nNote: ", start) : at) - start);
                Reference r;
                if (auto w = ref.find(engine::kStillBeingWritten); w != std::string_view::npos) {
                    ref = ref.substr(0, w);
                    r.partial = true;
                }
                r.text.assign(ref);
                refs.push_back(std::move(r));
            }
            if (at == std::string_view::npos) break;
            start = at + marker.size();
        }
    }
    return refs;
}

// A staircase step's request without the continuation: the messages as the whole call would
// have them, and the demo's own answer so far (empty when it has none).
std::vector<Message> without_continuation(std::vector<Message> msgs, bool continue_final_message, std::string& so_far) {
    so_far.clear();
    if (!msgs.empty() && msgs.back().role == "assistant" && (msgs.back().prefix || continue_final_message)) {
        so_far = std::move(msgs.back().content);
        msgs.pop_back();
        return msgs;
    }
    const std::string open = "\n\n" + std::string(engine::kContinueInstruction) + "\n<<<ANSWER SO FAR\n";
    const std::string close = "\nANSWER SO FAR>>>";
    for (auto it = msgs.rbegin(); it != msgs.rend(); ++it) {
        if (it->role != "user") continue;
        auto& c = it->content;
        const auto at = c.rfind(open);
        if (at != std::string::npos && c.size() >= at + open.size() + close.size() && c.ends_with(close)) {
            so_far = c.substr(at + open.size(), c.size() - close.size() - at - open.size());
            c.erase(at);
        }
        break;
    }
    return msgs;
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
//
// With references still being written (staircase streaming) it returns only the start that no
// later sentence can change, so each step continues the same answer the whole call would give:
// the turns are taken until one needs a sentence not yet written, and of those sentences, in
// the notes' order, only the ones no later sentence can precede. A reference's later sentences
// come after its last whole one in the notes (the demo writes in the notes' order), so they
// cannot come before a sentence at or before that place. `whole` says whether it is the answer.
std::string synthesize(const std::vector<Reference>& refs, const DemoTopic& topic, std::uint64_t h, std::size_t max, bool& whole) {
    std::vector<std::vector<std::string>> per_ref;
    std::size_t longest = 0;
    for (const auto& r : refs) {
        per_ref.push_back(sentences_of(r.text));
        // The last sentence of an answer still being written may not be whole yet.
        if (r.partial && !per_ref.back().empty()) per_ref.back().pop_back();
        longest = std::max(longest, per_ref.back().size());
    }
    auto place = [&](const std::string& s) {
        for (std::size_t i = 0; i < topic.sentences.size(); ++i)
            if (s == topic.sentences[i]) return i;
        return topic.sentences.size();
    };
    const bool any_partial = std::any_of(refs.begin(), refs.end(), [](const Reference& r) { return r.partial; });
    std::vector<std::string> chosen, keys;
    whole = true;
    std::size_t stop_round = 0;
    const std::size_t first = h % refs.size();
    for (std::size_t round = 0; whole && (round < longest || any_partial) && chosen.size() < max; ++round)
        for (std::size_t k = 0; k < per_ref.size() && chosen.size() < max; ++k) {
            const std::size_t r = (first + k) % per_ref.size();
            const auto& sents = per_ref[r];
            if (round >= sents.size()) {
                if (!refs[r].partial) continue;
                whole = false; // this turn's sentence is not written yet
                stop_round = round;
                break;
            }
            const std::string key = sentence_key(sents[round]);
            if (std::find(keys.begin(), keys.end(), key) != keys.end()) continue;
            keys.push_back(key);
            chosen.push_back(sents[round]);
        }
    std::stable_sort(chosen.begin(), chosen.end(), [&](const auto& a, const auto& b) { return place(a) < place(b); });
    if (!whole) {
        // The lowest place a sentence chosen later can have: a sentence already written from
        // the stopping turn on, or one still to come in an answer being written.
        std::size_t bound = topic.sentences.size();
        for (std::size_t r = 0; r < refs.size(); ++r) {
            const auto& sents = per_ref[r];
            for (std::size_t i = stop_round; i < sents.size(); ++i) bound = std::min(bound, place(sents[i]));
            if (refs[r].partial) bound = std::min(bound, sents.empty() ? 0 : place(sents.back()));
        }
        // At the same place a later sentence is the same one (dropped as a repeat) or one the
        // notes do not hold (put after those already chosen).
        chosen.erase(std::find_if(chosen.begin(), chosen.end(), [&](const auto& s) { return place(s) > bound; }), chosen.end());
    }
    std::string out;
    for (const auto& c : chosen) out += (out.empty() ? "" : " ") + c;
    return out;
}

} // namespace

namespace {
// The demo's whole answer as far as the messages determine it (`whole` when they do entirely).
std::string determined_answer(const std::string& model, const std::vector<Message>& messages, bool& whole) {
    whole = true;
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
        std::string body = synthesize(refs, topic, h >> 8, 5 + (h >> 16) % 3, whole);
        o << (body.empty() && whole ? "The answers it was sent hold no sentences to compose from." : body);
    }
    return o.str();
}
} // namespace

std::string demo_answer(const std::string& model, const std::vector<Message>& messages) {
    bool whole = true;
    return determined_answer(model, messages, whole);
}

std::string demo_step_answer(const std::string& model, const std::vector<Message>& messages, bool continue_final_message) {
    std::string so_far;
    const auto msgs = without_continuation(messages, continue_final_message, so_far);
    bool whole = true;
    const std::string answer = determined_answer(model, msgs, whole);
    if (answer.starts_with(so_far)) return answer.substr(so_far.size());
    // The answer so far is not the start of this one (references changed under it, say one
    // failed mid-way): go on with the sentences it does not hold yet rather than start again.
    std::vector<std::string> said;
    for (const auto& s : eval::split_text(so_far).sentences)
        said.push_back(sentence_key(so_far.substr(s.span.begin, s.span.end - s.span.begin)));
    std::string rest;
    for (const auto& s : eval::split_text(answer).sentences) {
        const std::string sentence = answer.substr(s.span.begin, s.span.end - s.span.begin);
        if (std::find(said.begin(), said.end(), sentence_key(sentence)) == said.end()) rest += " " + sentence;
    }
    return rest;
}

namespace {

class DemoChatCall : public ChatCall, public std::enable_shared_from_this<DemoChatCall> {
public:
    DemoChatCall(net::Transport& t, CallRequest r, CallEvents e) : t_(t), r_(std::move(r)), e_(std::move(e)) {}

    void begin() {
        std::string answer = demo_step_answer(r_.model, r_.messages, r_.continue_final_message);
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
