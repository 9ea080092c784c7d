// SPDX-License-Identifier: MIT
// A run whose process ended before the run finished (moa serve or moa run killed, crashed) was
// left "running" in the history for ever. It reads "interrupted" now, checked from another process.
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include "engine/engine.h"
#include "run_helpers.h"
#include "store/history.h"
#include "test_server.h"

using namespace testing_support;
using namespace moa;

class TestHistoryInterrupted : public QObject {
    Q_OBJECT
private slots:
    void killedRunReadsInterruptedInAnotherProcess();
};

void TestHistoryInterrupted::killedRunReadsInterruptedInAnotherProcess() {
    TestServer server;
    QVERIFY(server.ok());
    QTemporaryDir dir;
    const QString db = dir.filePath("history.sqlite");
    // One agent that keeps writing (a real token every 200 ms) for a minute: the run is mid-way
    // when it is killed.
    auto j = config_json(server.base_url(), {{"keepalive?mode=trickle&every_ms=200&seconds=60&x=" + nonce()}});
    const QString cfg = write_file(dir, "slow.moa.json", QByteArray::fromStdString(j.dump(1)));
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert("MOA_HISTORY_DB", db);
    env.insert("XDG_DATA_HOME", dir.filePath("data"));
    QProcess first;
    first.setProcessEnvironment(env);
    first.start(QStringLiteral(MOA_BINARY), {"run", "--config", cfg, "--prompt", "hi"});
    QVERIFY(first.waitForStarted());
    first.closeWriteChannel();

    // This test is the second process: it sees the first one's run as running while it runs.
    auto status_of_last = [&]() -> std::string {
        auto h = store::History::open(db.toStdString());
        if (!h) return {};
        auto runs = (*h)->list();
        return runs && !runs->empty() ? runs->front().status : std::string();
    };
    QTRY_COMPARE_WITH_TIMEOUT(status_of_last(), std::string("running"), 60000);
    QCOMPARE(status_of_last(), std::string("running")); // still alive: not taken for gone

    first.kill(); // SIGKILL: nothing of the run's end is written
    QVERIFY(first.waitForFinished(30000));
    QCOMPARE(first.exitStatus(), QProcess::CrashExit);

    auto h = store::History::open(db.toStdString());
    QVERIFY2(h.ok(), h.ok() ? "" : h.error().c_str());
    auto runs = (*h)->list();
    QVERIFY(runs.ok());
    QCOMPARE(runs->size(), std::size_t(1));
    QCOMPARE(runs->front().status, std::string("interrupted"));
    auto rec = (*h)->load(runs->front().id);
    QVERIFY(rec);
    QCOMPARE(rec->status, engine::RunStatus::Failed);
    QCOMPARE(rec->error, std::string(store::kInterrupted));
    // And through the command line.
    auto listed = run_moa({"history"}, {}, 60000, env);
    QVERIFY2(listed.code == 0 && listed.out.contains("interrupted"), listed.out.constData());
    auto shown = run_moa({"history", "show", QString::number(runs->front().id)}, {}, 60000, env);
    QVERIFY2(shown.out.contains(store::kInterrupted) || shown.err.contains(store::kInterrupted), shown.out.constData());

    // A run this process records and has not finished is running, not interrupted.
    engine::RunInput in;
    in.conversation = {{"user", "mine"}};
    auto id = (*h)->begin_run("cli", nlohmann::json::object(), in, "own");
    QVERIFY(id.ok());
    auto again = (*h)->list();
    QVERIFY(again.ok());
    QCOMPARE(again->front().id, *id);
    QCOMPARE(again->front().status, std::string("running"));
}

QTEST_GUILESS_MAIN(TestHistoryInterrupted)
#include "tst_history_interrupted.moc"
