// SPDX-License-Identifier: MIT
// libFuzzer target: the connection screen of `moa serve` (app/serve/connection_screen), which
// reads every request head, and a chunked body, before libmicrohttpd does. The input is what a
// client sends. Must never crash or hang, and every refusal must be one well-formed response:
// a status line, one header block, a JSON body of exactly its Content-Length.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "serve/connection_screen.h"

namespace {
void check_response(const std::string& r) {
    const std::size_t end = r.find("\r\n\r\n");
    if (r.rfind("HTTP/1.1 ", 0) != 0 || end == std::string::npos) std::abort();
    const std::string_view head(r.data(), end);
    if (head.find("HTTP/1.", 1) != std::string_view::npos || head.find("Connection: close\r\n") == std::string_view::npos)
        std::abort();
    const std::size_t cl = head.find("Content-Length: ");
    if (cl == std::string_view::npos) std::abort();
    const std::string body = r.substr(end + 4);
    if (std::to_string(body.size()) != std::string(head.substr(cl + 16, head.find("\r\n", cl) - cl - 16))) std::abort();
    const auto j = nlohmann::json::parse(body, nullptr, false);
    if (j.is_discarded() || !j.contains("error") || !j["error"]["message"].is_string()) std::abort();
    // Never the client's bytes raw: only printable ASCII or UTF-8 in the answer.
    for (char c : r)
        if (static_cast<unsigned char>(c) < 0x20 && c != '\r' && c != '\n') std::abort();
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    std::size_t end = in.find("\r\n\r\n");
    end = end == std::string_view::npos ? in.size() : end + 4;
    const std::string_view head = in.substr(0, end);
    if (auto r = moa::serve::screen_request_head(head, 8u << 20)) {
        check_response(*r);
        return 0;
    }
    if (moa::serve::is_chunked(head)) {
        const auto v = moa::serve::screen_chunked_body(in.substr(end));
        if (v.refusal) check_response(*v.refusal);
        if (v.complete && v.refusal) std::abort();
    }
    return 0;
}
