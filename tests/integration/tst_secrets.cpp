// SPDX-License-Identifier: MIT
// Keys stay secret: a run with a recognizable fake key (which the server does receive) leaves
// no trace of it in the history database, any export, the output or the logs, the config file,
// or the error messages, from `moa run` and from `moa serve`.
#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

#include <fstream>

#include "run_helpers.h"
#include "test_server.h"

using namespace testing_support;

namespace {
const QByteArray kKey = "MOAFAKEKEY-7f3a9c1e5b2d4860-recognizable";

// Every file below `dir` that contains the key (WAL and journal files included).
QStringList files_with_key(const QString& dir) {
    QStringList hits;
    QDirIterator it(dir, QDir::Files | QDir::Hidden, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        QFile f(it.next());
        if (f.open(QIODevice::ReadOnly) && f.readAll().contains(kKey)) hits << f.fileName();
    }
    return hits;
}
} // namespace

class TestSecrets : public QObject {
    Q_OBJECT
private slots:
    void fakeKeyLeavesNoTrace();
};

void TestSecrets::fakeKeyLeavesNoTrace() {
    QTemporaryDir dir;
    TestServer server;
    QVERIFY(server.ok());
    auto env = QProcessEnvironment::systemEnvironment();
    env.insert("MOA_SECRET_TEST_KEY", QString::fromLatin1(kKey));
    env.insert("MOA_HISTORY_DB", dir.filePath("history.sqlite"));
    std::string n = nonce();
    auto j = config_json(server.base_url(), {{"ok?tag=A-" + n, "status?code=401&tag=" + n}, {"ok?tag=F-" + n}},
                         {{"api_key_env", "MOA_SECRET_TEST_KEY"}});
    const QString cfg = dir.filePath("secret.moa.json");
    std::ofstream(cfg.toStdString()) << j.dump(2);

    QByteArray everything; // all output of every command
    auto r = run_moa({"run", "--config", cfg, "--prompt", "Is my key safe?", "--json"}, {}, 60000, env);
    QCOMPARE(r.code, 0);
    everything += r.out + r.err;
    QVERIFY(r.err.contains("check the key in MOA_SECRET_TEST_KEY")); // the 401 names the variable...
    r = run_moa({"run", "--config", cfg, "--prompt", "And in the text output?"}, {}, 60000, env);
    everything += r.out + r.err;
    r = run_moa({"run", "--config", cfg, "--prompt", "And in events?", "--events"}, {}, 60000, env);
    everything += r.out + r.err;
    for (const char* fmt : {"--json", "--markdown"}) {
        r = run_moa({"history", "show", "1", fmt}, {}, 60000, env);
        QCOMPARE(r.code, 0);
        everything += r.out + r.err;
    }
    r = run_moa({"history", "--json"}, {}, 60000, env);
    everything += r.out + r.err;

    // moa serve, recording into the same history.
    {
        ServeProcess serve({"--config", cfg}, env);
        QVERIFY(serve.ok());
        auto reply = http_request("POST", serve.url("/v1/chat/completions"),
                                  "{\"model\": \"test\", \"stream\": true, \"messages\": [{\"role\": \"user\", \"content\": \"serve?\"}]}");
        QCOMPARE(reply.status, 200L);
        everything += reply.body + serve.output();
    }

    // The key was really used: the upstream server got it...
    int with_key = 0;
    for (const auto& q : server.requests())
        with_key += q.toObject()["authorization"].toString() == "Bearer " + QString::fromLatin1(kKey);
    QVERIFY(with_key >= 4);
    // ...and nothing we wrote or printed holds it.
    QVERIFY2(!everything.contains(kKey), "the key appeared in the output of moa");
    const QStringList hits = files_with_key(dir.path());
    QVERIFY2(hits.isEmpty(), qPrintable("the key was found in: " + hits.join(", ")));
    QVERIFY(QFile::exists(dir.filePath("history.sqlite")));
}

QTEST_GUILESS_MAIN(TestSecrets)
#include "tst_secrets.moc"
