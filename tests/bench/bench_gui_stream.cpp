// SPDX-License-Identifier: MIT
// GUI responsiveness: 24 agents streaming at 500 tokens/s each (12,000 events/s, produced on
// another thread exactly as the engine's transport thread produces them) into the run view
// through the event bridge. A 1 ms timer on the GUI thread measures how late the event loop
// gets to it: the longest stall and the 99th percentile. Baseline: the same timer with no
// stream, in the same process. Goals: longest < 50 ms, p99 < 16 ms.
#include <QApplication>
#include <QElapsedTimer>
#include <QTimer>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <thread>

#include "bridge/event_bridge.h"
#include "config/config.h"
#include "engine/run_types.h"
#include "run/run_view.h"

using namespace moa;

struct Stalls {
    double max_ms = 0, p99_ms = 0;
    std::size_t ticks = 0;
};

static Stalls measure(int ms, const std::function<void()>& during) {
    std::vector<double> gaps;
    QElapsedTimer clock;
    clock.start();
    qint64 last = clock.nsecsElapsed();
    QTimer tick;
    tick.setTimerType(Qt::PreciseTimer);
    tick.setInterval(1);
    QObject::connect(&tick, &QTimer::timeout, [&] {
        qint64 now = clock.nsecsElapsed();
        gaps.push_back((now - last) / 1e6);
        last = now;
    });
    tick.start();
    during();
    QEventLoop loop;
    QTimer::singleShot(ms, &loop, &QEventLoop::quit);
    loop.exec();
    tick.stop();
    std::sort(gaps.begin(), gaps.end());
    Stalls s;
    s.ticks = gaps.size();
    if (!gaps.empty()) {
        s.max_ms = gaps.back();
        s.p99_ms = gaps[static_cast<std::size_t>(0.99 * static_cast<double>(gaps.size() - 1))];
    }
    return s;
}

int main(int argc, char** argv) {
    QApplication app(argc, argv);
    const int agents = 24, seconds = argc > 1 ? std::atoi(argv[1]) : 5;
    // "one-paragraph": the worst case, every answer a single paragraph that grows without end.
    const bool one_paragraph = argc > 2 && std::string(argv[2]) == "one-paragraph";
    // "megabyte": the aggregator streams a 1 MB Markdown answer (plus the 24 proposers as usual),
    // then the run ends with that answer as the final text.
    const bool megabyte = argc > 2 && std::string(argv[2]) == "megabyte";
    // "burst": a hostile or very fast server: the aggregator's 4 MB arrive at once (64 KB pieces
    // as fast as the producer can push them, one second into the run), beside the 24 proposers.
    // "burst-line": the same 4 MB as one unbroken line (no line break at all), then more of it
    // keeps streaming: the case where Qt's whole-paragraph layout would grow with every piece.
    const bool burst_line = argc > 2 && std::string(argv[2]) == "burst-line";
    const bool burst = burst_line || (argc > 2 && std::string(argv[2]) == "burst");
    config::Config c;
    c.name = "bench";
    c.providers["p"] = config::Provider{};
    c.providers["p"].name = "p";
    config::Layer L;
    for (int i = 0; i < agents; ++i) L.agents.push_back(config::Agent{"p", "model-" + std::to_string(i), {}, {}});
    c.layers.push_back(L);
    c.layers.push_back(config::Layer{{config::Agent{"p", "aggregator", {}, {}}}, {}, {}});

    ui::RunView view;
    view.resize(1600, 900);
    view.prepare(c);
    view.show();
    ui::EventBridge bridge;
    QObject::connect(&bridge, &ui::EventBridge::events, &view, &ui::RunView::apply);

    Stalls idle = measure(1000, [] {});

    std::atomic<bool> stop{false};
    std::atomic<long> produced{0};
    std::thread producer;
    Stalls busy = measure(seconds * 1000, [&] {
        producer = std::thread([&] {
            auto sink = bridge.sink();
            engine::Event e;
            e.type = engine::Event::Type::AgentDelta;
            e.layer = 0;
            auto next = std::chrono::steady_clock::now();
            long n = 0;
            std::size_t big = 0;
            std::string filler;
            while (filler.size() < 900) filler += "word" + std::to_string(filler.size() % 7) + " ";
            engine::Event agg;
            agg.type = engine::Event::Type::AgentDelta;
            agg.layer = 1;
            agg.agent = 0;
            const auto t0 = std::chrono::steady_clock::now();
            while (!stop) {
                if (burst && big == 0 && std::chrono::steady_clock::now() - t0 > std::chrono::seconds(1)) {
                    agg.text.clear();
                    for (int line = 0; agg.text.size() < (64u << 10); ++line)
                        agg.text += "burst line " + std::to_string(line) + ": " + filler + (burst_line ? " " : "\n");
                    for (; big < (4u << 20); big += agg.text.size()) sink(agg);
                    agg.text = burst_line ? " more words on the same line" : "\nmore lines\n";
                }
                if (burst && big > 0 && n % 8 == 0) sink(agg); // and the answer goes on
                if (megabyte && big < (1u << 20) && n % 2 == 0) {
                    // ~1 KB every 4 ms: 1 MB in about 4 s, Markdown with lists, emphasis, links.
                    agg.text = "- item **" + std::to_string(n) + "** with [a link](https://example.com/" + std::to_string(n) +
                               ") and `code`; " + filler + "\n";
                    big += agg.text.size();
                    sink(agg);
                }
                for (int a = 0; a < agents; ++a) {
                    e.agent = a;
                    // Model-like text: short words, a paragraph break every 60 tokens.
                    e.text = n % 60 == 59 && !one_paragraph ? std::string("\n\n") : " tok" + std::to_string(n % 100);
                    sink(e);
                }
                ++n;
                produced += agents;
                next += std::chrono::microseconds(2000); // every agent: one token per 2 ms = 500 tok/s
                std::this_thread::sleep_until(next);
            }
        });
    });
    stop = true;
    producer.join();
    bridge.drain();
    Stalls end{};
    if (megabyte || burst) {
        // The run's end: the whole 1 MB answer set once more as the final text.
        end = measure(1500, [&] {
            auto rec = std::make_shared<engine::RunRecord>();
            rec->status = engine::RunStatus::Done;
            rec->final_text = view.finalText().toStdString();
            engine::Event done;
            done.type = engine::Event::Type::RunDone;
            done.final_record = rec;
            QTimer::singleShot(100, &view, [&view, done] { view.apply({done}); });
        });
    }
    std::printf("GUI event loop under 24 agents x 500 tokens/s%s (%ld tokens in %d s, %zu batches delivered)\n",
                megabyte ? ", and a 1 MB Markdown final answer" : burst_line ? ", and a 4 MB answer of one line arriving at once" : burst ? ", and a 4 MB answer arriving at once" : one_paragraph ? ", one endless paragraph each" : ", a paragraph every 60 tokens", produced.load(), seconds,
                bridge.batches());
    std::printf("  idle baseline : longest gap %6.2f ms, p99 %6.2f ms (%zu ticks of a 1 ms timer)\n", idle.max_ms, idle.p99_ms,
                idle.ticks);
    std::printf("  streaming     : longest gap %6.2f ms, p99 %6.2f ms (%zu ticks)\n", busy.max_ms, busy.p99_ms, busy.ticks);
    std::printf("  goals longest < 50 ms: %s; p99 < 16 ms: %s\n", busy.max_ms < 50 ? "met" : "NOT met",
                busy.p99_ms < 16 ? "met" : "NOT met");
    std::printf("  text in pane 0: %d characters\n", static_cast<int>(view.pane(0, 0)->text().size()));
    if (megabyte || burst)
        std::printf("  %s final answer: %d characters streamed (%s); the run's end: longest gap %6.2f ms\n",
                    burst ? "4 MB" : "1 MB", static_cast<int>(view.finalText().size()), view.finalIsPlainText() ? "shown as plain text past the limit" : "Markdown",
                    end.max_ms);
    return 0;
}
