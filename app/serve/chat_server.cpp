// SPDX-License-Identifier: MIT
#include "serve/chat_server.h"

#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstring>
#include <ctime>
#include <deque>
#include <iostream>
#include <mutex>
#include <set>
#include <thread>
#include <variant>

#include "serve/connection_screen.h"
#include "serve/openai_request.h"
#include "serve/request_checks.h"
#include "util/json_guard.h"
#include "util/text.h"

namespace moa::serve {
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

// One chat request's run, shared by the connection's thread (the access handler, then the
// content reader) and, weakly, by the engine's sink (transport thread). The sink must not own
// the job: the run keeps its sink until the run is freed, and the job owns the run.
struct Job {
    std::mutex mu;
    std::condition_variable cv;
    std::deque<std::string> out; // SSE text not yet sent
    std::size_t out_offset = 0;  // of out.front(), when a read took only part of it
    std::size_t out_bytes = 0;   // in `out`, the part of its front already sent included
    bool stream = false;
    bool not_reading = false;    // the unsent text passed kMaxUnsent: the run was stopped
    bool first_token = false;
    bool ended = false;
    bool tail_sent = false;
    bool shutting_down = false; // the server is stopping: end with an error event
    bool closed = false;        // the connection's request is over
    std::shared_ptr<const engine::RunRecord> final;
    std::shared_ptr<engine::Run> run;
    bool include_usage = false;
    bool include_layers = false;
    bool expose_errors = false;
    std::string id;
    std::string model;
    long created = 0;
    long keepalive_ms = 1000;
    bool role_sent = false;

    void push(std::string text) {
        out_bytes += text.size();
        out.push_back(std::move(text));
    }
    // What the run produces for the client (mu held). A non-streaming request reads the record
    // at the end, so nothing is queued for it; a streaming client that does not read what it is
    // sent (its socket full) gets at most kMaxUnsent queued, and then its run is stopped.
    bool queue(std::string text);

    json chunk(json delta, json finish = nullptr) const {
        return {{"id", id}, {"object", "chat.completion.chunk"}, {"created", created}, {"model", model},
                {"choices", json::array({{{"index", 0}, {"delta", std::move(delta)}, {"finish_reason", std::move(finish)}}})}};
    }
};

// The SSE text one streaming response may hold unsent: a client that stops reading (its
// socket's buffers full) held the whole answer here, up to its 8 MB cap several times over in
// chunk objects (~35 MB a client, measured); past this its run is stopped.
constexpr std::size_t kMaxUnsent = 1u << 20;
const char* kClientNotReading = "stopped: client not reading (over 1 MB of the answer unsent)";

bool Job::queue(std::string text) {
    if (!stream || not_reading) return false;
    push(std::move(text));
    if (out_bytes > kMaxUnsent && !ended && run) {
        not_reading = true;
        run->cancel(kClientNotReading);
    }
    return true;
}

// An open connection, for the watchdog: what it is waiting for the client to send, since when.
struct Pending {
    enum class Phase { Headers, Body, Busy }; // Busy: the server is answering; not watched
    int fd = -1;
    Clock::time_point since;
    Phase phase = Phase::Headers;
    bool closing = false; // shut down by the watchdog or to make room
};

const char* kGenericUpstream = "an upstream provider failed (the server's log says which and why; its operator "
                               "can pass the details on with --expose-upstream-errors)";

RequestError upstream_error(const engine::RunRecord& r, bool expose) {
    RequestError e;
    e.status = 502;
    e.type = "upstream_error";
    e.code = r.status == engine::RunStatus::Cancelled ? "cancelled" : "run_failed";
    e.message = "the MoA run failed: " + (expose || r.status == engine::RunStatus::Cancelled ? r.error : kGenericUpstream);
    return e;
}

} // namespace

struct ChatServer::Live {
    std::atomic<int> running{0};
    std::atomic<bool> stopping{false};
    std::mutex mu;
    std::vector<std::weak_ptr<Job>> jobs; // open requests with a run
    std::set<Pending*> pending;           // every open connection
    std::condition_variable watchdog_cv;
    bool watchdog_stop = false;
    std::thread watchdog;
    long header_timeout_ms = 10000;
    long body_timeout_ms = 30000;
    unsigned max_connections = 256;
    std::atomic<std::size_t> buffered{0}; // bytes of request bodies held, over all connections
    std::size_t body_budget = 0;

    void add_job(const std::shared_ptr<Job>& j) {
        std::lock_guard<std::mutex> lock(mu);
        std::erase_if(jobs, [](const std::weak_ptr<Job>& w) { return w.expired(); });
        jobs.push_back(j);
    }
    std::vector<std::shared_ptr<Job>> open_jobs() {
        std::lock_guard<std::mutex> lock(mu);
        std::vector<std::shared_ptr<Job>> out;
        for (const auto& w : jobs)
            if (auto j = w.lock()) out.push_back(std::move(j));
        return out;
    }
    // The socket is shut down, not closed: libmicrohttpd's thread sees the end and closes it
    // itself; the lock (held by the caller) keeps `fd` from being reused meanwhile (the close
    // notification removes the entry under the same lock first).
    static void close_locked(Pending* p) {
        p->closing = true;
        shutdown(p->fd, SHUT_RDWR);
    }
    // Closes connections whose request headers or body are late.
    void watch() {
        std::unique_lock<std::mutex> lock(mu);
        while (!watchdog_stop) {
            watchdog_cv.wait_for(lock, std::chrono::milliseconds(200));
            const auto now = Clock::now();
            for (Pending* p : pending) {
                if (p->closing || p->phase == Pending::Phase::Busy) continue;
                const long limit = p->phase == Pending::Phase::Headers ? header_timeout_ms : body_timeout_ms;
                if (now - p->since > std::chrono::milliseconds(limit)) close_locked(p);
            }
            release_stopped_runs_locked();
        }
    }
    // A client that does not read keeps its connection until libmicrohttpd's timeout; its run,
    // stopped, is let go now (the answer so far and the record: megabytes), and what the
    // connection still holds is the unsent text and the error event that ends it. Here, not in
    // the run's sink: the sink must not free the run it is called from.
    void release_stopped_runs_locked() {
        for (const auto& w : jobs) {
            auto j = w.lock();
            if (!j) continue;
            std::lock_guard<std::mutex> lock(j->mu);
            if (!j->ended || !j->not_reading || !j->run) continue;
            if (!j->tail_sent && j->final) {
                j->push(sse_data(error_body(upstream_error(*j->final, j->expose_errors))));
                j->tail_sent = true;
            }
            j->final.reset();
            j->run.reset();
        }
    }
    // A new connection beyond max_connections: the one that has waited longest for its headers
    // makes room (libmicrohttpd's own limit is a little higher, so that it accepts the newcomer);
    // when every connection has sent its headers, the one whose body has taken longest does, so
    // that clients trickling bodies cannot hold every connection either (the hostile review:
    // 300 of them locked everyone out for the whole body timeout, and for good by reconnecting).
    // A connection whose request runs (Busy) is never closed to make room, nor the newcomer.
    void make_room_locked(const Pending* newcomer) {
        std::size_t open = 0;
        for (const Pending* p : pending) open += !p->closing;
        while (open > max_connections) {
            Pending* oldest = nullptr;
            for (Pending* p : pending)
                if (p != newcomer && !p->closing && p->phase == Pending::Phase::Headers && (!oldest || p->since < oldest->since))
                    oldest = p;
            if (!oldest)
                for (Pending* p : pending)
                    if (!p->closing && p->phase == Pending::Phase::Body && (!oldest || p->since < oldest->since)) oldest = p;
            if (!oldest) return;
            close_locked(oldest);
            --open;
        }
    }
    void set_phase(MHD_Connection* c, Pending::Phase phase) {
        const MHD_ConnectionInfo* info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
        if (!info || !info->socket_context) return;
        std::lock_guard<std::mutex> lock(mu);
        auto* p = static_cast<Pending*>(info->socket_context);
        p->phase = phase;
        p->since = Clock::now();
    }
};

namespace {

// One of --max-runs, taken before the body is read and given back when the run ends (or when
// the request ends without one).
struct RunSlot {
    std::shared_ptr<ChatServer::Live> live;
    std::atomic<bool> held{true};
    explicit RunSlot(std::shared_ptr<ChatServer::Live> l) : live(std::move(l)) {}
    void release() {
        if (held.exchange(false)) live->running--;
    }
    ~RunSlot() { release(); }
};

struct Conn {
    std::shared_ptr<ChatServer::Live> live;
    std::string body;
    std::size_t accounted = 0; // of live->buffered, held by `body`
    bool too_large = false;
    bool busy = false; // the bodies being received took the whole budget
    json_guard::Scanner scanner{{json_guard::kMaxDepth, kMaxRequestValues}};
    bool refused = false; // the scanner stopped: the rest of the body is dropped unread
    std::shared_ptr<RunSlot> slot;
    std::shared_ptr<Job> job;

    explicit Conn(std::shared_ptr<ChatServer::Live> l) : live(std::move(l)) {}
    ~Conn() { drop_body(); }
    Conn(const Conn&) = delete;
    Conn& operator=(const Conn&) = delete;
    // Takes `n` more bytes of the budget for the body, or says there is no room.
    bool account(std::size_t n) {
        std::size_t now = live->buffered.load();
        do {
            if (now + n > live->body_budget) return false;
        } while (!live->buffered.compare_exchange_weak(now, now + n));
        accounted += n;
        return true;
    }
    void drop_body() {
        std::string().swap(body);
        live->buffered -= accounted;
        accounted = 0;
    }
};

bool client_gone(MHD_Connection* c) {
    const MHD_ConnectionInfo* info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (!info) return false;
    char b;
    ssize_t n = recv(info->connect_fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0; // orderly shutdown by the client
}

// Every response closes its connection: each request then comes on a new connection, and so
// passes the ConnectionScreen before libmicrohttpd reads its head.
MHD_Result send_json(MHD_Connection* c, unsigned status, const json& body) {
    std::string s = body.dump(-1, ' ', false, json::error_handler_t::replace);
    MHD_Response* r = MHD_create_response_from_buffer(s.size(), s.data(), MHD_RESPMEM_MUST_COPY);
    MHD_add_response_header(r, "Content-Type", "application/json");
    MHD_add_response_header(r, "Connection", "close");
    MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

MHD_Result send_error(MHD_Connection* c, const RequestError& e) {
    return send_json(c, static_cast<unsigned>(e.status), error_body(e));
}

// Where a request's body ends must be beyond doubt: two Content-Length headers, or one beside
// Transfer-Encoding, are how a request is smuggled past a proxy in front (each side reads a
// different body). Refused, and the connection is closed (the rest of what it sent is no request).
std::optional<RequestError> check_framing(MHD_Connection* c) {
    struct Count {
        int length = 0, encoding = 0;
    } n;
    MHD_get_connection_values(
        c, MHD_HEADER_KIND,
        [](void* cls, MHD_ValueKind, const char* key, const char*) -> MHD_Result {
            auto* n = static_cast<Count*>(cls);
            if (key && strcasecmp(key, "Content-Length") == 0) ++n->length;
            if (key && strcasecmp(key, "Transfer-Encoding") == 0) ++n->encoding;
            return MHD_YES;
        },
        &n);
    if (n.length > 1)
        return RequestError{400, "the request has " + std::to_string(n.length) + " Content-Length headers; one is allowed",
                            "invalid_request_error", "bad_framing", {}};
    if (n.length == 1 && n.encoding > 0)
        return RequestError{400, "the request has both Content-Length and Transfer-Encoding; send one of them",
                            "invalid_request_error", "bad_framing", {}};
    return std::nullopt;
}

// What a run's record says when its client went away before the answer was complete.
const char* kClientGone = "cancelled: the client closed the connection";

RequestError shutdown_error() {
    return {503, "the server is shutting down; the run was stopped", "server_error", "server_shutdown", {}};
}

// The record as a client may see it: without providers' messages unless the operator opted in.
engine::RunRecord for_client(const engine::RunRecord& r, bool expose) {
    engine::RunRecord c = r;
    if (expose) return c;
    if (!c.error.empty()) c.error = kGenericUpstream;
    for (auto& L : c.layers)
        for (auto& a : L.agents)
            if (a.error && *a.error != "cancelled") a.error = "failed (see the server's log)";
    return c;
}

std::string header(MHD_Connection* c, const char* name) {
    const char* v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
    return v ? std::string(v) : std::string();
}

} // namespace

constexpr unsigned kNewcomerRoom = 32;

struct ChatServer::Impl {
    static MHD_Result handle(void* cls, MHD_Connection* c, const char* url, const char* method, const char*,
                             const char* upload, size_t* upload_size, void** con_cls) {
        auto* self = static_cast<ChatServer*>(cls);
        if (!*con_cls) {
            // The headers are complete: everything that needs no body is decided now, so that
            // nobody without a key or a run slot makes the server buffer a body.
            self->live_->set_phase(c, Pending::Phase::Body);
            auto* conn = new Conn(self->live_);
            *con_cls = conn;
            return first_call(self, c, url, method);
        }
        auto* conn = static_cast<Conn*>(*con_cls);
        if (*upload_size) {
            if (!conn->too_large && !conn->refused && !conn->busy) {
                if (conn->body.size() + *upload_size > self->opt_.max_body_bytes) {
                    conn->too_large = true;
                    conn->drop_body();
                } else if (!conn->scanner.feed(std::string_view(upload, *upload_size))) {
                    conn->refused = true;
                    conn->drop_body();
                } else if (!conn->account(*upload_size)) {
                    conn->busy = true;
                    conn->drop_body();
                } else {
                    conn->body.append(upload, *upload_size);
                }
            }
            *upload_size = 0;
            return MHD_YES;
        }
        // The body is complete: the server works on it from here (no body deadline).
        self->live_->set_phase(c, Pending::Phase::Busy);
        if (conn->too_large) return send_error(c, too_large(self));
        if (conn->busy)
            return send_error(c, {503, "the server is receiving too many request bodies at once; retry shortly",
                                  "server_error", "server_busy", {}});
        if (conn->refused)
            return send_error(c, {400, "the request body " + conn->scanner.error() + ": it is not accepted",
                                  "invalid_request_error", "invalid_json", {}});
        return chat(self, c, conn);
    }

    static RequestError too_large(ChatServer* self) {
        return {413, "the request body is larger than " + std::to_string(self->opt_.max_body_bytes) + " bytes",
                "invalid_request_error", "request_too_large", {}};
    }

    static MHD_Result first_call(ChatServer* self, MHD_Connection* c, const char* url, const char* method) {
        if (self->live_->stopping) return send_error(c, shutdown_error());
        if (auto e = check_framing(c)) return send_error(c, *e);
        std::string path = url, m = method;
        if (path.size() > 1 && path.back() == '/') path.pop_back();
        const bool models = path == "/v1/models" || path == "/models";
        const bool chat = path == "/v1/chat/completions" || path == "/chat/completions";
        if (!models && !chat)
            return send_error(c, {404, "no such endpoint: " + text::quote_start(m, 16) + " " + text::quote_start(path, 80) + " (this server has /v1/chat/completions and /v1/models)",
                                  "invalid_request_error", "not_found", {}});
        if (models && m != "GET") return send_error(c, {405, "use GET for /v1/models", "invalid_request_error", "method_not_allowed", {}});
        if (chat && m != "POST")
            return send_error(c, {405, "use POST for /v1/chat/completions", "invalid_request_error", "method_not_allowed", {}});
        if (auto e = check_origin(header(c, "Host"), header(c, "Origin"), self->opt_.host, self->opt_.allow_hosts))
            return send_error(c, *e);
        if (auto e = check_key(self, c)) return send_error(c, *e);
        if (models) {
            json data = json::array();
            for (const auto& cfg : self->opt_.configs)
                data.push_back({{"id", cfg.name}, {"object", "model"}, {"created", 0}, {"owned_by", "moa-workbench"},
                                {"description", cfg.description}});
            return send_json(c, 200, {{"object", "list"}, {"data", data}});
        }
        if (auto e = check_content_type(header(c, "Content-Type"))) return send_error(c, *e);
        // A declared length past the cap is refused before a byte of it is read.
        const std::string length = header(c, "Content-Length");
        if (!length.empty()) {
            char* end = nullptr;
            unsigned long long n = std::strtoull(length.c_str(), &end, 10);
            if (end && *end == '\0' && n > self->opt_.max_body_bytes) return send_error(c, too_large(self));
        }
        // Admission: no run slot free now, 429 before the body. The slot itself is taken once the
        // body is complete (take_slot): a client that uploads slowly holds none.
        if (const int now = self->live_->running.load(); now >= self->opt_.max_runs) return send_error(c, busy_runs(now));
        return MHD_YES;
    }

    static RequestError busy_runs(int now) {
        return {429, "the server is running " + std::to_string(now) + " MoA runs, its limit; retry shortly",
                "rate_limit_error", "rate_limit_exceeded", {}};
    }

    // A slot for this run, or 429.
    static std::optional<RequestError> take_slot(ChatServer* self, Conn* conn) {
        int now = self->live_->running.load();
        do {
            if (now >= self->opt_.max_runs) return busy_runs(now);
        } while (!self->live_->running.compare_exchange_weak(now, now + 1));
        conn->slot = std::make_shared<RunSlot>(self->live_);
        return std::nullopt;
    }

    static std::optional<RequestError> check_key(ChatServer* self, MHD_Connection* c) {
        if (self->opt_.api_key.empty()) return std::nullopt;
        const char* auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
        if (auth && strncasecmp(auth, "Bearer ", 7) == 0 && std::string(auth + std::min<std::size_t>(7, std::strlen(auth))) == self->opt_.api_key) return std::nullopt; // the scheme is case-insensitive (RFC 9110)
        return RequestError{401, auth ? "the API key is not valid" : "an API key is required: Authorization: Bearer <key>",
                            "invalid_request_error", "invalid_api_key", {}};
    }

    static MHD_Result chat(ChatServer* self, MHD_Connection* c, Conn* conn) {
        auto parsed = parse_chat_request(conn->body);
        conn->drop_body(); // the request holds what is needed now
        if (auto* e = std::get_if<RequestError>(&parsed)) return send_error(c, *e);
        ChatRequest req = std::get<ChatRequest>(std::move(parsed));
        const config::Config* base = nullptr;
        std::string names;
        for (const auto& cfg : self->opt_.configs) {
            if (cfg.name == req.model) base = &cfg;
            names += (names.empty() ? "" : ", ") + cfg.name;
        }
        if (!base)
            return send_error(c, {404, "the model \"" + text::quote_start(req.model, 80) + "\" does not exist (served: " + names + ")",
                                  "invalid_request_error", "model_not_found", std::string("model")});
        if (auto e = take_slot(self, conn)) return send_error(c, *e);

        auto job = std::make_shared<Job>();
        conn->job = job;
        job->include_usage = req.include_usage;
        job->stream = req.stream;
        job->include_layers = req.include_layers;
        job->expose_errors = self->opt_.expose_upstream_errors;
        job->model = base->name;
        job->keepalive_ms = self->opt_.keepalive_ms;
        job->created = static_cast<long>(std::time(nullptr));
        const config::Config cfg = apply_request(*base, req);
        const int last_layer = static_cast<int>(cfg.layers.size()) - 1;
        std::weak_ptr<Job> weak = job;
        std::shared_ptr<RunSlot> slot = conn->slot;
        engine::EventSink sink = [weak, slot, last_layer](const engine::Event& e) {
            using T = engine::Event::Type;
            const bool end = e.type == T::RunDone || e.type == T::RunFailed || e.type == T::RunCancelled;
            if (end) {
                slot->release();
                if (e.final_record && e.final_record->status != engine::RunStatus::Done &&
                    e.final_record->status != engine::RunStatus::Cancelled)
                    std::cerr << "moa serve: run " << e.run << " failed: " << e.final_record->error << std::endl;
            }
            auto job = weak.lock();
            if (!job) return; // the client is gone; the run was cancelled
            std::lock_guard<std::mutex> lock(job->mu);
            if (e.type == T::AgentDelta && e.layer == last_layer) {
                if (e.text.empty()) return;
                json delta{{"content", e.text}};
                if (!job->role_sent) {
                    delta["role"] = "assistant";
                    job->role_sent = true;
                }
                job->queue(sse_data(job->chunk(std::move(delta))));
                job->first_token = true;
            } else if (job->include_layers && e.layer >= 0 && e.layer < last_layer &&
                       (e.type == T::AgentDelta || e.type == T::AgentDone || e.type == T::AgentFailed)) {
                json moa{{"layer", e.layer}, {"agent", e.agent}, {"event", engine::to_string(e.type)}};
                if (e.type == T::AgentDelta) moa["delta"] = {{"content", e.text}, {"reasoning", e.reasoning}};
                if (e.record) moa["model"] = e.record->model;
                if (!e.message.empty()) moa["error"] = job->expose_errors ? e.message : "failed (see the server's log)";
                json chunk{{"id", job->id}, {"object", "chat.completion.chunk"}, {"created", job->created},
                           {"model", job->model}, {"choices", json::array()}, {"moa", moa}};
                job->queue(sse_data(chunk));
            } else if (end) {
                job->ended = true;
                job->final = e.final_record;
            } else {
                return;
            }
            job->cv.notify_all();
        };
        if (self->recorder_) sink = self->recorder_->sink("serve", cfg, req.input, sink);
        {
            std::lock_guard<std::mutex> lock(job->mu);
            job->run = self->engine_.start(cfg, std::move(req.input), sink);
            job->id = "chatcmpl-moa-" + std::to_string(job->run->id());
        }
        conn->slot.reset(); // the run's sink holds it now
        self->live_->add_job(job);

        if (!req.stream) {
            std::unique_lock<std::mutex> lock(job->mu);
            while (!job->ended && !job->shutting_down) {
                job->cv.wait_for(lock, std::chrono::milliseconds(250));
                if (!job->ended && client_gone(c)) {
                    job->run->cancel(kClientGone);
                    return MHD_NO; // closes the connection
                }
            }
            if (job->shutting_down) return send_error(c, shutdown_error());
            const auto& r = *job->final;
            if (r.status != engine::RunStatus::Done) return send_error(c, upstream_error(r, job->expose_errors));
            const auto& agg = r.layers.back().agents.back();
            json body{{"id", job->id}, {"object", "chat.completion"}, {"created", job->created}, {"model", job->model},
                      {"choices", json::array({{{"index", 0},
                                                {"message", {{"role", "assistant"}, {"content", r.final_text.value_or("")}}},
                                                {"finish_reason", agg.finish_reason.empty() ? "stop" : agg.finish_reason}}})},
                      {"usage", usage_json(r.totals)}};
            if (job->include_layers) body["moa"] = engine::to_json(for_client(r, job->expose_errors));
            lock.unlock();
            return send_json(c, 200, body);
        }

        // Streaming: hold the status line briefly so that a run failing at once gets a real 502.
        {
            std::unique_lock<std::mutex> lock(job->mu);
            auto until = Clock::now() + std::chrono::milliseconds(self->opt_.hold_ms);
            while (!job->ended && !job->first_token && !job->shutting_down && Clock::now() < until) {
                job->cv.wait_until(lock, std::min(until, Clock::now() + std::chrono::milliseconds(250)));
                if (!job->ended && !job->first_token && client_gone(c)) {
                    job->run->cancel(kClientGone);
                    return MHD_NO;
                }
            }
            if (job->shutting_down && !job->first_token) return send_error(c, shutdown_error());
            if (job->ended && !job->first_token && job->final && job->final->status != engine::RunStatus::Done)
                return send_error(c, upstream_error(*job->final, job->expose_errors));
        }
        auto* holder = new std::shared_ptr<Job>(job);
        MHD_Response* r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, &Impl::read_stream, holder,
                                                            &Impl::free_stream);
        MHD_add_response_header(r, "Content-Type", "text/event-stream");
        MHD_add_response_header(r, "Cache-Control", "no-cache");
        MHD_add_response_header(r, "X-Accel-Buffering", "no");
        MHD_add_response_header(r, "Connection", "close");
        MHD_Result ret = MHD_queue_response(c, 200, r);
        MHD_destroy_response(r);
        return ret;
    }

    // Called by libmicrohttpd on the connection's thread whenever it can send more.
    static ssize_t read_stream(void* cls, uint64_t, char* buf, size_t max) {
        auto& job = *static_cast<std::shared_ptr<Job>*>(cls);
        std::unique_lock<std::mutex> lock(job->mu);
        if (job->out.empty() && !job->ended && !job->shutting_down) {
            job->cv.wait_for(lock, std::chrono::milliseconds(job->keepalive_ms),
                             [&] { return !job->out.empty() || job->ended || job->shutting_down; });
            if (job->out.empty() && !job->ended && !job->shutting_down) {
                static const char kKeepAlive[] = ": keep-alive\n\n";
                std::size_t n = std::min(max, sizeof kKeepAlive - 1);
                std::memcpy(buf, kKeepAlive, n);
                return static_cast<ssize_t>(n);
            }
        }
        if (job->shutting_down && !job->tail_sent) {
            // What was produced goes out, then the error; no [DONE]: the answer is not complete.
            job->tail_sent = true;
            job->push(sse_data(error_body(shutdown_error())));
        }
        if (job->out.empty() && (job->ended || job->shutting_down)) {
            if (job->tail_sent) return MHD_CONTENT_READER_END_OF_STREAM;
            job->tail_sent = true;
            const auto& r = *job->final;
            if (r.status == engine::RunStatus::Done) {
                const auto& agg = r.layers.back().agents.back();
                job->push(sse_data(job->chunk(json::object(), agg.finish_reason.empty() ? "stop" : agg.finish_reason)));
                if (job->include_usage) {
                    json u{{"id", job->id}, {"object", "chat.completion.chunk"}, {"created", job->created},
                           {"model", job->model}, {"choices", json::array()}, {"usage", usage_json(r.totals)}};
                    job->push(sse_data(u));
                }
                job->push("data: [DONE]\n\n");
            } else {
                // The status line is gone already: the error travels in the stream, as
                // OpenAI-compatible providers send it, and there is no [DONE].
                job->push(sse_data(error_body(upstream_error(r, job->expose_errors))));
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
                job->out_bytes -= front.size();
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
            if (!(*holder)->ended && (*holder)->run) (*holder)->run->cancel(kClientGone);
        }
        delete holder;
    }

    static void completed(void* cls, MHD_Connection* c, void** con_cls, MHD_RequestTerminationCode) {
        auto* self = static_cast<ChatServer*>(cls);
        if (const MHD_ConnectionInfo* info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
            info && info->socket_context) {
            // The next request on this connection (keep-alive) has the same time for its headers.
            std::lock_guard<std::mutex> lock(self->live_->mu);
            auto* p = static_cast<Pending*>(info->socket_context);
            p->phase = Pending::Phase::Headers;
            p->since = Clock::now();
        }
        auto* conn = static_cast<Conn*>(*con_cls);
        if (!conn) return;
        if (conn->job) {
            std::lock_guard<std::mutex> lock(conn->job->mu);
            if (!conn->job->ended && conn->job->run) conn->job->run->cancel(kClientGone);
            conn->job->closed = true;
        }
        delete conn;
        *con_cls = nullptr;
    }

    static void connection_event(void* cls, MHD_Connection* c, void** socket_context, MHD_ConnectionNotificationCode code) {
        auto* live = static_cast<ChatServer::Live*>(cls);
        std::lock_guard<std::mutex> lock(live->mu);
        if (code == MHD_CONNECTION_NOTIFY_STARTED) {
            const MHD_ConnectionInfo* info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
            if (!info) return;
            auto* p = new Pending{info->connect_fd, Clock::now()};
            live->pending.insert(p);
            *socket_context = p;
            live->make_room_locked(p);
        } else if (code == MHD_CONNECTION_NOTIFY_CLOSED && *socket_context) {
            auto* p = static_cast<Pending*>(*socket_context);
            live->pending.erase(p);
            delete p;
            *socket_context = nullptr;
        }
    }
};

ChatServer::ChatServer(ServeOptions options, const accounting::Catalog& catalog, store::HistoryRecorder* recorder)
    : opt_(std::move(options)), engine_(catalog), recorder_(recorder), live_(std::make_shared<Live>()) {
    live_->header_timeout_ms = opt_.header_timeout_ms;
    live_->body_timeout_ms = opt_.body_timeout_ms;
    live_->max_connections = opt_.max_connections;
    live_->body_budget = static_cast<std::size_t>(opt_.max_runs) * opt_.max_body_bytes;
}

ChatServer::~ChatServer() { stop(); }

int ChatServer::running_runs() const { return live_->running; }

Result<int> ChatServer::start() {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo* res = nullptr;
    std::string port = std::to_string(opt_.port);
    if (int rc = getaddrinfo(opt_.host.c_str(), port.c_str(), &hints, &res); rc != 0 || !res)
        return Error{"cannot resolve the host \"" + opt_.host + "\": " + gai_strerror(rc)};
    // The listening socket is ours: each new connection's head passes the screen before
    // libmicrohttpd gets the connection (MHD_add_connection).
    listen_fd_ = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (listen_fd_ >= 0) setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    const bool bound = listen_fd_ >= 0 && bind(listen_fd_, res->ai_addr, res->ai_addrlen) == 0 && listen(listen_fd_, SOMAXCONN) == 0;
    freeaddrinfo(res);
    if (!bound) {
        if (listen_fd_ >= 0) close(listen_fd_);
        listen_fd_ = -1;
        return Error{"cannot listen on " + opt_.host + ":" + port + " (is the port in use?)"};
    }
    sockaddr_storage local{};
    socklen_t local_len = sizeof local;
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&local), &local_len);
    const int bound_port = ntohs(local.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&local)->sin6_port
                                                             : reinterpret_cast<sockaddr_in*>(&local)->sin_port);
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ITC;
    if (local.ss_family == AF_INET6) flags |= MHD_USE_IPv6;
    daemon_ = MHD_start_daemon(flags, 0, nullptr, nullptr, &Impl::handle, this,
                               MHD_OPTION_NOTIFY_COMPLETED, &Impl::completed, this,
                               MHD_OPTION_NOTIFY_CONNECTION, &Impl::connection_event, live_.get(),
                               MHD_OPTION_CONNECTION_TIMEOUT, 120u,
                               // Room for newcomers past max_connections, each of which closes
                               // the connection that has waited longest for its headers.
                               // (kept by the screen's handover; this is a backstop it never reaches)
                               MHD_OPTION_CONNECTION_LIMIT, 2 * (opt_.max_connections + kNewcomerRoom),
                               MHD_OPTION_END);
    if (!daemon_) {
        close(listen_fd_);
        listen_fd_ = -1;
        return Error{"cannot start the HTTP server on " + opt_.host + ":" + port};
    }
    MHD_Daemon* daemon = daemon_;
    screen_ = std::make_unique<ConnectionScreen>(
        listen_fd_, ConnectionScreen::Options{opt_.header_timeout_ms, opt_.max_connections, opt_.max_body_bytes},
        [daemon, live = live_](int fd, const sockaddr* addr, socklen_t len) {
            // The limit is kept here, never reached inside libmicrohttpd: 0.9.75's
            // MHD_add_connection past its own limit leaves a lock held, and every connection
            // thread then waits on it for ever (found with 300 clients trickling bodies).
            bool full;
            {
                std::lock_guard<std::mutex> lock(live->mu);
                full = live->pending.size() >= live->max_connections + kNewcomerRoom;
            }
            if (full) {
                const std::string r = error_response(503, "the server has too many open connections; retry shortly",
                                                     "too_many_connections", "");
                (void)!send(fd, r.data(), r.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
                close(fd);
                return;
            }
            MHD_add_connection(daemon, fd, addr, len);
        });
    screen_->start();
    live_->watchdog = std::thread([live = live_] { live->watch(); });
    return bound_port;
}

void ChatServer::stop(const std::string& reason) {
    if (!daemon_) return;
    screen_->stop(); // no new connections
    live_->stopping = true;
    const auto jobs = live_->open_jobs();
    for (const auto& j : jobs) {
        std::lock_guard<std::mutex> lock(j->mu);
        j->shutting_down = true;
        if (j->run && !j->ended) j->run->cancel(reason);
        j->cv.notify_all();
    }
    // The connections send their error event or 503 and end; a few seconds at most.
    const auto until = Clock::now() + std::chrono::seconds(3);
    auto all_closed = [&] {
        for (const auto& j : jobs) {
            std::lock_guard<std::mutex> lock(j->mu);
            if (!j->closed) return false;
        }
        return true;
    };
    while (!all_closed() && Clock::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    MHD_stop_daemon(daemon_);
    daemon_ = nullptr;
    close(listen_fd_);
    listen_fd_ = -1;
    // The runs' sinks may still be called (the history recorder among them), and the runs use
    // this server's engine: every run was cancelled above or by its connection's end, so wait
    // for each to end (its slot is released by its end event), however long the network thread
    // takes to deliver that, and only then let the server be destroyed.
    while (live_->running.load() > 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    for (const auto& j : jobs) {
        std::shared_ptr<engine::Run> run;
        {
            std::lock_guard<std::mutex> lock(j->mu); // the watchdog lets stopped runs go
            run = j->run;
        }
        if (run) run->wait();
    }
    {
        std::lock_guard<std::mutex> lock(live_->mu);
        live_->watchdog_stop = true;
    }
    live_->watchdog_cv.notify_all();
    if (live_->watchdog.joinable()) live_->watchdog.join();
}

} // namespace moa::serve
