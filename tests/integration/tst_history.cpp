// SPDX-License-Identifier: MIT
// The run history in real SQLite: runs recorded as they happen over real HTTP, reopened
// exactly as they were, and the failures of the file itself reported by name.
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QtTest>

#include <csignal>
#include <fstream>
#include <map>

#include <sqlite3.h>

#include "config/config.h"
#include "engine/engine.h"
#include "util/resources.h"
#include "run_helpers.h"
#include "store/history_recorder.h"
#include "test_server.h"

using namespace moa;
using namespace testing_support;

class TestHistory : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void recordedRunReopensExactlyAsItWas();
    void finishedAnswersAreCommittedWhileTheRunGoesOn();
    void searchFindsPromptsConfigsAndAnswers();
    void databaseIsInWalMode();
    void newerSchemaIsRefusedWithAClearMessage();
    void unwritableLocationIsNamed();
    void sigkillOfMoaRunLosesNoFinishedAnswer();
    void schemaOneDatabaseIsUpgradedKeepingEveryRun();
    void timelineIsRecordedForReplay();

private:
    std::unique_ptr<TestServer> server_;
    QTemporaryDir dir_;
    std::string db(const char* name) { return dir_.filePath(name).toStdString(); }
};

void TestHistory::initTestCase() {
    server_ = std::make_unique<TestServer>();
    QVERIFY(server_->ok());
}

void TestHistory::recordedRunReopensExactlyAsItWas() {
    auto h = store::History::open(db("a.sqlite"));
    QVERIFY2(h.ok(), h.ok() ? "" : h.error().c_str());
    store::HistoryRecorder rec(std::move(*h));
    std::string n = nonce();
    auto cfg = make_config(config_json(server_->base_url(), {{"ok?tag=A-" + n, "status?code=500&tag=" + n}, {"ok?tag=F-" + n}},
                                       {{"max_retries", 0}}));
    accounting::Catalog catalog;
    engine::Engine eng(catalog);
    auto input = engine::RunInput::from_prompt("Is the history exact?", "Be brief.");
    auto run = eng.start(cfg, input, rec.sink("cli", cfg, input, {}));
    run->wait();
    rec.flush();
    QVERIFY(rec.errors().empty());
    auto live = run->record();
    std::int64_t id = rec.stored_id(live.id);
    QVERIFY(id > 0);

    auto h2 = store::History::open(db("a.sqlite"));
    auto loaded = (*h2)->load(id);
    QVERIFY(loaded.has_value());
    auto a = engine::to_json(live), b = engine::to_json(*loaded);
    const QStringList la = QString::fromStdString(a.dump(1)).split('\n'), lb = QString::fromStdString(b.dump(1)).split('\n');
    for (int i = 0; i < std::min(la.size(), lb.size()); ++i)
        QVERIFY2(la[i] == lb[i], qPrintable(QString("line %1: live %2, reopened %3").arg(i).arg(la[i], lb[i])));
    QCOMPARE(lb.size(), la.size());
    QCOMPARE(loaded->input.conversation.size(), std::size_t(2));
    QCOMPARE(loaded->layers[0].agents[1].state, engine::AgentState::Dropped);
    auto snap = (*h2)->config_snapshot(id);
    QVERIFY(snap && (*snap)["layers"].size() == 2);
}

void TestHistory::finishedAnswersAreCommittedWhileTheRunGoesOn() {
    auto h = store::History::open(db("b.sqlite"));
    QVERIFY(h.ok());
    store::HistoryRecorder rec(std::move(*h));
    std::string n = nonce();
    auto cfg = make_config(config_json(server_->base_url(), {{"ok?tag=A-" + n, "ok?tag=B-" + n}, {"ok?chunks=30&delay_ms=100&tag=F-" + n}}));
    accounting::Catalog catalog;
    engine::Engine eng(catalog);
    EventLog log;
    auto input = engine::RunInput::from_prompt("Q");
    auto run = eng.start(cfg, input, rec.sink("cli", cfg, input, log.sink()));
    auto aggregator_streaming = [&log] {
        std::lock_guard<std::mutex> lock(log.mu);
        for (const auto& e : log.events)
            if (e.type == engine::Event::Type::AgentDelta && e.layer == 1) return true;
        return false;
    };
    QTRY_VERIFY_WITH_TIMEOUT(aggregator_streaming(), 10000);
    // The aggregator is still streaming; another connection already sees both finished answers.
    QTRY_VERIFY_WITH_TIMEOUT(
        [&] {
            sqlite3* c = nullptr;
            sqlite3_open_v2(db("b.sqlite").c_str(), &c, SQLITE_OPEN_READONLY, nullptr);
            sqlite3_stmt* s = nullptr;
            sqlite3_prepare_v2(c, "SELECT count(*) FROM responses WHERE layer=0 AND state='done' AND text<>''", -1, &s, nullptr);
            int n = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int(s, 0) : -1;
            sqlite3_finalize(s);
            sqlite3_close(c);
            return n == 2;
        }(),
        5000);
    QVERIFY(!run->finished());
    run->cancel();
    run->wait();
    rec.flush();
    auto h2 = store::History::open(db("b.sqlite"));
    auto loaded = (*h2)->load(rec.stored_id(run->record().id));
    QCOMPARE(loaded->status, engine::RunStatus::Cancelled);
    QVERIFY(!loaded->layers[1].agents[0].text.empty()); // the partial answer is kept
}

void TestHistory::searchFindsPromptsConfigsAndAnswers() {
    auto h = store::History::open(db("c.sqlite"));
    store::HistoryRecorder rec(std::move(*h));
    accounting::Catalog catalog;
    engine::Engine eng(catalog);
    for (const char* prompt : {"about penguins", "about volcanoes"}) {
        auto cfg = make_config(config_json(server_->base_url(), {{"ok?tag=zebra-" + nonce()}}));
        auto input = engine::RunInput::from_prompt(prompt);
        eng.start(cfg, input, rec.sink("gui", cfg, input, {}))->wait();
    }
    rec.flush();
    auto h2 = store::History::open(db("c.sqlite"));
    QCOMPARE((*h2)->list().size(), std::size_t(2));
    auto found = (*h2)->list("penguin");
    QCOMPARE(found.size(), std::size_t(1));
    QCOMPARE(found[0].prompt, std::string("about penguins"));
    QCOMPARE(found[0].source, std::string("gui"));
    QCOMPARE((*h2)->list("zebra-").size(), std::size_t(2)); // found in the answers
    QCOMPARE((*h2)->list("nothing like this").size(), std::size_t(0));
}

void TestHistory::databaseIsInWalMode() {
    auto h = store::History::open(db("d.sqlite"));
    QVERIFY(h.ok());
    sqlite3* c = nullptr;
    sqlite3_open(db("d.sqlite").c_str(), &c);
    sqlite3_stmt* s = nullptr;
    sqlite3_prepare_v2(c, "PRAGMA journal_mode", -1, &s, nullptr);
    QVERIFY(sqlite3_step(s) == SQLITE_ROW);
    QCOMPARE(QString(reinterpret_cast<const char*>(sqlite3_column_text(s, 0))), QStringLiteral("wal"));
    sqlite3_finalize(s);
    sqlite3_close(c);
}

void TestHistory::newerSchemaIsRefusedWithAClearMessage() {
    {
        auto h = store::History::open(db("e.sqlite"));
        QVERIFY(h.ok());
    }
    sqlite3* c = nullptr;
    sqlite3_open(db("e.sqlite").c_str(), &c);
    sqlite3_exec(c, "UPDATE meta SET value='99' WHERE key='schema_version'", nullptr, nullptr, nullptr);
    sqlite3_close(c);
    auto h = store::History::open(db("e.sqlite"));
    QVERIFY(!h.ok());
    QVERIFY2(QString::fromStdString(h.error()).contains("written by a newer MoA Workbench (schema 99"), h.error().c_str());
    QVERIFY(QString::fromStdString(h.error()).contains(QString::fromStdString(db("e.sqlite"))));
}

void TestHistory::unwritableLocationIsNamed() {
    auto h = store::History::open("/proc/moa-cannot-be-here/history.sqlite");
    QVERIFY(!h.ok());
    QVERIFY2(QString::fromStdString(h.error()).startsWith("/proc/moa-cannot-be-here/history.sqlite: cannot open"), h.error().c_str());
}

void TestHistory::sigkillOfMoaRunLosesNoFinishedAnswer() {
    // `moa run --events` against the local server: six proposers that finish at different
    // moments, then an aggregator. Killed at a random moment, twenty times: the database passes
    // integrity_check, and every answer the process had reported done (agent_done on its
    // output) is in it, word for word.
    const std::string n = nonce();
    std::vector<std::string> six;
    for (int i = 0; i < 6; ++i)
        six.push_back("ok?chunks=5&delay_ms=" + std::to_string(40 + 40 * i) + "&tag=K" + std::to_string(i) + "-" + n);
    const QString cfg = dir_.filePath("kill.moa.json");
    std::ofstream(cfg.toStdString()) << config_json(server_->base_url(), {six, {"ok?chunks=5&delay_ms=60&tag=KA-" + n}}).dump(2);
    const QString dbpath = dir_.filePath("kill.sqlite");
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert("MOA_HISTORY_DB", dbpath);
    auto* rng = QRandomGenerator::global();
    int kills = 0, verified = 0;
    for (int round = 0; round < 20; ++round) {
        QProcess p;
        p.setProcessEnvironment(env);
        p.setProgram(MOA_BINARY);
        p.setArguments({"run", "--config", cfg, "--prompt", QString("Round %1").arg(round), "--events"});
        p.start();
        QVERIFY(p.waitForStarted());
        if (kill_after(p, 100 + static_cast<int>(rng->bounded(1400)))) ++kills;
        // What it had reported done before it died.
        std::map<std::pair<int, int>, QString> done;
        for (const QByteArray& line : p.readAllStandardOutput().split('\n')) {
            auto o = QJsonDocument::fromJson(line).object();
            if (o["event"].toString() == "agent_done")
                done[{o["layer"].toInt(), o["agent"].toInt()}] = o["agent_record"].toObject()["text"].toString();
        }
        sqlite3* db = nullptr;
        QCOMPARE(sqlite3_open_v2(dbpath.toUtf8().constData(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
        sqlite3_stmt* st = nullptr;
        sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, nullptr);
        QCOMPARE(sqlite3_step(st), SQLITE_ROW);
        QCOMPARE(QString::fromUtf8(reinterpret_cast<const char*>(sqlite3_column_text(st, 0))), QString("ok"));
        sqlite3_finalize(st);
        std::map<std::pair<int, int>, QString> stored;
        sqlite3_prepare_v2(db, "SELECT layer, agent, text FROM responses WHERE run_id = (SELECT max(id) FROM runs) "
                               "AND state = 'done'", -1, &st, nullptr);
        while (sqlite3_step(st) == SQLITE_ROW)
            stored[{sqlite3_column_int(st, 0), sqlite3_column_int(st, 1)}] =
                QString::fromUtf8(reinterpret_cast<const char*>(sqlite3_column_text(st, 2)));
        sqlite3_finalize(st);
        sqlite3_close(db);
        for (const auto& [at, text] : done) {
            QVERIFY2(stored.count(at), qPrintable(QString("round %1: answer %2.%3 reported done but not stored")
                                                      .arg(round).arg(at.first).arg(at.second)));
            QCOMPARE(stored[at], text);
            ++verified;
        }
    }
    qInfo("%d SIGKILLs of moa run; %d answers reported done before a kill, all stored", kills, verified);
    QVERIFY(kills >= 10);
    QVERIFY(verified > 0);
}

void TestHistory::schemaOneDatabaseIsUpgradedKeepingEveryRun() {
    // A database written by 0.1.0 (schema 1), loaded from its SQL dump.
    QFile f(QStringLiteral(MOA_SOURCE_ROOT "/tests/fixtures/history-v1.sql"));
    QVERIFY(f.open(QIODevice::ReadOnly));
    const std::string path = db("v1.sqlite");
    {
        sqlite3* raw = nullptr;
        QCOMPARE(sqlite3_open(path.c_str(), &raw), SQLITE_OK);
        char* err = nullptr;
        QCOMPARE(sqlite3_exec(raw, f.readAll().constData(), nullptr, nullptr, &err), SQLITE_OK);
        sqlite3_close(raw);
    }
    auto h = store::History::open(path);
    QVERIFY2(h.ok(), h.ok() ? "" : h.error().c_str());
    QCOMPARE((*h)->migrated_from(), 1);
    auto runs = (*h)->list();
    QCOMPARE(runs.size(), std::size_t(1));
    QCOMPARE(runs[0].config_name, std::string("Offline demo"));
    QVERIFY(!runs[0].rerun_of);
    auto rec = (*h)->load(runs[0].id);
    QVERIFY(rec);
    QCOMPARE(rec->layers.size(), std::size_t(3));
    QVERIFY(rec->final_text && rec->final_text->find("offline demo") != std::string::npos);
    QVERIFY(rec->layers[0].agents[0].timeline.empty()); // schema 1 had none: replays interpolate
    // The new columns work on the upgraded file.
    auto id = (*h)->begin_run("cli", config::to_json(*config::load_config_file(resources::preset_path("offline-demo")).config),
                              engine::RunInput::from_prompt("again"), "Offline demo");
    QVERIFY(id.ok());
    QVERIFY((*h)->set_rerun_of(*id, runs[0].id).ok());
    QCOMPARE(*(*h)->list()[0].rerun_of, runs[0].id);
    h->reset();
    // Opening it again migrates nothing.
    auto again = store::History::open(path);
    QVERIFY(again.ok());
    QCOMPARE((*again)->migrated_from(), 0);
}

void TestHistory::timelineIsRecordedForReplay() {
    auto h = store::History::open(db("t.sqlite"));
    QVERIFY(h.ok());
    store::HistoryRecorder rec(std::move(*h));
    const std::string m = "ok?chunks=8&delay_ms=40&tag=TL-" + nonce();
    auto cfg = make_config(config_json(server_->base_url(), {{m}}));
    accounting::Catalog catalog;
    engine::Engine eng(catalog);
    auto input = engine::RunInput::from_prompt("Grow slowly");
    auto run = eng.start(cfg, input, rec.sink("cli", cfg, input, {}));
    run->wait();
    rec.flush();
    auto h2 = store::History::open(db("t.sqlite"));
    auto r = (*h2)->load((*h2)->list()[0].id);
    QVERIFY(r);
    const auto& a = r->layers[0].agents[0];
    QVERIFY2(a.timeline.size() >= 4, qPrintable(QString::number(a.timeline.size())));
    for (std::size_t i = 1; i < a.timeline.size(); ++i) {
        QVERIFY(a.timeline[i].first >= a.timeline[i - 1].first + 24.9);
        QVERIFY(a.timeline[i].second > a.timeline[i - 1].second);
    }
    QVERIFY(a.timeline.back().second <= a.text.size());
    QVERIFY(a.timeline.front().first >= a.start_ms && a.timeline.back().first <= a.end_ms + 1);
}

QTEST_GUILESS_MAIN(TestHistory)
#include "tst_history.moc"
