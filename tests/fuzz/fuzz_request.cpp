// SPDX-License-Identifier: MIT
// libFuzzer target: what `moa serve` reads from a client before and after admission: the chat
// request body (depth- and size-guarded, then parsed) and the Host, Origin and Content-Type
// headers (the first three lines of the input). Must never crash or hang.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "serve/openai_request.h"
#include "serve/request_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string body(reinterpret_cast<const char*>(data), size);
    auto parsed = moa::serve::parse_chat_request(body);
    if (auto* r = std::get_if<moa::serve::ChatRequest>(&parsed)) (void)moa::serve::sse_data(moa::serve::error_body({400, r->model}));
    std::string_view in(body), line[3];
    for (auto& l : line) {
        auto nl = in.find('\n');
        l = in.substr(0, nl);
        in = nl == std::string_view::npos ? std::string_view() : in.substr(nl + 1);
    }
    (void)moa::serve::check_origin(line[0], line[1], "127.0.0.1", {"moa.internal"});
    (void)moa::serve::check_content_type(line[2]);
    return 0;
}
