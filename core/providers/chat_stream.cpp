// SPDX-License-Identifier: MIT
#include "providers/chat_stream.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <tuple>

#include "util/duplicate_keys.h"
#include "util/json_guard.h"
#include "util/text.h"

namespace moa::providers {
using nlohmann::json;

namespace {

// Provider messages are shown and stored: a few KB at most.
constexpr std::size_t kMaxMessageBytes = 2000;

std::string clip(std::string s) {
    if (s.size() <= kMaxMessageBytes) return s;
    std::size_t n = kMaxMessageBytes;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n; // a UTF-8 boundary
    s.resize(n);
    return s + "…";
}

// A value as message text: strings, numbers and booleans as they are; objects and arrays by
// their kind. Untrusted JSON is never dump()ed for a message: dump recurses as deep as the value.
std::string scalar_text(const json& v) {
    switch (v.type()) {
    case json::value_t::string: return clip(v.get<std::string>());
    case json::value_t::boolean: return v.get<bool>() ? "true" : "false";
    case json::value_t::number_integer: return std::to_string(v.get<std::int64_t>());
    case json::value_t::number_unsigned: return std::to_string(v.get<std::uint64_t>());
    case json::value_t::number_float: {
        char buf[40];
        std::snprintf(buf, sizeof buf, "%g", v.get<double>());
        return buf;
    }
    case json::value_t::object: return "an object";
    case json::value_t::array: return "a list";
    default: return "null";
    }
}

bool is_scalar(const json& v) { return !v.is_structured() && !v.is_null() && !v.is_discarded(); }

// The message of an error object: its "message" and its code or type; with no message, its
// other scalar members ("status INTERNAL, retry 3").
std::string error_object_text(const json& err) {
    std::string msg;
    for (const char* k : {"message", "msg"}) { // "msg": FastAPI's validation errors
        if (auto m = err.find(k); m != err.end() && is_scalar(*m)) {
            msg = scalar_text(*m);
            break;
        }
    }
    std::string code;
    for (const char* k : {"code", "type"}) {
        if (auto c = err.find(k); c != err.end() && is_scalar(*c)) {
            code = scalar_text(*c);
            break;
        }
    }
    if (msg.empty()) {
        for (auto it = err.begin(); it != err.end() && msg.size() < kMaxMessageBytes; ++it)
            if (is_scalar(it.value()) && it.key() != "code" && it.key() != "type" && it.key() != "msg")
                msg += (msg.empty() ? "" : ", ") + clip(it.key()) + " " + scalar_text(it.value());
        if (msg.empty()) msg = "an error without a message";
    }
    if (!code.empty() && msg.find(code) == std::string::npos) msg += " (" + code + ")";
    return clip(msg);
}

std::string error_text(const json& err) {
    if (err.is_object()) return error_object_text(err);
    if (err.is_array() && !err.empty() && err[0].is_object()) return error_object_text(err[0]);
    return scalar_text(err);
}

// Content as providers send it: a string, or (Mistral Magistral) a list of typed parts.
void collect_content(const json& c, std::string& text, std::string& reasoning) {
    if (c.is_string()) {
        text += c.get_ref<const std::string&>();
    } else if (c.is_array()) {
        for (const auto& part : c) {
            if (!part.is_object()) continue;
            auto type = part.value("type", std::string());
            if (type == "text" && part.contains("text") && part["text"].is_string()) {
                text += part["text"].get_ref<const std::string&>();
            } else if (type == "thinking" && part.contains("thinking")) {
                std::string ignored;
                collect_content(part["thinking"], reasoning, ignored);
            }
        }
    }
}

// A delta or a message: its content, and its reasoning kept apart. vLLM sends both reasoning
// fields with the same text; reasoning_content is preferred.
void collect_message(const json& m, std::string& text, std::string& reasoning) {
    if (auto c = m.find("content"); c != m.end()) collect_content(*c, text, reasoning);
    auto rc = m.find("reasoning_content");
    if (rc != m.end() && rc->is_string()) reasoning += rc->get_ref<const std::string&>();
    else if (auto r = m.find("reasoning"); r != m.end() && r->is_string()) reasoning += r->get_ref<const std::string&>();
}

// A provider's token count: a finite whole number from 0 to 10^12, else -1 (not believed). A
// double like 1e308 cast to long is undefined, and a negative count makes a negative cost.
long token_count(double v) {
    if (!std::isfinite(v) || v < 0 || v > 1e12 || v != std::floor(v)) return -1;
    return static_cast<long>(v);
}

// Usage whose counts are not believable is no usage: the call's tokens are then estimated and
// marked as estimated, never taken from a hostile or broken server as they are.
std::optional<Usage> believable(std::optional<Usage> u) {
    if (u && (u->prompt_tokens < 0 || u->completion_tokens < 0)) return std::nullopt;
    return u;
}

// A usage object's counts; nullopt when it has none or one is refused (a value that is not a
// whole number from 0 to 10^12: 1e308, -5, 2^64+1, "x"), and then `refused` says which.
std::optional<Usage> read_usage(const json& u, std::string& refused) {
    if (!u.is_object()) return std::nullopt;
    Usage out;
    auto p = u.find("prompt_tokens");
    auto c = u.find("completion_tokens");
    if (p == u.end() && c == u.end()) return std::nullopt;
    for (auto [it, name, count] : {std::tuple{p, "prompt_tokens", &out.prompt_tokens},
                                   std::tuple{c, "completion_tokens", &out.completion_tokens}}) {
        if (it == u.end() || it->is_null()) continue;
        *count = it->is_number() ? token_count(it->get<double>()) : -1;
        if (*count < 0) {
            if (refused.empty())
                refused = std::string("usage.") + name + " " + (it->is_string() ? "\"" + scalar_text(*it) + "\"" : scalar_text(*it)) +
                          " is not a token count (a whole number from 0 to 10^12)";
            return std::nullopt;
        }
    }
    return believable(out);
}

} // namespace

namespace {

// The fast path for the common chunk: a SAX pass that keeps only the fields the decoder needs
// and builds no DOM. Anything unusual (an error object, content as a list, x_groq, a parse
// error) makes it give up, and the chunk goes through the DOM path, which handles everything.
struct ChunkSax : nlohmann::json_sax<json> {
    struct Choice {
        long index = 0;
        std::string content, reasoning_content, reasoning;
        std::optional<std::string> finish_reason;
    };
    std::vector<Choice> choices;
    std::optional<Usage> usage;
    bool give_up = false;

    // Where we are: depth of nesting and the keys that matter.
    int depth = 0;
    std::string top_key;    // key at depth 1
    std::string choice_key; // key at depth 3 (inside choices[i])
    std::string inner_key;  // key at depth 4 (inside delta or usage at depth 2)
    bool in_choices = false;
    bool in_delta = false;
    // The keys of each open object, hashed: a key given twice sends the chunk to the DOM path,
    // which names it and refuses the line (a collision of hashes only costs that detour).
    std::vector<std::size_t> key_hashes; // of every open object, innermost last
    std::vector<std::size_t> frames;     // where each open object's keys start in key_hashes

    bool stop() {
        give_up = true;
        return false;
    }
    bool null() override {
        if (depth == 1 && top_key == "error") return true; // "error": null is no error
        return true;
    }
    bool boolean(bool) override { return usage_count_key() ? stop() : true; }
    bool number_integer(number_integer_t v) override { return number(static_cast<double>(v)); }
    bool number_unsigned(number_unsigned_t v) override { return number(static_cast<double>(v)); }
    bool number_float(number_float_t v, const string_t&) override { return number(v); }
    bool number(double v) {
        if (depth == 3 && in_choices && choice_key == "index") choices.back().index = token_count(v); // -1 (not 0) when absurd
        else if (depth == 2 && top_key == "usage") {
            if (!usage) usage = Usage{};
            if (inner_key == "prompt_tokens") usage->prompt_tokens = token_count(v);
            else if (inner_key == "completion_tokens") usage->completion_tokens = token_count(v);
            // A count that is refused goes to the DOM path, which says which and why.
            if ((inner_key == "prompt_tokens" || inner_key == "completion_tokens") &&
                (usage->prompt_tokens < 0 || usage->completion_tokens < 0))
                return stop();
        }
        return true;
    }
    bool usage_count_key() const {
        return depth == 2 && top_key == "usage" && (inner_key == "prompt_tokens" || inner_key == "completion_tokens");
    }
    bool string(string_t& v) override {
        if (depth == 1 && top_key == "error") return stop();
        if (usage_count_key()) return stop(); // a count given as text: refused by the DOM path
        if (depth == 4 && in_delta) {
            auto& c = choices.back();
            if (inner_key == "content") c.content += v;
            else if (inner_key == "reasoning_content") c.reasoning_content += v;
            else if (inner_key == "reasoning") c.reasoning += v;
        } else if (depth == 3 && in_choices && choice_key == "finish_reason") {
            choices.back().finish_reason = v;
        }
        return true;
    }
    bool binary(binary_t&) override { return true; }
    // Past the depth limit the chunk goes to the DOM path, whose guard refuses it with the same
    // message as any other line nested too deep (the fast path once accepted 1,500,000 levels).
    bool too_deep() const { return depth > static_cast<int>(json_guard::kMaxDepth); }
    bool start_object(std::size_t) override {
        frames.push_back(key_hashes.size());
        ++depth;
        if (too_deep()) return stop();
        if (depth == 1) return true;
        if (depth == 2 && top_key == "error") return stop();
        if (depth == 3 && in_choices) choices.emplace_back();
        if (depth == 4 && in_choices && choice_key == "delta") in_delta = true;
        if (depth == 4 && in_choices && choice_key == "logprobs") return stop(); // rare: the DOM path reads it
        return true;
    }
    bool end_object() override {
        if (!frames.empty()) {
            key_hashes.resize(frames.back());
            frames.pop_back();
        }
        if (depth == 4) in_delta = false;
        --depth;
        return true;
    }
    bool start_array(std::size_t) override {
        ++depth;
        if (too_deep()) return stop();
        if (depth == 2 && top_key == "choices") in_choices = true;
        else if (depth == 5 && in_delta && inner_key == "content") return stop(); // content as a list
        return true;
    }
    bool end_array() override {
        if (depth == 2) in_choices = false;
        --depth;
        return true;
    }
    bool key(string_t& k) override {
        if (!frames.empty()) {
            const std::size_t h = std::hash<std::string_view>{}(k);
            if (std::find(key_hashes.begin() + static_cast<std::ptrdiff_t>(frames.back()), key_hashes.end(), h) != key_hashes.end())
                return stop();
            key_hashes.push_back(h);
        }
        if (depth == 1) {
            top_key = k;
            if (k == "x_groq") return stop();
        } else if (depth == 2 && top_key == "usage") {
            inner_key = k;
        } else if (depth == 3 && in_choices) {
            choice_key = k;
        } else if (depth == 4) {
            inner_key = k;
        }
        return true;
    }
    bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
        give_up = true;
        return false;
    }
};

} // namespace

bool ChatStreamDecoder::fail(std::string message) {
    if (error_.empty()) error_ = std::move(message);
    return false;
}

bool ChatStreamDecoder::on_data(std::string_view data) {
    if (!error_.empty()) return false;
    ++chunks_;
    // Fast path for the terminator.
    if (data.size() >= 6 && data.size() <= 8 && text::trim(data) == "[DONE]") {
        done_ = true;
        return true;
    }
    if (!data.empty() && data.front() == '{') {
        ChunkSax sax;
        bool ok = json::sax_parse(data, &sax, json::input_format_t::json, /*strict=*/true);
        if (ok && !sax.give_up && sax.depth == 0) {
            if (auto us = believable(sax.usage)) usage_ = us;
            for (auto& c : sax.choices) {
                if (c.index != 0) continue;
                if (c.finish_reason) finish_reason_ = std::move(c.finish_reason);
                std::string_view reasoning = !c.reasoning_content.empty() ? c.reasoning_content : c.reasoning;
                if (!c.content.empty() || !reasoning.empty()) {
                    any_content_ = any_content_ || !c.content.empty();
                    sink_(c.content, reasoning);
                }
            }
            return true;
        }
    }
    return on_data_dom(data);
}

namespace {
// Why `data` did not parse as JSON, for the message: bytes that are not UTF-8 (a server in
// another encoding, a corrupted stream) or a value cut short (a lying Content-Length, a cut
// connection) say so; anything else is "not valid JSON".
std::string why_not_json(std::string_view data) {
    if (auto at = text::invalid_utf8_at(data); at != std::string_view::npos) {
        char buf[96];
        std::snprintf(buf, sizeof buf, "is not valid UTF-8 (byte 0x%02X at offset %zu)",
                      static_cast<unsigned char>(data[at]), at);
        return buf;
    }
    try {
        json parsed = json::parse(data);
        (void)parsed;
    } catch (const json::parse_error& e) {
        if (e.byte >= data.size()) return "is not valid JSON: it ends in the middle of a value (cut short after " +
                                          std::to_string(data.size()) + " bytes)";
    } catch (const json::exception&) {
    }
    return "is not valid JSON";
}
} // namespace

bool ChatStreamDecoder::on_data_dom(std::string_view data) {
    if (auto deep = json_guard::check(data))
        return fail("the stream sent a data line that " + *deep + ": \"" + text::quote_start(data, 60) + "\"");
    json_guard::DuplicateKeys duplicates;
    json j = json::parse(data, std::ref(duplicates), /*allow_exceptions=*/false);
    if (j.is_discarded())
        return fail("the stream sent a data line that " + why_not_json(data) + ": \"" +
                    text::quote_start(data, 60) + "\"");
    if (duplicates.found)
        return fail("the stream sent a data line with the key at " + *duplicates.found +
                    " twice (which one counts is ambiguous; each key once): \"" + text::quote_start(data, 60) + "\"");
    if (!j.is_object())
        return fail("the stream sent a data line that is not a JSON object: \"" +
                    text::quote_start(data, 60) + "\"");
    if (auto e = j.find("error"); e != j.end() && !e->is_null())
        return fail("the provider reported an error inside the stream: " + error_text(*e));

    if (auto u = j.find("usage"); u != j.end() && !u->is_null()) {
        if (auto us = read_usage(*u, usage_refused_)) usage_ = us;
    } else if (auto xg = j.find("x_groq"); xg != j.end() && xg->is_object()) {
        if (auto u2 = xg->find("usage"); u2 != xg->end())
            if (auto us = read_usage(*u2, usage_refused_)) usage_ = us;
    }

    auto ch = j.find("choices");
    if (ch == j.end() || !ch->is_array()) return true; // null (vLLM) or absent: usage-only chunk
    for (const auto& choice : *ch) {
        if (!choice.is_object()) continue;
        if (auto idx = choice.find("index"); idx != choice.end() && idx->is_number() &&
                                             idx->get<long>() != 0)
            continue; // n > 1: only the first choice is the agent's answer
        std::string content, reasoning;
        if (auto d = choice.find("delta"); d != choice.end() && d->is_object()) collect_message(*d, content, reasoning);
        collect_logprobs(choice);
        if (auto fr = choice.find("finish_reason"); fr != choice.end() && fr->is_string())
            finish_reason_ = fr->get<std::string>();
        if (!content.empty() || !reasoning.empty()) {
            any_content_ = any_content_ || !content.empty();
            sink_(content, reasoning);
        }
    }
    return true;
}

// choices[i].logprobs.content[] = {token, logprob, top_logprobs: [{token, logprob}]}; anything
// else in that place is ignored (the answer matters more than its probabilities).
void ChatStreamDecoder::collect_logprobs(const json& choice) {
    auto lp = choice.find("logprobs");
    if (lp == choice.end() || !lp->is_object()) return;
    auto content = lp->find("content");
    if (content == lp->end() || !content->is_array()) return;
    for (const auto& pos : *content) {
        if (logprobs_.size() >= kMaxLogprobPositions) return;
        if (!pos.is_object()) continue;
        TokenLogprobs t;
        if (auto tk = pos.find("token"); tk != pos.end() && tk->is_string()) t.token = tk->get<std::string>();
        if (auto l = pos.find("logprob"); l != pos.end() && l->is_number()) t.logprob = l->get<double>();
        if (auto top = pos.find("top_logprobs"); top != pos.end() && top->is_array())
            for (const auto& alt : *top) {
                if (t.top.size() >= 20) break;
                auto tk = alt.find("token");
                auto l = alt.find("logprob");
                if (alt.is_object() && tk != alt.end() && tk->is_string() && l != alt.end() && l->is_number())
                    t.top.emplace_back(tk->get<std::string>(), l->get<double>());
            }
        logprobs_.push_back(std::move(t));
    }
}

bool ChatStreamDecoder::on_body(std::string_view body) {
    if (auto deep = json_guard::check(body))
        return fail("the provider answered with a body that " + *deep + ": \"" + text::quote_start(body, 60) + "\"");
    json_guard::DuplicateKeys duplicates;
    json j = json::parse(body, std::ref(duplicates), false);
    if (j.is_discarded())
        return fail("the provider answered with a body that " + why_not_json(body) + ": \"" +
                    text::quote_start(body, 60) + "\"");
    if (duplicates.found)
        return fail("the provider answered with a body that has the key at " + *duplicates.found +
                    " twice (which one counts is ambiguous; each key once): \"" + text::quote_start(body, 60) + "\"");
    if (!j.is_object())
        return fail("the provider answered with a body that is not a JSON object: \"" +
                    text::quote_start(body, 60) + "\"");
    if (auto e = j.find("error"); e != j.end() && !e->is_null())
        return fail("the provider reported an error: " + error_text(*e));
    if (auto u = j.find("usage"); u != j.end())
        if (auto us = read_usage(*u, usage_refused_)) usage_ = us;
    auto ch = j.find("choices");
    if (ch == j.end() || !ch->is_array() || ch->empty())
        return fail("the provider's answer has no choices");
    const json& c0 = (*ch)[0];
    std::string content, reasoning;
    if (auto m = c0.find("message"); m != c0.end() && m->is_object()) {
        collect_message(*m, content, reasoning);
    } else if (auto t = c0.find("text"); t != c0.end() && t->is_string()) {
        content = t->get<std::string>();
    }
    collect_logprobs(c0);
    if (auto fr = c0.find("finish_reason"); fr != c0.end() && fr->is_string())
        finish_reason_ = fr->get<std::string>();
    else
        finish_reason_ = "stop"; // a whole body is complete by construction
    any_content_ = !content.empty();
    if (!content.empty() || !reasoning.empty()) sink_(content, reasoning);
    return true;
}

std::string error_message_from_body(std::string_view body) {
    if (auto deep = json_guard::check(body))
        return "a body that " + *deep + ": \"" + text::quote_start(text::trim(body), 60) + "\"";
    json j = json::parse(body, nullptr, false);
    if (!j.is_discarded()) {
        if (j.is_object()) {
            if (auto e = j.find("error"); e != j.end() && !e->is_null()) return error_text(*e);
            if (auto m = j.find("message"); m != j.end() && m->is_string()) return clip(m->get<std::string>());
            if (auto d = j.find("detail"); d != j.end()) return error_text(*d);
        } else if (j.is_array() && !j.empty() && j[0].is_object() && j[0].contains("error")) {
            return error_text(j[0]["error"]); // Gemini wraps errors in a list
        }
    }
    std::string t = text::trim(body);
    if (t.empty()) return "no message in the response body";
    return "\"" + text::quote_start(t, 200) + "\"";
}

} // namespace moa::providers
