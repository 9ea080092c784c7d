// SPDX-License-Identifier: MIT
// The OpenAI-compatible client: POST {base_url}/chat/completions with stream=true, retries with
// exponential backoff and jitter before the first token, connect/first-token/idle timeouts.
#include <nlohmann/json.hpp>

#include <random>

#include "config/key_uses.h"
#include "net/sse_parser.h"
#include "providers/chat_call.h"
#include "providers/chat_stream.h"
#include "providers/openai_chat.h"
#include "providers/redact.h"
#include "providers/visible_text.h"
#include "util/text.h"

namespace moa::providers {
using nlohmann::json;

std::string build_chat_body(const CallRequest& r, bool stream) {
    json msgs = json::array();
    for (const auto& m : r.messages) {
        json one{{"role", m.role}, {"content", m.content}};
        if (m.prefix) one["prefix"] = true;
        msgs.push_back(std::move(one));
    }
    json body{{"model", r.model}, {"messages", std::move(msgs)}};
    if (r.continue_final_message) {
        body["continue_final_message"] = true;
        body["add_generation_prompt"] = false;
    }
    if (stream) {
        body["stream"] = true;
        body["stream_options"] = {{"include_usage", true}};
    }
    if (r.params.temperature) body["temperature"] = *r.params.temperature;
    if (r.params.top_p) body["top_p"] = *r.params.top_p;
    if (r.params.max_tokens) body["max_tokens"] = *r.params.max_tokens;
    if (r.params.seed) body["seed"] = *r.params.seed;
    if (r.params.top_logprobs) {
        body["logprobs"] = true;
        body["top_logprobs"] = *r.params.top_logprobs;
    }
    return body.dump(-1, ' ', false, json::error_handler_t::replace);
}

Usage estimate_usage(const std::vector<Message>& messages, std::string_view answer) {
    Usage u;
    u.estimated = true;
    for (const auto& m : messages) u.prompt_tokens += text::estimate_tokens(m.content) + 4;
    u.completion_tokens = text::estimate_tokens(answer);
    return u;
}

namespace {

constexpr std::size_t kMaxErrorBody = 64 * 1024;
constexpr std::size_t kMaxJsonBody = 64u << 20;

bool retryable_status(long s) { return s == 408 || s == 409 || s == 429 || (s >= 500 && s <= 599); }

class OpenAiChatCall : public ChatCall, public std::enable_shared_from_this<OpenAiChatCall> {
public:
    OpenAiChatCall(net::Transport& t, CallRequest r, CallEvents e)
        : t_(t), r_(std::move(r)), e_(std::move(e)), body_(build_chat_body(r_, true)) {
        std::random_device rd;
        rng_.seed(rd());
    }

    void begin() {
        auto self = shared_from_this();
        t_.post([self] {
            self->arm_call_deadline();
            self->attempt();
        });
    }

    void cancel() override {
        auto self = shared_from_this();
        t_.post([self] {
            if (self->finished_) return;
            self->user_cancelled_ = true;
            if (self->retry_timer_) t_cancel_timer(self);
            if (self->request_id_) self->t_.cancel(self->request_id_);
            else self->finish_cancelled();
        });
    }

private:
    static void t_cancel_timer(const std::shared_ptr<OpenAiChatCall>& self) {
        self->t_.cancel_timer(self->retry_timer_);
        self->retry_timer_ = 0;
    }

    std::string who() const { return "provider \"" + r_.provider.name + "\" (model " + r_.model + ")"; }

    // The whole call, retries and their waits included, has call_timeout_ms: a server that keeps
    // a stream alive for ever cannot hold a run (or a serve slot, or an experiment) for ever.
    void arm_call_deadline() {
        if (r_.provider.call_timeout_ms <= 0) return;
        auto self = shared_from_this();
        call_timer_ = t_.schedule(std::chrono::milliseconds(r_.provider.call_timeout_ms), [self] {
            self->call_timer_ = 0;
            if (self->finished_) return;
            self->call_timed_out_ = true;
            if (self->request_id_) return self->t_.cancel(self->request_id_); // on_done reports it
            if (self->retry_timer_) t_cancel_timer(self);
            self->fail(self->call_timeout_message());
        });
    }

    std::string call_timeout_message() const {
        return "the call took longer than " + std::to_string(r_.provider.call_timeout_ms) + " ms (call_timeout_ms) after " +
               std::to_string(attempts_) + (attempts_ == 1 ? " attempt" : " attempts") + " and " +
               std::to_string(text_.size()) + " bytes of answer";
    }

    // After the first token, only bytes that add answer text or reasoning count as progress: the
    // transport's own idle timer is reset by any byte, keep-alive comments and empty deltas too.
    // One timer per idle period, not one per token: it looks at the last progress when it fires.
    void arm_progress_check(long delay_ms) {
        if (r_.provider.idle_timeout_ms <= 0) return;
        auto self = shared_from_this();
        progress_timer_ = t_.schedule(std::chrono::milliseconds(delay_ms), [self] {
            self->progress_timer_ = 0;
            if (self->finished_ || !self->request_id_) return;
            const long idle = static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                    net::Transport::Clock::now() - self->last_progress_)
                                                    .count());
            if (idle < self->r_.provider.idle_timeout_ms) return self->arm_progress_check(self->r_.provider.idle_timeout_ms - idle);
            self->stalled_ = true;
            self->t_.cancel(self->request_id_);
        });
    }

    void stop_timers() {
        if (call_timer_) t_.cancel_timer(call_timer_);
        if (progress_timer_) t_.cancel_timer(progress_timer_);
        call_timer_ = progress_timer_ = 0;
    }

    void attempt() {
        if (finished_ || user_cancelled_) return;
        retry_timer_ = 0;
        ++attempts_;
        status_ = 0;
        error_body_.clear();
        json_body_.clear();
        stream_mode_ = false;
        first_token_timed_out_ = false;
        text_.clear();
        reasoning_bytes_ = 0;
        visible_text_.reset();
        visible_reasoning_.reset();
        decoder_ = std::make_unique<ChatStreamDecoder>([this](std::string_view c, std::string_view rs) {
            // Whitespace and format characters alone are no progress: a stream of spaces,
            // newlines or zero-width spaces is the same keep-alive as comments or empty deltas.
            const bool visible_text = visible_text_.adds_visible(c); // both: each keeps its own cut sequence
            const bool visible_reasoning = visible_reasoning_.adds_visible(rs);
            if (!got_token_ || visible_text || visible_reasoning) last_progress_ = net::Transport::Clock::now();
            if (!got_token_) {
                got_token_ = true;
                if (first_token_timer_) t_.cancel_timer(first_token_timer_);
                first_token_timer_ = 0;
                arm_progress_check(r_.provider.idle_timeout_ms);
            }
            text_.append(c);
            reasoning_bytes_ += rs.size();
            if (text_.size() + reasoning_bytes_ > r_.provider.max_answer_bytes) {
                answer_too_large_ = true; // stops the read; on_done names the bound
                return;
            }
            if (e_.on_delta) e_.on_delta(c, rs);
        });
        // One event can hold no more than a whole answer plus its JSON framing.
        parser_ = std::make_unique<net::SseParser>([this](const net::SseParser::Event& ev) {
            if (!decoder_->on_data(ev.data)) decode_failed_ = true;
        }, r_.provider.max_answer_bytes + (1u << 20));
        decode_failed_ = false;

        net::HttpRequest req;
        req.url = r_.provider.base_url + "/chat/completions";
        req.body = body_;
        req.connect_timeout_ms = r_.provider.connect_timeout_ms;
        req.idle_timeout_ms = r_.provider.idle_timeout_ms;
        req.verify_tls = r_.provider.tls_verify;
        req.ca_file = r_.provider.ca_file;
        req.headers.push_back("Content-Type: application/json");
        req.headers.push_back("Accept: text/event-stream, application/json");
        if (!r_.api_key.empty())
            req.headers.push_back(r_.provider.key_header.empty() ? "Authorization: Bearer " + r_.api_key
                                                                 : r_.provider.key_header + ": " + r_.api_key);
        for (const auto& [k, v] : r_.provider.headers) req.headers.push_back(k + ": " + v);

        auto self = shared_from_this();
        net::HttpHandler h;
        h.on_head = [self](const net::HttpHead& head) { self->on_head(head); };
        h.on_body = [self](std::string_view b) { return self->on_body(b); };
        h.on_done = [self](const net::HttpResult& res) { self->on_done(res); };
        if (e_.on_attempt) e_.on_attempt();
        request_id_ = t_.start(std::move(req), std::move(h));
        if (r_.provider.first_token_timeout_ms > 0 && !got_token_) {
            first_token_timer_ = t_.schedule(std::chrono::milliseconds(r_.provider.first_token_timeout_ms), [self] {
                self->first_token_timer_ = 0;
                if (self->got_token_ || self->finished_ || !self->request_id_) return;
                self->first_token_timed_out_ = true;
                self->t_.cancel(self->request_id_);
            });
        }
    }

    void on_head(const net::HttpHead& head) {
        status_ = head.status;
        retry_after_ms_ = head.retry_after_ms;
        location_ = head.location;
        if (status_ >= 200 && status_ < 300) {
            std::string ct = text::to_lower(head.content_type);
            // A JSON body means the provider ignored stream=true; anything else is read as SSE.
            stream_mode_ = ct.find("application/json") == std::string::npos;
        }
    }

    bool on_body(std::string_view b) {
        if (status_ < 200 || status_ >= 300) {
            if (error_body_.size() < kMaxErrorBody) error_body_.append(b.substr(0, kMaxErrorBody - error_body_.size()));
            return true;
        }
        if (!stream_mode_) {
            if (json_body_.size() + b.size() > kMaxJsonBody) {
                decode_error_ = "the response body is larger than " + std::to_string(kMaxJsonBody) + " bytes";
                return false;
            }
            json_body_.append(b);
            return true;
        }
        if (!parser_->feed(b)) {
            decode_error_ = parser_->error();
            return false;
        }
        if (decode_failed_) {
            decode_error_ = decoder_->error();
            return false;
        }
        if (answer_too_large_) {
            decode_error_ = "the answer grew past " + std::to_string(r_.provider.max_answer_bytes) +
                            " bytes (max_answer_bytes); the stream was stopped";
            return false;
        }
        return true;
    }

    void on_done(const net::HttpResult& res) {
        request_id_ = 0;
        if (first_token_timer_) {
            t_.cancel_timer(first_token_timer_);
            first_token_timer_ = 0;
        }
        if (progress_timer_) {
            t_.cancel_timer(progress_timer_);
            progress_timer_ = 0;
        }
        if (finished_) return;
        if (user_cancelled_) return finish_cancelled();
        if (call_timed_out_) return fail(call_timeout_message());
        if (stalled_)
            return fail("the stream stalled: no answer text for " + std::to_string(r_.provider.idle_timeout_ms) +
                        " ms (idle_timeout_ms) after " + std::to_string(text_.size()) +
                        " bytes of answer; the server kept the connection busy without adding to the answer "
                        "(keep-alive comments, empty deltas, whitespace or zero-width characters)");
        if (first_token_timed_out_)
            return retry_or_fail("no first token within " + std::to_string(r_.provider.first_token_timeout_ms) +
                                 " ms (first-token timeout)");
        using F = net::HttpFailure;
        switch (res.failure) {
        case F::Aborted:
            return fail(decode_error_.empty() ? "the stream could not be read" : decode_error_);
        case F::TooLarge:
            return fail(res.message);
        case F::Tls:
            return fail(providers::tls_failure_message(r_.provider, res.message));
        case F::Connect:
            return retry_or_fail("cannot connect to " + r_.provider.base_url + ": " + res.message);
        case F::IdleTimeout:
            if (!got_token_) return retry_or_fail(res.message);
            return fail("the stream stalled: " + res.message + " after " + std::to_string(text_.size()) +
                        " bytes of answer");
        case F::Cancelled:
            return fail("the transport was shut down");
        case F::Other:
            if (status_ >= 200 && status_ < 300) {
                if (got_token_) return fail("the stream was cut: " + res.message);
                return retry_or_fail("the connection broke before the first token: " + res.message);
            }
            if (status_ == 0) return retry_or_fail("the connection failed: " + res.message);
            break; // an error status whose body was cut: report the status below
        case F::None:
            break;
        }
        if (status_ < 200 || status_ >= 300) {
            std::string msg = "HTTP " + std::to_string(status_) + ": " +
                              (status_ >= 300 && status_ < 400 ? redirect_message(location_)
                                                               : error_message_from_body(error_body_));
            if ((status_ == 401 || status_ == 403) && r_.api_key.empty() && !r_.provider.api_key_env.empty())
                msg += " — the environment variable " + r_.provider.api_key_env + " is not set";
            else if (status_ == 401 || status_ == 403)
                msg += " — check the key in " + (r_.provider.api_key_env.empty() ? std::string("the provider settings")
                                                                                 : r_.provider.api_key_env);
            if (retryable_status(status_)) return retry_or_fail(msg);
            return fail(msg);
        }
        if (!stream_mode_) {
            if (!decoder_->on_body(json_body_)) return fail(decoder_->error());
            return succeed();
        }
        parser_->finish();
        if (decode_failed_) return fail(decoder_->error());
        if (!decoder_->complete())
            return fail("the stream was cut: it ended after " + std::to_string(decoder_->chunks()) +
                        " chunks without [DONE] or a finish_reason");
        succeed();
    }

    void retry_or_fail(const std::string& why) {
        if (got_token_ || attempts_ > r_.provider.max_retries) {
            if (attempts_ > 1) return fail(why + " (after " + std::to_string(attempts_) + " attempts)");
            return fail(why);
        }
        long cap = r_.provider.retry_max_ms;
        long base = r_.provider.retry_base_ms;
        double exp = static_cast<double>(base) * static_cast<double>(1L << std::min(attempts_ - 1, 20));
        std::uniform_real_distribution<double> jitter(0.5, 1.0);
        long delay = static_cast<long>(std::min<double>(exp, static_cast<double>(cap)) * jitter(rng_));
        if (retry_after_ms_) {
            // The server said when to come back: honour it exactly, unless it asks for longer
            // than this provider's retry_max_ms, in which case waiting would only hide the failure.
            if (*retry_after_ms_ > cap)
                return fail(why + " (the server asks to retry after " + std::to_string(*retry_after_ms_ / 1000) +
                            " s, longer than retry_max_ms " + std::to_string(cap) + " ms)");
            delay = *retry_after_ms_;
        }
        retry_after_ms_.reset();
        if (e_.on_retry) e_.on_retry(attempts_ + 1, delay, why);
        auto self = shared_from_this();
        retry_timer_ = t_.schedule(std::chrono::milliseconds(delay), [self] { self->attempt(); });
    }

    void succeed() {
        CallOutcome o;
        o.ok = true;
        o.http_status = status_;
        o.finish_reason = decoder_->finish_reason().value_or("");
        o.usage = decoder_->usage() ? *decoder_->usage() : estimate_usage(r_.messages, text_);
        if (!decoder_->usage()) o.usage.refused = decoder_->usage_refused();
        o.logprobs = decoder_->logprobs();
        o.attempts = attempts_;
        done(o);
    }

    void fail(const std::string& why) {
        CallOutcome o;
        o.error = who() + ": " + why;
        o.http_status = status_;
        o.attempts = attempts_;
        o.usage = estimate_usage(r_.messages, text_);
        if (decoder_ && decoder_->usage()) o.usage = *decoder_->usage();
        else if (decoder_) o.usage.refused = decoder_->usage_refused();
        done(o);
    }

    void finish_cancelled() {
        CallOutcome o;
        o.cancelled = true;
        o.error = "cancelled";
        o.attempts = attempts_;
        o.usage = estimate_usage(r_.messages, text_);
        done(o);
    }

    void done(const CallOutcome& o) {
        if (finished_) return;
        finished_ = true;
        stop_timers();
        if (e_.on_done) e_.on_done(o);
        // Break cycles: the handlers hold shared pointers to this call.
        decoder_.reset();
        parser_.reset();
    }

    net::Transport& t_;
    CallRequest r_;
    CallEvents e_;
    std::string body_;
    std::mt19937 rng_;
    std::unique_ptr<ChatStreamDecoder> decoder_;
    std::unique_ptr<net::SseParser> parser_;
    net::Transport::Id request_id_ = 0;
    net::Transport::Id retry_timer_ = 0;
    net::Transport::Id first_token_timer_ = 0;
    net::Transport::Id call_timer_ = 0;
    net::Transport::Id progress_timer_ = 0;
    net::Transport::Clock::time_point last_progress_{};
    VisibleText visible_text_, visible_reasoning_;
    int attempts_ = 0;
    long status_ = 0;
    std::optional<long> retry_after_ms_;
    bool stream_mode_ = false;
    bool got_token_ = false;
    bool finished_ = false;
    bool user_cancelled_ = false;
    bool first_token_timed_out_ = false;
    bool call_timed_out_ = false;
    bool stalled_ = false;
    bool decode_failed_ = false;
    bool answer_too_large_ = false;
    std::size_t reasoning_bytes_ = 0;
    std::string decode_error_;
    std::string location_;
    std::string error_body_;
    std::string json_body_;
    std::string text_;
};

} // namespace

std::shared_ptr<ChatCall> start_openai_chat(net::Transport& t, CallRequest r, CallEvents e) {
    // Every message this call makes (retry reasons, its error) leaves it without the key.
    e = redacting_events(std::move(e), r.api_key);
    auto call = std::make_shared<OpenAiChatCall>(t, std::move(r), std::move(e));
    call->begin();
    return call;
}

std::string redirect_message(const std::string& location) {
    if (location.empty()) return "a redirect without a Location, not followed";
    std::string host = config::key_server(location);
    if (auto scheme = host.find("://"); scheme != std::string::npos) host.erase(0, scheme + 3);
    return "redirect to " + text::quote_start(host.empty() ? location : host, 200) +
           " not followed (redirects are never followed, so the key stays with base_url; set base_url to the "
           "address the server redirects to)";
}

std::string tls_failure_message(const config::Provider& provider, const std::string& reason) {
    std::string m = "TLS: the server's certificate could not be verified (" + reason + ")";
    if (provider.ca_file.empty())
        m += "; for a local server with a self-signed certificate, name that certificate in the provider's "
             "\"ca_file\" (or, knowing the risk, set \"tls_verify\": false)";
    else m += " against ca_file " + provider.ca_file;
    return m;
}

} // namespace moa::providers
