// SPDX-License-Identifier: MIT
// libFuzzer target: the SSE parser and chat-stream decoder on arbitrary bytes, split at an
// arbitrary point (so line ends across reads are exercised). Must never crash or hang.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "net/sse_parser.h"
#include "providers/chat_stream.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view in(reinterpret_cast<const char*>(data), size);
    std::size_t split = size ? data[0] % (size + 1) : 0;
    std::size_t text = 0;
    moa::providers::ChatStreamDecoder dec([&](std::string_view c, std::string_view r) { text += c.size() + r.size(); });
    moa::net::SseParser parser([&](const moa::net::SseParser::Event& e) { dec.on_data(e.data); }, 1 << 20);
    parser.feed(in.substr(0, split));
    parser.feed(in.substr(split));
    parser.finish();
    // The non-streaming path and the error-body reader take the same bytes.
    moa::providers::ChatStreamDecoder whole([](std::string_view, std::string_view) {});
    whole.on_body(in);
    (void)moa::providers::error_message_from_body(in);
    return 0;
}
