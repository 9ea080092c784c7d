// SPDX-License-Identifier: MIT
// Objects that a run still uses must outlive it (issue 11): the main window closed during a
// run, `moa serve` stopped during a run, an experiment runner destroyed right after wait().
// Each test holds the transport thread (or a progress report) busy with a job of its own, so
// that the run's end comes late, then checks the owner waited for it rather than destroying
// what the end still touches. Under the sanitize preset (ASan) the old code fails here with a
// use after free as well.
#include <QPlainTextEdit>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>

#include <atomic>
#include <fstream>
#include <thread>

#include "eval/experiment.h"
#include "eval/experiment_runner.h"
#include "main_window.h"
#include "net/transport.h"
#include "run_helpers.h"
#include "serve/chat_server.h"
#include "store/experiment_store.h"
#include "store/history.h"
#include "test_server.h"

using namespace moa;
using namespace testing_support;
using nlohmann::json;

namespace {
// Keeps the shared transport thread busy for `ms` (a job posted to it); `started` is set when it
// runs, `done` when it returns.
struct TransportHold {
    std::atomic<bool> started{false}, done{false};
    explicit TransportHold(int ms) {
        net::Transport::shared().post([this, ms] {
            started = true;
            std::this_thread::sleep_for(std::chrono::milliseconds(ms));
            done = true;
        });
    }
    ~TransportHold() { // never leave the job pointing at a dead object
        while (!done) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
};
} // namespace

class TestLifetimes : public QObject {
    Q_OBJECT
private slots:
    void closingTheWindowDuringARunWaitsForItsEnd();
    void stoppingServeDuringARunWaitsForItsEnd();
    void experimentRunnerOutlivesItsLastReport();
};

void TestLifetimes::closingTheWindowDuringARunWaitsForItsEnd() {
    QStandardPaths::setTestModeEnabled(true);
    QTemporaryDir dir;
    TestServer server;
    QVERIFY(server.ok());
    const std::string model = "ok?chunks=40&delay_ms=100&tag=close-" + nonce(); // 4 s of streaming
    const QString path = dir.filePath("slow.moa.json");
    std::ofstream(path.toStdString()) << config_json(server.base_url(), {{model}}).dump(2);
    auto h = store::History::open(dir.filePath("history.sqlite").toStdString());
    QVERIFY(h.ok());
    auto* w = new ui::MainWindow(std::make_unique<store::HistoryRecorder>(std::move(*h)));
    w->show();
    QVERIFY(w->openFile(path));
    w->promptEditor()->setPlainText("Close me while I run");
    QVERIFY(w->startRun());
    QTRY_VERIFY_WITH_TIMEOUT(server.chat_requests() == 1, 20000);
    // The run's end (after the cancel) cannot come before this job returns: longer than the
    // 2 s the window used to wait before destroying the engine and the history writer.
    TransportHold hold(3000);
    QTRY_VERIFY_WITH_TIMEOUT(hold.started.load(), 20000);
    delete w;
    QVERIFY2(hold.done.load(), "the window was destroyed while its run had not ended");
}

void TestLifetimes::stoppingServeDuringARunWaitsForItsEnd() {
    TestServer upstream;
    QVERIFY(upstream.ok());
    auto j = config_json(upstream.base_url(), {{"ok?chunks=40&delay_ms=100&tag=serve-" + nonce()}});
    j["name"] = "slow";
    serve::ServeOptions opt;
    opt.configs.push_back(make_config(j));
    opt.keepalive_ms = 100;
    opt.hold_ms = 100;
    accounting::Catalog catalog;
    serve::ChatServer srv(opt, catalog, nullptr);
    auto port = srv.start();
    QVERIFY(port.ok());
    const std::string url = "http://127.0.0.1:" + std::to_string(*port) + "/v1/chat/completions";
    std::thread client([url] {
        http_request("POST", url, R"({"model": "slow", "stream": true, "messages": [{"role": "user", "content": "hi"}]})",
                     {"Content-Type: application/json"});
    });
    QTRY_VERIFY_WITH_TIMEOUT(upstream.chat_requests() == 1 && srv.running_runs() == 1, 20000);
    TransportHold hold(4000);
    QTRY_VERIFY_WITH_TIMEOUT(hold.started.load(), 20000);
    srv.stop();
    // The run's sink counts it down on the server: stop() returns only after that.
    QCOMPARE(srv.running_runs(), 0);
    QVERIFY2(hold.done.load(), "stop() returned while a run of this server had not ended");
    client.join();
}

void TestLifetimes::experimentRunnerOutlivesItsLastReport() {
    TestServer server;
    QVERIFY(server.ok());
    QTemporaryDir dir;
    auto write = [&](const char* name, const json& v) { std::ofstream(dir.filePath(name).toStdString()) << v.dump(1); };
    const std::string n = nonce();
    auto one = [&](const std::string& model) { return config_json(server.base_url(), {{model}}); };
    write("a.moa.json", one("ok?tag=a-" + n));
    write("ref.moa.json", one("ok?tag=ref-" + n));
    write("judge.moa.json", one("judge?x=" + n));
    write("e.moa-experiment.json", json{{"schema", "moa-workbench/experiment@1"},
                                        {"name", "lifetimes"},
                                        {"configurations", {"a.moa.json"}},
                                        {"prompts", "starter"},
                                        {"sample", 2},
                                        {"seed", 1},
                                        {"reference", {{"configuration", "ref.moa.json"}}},
                                        {"judge", {{"config", "judge.moa.json"}, {"mode", "pairwise"}}},
                                        {"concurrency", 2}});
    auto e = eval::load_experiment(dir.filePath("e.moa-experiment.json").toStdString());
    QVERIFY2(e.ok(), e.ok() ? "" : e.error().c_str());
    auto store = store::ExperimentStore::open(dir.filePath("e.sqlite").toStdString());
    QVERIFY(store.ok());
    accounting::Catalog catalog;

    // The transport thread's id: finish_task reports progress from there.
    std::atomic<std::thread::id> transport_thread{};
    net::Transport::shared().post([&] { transport_thread = std::this_thread::get_id(); });
    QTRY_VERIFY(transport_thread.load() != std::thread::id());

    std::atomic<int> in_report{0};
    std::atomic<bool> last_report_returned{false};
    {
        eval::ExperimentRunner runner(*e, *store, catalog);
        runner.start([&](const eval::ExperimentProgress& p) {
            if (std::this_thread::get_id() != transport_thread.load() || p.done != p.total) return;
            ++in_report;
            std::this_thread::sleep_for(std::chrono::milliseconds(1500)); // a slow listener
            last_report_returned = true;
            --in_report;
        });
        auto outcome = runner.wait();
        QCOMPARE(outcome.status, eval::ExperimentStatus::Done);
    } // the runner is destroyed here, as a caller may once wait() has returned
    QVERIFY2(last_report_returned.load() && in_report.load() == 0,
             "the runner was gone while its last progress report was still running");
}

QTEST_MAIN(TestLifetimes)
#include "tst_lifetimes.moc"
