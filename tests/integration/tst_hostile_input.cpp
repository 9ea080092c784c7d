// SPDX-License-Identifier: MIT
// Issue 12: hostile configurations and files given to the `moa` command. Each of them ends with
// a clear message naming what was wrong and where, never with a hang, a crash or a leak.
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QtTest>

#include <sys/stat.h>

#include <algorithm>

#include "run_helpers.h"
#include "test_server.h"

using namespace testing_support;

namespace {
// Runs `moa args` on a pseudo-terminal: the child's stdout and stderr are both a TTY, as in a
// user's shell. What it wrote comes back in `out`.
ProcessResult in_pty(const QTemporaryDir& d, const QStringList& args) {
    const QString pty_run = write_file(d, "pty_run.py",
                                       "import os, pty, sys\n"
                                       "pid, fd = pty.fork()\n"
                                       "if pid == 0:\n"
                                       "    os.execv(sys.argv[1], sys.argv[1:])\n"
                                       "out = b''\n"
                                       "while True:\n"
                                       "    try:\n"
                                       "        data = os.read(fd, 65536)\n"
                                       "    except OSError:\n"
                                       "        break\n"
                                       "    if not data:\n"
                                       "        break\n"
                                       "    out += data\n"
                                       "_, status = os.waitpid(pid, 0)\n"
                                       "sys.stdout.buffer.write(out)\n"
                                       "sys.exit(os.waitstatus_to_exitcode(status))\n");
    QProcess p;
    p.start("python3", QStringList{pty_run, QStringLiteral(MOA_BINARY)} + args);
    p.waitForStarted();
    p.closeWriteChannel();
    ProcessResult r;
    if (!p.waitForFinished(60000)) {
        p.kill();
        p.waitForFinished();
        return r;
    }
    r.code = p.exitCode();
    r.out = p.readAllStandardOutput();
    r.err = p.readAllStandardError();
    return r;
}
} // namespace

class TestHostileInput : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void deepConfigEndsWithAClearError();
    void promptFilesMustBeSmallRegularFiles();
    void templateOutsideTheFolderNeedsTheFlag();
    void newKeyServerPairIsPointedOut();
    void validateTakesPresetNamesAndSaysDirectory();
    void refusedRedirectNamesTheHost();
    void serveTakesTheBearerSchemeInAnyCase();
    void terminalGetsNoRawEscapes();
    void pipesGetNoRawEscapesUnlessRaw();
    void evalAndStatsShowNoRawEscapesOnATerminal();

private:
    std::unique_ptr<TestServer> server_;
    QTemporaryDir dir_;
};

void TestHostileInput::initTestCase() {
    server_ = std::make_unique<TestServer>();
    QVERIFY(server_->ok());
    QVERIFY(dir_.isValid());
    qputenv("MOA_HISTORY_DB", dir_.filePath("history.sqlite").toUtf8()); // the children inherit it
    qputenv("XDG_DATA_HOME", dir_.filePath("data").toUtf8());
}

// Item 9: arrays nested past 512 levels hung `moa validate` and `moa run` for ever.
void TestHostileInput::deepConfigEndsWithAClearError() {
    auto j = config_json(server_->base_url(), {{"ok"}});
    std::string doc = j.dump(2);
    doc.insert(doc.rfind('}'), ",\n  \"x-deep\": " + std::string(100000, '[') + std::string(100000, ']') + "\n");
    const QString f = write_file(dir_, "deep.moa.json", QByteArray::fromStdString(doc));
    const int line = int(std::count(doc.begin(), doc.end(), '\n')); // the x-deep line
    for (const QStringList& args : {QStringList{"validate", f}, QStringList{"run", "--config", f, "--prompt", "hi"}}) {
        auto r = run_moa(args, {}, 120000);
        QVERIFY2(r.code == 2, qPrintable(args.first() + ": exit " + QString::number(r.code) + " " + r.err));
        const QByteArray want = (f + ":" + QString::number(line) + ":").toUtf8();
        QVERIFY2(r.err.contains(want) && r.err.contains("values nested more than 512 levels deep"), r.err.constData());
    }
    QCOMPARE(server_->chat_requests(), 0);
    // The experiment loader too (it maps lines with the same scanner).
    const QString e = write_file(dir_, "deep.moa-experiment.json",
                                 QByteArray::fromStdString("{\"name\": \"x\",\n\"configurations\": " + std::string(600, '[') +
                                                           std::string(600, ']') + "}"));
    auto r = run_moa({"eval", "--experiment", e, "--db", dir_.filePath("exp.sqlite")}, {}, 120000);
    QCOMPARE(r.code, 2);
    QVERIFY2(r.err.contains((e + ":2:").toUtf8()) && r.err.contains("values nested more than 512 levels deep"), r.err.constData());
}

// Item 6: --prompt-file /dev/zero aborted the process (bad_alloc); a FIFO hung it.
void TestHostileInput::promptFilesMustBeSmallRegularFiles() {
    QTemporaryDir d;
    QVERIFY(::mkfifo(d.filePath("fifo").toUtf8().constData(), 0600) == 0);
    QDir(d.path()).mkdir("folder");
    write_file(d, "big.txt", QByteArray((16 << 20) + 1, 'x'));
    const std::pair<QString, QByteArray> cases[] = {{"/dev/zero", "is a character device"},
                                                    {d.filePath("fifo"), "is a FIFO"},
                                                    {d.filePath("folder"), "is a directory"},
                                                    {d.filePath("big.txt"), "is larger than 16 MiB"},
                                                    {d.filePath("nope.txt"), "cannot read: no such file"}};
    for (const auto& [path, why] : cases) {
        auto r = run_moa({"run", "--config", "offline-demo", "--prompt-file", path}, {}, 60000);
        QVERIFY2(r.code == 2, qPrintable(path + ": exit " + QString::number(r.code)));
        QVERIFY2(r.err.contains(("moa run: --prompt-file " + path + ": ").toUtf8() + why), r.err.constData());
    }
}

// Item 6: "template": "/proc/self/environ" sent every key in the environment upstream.
void TestHostileInput::templateOutsideTheFolderNeedsTheFlag() {
    QTemporaryDir d;
    std::string n = nonce();
    auto j = config_json(server_->base_url(), {{"ok?tag=A-" + n}, {"ok?tag=F-" + n}});
    j["aggregation"] = {{"template", "/proc/self/environ"}};
    const QString f = write_file(d, "env.moa.json", QByteArray::fromStdString(j.dump(2)));
    auto env = QProcessEnvironment::systemEnvironment();
    env.insert("MOA_ENVIRON_MARKER", "marker-" + QString::fromStdString(n));
    for (const QStringList& args : {QStringList{"validate", f}, QStringList{"run", "--config", f, "--prompt", "hi"}}) {
        auto r = run_moa(args, {}, 60000, env);
        QCOMPARE(r.code, 2);
        QVERIFY2(r.err.contains("/aggregation/template: cannot read the template file: \"/proc/self/environ\" is under /proc; "
                                "a template must be an ordinary file, and files under /proc, /sys and /dev are never read, "
                                "even with --allow-outside-files"),
                 r.err.constData());
    }
    // /proc, /sys and /dev stay refused even when the user opts in (the flag once read the environment).
    for (const QStringList& args : {QStringList{"validate", f, "--allow-outside-files"},
                                    QStringList{"run", "--config", f, "--prompt", "hi", "--allow-outside-files"}}) {
        auto r = run_moa(args, {}, 60000, env);
        QCOMPARE(r.code, 2);
        QVERIFY2(r.err.contains("is under /proc"), r.err.constData());
    }
    QCOMPARE(server_->bearer(QString::fromStdString(n), "x").calls, 0); // nothing was sent
    // Opting in reads an ordinary file elsewhere (the user's choice); a template inside the folder needs no flag.
    QTemporaryDir elsewhere;
    write_file(elsewhere, "theirs.txt", "Merge these:\n");
    j["aggregation"] = {{"template", elsewhere.filePath("theirs.txt").toStdString()}};
    const QString o = write_file(d, "other.moa.json", QByteArray::fromStdString(j.dump(2)));
    auto r = run_moa({"validate", o}, {}, 60000, env);
    QVERIFY2(r.code == 2 && r.err.contains("is outside the configuration's folder") && r.err.contains("--allow-outside-files"),
             r.err.constData());
    r = run_moa({"validate", o, "--allow-outside-files"}, {}, 60000, env);
    QVERIFY2(r.code == 0, r.err.constData());
    write_file(d, "mine.txt", "Merge these:\n");
    j["aggregation"] = {{"template", "mine.txt"}};
    const QString g = write_file(d, "in.moa.json", QByteArray::fromStdString(j.dump(2)));
    r = run_moa({"run", "--config", g, "--prompt", "hi", "--json", "--no-history"});
    QVERIFY2(r.code == 0, r.err.constData());
}

// Item 6: a configuration naming a key variable next to a server that key never went to.
void TestHostileInput::newKeyServerPairIsPointedOut() {
    QTemporaryDir d;
    std::string n = nonce();
    auto j = config_json(server_->base_url(), {{"ok?tag=A-" + n}}, {{"api_key_env", "MOA_HOSTILE_TEST_KEY"}});
    const QString f = write_file(d, "k.moa.json", QByteArray::fromStdString(j.dump(2)));
    auto env = QProcessEnvironment::systemEnvironment();
    env.insert("MOA_KNOWN_KEYS", d.filePath("known-keys.json"));
    const QByteArray note = "moa: note: provider \"local\" sends the key in $MOA_HOSTILE_TEST_KEY to http://127.0.0.1:" +
                            QByteArray::number(server_->port()) + ", which has not been done on this machine before";
    // Unset: no key would go anywhere, nothing to say.
    auto r = run_moa({"run", "--config", f, "--prompt", "hi", "--quiet", "--no-history"}, {}, 60000, env);
    QCOMPARE(r.code, 0);
    QVERIFY(!r.err.contains("moa: note:"));
    env.insert("MOA_HOSTILE_TEST_KEY", "not-a-real-key-1234");
    r = run_moa({"run", "--config", f, "--prompt", "hi", "--quiet", "--no-history"}, {}, 60000, env);
    QCOMPARE(r.code, 0);
    QVERIFY2(r.err.contains(note), r.err.constData());
    QVERIFY(QFile::exists(d.filePath("known-keys.json")));
    QFile known(d.filePath("known-keys.json"));
    QVERIFY(known.open(QIODevice::ReadOnly));
    const QByteArray pairs = known.readAll();
    QVERIFY2(pairs.contains("MOA_HOSTILE_TEST_KEY") && !pairs.contains("not-a-real-key"), pairs.constData()); // names, never keys
    // Said once: the second run is quiet.
    r = run_moa({"run", "--config", f, "--prompt", "hi", "--quiet", "--no-history"}, {}, 60000, env);
    QCOMPARE(r.code, 0);
    QVERIFY2(!r.err.contains("moa: note:"), r.err.constData());
}

// Item 15: run and serve took preset names, validate said "no such file"; a directory read as
// "malformed JSON".
void TestHostileInput::validateTakesPresetNamesAndSaysDirectory() {
    auto r = run_moa({"validate", "moa-lite"});
    QVERIFY2(r.code == 0, r.err.constData());
    QVERIFY(r.out.contains("ok: \"MoA-Lite\""));
    QTemporaryDir d;
    r = run_moa({"validate", d.path()});
    QCOMPARE(r.code, 2);
    QVERIFY2(r.err.contains((d.path() + ": is a directory").toUtf8()), r.err.constData());
    r = run_moa({"run", "--config", d.path(), "--prompt", "x"});
    QCOMPARE(r.code, 2);
    QVERIFY2(r.err.contains((d.path() + ": is a directory").toUtf8()), r.err.constData());
}

// Item 15: a refused redirect said "no message in the response body".
void TestHostileInput::refusedRedirectNamesTheHost() {
    QTemporaryDir d;
    const std::string to = "http://localhost:" + std::to_string(server_->port()) + "/v1/chat/completions";
    auto j = config_json(server_->base_url(), {{"redirect?to=" + to + "&tag=" + nonce()}});
    const QString f = write_file(d, "r.moa.json", QByteArray::fromStdString(j.dump(2)));
    auto r = run_moa({"run", "--config", f, "--prompt", "hi", "--no-history"});
    QCOMPARE(r.code, 3);
    QVERIFY2(r.err.contains(("HTTP 307: redirect to localhost:" + std::to_string(server_->port()) + " not followed").c_str()),
             r.err.constData());
}

// Item 15: "bearer KEY" was refused by moa serve (the scheme is case-insensitive, RFC 9110).
void TestHostileInput::serveTakesTheBearerSchemeInAnyCase() {
    auto env = QProcessEnvironment::systemEnvironment();
    env.insert("MOA_SERVE_TEST_KEY", "serve-key-0123456789");
    ServeProcess serve({"--config", "offline-demo", "--api-key-env", "MOA_SERVE_TEST_KEY", "--no-history"}, env);
    QVERIFY(serve.ok());
    for (const char* scheme : {"Bearer", "bearer", "BEARER"})
        QCOMPARE(http_request("GET", serve.url("/v1/models"), {}, {"Authorization: " + QString(scheme) + " serve-key-0123456789"}).status, 200L);
    QCOMPARE(http_request("GET", serve.url("/v1/models"), {}, {"Authorization: bearer wrong-key"}).status, 401L);
}

// Item 14: model text, provider errors and configuration names reached the terminal raw (a
// window title, a cleared screen, an OSC 52 clipboard write).
void TestHostileInput::terminalGetsNoRawEscapes() {
    QTemporaryDir d;
    std::string n = nonce();
    auto j = config_json(server_->base_url(), {{"escapes?tag=A-" + n, "status?code=404&message=gone%1B%5D0%3Btitle%07%1B%5B2J&tag=" + n},
                                               {"escapes?tag=F-" + n}});
    j["name"] = "evil\x1b]0;name\x07\xc2\x9b";
    const QString f = write_file(d, "esc.moa.json", QByteArray::fromStdString(j.dump(2)));
    auto in_pty = [&](const QStringList& args) { return ::in_pty(d, args); };
    auto r = in_pty({"run", "--config", f, "--prompt", "hi"});
    QCOMPARE(r.code, 0);
    const QString shown = QString::fromUtf8(r.out);
    QVERIFY2(shown.contains(QString::fromStdString("A-" + n)) || shown.contains("title"), r.out.constData());
    QVERIFY2(!r.out.contains('\x1b') && !r.out.contains('\x07') && !r.out.contains("\xc2\x9b"), r.out.toHex().constData());
    // Bidirectional controls (text that reads in another order than it is) are named, as --html
    // names them (issue 12: they were all U+FFFD here, which said neither which nor that).
    for (const char* bidi : {"\u202e", "\u202c", "\u2066", "\u2069", "\u200e", "\u200f", "\u061c"})
        QVERIFY2(!r.out.contains(bidi), qPrintable(QString("U+%1 reached the terminal").arg(QString::fromUtf8(bidi).at(0).unicode(), 4, 16)));
    const QString named = QString::fromUtf8("bidi \u27E8U+202E\u27E9exe.txt\u27E8U+202C\u27E9 \u27E8U+2066\u27E9iso\u27E8U+2069\u27E9 "
                                            "\u27E8U+200E\u27E9lrm\u27E8U+200F\u27E9 \u27E8U+061C\u27E9alm");
    QVERIFY2(shown.contains(named), r.out.constData());
    QVERIFY2(!shown.contains(QChar(0xFFFD) + QString("exe.txt")), r.out.constData());
    QVERIFY2(shown.contains(QString::fromUtf8("title␛]0;pwned␇")) && shown.contains(QString::fromUtf8("clear␛[2J")) &&
                 shown.contains(QString::fromUtf8("gone␛]0;title␇")),
             r.out.constData());
    // The history list shows the configuration's name, and `history show` the texts.
    const auto at = r.out.indexOf("recorded as run ");
    QVERIFY(at >= 0);
    const QByteArray id = r.out.mid(at + 16).split(' ').first();
    for (const QStringList& args : {QStringList{"history"}, QStringList{"history", "show", QString::fromLatin1(id)}}) {
        r = in_pty(args);
        QCOMPARE(r.code, 0);
        QVERIFY2(!r.out.contains('\x1b') && !r.out.contains('\x07') && !r.out.contains("\xc2\x9b"), r.out.constData());
    }
    QVERIFY2(QString::fromUtf8(r.out).contains(QString::fromUtf8("evil␛]0;name␇")), r.out.constData());
    QVERIFY2(QString::fromUtf8(r.out).contains(named), r.out.constData()); // history show: the same names
    // --markdown on the terminal names them the same way.
    r = in_pty({"history", "show", QString::fromLatin1(id), "--markdown"});
    QCOMPARE(r.code, 0);
    QVERIFY2(QString::fromUtf8(r.out).contains(named), r.out.constData());
    // Into a pipe or a file the bytes are unchanged: --json keeps the model's text exactly.
    auto piped = run_moa({"run", "--config", f, "--prompt", "hi", "--json", "--no-history"});
    QCOMPARE(piped.code, 0);
    QVERIFY(piped.out.contains("\\u001b]52;c;c2VjcmV0"));
    QVERIFY(piped.out.contains("\u202eexe.txt\u202c"));
}

// `moa run ... | tee log` wrote the model's escapes raw into the log, to be obeyed by whichever
// terminal later shows it: the human-readable output (stdout and stderr) is filtered on pipes and
// files too; --json stays exact (its escapes are JSON-escaped), and --raw opts out.
void TestHostileInput::pipesGetNoRawEscapesUnlessRaw() {
    QTemporaryDir d;
    std::string n = nonce();
    auto j = config_json(server_->base_url(), {{"escapes?tag=PA-" + n, "status?code=404&message=gone%1B%5D0%3Btitle%07%1B%5B2J&tag=" + n},
                                               {"escapes?tag=PF-" + n}});
    j["name"] = "piped\x1b]0;name\x07\xc2\x9b";
    const QString f = write_file(d, "pipe.moa.json", QByteArray::fromStdString(j.dump(2)));
    auto env = QProcessEnvironment::systemEnvironment();
    env.insert("MOA_HISTORY_DB", d.filePath("h.sqlite"));
    auto clean = [](const QByteArray& b) {
        if (b.contains('\x1b') || b.contains('\x07') || b.contains("\xc2\x9b")) return false;
        for (const char* bidi : {"\u202e", "\u202c", "\u2066", "\u2069", "\u200e", "\u200f", "\u061c"})
            if (b.contains(bidi)) return false;
        return true;
    };
    auto r = run_moa({"run", "--config", f, "--prompt", "hi"}, {}, 60000, env); // stdout and stderr are pipes
    QCOMPARE(r.code, 0);
    QVERIFY2(clean(r.out), r.out.toHex().constData());
    QVERIFY2(clean(r.err), r.err.toHex().constData());
    QVERIFY2(QString::fromUtf8(r.out).contains(QString::fromUtf8("title␛]0;pwned␇")), r.out.constData());
    QVERIFY2(QString::fromUtf8(r.err).contains(QString::fromUtf8("gone␛]0;title␇")), r.err.constData());
    const auto at = r.out.indexOf("recorded as run ");
    QVERIFY(at >= 0);
    const QString id = QString::fromLatin1(r.out.mid(at + 16).split(' ').first());
    for (const QStringList& args : {QStringList{"history"}, QStringList{"history", "show", id}, QStringList{"history", "show", id, "--markdown"},
                                    QStringList{"history", "show", id, "--html"}}) {
        auto h = run_moa(args, {}, 60000, env);
        QCOMPARE(h.code, 0);
        QVERIFY2(clean(h.out), qPrintable(args.join(' ') + ": " + h.out.toHex()));
        // The page shows each bidirectional control, marked, where it was (it reordered the text,
        // Trojan Source style, inside <pre> and the answers); in the <title> without markup.
        if (args.contains("--html")) {
            const QString page = QString::fromUtf8(h.out);
            for (const char* cp : {"202E", "202C", "2066", "2069", "200E", "200F", "061C"})
                QVERIFY2(page.contains(QString::fromUtf8("<span class=\"ctl\" title=\"a bidirectional control character\">\u27E8U+") +
                                       cp + QString::fromUtf8("\u27E9</span>")),
                         cp);
            QVERIFY2(page.contains(QString::fromUtf8("\u27E8U+202E\u27E9</span>exe.txt")), h.out.constData());
        }
        // The terminal filter and the Markdown export name them as the page does (they were U+FFFD).
        if (!args.contains("--html") && args.contains("show"))
            QVERIFY2(QString::fromUtf8(h.out).contains(QString::fromUtf8("bidi \u27E8U+202E\u27E9exe.txt\u27E8U+202C\u27E9 \u27E8U+2066\u27E9iso"
                                                                         "\u27E8U+2069\u27E9 \u27E8U+200E\u27E9lrm\u27E8U+200F\u27E9 \u27E8U+061C\u27E9alm")),
                     qPrintable(args.join(' ') + ": " + h.out));
    }
    // --raw: the bytes as the model sent them.
    auto raw = run_moa({"run", "--config", f, "--prompt", "hi", "--raw", "--no-history"}, {}, 60000, env);
    QCOMPARE(raw.code, 0);
    QVERIFY(raw.out.contains("\x1b]0;pwned\x07"));
    QVERIFY(raw.out.contains("\u202eexe.txt\u202c"));
    auto show_raw = run_moa({"history", "show", id, "--raw"}, {}, 60000, env);
    QVERIFY(show_raw.out.contains("\x1b]0;pwned\x07"));
    // --json is exact and safe as it is.
    auto piped = run_moa({"run", "--config", f, "--prompt", "hi", "--json", "--no-history"}, {}, 60000, env);
    QCOMPARE(piped.code, 0);
    QVERIFY(piped.out.contains("\\u001b]0;pwned\\u0007"));
}

// Found after item 14: `moa eval` printed the reference configuration's name, and `moa stats` the
// generator named in an annotations file, with printf straight to the terminal (the stream filter
// guards std::cout and std::cerr only): an OSC 0 title got through.
void TestHostileInput::evalAndStatsShowNoRawEscapesOnATerminal() {
    QTemporaryDir d;
    const std::string url = server_->base_url();
    auto one = [&](const std::string& name, const std::string& model) {
        auto j = config_json(url, {{model}});
        j["name"] = name;
        return QByteArray::fromStdString(j.dump(2));
    };
    write_file(d, "a.moa.json", one("plain", "ok?tag=EA-" + nonce()));
    write_file(d, "ref.moa.json", one("ref\x1b]0;reftitle\x07", "ok?tag=ER-" + nonce()));
    write_file(d, "judge.moa.json", one("judge", "judge?tag=EJ-" + nonce()));
    const QString exp = write_file(d, "e.moa-experiment.json",
                                   QByteArray::fromStdString(nlohmann::json{{"schema", "moa-workbench/experiment@1"},
                                                                            {"name", "escapes"},
                                                                            {"configurations", {"a.moa.json"}},
                                                                            {"prompts", "starter"},
                                                                            {"sample", 2},
                                                                            {"reference", {{"configuration", "ref.moa.json"}}},
                                                                            {"judge", {{"config", "judge.moa.json"}, {"mode", "pairwise"}}}}
                                                                  .dump(2)));
    auto r = in_pty(d, {"eval", "--experiment", exp, "--db", d.filePath("e.sqlite")});
    QVERIFY2(r.code == 0, r.out.constData());
    // The progress bar's own "\r ESC [K" redraws the line; nothing else may start an escape.
    QVERIFY2(!r.out.replace("\r\x1b[K", "\r").contains('\x1b') && !r.out.contains('\x07'), r.out.constData());
    QVERIFY2(QString::fromUtf8(r.out).contains(QString::fromUtf8("reference: ref␛]0;reftitle␇")), r.out.constData());
    // An AlpacaEval annotations file whose generator is named with escapes.
    QFile in(QString(MOA_SHARED_DATA) + "/alpaca_eval/annotations/alpaca-7b.json");
    QVERIFY(in.open(QIODevice::ReadOnly));
    auto rows = nlohmann::json::parse(in.readAll().toStdString());
    for (auto& row : rows) row["generator_2"] = "gen\x1b]0;gentitle\x07";
    const QString ann = write_file(d, "ann.json", QByteArray::fromStdString(rows.dump()));
    r = in_pty(d, {"stats", "--annotations", ann});
    QVERIFY2(r.code == 0, r.out.constData());
    QVERIFY2(!r.out.contains('\x1b') && !r.out.contains('\x07'), r.out.constData());
    QVERIFY2(QString::fromUtf8(r.out).contains(QString::fromUtf8("gen␛]0;gentitle␇ (")), r.out.constData());
}

QTEST_GUILESS_MAIN(TestHostileInput)
#include "tst_hostile_input.moc"
