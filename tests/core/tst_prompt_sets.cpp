// SPDX-License-Identifier: MIT
// Prompt sets and judges: the starter set, the importers on the real files in
// ../shared/data (read in place), their messages for broken files, and verdict parsing.
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <fstream>
#include <set>

#include "engine/rate_limiter.h"
#include "eval/alpaca_files.h"
#include "eval/experiment_results.h"
#include "eval/judge.h"
#include "eval/prompt_set.h"

using namespace moa::eval;

namespace {
const std::string kData = MOA_SHARED_DATA;
std::string write_temp(const QTemporaryDir& dir, const char* name, const std::string& text) {
    std::string p = dir.path().toStdString() + "/" + name;
    std::ofstream(p) << text;
    return p;
}
} // namespace

class TestPromptSets : public QObject {
    Q_OBJECT
private slots:
    void starterSetHasFortyOwnInstructionsInSixCategories();
    void importsAlpacaEvalOutputs();
    void importsMtBenchWithReferences();
    void importsFlask();
    void genericJsonlAndCsvWithMapping();
    void brokenFilesNameFileLineAndField_data();
    void brokenFilesNameFileLineAndField();
    void hostileIdsAndValuesAreNeverDumped();
    void hostilePromptSetFilesAreRefusedNamingFileAndLine();
    void sampleIsDeterministic();
    void pairwiseVerdictFromLogprobsOrText();
    void importedTemplateBecomesMessages();
    void ratingsAndSkillGrades();
    void paretoFront();
    void rateLimiterHoldsRequestsAndTokensPerMinute();
};

void TestPromptSets::starterSetHasFortyOwnInstructionsInSixCategories() {
    auto s = load_starter_set();
    QVERIFY2(s.ok(), s.ok() ? "" : s.error().c_str());
    QVERIFY(s->items.size() >= 40);
    std::set<std::string> cats;
    for (const auto& it : s->items) {
        cats.insert(it.category);
        QVERIFY(!it.instruction().empty());
    }
    QCOMPARE(cats, (std::set<std::string>{"writing", "reasoning", "coding", "math", "knowledge", "advice"}));
}

void TestPromptSets::importsAlpacaEvalOutputs() {
    auto s = load_prompt_set(kData + "/alpaca_eval/gpt4_1106_preview_model_outputs.json");
    QVERIFY2(s.ok(), s.ok() ? "" : s.error().c_str());
    QCOMPARE(s->format, std::string("alpaca_eval"));
    QCOMPARE(s->items.size(), std::size_t(805));
    QVERIFY(s->items[0].output.has_value());
    QCOMPARE(QString::fromStdString(s->items[0].generator), QString("gpt4_1106_preview"));
}

void TestPromptSets::importsMtBenchWithReferences() {
    auto s = load_prompt_set(kData + "/mt_bench/question.jsonl");
    QVERIFY2(s.ok(), s.ok() ? "" : s.error().c_str());
    QCOMPARE(s->format, std::string("mt_bench"));
    QCOMPARE(s->items.size(), std::size_t(80));
    for (const auto& it : s->items) QCOMPARE(it.turns.size(), std::size_t(2));
    auto n = attach_mt_bench_references(*s, kData + "/mt_bench/reference_answer_gpt-4.jsonl");
    QVERIFY(n.ok());
    QCOMPARE(*n, 30);
    int math_with_refs = 0;
    for (const auto& it : s->items) math_with_refs += it.category == "math" && it.references.size() == 2;
    QCOMPARE(math_with_refs, 10);
}

void TestPromptSets::importsFlask() {
    auto s = load_prompt_set(kData + "/flask/flask_evaluation_first200.jsonl");
    QVERIFY2(s.ok(), s.ok() ? "" : s.error().c_str());
    QCOMPARE(s->format, std::string("flask"));
    QCOMPARE(s->items.size(), std::size_t(200));
    for (const auto& it : s->items) {
        QVERIFY(!it.skills.empty());
        for (const auto& sk : it.skills)
            QVERIFY2(std::find(flask_skills().begin(), flask_skills().end(), sk) != flask_skills().end(), sk.c_str());
    }
}

void TestPromptSets::genericJsonlAndCsvWithMapping() {
    QTemporaryDir dir;
    auto j = write_temp(dir, "q.jsonl", "{\"q\": \"What is 2+2?\", \"kind\": \"math\", \"key\": \"a\"}\n\n{\"q\": \"Name a colour.\", \"key\": \"b\"}\n");
    ColumnMapping m;
    m.instruction = "q";
    m.category = "kind";
    m.id = "key";
    auto s = load_prompt_set(j, PromptFormat::Jsonl, m);
    QVERIFY2(s.ok(), s.ok() ? "" : s.error().c_str());
    QCOMPARE(s->items.size(), std::size_t(2));
    QCOMPARE(QString::fromStdString(s->items[0].category), QString("math"));
    QCOMPARE(QString::fromStdString(s->items[1].id), QString("b"));
    QCOMPARE(QString::fromStdString(s->items[1].source), QString::fromStdString(j + ":3"));

    auto c = write_temp(dir, "q.csv", "prompt,topic\n\"Explain, briefly, tides.\",science\nWrite a haiku.,writing\n");
    ColumnMapping cm;
    cm.instruction = "prompt";
    cm.category = "topic";
    auto t = load_prompt_set(c, PromptFormat::Auto, cm);
    QVERIFY2(t.ok(), t.ok() ? "" : t.error().c_str());
    QCOMPARE(t->format, std::string("csv"));
    QCOMPARE(QString::fromStdString(t->items[0].instruction()), QString("Explain, briefly, tides."));
    QCOMPARE(QString::fromStdString(t->items[1].category), QString("writing"));
}

void TestPromptSets::brokenFilesNameFileLineAndField_data() {
    QTest::addColumn<QString>("name");
    QTest::addColumn<QString>("text");
    QTest::addColumn<int>("format");
    QTest::addColumn<QString>("expected"); // after "<path>"
    QTest::newRow("jsonl not json") << "a.jsonl" << "{\"instruction\": \"x\"}\n{oops\n" << int(PromptFormat::Jsonl)
                                    << ":2: not a JSON object (each line of a JSONL file must be one)";
    QTest::newRow("jsonl missing field") << "b.jsonl" << "{\"instruction\": \"x\"}\n{\"prompt\": \"y\"}\n" << int(PromptFormat::Jsonl)
                                         << ":2: field \"instruction\" is missing";
    QTest::newRow("mt-bench turns") << "c.jsonl" << "{\"question_id\": 1, \"turns\": [\"a\", 2]}\n" << int(PromptFormat::MtBench)
                                    << ":1: field \"turns\"[1]: expected a string, got number";
    QTest::newRow("flask no skill") << "d.jsonl" << "{\"idx\": 1, \"instruction\": \"x\", \"skill\": []}\n" << int(PromptFormat::Flask)
                                    << ":1: field \"skill\": FLASK instances name the skills to grade";
    QTest::newRow("csv no column") << "e.csv" << "question\nx\n" << int(PromptFormat::Csv)
                                   << ":1: the header has no column \"instruction\" (map another column to the instruction)";
    QTest::newRow("duplicate id") << "f.jsonl" << "{\"id\": \"1\", \"instruction\": \"x\"}\n{\"id\": \"1\", \"instruction\": \"y\"}\n"
                                  << int(PromptFormat::Jsonl) << ":2: the id \"1\" appears twice";
    QTest::newRow("alpaca output not string") << "g.json" << "[\n {\"instruction\": \"x\",\n  \"output\": null}\n]" << int(PromptFormat::AlpacaEval)
                                              << ":2: /0: the field \"output\" is missing";
}

void TestPromptSets::brokenFilesNameFileLineAndField() {
    QFETCH(QString, name);
    QFETCH(QString, text);
    QFETCH(int, format);
    QFETCH(QString, expected);
    QTemporaryDir dir;
    auto p = write_temp(dir, name.toUtf8().constData(), text.toStdString());
    auto s = load_prompt_set(p, static_cast<PromptFormat>(format));
    QVERIFY(!s.ok());
    QCOMPARE(QString::fromStdString(s.error()), QString::fromStdString(p) + expected);
}

// Ids and values from the user's files were dump()ed into ids and messages: an id nested
// 100,000 deep overflowed the stack (dump recurses), a huge value was copied whole to quote 40
// characters of it. Deep lines are refused naming file and line; values are described.
// Found by the hostile review: a 40 MB line was read (708 MB of memory), a key given twice was read
// silently (which one counts depends on the parser), and a raw NUL said only "not a JSON object".
void TestPromptSets::hostilePromptSetFilesAreRefusedNamingFileAndLine() {
    QTemporaryDir dir;
    auto refused = [&](const char* name, const std::string& text, const std::vector<std::string>& says) {
        const std::string p = write_temp(dir, name, text);
        auto s = load_prompt_set(p);
        QVERIFY2(!s.ok(), name);
        for (const auto& w : says) QVERIFY2(s.error().find(w) != std::string::npos, s.error().c_str());
    };
    // A line past 1 MiB, named by its line.
    refused("long.jsonl", "{\"instruction\": \"ok\"}\n{\"instruction\": \"" + std::string(1100000, 'a') + "\"}\n",
            {"long.jsonl:2", "more than the 1 MiB"});
    // A CSV cell past it too.
    refused("long.csv", "instruction\nok\n" + std::string(1100000, 'b') + "\n", {"long.csv:3", "1 MiB"});
    // The file past 16 MiB, like --prompt-file.
    {
        std::string big;
        const std::string line = "{\"instruction\": \"" + std::string(1000, 'c') + "\"}\n";
        while (big.size() <= (16u << 20)) big += line;
        refused("big.jsonl", big, {"big.jsonl", "16 MiB"});
    }
    // The same key twice in one line.
    refused("dup.jsonl", "{\"instruction\": \"a\"}\n{\"instruction\": \"a\", \"instruction\": \"b\"}\n",
            {"dup.jsonl:2", "/instruction", "twice"});
    // A raw NUL (or other control character) in a string: what it is and where.
    refused("nul.jsonl", std::string("{\"instruction\": \"a\0b\"}\n", 23), {"nul.jsonl:1", "control character (U+0000)", "column 19"});
    refused("tab.jsonl", "{\"id\": \"x\", \"instruction\": \"a\tb\"}\n", {"tab.jsonl:1", "U+0009", "column 30"});
    // A line of exactly normal shape still loads.
    const std::string ok = write_temp(dir, "ok.jsonl", "{\"instruction\": \"a\\u0000b\"}\n");
    QVERIFY(load_prompt_set(ok).ok());
}

void TestPromptSets::hostileIdsAndValuesAreNeverDumped() {
    QTemporaryDir dir;
    auto s = load_prompt_set(kData + "/mt_bench/question.jsonl");
    QVERIFY(s.ok());
    const std::string deep = std::string(100000, '[') + std::string(100000, ']');
    auto refs = write_temp(dir, "deep.jsonl", "{\"question_id\": 81, \"choices\": [{\"turns\": [\"a\"]}]}\n{\"question_id\": " +
                                                  deep + ", \"choices\": [{\"turns\": [\"b\"]}]}\n");
    auto n = attach_mt_bench_references(*s, refs);
    QVERIFY(!n.ok());
    QVERIFY2(n.error().find(refs + ":2: the line nests deeper than 512 levels") == 0, n.error().c_str());
    // Within the depth limit, an object id matches no prompt and is not spelled out.
    const std::string nested = std::string(400, '[') + std::string(400, ']');
    refs = write_temp(dir, "odd.jsonl", "{\"question_id\": {\"x\": " + nested + "}, \"choices\": [{\"turns\": [\"b\"]}]}\n");
    n = attach_mt_bench_references(*s, refs);
    QVERIFY2(n.ok(), n.ok() ? "" : n.error().c_str());
    QCOMPARE(*n, 0);
    // A preference that is a 200,000-value array: the warning describes it in a few words.
    std::string big = "[";
    for (int i = 0; i < 200000; ++i) big += i ? ",0" : "0";
    big += "]";
    auto a = parse_annotations("[{\"instruction\": \"x\", \"output_1\": \"a\", \"output_2\": \"b\", \"preference\": " + big + "}]",
                               "ann.json");
    QVERIFY2(a.ok(), a.ok() ? "" : a.error().c_str());
    QCOMPARE(a->warnings.size(), std::size_t(1));
    QVERIFY2(a->warnings[0].find("the preference is not a number: an array of 200000 values") != std::string::npos,
             a->warnings[0].c_str());
    QVERIFY(a->warnings[0].size() < 200);
}

void TestPromptSets::sampleIsDeterministic() {
    auto s = load_starter_set();
    QVERIFY(s.ok());
    auto a = sample(*s, 30, 7), b = sample(*s, 30, 7), c = sample(*s, 30, 8);
    QCOMPARE(a.items.size(), std::size_t(30));
    for (std::size_t i = 0; i < 30; ++i) QCOMPARE(a.items[i].id, b.items[i].id);
    bool differs = false;
    for (std::size_t i = 0; i < 30; ++i) differs = differs || a.items[i].id != c.items[i].id;
    QVERIFY(differs);
}

void TestPromptSets::pairwiseVerdictFromLogprobsOrText() {
    JudgeTemplate t;
    t.label_1 = "m";
    t.label_2 = "M";
    // AlpacaEval's recorded shape: the first token's top_logprobs hold both labels.
    moa::providers::TokenLogprobs lp;
    lp.token = "M";
    lp.logprob = std::log(0.75);
    lp.top = {{"M", std::log(0.75)}, {"m", std::log(0.25)}, {"The", -14.6}};
    auto v = read_pairwise(t, "M", {lp});
    QCOMPARE(v.method, std::string("logprobs"));
    QVERIFY(std::abs(*v.preference - 1.75) < 1e-12);
    auto text = read_pairwise(t, " m\n", {});
    QCOMPARE(text.method, std::string("text"));
    QCOMPARE(*text.preference, 1.0);
    JudgeTemplate ab;
    QCOMPARE(*read_pairwise(ab, "Response B is better.", {}).preference, 2.0);
    auto bad = read_pairwise(ab, "Both are fine.", {});
    QVERIFY(!bad.preference);
    QCOMPARE(bad.method, std::string("unreadable"));
    QVERIFY(!read_pairwise(ab, "A or B? I cannot decide", {}).preference);
}

void TestPromptSets::importedTemplateBecomesMessages() {
    auto t = load_template(kData + "/alpaca_eval/judge_template_weighted_alpaca_eval_gpt4_turbo.txt",
                           {"instruction", "output_1", "output_2"});
    QVERIFY2(t.ok(), t.ok() ? "" : t.error().c_str());
    QCOMPARE(t->messages.size(), std::size_t(2));
    QCOMPARE(QString::fromStdString(t->messages[0].role), QString("system"));
    auto filled = fill(*t, {{"instruction", "Say {output_1}"}, {"output_1", "one"}, {"output_2", "two"}});
    // Values are not expanded again: an instruction holding a placeholder stays as written.
    QVERIFY(filled[1].content.find("Say {output_1}") != std::string::npos);
    QVERIFY(filled[1].content.find("\"output\": \"\"\"one\"\"\"") != std::string::npos);
    auto missing = parse_template("Judge {instruction} and {output_1}", "t.txt", {"instruction", "output_1", "output_2"});
    QCOMPARE(QString::fromStdString(missing.error()), QString("t.txt: the template has no {output_2} placeholder"));
    for (const char* mode : {"pairwise", "single", "skills"}) QVERIFY(builtin_template(mode).ok());
}

void TestPromptSets::ratingsAndSkillGrades() {
    QCOMPARE(*read_rating("Good answer.\nRating: [[8]]"), 8.0);
    QCOMPARE(*read_rating("Rating: [[ 7.5 ]]"), 7.5);
    QVERIFY(!read_rating("Rating: 8"));
    QVERIFY(!read_rating("[[11]]"));
    auto g = read_skill_grades("Factuality: 4\n**Readability**: 5\nConciseness - 2\n", {"Factuality", "Readability", "Conciseness", "Harmlessness"});
    QCOMPARE(g.size(), std::size_t(3));
    QCOMPARE(g[1].second, 5.0);
    QCOMPARE(flask_skills().size(), std::size_t(12));
}

void TestPromptSets::paretoFront() {
    // cost, quality: (1, 10) (2, 30) (3, 20) dominated by (2, 30), (4, 40), (2, 30) twice
    auto f = pareto_front({1, 2, 3, 4}, {10, 30, 20, 40});
    QCOMPARE(f, (std::vector<std::size_t>{0, 1, 3}));
    auto d = joint_difficulty({{1.2, 1.8}, {1.1, 1.9}, {1.3, 1.7}});
    QCOMPARE(d.size(), std::size_t(2));
    QVERIFY(d[0] > 0 && d[1] < 0); // the first prompt is harder for the configurations
    QVERIFY(joint_difficulty({{1.2}, {1.3}}).empty());
}

void TestPromptSets::rateLimiterHoldsRequestsAndTokensPerMinute() {
    using Clock = moa::engine::RateLimiter::Clock;
    moa::engine::RateLimiter l;
    l.set_limit("p", 3, 1000);
    const auto t0 = Clock::now();
    QCOMPARE(l.admit("p", 100, t0), 0L);
    QCOMPARE(l.admit("p", 100, t0), 0L);
    QCOMPARE(l.admit("p", 100, t0), 0L);
    long wait = l.admit("p", 100, t0 + std::chrono::seconds(10)); // a fourth request in the same minute
    QVERIFY(wait > 49000 && wait <= 50001);
    QCOMPARE(l.admit("p", 100, t0 + std::chrono::seconds(61)), 0L); // the window has moved on
    QCOMPARE(l.admit("other", 1 << 20, t0), 0L);                    // no limit set: always
    moa::engine::RateLimiter tokens;
    tokens.set_limit("t", 0, 1000);
    QCOMPARE(tokens.admit("t", 600, t0), 0L);
    QVERIFY(tokens.admit("t", 600, t0 + std::chrono::seconds(1)) > 0); // 1 200 tokens would pass 1 000
    QCOMPARE(tokens.admit("t", 300, t0 + std::chrono::seconds(1)), 0L);
    QCOMPARE(tokens.admit("t", 5000, t0 + std::chrono::seconds(70)), 0L); // alone in its window, a big call goes
    // Below one request a minute (refused when an experiment is read): an empty window admits,
    // instead of reading the oldest call of an empty window.
    moa::engine::RateLimiter tiny;
    tiny.set_limit("x", 1e-300, 0);
    QCOMPARE(tiny.admit("x", 1, t0), 0L);
}

QTEST_GUILESS_MAIN(TestPromptSets)
#include "tst_prompt_sets.moc"
