// SPDX-License-Identifier: MIT
// The offline demo judge: its verdicts on the built-in templates are read by the same parsers
// as a real judge's, deterministic and labelled; an experiment draft is checked field by field
// before anything is written; and the demo experiment runs end to end with `moa eval`.
#include <algorithm>

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <nlohmann/json.hpp>

#include "eval/experiment.h"
#include "eval/experiment_draft.h"
#include "eval/judge.h"
#include "providers/demo_text.h"

using namespace moa;

namespace {
const std::string kQuestion = "Explain how a hash table handles collisions, and compare chaining with open addressing.";
const std::string kGood = "A hash table handles collisions in two main ways. Chaining keeps a list per bucket. Open addressing "
                          "probes other slots. Chaining degrades gracefully; open addressing is cache friendly. Compare both "
                          "on load factor.";
const std::string kPoor = "It depends.";

std::string answer(const std::vector<providers::Message>& m) { return providers::demo_answer("demo-judge", m); }
} // namespace

class TestDemoJudge : public QObject {
    Q_OBJECT
private slots:
    void pairwiseVerdictIsReadableAndPrefersTheFullerAnswer();
    void singleAndSkillsGradesAreReadable();
    void demoLabelLineIsNotCounted();
    void lengthWithoutNewContentLoses();
    void draftNamesEachBadFieldAndWritesNothing();
    void demoExperimentRunsWithMoaEval();
};

void TestDemoJudge::pairwiseVerdictIsReadableAndPrefersTheFullerAnswer() {
    auto t = eval::builtin_template("pairwise");
    QVERIFY(t.ok());
    for (bool good_first : {true, false}) {
        auto msgs = eval::fill(*t, {{"instruction", kQuestion}, {"output_1", good_first ? kGood : kPoor}, {"output_2", good_first ? kPoor : kGood}});
        const std::string a = answer(msgs);
        QVERIFY2(a.find("not a real judge") != std::string::npos, a.c_str());
        QCOMPARE(a, answer(msgs)); // deterministic
        auto v = eval::read_pairwise(*t, a, {});
        QVERIFY2(v.preference.has_value(), (v.why + " in: " + a).c_str());
        QCOMPARE(*v.preference, good_first ? 1.0 : 2.0);
        QVERIFY2(a.find("key words") != std::string::npos, a.c_str()); // says what it counted
    }
}

// The demo's label line quotes the question ("for \"…\""): it gave one demo model's answer the
// question's key words, so the reference won every verdict of the demo experiment. Only the
// answer's own text counts: here the composed answer (more sentences, no key words) wins.
void TestDemoJudge::demoLabelLineIsNotCounted() {
    auto t = eval::builtin_template("pairwise");
    QVERIFY(t.ok());
    const std::string single = "[offline demo, not a real model: demo-one] From the built-in notes on teams, for \"" + kQuestion +
                               "\":\nOne sentence here. Another sentence there.";
    const std::string composed = "[offline demo, not a real model: demo-agg] Composed from the sentences of the 3 answers it was "
                                 "sent:\nFirst point made. Second point made. Third point made. Fourth point made.";
    for (bool single_first : {true, false}) {
        auto msgs = eval::fill(*t, {{"instruction", kQuestion}, {"output_1", single_first ? single : composed}, {"output_2", single_first ? composed : single}});
        const std::string a = answer(msgs);
        auto v = eval::read_pairwise(*t, a, {});
        QVERIFY2(v.preference.has_value(), a.c_str());
        QVERIFY2(*v.preference == (single_first ? 2.0 : 1.0), a.c_str());
        QVERIFY2(a.find("uses 0 of the instruction's") != std::string::npos, a.c_str()); // the quote is not counted
    }
}

// "Says more in fewer words": an answer that only grows (the same sentences again) loses to the
// shorter one, an answer that adds new content words wins, whichever position it is shown in;
// the verdict shows its arithmetic.
void TestDemoJudge::lengthWithoutNewContentLoses() {
    auto t = eval::builtin_template("pairwise");
    QVERIFY(t.ok());
    const std::string padded = kGood + " " + kGood;
    const std::string more = kGood + " Robin Hood hashing evens out probe lengths by displacing richer entries.";
    for (bool plain_first : {true, false}) {
        auto verdict = [&](const std::string& other) {
            auto msgs = eval::fill(*t, {{"instruction", kQuestion}, {"output_1", plain_first ? kGood : other}, {"output_2", plain_first ? other : kGood}});
            const std::string a = answer(msgs);
            auto v = eval::read_pairwise(*t, a, {});
            if (!v.preference) qWarning("%s", a.c_str());
            return std::pair{v.preference.value_or(0), a};
        };
        auto [p_padded, a_padded] = verdict(padded);
        QVERIFY2(p_padded == (plain_first ? 1.0 : 2.0), a_padded.c_str());
        QVERIFY2(a_padded.find("says more in fewer words") != std::string::npos, a_padded.c_str());
        QVERIFY2(a_padded.find(" words / 6 = ") != std::string::npos, a_padded.c_str());
        auto [p_more, a_more] = verdict(more);
        QVERIFY2(p_more == (plain_first ? 2.0 : 1.0), a_more.c_str());
    }
}

void TestDemoJudge::singleAndSkillsGradesAreReadable() {
    auto single = eval::builtin_template("single");
    QVERIFY(single.ok());
    auto grade = [&](const std::string& out) {
        auto a = answer(eval::fill(*single, {{"conversation", "[User]\n" + kQuestion + "\n\n[Assistant]\n" + out + "\n\n"},
                                             {"reference_block", ""}}));
        auto r = eval::read_rating(a);
        if (!r) qWarning("%s", a.c_str());
        return r.value_or(-1);
    };
    const double good = grade(kGood), poor = grade(kPoor);
    QVERIFY(good >= 1 && good <= 10);
    QVERIFY(poor >= 1 && poor <= 10);
    QVERIFY2(good > poor, qPrintable(QString("%1 vs %2").arg(good).arg(poor)));

    auto skills = eval::builtin_template("skills");
    QVERIFY(skills.ok());
    std::string list;
    for (const auto& s : eval::flask_skills()) list += "- " + s + ": how well\n";
    auto a = answer(eval::fill(*skills, {{"instruction", kQuestion}, {"output", kGood}, {"skills", list}, {"reference_block", ""}}));
    auto grades = eval::read_skill_grades(a, eval::flask_skills());
    QCOMPARE(grades.size(), eval::flask_skills().size());
    QVERIFY(a.find("not a real judge") != std::string::npos);

    // Something that is not a judge template gets a clear, unreadable answer rather than a guess.
    auto other = answer({{"user", "Hello"}});
    QVERIFY(other.find("found none") != std::string::npos);
    QVERIFY(!eval::read_pairwise(*eval::builtin_template("pairwise"), other, {}).preference);
}

void TestDemoJudge::draftNamesEachBadFieldAndWritesNothing() {
    QTemporaryDir dir;
    const std::string path = dir.filePath("x.moa-experiment.json").toStdString();
    eval::ExperimentDraft d;
    d.configurations = {"no-such-preset"};
    d.judge = "";
    d.reference = "";
    auto w = eval::write_draft(d, path);
    QVERIFY(!w.ok());
    const QString err = QString::fromStdString(w.error());
    QVERIFY2(err.contains("Configurations: no configuration file \"no-such-preset\" and no preset named \"no-such-preset\""), qPrintable(err));
    QVERIFY2(err.contains("Judge: is empty") || err.contains("Judge: choose"), qPrintable(err));
    QVERIFY2(err.contains("Reference: a pairwise judge compares"), qPrintable(err));
    QVERIFY(!QFile::exists(QString::fromStdString(path)));
    QCOMPARE(QDir(dir.path()).entryList(QDir::Files).size(), 0);

    // A judge must be one agent: a whole MoA preset is refused, naming the field and the preset.
    d.configurations = {"offline-demo"};
    d.judge = "offline-demo";
    d.reference = "offline-demo";
    w = eval::write_draft(d, path);
    QVERIFY(!w.ok());
    QVERIFY2(QString::fromStdString(w.error()).contains("Judge: \"offline-demo\" has 3 layers"), w.error().c_str());
    QVERIFY(!QFile::exists(QString::fromStdString(path)));

    // Preset names are accepted in every field.
    d.judge = eval::kDemoJudge;
    w = eval::write_draft(d, path);
    QVERIFY2(w.ok(), w.ok() ? "" : w.error().c_str());
    auto e = eval::load_experiment(path);
    QVERIFY2(e.ok(), e.ok() ? "" : e.error().c_str());
    QCOMPARE(e->judge.config.layers[0].agents[0].model, std::string("demo-judge"));
}

void TestDemoJudge::demoExperimentRunsWithMoaEval() {
    QTemporaryDir dir;
    auto exp = eval::write_demo_experiment(dir.filePath("demo").toStdString(), 5);
    QVERIFY2(exp.ok(), exp.ok() ? "" : exp.error().c_str());
    QProcess p;
    p.start(MOA_BINARY, {"eval", "--experiment", QString::fromStdString(*exp), "--db", dir.filePath("e.sqlite"), "--json", "--quiet"});
    QVERIFY(p.waitForFinished(240000));
    const QByteArray out = p.readAllStandardOutput(), err = p.readAllStandardError();
    QVERIFY2(p.exitCode() == 0, (out + err).constData());
    auto j = nlohmann::json::parse(out.toStdString(), nullptr, false);
    QVERIFY2(j.is_object() && j.contains("configurations"), out.constData());
    QCOMPARE(j["configurations"].size(), std::size_t(2));
    // The demo experiment is a demonstration: its verdicts vary (the reference once won them all,
    // a win rate of 0 for every configuration, because the demo's label line quoting the question
    // was counted for it).
    // Then both MoA configurations won all 5 (100% each, as sentences were counted): the judge
    // now weighs what an answer adds against its length, and the two get different win rates,
    // neither 0 nor 100 for both.
    std::vector<double> rates;
    for (const auto& c : j["configurations"]) {
        QCOMPARE(c.value("judged", 0), 5);
        QCOMPARE(c.value("unreadable", -1), 0);
        qInfo("%s: win rate %.1f", c.value("name", std::string()).c_str(), c.value("win_rate", -1.0));
        rates.push_back(c.value("win_rate", -1.0));
    }
    QVERIFY2(rates[0] != rates[1], out.constData());
    QVERIFY2(std::any_of(rates.begin(), rates.end(), [](double r) { return r > 0; }), out.constData());
    QVERIFY2(std::any_of(rates.begin(), rates.end(), [](double r) { return r < 100; }), out.constData());
    // The results say whose verdicts they are.
    QCOMPARE(j.value("judge_note", std::string()), std::string("offline demo judge: counts words, not a real judge"));
}

QTEST_GUILESS_MAIN(TestDemoJudge)
#include "tst_demo_judge.moc"
