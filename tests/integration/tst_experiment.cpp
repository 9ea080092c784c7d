// SPDX-License-Identifier: MIT
// Experiments end to end against the local OpenAI-compatible server: `moa eval` with three
// configurations, a reference and a judge; the response cache; killed at random moments and
// resumed without repeating a finished call (the server's request log proves it).
#include <QDir>
#include <QElapsedTimer>
#include <QUrl>
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QRegularExpression>
#include <QtTest>

#include <algorithm>
#include <csignal>
#include <fstream>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "engine/call_cache.h"
#include "engine/prompt_builder.h"
#include "util/text.h"
#include "eval/alpaca_stats.h"
#include "eval/lc_variants.h"
#include "eval/logistic_l1.h"
#include "eval/experiment.h"
#include "eval/experiment_results.h"
#include "eval/experiment_runner.h"
#include "accounting/catalog.h"
#include "config/config.h"
#include "eval/sweep.h"
#include "util/resources.h"
#include "store/experiment_store.h"
#include "store/sqlite_db.h"
#include "run_helpers.h"
#include "test_server.h"

using nlohmann::json;

namespace {

json cfg(const std::string& name, const std::string& url, const std::vector<std::vector<std::string>>& layers, double in_price,
         double params_b) {
    json models = json::object(), ls = json::array();
    for (const auto& L : layers) {
        json agents = json::array();
        for (const auto& m : L) {
            agents.push_back({{"provider", "local"}, {"model", m}, {"max_tokens", 64}});
            models[m] = {{"input_usd_per_mtok", in_price}, {"output_usd_per_mtok", in_price * 2}, {"active_params_b", params_b}};
        }
        ls.push_back({{"agents", agents}});
    }
    return {{"schema", "moa-workbench/config@1"},
            {"name", name},
            {"providers", {{"local", {{"base_url", url}, {"models", models}, {"max_retries", 0}}}}},
            {"layers", ls}};
}

void write(const QString& path, const json& j) { std::ofstream(path.toStdString()) << j.dump(1); }

// Writes the three configurations, the reference, the judge and the experiment; `slow` makes
// every call take a while (for the kill test).
QString write_experiment(const QTemporaryDir& dir, const std::string& url, int sample, const std::string& slow = {}) {
    auto m = [&](const std::string& tag, int words) { return "ok?tag=" + tag + "&words=" + std::to_string(words) + "&jitter=30" + slow; };
    write(dir.filePath("single.moa.json"), cfg("Single 8B", url, {{m("single", 20)}}, 0.2, 8));
    write(dir.filePath("lite.moa.json"), cfg("MoA-Lite (local)", url, {{m("p0", 30), m("p1", 30), m("p2", 30)}, {m("agg", 60)}}, 0.6, 70));
    write(dir.filePath("moa.moa.json"), cfg("MoA 3 layers (local)", url,
                                             {{m("p0", 30), m("p1", 30), m("p2", 30)}, {m("q0", 40), m("q1", 40), m("q2", 40)}, {m("agg2", 80)}},
                                             0.9, 70));
    write(dir.filePath("ref.moa.json"), cfg("Reference", url, {{m("ref", 40)}}, 0.9, 70));
    write(dir.filePath("judge.moa.json"), cfg("Judge", url, {{"judge" + (slow.empty() ? std::string() : "?x=1" + slow)}}, 0.2, 8));
    json e{{"schema", "moa-workbench/experiment@1"},
           {"name", "three configurations"},
           {"configurations", {"single.moa.json", "lite.moa.json", "moa.moa.json"}},
           {"prompts", "starter"},
           {"sample", sample},
           {"seed", 7},
           {"reference", {{"configuration", "ref.moa.json"}}},
           {"judge", {{"config", "judge.moa.json"}, {"mode", "pairwise"}}},
           {"concurrency", 4}};
    write(dir.filePath("exp.moa-experiment.json"), e);
    return dir.filePath("exp.moa-experiment.json");
}

// The cache key of a request the server received: what the client would have looked up.
std::string key_of(const QJsonObject& logged, const std::string& url) {
    json body = json::parse(QJsonDocument(logged["body"].toObject()).toJson().toStdString());
    moa::providers::CallRequest r;
    r.provider.base_url = url;
    r.model = body["model"].get<std::string>();
    for (const auto& msg : body["messages"]) r.messages.push_back({msg["role"].get<std::string>(), msg["content"].get<std::string>()});
    if (body.contains("temperature")) r.params.temperature = body["temperature"].get<double>();
    if (body.contains("top_p")) r.params.top_p = body["top_p"].get<double>();
    if (body.contains("max_tokens")) r.params.max_tokens = body["max_tokens"].get<long>();
    if (body.contains("seed")) r.params.seed = body["seed"].get<std::int64_t>();
    if (body.contains("top_logprobs")) r.params.top_logprobs = body["top_logprobs"].get<int>();
    return moa::engine::cache_key(r);
}

std::set<std::string> cached_keys(const QString& db) {
    moa::store::Database d;
    std::set<std::string> out;
    if (!d.open(db.toStdString(), false)) return out;
    moa::store::Statement q(d.handle(), "SELECT key FROM call_cache");
    while (q.step()) out.insert(q.text(0));
    return out;
}

QString integrity(const QString& db) {
    moa::store::Database d;
    if (!d.open(db.toStdString(), false)) return "cannot open";
    moa::store::Statement q(d.handle(), "PRAGMA integrity_check");
    return q.step() ? QString::fromStdString(q.text(0)) : "no answer";
}

} // namespace

class TestExperiment : public QObject {
    Q_OBJECT
private slots:
    void threeConfigurationsThirtyPromptsGiveResultsAndFrontier();
    void badExperimentFilesNameFileLineAndPointer();
    void fractionsWhereWholeNumbersGoNameThePointer();
    void budgetStopsBeforeItWouldBePassed();
    void rateLimitCountsInTheEtaAndALongOneIsSaidUpFront();
    void killedAtRandomMomentsResumesWithoutRepeatingAFinishedCall();
    void sigtermStopsLikeCtrlC();
    void mtBenchGradesBothTurnsWithReferences();
    void flaskSkillsAreGraded();
    void sweepsGenerateThePapersAblations();
    void experimentFilesSurviveAFullDiskOrAReadOnlyFolder();
    void importedOutputsAsReferenceWithAlpacaEvalsTemplate();
    void selectingAggregatorReturnsOneOfTheAnswers();
    void identicalAgentsAreSamples();
    void rankerSelectsOnlyInTheLastLayerAndReadsRealisticReplies();
    void failedCallsCostWhatWasBilled();
    void nothingIsJudgedAgainstAFailedReference();
    void failedGenerationsCountAsLosses();
    void answersWithDroppedAgentsAreCountedAndNamed();
    void lcIsWhatItSaysAgainstAnIndependentComputation();
    void baselineVariantsRegulariseLcAsAlpacaEvalDoes();
    void noReadableVerdictIsNotAZeroWinRateNorOnTheFrontier();
    void unknownCostIsNeverShownAsZero();
    void largePromptSetsCompileEachLookupOnce();
};

void TestExperiment::threeConfigurationsThirtyPromptsGiveResultsAndFrontier() {
    TestServer server;
    QVERIFY(server.ok());
    QTemporaryDir dir;
    auto exp = write_experiment(dir, server.base_url(), 30);
    const QString db = dir.filePath("e.sqlite");
    auto r = run_moa({"eval", "--experiment", exp, "--db", db, "--json", "--quiet"}, {}, 240000);
    QVERIFY2(r.code == 0, r.err.constData());
    auto j = json::parse(r.out.toStdString());
    QCOMPARE(j["status"].get<std::string>(), std::string("done"));
    QCOMPARE(j["configurations"].size(), std::size_t(3));
    int on_frontier = 0;
    for (const auto& c : j["configurations"]) {
        QCOMPARE(c["n_total"].get<int>(), 30);
        QVERIFY(c["length_controlled_winrate"].is_number());
        QVERIFY(c["cost_per_instance_usd"].get<double>() > 0);
        QVERIFY(c["tflops_per_instance"].get<double>() > 0);
        on_frontier += c["on_frontier"].get<bool>();
    }
    QVERIFY(on_frontier >= 1);
    QCOMPARE(j["instances"].size(), std::size_t(90));
    QVERIFY(!j["instances"][0]["judge_raw"].get<std::string>().empty());
    // 30 prompts x (reference 1 + single 1 + lite 4 + moa 7 + 3 judgments) = 480 calls, less the
    // three first-layer proposers that MoA-Lite and the 3-layer MoA share (same model, same
    // messages): those are paid once, even when both configurations run them at the same time.
    const int expected = 30 * 16 - 30 * 3;
    QCOMPARE(server.chat_requests(), expected);
    // An answer some of whose calls came from the cache took no time for them: it is left out of
    // the timing (each prompt's shared proposers were fresh for one configuration at least).
    int from_cache = 0;
    for (const auto& c : j["configurations"]) {
        from_cache += c["timing_from_cache"].get<int>();
        if (c["timing_from_cache"].get<int>() == 30) QVERIFY(c["latency_ms"].is_null());
        else QVERIFY(c["latency_ms"].get<double>() > 0);
    }
    QVERIFY2(from_cache >= 30 && from_cache <= 60, std::to_string(from_cache).c_str());
    // The judge was asked for log-probabilities and its verdicts were weighted by them.
    auto reqs = server.requests();
    bool asked = false;
    for (const auto& v : reqs)
        if (v.toObject()["model"].toString() == "judge") asked = v.toObject()["body"].toObject()["top_logprobs"].toInt() == 5;
    QVERIFY(asked);
    QCOMPARE(QString::fromStdString(j["instances"][0]["detail"]["method"].get<std::string>()), QString("logprobs"));

    // The chart from the command line, without a display: PNG, SVG and CSV.
    for (const char* ext : {"png", "svg", "csv"}) {
        const QString out = dir.filePath(QString("chart.") + ext);
        auto c = run_moa({"chart", "--experiment", exp, "--db", db, "--out", out, "--x", ext == std::string("svg") ? "tflops" : "cost"},
                         {}, 60000);
        QVERIFY2(c.code == 0, c.err.constData());
        QVERIFY(QFileInfo(out).size() > 100);
    }
    QFile csv(dir.filePath("chart.csv"));
    QVERIFY(csv.open(QIODevice::ReadOnly));
    QCOMPARE(csv.readAll().count('\n'), 4); // header and three configurations
    auto bad = run_moa({"chart", "--experiment", exp, "--db", db, "--out", dir.filePath("c.png"), "--x", "speed"});
    QCOMPARE(bad.code, 2);
    QVERIFY(bad.err.contains("--x is cost or tflops"));

    // Run again: everything is in the store; not one call is made.
    r = run_moa({"eval", "--experiment", exp, "--db", db, "--json", "--quiet"}, {}, 60000);
    QCOMPARE(r.code, 0);
    QCOMPARE(server.chat_requests(), expected);
    QCOMPARE(json::parse(r.out.toStdString())["tasks"]["resumed"].get<int>(), 30 * 7);
}

void TestExperiment::badExperimentFilesNameFileLineAndPointer() {
    QTemporaryDir dir;
    std::ofstream(dir.filePath("x.moa-experiment.json").toStdString())
        << "{\n  \"configurations\": [\"nope.moa.json\"],\n  \"prompts\": \"starter\",\n  \"concurrency\": 0,\n"
           "  \"judge\": {\"config\": \"offline-demo\", \"mode\": \"pairwise\"},\n  \"seed\": 1,\n  \"seed\": 2,\n"
           "  \"rate_limits\": {\"a/b\": {\"requests_per_minute\": 1e-300, \"tokens_per_minute\": 0}}\n}\n";
    auto e = moa::eval::load_experiment(dir.filePath("x.moa-experiment.json").toStdString());
    QVERIFY(!e.ok());
    const QString err = QString::fromStdString(e.error());
    const QString f = dir.filePath("x.moa-experiment.json");
    QVERIFY2(err.contains(f + ":2: /configurations/0: no configuration file"), qPrintable(err));
    QVERIFY2(err.contains(f + ":4: /concurrency: expected a number from 1 to 256, got 0"), qPrintable(err));
    QVERIFY2(err.contains("the judge's configuration must have exactly one layer with one agent"), qPrintable(err));
    QVERIFY2(err.contains("a pairwise judge needs a \"reference\""), qPrintable(err));
    QVERIFY2(err.contains(f + ":7: /seed: this key is given twice in one object"), qPrintable(err));
    // A limit below one a minute held every call for ever (and read past an empty window); 0 is no limit.
    QVERIFY2(err.contains(f + ":8: /rate_limits/a~1b/requests_per_minute: expected 0 (no limit) or at least 1, got 1e-300"),
             qPrintable(err));
    QVERIFY2(!err.contains("tokens_per_minute"), qPrintable(err));
}

// sample 0.5, seed 0.5 and top_logprobs 0.5 were cut to 0 silently; read as configuration files
// read whole numbers now: a fraction names its pointer, and 1e2 or 64.0 is the whole number it is.
void TestExperiment::fractionsWhereWholeNumbersGoNameThePointer() {
    QTemporaryDir dir;
    const QString f = dir.filePath("x.moa-experiment.json");
    auto errors_of = [&](const std::string& numbers) {
        std::ofstream(f.toStdString()) << "{\n  \"configurations\": [\"nope.moa.json\"],\n  \"prompts\": \"starter\",\n" << numbers
                                       << "\n  \"judge\": {\"config\": \"offline-demo\", \"mode\": \"pairwise\", \"top_logprobs\": "
                                       << (numbers.find("0.5") != std::string::npos ? "0.5" : "5.0") << "}\n}\n";
        auto e = moa::eval::load_experiment(f.toStdString());
        return e.ok() ? QString() : QString::fromStdString(e.error());
    };
    const QString err = errors_of("  \"sample\": 0.5,\n  \"seed\": 0.5,\n  \"concurrency\": 2.5,");
    QVERIFY2(err.contains(f + ":4: /sample: must be a whole number, not a fraction: 0.5"), qPrintable(err));
    QVERIFY2(err.contains(f + ":5: /seed: must be a whole number, not a fraction: 0.5"), qPrintable(err));
    QVERIFY2(err.contains(f + ":6: /concurrency: must be a whole number, not a fraction: 2.5"), qPrintable(err));
    QVERIFY2(err.contains("/judge/top_logprobs: must be a whole number, not a fraction: 0.5"), qPrintable(err));
    const QString whole = errors_of("  \"sample\": 1e2,\n  \"seed\": 64.0,\n  \"concurrency\": 2,");
    QVERIFY2(!whole.contains("/sample") && !whole.contains("/seed") && !whole.contains("/concurrency") &&
                 !whole.contains("top_logprobs"),
             qPrintable(whole));
}

void TestExperiment::budgetStopsBeforeItWouldBePassed() {
    TestServer server;
    QVERIFY(server.ok());
    QTemporaryDir dir;
    auto exp = write_experiment(dir, server.base_url(), 10);
    json e = json::parse(std::ifstream(exp.toStdString()));
    e["budget_usd"] = 0.002;
    write(exp, e);
    auto r = run_moa({"eval", "--experiment", exp, "--db", dir.filePath("e.sqlite"), "--json", "--quiet"}, {}, 120000);
    QCOMPARE(r.code, 4);
    QVERIFY2(r.err.contains("stopped before the budget of $0.0020 would be passed"), r.err.constData());
    auto j = json::parse(r.out.toStdString());
    QCOMPARE(j["status"].get<std::string>(), std::string("stopped at the budget"));
    QVERIFY(j["spent_usd"].get<double>() <= 0.002);
    QVERIFY(j["tasks"]["done"].get<int>() < j["tasks"]["total"].get<int>());
}

// Issue 12: "requests_per_minute": 1 made `moa eval` print a few seconds of ETA after its first
// answer (which went at once) and then wait for hours. The ETA counts what the limiter will
// hold back, and a run the limits make longer than an hour says so before the first call.
void TestExperiment::rateLimitCountsInTheEtaAndALongOneIsSaidUpFront() {
    TestServer server;
    QVERIFY(server.ok());
    QTemporaryDir dir;
    const std::string url = server.base_url();
    write(dir.filePath("one.moa.json"), cfg("One", url, {{"ok"}}, 0.2, 8));
    write(dir.filePath("judge.moa.json"), cfg("Judge", url, {{"judge"}}, 0.2, 8));
    const QString exp = dir.filePath("rl.moa-experiment.json");
    // 40 prompts: 40 generations and 40 grades, one call each, all on "local": 80 calls at one a
    // minute take at least 79 minutes.
    write(exp, json{{"schema", "moa-workbench/experiment@1"},
                    {"name", "rate limited"},
                    {"configurations", {"one.moa.json"}},
                    {"prompts", "starter"},
                    {"sample", 40},
                    {"seed", 5},
                    {"judge", {{"config", "judge.moa.json"}, {"mode", "single"}}},
                    {"concurrency", 4},
                    {"rate_limits", {{"local", {{"requests_per_minute", 1}}}}}});
    QProcess p;
    p.setProgram(MOA_BINARY);
    p.setArguments({"eval", "--experiment", exp, "--db", dir.filePath("e.sqlite")});
    p.start();
    QVERIFY(p.waitForStarted());
    QByteArray err;
    QElapsedTimer t;
    t.start();
    while (!err.contains(" ETA ") && t.elapsed() < 120000 && p.state() == QProcess::Running) {
        p.waitForReadyRead(500);
        err += p.readAllStandardError();
    }
    ::kill(static_cast<pid_t>(p.processId()), SIGINT); // finished work is kept
    if (!p.waitForFinished(60000)) kill_after(p, 0);
    err += p.readAllStandardError();
    const QByteArray warning = "moa eval: warning: the rate limits make this run take at least 1h19m: provider \"local\" may "
                               "start 1 request a minute and has 80 calls left (rate_limits in " + exp.toUtf8() + ")";
    QVERIFY2(err.contains(warning), err.constData());
    QVERIFY2(err.indexOf(warning) < err.indexOf(" ETA "), err.constData()); // before the first progress
    // The first answer went at once; the 79 calls left need 78 more minutes (before: "ETA 1s").
    QVERIFY2(err.contains("1/80  $") && err.contains(" ETA 1h18m"), err.constData());
    QVERIFY(server.requests().size() < 5); // nothing else was let through
}

// SIGTERM (a plain `kill`, a service manager) ended `moa eval` with exit 143 and not a word, its
// progress line cut; it stops like Ctrl-C now: "stopping; finished work is kept", the table, exit 3.
void TestExperiment::sigtermStopsLikeCtrlC() {
    TestServer server;
    QVERIFY(server.ok());
    QTemporaryDir dir;
    auto exp = write_experiment(dir, server.base_url(), 12, "&chunks=4&delay_ms=400");
    const QString db = dir.filePath("e.sqlite");
    QProcess p;
    p.setProgram(MOA_BINARY);
    p.setArguments({"eval", "--experiment", exp, "--db", db});
    p.start();
    QVERIFY(p.waitForStarted());
    QElapsedTimer t;
    t.start();
    while (server.requests().isEmpty() && t.elapsed() < 60000 && p.state() == QProcess::Running) QTest::qWait(50);
    QVERIFY(!server.requests().isEmpty()); // it is calling the server now
    ::kill(static_cast<pid_t>(p.processId()), SIGTERM);
    QVERIFY(p.waitForFinished(60000));
    const QByteArray err = p.readAllStandardError(), out = p.readAllStandardOutput();
    QCOMPARE(p.exitStatus(), QProcess::NormalExit);
    QCOMPARE(p.exitCode(), 3);
    QVERIFY2(err.contains("stopping; finished work is kept"), err.constData());
    QVERIFY2(out.contains("spent this session:"), out.constData()); // the table and its last line
}

void TestExperiment::killedAtRandomMomentsResumesWithoutRepeatingAFinishedCall() {
    TestServer server;
    QVERIFY(server.ok());
    QTemporaryDir dir;
    const std::string url = server.base_url();
    auto exp = write_experiment(dir, url, 12, "&chunks=4&delay_ms=100");
    const QString db = dir.filePath("e.sqlite");
    auto* rng = QRandomGenerator::global();
    int kills = 0, seen = 0;
    std::set<std::string> finished; // calls in the cache when the process died
    for (int round = 0; round < 20; ++round) {
        QProcess p;
        p.setProgram(MOA_BINARY);
        p.setArguments({"eval", "--experiment", exp, "--db", db, "--quiet"});
        p.start();
        QVERIFY(p.waitForStarted());
        if (kill_after(p, 150 + static_cast<int>(rng->bounded(500)))) ++kills;
        QCOMPARE(integrity(db), QString("ok"));
        // No call made in this session repeats one that had finished before it began.
        auto reqs = server.requests();
        for (int i = seen; i < reqs.size(); ++i) {
            auto k = key_of(reqs[i].toObject(), url);
            QVERIFY2(!finished.count(k), qPrintable("call repeated after a kill: " + reqs[i].toObject()["model"].toString()));
        }
        seen = reqs.size();
        finished = cached_keys(db);
    }
    // And it finishes.
    auto r = run_moa({"eval", "--experiment", exp, "--db", db, "--json", "--quiet"}, {}, 240000);
    QVERIFY2(r.code == 0, r.err.constData());
    auto j = json::parse(r.out.toStdString());
    for (const auto& c : j["configurations"]) QCOMPARE(c["n_total"].get<int>(), 12);
    auto reqs = server.requests();
    for (int i = seen; i < reqs.size(); ++i) QVERIFY(!finished.count(key_of(reqs[i].toObject(), url)));
    // Every finished answer is there: as many distinct calls as the experiment needs.
    std::set<std::string> distinct;
    for (const auto& v : reqs) distinct.insert(key_of(v.toObject(), url));
    QCOMPARE(static_cast<int>(cached_keys(db).size()), static_cast<int>(distinct.size()));
    qInfo("%d SIGKILLs; %d requests for %zu distinct calls (the difference: calls cut by a kill before they finished)",
          kills, static_cast<int>(reqs.size()), distinct.size());
    QVERIFY(kills >= 10);
}

void TestExperiment::mtBenchGradesBothTurnsWithReferences() {
    TestServer server;
    QVERIFY(server.ok());
    QTemporaryDir dir;
    const std::string url = server.base_url();
    write(dir.filePath("a.moa.json"), cfg("Short", url, {{"ok?tag=a&words=6"}}, 0.2, 8));
    write(dir.filePath("b.moa.json"), cfg("Long", url, {{"ok?tag=b&words=24"}}, 0.2, 8));
    write(dir.filePath("judge.moa.json"), cfg("Judge", url, {{"judge"}}, 0.2, 8));
    const std::string data = MOA_SHARED_DATA;
    write(dir.filePath("mt.moa-experiment.json"),
          json{{"schema", "moa-workbench/experiment@1"},
               {"configurations", {"a.moa.json", "b.moa.json"}},
               {"prompts", {{"file", data + "/mt_bench/question.jsonl"}, {"references", data + "/mt_bench/reference_answer_gpt-4.jsonl"}}},
               {"sample", 12},
               {"seed", 3},
               {"judge", {{"config", "judge.moa.json"}, {"mode", "single"}}}});
    auto r = run_moa({"eval", "--experiment", dir.filePath("mt.moa-experiment.json"), "--db", dir.filePath("e.sqlite"), "--json", "--quiet"},
                     {}, 120000);
    QVERIFY2(r.code == 0, r.err.constData());
    auto j = json::parse(r.out.toStdString());
    const auto& cs = j["configurations"];
    QCOMPARE(cs[0]["judged"].get<int>(), 12);
    // The scripted judge grades by length: the longer configuration scores higher.
    QVERIFY2(cs[1]["score"].get<double>() > cs[0]["score"].get<double>(), cs.dump().c_str());
    QVERIFY(cs[0]["score"].get<double>() >= 1 && cs[1]["score"].get<double>() <= 10);
    QCOMPARE(j["instances"][0]["detail"]["turn_scores"].size(), std::size_t(2)); // both turns graded
    // Turn 2 was asked with turn 1's answer in the conversation; math/reasoning/coding prompts
    // carried the reference answer to the judge.
    int second_turns = 0;
    bool guided = false;
    for (const auto& v : server.requests()) {
        auto body = v.toObject()["body"].toObject();
        auto msgs = body["messages"].toArray();
        if (v.toObject()["model"].toString().startsWith("ok") && msgs.size() == 3) {
            ++second_turns;
            QCOMPARE(msgs[1].toObject()["role"].toString(), QString("assistant"));
        }
        if (v.toObject()["model"].toString() == "judge" && QJsonDocument(msgs).toJson().contains("[Reference answer")) guided = true;
    }
    QCOMPARE(second_turns, 24); // 12 questions × 2 configurations
    QVERIFY(guided);
}

void TestExperiment::flaskSkillsAreGraded() {
    TestServer server;
    QVERIFY(server.ok());
    QTemporaryDir dir;
    const std::string url = server.base_url();
    write(dir.filePath("a.moa.json"), cfg("A", url, {{"ok?tag=a&words=6"}}, 0.2, 8));
    write(dir.filePath("judge.moa.json"), cfg("Judge", url, {{"judge"}}, 0.2, 8));
    const std::string data = MOA_SHARED_DATA;
    write(dir.filePath("f.moa-experiment.json"),
          json{{"schema", "moa-workbench/experiment@1"},
               {"configurations", {"a.moa.json"}},
               {"prompts", {{"file", data + "/flask/flask_evaluation_first200.jsonl"}}},
               {"sample", 6},
               {"judge", {{"config", "judge.moa.json"}, {"mode", "skills"}, {"skills_file", data + "/flask/skillset_description.json"}}}});
    auto r = run_moa({"eval", "--experiment", dir.filePath("f.moa-experiment.json"), "--db", dir.filePath("e.sqlite"), "--json", "--quiet"},
                     {}, 120000);
    QVERIFY2(r.code == 0, r.err.constData());
    auto j = json::parse(r.out.toStdString());
    const auto& c = j["configurations"][0];
    QCOMPARE(c["judged"].get<int>(), 6);
    QVERIFY(c["skills"].is_object() && !c["skills"].empty());
    for (const auto& [k, v] : c["skills"].items()) QVERIFY(v.get<double>() >= 1 && v.get<double>() <= 5);
    // Every judge call saw FLASK's own criteria, read from the user's skillset file. (This used to
    // look only at whichever judge request came last, which depends on scheduling.)
    std::vector<QString> criteria;
    {
        std::ifstream in(data + "/flask/skillset_description.json");
        for (const auto& s : json::parse(in)) criteria.push_back(QString::fromStdString(s["Criteria"].get<std::string>()));
    }
    QVERIFY(criteria.size() >= 10);
    int judge_calls = 0;
    for (const auto& v : server.requests()) {
        if (v.toObject()["model"].toString() != "judge") continue;
        ++judge_calls;
        QString sent;
        for (const auto& m : v.toObject()["body"].toObject()["messages"].toArray()) sent += m.toObject()["content"].toString();
        const bool has = std::any_of(criteria.begin(), criteria.end(), [&](const QString& c) { return sent.contains(c); });
        QVERIFY2(has, qPrintable("a judge call without any FLASK criteria: " + sent.left(300)));
    }
    QCOMPARE(judge_calls, 6);
}

void TestExperiment::importedOutputsAsReferenceWithAlpacaEvalsTemplate() {
    TestServer server;
    QVERIFY(server.ok());
    QTemporaryDir dir;
    const std::string url = server.base_url();
    const std::string data = MOA_SHARED_DATA;
    write(dir.filePath("a.moa.json"), cfg("Short model", url, {{"ok?tag=a&words=6"}}, 0.2, 8));
    write(dir.filePath("judge.moa.json"), cfg("Judge", url, {{"judge"}}, 0.2, 8));
    write(dir.filePath("garbled.moa.json"), cfg("Judge", url, {{"judge?garble=1"}}, 0.2, 8));
    auto experiment = [&](const char* judge, bool alpaca_template) {
        json e{{"schema", "moa-workbench/experiment@1"},
               {"configurations", {"a.moa.json"}},
               // AlpacaEval's instructions with GPT-4 Turbo's outputs: the outputs are the reference.
               {"prompts", {{"file", data + "/alpaca_eval/gpt4_1106_preview_model_outputs.json"}}},
               {"sample", 5},
               {"judge", {{"config", judge}, {"mode", "pairwise"}}}};
        if (alpaca_template) {
            e["judge"]["template"] = data + "/alpaca_eval/judge_template_weighted_alpaca_eval_gpt4_turbo.txt";
            e["judge"]["labels"] = {"m", "M"};
        }
        write(dir.filePath("x.moa-experiment.json"), e);
        auto r = run_moa({"eval", "--experiment", dir.filePath("x.moa-experiment.json"), "--db", dir.filePath("e.sqlite"), "--json", "--quiet"},
                         {}, 120000);
        if (r.code != 0) qWarning("%s", r.err.constData());
        return json::parse(r.out.toStdString());
    };
    auto j = experiment("judge.moa.json", true);
    const auto& c = j["configurations"][0];
    QCOMPARE(QString::fromStdString(j["reference"].get<std::string>()), QString("gpt4_1106_preview"));
    QCOMPARE(c["n_total"].get<int>(), 5);
    // GPT-4 Turbo's long answers beat six words every time, weighted by the m/M log-probabilities.
    QVERIFY(c["win_rate"].get<double>() < 50);
    QCOMPARE(QString::fromStdString(j["instances"][0]["detail"]["method"].get<std::string>()), QString("logprobs"));
    QVERIFY(!j["instances"][0]["reference"].get<std::string>().empty());

    // A judge whose answers name neither label: kept with the raw answer, counted, excluded.
    auto g = experiment("garbled.moa.json", false);
    const auto& gc = g["configurations"][0];
    QCOMPARE(gc["unreadable"].get<int>(), 5);
    QCOMPARE(gc["n_total"].get<int>(), 0);
    QVERIFY(g["instances"][0]["judge_raw"].get<std::string>().find("cannot decide") != std::string::npos);
    QVERIFY(g["instances"][0]["error"].get<std::string>().find("unreadable verdict") == 0);
}

void TestExperiment::sweepsGenerateThePapersAblations() {
    const std::string url = "http://127.0.0.1:9/v1";
    auto base = moa::config::load_config_text(
        cfg("Base", url, {{"ok?tag=a", "ok?tag=b", "ok?tag=c"}, {"ok?tag=d", "ok?tag=e", "ok?tag=f"}, {"ok?tag=agg"}}, 0.2, 8).dump(), "base");
    QVERIFY(base.ok());
    using moa::eval::SweepKind;
    auto run = [&](SweepKind k, int max = 0, std::vector<std::string> models = {}) {
        moa::eval::SweepOptions o;
        o.kind = k;
        o.max = max;
        o.models = std::move(models);
        auto v = moa::eval::make_sweep(*base.config, o);
        if (!v) qFatal("%s", v.error().c_str());
        return *v;
    };
    auto p = run(SweepKind::Proposers, 5);
    QCOMPARE(p.size(), std::size_t(5));
    QCOMPARE(p[0].layers[0].agents.size(), std::size_t(1));
    QCOMPARE(p[4].layers[1].agents.size(), std::size_t(5)); // more proposers than models: models repeat
    QCOMPARE(p[4].layers.back().agents.size(), std::size_t(1));
    auto l = run(SweepKind::Layers);
    QCOMPARE(l.size(), std::size_t(3));
    QCOMPARE(l[0].layers.size(), std::size_t(1)); // the aggregator alone
    QCOMPARE(l[2].layers.size(), std::size_t(3));
    auto a = run(SweepKind::Aggregator, 0, {"x-model", "local/y-model"});
    QCOMPARE(a.size(), std::size_t(2));
    QCOMPARE(QString::fromStdString(a[1].layers.back().agents[0].model), QString("y-model"));
    auto s = run(SweepKind::Samples);
    QCOMPARE(s.size(), std::size_t(4)); // three different models, then each model sampled three times
    for (const auto& ag : s[1].layers[0].agents) {
        QCOMPARE(QString::fromStdString(ag.model), QString("ok?tag=a"));
        QCOMPARE(*ag.params.temperature, 0.7);
    }
    QVERIFY(*s[1].layers[0].agents[0].params.seed != *s[1].layers[0].agents[1].params.seed);
    auto r = run(SweepKind::Ranker);
    QCOMPARE(r.size(), std::size_t(2));
    QVERIFY(r[1].aggregation.mode == moa::config::Aggregation::Mode::Select);
    // Every variant is a valid configuration once written.
    for (const auto* set : {&p, &l, &a, &s, &r})
        for (const auto& c : *set) QVERIFY2(moa::config::load_config_text(moa::config::to_json(c).dump(), "v").ok(), c.name.c_str());
}

void TestExperiment::selectingAggregatorReturnsOneOfTheAnswers() {
    TestServer server;
    QVERIFY(server.ok());
    QTemporaryDir dir;
    // The aggregator replies as rankers do, naming an answer in a sentence.
    write(dir.filePath("base.moa.json"),
          cfg("Base", server.base_url(), {{"ok?tag=a", "ok?tag=b", "ok?tag=c"}, {"ok?reply=Response%202%20is%20the%20best."}}, 0.2, 8));
    write(dir.filePath("judge.moa.json"), cfg("Judge", server.base_url(), {{"judge"}}, 0.2, 8));
    write(dir.filePath("ref.moa.json"), cfg("Ref", server.base_url(), {{"ok?tag=ref"}}, 0.2, 8));
    auto r = run_moa({"sweep", "--base", dir.filePath("base.moa.json"), "--kind", "ranker", "--out", dir.filePath("sw"), "--judge",
                      dir.filePath("judge.moa.json"), "--reference", dir.filePath("ref.moa.json"), "--sample", "4"});
    QVERIFY2(r.code == 0, r.err.constData());
    const QString exp = QString::fromUtf8(r.out).trimmed();
    QVERIFY(exp.endsWith("sweep.moa-experiment.json"));
    // The ranker variant answers with one of its proposers' answers, word for word.
    auto run = run_moa({"run", "--config", dir.filePath("sw/variant-02.moa.json"), "--prompt", "hi", "--json", "--no-history"});
    QVERIFY2(run.code == 0, run.err.constData());
    auto j = json::parse(run.out.toStdString());
    const std::string final_text = j["final"]["text"].get<std::string>();
    // The scripted aggregator's reply, "Response 2 is the best.", names answer 2.
    QCOMPARE(QString::fromStdString(final_text), QString::fromStdString(j["layers"][0]["agents"][1]["text"].get<std::string>()));
    auto e = run_moa({"eval", "--experiment", exp, "--db", dir.filePath("e.sqlite"), "--json", "--quiet"}, {}, 120000);
    QVERIFY2(e.code == 0, e.err.constData());
    QCOMPARE(json::parse(e.out.toStdString())["configurations"].size(), std::size_t(2));
}

void TestExperiment::experimentFilesSurviveAFullDiskOrAReadOnlyFolder() {
    QTemporaryDir dir;
    auto base = moa::config::load_config_file(moa::resources::preset_path("moa-paper"));
    QVERIFY(base.ok());
    std::vector<moa::config::Config> variants(2, *base.config);
    variants[1].name = "MoA — second";
    moa::eval::SweepFiles f;
    f.dir = dir.path().toStdString();
    f.judge = "offline-demo";
    auto written = moa::eval::write_sweep_experiment(variants, f);
    QVERIFY2(written.ok(), written.ok() ? "" : written.error().c_str());
    auto read_all = [&dir] {
        std::map<QString, QByteArray> out;
        for (const QString& n : QDir(dir.path()).entryList(QDir::Files)) {
            QFile file(dir.filePath(n));
            file.open(QIODevice::ReadOnly);
            out[n] = file.readAll();
        }
        return out;
    };
    const auto before = read_all();
    QCOMPARE(before.size(), std::size_t(3));
    variants[0].description = std::string(4000, 'x'); // a bigger file than the disk will take

    // A full disk: no file of this process may grow past 1 KB.
    moa::Result<std::string> full = moa::Error{""};
    with_full_disk(1024, [&] { full = moa::eval::write_sweep_experiment(variants, f); });
    QVERIFY(!full.ok());
    QVERIFY2(full.error().find("variant-01.moa.json: cannot write (disk full or no permission); nothing was changed") !=
                 std::string::npos, full.error().c_str());
    QVERIFY(read_all() == before); // every old file whole, no temporary left

    // A read-only folder.
    moa::Result<std::string> ro = moa::Error{""};
    with_read_only_folder(dir.path(), [&] { ro = moa::eval::write_sweep_experiment(variants, f); });
    QVERIFY(!ro.ok());
    QVERIFY2(ro.error().find("variant-01.moa.json") != std::string::npos, ro.error().c_str());
    QVERIFY(read_all() == before);
}

// One model sampled three times (Self-MoA, the `samples` sweep) is three calls, with the cache
// and without it; a second run with the same cache pays for none of them again.
void TestExperiment::identicalAgentsAreSamples() {
    TestServer server;
    QVERIFY(server.ok());
    const std::string tag = testing_support::nonce();
    const std::string proposer = "ok?tag=s" + tag;
    const std::string aggregator = "ok?tag=agg" + tag;
    auto c = testing_support::make_config(
        testing_support::config_json(server.base_url(), {{proposer, proposer, proposer}, {aggregator}}));
    auto count = [&](const std::string& model) {
        int n = 0;
        for (const auto& v : server.requests()) n += v.toObject()["model"].toString().toStdString() == model;
        return n;
    };
    QTemporaryDir dir;
    auto store = moa::store::ExperimentStore::open(dir.filePath("e.sqlite").toStdString());
    QVERIFY(store.ok());
    moa::accounting::Catalog catalog;
    moa::engine::Engine engine(catalog);
    auto run_once = [&] {
        moa::engine::RunOptions o;
        o.cache = *store;
        auto run = engine.start(c, moa::engine::RunInput::from_prompt("three samples"), {}, o);
        run->wait();
        return run->record();
    };
    auto first = run_once();
    QCOMPARE(moa::engine::to_string(first.status), "done");
    QCOMPARE(count(proposer), 3);
    QCOMPARE(count(aggregator), 1);
    for (const auto& a : first.layers[0].agents) QVERIFY(!a.cached);
    QVERIFY(first.final_text->find("answers with 3 references") != std::string::npos);
    QCOMPARE((*store)->cache_entries(), std::int64_t(4)); // three samples and the aggregator

    auto again = run_once();
    QCOMPARE(count(proposer), 3); // nothing paid twice
    QCOMPARE(count(aggregator), 1);
    for (const auto& L : again.layers)
        for (const auto& a : L.agents) QVERIFY(a.cached);
    QCOMPARE(*again.final_text, *first.final_text);

    // moa run (no cache) makes the three calls too.
    QTemporaryDir cdir;
    write(cdir.filePath("s.moa.json"), testing_support::config_json(server.base_url(), {{proposer, proposer, proposer}, {aggregator}}));
    auto r = run_moa({"run", "--config", cdir.filePath("s.moa.json"), "--prompt", "three samples", "--json", "--no-history"});
    QVERIFY2(r.code == 0, r.err.constData());
    QCOMPARE(count(proposer), 6);
    QCOMPARE(count(aggregator), 2);
}

// The LLM-ranker on a 3-layer base: the middle layer synthesizes with the paper's prompt, only
// the final agent selects, and its reply is read the ways rankers really answer. A reply that
// names no shown answer, or several, fails the aggregator with the reply quoted.
void TestExperiment::rankerSelectsOnlyInTheLastLayerAndReadsRealisticReplies() {
    TestServer server;
    QVERIFY(server.ok());
    const std::string tag = testing_support::nonce();
    auto ranker = [&](const std::string& reply) {
        auto j = testing_support::config_json(server.base_url(), {{"ok?tag=a" + tag, "ok?tag=b" + tag, "ok?tag=c" + tag},
                                                                  {"ok?tag=d" + tag, "ok?tag=e" + tag, "ok?tag=f" + tag},
                                                                  {"ok?reply=" + QUrl::toPercentEncoding(QString::fromStdString(reply)).toStdString()}});
        j["aggregation"] = {{"mode", "select"}};
        return j;
    };
    const std::vector<std::pair<std::string, int>> good = {
        {"2", 2}, {"3.", 3}, {"**1**", 1}, {"Response 2", 2}, {"Answer 3", 3}, {"#1", 1},
        {"**Response 2** is the most accurate and complete of the three.", 2},
        {"After comparing them, the best is response #3: it answers the question directly.", 3},
        {"The best answer is **2**.", 2},
        {"Answer 1 is the most helpful; Answer 1 also cites its sources.", 1}};
    for (const auto& [reply, n] : good) {
        auto r = testing_support::run_to_end(testing_support::make_config(ranker(reply)), "which is best?");
        QVERIFY2(r.status == moa::engine::RunStatus::Done, (reply + ": " + r.error).c_str());
        // The middle layer synthesized (three references each, the paper's prompt); the last selected.
        for (const auto& a : r.layers[1].agents) {
            QVERIFY(a.text.find("answers with 3 references") != std::string::npos);
            QVERIFY(a.messages.front().content.find(moa::config::default_aggregation_template()) != std::string::npos);
            QVERIFY(a.messages.front().content.find("reply with its number only") == std::string::npos);
        }
        QVERIFY(r.layers[2].agents[0].messages.front().content.find(moa::engine::selection_template()) != std::string::npos);
        QCOMPARE(QString::fromStdString(*r.final_text), QString::fromStdString(r.layers[1].agents[std::size_t(n - 1)].text));
    }
    const std::vector<std::pair<std::string, std::string>> bad = {
        {"All three responses are good.", "named no answer"},
        {"Response 1 is clear, but Response 3 is more complete.", "named several different answers (1, 3)"},
        {"7", "named answer 7, but only 3 were shown"},
        {"I cannot choose.", "named no answer"}};
    for (const auto& [reply, why] : bad) {
        auto r = testing_support::run_to_end(testing_support::make_config(ranker(reply)), "which is best?");
        QVERIFY2(r.status == moa::engine::RunStatus::Failed, reply.c_str());
        QVERIFY2(r.error.find(why) != std::string::npos, r.error.c_str());
        QVERIFY2(r.error.find("\"" + reply + "\"") != std::string::npos, r.error.c_str()); // the reply, quoted
        QVERIFY(!r.final_text || *r.final_text != reply);
    }
    // moa run exits 3 and says why.
    QTemporaryDir dir;
    write(dir.filePath("r.moa.json"), ranker("Both of them are fine."));
    auto r = run_moa({"run", "--config", dir.filePath("r.moa.json"), "--prompt", "which?", "--no-history"});
    QCOMPARE(r.code, 3);
    QVERIFY2(r.err.contains("named no answer") && r.err.contains("\"Both of them are fine.\""), r.err.constData());
}

// What a failed call costs: nothing when no token was produced (HTTP 401, 503, no connection),
// its prompt and what arrived when a stream was cut. Exact numbers from the server's counts.
void TestExperiment::failedCallsCostWhatWasBilled() {
    TestServer server;
    QVERIFY(server.ok());
    const std::string t = testing_support::nonce();
    json j = cfg("Costs", server.base_url(),
                 {{"ok?tag=a&words=12&x=" + t, "status?code=401&x=" + t, "status?code=503&x=" + t, "cut?tag=c&words=12&x=" + t},
                  {"json?tag=agg&words=3&x=" + t}},
                 1.0, 8);
    // A provider nobody listens on: the connection is refused.
    j["providers"]["dead"] = {{"base_url", "http://127.0.0.1:1/v1"}, {"max_retries", 0},
                              {"models", {{"gone", {{"input_usd_per_mtok", 1.0}, {"output_usd_per_mtok", 2.0}}}}}};
    j["layers"][0]["agents"].push_back({{"provider", "dead"}, {"model", "gone"}});
    // And one with no price at all: not billed is $0 all the same, and the run's cost stays known.
    j["providers"]["dead2"] = {{"base_url", "http://127.0.0.1:1/v1"}, {"max_retries", 0}};
    j["layers"][0]["agents"].push_back({{"provider", "dead2"}, {"model", "unpriced"}});
    auto c = testing_support::make_config(j);
    auto r = testing_support::run_to_end(c, "hello there");
    QVERIFY2(r.status == moa::engine::RunStatus::Done, r.error.c_str());
    const auto& L = r.layers[0].agents;
    // "a answers with 0 references." and 12 filler words, for the two words of the prompt.
    QCOMPARE(L[0].usage.prompt_tokens, 2L);
    QCOMPARE(L[0].usage.completion_tokens, 17L);
    QCOMPARE(*L[0].cost_usd, (2 * 1.0 + 17 * 2.0) / 1e6);
    for (std::size_t i : {std::size_t(1), std::size_t(2), std::size_t(4), std::size_t(5)}) {
        QVERIFY2(L[i].state == moa::engine::AgentState::Dropped, L[i].error.value_or("").c_str());
        QCOMPARE(*L[i].cost_usd, 0.0);
        QCOMPARE(L[i].usage.prompt_tokens, 0L);
        QCOMPARE(L[i].usage.completion_tokens, 0L);
        QVERIFY(L[i].not_billed);
    }
    // The cut stream: its prompt (estimated) and the eight pieces that arrived.
    const auto& cut = L[3];
    QCOMPARE(QString::fromStdString(cut.text), QString("c answers with 0 references. w0 w1 w2 "));
    QVERIFY(!cut.not_billed);
    const long cut_prompt = moa::text::estimate_tokens("hello there") + 4;
    const long cut_completion = moa::text::estimate_tokens(cut.text);
    QCOMPARE(cut.usage.prompt_tokens, cut_prompt);
    QCOMPARE(cut.usage.completion_tokens, cut_completion);
    const double cut_cost = (cut_prompt * 1.0 + cut_completion * 2.0) / 1e6;
    QCOMPARE(*cut.cost_usd, cut_cost);
    // The aggregator (a JSON answer): 11 prompt tokens, "agg answers with 1 references. w0 w1 w2".
    const auto& agg = r.layers[1].agents[0];
    QCOMPARE(agg.usage.completion_tokens, 8L);
    const double agg_cost = (11 * 1.0 + 8 * 2.0) / 1e6;
    QCOMPARE(*agg.cost_usd, agg_cost);
    QVERIFY(std::abs(r.totals.cost_usd - ((2 * 1.0 + 17 * 2.0) / 1e6 + cut_cost + agg_cost)) < 1e-15);
    QVERIFY(r.totals.cost_complete);
    QCOMPARE(r.totals.prompt_tokens, 2 + cut_prompt + 11);
    QCOMPARE(r.totals.completion_tokens, 17 + cut_completion + 8);
    // The JSON marks the calls that were not billed.
    auto doc = moa::engine::to_json(r);
    QVERIFY(doc["layers"][0]["agents"][1]["not_billed"].get<bool>());
    QVERIFY(!doc["layers"][0]["agents"][0].contains("not_billed"));
}

namespace {
int calls_to(const TestServer& server, const QString& prefix) {
    int n = 0;
    for (const auto& v : server.requests()) n += v.toObject()["model"].toString().startsWith(prefix);
    return n;
}
} // namespace

// A reference that failed gives no verdict ("reference failed" with its error), is generated
// again on the next run and judged then; a verdict belongs to the texts it judged, so a
// reference that changed since is judged again.
void TestExperiment::nothingIsJudgedAgainstAFailedReference() {
    TestServer server;
    QVERIFY(server.ok());
    QTemporaryDir dir;
    const std::string url = server.base_url();
    write(dir.filePath("a.moa.json"), cfg("A", url, {{"ok?tag=a&words=6"}}, 0.2, 8));
    // The reference's first six calls fail with HTTP 500 (no retries): every prompt of the first two runs.
    write(dir.filePath("ref.moa.json"), cfg("Ref", url, {{"fail-then-ok?status=500&times=6&tag=ref&words=9"}}, 0.2, 8));
    write(dir.filePath("judge.moa.json"), cfg("Judge", url, {{"judge"}}, 0.2, 8));
    write(dir.filePath("x.moa-experiment.json"),
          json{{"schema", "moa-workbench/experiment@1"}, {"configurations", {"a.moa.json"}}, {"prompts", "starter"},
               {"sample", 3}, {"seed", 1}, {"reference", {{"configuration", "ref.moa.json"}}},
               {"judge", {{"config", "judge.moa.json"}, {"mode", "pairwise"}}}});
    const QStringList args{"eval", "--experiment", dir.filePath("x.moa-experiment.json"), "--db", dir.filePath("e.sqlite")};
    auto r = run_moa(args + QStringList{"--json", "--quiet"}, {}, 120000);
    QVERIFY2(r.code == 0, r.err.constData());
    auto j = json::parse(r.out.toStdString());
    const auto& c = j["configurations"][0];
    QCOMPARE(c["reference_failed"].get<int>(), 3);
    QCOMPARE(c["n_total"].get<int>(), 0); // no verdict at all
    QCOMPARE(c["generated"].get<int>(), 3); // its answers and what they cost still count
    QVERIFY(c["cost_per_instance_usd"].get<double>() > 0);
    QVERIFY(c["tokens_per_instance"].get<double>() > 0);
    QCOMPARE(calls_to(server, "judge"), 0);
    QVERIFY(j["incomplete"].get<bool>());
    QVERIFY2(j["incomplete_note"].get<std::string>().find("3 instances whose reference failed") != std::string::npos,
             j["incomplete_note"].get<std::string>().c_str());
    QCOMPARE(j["instances"].size(), std::size_t(3));
    for (const auto& i : j["instances"]) {
        QVERIFY(i["reference_failed"].get<bool>());
        QVERIFY(i["preference"].is_null());
        const auto err = i["error"].get<std::string>();
        QVERIFY2(err.rfind("reference failed: ", 0) == 0 && err.find("HTTP 500") != std::string::npos, err.c_str());
    }

    // The second run tries the reference again (it fails again); the text table says so, with the
    // reference's error.
    auto t = run_moa(args, {}, 120000);
    QVERIFY2(t.code == 0, t.err.constData());
    QVERIFY2(t.out.contains("(3 not judged: reference failed)") && t.out.contains("reference failed on ") &&
                 t.out.contains("HTTP 500") && t.out.contains("incomplete: "),
             t.out.constData());
    QCOMPARE(calls_to(server, "fail-then-ok"), 6);
    QCOMPARE(calls_to(server, "judge"), 0);

    // The third run: the reference answers now, and each instance is judged against it.
    r = run_moa(args + QStringList{"--json", "--quiet"}, {}, 120000);
    QVERIFY2(r.code == 0, r.err.constData());
    j = json::parse(r.out.toStdString());
    QCOMPARE(j["configurations"][0]["reference_failed"].get<int>(), 0);
    QCOMPARE(j["configurations"][0]["n_total"].get<int>(), 3);
    QVERIFY(!j["incomplete"].get<bool>());
    QCOMPARE(calls_to(server, "judge"), 3);
    QVERIFY(j["instances"][0]["reference"].get<std::string>().find("ref answers") == 0);

    // The reference changes (as when it is generated again): the stored verdicts judged other
    // texts, so each is judged again.
    {
        moa::store::Database d;
        QVERIFY(d.open(dir.filePath("e.sqlite").toStdString(), false));
        QVERIFY(d.exec("UPDATE generations SET turns='[\"a different reference, longer than before: w w w w w\"]' "
                       "WHERE turns LIKE '%ref answers%'"));
    }
    r = run_moa(args + QStringList{"--json", "--quiet"}, {}, 120000);
    QVERIFY2(r.code == 0, r.err.constData());
    j = json::parse(r.out.toStdString());
    QCOMPARE(calls_to(server, "judge"), 6);
    QCOMPARE(j["configurations"][0]["n_total"].get<int>(), 3);
    QVERIFY(j["instances"][0]["reference"].get<std::string>().find("a different reference") == 0);
    // Unchanged texts are not judged again.
    r = run_moa(args + QStringList{"--json", "--quiet"}, {}, 120000);
    QCOMPARE(calls_to(server, "judge"), 6);
}

// Every instance counts: a failed generation is a loss (pairwise) or the lowest grade (single),
// marked, counted, and the results say they are incomplete until a re-run succeeds.
// A configuration whose every answer was made with one proposer dropped (a closed port on
// 127.0.0.1) is not reported as whole: the summary, the JSON and each instance name the agent
// and its error; a configuration with every agent is not marked.
void TestExperiment::answersWithDroppedAgentsAreCountedAndNamed() {
    TestServer server;
    QVERIFY(server.ok());
    QTemporaryDir dir;
    const std::string url = server.base_url();
    write(dir.filePath("whole.moa.json"), cfg("Whole", url, {{"ok?tag=p0&words=9", "ok?tag=p1&words=9"}, {"ok?tag=agg&words=9"}}, 0.2, 8));
    json dead = cfg("Dead one", url, {{"ok?tag=p0&words=9", "ok?tag=p1&words=9"}, {"ok?tag=agg&words=9"}}, 0.2, 8);
    dead["providers"]["dead"] = {{"base_url", "http://127.0.0.1:1/v1"}, {"max_retries", 0}};
    dead["layers"][0]["agents"].push_back({{"provider", "dead"}, {"model", "gone"}});
    write(dir.filePath("dead.moa.json"), dead);
    write(dir.filePath("ref.moa.json"), cfg("Ref", url, {{"ok?tag=ref&words=8"}}, 0.2, 8));
    write(dir.filePath("judge.moa.json"), cfg("Judge", url, {{"judge?p=0.9"}}, 0.2, 8));
    write(dir.filePath("x.moa-experiment.json"),
          json{{"schema", "moa-workbench/experiment@1"}, {"configurations", {"whole.moa.json", "dead.moa.json"}},
               {"prompts", "starter"}, {"sample", 3}, {"seed", 1}, {"reference", {{"configuration", "ref.moa.json"}}},
               {"judge", {{"config", "judge.moa.json"}, {"mode", "pairwise"}}}});
    const QStringList args{"eval", "--experiment", dir.filePath("x.moa-experiment.json"), "--db", dir.filePath("e.sqlite")};
    auto r = run_moa(args + QStringList{"--json", "--quiet"}, {}, 120000);
    QVERIFY2(r.code == 0, r.err.constData());
    auto j = json::parse(r.out.toStdString());
    const auto& whole = j["configurations"][0];
    const auto& d = j["configurations"][1];
    QCOMPARE(whole["with_dropped_agents"].get<int>(), 0);
    QCOMPARE(d["judged"].get<int>(), 3);
    QCOMPARE(d["failed"].get<int>(), 0);
    QCOMPARE(d["with_dropped_agents"].get<int>(), 3);
    QCOMPARE(d["dropped_agents"].size(), std::size_t(3));
    for (const auto& note : d["dropped_agents"]) {
        const auto s = note.get<std::string>();
        QVERIFY2(s.find(": L1.3 dropped (gone): ") != std::string::npos, s.c_str());
        QVERIFY2(s.find("127.0.0.1") != std::string::npos || s.find("onnect") != std::string::npos, s.c_str());
    }
    int marked = 0;
    for (const auto& i : j["instances"]) {
        const bool is_dead = i["config"] == "Dead one";
        QCOMPARE(i["dropped_agents"].size(), std::size_t(is_dead ? 1 : 0));
        marked += is_dead;
    }
    QCOMPARE(marked, 3);
    // The table says it beside the numbers, and names the agent and its error (from the store: nothing is run again).
    auto t = run_moa(args, {}, 120000);
    QVERIFY2(t.code == 0, t.err.constData());
    QVERIFY2(t.out.contains("(3 answers with dropped agents)"), t.out.constData());
    QVERIFY2(t.out.contains("Dead one: ") && t.out.contains(": L1.3 dropped (gone): "), t.out.constData());
    const int whole_line = t.out.indexOf("\nWhole ");
    QVERIFY(whole_line >= 0);
    QVERIFY(!t.out.mid(whole_line, t.out.indexOf('\n', whole_line + 1) - whole_line).contains("dropped"));
}

void TestExperiment::failedGenerationsCountAsLosses() {
    TestServer server;
    QVERIFY(server.ok());
    QTemporaryDir dir;
    const std::string url = server.base_url();
    write(dir.filePath("broken.moa.json"), cfg("Broken", url, {{"status?code=400"}}, 0.2, 8));
    // Fails on its first two calls (HTTP 503, no retries), then answers at length.
    write(dir.filePath("flaky.moa.json"), cfg("Flaky", url, {{"fail-then-ok?status=503&times=2&tag=flaky&words=60"}}, 0.2, 8));
    write(dir.filePath("ref.moa.json"), cfg("Ref", url, {{"ok?tag=ref&words=8"}}, 0.2, 8));
    write(dir.filePath("judge.moa.json"), cfg("Judge", url, {{"judge?p=0.9"}}, 0.2, 8));
    auto experiment = [&](const char* mode) {
        json e{{"schema", "moa-workbench/experiment@1"}, {"configurations", {"broken.moa.json", "flaky.moa.json"}},
               {"prompts", "starter"}, {"sample", 4}, {"seed", 1}, {"concurrency", 1},
               {"judge", {{"config", "judge.moa.json"}, {"mode", mode}}}};
        if (std::string(mode) == "pairwise") e["reference"] = {{"configuration", "ref.moa.json"}};
        write(dir.filePath("x.moa-experiment.json"), e);
        auto r = run_moa({"eval", "--experiment", dir.filePath("x.moa-experiment.json"), "--db",
                          dir.filePath(QString("%1.sqlite").arg(mode)), "--json", "--quiet"}, {}, 120000);
        if (r.code != 0) qWarning("%s", r.err.constData());
        return json::parse(r.out.toStdString());
    };
    auto j = experiment("pairwise");
    const auto& broken = j["configurations"][0];
    QCOMPARE(broken["failed"].get<int>(), 4);
    QCOMPARE(broken["n_total"].get<int>(), 4); // counted, not left out
    QCOMPARE(broken["n_wins_base"].get<int>(), 4);
    QCOMPARE(broken["win_rate"].get<double>(), 0.0);
    const auto& flaky = j["configurations"][1];
    QCOMPARE(flaky["failed"].get<int>(), 2);
    QCOMPARE(flaky["n_total"].get<int>(), 4);
    QCOMPARE(flaky["n_wins_base"].get<int>(), 2); // its two failures; it wins the two it answered
    QCOMPARE(flaky["n_wins"].get<int>(), 2);
    QVERIFY(std::abs(flaky["win_rate"].get<double>() - 100.0 * (0 + 0 + 0.9 + 0.9) / 4) < 1e-9);
    QVERIFY(j["incomplete"].get<bool>());
    QVERIFY2(j["incomplete_note"].get<std::string>().find("6 failed generations") != std::string::npos,
             j["incomplete_note"].get<std::string>().c_str());
    int marked = 0;
    for (const auto& i : j["instances"])
        if (i["failed_generation"].get<bool>()) {
            ++marked;
            QCOMPARE(i["preference"].get<double>(), 1.0);
            QVERIFY(i["error"].get<std::string>().rfind("generation failed: ", 0) == 0);
        }
    QCOMPARE(marked, 6);

    // Run again: the flaky configuration now answers every prompt; the broken one still fails.
    j = experiment("pairwise");
    QCOMPARE(j["configurations"][1]["failed"].get<int>(), 0);
    QCOMPARE(j["configurations"][1]["n_wins"].get<int>(), 4);
    QVERIFY(j["incomplete_note"].get<std::string>().find("4 failed generations") != std::string::npos);

    // Graded: a failed generation gets the lowest grade.
    auto g = experiment("single");
    QCOMPARE(g["configurations"][0]["failed"].get<int>(), 4);
    QCOMPARE(g["configurations"][0]["score"].get<double>(), 1.0);
    QVERIFY(g["incomplete"].get<bool>());
}

// The experiment's LC recomputed here from its --json instances alone: rows in prompt order,
// lengths counted as code points by Qt, the difficulty of each prompt as the centred mean logit of
// the reference's win probability over the three configurations. It is labelled unregularised,
// and its standard error is its own (a seeded bootstrap: the same on every run), not the win rate's.
void TestExperiment::lcIsWhatItSaysAgainstAnIndependentComputation() {
    TestServer server;
    QVERIFY(server.ok());
    QTemporaryDir dir;
    auto exp = write_experiment(dir, server.base_url(), 12);
    const QStringList args{"eval", "--experiment", exp, "--db", dir.filePath("e.sqlite"), "--json", "--quiet"};
    auto r = run_moa(args, {}, 240000);
    QVERIFY2(r.code == 0, r.err.constData());
    auto j = json::parse(r.out.toStdString());
    QCOMPARE(j["lc_label"].get<std::string>(), std::string("LC (unregularised)"));
    QVERIFY(!j["lc_regularised"].get<bool>());
    QVERIFY(j["lc_note"].get<std::string>().find("not AlpacaEval's LC") != std::string::npos);
    const auto& cs = j["configurations"];
    QCOMPARE(cs.size(), std::size_t(3));
    std::map<std::string, std::vector<moa::eval::Judged>> rows;
    std::vector<std::string> items;
    for (const auto& i : j["instances"]) {
        const std::string config = i["config"].get<std::string>();
        if (config == cs[0]["name"].get<std::string>()) items.push_back(i["item"].get<std::string>());
        moa::eval::Judged row;
        row.preference = i["preference"].get<double>();
        row.length_1 = static_cast<std::size_t>(QString::fromStdString(i["reference"].get<std::string>()).toUcs4().size());
        row.length_2 = static_cast<std::size_t>(QString::fromStdString(i["output"].get<std::string>()).toUcs4().size());
        rows[config].push_back(row);
    }
    QCOMPARE(items.size(), std::size_t(12));
    // (Summed, divided and centred in the README's order, so that the numbers agree bit for bit:
    // cross-validation may choose between two values of C whose losses differ in the last bits.)
    std::vector<double> difficulty(12, 0.0);
    for (std::size_t k = 0; k < 12; ++k) {
        double sum = 0;
        for (const auto& c : cs) {
            double y = 2.0 - *rows[c["name"].get<std::string>()][k].preference;
            y = std::min(0.98, std::max(0.02, y));
            sum += std::log(y / (1 - y));
        }
        difficulty[k] = sum / 3.0;
    }
    double total = 0;
    for (double d : difficulty) total += d;
    const double mean = total / 12.0;
    for (double& d : difficulty) d -= mean;
    for (const auto& c : cs) {
        auto lc = moa::eval::length_controlled_win_rate(rows[c["name"].get<std::string>()], difficulty, {});
        QVERIFY2(lc.ok(), lc.ok() ? "" : lc.error().c_str());
        QVERIFY2(std::abs(lc->lc_win_rate - c["length_controlled_winrate"].get<double>()) < 1e-9,
                 (std::to_string(lc->lc_win_rate) + " (C " + std::to_string(lc->C) + ") recomputed; reported " + c.dump()).c_str());
        const double se = c["length_controlled_winrate_se"].get<double>();
        QVERIFY(se > 0);
        QVERIFY(se != c["standard_error"].get<double>());
    }
    // Seeded: the same standard errors when computed again.
    auto again = json::parse(run_moa(args, {}, 60000).out.toStdString());
    for (std::size_t k = 0; k < 3; ++k)
        QCOMPARE(again["configurations"][k]["length_controlled_winrate_se"].get<double>(),
                 cs[k]["length_controlled_winrate_se"].get<double>());
}

// Baseline variants (`"lc_variants": true`): the reference model asked for a concise and a verbose
// answer to each prompt, each judged against the reference's answer. The extra calls are exactly
// 2 answers + 2 judge calls per prompt, the count said before the first call is the count made,
// the LC is refitted with the variant rows exactly as AlpacaEval adds them (recomputed here from
// the --json output with a design matrix built by this test), the label says "LC", and running
// again pays for nothing.
void TestExperiment::baselineVariantsRegulariseLcAsAlpacaEvalDoes() {
    TestServer server;
    QVERIFY(server.ok());
    QTemporaryDir dir;
    const int n = 12;
    auto exp = write_experiment(dir, server.base_url(), n);
    // The reference answers a third as many words when asked to be brief, three times as many
    // when asked to say more (the scripted judge prefers the longer answer).
    {
        // Room for the verbose variant: the scripted server stops at max_tokens, and a variant
        // cut to the same words as the reference's own answer is a draw that needs no judge.
        json ref = cfg("Reference", server.base_url(),
                       {{"ok?tag=ref&words=40&jitter=30&shorter_if=as+briefly+as&longer_if=Reply+at+length"}}, 0.9, 70);
        ref["layers"][0]["agents"][0]["max_tokens"] = 1000;
        write(dir.filePath("ref.moa.json"), ref);
    }
    {
        std::ifstream in(exp.toStdString());
        json e = json::parse(in);
        e["lc_variants"] = true;
        write(exp, e);
    }
    QVERIFY(moa::eval::variant_instruction(moa::eval::Variant::Concise).find("as briefly as") != std::string::npos);
    QVERIFY(moa::eval::variant_instruction(moa::eval::Variant::Verbose).find("Reply at length") != std::string::npos);
    const QString db = dir.filePath("e.sqlite");

    // The plan: said before anything is spent, and nothing is called to say it.
    auto plan = run_moa({"eval", "--experiment", exp, "--db", db, "--plan", "--json"});
    QVERIFY2(plan.code == 0, plan.err.constData());
    auto pj = json::parse(plan.out.toStdString())["lc_variants_plan"];
    QCOMPARE(pj["extra_calls"].get<int>(), n * 4);
    QCOMPARE(pj["generations"].get<int>(), n * 2);
    QCOMPARE(pj["judgements"].get<int>(), n * 2);
    QVERIFY(pj["estimated_usd"].get<double>() > 0);
    QCOMPARE(server.chat_requests(), 0);

    auto r = run_moa({"eval", "--experiment", exp, "--db", db, "--json"}, {}, 240000);
    QVERIFY2(r.code == 0, r.err.constData());
    QVERIFY2(r.err.contains(QByteArray::number(n * 4) + " extra calls"), r.err.constData());
    QVERIFY(r.err.indexOf("extra calls") < r.err.indexOf("/")); // before the first progress line
    auto j = json::parse(r.out.toStdString());
    QCOMPARE(j["lc_variants_plan"]["extra_calls"].get<int>(), n * 4);

    // The calls made for the variants: the reference asked with each variant's instruction, and
    // the judge once per variant (and once per configuration's answer, as without variants).
    int variant_generations = 0, judge_calls = 0;
    for (const auto& v : server.requests()) {
        const auto o = v.toObject();
        if (o["model"].toString() == "judge") {
            ++judge_calls;
            continue;
        }
        const auto msgs = o["body"].toObject()["messages"].toArray();
        const std::string last = msgs.last().toObject()["content"].toString().toStdString();
        for (auto k : moa::eval::kVariants)
            if (last.find(moa::eval::variant_instruction(k)) != std::string::npos) ++variant_generations;
    }
    QCOMPARE(variant_generations, n * 2);
    QCOMPARE(judge_calls, n * 3 + n * 2);
    QCOMPARE(variant_generations + (judge_calls - n * 3), pj["extra_calls"].get<int>());

    QCOMPARE(j["lc_label"].get<std::string>(), std::string("LC"));
    QVERIFY(j["lc_regularised"].get<bool>());
    QCOMPARE(j["lc_variants"]["rows"].get<int>(), n * 2);
    QCOMPARE(j["lc_variants"]["missing"].get<int>(), 0);
    QVERIFY(!j["incomplete"].get<bool>());
    QVERIFY(j["lc_note"].get<std::string>().find("baseline-variant rows") != std::string::npos);

    // The independent computation. Model rows and the prompts' difficulty as in the test above.
    const auto& cs = j["configurations"];
    auto len = [](const json& s) { return double(QString::fromStdString(s.get<std::string>()).toUcs4().size()); };
    std::map<std::string, std::vector<std::pair<double, double>>> rows; // config -> (delta, preference - 1)
    std::vector<std::string> items;
    std::map<std::string, double> ref_len;
    for (const auto& i : j["instances"]) {
        const std::string config = i["config"].get<std::string>();
        if (config == cs[0]["name"].get<std::string>()) {
            items.push_back(i["item"].get<std::string>());
            ref_len[i["item"].get<std::string>()] = len(i["reference"]);
        }
        rows[config].push_back({len(i["reference"]) - len(i["output"]), i["preference"].get<double>() - 1.0});
    }
    QCOMPARE(int(items.size()), n);
    std::vector<double> difficulty(n, 0.0);
    for (int k = 0; k < n; ++k) {
        double sum = 0;
        for (const auto& c : cs) {
            double y = 1.0 - rows[c["name"].get<std::string>()][std::size_t(k)].second;
            y = std::min(0.98, std::max(0.02, y));
            sum += std::log(y / (1 - y));
        }
        difficulty[std::size_t(k)] = sum / 3.0;
    }
    double total = 0;
    for (double d : difficulty) total += d;
    for (double& d : difficulty) d -= total / n;
    auto sd_of = [](const std::vector<double>& v) {
        double m = 0, ss = 0;
        for (double x : v) m += x;
        m /= double(v.size());
        for (double x : v) ss += (x - m) * (x - m);
        return std::sqrt(ss / double(v.size() - 1));
    };
    // The variant rows, AlpacaEval's way: verbose first, then concise, each in prompt order; each
    // variant's length difference scaled by its own standard deviation; weight 0.2 / 2.
    moa::eval::WeightedRows base;
    base.features = 3;
    int variant_rows = 0;
    for (const char* kind : {"verbose", "concise"}) {
        std::vector<double> delta, pref, d;
        for (int k = 0; k < n; ++k)
            for (const auto& v : j["baseline_variants"])
                if (v["item"] == items[std::size_t(k)] && v["variant"] == kind) {
                    delta.push_back(ref_len[items[std::size_t(k)]] - len(v["output"]));
                    pref.push_back(v["preference"].get<double>() - 1.0);
                    d.push_back(difficulty[std::size_t(k)]);
                }
        QCOMPARE(int(delta.size()), n);
        const double sd = sd_of(delta);
        for (std::size_t k = 0; k < delta.size(); ++k, ++variant_rows) base.add({std::tanh(delta[k] / sd), d[k], 0.0}, pref[k], 0.1);
    }
    // The verbose answers are longer than the reference's and the concise ones shorter.
    for (const auto& v : j["baseline_variants"])
        QVERIFY((v["variant"] == "verbose") == (len(v["output"]) > ref_len[v["item"].get<std::string>()]));
    QCOMPARE(variant_rows, n * 2);
    for (const auto& c : cs) {
        const auto& mine = rows[c["name"].get<std::string>()];
        std::vector<double> delta;
        for (const auto& [dl, _] : mine) delta.push_back(dl);
        const double sd = sd_of(delta);
        auto data = base;
        for (int k = 0; k < n; ++k)
            data.add({std::tanh(mine[std::size_t(k)].first / sd), difficulty[std::size_t(k)], 1.0}, mine[std::size_t(k)].second, 1.0);
        auto cv = moa::eval::fit_logistic_l1_cv(data, moa::eval::logspace(-4, 4, 10), 5);
        double lc = 0;
        for (double d : difficulty) lc += moa::eval::sigmoid(cv.fit.beta[2] + cv.fit.beta[1] * d);
        lc = 100.0 * lc / n;
        QVERIFY2(std::abs(lc - c["length_controlled_winrate"].get<double>()) < 1e-9,
                 (std::to_string(lc) + " (C " + std::to_string(cv.C) + ") recomputed; reported " + c.dump()).c_str());
        QVERIFY(c["length_controlled_winrate_se"].get<double>() > 0);
    }

    // Run again: every variant answer and verdict is stored; not one call, and the plan says so.
    const int calls = server.chat_requests();
    auto again = run_moa({"eval", "--experiment", exp, "--db", db, "--json", "--quiet"}, {}, 60000);
    QCOMPARE(again.code, 0);
    QCOMPARE(server.chat_requests(), calls);
    auto aj = json::parse(again.out.toStdString());
    QCOMPARE(aj["lc_variants_plan"]["extra_calls"].get<int>(), 0);
    QCOMPARE(aj["lc_variants_plan"]["already_stored"].get<int>(), n * 4);
    QCOMPARE(aj["configurations"][0]["length_controlled_winrate"].get<double>(), cs[0]["length_controlled_winrate"].get<double>());

    // Without the option the same stored verdicts give the unregularised LC, labelled so.
    {
        std::ifstream in(exp.toStdString());
        json e = json::parse(in);
        e.erase("lc_variants");
        write(dir.filePath("plain.moa-experiment.json"), e);
    }
    auto plain = json::parse(run_moa({"eval", "--experiment", dir.filePath("plain.moa-experiment.json"), "--db", db, "--json", "--quiet"},
                                     {}, 60000).out.toStdString());
    QCOMPARE(plain["lc_label"].get<std::string>(), std::string("LC (unregularised)"));
    QCOMPARE(server.chat_requests(), calls);
    // --lc-variants turns it on from the command line: nothing new to pay for here either.
    auto flag = run_moa({"eval", "--experiment", dir.filePath("plain.moa-experiment.json"), "--db", db, "--json", "--quiet",
                         "--lc-variants"}, {}, 60000);
    QCOMPARE(flag.code, 0);
    QCOMPARE(json::parse(flag.out.toStdString())["lc_label"].get<std::string>(), std::string("LC"));
    QCOMPARE(server.chat_requests(), calls);
    // The text table's n/a say why (review 10: a bare "n/a" latency in every row of a sweep).
    auto table = run_moa({"eval", "--experiment", exp, "--db", db}, {}, 60000);
    QCOMPARE(table.code, 0);
    QVERIFY2(!QString::fromUtf8(table.out).contains(QRegularExpression("n/a(?! \\()")), table.out.constData());

    // A reference that is a file of answers has no model to ask: refused, saying why and where.
    const std::string data = MOA_SHARED_DATA;
    json imported{{"schema", "moa-workbench/experiment@1"},
                  {"configurations", {"single.moa.json"}},
                  {"prompts", {{"file", data + "/alpaca_eval/gpt4_1106_preview_model_outputs.json"}}},
                  {"sample", 3},
                  {"judge", {{"config", "judge.moa.json"}, {"mode", "pairwise"}}}};
    write(dir.filePath("imported.moa-experiment.json"), imported);
    auto refused = run_moa({"eval", "--experiment", dir.filePath("imported.moa-experiment.json"), "--db", db, "--lc-variants"});
    QCOMPARE(refused.code, 2);
    QVERIFY2(refused.err.contains("--lc-variants") && refused.err.contains("file of answers"), refused.err.constData());
    imported["lc_variants"] = true;
    write(dir.filePath("imported.moa-experiment.json"), imported);
    auto loaded = moa::eval::load_experiment(dir.filePath("imported.moa-experiment.json").toStdString());
    QVERIFY(!loaded.ok());
    QVERIFY2(loaded.error().find("/lc_variants: baseline variants are asked of the reference model") != std::string::npos,
             loaded.error().c_str());
    QCOMPARE(server.chat_requests(), calls);
}

// A judge whose every answer is unreadable gives no verdict: the win rate is "n/a (no readable
// verdict)" in the text, null in --json, and the configuration is on no frontier (table, --json,
// the chart's CSV) — never 0.00 ± 0.00 at the cheapest cost, which read as a real choice.
void TestExperiment::noReadableVerdictIsNotAZeroWinRateNorOnTheFrontier() {
    TestServer server;
    QVERIFY(server.ok());
    QTemporaryDir dir;
    const std::string url = server.base_url();
    write(dir.filePath("a.moa.json"), cfg("Cheap", url, {{"ok?tag=a&words=5"}}, 0.1, 8));
    write(dir.filePath("ref.moa.json"), cfg("Ref", url, {{"ok?tag=ref&words=8"}}, 0.2, 8));
    write(dir.filePath("judge.moa.json"), cfg("Judge", url, {{"ok?tag=garbage&words=3"}}, 0.2, 8)); // no verdict in it
    for (const char* mode : {"pairwise", "single"}) {
        json e{{"schema", "moa-workbench/experiment@1"}, {"configurations", {"a.moa.json"}}, {"prompts", "starter"},
               {"sample", 3}, {"seed", 1}, {"concurrency", 2}, {"judge", {{"config", "judge.moa.json"}, {"mode", mode}}}};
        if (std::string(mode) == "pairwise") e["reference"] = {{"configuration", "ref.moa.json"}};
        write(dir.filePath("x.moa-experiment.json"), e);
        const QString db = dir.filePath(QString("%1.sqlite").arg(mode));
        auto t = run_moa({"eval", "--experiment", dir.filePath("x.moa-experiment.json"), "--db", db, "--quiet"}, {}, 120000);
        QVERIFY2(t.out.contains("n/a (no readable verdict)"), t.out.constData());
        QVERIFY2(!t.out.contains("0.00 ± 0.00"), t.out.constData());
        QVERIFY2(!t.out.contains("*frontier"), t.out.constData());
        auto r = run_moa({"eval", "--experiment", dir.filePath("x.moa-experiment.json"), "--db", db, "--json", "--quiet"}, {}, 120000);
        auto j = json::parse(r.out.toStdString());
        const auto& c = j["configurations"][0];
        QCOMPARE(c["unreadable"].get<int>(), 3);
        QCOMPARE(c["on_frontier"].get<bool>(), false);
        if (std::string(mode) == "pairwise") {
            QVERIFY(c["win_rate"].is_null());
            QVERIFY(c["standard_error"].is_null());
            QCOMPARE(c["win_rate_missing"].get<std::string>(), std::string("no readable verdict"));
            // The chart's CSV (what the GUI's chart plots): no point for it, so no frontier row.
            const QString csv = dir.filePath("x.csv");
            auto ch = run_moa({"chart", "--experiment", dir.filePath("x.moa-experiment.json"), "--db", db, "--out", csv}, {}, 60000);
            QVERIFY2(ch.code == 0, ch.err.constData());
            QFile f(csv);
            QVERIFY(f.open(QIODevice::ReadOnly));
            const QByteArray body = f.readAll();
            QVERIFY2(!body.contains("Cheap"), body.constData());
        } else {
            QVERIFY(c["score"].is_null());
            QCOMPARE(c["score_missing"].get<std::string>(), std::string("no readable verdict"));
        }
    }
}

// No price for any model: `moa eval` says "cost unknown" like `moa run`, never "$0.0000 spent" or
// a $/inst of 0.00000 (which reads as free); a configuration priced in part shows a lower bound "≥".
void TestExperiment::unknownCostIsNeverShownAsZero() {
    TestServer server;
    QVERIFY(server.ok());
    QTemporaryDir dir;
    const std::string url = server.base_url();
    auto unpriced = [&](const std::string& name, const std::vector<std::vector<std::string>>& layers, const std::string& priced) {
        json c = cfg(name, url, layers, 0.2, 8);
        auto& models = c["providers"]["local"]["models"];
        for (auto it = models.begin(); it != models.end(); ++it)
            if (it.key() != priced) it.value().erase("input_usd_per_mtok"), it.value().erase("output_usd_per_mtok");
        return c;
    };
    write(dir.filePath("none.moa.json"), unpriced("Unpriced", {{"ok?tag=none&words=5"}}, ""));
    write(dir.filePath("part.moa.json"), unpriced("Part", {{"ok?tag=p0&words=5", "ok?tag=p1&words=5"}, {"ok?tag=agg&words=6"}},
                                                  "ok?tag=p0&words=5"));
    write(dir.filePath("ref.moa.json"), unpriced("Ref", {{"ok?tag=ref&words=8"}}, ""));
    write(dir.filePath("judge.moa.json"), unpriced("Judge", {{"judge?p=0.9"}}, ""));
    auto experiment = [&](const json& configs) {
        write(dir.filePath("x.moa-experiment.json"),
              json{{"schema", "moa-workbench/experiment@1"}, {"configurations", configs}, {"prompts", "starter"}, {"sample", 2},
                   {"seed", 1}, {"concurrency", 2}, {"reference", {{"configuration", "ref.moa.json"}}},
                   {"judge", {{"config", "judge.moa.json"}, {"mode", "pairwise"}}}});
    };
    // Nothing priced at all.
    experiment({"none.moa.json"});
    auto u = run_moa({"eval", "--experiment", dir.filePath("x.moa-experiment.json"), "--db", dir.filePath("u.sqlite")}, {}, 120000);
    QVERIFY2(u.code == 0, u.err.constData());
    QVERIFY2(u.out.contains("spent this session: cost unknown"), (u.out + u.err).constData());
    QVERIFY2(!u.out.contains("$0.0000") && !u.out.contains(" 0.00000 "), u.out.constData());
    QVERIFY2(u.out.contains("    unknown "), u.out.constData());
    QVERIFY2(u.err.contains(" cost unknown spent "), u.err.constData()); // the progress lines
    auto uj = json::parse(run_moa({"eval", "--experiment", dir.filePath("x.moa-experiment.json"), "--db",
                                   dir.filePath("u.sqlite"), "--json", "--quiet"}, {}, 120000).out.toStdString());
    QVERIFY(uj["configurations"][0]["cost_per_instance_usd"].is_null());
    // Priced in part beside unpriced: a lower bound, and the unpriced one is not the "cheapest".
    experiment({"none.moa.json", "part.moa.json"});
    const QString db = dir.filePath("x.sqlite");
    auto t = run_moa({"eval", "--experiment", dir.filePath("x.moa-experiment.json"), "--db", db}, {}, 120000);
    QVERIFY2(t.code == 0, t.err.constData());
    QVERIFY2(t.out.contains("spent this session: ≥ $0.0000"), t.out.constData()); // two significant digits, not ≥ $0.0000
    QVERIFY2(!t.out.contains("spent this session: ≥ $0.0000;"), t.out.constData());
    QVERIFY2(t.out.contains("≥0.0"), t.out.constData());
    auto r = run_moa({"eval", "--experiment", dir.filePath("x.moa-experiment.json"), "--db", db, "--json", "--quiet"}, {}, 120000);
    auto j = json::parse(r.out.toStdString());
    const auto& none = j["configurations"][0];
    QVERIFY(none["cost_per_instance_usd"].is_null());
    QCOMPARE(none["on_frontier"].get<bool>(), false);
    QCOMPARE(j["configurations"][1]["on_frontier"].get<bool>(), true);
    QCOMPARE(none["cost_text"].get<std::string>(), std::string("cost unknown"));
    QCOMPARE(none["cost_complete"].get<bool>(), false);
    const auto& part = j["configurations"][1];
    QVERIFY(part["cost_per_instance_usd"].get<double>() > 0);
    QVERIFY2(part["cost_text"].get<std::string>().rfind("≥ $", 0) == 0, part["cost_text"].dump().c_str());
    // Nothing called this session (all stored): nothing spent, and that is known.
    QCOMPARE(j["spent_complete"].get<bool>(), true);
    QCOMPARE(j["spent_usd"].get<double>(), 0.0);
    // The chart's CSV says it too, not an x of 0.
    const QString csv = dir.filePath("x.csv");
    auto ch = run_moa({"chart", "--experiment", dir.filePath("x.moa-experiment.json"), "--db", db, "--out", csv}, {}, 60000);
    QVERIFY2(ch.code == 0, ch.err.constData());
    QFile f(csv);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QByteArray body = f.readAll();
    QVERIFY2(body.contains("≥ $"), body.constData());
}

// 300,000 one-line prompts stalled `moa eval` for minutes before its first call: the runner
// looked each task up in the store with a statement compiled for it. Now each lookup is compiled
// once, whatever the set's size (counted, not timed: the machine is shared).
void TestExperiment::largePromptSetsCompileEachLookupOnce() {
    TestServer server;
    QVERIFY(server.ok());
    QTemporaryDir dir;
    const std::string url = server.base_url();
    write(dir.filePath("a.moa.json"), cfg("A", url, {{"ok?tag=a"}}, 0.1, 8));
    write(dir.filePath("b.moa.json"), cfg("B", url, {{"ok?tag=b"}}, 0.1, 8));
    write(dir.filePath("ref.moa.json"), cfg("Ref", url, {{"ok?tag=ref"}}, 0.2, 8));
    write(dir.filePath("judge.moa.json"), cfg("Judge", url, {{"judge?p=0.9"}}, 0.2, 8));
    {
        std::ofstream p(dir.filePath("many.jsonl").toStdString());
        for (int i = 0; i < 3000; ++i) p << "{\"id\": \"q" << i << "\", \"instruction\": \"question " << i << "\"}\n";
    }
    json e{{"schema", "moa-workbench/experiment@1"}, {"configurations", {"a.moa.json", "b.moa.json"}}, {"prompts", "many.jsonl"},
           {"seed", 1}, {"reference", {{"configuration", "ref.moa.json"}}},
           {"judge", {{"config", "judge.moa.json"}, {"mode", "pairwise"}}}};
    write(dir.filePath("x.moa-experiment.json"), e);
    auto ex = moa::eval::load_experiment(dir.filePath("x.moa-experiment.json").toStdString());
    QVERIFY2(ex.ok(), ex.ok() ? "" : ex.error().c_str());
    QCOMPARE(ex->prompts.items.size(), std::size_t(3000));
    auto store = moa::store::ExperimentStore::open(dir.filePath("x.sqlite").toStdString());
    QVERIFY(store.ok());
    moa::accounting::Catalog catalog;
    const auto before = moa::store::Statement::compiled();
    {
        moa::eval::ExperimentRunner runner(*ex, *store, catalog);
        QCOMPARE(runner.progress().total, 3000 * 5);
    }
    auto r = moa::eval::compute_results(*ex, **store);
    QCOMPARE(r.configs[0].pending, 3000);
    const auto compiled = moa::store::Statement::compiled() - before;
    QVERIFY2(compiled < 50, QByteArray::number(qint64(compiled)).constData()); // was about 42,000: one per lookup
}

QTEST_GUILESS_MAIN(TestExperiment)
#include "tst_experiment.moc"
