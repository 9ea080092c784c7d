// SPDX-License-Identifier: MIT
// Stream ingestion: chunks/s and MB/s through the SSE parser and chat decoder alone (the
// baseline), and through the whole engine (libcurl from a local server, parser, decoder,
// events, record) in the same process. Goal: >= 200,000 chunks/s through the engine path.
#include <QCoreApplication>
#include <QTemporaryDir>

#include <chrono>
#include <cstdio>
#include <fstream>

#include "engine/engine.h"
#include "net/sse_parser.h"
#include "providers/chat_stream.h"
#include "run_helpers.h"
#include "test_server.h"

using Clock = std::chrono::steady_clock;

static std::string make_body(int chunks) {
    std::string body;
    body.reserve(static_cast<std::size_t>(chunks) * 200);
    for (int i = 0; i < chunks; ++i) {
        body += "data: {\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\",\"created\":1718000000,"
                "\"model\":\"bench\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\" tok";
        body += std::to_string(i % 1000);
        body += "\"},\"finish_reason\":null}]}\n\n";
    }
    body += "data: {\"id\":\"chatcmpl-bench\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n";
    body += "data: {\"id\":\"chatcmpl-bench\",\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":" +
            std::to_string(chunks) + "}}\n\ndata: [DONE]\n\n";
    return body;
}

int main(int argc, char** argv) {
    QCoreApplication app(argc, argv);
    const int chunks = argc > 1 ? std::atoi(argv[1]) : 200000;
    const std::string body = make_body(chunks);
    const double mb = static_cast<double>(body.size()) / 1e6;

    // Baseline: parser + decoder over the bytes in memory, in 16 KiB reads.
    double best_raw = 1e9;
    for (int rep = 0; rep < 3; ++rep) {
        std::size_t text_bytes = 0;
        moa::providers::ChatStreamDecoder dec([&](std::string_view c, std::string_view) { text_bytes += c.size(); });
        moa::net::SseParser parser([&](const moa::net::SseParser::Event& e) { dec.on_data(e.data); });
        auto t0 = Clock::now();
        for (std::size_t i = 0; i < body.size(); i += 16384) parser.feed(std::string_view(body).substr(i, 16384));
        parser.finish();
        double s = std::chrono::duration<double>(Clock::now() - t0).count();
        best_raw = std::min(best_raw, s);
        if (!dec.done() || text_bytes == 0) {
            std::fprintf(stderr, "baseline decode failed\n");
            return 1;
        }
    }

    // Through the engine: a local server sends the same body; every chunk becomes an event.
    QTemporaryDir dir;
    const std::string path = dir.filePath("body.sse").toStdString();
    std::ofstream(path, std::ios::binary) << body;
    TestServer server(QStringLiteral(MOA_TEST_SERVERS "/replay_server.py"), {QString::fromStdString(path), "65536"});
    if (!server.ok()) {
        std::fprintf(stderr, "replay server did not start\n");
        return 1;
    }
    auto cfg = testing_support::make_config(testing_support::config_json(server.base_url(), {{"bench"}}));
    double best_engine = 1e9;
    long events = 0;
    for (int rep = 0; rep < 3; ++rep) {
        std::atomic<long> n{0};
        moa::accounting::Catalog catalog;
        moa::engine::Engine eng(catalog);
        auto t0 = Clock::now();
        auto run = eng.start(cfg, moa::engine::RunInput::from_prompt("bench"),
                             [&](const moa::engine::Event& e) { n += e.type == moa::engine::Event::Type::AgentDelta; });
        run->wait();
        double s = std::chrono::duration<double>(Clock::now() - t0).count();
        if (run->record().status != moa::engine::RunStatus::Done) {
            std::fprintf(stderr, "engine run failed: %s\n", run->record().error.c_str());
            return 1;
        }
        best_engine = std::min(best_engine, s);
        events = n;
    }
    std::printf("stream ingestion, %d chunks (%.1f MB), best of 3\n", chunks, mb);
    std::printf("  parser+decoder (baseline): %10.0f chunks/s  %7.1f MB/s\n", chunks / best_raw, mb / best_raw);
    std::printf("  whole engine over HTTP   : %10.0f chunks/s  %7.1f MB/s  (%ld delta events)\n", chunks / best_engine,
                mb / best_engine, events);
    std::printf("  engine / baseline throughput ratio: %.2f\n", best_raw / best_engine);
    std::printf("  goal >= 200000 chunks/s through the engine: %s\n", chunks / best_engine >= 200000 ? "met" : "NOT met");
    return 0;
}
