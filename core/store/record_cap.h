// SPDX-License-Identifier: MIT
#pragma once
// A cap on the message contents one run leaves in the history (`moa serve --record-max-bytes`):
// a client can send an 8 MB conversation with every request, and the history would keep it for
// ever. Distinct contents are counted once (the history stores each long one once per run) in
// the order they are recorded: the run's input first, then each agent's messages. Once the
// budget is spent, a content is cut at a UTF-8 boundary and ends with a marker saying so; the
// same content is always cut the same way, so the copies every agent was sent stay one stored
// blob. Used on the history's writer thread only.
#include <cstddef>
#include <optional>
#include <string>
#include <unordered_map>

namespace moa::store {

class RecordCap {
public:
    explicit RecordCap(std::size_t max_bytes) : max_(max_bytes) {}
    // The content to store in place of `content`: itself, or a cut copy with the marker.
    const std::string& apply(const std::string& content);
    bool truncated() const { return truncated_; }
    // What the run's row says when something was cut ("record truncated: …"); empty if nothing was.
    std::string note() const;

private:
    std::size_t max_;
    std::size_t kept_ = 0; // bytes of distinct contents stored whole or in part
    std::size_t seen_ = 0; // bytes of distinct contents offered
    bool truncated_ = false;
    // By SHA-256: nullopt when the content was kept whole.
    std::unordered_map<std::string, std::optional<std::string>> seen_contents_;
};

} // namespace moa::store
