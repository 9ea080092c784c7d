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
#include <latch>
#include <thread>
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
    void firstOpensAtTheSameMomentAllSucceed();
    void halfUpgradedFileIsRepaired();
    void twoMoaRunsOnANewHistoryAreBothRecorded();
    void damagedHistoryIsSaidToBeDamaged();
    void doneIsReportedWhenTheWriterAcknowledges();
    void bigPromptIsStoredOnce();
    void schemaTwoDatabaseIsUpgradedKeepingEveryRun();

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
    QCOMPARE((*h2)->list()->size(), std::size_t(2));
    auto found = *(*h2)->list("penguin");
    QCOMPARE(found.size(), std::size_t(1));
    QCOMPARE(found[0].prompt, std::string("about penguins"));
    QCOMPARE(found[0].source, std::string("gui"));
    QCOMPARE((*h2)->list("zebra-")->size(), std::size_t(2)); // found in the answers
    QCOMPARE((*h2)->list("nothing like this")->size(), std::size_t(0));
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
    auto runs = *(*h)->list();
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
    QCOMPARE(*(*(*h)->list())[0].rerun_of, runs[0].id);
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
    auto r = (*h2)->load((*(*h2)->list())[0].id);
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

namespace {
// The schema version and the runs table of a history file, read with a plain connection.
std::pair<int, int> version_and_runs(const std::string& path) {
    sqlite3* c = nullptr;
    sqlite3_open_v2(path.c_str(), &c, SQLITE_OPEN_READONLY, nullptr);
    auto one = [c](const char* sql) {
        sqlite3_stmt* s = nullptr;
        sqlite3_prepare_v2(c, sql, -1, &s, nullptr);
        int v = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int(s, 0) : -1;
        sqlite3_finalize(s);
        return v;
    };
    std::pair<int, int> r{one("SELECT CAST(value AS INTEGER) FROM meta WHERE key='schema_version'"),
                          one("SELECT count(*) FROM runs")};
    sqlite3_close(c);
    return r;
}
} // namespace

void TestHistory::firstOpensAtTheSameMomentAllSucceed() {
    // Four connections open the same new file at the same moment (released together by a latch),
    // forty times: each open succeeds, each records its run, and the file ends at this build's
    // schema. Before the upgrade took the write lock, a late opener set the version back to 1
    // and then failed on a column that existed, and the file stayed broken for every later run.
    constexpr int kOpeners = 4, kRounds = 40;
    int failures = 0;
    QString first_error;
    for (int round = 0; round < kRounds; ++round) {
        const std::string path = db(("race-" + std::to_string(round) + ".sqlite").c_str());
        std::latch go(kOpeners);
        std::vector<std::string> errors(kOpeners);
        std::vector<std::thread> threads;
        for (int t = 0; t < kOpeners; ++t)
            threads.emplace_back([&, t] {
                go.arrive_and_wait();
                auto h = store::History::open(path);
                if (!h) {
                    errors[t] = h.error();
                    return;
                }
                auto id = (*h)->begin_run("cli", nlohmann::json::object(), engine::RunInput::from_prompt("race"), "race");
                if (!id) errors[t] = id.error();
            });
        for (auto& th : threads) th.join();
        for (const auto& e : errors)
            if (!e.empty()) {
                ++failures;
                if (first_error.isEmpty()) first_error = QString::fromStdString(e);
            }
        const auto [version, runs] = version_and_runs(path);
        QVERIFY2(version == store::kHistorySchemaVersion,
                 qPrintable(QString("round %1: schema version %2 after the race").arg(round).arg(version)));
        QVERIFY2(failures == 0, qPrintable(QString("round %1: %2").arg(round).arg(first_error)));
        QCOMPARE(runs, kOpeners);
        // And the file stays good for the next process.
        auto again = store::History::open(path);
        QVERIFY2(again.ok(), again.ok() ? "" : again.error().c_str());
        QCOMPARE((*again)->migrated_from(), 0);
    }
}

void TestHistory::halfUpgradedFileIsRepaired() {
    // A file left by the old race: schema 2's columns are there, the version says 1. Opening it
    // upgrades it (the step sees its columns exist) instead of failing on it for ever.
    const std::string path = db("half.sqlite");
    {
        auto h = store::History::open(path);
        QVERIFY(h.ok());
    }
    sqlite3* c = nullptr;
    sqlite3_open(path.c_str(), &c);
    QCOMPARE(sqlite3_exec(c, "UPDATE meta SET value='1' WHERE key='schema_version'", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(c);
    auto h = store::History::open(path);
    QVERIFY2(h.ok(), h.ok() ? "" : h.error().c_str());
    QCOMPARE((*h)->migrated_from(), 1);
    QVERIFY((*h)->begin_run("cli", nlohmann::json::object(), engine::RunInput::from_prompt("after repair"), "x").ok());
    h->reset();
    QCOMPARE(version_and_runs(path), std::make_pair(store::kHistorySchemaVersion, 1));
}

void TestHistory::twoMoaRunsOnANewHistoryAreBothRecorded() {
    // Two `moa run` processes started together on a history file that does not exist yet, ten
    // times: both exit 0 with no history warning, and both runs are in the file.
    const QString cfg = dir_.filePath("pair.moa.json");
    std::ofstream(cfg.toStdString()) << config_json(server_->base_url(), {{"ok?tag=P-" + nonce()}}).dump(2);
    for (int round = 0; round < 10; ++round) {
        const QString dbpath = dir_.filePath(QString("pair-%1.sqlite").arg(round));
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert("MOA_HISTORY_DB", dbpath);
        QProcess p[2];
        for (int i = 0; i < 2; ++i) {
            p[i].setProcessEnvironment(env);
            p[i].setProgram(MOA_BINARY);
            p[i].setArguments({"run", "--config", cfg, "--prompt", QString("pair %1.%2").arg(round).arg(i), "--quiet"});
        }
        p[0].start();
        p[1].start();
        for (auto& q : p) {
            QVERIFY(q.waitForFinished(60000));
            const QString err = QString::fromUtf8(q.readAllStandardError());
            QVERIFY2(q.exitCode() == 0 && !err.contains("history"), qPrintable(QString("round %1: %2").arg(round).arg(err)));
        }
        QCOMPARE(version_and_runs(dbpath.toStdString()), std::make_pair(store::kHistorySchemaVersion, 2));
    }
}

void TestHistory::damagedHistoryIsSaidToBeDamaged() {
    // Sixty runs, then garbage written over the middle fifth of the file (the runs' pages).
    const std::string path = db("damaged.sqlite");
    {
        auto h = store::History::open(path);
        QVERIFY(h.ok());
        engine::RunRecord end;
        end.status = engine::RunStatus::Done;
        for (int i = 0; i < 60; ++i) {
            auto id = (*h)->begin_run("cli", nlohmann::json::object(),
                                      engine::RunInput::from_prompt("run " + std::to_string(i) + " " + std::string(1000, 'p')), "c");
            QVERIFY(id.ok());
            end.final_text = "answer " + std::to_string(i);
            QVERIFY((*h)->finish_run(*id, end).ok());
        }
        QCOMPARE((*h)->list({}, 1000)->size(), std::size_t(60));
    } // the last connection closes: the WAL is folded into the file
    {
        QFile f(QString::fromStdString(path));
        QVERIFY(f.open(QIODevice::ReadWrite));
        const qint64 size = f.size();
        QVERIFY(size > 40 * 4096);
        QVERIFY(f.seek(size * 2 / 5));
        QByteArray junk(static_cast<int>(size / 5), '\0');
        for (int i = 0; i < junk.size(); ++i) junk[i] = static_cast<char>(QRandomGenerator::global()->bounded(256));
        QVERIFY(f.write(junk) == junk.size());
    }
    const QString wal = QString::fromStdString(path) + "-wal";
    QFile::remove(wal);

    // The list is an error naming the damage, never a shorter list.
    {
        auto h = store::History::open(path);
        QVERIFY2(h.ok(), h.ok() ? "" : h.error().c_str()); // the first pages are fine
        auto runs = (*h)->list({}, 1000);
        QVERIFY2(!runs.ok(), qPrintable(QString("listed %1 of 60 runs as if that were all").arg(runs.ok() ? runs->size() : 0)));
        QVERIFY2(QString::fromStdString(runs.error()).contains("the history file is damaged"), runs.error().c_str());
        QVERIFY((*h)->damaged());
        QVERIFY(!(*h)->begin_run("cli", nlohmann::json::object(), engine::RunInput::from_prompt("x"), "c").ok());
    }

    // `moa history` says so, with what to do, and exits non-zero.
    QProcess p;
    p.start(MOA_BINARY, {"history", "--db", QString::fromStdString(path)});
    QVERIFY(p.waitForFinished(60000));
    const QString out = QString::fromUtf8(p.readAllStandardOutput()), err = QString::fromUtf8(p.readAllStandardError());
    QVERIFY2(p.exitCode() != 0, qPrintable(out));
    QVERIFY2(err.contains("the history file is damaged") && err.contains(QString::fromStdString(path)) &&
                 err.contains("mv '") && err.contains(".recover"),
             qPrintable(err));
    QVERIFY2(out.isEmpty(), qPrintable(out));

    // A run recorded into it: the recorder reads every page before its first write, says what is
    // wrong, and writes nothing into the damaged file.
    QFile::remove(wal);
    const QByteArray before = [&] {
        QFile f(QString::fromStdString(path));
        f.open(QIODevice::ReadOnly);
        return f.readAll();
    }();
    {
        auto h = store::History::open(path);
        QVERIFY(h.ok());
        store::HistoryRecorder rec(std::move(*h));
        auto cfg = make_config(config_json(server_->base_url(), {{"ok?tag=DMG-" + nonce()}}));
        accounting::Catalog catalog;
        engine::Engine eng(catalog);
        auto input = engine::RunInput::from_prompt("into a damaged file?");
        auto run = eng.start(cfg, input, rec.sink("cli", cfg, input, {}));
        run->wait();
        rec.flush();
        QCOMPARE(run->record().status, engine::RunStatus::Done); // the run itself goes on
        const auto errors = rec.errors();
        QVERIFY(!errors.empty());
        QVERIFY2(QString::fromStdString(errors[0]).contains("the history file is damaged"), errors[0].c_str());
        QCOMPARE(rec.stored_id(run->record().id), std::int64_t(0));
    }
    QFile f(QString::fromStdString(path));
    QVERIFY(f.open(QIODevice::ReadOnly));
    QVERIFY(f.readAll() == before);
    QVERIFY(!QFile::exists(wal) || QFileInfo(wal).size() == 0);
}

void TestHistory::doneIsReportedWhenTheWriterAcknowledges() {
    // Every commit slowed to 1.5 s (the test hook): A finishes at once, B streams a token every
    // 50 ms for about two seconds. A's done reaches the screen only once its answer is in the
    // file, and B's tokens keep coming while A's commit is under way: the transport thread does
    // not wait on the disk (it used to wait up to 2 s per finished answer, stopping every stream).
    qputenv("MOA_TEST_COMMIT_DELAY_MS", "1500");
    auto h = store::History::open(db("ack.sqlite"));
    QVERIFY(h.ok());
    store::HistoryRecorder rec(std::move(*h));
    qunsetenv("MOA_TEST_COMMIT_DELAY_MS");
    const std::string n = nonce();
    auto cfg = make_config(config_json(server_->base_url(), {{"ok?chunks=2&tag=A-" + n, "ok?chunks=40&delay_ms=50&tag=B-" + n},
                                                            {"ok?tag=F-" + n}}));
    struct Seen {
        engine::Event event;
        bool stored = false; // AgentDone: the answer was in the file when the done arrived
    };
    std::mutex mu;
    std::vector<Seen> seen;
    sqlite3* reader = nullptr;
    engine::EventSink screen = [&](const engine::Event& e) {
        Seen s{e, false};
        if (e.type == engine::Event::Type::AgentDone) {
            if (!reader) sqlite3_open_v2(db("ack.sqlite").c_str(), &reader, SQLITE_OPEN_READONLY, nullptr);
            sqlite3_stmt* st = nullptr;
            sqlite3_prepare_v2(reader, "SELECT count(*) FROM responses WHERE layer=? AND agent=? AND state='done'", -1, &st, nullptr);
            sqlite3_bind_int(st, 1, e.layer);
            sqlite3_bind_int(st, 2, e.agent);
            s.stored = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == 1;
            sqlite3_finalize(st);
        }
        std::lock_guard<std::mutex> lock(mu);
        seen.push_back(std::move(s));
    };
    accounting::Catalog catalog;
    engine::Engine eng(catalog);
    auto input = engine::RunInput::from_prompt("ack?");
    auto run = eng.start(cfg, input, rec.sink("cli", cfg, input, screen));
    run->wait();
    rec.flush();
    sqlite3_close(reader);
    QVERIFY(rec.errors().empty());
    QCOMPARE(run->record().status, engine::RunStatus::Done);

    using T = engine::Event::Type;
    std::lock_guard<std::mutex> lock(mu);
    QVERIFY(!seen.empty());
    QCOMPARE(seen.back().event.type, T::RunDone); // the end comes last, after its commit
    int dones = 0;
    std::optional<std::size_t> a_done;
    for (std::size_t i = 0; i < seen.size(); ++i) {
        const auto& e = seen[i].event;
        if (e.type != T::AgentDone) continue;
        ++dones;
        QVERIFY2(seen[i].stored, qPrintable(QString("L%1.%2 reported done before it was committed").arg(e.layer + 1).arg(e.agent + 1)));
        if (e.layer == 0 && e.agent == 0) a_done = i;
        for (std::size_t j = i + 1; j < seen.size(); ++j) {
            const auto& later = seen[j].event;
            QVERIFY2(!(later.layer == e.layer && later.agent == e.agent), "an agent's event came after its done");
        }
    }
    QCOMPARE(dones, 3);
    // The aggregator's first event comes after both proposers' dones.
    std::size_t first_l1 = seen.size(), last_l0_done = 0;
    for (std::size_t i = 0; i < seen.size(); ++i) {
        if (seen[i].event.layer == 1 && first_l1 == seen.size()) first_l1 = i;
        if (seen[i].event.layer == 0 && seen[i].event.type == T::AgentDone) last_l0_done = i;
    }
    QVERIFY(last_l0_done < first_l1);
    // B's tokens produced after A had finished, and shown before A's done was: the stream went on
    // during A's commit.
    QVERIFY(a_done);
    const double a_end = seen[*a_done].event.record->end_ms;
    int b_during = 0;
    for (std::size_t i = 0; i < *a_done; ++i) {
        const auto& e = seen[i].event;
        if (e.type == T::AgentDelta && e.layer == 0 && e.agent == 1 && e.t_ms > a_end) ++b_during;
    }
    qInfo("%d tokens of B shown while A's 1.5 s commit was under way", b_during);
    QVERIFY2(b_during >= 5, qPrintable(QString::number(b_during)));
}

void TestHistory::bigPromptIsStoredOnce() {
    // An 8 MB prompt through three proposers and an aggregator: every agent was sent it, but the
    // history holds it once (the file and its WAL together), and gives the run back exactly.
    const std::string path = db("big.sqlite");
    auto h = store::History::open(path);
    QVERIFY(h.ok());
    store::HistoryRecorder rec(std::move(*h));
    const std::string n = nonce();
    auto cfg = make_config(config_json(server_->base_url(), {{"ok?tag=P1-" + n, "ok?tag=P2-" + n, "ok?tag=P3-" + n}, {"ok?tag=F-" + n}}));
    std::string prompt;
    while (prompt.size() < (8u << 20)) prompt += "word" + std::to_string(prompt.size() % 9973) + " ";
    accounting::Catalog catalog;
    engine::Engine eng(catalog);
    auto input = engine::RunInput::from_prompt(prompt, "Be brief.");
    auto run = eng.start(cfg, input, rec.sink("serve", cfg, input, {}));
    run->wait();
    rec.flush();
    QVERIFY(rec.errors().empty());
    QCOMPARE(run->record().status, engine::RunStatus::Done);
    const qint64 bytes = QFileInfo(QString::fromStdString(path)).size() + QFileInfo(QString::fromStdString(path + "-wal")).size();
    qInfo("an %zu-byte prompt, 3 proposers + aggregator: history file + WAL %lld bytes (%.2f x the prompt)", prompt.size(),
          bytes, double(bytes) / double(prompt.size()));
    auto h2 = store::History::open(path);
    auto loaded = (*h2)->load(rec.stored_id(run->record().id));
    QVERIFY(loaded);
    QVERIFY(engine::to_json(*loaded) == engine::to_json(run->record()));
    QVERIFY(double(bytes) < 2.5 * double(prompt.size()));
}

void TestHistory::schemaTwoDatabaseIsUpgradedKeepingEveryRun() {
    // A schema-2 file (the 0.1.0 dump upgraded as 0.2 did: two columns added), whose answers
    // hold their messages inline: schema 3 reads them as before and stores new ones once.
    QFile f(QStringLiteral(MOA_SOURCE_ROOT "/tests/fixtures/history-v1.sql"));
    QVERIFY(f.open(QIODevice::ReadOnly));
    const std::string path = db("v2.sqlite");
    std::vector<std::string> inline_messages;
    {
        sqlite3* raw = nullptr;
        QCOMPARE(sqlite3_open(path.c_str(), &raw), SQLITE_OK);
        QCOMPARE(sqlite3_exec(raw, f.readAll().constData(), nullptr, nullptr, nullptr), SQLITE_OK);
        QCOMPARE(sqlite3_exec(raw, "ALTER TABLE responses ADD COLUMN timeline_json TEXT; ALTER TABLE runs ADD COLUMN rerun_of INTEGER; "
                                   "UPDATE meta SET value='2' WHERE key='schema_version';", nullptr, nullptr, nullptr), SQLITE_OK);
        sqlite3_stmt* st = nullptr;
        sqlite3_prepare_v2(raw, "SELECT messages_json FROM responses ORDER BY layer, agent", -1, &st, nullptr);
        while (sqlite3_step(st) == SQLITE_ROW) inline_messages.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)));
        sqlite3_finalize(st);
        sqlite3_close(raw);
    }
    QVERIFY(!inline_messages.empty());
    auto h = store::History::open(path);
    QVERIFY2(h.ok(), h.ok() ? "" : h.error().c_str());
    QCOMPARE((*h)->migrated_from(), 2);
    auto runs = (*h)->list();
    QVERIFY(runs.ok());
    QCOMPARE(runs->size(), std::size_t(1));
    auto old = (*h)->load((*runs)[0].id);
    QVERIFY(old);
    std::size_t i = 0;
    for (const auto& L : old->layers)
        for (const auto& a : L.agents) {
            if (a.attempts == 0) continue;
            QVERIFY(i < inline_messages.size());
            nlohmann::json stored = nlohmann::json::parse(inline_messages[i++]), loaded = nlohmann::json::array();
            for (const auto& m : a.messages) loaded.push_back({{"role", m.role}, {"content", m.content}});
            QCOMPARE(loaded, stored);
        }
    QCOMPARE(i, inline_messages.size());
    // A new run with a long conversation: stored by reference, read back whole.
    const std::string long_prompt(5000, 'L');
    auto id = (*h)->begin_run("cli", nlohmann::json::object(), engine::RunInput::from_prompt(long_prompt, "sys"), "x");
    QVERIFY(id.ok());
    auto again = (*h)->load(*id);
    QVERIFY(again);
    QCOMPARE(again->input.conversation.back().content, long_prompt);
    h->reset();
    QCOMPARE(version_and_runs(path), std::make_pair(store::kHistorySchemaVersion, 2));
}

QTEST_GUILESS_MAIN(TestHistory)
#include "tst_history.moc"
