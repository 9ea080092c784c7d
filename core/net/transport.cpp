// SPDX-License-Identifier: MIT
#include <algorithm>
#include "net/transport.h"

#include <curl/curl.h>
#include <poll.h>
#include <sys/socket.h>

#include <atomic>
#include <cstring>
#include <ctime>
#include <deque>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "util/text.h"

namespace moa::net {

namespace {

std::once_flag g_curl_init;

struct Exchange {
    Transport::Id id = 0;
    CURL* easy = nullptr;
    curl_slist* headers = nullptr;
    HttpRequest request;
    HttpHandler handler;
    HttpHead head;
    bool head_sent = false;
    bool aborted_by_handler = false;
    bool too_large = false;
    bool got_bytes = false;
    std::size_t bytes = 0;
    Transport::Clock::time_point last_activity;
    char error_buffer[CURL_ERROR_SIZE] = {0};
};

} // namespace

std::optional<long> parse_retry_after(std::string_view value) {
    std::string v = text::trim(value);
    if (v.empty()) return std::nullopt;
    bool digits = true;
    for (char c : v)
        if (!(c >= '0' && c <= '9') && c != '.') digits = false;
    if (digits) {
        try {
            double s = std::stod(v);
            if (s < 0) return std::nullopt;
            return static_cast<long>(s * 1000.0);
        } catch (...) {
            return std::nullopt;
        }
    }
    time_t when = curl_getdate(v.c_str(), nullptr);
    if (when < 0) return std::nullopt;
    long ms = static_cast<long>((when - std::time(nullptr)) * 1000);
    return ms < 0 ? 0 : ms;
}

struct Transport::Impl {
    CURLM* multi = nullptr;
    std::thread thread;
    std::thread::id thread_id;
    std::atomic<bool> stopping{false};
    std::atomic<Id> next_id{1};

    // Commands from other threads.
    std::mutex mu;
    std::deque<std::unique_ptr<Exchange>> to_start;
    std::vector<Id> to_cancel;
    std::vector<std::pair<Clock::time_point, std::pair<Id, std::function<void()>>>> to_schedule;
    std::vector<Id> timers_to_cancel;

    // Owned by the loop thread.
    std::unordered_map<Id, std::unique_ptr<Exchange>> active;
    std::multimap<Clock::time_point, Id> timer_order;
    std::unordered_map<Id, std::function<void()>> timers;
    std::atomic<std::size_t> active_count{0};

    static size_t on_header(char* data, size_t size, size_t n, void* user) {
        auto* ex = static_cast<Exchange*>(user);
        std::string_view line(data, size * n);
        ex->last_activity = Clock::now();
        ex->got_bytes = true;
        if (text::starts_with_ci(line, "HTTP/")) {
            ex->head = HttpHead{}; // a new response (after 100-continue or a redirect)
            return size * n;
        }
        auto colon = line.find(':');
        if (colon == std::string_view::npos) return size * n;
        std::string name = text::to_lower(text::trim(line.substr(0, colon)));
        std::string value = text::trim(line.substr(colon + 1));
        if (name == "content-type") ex->head.content_type = value;
        else if (name == "retry-after") ex->head.retry_after_ms = parse_retry_after(value);
        else if (name == "location") ex->head.location = value.substr(0, 2048);
        else if (name == "retry-after-ms") {
            try { ex->head.retry_after_ms = std::stol(value); } catch (...) {}
        }
        return size * n;
    }

    static void send_head(Exchange* ex) {
        if (ex->head_sent) return;
        ex->head_sent = true;
        long code = 0;
        curl_easy_getinfo(ex->easy, CURLINFO_RESPONSE_CODE, &code);
        ex->head.status = code;
        if (ex->handler.on_head) ex->handler.on_head(ex->head);
    }

    static size_t on_write(char* data, size_t size, size_t n, void* user) {
        auto* ex = static_cast<Exchange*>(user);
        size_t len = size * n;
        ex->last_activity = Clock::now();
        ex->got_bytes = true;
        send_head(ex);
        ex->bytes += len;
        if (ex->request.max_response_bytes && ex->bytes > ex->request.max_response_bytes) {
            ex->too_large = true;
            return 0; // makes curl fail the transfer with CURLE_WRITE_ERROR
        }
        if (ex->handler.on_body && !ex->handler.on_body(std::string_view(data, len))) {
            ex->aborted_by_handler = true;
            return 0;
        }
        return len;
    }

    void begin(std::unique_ptr<Exchange> ex) {
        CURL* e = curl_easy_init();
        ex->easy = e;
        const HttpRequest& r = ex->request;
        curl_easy_setopt(e, CURLOPT_URL, r.url.c_str());
        curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(e, CURLOPT_PRIVATE, ex.get());
        curl_easy_setopt(e, CURLOPT_ERRORBUFFER, ex->error_buffer);
        curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, r.connect_timeout_ms);
        curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &Impl::on_header);
        curl_easy_setopt(e, CURLOPT_HEADERDATA, ex.get());
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &Impl::on_write);
        curl_easy_setopt(e, CURLOPT_WRITEDATA, ex.get());
        curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, ""); // whatever curl can decode
        curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, r.verify_tls ? 1L : 0L);
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, r.verify_tls ? 2L : 0L);
        if (!r.ca_file.empty()) curl_easy_setopt(e, CURLOPT_CAINFO, r.ca_file.c_str());
        curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
        // Redirects are not followed: a POST must not silently turn into a GET, and the key
        // must never travel to another host.
        curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
        if (r.method == "POST") {
            curl_easy_setopt(e, CURLOPT_POST, 1L);
            curl_easy_setopt(e, CURLOPT_POSTFIELDS, r.body.c_str());
            curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
        } else if (r.method != "GET") {
            curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r.method.c_str());
        }
        for (const auto& h : r.headers) ex->headers = curl_slist_append(ex->headers, h.c_str());
        ex->headers = curl_slist_append(ex->headers, "Expect:");
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, ex->headers);
        ex->last_activity = Clock::now();
        Id id = ex->id;
        curl_multi_add_handle(multi, e);
        active.emplace(id, std::move(ex));
        active_count = active.size();
    }

    void finish(Id id, HttpResult result) {
        auto it = active.find(id);
        if (it == active.end()) return;
        std::unique_ptr<Exchange> ex = std::move(it->second);
        active.erase(it);
        active_count = active.size();
        curl_multi_remove_handle(multi, ex->easy);
        curl_easy_cleanup(ex->easy);
        curl_slist_free_all(ex->headers);
        result.bytes = ex->bytes;
        if (ex->handler.on_done) ex->handler.on_done(result);
    }

    // An HTTP/1.x response is over, yet its connection already holds more bytes (a server whose
    // Content-Length was shorter than its body). libcurl would keep the connection and read those
    // bytes as the answer to the next request on it; closing our end makes it open a fresh one.
    // (HTTP/2 connections carry other streams, so they are left alone.)
    static void discard_if_bytes_follow(CURL* e) {
        long version = 0;
        curl_easy_getinfo(e, CURLINFO_HTTP_VERSION, &version);
        if (version != CURL_HTTP_VERSION_1_0 && version != CURL_HTTP_VERSION_1_1) return;
        curl_socket_t fd = CURL_SOCKET_BAD;
        if (curl_easy_getinfo(e, CURLINFO_ACTIVESOCKET, &fd) != CURLE_OK || fd == CURL_SOCKET_BAD) return;
        pollfd p{fd, POLLIN, 0};
        char c;
        if (::poll(&p, 1, 0) > 0 && (p.revents & POLLIN) && ::recv(fd, &c, 1, MSG_PEEK) > 0)
            ::shutdown(fd, SHUT_RDWR);
    }

    void completed(CURLMsg* msg) {
        Exchange* ex = nullptr;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, reinterpret_cast<char**>(&ex));
        if (!ex) return;
        HttpResult r;
        CURLcode code = msg->data.result;
        long status = 0;
        curl_easy_getinfo(ex->easy, CURLINFO_RESPONSE_CODE, &status);
        r.status = status;
        if (code == CURLE_OK) {
            send_head(ex); // an empty body still has a head
            discard_if_bytes_follow(ex->easy);
        } else if (ex->aborted_by_handler) {
            r.failure = HttpFailure::Aborted;
            r.message = "aborted by the reader";
        } else if (ex->too_large) {
            r.failure = HttpFailure::TooLarge;
            r.message = "the response grew past " + std::to_string(ex->request.max_response_bytes) + " bytes";
        } else {
            bool connect = code == CURLE_COULDNT_CONNECT || code == CURLE_COULDNT_RESOLVE_HOST ||
                           code == CURLE_COULDNT_RESOLVE_PROXY ||
                           (code == CURLE_OPERATION_TIMEDOUT && !ex->got_bytes);
            const bool tls = code == CURLE_PEER_FAILED_VERIFICATION || code == CURLE_SSL_CACERT_BADFILE ||
                             code == CURLE_SSL_CONNECT_ERROR;
            r.failure = connect ? HttpFailure::Connect : tls ? HttpFailure::Tls : HttpFailure::Other;
            r.message = ex->error_buffer[0] ? ex->error_buffer : curl_easy_strerror(code);
            if (code == CURLE_OPERATION_TIMEDOUT && !ex->got_bytes)
                r.message = "connect timeout after " + std::to_string(ex->request.connect_timeout_ms) + " ms (" + r.message + ")";
        }
        finish(ex->id, std::move(r));
    }

    void drain_commands() {
        std::deque<std::unique_ptr<Exchange>> starts;
        std::vector<Id> cancels, tcancels;
        decltype(to_schedule) scheds;
        {
            std::lock_guard<std::mutex> lock(mu);
            starts.swap(to_start);
            cancels.swap(to_cancel);
            scheds.swap(to_schedule);
            tcancels.swap(timers_to_cancel);
        }
        for (auto& s : scheds) {
            timers.emplace(s.second.first, std::move(s.second.second));
            timer_order.emplace(s.first, s.second.first);
        }
        for (Id t : tcancels) timers.erase(t); // its timer_order entry is skipped when due
        for (auto& ex : starts) begin(std::move(ex));
        for (Id id : cancels) {
            HttpResult r;
            r.failure = HttpFailure::Cancelled;
            r.message = "cancelled";
            finish(id, std::move(r));
        }
    }

    // Returns how long the loop may sleep before the next timer or idle check.
    long run_timers() {
        auto now = Clock::now();
        while (!timer_order.empty() && timer_order.begin()->first <= now) {
            Id id = timer_order.begin()->second;
            timer_order.erase(timer_order.begin());
            auto it = timers.find(id);
            if (it == timers.end()) continue;
            auto fn = std::move(it->second);
            timers.erase(it);
            fn();
            now = Clock::now();
        }
        long wait = 1000;
        if (!timer_order.empty()) {
            auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(timer_order.begin()->first - now).count();
            wait = std::min<long>(wait, std::max<long>(0, ms + 1));
        }
        return wait;
    }

    long check_idle() {
        auto now = Clock::now();
        std::vector<std::pair<Id, long>> expired;
        long wait = 1000;
        for (auto& [id, ex] : active) {
            if (!ex->got_bytes || ex->request.idle_timeout_ms <= 0) continue;
            auto idle = std::chrono::duration_cast<std::chrono::milliseconds>(now - ex->last_activity).count();
            if (idle >= ex->request.idle_timeout_ms) expired.emplace_back(id, ex->request.idle_timeout_ms);
            else wait = std::min<long>(wait, ex->request.idle_timeout_ms - idle);
        }
        for (auto& [id, ms] : expired) {
            HttpResult r;
            r.failure = HttpFailure::IdleTimeout;
            r.message = "the server sent nothing for " + std::to_string(ms) + " ms (idle timeout)";
            auto it = active.find(id);
            if (it != active.end()) {
                long status = 0;
                curl_easy_getinfo(it->second->easy, CURLINFO_RESPONSE_CODE, &status);
                r.status = status;
            }
            finish(id, std::move(r));
        }
        return wait;
    }

    void loop() {
        while (!stopping) {
            drain_commands();
            long wait = run_timers();
            int running = 0;
            curl_multi_perform(multi, &running);
            int left = 0;
            while (CURLMsg* m = curl_multi_info_read(multi, &left))
                if (m->msg == CURLMSG_DONE) completed(m);
            wait = std::min(wait, check_idle());
            {
                std::lock_guard<std::mutex> lock(mu);
                if (!to_start.empty() || !to_cancel.empty() || !to_schedule.empty()) wait = 0;
            }
            if (wait > 0) curl_multi_poll(multi, nullptr, 0, static_cast<int>(wait), nullptr);
        }
        // Shutdown: everything still open is cancelled so every owner hears the end.
        drain_commands();
        std::vector<Id> ids;
        for (auto& [id, _] : active) ids.push_back(id);
        for (Id id : ids) finish(id, HttpResult{0, HttpFailure::Cancelled, "the transport shut down", 0});
    }
};

Transport::Transport() : d_(std::make_unique<Impl>()) {
    std::call_once(g_curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
    d_->multi = curl_multi_init();
    d_->thread = std::thread([this] {
        d_->thread_id = std::this_thread::get_id();
        d_->loop();
    });
}

Transport::~Transport() {
    d_->stopping = true;
    curl_multi_wakeup(d_->multi);
    if (d_->thread.joinable()) d_->thread.join();
    curl_multi_cleanup(d_->multi);
}

Transport::Id Transport::start(HttpRequest request, HttpHandler handler) {
    auto ex = std::make_unique<Exchange>();
    ex->id = d_->next_id++;
    ex->request = std::move(request);
    ex->handler = std::move(handler);
    Id id = ex->id;
    {
        std::lock_guard<std::mutex> lock(d_->mu);
        d_->to_start.push_back(std::move(ex));
    }
    curl_multi_wakeup(d_->multi);
    return id;
}

void Transport::cancel(Id request) {
    {
        std::lock_guard<std::mutex> lock(d_->mu);
        d_->to_cancel.push_back(request);
    }
    curl_multi_wakeup(d_->multi);
}

Transport::Id Transport::schedule(std::chrono::milliseconds delay, std::function<void()> fn) {
    Id id = d_->next_id++;
    {
        std::lock_guard<std::mutex> lock(d_->mu);
        d_->to_schedule.push_back({Clock::now() + delay, {id, std::move(fn)}});
    }
    curl_multi_wakeup(d_->multi);
    return id;
}

void Transport::cancel_timer(Id timer) {
    if (on_transport_thread()) {
        d_->timers.erase(timer); // takes effect at once, even among timers due in this pass
        // A timer scheduled in this same pass is still waiting to be moved into `timers`: drop it
        // there too, or it would run (and keep what its function holds alive) until it is due.
        std::function<void()> dropped; // destroyed after the lock: it may hold the last owner of anything
        std::lock_guard<std::mutex> lock(d_->mu);
        auto& pending = d_->to_schedule;
        auto it = std::find_if(pending.begin(), pending.end(), [timer](const auto& s) { return s.second.first == timer; });
        if (it != pending.end()) {
            dropped = std::move(it->second.second);
            pending.erase(it);
        }
        return;
    }
    std::lock_guard<std::mutex> lock(d_->mu);
    d_->timers_to_cancel.push_back(timer);
}

bool Transport::on_transport_thread() const { return std::this_thread::get_id() == d_->thread_id; }
std::size_t Transport::active_requests() const { return d_->active_count; }

Transport& Transport::shared() {
    static Transport t;
    return t;
}

} // namespace moa::net
