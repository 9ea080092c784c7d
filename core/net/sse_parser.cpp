// SPDX-License-Identifier: MIT
#include "net/sse_parser.h"

#include <cstring>

namespace moa::net {

SseParser::SseParser(Sink sink, std::size_t max_event_bytes)
    : sink_(std::move(sink)), max_(max_event_bytes) {}

bool SseParser::feed(std::string_view bytes) {
    if (failed()) return false;
    std::size_t i = 0;
    const std::size_t n = bytes.size();
    if (last_was_cr_ && n > 0 && bytes[0] == '\n') i = 1; // the LF of a CRLF split across reads
    last_was_cr_ = false;
    while (i < n) {
        const char* start = bytes.data() + i;
        const void* nl = std::memchr(start, '\n', n - i);
        const void* cr = std::memchr(start, '\r', n - i);
        const char* end = nullptr;
        if (nl && cr) end = static_cast<const char*>(nl < cr ? nl : cr);
        else end = static_cast<const char*>(nl ? nl : cr);
        if (!end) {
            if (partial_.size() + (n - i) > max_) {
                error_ = "a line of the event stream is longer than " + std::to_string(max_) +
                         " bytes";
                return false;
            }
            partial_.append(start, n - i);
            return true;
        }
        std::size_t len = static_cast<std::size_t>(end - start);
        if (partial_.empty()) {
            line(std::string_view(start, len));
        } else {
            if (partial_.size() + len > max_) {
                error_ = "a line of the event stream is longer than " + std::to_string(max_) +
                         " bytes";
                return false;
            }
            partial_.append(start, len);
            line(partial_);
            partial_.clear();
        }
        if (failed()) return false;
        i += len + 1;
        if (*end == '\r') {
            if (i < n) {
                if (bytes[i] == '\n') ++i;
            } else {
                last_was_cr_ = true;
            }
        }
    }
    return !failed();
}

void SseParser::line(std::string_view l) {
    if (l.empty()) {
        dispatch();
        return;
    }
    if (l[0] == ':') {
        ++comments_;
        return;
    }
    std::string_view field = l, value;
    if (auto colon = l.find(':'); colon != std::string_view::npos) {
        field = l.substr(0, colon);
        value = l.substr(colon + 1);
        if (!value.empty() && value[0] == ' ') value.remove_prefix(1);
    }
    if (field == "data") {
        if (data_.size() + value.size() + 1 > max_) {
            error_ = "an event of the stream is larger than " + std::to_string(max_) + " bytes";
            return;
        }
        if (has_data_) data_.push_back('\n');
        data_.append(value);
        has_data_ = true;
    } else if (field == "event") {
        event_.assign(value);
    }
    // `id:` and `retry:` matter only to reconnecting browsers; unknown fields are ignored.
}

void SseParser::dispatch() {
    if (has_data_) {
        ++events_;
        sink_(Event{event_, data_});
    }
    data_.clear();
    event_.clear();
    has_data_ = false;
}

void SseParser::finish() {
    if (failed()) return;
    if (!partial_.empty()) {
        std::string last;
        last.swap(partial_);
        line(last);
    }
    dispatch();
}

} // namespace moa::net
