// SPDX-License-Identifier: MIT
#pragma once
// Incremental Server-Sent Events parser (the WHATWG event-stream format): LF, CRLF and CR line
// ends (also split across reads), several `data:` lines joined by '\n', comment lines, the
// `event:` field. Bytes go in as they arrive; each complete event comes out through the sink.
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace moa::net {

class SseParser {
public:
    struct Event {
        std::string_view event; // the `event:` field, empty when absent
        std::string_view data;  // the joined `data:` lines
    };
    using Sink = std::function<void(const Event&)>;

    // `max_event_bytes` bounds the memory one event (or one line) may take; past it the parser
    // stops with an error instead of growing without end.
    explicit SseParser(Sink sink, std::size_t max_event_bytes = 16u << 20);

    // Feeds bytes; returns false once the parser has failed (see error()).
    bool feed(std::string_view bytes);
    // End of stream: a last event that was not closed by a blank line is still delivered.
    void finish();

    bool failed() const { return !error_.empty(); }
    const std::string& error() const { return error_; }
    std::size_t comments() const { return comments_; }
    std::size_t events() const { return events_; }

private:
    void line(std::string_view l);
    void dispatch();

    Sink sink_;
    std::size_t max_;
    std::string partial_; // an unfinished line carried over from the previous read
    std::string data_;
    std::string event_;
    bool has_data_ = false;
    bool last_was_cr_ = false;
    std::string error_;
    std::size_t comments_ = 0;
    std::size_t events_ = 0;
};

} // namespace moa::net
