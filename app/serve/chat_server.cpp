// SPDX-License-Identifier: MIT
#include "serve/chat_server.h"

#include <microhttpd.h>
#include <netdb.h>
#include <sys/socket.h>

#include <chrono>
#include <condition_variable>
#include <cstring>
#include <ctime>
#include <deque>
#include <mutex>
#include <variant>

#include "serve/openai_request.h"

namespace moa::serve {
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

// One chat request's run, shared by the engine's sink (transport thread) and the connection's
// thread (the access handler, then the content reader).
struct Job {
    std::mutex mu;
    std::condition_variable cv;
    std::deque<std::string> out; // SSE text not yet sent
    std::size_t out_offset = 0;  // of out.front(), when a read took only part of it
    bool first_token = false;
    bool ended = false;
    bool tail_sent = false;
    std::shared_ptr<const engine::RunRecord> final;
    std::shared_ptr<engine::Run> run;
    ChatRequest req;
    std::string id;
    std::string model;
    long created = 0;
    long keepalive_ms = 1000;
    bool role_sent = false;

    json chunk(json delta, json finish = nullptr) const {
        return {{"id", id}, {"object", "chat.completion.chunk"}, {"created", created}, {"model", model},
                {"choices", json::array({{{"index", 0}, {"delta", std::move(delta)}, {"finish_reason", std::move(finish)}}})}};
    }
};

struct Conn {
    std::string body;
    bool too_large = false;
    std::shared_ptr<Job> job;
};

bool client_gone(MHD_Connection* c) {
    const MHD_ConnectionInfo* info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (!info) return false;
    char b;
    ssize_t n = recv(info->connect_fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0; // orderly shutdown by the client
}

MHD_Result send_json(MHD_Connection* c, unsigned status, const json& body) {
    std::string s = body.dump(-1, ' ', false, json::error_handler_t::replace);
    MHD_Response* r = MHD_create_response_from_buffer(s.size(), s.data(), MHD_RESPMEM_MUST_COPY);
    MHD_add_response_header(r, "Content-Type", "application/json");
    MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

MHD_Result send_error(MHD_Connection* c, const RequestError& e) {
    return send_json(c, static_cast<unsigned>(e.status), error_body(e));
}

RequestError upstream_error(const engine::RunRecord& r) {
    RequestError e;
    e.status = 502;
    e.type = "upstream_error";
    e.code = r.status == engine::RunStatus::Cancelled ? "cancelled" : "run_failed";
    e.message = "the MoA run failed: " + r.error;
    return e;
}

} // namespace

struct ChatServer::Impl {
    static MHD_Result handle(void* cls, MHD_Connection* c, const char* url, const char* method, const char*,
                             const char* upload, size_t* upload_size, void** con_cls) {
        auto* self = static_cast<ChatServer*>(cls);
        if (!*con_cls) {
            *con_cls = new Conn();
            return MHD_YES;
        }
        auto* conn = static_cast<Conn*>(*con_cls);
        if (*upload_size) {
            if (conn->body.size() + *upload_size > self->opt_.max_body_bytes) conn->too_large = true;
            else conn->body.append(upload, *upload_size);
            *upload_size = 0;
            return MHD_YES;
        }
        std::string path = url, m = method;
        if (path.size() > 1 && path.back() == '/') path.pop_back();
        if (path == "/v1/models" || path == "/models") {
            if (m != "GET") return send_error(c, {405, "use GET for /v1/models", "invalid_request_error", "method_not_allowed", {}});
            if (auto e = check_key(self, c)) return send_error(c, *e);
            json data = json::array();
            for (const auto& cfg : self->opt_.configs)
                data.push_back({{"id", cfg.name}, {"object", "model"}, {"created", 0}, {"owned_by", "moa-workbench"},
                                {"description", cfg.description}});
            return send_json(c, 200, {{"object", "list"}, {"data", data}});
        }
        if (path == "/v1/chat/completions" || path == "/chat/completions") {
            if (m != "POST")
                return send_error(c, {405, "use POST for /v1/chat/completions", "invalid_request_error", "method_not_allowed", {}});
            if (auto e = check_key(self, c)) return send_error(c, *e);
            if (conn->too_large)
                return send_error(c, {413, "the request body is larger than " + std::to_string(self->opt_.max_body_bytes) + " bytes",
                                      "invalid_request_error", "request_too_large", {}});
            return chat(self, c, conn);
        }
        return send_error(c, {404, "no such endpoint: " + m + " " + path + " (this server has /v1/chat/completions and /v1/models)",
                              "invalid_request_error", "not_found", {}});
    }

    static std::optional<RequestError> check_key(ChatServer* self, MHD_Connection* c) {
        if (self->opt_.api_key.empty()) return std::nullopt;
        const char* auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
        if (auth && std::string(auth) == "Bearer " + self->opt_.api_key) return std::nullopt;
        return RequestError{401, auth ? "the API key is not valid" : "an API key is required: Authorization: Bearer <key>",
                            "invalid_request_error", "invalid_api_key", {}};
    }

    static MHD_Result chat(ChatServer* self, MHD_Connection* c, Conn* conn) {
        auto parsed = parse_chat_request(conn->body);
        if (auto* e = std::get_if<RequestError>(&parsed)) return send_error(c, *e);
        ChatRequest req = std::get<ChatRequest>(std::move(parsed));
        const config::Config* base = nullptr;
        std::string names;
        for (const auto& cfg : self->opt_.configs) {
            if (cfg.name == req.model) base = &cfg;
            names += (names.empty() ? "" : ", ") + cfg.name;
        }
        if (!base)
            return send_error(c, {404, "the model \"" + req.model + "\" does not exist (served: " + names + ")",
                                  "invalid_request_error", "model_not_found", std::string("model")});
        // Admission: a slot for this run, or 429.
        int now = self->running_.load();
        do {
            if (now >= self->opt_.max_runs)
                return send_error(c, {429, "the server is running " + std::to_string(now) + " MoA runs, its limit; retry shortly",
                                      "rate_limit_error", "rate_limit_exceeded", {}});
        } while (!self->running_.compare_exchange_weak(now, now + 1));

        auto job = std::make_shared<Job>();
        conn->job = job;
        job->req = req;
        job->model = base->name;
        job->keepalive_ms = self->opt_.keepalive_ms;
        job->created = static_cast<long>(std::time(nullptr));
        const config::Config cfg = apply_request(*base, req);
        const int last_layer = static_cast<int>(cfg.layers.size()) - 1;
        engine::EventSink sink = [self, job, last_layer](const engine::Event& e) {
            using T = engine::Event::Type;
            std::lock_guard<std::mutex> lock(job->mu);
            if (e.type == T::AgentDelta && e.layer == last_layer) {
                if (e.text.empty()) return;
                json delta{{"content", e.text}};
                if (!job->role_sent) {
                    delta["role"] = "assistant";
                    job->role_sent = true;
                }
                job->out.push_back(sse_data(job->chunk(std::move(delta))));
                job->first_token = true;
            } else if (job->req.include_layers && e.layer >= 0 && e.layer < last_layer &&
                       (e.type == T::AgentDelta || e.type == T::AgentDone || e.type == T::AgentFailed)) {
                json moa{{"layer", e.layer}, {"agent", e.agent}, {"event", engine::to_string(e.type)}};
                if (e.type == T::AgentDelta) moa["delta"] = {{"content", e.text}, {"reasoning", e.reasoning}};
                if (e.record) moa["model"] = e.record->model;
                if (!e.message.empty()) moa["error"] = e.message;
                json chunk{{"id", job->id}, {"object", "chat.completion.chunk"}, {"created", job->created},
                           {"model", job->model}, {"choices", json::array()}, {"moa", moa}};
                job->out.push_back(sse_data(chunk));
            } else if (e.type == T::RunDone || e.type == T::RunFailed || e.type == T::RunCancelled) {
                job->ended = true;
                job->final = e.final_record;
                // Under runs_mu_, notifying included: stop() (and the server's destruction) can
                // only go on once this sink no longer touches the server.
                std::lock_guard<std::mutex> runs_lock(self->runs_mu_);
                self->running_--;
                self->runs_cv_.notify_all();
            } else {
                return;
            }
            job->cv.notify_all();
        };
        if (self->recorder_) sink = self->recorder_->sink("serve", cfg, req.input, sink);
        {
            std::lock_guard<std::mutex> lock(job->mu);
            job->run = self->engine_.start(cfg, req.input, sink);
            job->id = "chatcmpl-moa-" + std::to_string(job->run->id());
        }

        if (!req.stream) {
            std::unique_lock<std::mutex> lock(job->mu);
            while (!job->ended) {
                job->cv.wait_for(lock, std::chrono::milliseconds(250));
                if (!job->ended && client_gone(c)) {
                    job->run->cancel();
                    return MHD_NO; // closes the connection
                }
            }
            const auto& r = *job->final;
            if (r.status != engine::RunStatus::Done) return send_error(c, upstream_error(r));
            const auto& agg = r.layers.back().agents.back();
            json body{{"id", job->id}, {"object", "chat.completion"}, {"created", job->created}, {"model", job->model},
                      {"choices", json::array({{{"index", 0},
                                                {"message", {{"role", "assistant"}, {"content", r.final_text.value_or("")}}},
                                                {"finish_reason", agg.finish_reason.empty() ? "stop" : agg.finish_reason}}})},
                      {"usage", usage_json(r.totals)}};
            if (req.include_layers) body["moa"] = engine::to_json(r);
            lock.unlock();
            return send_json(c, 200, body);
        }

        // Streaming: hold the status line briefly so that a run failing at once gets a real 502.
        {
            std::unique_lock<std::mutex> lock(job->mu);
            auto until = Clock::now() + std::chrono::milliseconds(self->opt_.hold_ms);
            while (!job->ended && !job->first_token && Clock::now() < until) {
                job->cv.wait_until(lock, std::min(until, Clock::now() + std::chrono::milliseconds(250)));
                if (!job->ended && !job->first_token && client_gone(c)) {
                    job->run->cancel();
                    return MHD_NO;
                }
            }
            if (job->ended && job->final->status != engine::RunStatus::Done && !job->first_token)
                return send_error(c, upstream_error(*job->final));
        }
        auto* holder = new std::shared_ptr<Job>(job);
        MHD_Response* r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, &Impl::read_stream, holder,
                                                            &Impl::free_stream);
        MHD_add_response_header(r, "Content-Type", "text/event-stream");
        MHD_add_response_header(r, "Cache-Control", "no-cache");
        MHD_add_response_header(r, "X-Accel-Buffering", "no");
        MHD_Result ret = MHD_queue_response(c, 200, r);
        MHD_destroy_response(r);
        return ret;
    }

    // Called by libmicrohttpd on the connection's thread whenever it can send more.
    static ssize_t read_stream(void* cls, uint64_t, char* buf, size_t max) {
        auto& job = *static_cast<std::shared_ptr<Job>*>(cls);
        std::unique_lock<std::mutex> lock(job->mu);
        if (job->out.empty() && !job->ended) {
            job->cv.wait_for(lock, std::chrono::milliseconds(job->keepalive_ms),
                             [&] { return !job->out.empty() || job->ended; });
            if (job->out.empty() && !job->ended) {
                static const char kKeepAlive[] = ": keep-alive\n\n";
                std::size_t n = std::min(max, sizeof kKeepAlive - 1);
                std::memcpy(buf, kKeepAlive, n);
                return static_cast<ssize_t>(n);
            }
        }
        if (job->out.empty() && job->ended) {
            if (job->tail_sent) return MHD_CONTENT_READER_END_OF_STREAM;
            job->tail_sent = true;
            const auto& r = *job->final;
            if (r.status == engine::RunStatus::Done) {
                const auto& agg = r.layers.back().agents.back();
                job->out.push_back(sse_data(job->chunk(json::object(), agg.finish_reason.empty() ? "stop" : agg.finish_reason)));
                if (job->req.include_usage) {
                    json u{{"id", job->id}, {"object", "chat.completion.chunk"}, {"created", job->created},
                           {"model", job->model}, {"choices", json::array()}, {"usage", usage_json(r.totals)}};
                    job->out.push_back(sse_data(u));
                }
                job->out.push_back("data: [DONE]\n\n");
            } else {
                // The status line is gone already: the error travels in the stream, as
                // OpenAI-compatible providers send it, and there is no [DONE].
                job->out.push_back(sse_data(error_body(upstream_error(r))));
            }
        }
        std::size_t written = 0;
        while (!job->out.empty() && written < max) {
            const std::string& front = job->out.front();
            std::size_t n = std::min(max - written, front.size() - job->out_offset);
            std::memcpy(buf + written, front.data() + job->out_offset, n);
            written += n;
            job->out_offset += n;
            if (job->out_offset == front.size()) {
                job->out.pop_front();
                job->out_offset = 0;
            }
        }
        return static_cast<ssize_t>(written);
    }

    // The response is gone (sent, or the client disconnected): a run still going is cancelled.
    static void free_stream(void* cls) {
        auto* holder = static_cast<std::shared_ptr<Job>*>(cls);
        {
            std::lock_guard<std::mutex> lock((*holder)->mu);
            if (!(*holder)->ended && (*holder)->run) (*holder)->run->cancel();
        }
        delete holder;
    }

    static void completed(void*, MHD_Connection*, void** con_cls, MHD_RequestTerminationCode) {
        auto* conn = static_cast<Conn*>(*con_cls);
        if (!conn) return;
        if (conn->job) {
            std::lock_guard<std::mutex> lock(conn->job->mu);
            if (!conn->job->ended && conn->job->run) conn->job->run->cancel();
        }
        delete conn;
        *con_cls = nullptr;
    }
};

ChatServer::ChatServer(ServeOptions options, const accounting::Catalog& catalog, store::HistoryRecorder* recorder)
    : opt_(std::move(options)), engine_(catalog), recorder_(recorder) {}

ChatServer::~ChatServer() { stop(); }

Result<int> ChatServer::start() {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo* res = nullptr;
    std::string port = std::to_string(opt_.port);
    if (int rc = getaddrinfo(opt_.host.c_str(), port.c_str(), &hints, &res); rc != 0 || !res)
        return Error{"cannot resolve the host \"" + opt_.host + "\": " + gai_strerror(rc)};
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD;
    if (res->ai_family == AF_INET6) flags |= MHD_USE_IPv6;
    daemon_ = MHD_start_daemon(flags, 0, nullptr, nullptr, &Impl::handle, this,
                               MHD_OPTION_SOCK_ADDR, res->ai_addr,
                               MHD_OPTION_NOTIFY_COMPLETED, &Impl::completed, nullptr,
                               MHD_OPTION_CONNECTION_TIMEOUT, 120u,
                               MHD_OPTION_CONNECTION_LIMIT, 512u,
                               MHD_OPTION_END);
    freeaddrinfo(res);
    if (!daemon_) return Error{"cannot listen on " + opt_.host + ":" + port + " (is the port in use?)"};
    const MHD_DaemonInfo* info = MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_BIND_PORT);
    return info ? static_cast<int>(info->port) : opt_.port;
}

void ChatServer::stop() {
    if (daemon_) {
        MHD_stop_daemon(daemon_); // every connection is closed: each cancels its run
        daemon_ = nullptr;
    }
    std::unique_lock<std::mutex> lock(runs_mu_);
    runs_cv_.wait(lock, [this] { return running_.load() == 0; });
}

} // namespace moa::serve
