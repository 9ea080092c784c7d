// SPDX-License-Identifier: MIT
#include "store/record_cap.h"

#include "util/sha256.h"

namespace moa::store {

namespace {
std::string marker(std::size_t kept, std::size_t whole) {
    return "\n[moa: the history keeps only the first " + std::to_string(kept) + " of this message's " + std::to_string(whole) +
           " bytes (record truncated: moa serve --record-max-bytes)]";
}
} // namespace

const std::string& RecordCap::apply(const std::string& content) {
    if (max_ == 0) return content;
    auto [it, fresh] = seen_contents_.try_emplace(util::sha256_hex(content));
    if (!fresh) return it->second ? *it->second : content;
    seen_ += content.size();
    const std::size_t left = max_ - kept_;
    if (content.size() <= left) {
        kept_ += content.size();
        return content;
    }
    std::size_t cut = left;
    while (cut > 0 && (static_cast<unsigned char>(content[cut]) & 0xC0) == 0x80) --cut; // not inside a UTF-8 sequence
    kept_ += cut;
    truncated_ = true;
    it->second = content.substr(0, cut) + marker(cut, content.size());
    return *it->second;
}

std::string RecordCap::note() const {
    if (!truncated_) return {};
    return "record truncated: " + std::to_string(kept_) + " of " + std::to_string(seen_) +
           " bytes of messages kept (--record-max-bytes " + std::to_string(max_) + ")";
}

} // namespace moa::store
