// SPDX-License-Identifier: MIT
// Keys stay secret: a run with a recognizable fake key (which the server does receive) leaves
// no trace of it in the history database, any export, the output or the logs, the config file,
// or the error messages, from `moa run` and from `moa serve`.
#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QtTest>

#include <cstdio>
#include <fstream>
#include <utility>

#include <QStringDecoder>

#include "providers/redact.h"
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

// The key as the hostile review saw providers echo it (issue 12 item 5).
std::string percent_encoded(const std::string& key, int mode) { // 0 upper hex, 1 lower, 2 mixed
    std::string out;
    char buf[4];
    for (std::size_t i = 0; i < key.size(); ++i) {
        std::snprintf(buf, sizeof buf, (mode == 1 || (mode == 2 && i % 2)) ? "%%%02x" : "%%%02X",
                      static_cast<unsigned char>(key[i]));
        out += buf;
    }
    return out;
}

// U+200B–U+200D, U+2060, U+FEFF and the soft hyphen between the characters, in turn.
std::string with_zero_width(const std::string& key) {
    static const char* zw[] = {"\u200B", "\u200C", "\u200D", "\u2060", "\uFEFF", "\u00AD"};
    std::string out;
    for (std::size_t i = 0; i < key.size(); ++i) {
        out += key[i];
        if (i + 1 < key.size()) out += zw[i % 6];
    }
    return out;
}

std::string fullwidth(const std::string& ascii) {
    return QString::fromStdU32String([&] {
               std::u32string u;
               for (char c : ascii) u += c >= 0x21 && c <= 0x7E ? static_cast<char32_t>(c) + 0xFEE0 : static_cast<char32_t>(c);
               return u;
           }())
        .toStdString();
}

bool valid_utf8(const std::string& s) {
    QStringDecoder d(QStringDecoder::Utf8);
    (void)QString(d(QByteArray::fromStdString(s)));
    return !d.hasError();
}

// Decoded as a reader would: zero-width characters and soft hyphens dropped, then percent-decoded.
QByteArray as_read(QByteArray b) {
    for (const char* zw : {"\u200B", "\u200C", "\u200D", "\u2060", "\uFEFF", "\u00AD"}) b.replace(zw, "");
    return QByteArray::fromPercentEncoding(b);
}
} // namespace

class TestSecrets : public QObject {
    Q_OBJECT
private slots:
    void fakeKeyLeavesNoTrace();
    void keyEchoedByTheServerIsRedactedEverywhere();
    void keyInAPromptIsRedactedBeforeItIsSent();
    void redactorCatchesEverySpelling();
    void streamedAnswerIsRedactedAcrossPieces();
    void percentEncodedKeyIsRedacted();
    void htmlReferencedKeyIsRedacted();
    void keyWithZeroWidthCharactersIsRedacted();
    void fullwidthKeyIsRedacted();
    void reversedSpacedHexAndBase64KeyIsRedacted();
    void encodedKeyIsRedactedAcrossStreamPieces();
    void dashLookAlikesAreRedacted();
    void keyFragmentsAreRedacted();
    void escapesAndMarkupInsideTheKeyAreRedacted();
    void ordinaryTextIsLeftAlone();
    void streamHoldsBackABoundedPart();
    void encodedEchoLeavesNoTraceEndToEnd();
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

// Issue 12 item 5: a gateway that echoes the Authorization header in its error body put the key
// on stderr (each retry line too), in --json, --events, the history and its exports.
void TestSecrets::keyEchoedByTheServerIsRedactedEverywhere() {
    QTemporaryDir dir;
    TestServer server;
    QVERIFY(server.ok());
    auto env = QProcessEnvironment::systemEnvironment();
    env.insert("MOA_SECRET_TEST_KEY", QString::fromLatin1(kKey));
    env.insert("MOA_HISTORY_DB", dir.filePath("history.sqlite"));
    env.insert("MOA_KNOWN_KEYS", dir.filePath("known-keys.json"));
    std::string n = nonce();
    // A retryable 500 (retried twice), a 401, and an error event inside a 200 stream, each echoing the key.
    auto j = config_json(server.base_url(),
                         {{"ok?tag=A-" + n, "echo-auth?code=500&tag=" + n, "echo-auth?code=401&tag=" + n,
                           "echo-auth-stream?tag=" + n, "echo-auth-text?tag=" + n},
                          {"ok?tag=F-" + n}},
                         {{"api_key_env", "MOA_SECRET_TEST_KEY"}, {"max_retries", 2}, {"retry_base_ms", 1}, {"retry_max_ms", 5}});
    const QString cfg = dir.filePath("echo.moa.json");
    std::ofstream(cfg.toStdString()) << j.dump(2);

    QByteArray everything;
    for (const QStringList& extra : {QStringList{}, QStringList{"--json"}, QStringList{"--events"}}) {
        auto r = run_moa(QStringList{"run", "--config", cfg, "--prompt", "Echo my key?"} + extra, {}, 60000, env);
        QCOMPARE(r.code, 0);
        everything += r.out + r.err;
        if (extra.isEmpty()) {
            QVERIFY2(r.err.contains("retry: L1.2 attempt 2") && r.err.contains("retry: L1.2 attempt 3"), r.err.constData());
            QVERIFY2(r.err.contains("denied Bearer [redacted]"), r.err.constData()); // the message is kept, the key is not
        }
    }
    for (const char* fmt : {"--json", "--markdown"}) {
        auto r = run_moa({"history", "show", "1", fmt}, {}, 60000, env);
        QCOMPARE(r.code, 0);
        everything += r.out + r.err;
        // An answer that quotes the key (cut across stream chunks) keeps its words, not the key.
        QVERIFY2(r.out.contains("You sent [redacted] and Bearer [redacted] end"), r.out.constData());
    }
    // Through moa serve, with the layers' deltas streamed to the client as they come.
    {
        ServeProcess serve({"--config", cfg}, env);
        QVERIFY(serve.ok());
        auto reply = http_request("POST", serve.url("/v1/chat/completions"),
                                  "{\"model\": \"test\", \"stream\": true, \"moa\": {\"include_layers\": true}, "
                                  "\"messages\": [{\"role\": \"user\", \"content\": \"serve?\"}]}");
        QCOMPARE(reply.status, 200L);
        QVERIFY2(reply.body.contains("[redacted]"), reply.body.constData());
        everything += reply.body + serve.output();
    }
    // The upstream really got the key, and echoed it back.
    QVERIFY(server.bearer(QString::fromStdString(n), QString::fromLatin1(kKey)).with_key >= 9);
    QVERIFY2(!everything.contains(kKey), "the key appeared in the output of moa");
    QVERIFY2(!everything.contains(kKey.left(16)), "a cut copy of the key appeared in the output of moa");
    const QStringList hits = files_with_key(dir.path());
    QVERIFY2(hits.isEmpty(), qPrintable("the key was found in: " + hits.join(", ")));
}

// Issue 12 item 6: with --allow-outside-files a template could hold every key of the environment
// (/proc/self/environ, now refused; any file the user allows can still hold one), and the
// aggregator's prompt sent it upstream and stored it. Every message of a run is redacted for
// every key the run resolved, before it is sent or recorded; each provider is named.
void TestSecrets::keyInAPromptIsRedactedBeforeItIsSent() {
    QTemporaryDir dir, elsewhere;
    TestServer server;
    QVERIFY(server.ok());
    const QByteArray other_key = "OTHERFAKEKEY-2b8e61d0c4a9-recognizable";
    auto env = QProcessEnvironment::systemEnvironment();
    env.insert("MOA_SECRET_TEST_KEY", QString::fromLatin1(kKey));
    env.insert("MOA_OTHER_TEST_KEY", QString::fromLatin1(other_key));
    env.insert("MOA_HISTORY_DB", dir.filePath("history.sqlite"));
    env.insert("MOA_KNOWN_KEYS", dir.filePath("known-keys.json"));
    std::string n = nonce();
    auto j = config_json(server.base_url(), {{"ok?tag=A-" + n}, {"ok?tag=F-" + n}}, {{"api_key_env", "MOA_SECRET_TEST_KEY"}});
    j["providers"]["other"] = j["providers"]["local"];
    j["providers"]["other"]["api_key_env"] = "MOA_OTHER_TEST_KEY";
    j["layers"][0]["agents"].push_back({{"provider", "other"}, {"model", "ok?tag=B-" + n}});
    const QString tpl = write_file(elsewhere, "environ.txt",
                                   "Merge these.\nMOA_SECRET_TEST_KEY=" + kKey + "\nAuthorization: Bearer " + kKey +
                                       "\nMOA_OTHER_TEST_KEY=" + other_key + "\n");
    j["aggregation"] = {{"template", tpl.toStdString()}};
    const QString cfg = write_file(dir, "keys.moa.json", QByteArray::fromStdString(j.dump(2)));
    auto r = run_moa({"run", "--config", cfg, "--prompt", "Mine is " + QString::fromLatin1(other_key), "--allow-outside-files", "--json"},
                     {}, 60000, env);
    QVERIFY2(r.code == 0, r.err.constData());
    QByteArray sent;
    int with_key = 0;
    for (const auto& q : server.requests()) {
        const QJsonObject o = q.toObject();
        if (!o["model"].toString().endsWith(QString::fromStdString(n))) continue;
        with_key += o["authorization"].toString() == "Bearer " + QString::fromLatin1(kKey);
        sent += QJsonDocument(o["body"].toObject()["messages"].toArray()).toJson();
    }
    QCOMPARE(with_key, 2); // the header still carries the key: only the text loses it
    QVERIFY2(!sent.contains(kKey) && !sent.contains(other_key), sent.constData());
    QVERIFY2(sent.contains("MOA_SECRET_TEST_KEY=[redacted: key of provider local]") &&
                 sent.contains("Authorization: Bearer [redacted: key of provider local]") &&
                 sent.contains("MOA_OTHER_TEST_KEY=[redacted: key of provider other]") &&
                 sent.contains("Mine is [redacted: key of provider other]"),
             sent.constData());
    QVERIFY2(!r.out.contains(kKey) && !r.out.contains(other_key), r.out.constData());
    for (const char* fmt : {"--json", "--markdown"}) {
        auto h = run_moa({"history", "show", "1", fmt}, {}, 60000, env);
        QCOMPARE(h.code, 0);
        QVERIFY2(!h.out.contains(kKey) && !h.out.contains(other_key) && h.out.contains("Mine is [redacted: key of provider other]"),
                 h.out.constData());
        if (QByteArray(fmt) == "--json") // the messages as sent
            QVERIFY2(h.out.contains("Authorization: Bearer [redacted: key of provider local]"), h.out.constData());
    }
    const QStringList hits = files_with_key(dir.path());
    QVERIFY2(hits.isEmpty(), qPrintable("the key was found in: " + hits.join(", ")));
}

void TestSecrets::redactorCatchesEverySpelling() {
    using moa::providers::redact_secret;
    const std::string key = "sk-live-0123456789abcdef/xyz";
    QCOMPARE(redact_secret("denied Bearer " + key + " here", key), std::string("denied Bearer [redacted] here"));
    QCOMPARE(redact_secret("authorization: bearer " + key, key), std::string("authorization: bearer [redacted]"));
    QCOMPARE(redact_secret("BEARER\tsome-other-token-123", key), std::string("BEARER\t[redacted]"));
    QCOMPARE(redact_secret("key=" + key + ";", key), std::string("key=[redacted];"));
    QCOMPARE(redact_secret("{\"k\": \"sk-live-0123456789abcdef\\/xyz\"}", key), std::string("{\"k\": \"[redacted]\"}"));
    QCOMPARE(redact_secret("cut sk-live-01234567…", key), std::string("cut [redacted]…"));
    // Echoed case-folded by a provider or proxy (the hostile review found the lower-cased key kept).
    const std::string mixed = "sk-test-SECRET123xyz";
    QCOMPARE(redact_secret("invalid key sk-test-secret123xyz.", mixed), std::string("invalid key [redacted]."));
    QCOMPARE(redact_secret("INVALID KEY SK-TEST-SECRET123XYZ.", mixed), std::string("INVALID KEY [redacted]."));
    // Prose stays readable: a short word after "Bearer", and text without the key, are kept.
    QCOMPARE(redact_secret("a Bearer token is required", key), std::string("a Bearer token is required"));
    QCOMPARE(redact_secret("sk-live is a prefix", key), std::string("sk-live is a prefix"));
    QCOMPARE(redact_secret("no key here", ""), std::string("no key here"));
    // URL-encoded (either case of hex), JSON-escaped, inside base64 at any alignment, and
    // "Bearer" as a URL or a form writes the space.
    const std::string odd = "sk-proj+Ab/9z=QxY7wT3kLm";
    QCOMPARE(redact_secret("url ?k=sk-proj%2BAb%2F9z%3DQxY7wT3kLm&x", odd), std::string("url ?k=[redacted]&x"));
    QCOMPARE(redact_secret("url sk-proj%2bAb%2f9z%3dQxY7wT3kLm", odd), std::string("url [redacted]"));
    QCOMPARE(redact_secret("{\"k\": \"sk-proj+Ab\\/9z=QxY7wT3kLm\"}", odd), std::string("{\"k\": \"[redacted]\"}"));
    QCOMPARE(redact_secret("h=Bearer%20other-token-12345 x", key), std::string("h=Bearer%20[redacted] x"));
    QCOMPARE(redact_secret("q=bearer+other-token-12345", key), std::string("q=bearer+[redacted]"));
    for (const std::string& before : {std::string("user:"), std::string("ab:"), std::string("x:")}) {
        const QByteArray b64 = QByteArray::fromStdString(before + odd + "@host").toBase64();
        const std::string out = redact_secret("Basic " + b64.toStdString(), odd);
        QVERIFY2(out.find("[redacted]") != std::string::npos, out.c_str());
        // What is left cannot be decoded to the key.
        QVERIFY(!QByteArray::fromBase64(QByteArray::fromStdString(out.substr(6))).contains(QByteArray::fromStdString(odd).left(8)));
        const QByteArray url = QByteArray::fromStdString(before + odd).toBase64(QByteArray::Base64UrlEncoding);
        QVERIFY(redact_secret(url.toStdString(), odd).find("[redacted]") != std::string::npos);
    }
}

// An answer that quotes the key, however the stream cuts it: nothing of it passes, and all the
// rest passes at once (only what could still become the key is held back).
void TestSecrets::streamedAnswerIsRedactedAcrossPieces() {
    using moa::providers::StreamRedactor;
    const std::string key = "sk-live-0123456789abcdef/xyz";
    const std::string text = "first part, then " + key + " and sk-live-012 then " + key + "!";
    for (std::size_t cut1 = 0; cut1 <= text.size(); cut1 += 3)
        for (std::size_t cut2 = cut1; cut2 <= text.size(); cut2 += 5) {
            StreamRedactor r(key);
            std::string out = r.feed(text.substr(0, cut1));
            out += r.feed(text.substr(cut1, cut2 - cut1));
            out += r.feed(text.substr(cut2));
            out += r.flush();
            QCOMPARE(out, std::string("first part, then [redacted] and sk-live-012 then [redacted]!"));
        }
    StreamRedactor r(key);
    QCOMPARE(r.feed("Hello, "), std::string("Hello, ")); // nothing held: it cannot be the key
    QCOMPARE(r.feed("see sk-li"), std::string("see "));  // could be
    QCOMPARE(r.feed("ghtly"), std::string("sk-lightly"));
    StreamRedactor none("");
    QCOMPARE(none.feed("sk-live-0123456789abcdef/xyz"), std::string("sk-live-0123456789abcdef/xyz"));
}

// (a) Issue 12 item 5, hostile review: a key echoed fully percent-encoded (either case of hex,
// mixed) or with some characters encoded was shown and stored as it came.
void TestSecrets::percentEncodedKeyIsRedacted() {
    using moa::providers::redact_secret;
    const std::string key = "sk-test-Q7vX2mL9pR4tK8wZ";
    for (int mode = 0; mode < 3; ++mode)
        QCOMPARE(redact_secret("denied " + percent_encoded(key, mode) + " end", key), std::string("denied [redacted] end"));
    // Partly encoded: some characters as %XX, the rest as they are.
    const std::string partly = "%73k-te%73t-Q7vX%32mL9pR4tK8w%5a";
    QCOMPARE(redact_secret("key=" + partly + "&x=1", key), std::string("key=[redacted]&x=1"));
    // Percent-encoded UTF-8 of a zero-width space between the characters, too.
    QCOMPARE(redact_secret("k=sk-test-%E2%80%8BQ7vX2mL9pR4tK8wZ;", key), std::string("k=[redacted];"));
    moa::providers::KeyRedactor label(key, "[redacted: key of provider p]");
    QCOMPARE(label("in a prompt: " + percent_encoded(key, 2)), std::string("in a prompt: [redacted: key of provider p]"));
}

// (b) As HTML character references: decimal, hex (either case of x), named (&sol; &lowbar;), mixed with text.
void TestSecrets::htmlReferencedKeyIsRedacted() {
    using moa::providers::redact_secret;
    const std::string key = "sk-test-Q7vX2mL9/pR4_tK8wZ";
    std::string dec, hex, mixed;
    for (std::size_t i = 0; i < key.size(); ++i) {
        const int c = static_cast<unsigned char>(key[i]);
        dec += "&#" + std::to_string(c) + ";";
        char buf[16];
        std::snprintf(buf, sizeof buf, i % 2 ? "&#x%x;" : "&#X%02X;", c);
        hex += buf;
        mixed += key[i] == '/' ? std::string("&sol;") : key[i] == '_' ? std::string("&lowbar;") : i % 3 ? std::string(1, key[i]) : "&#" + std::to_string(c) + ";";
    }
    for (const std::string& form : {dec, hex, mixed})
        QCOMPARE(redact_secret("<p>denied " + form + "</p>", key), std::string("<p>denied [redacted]</p>"));
    // Inside an HTML error page with &amp; around it, the rest of the page is kept.
    QCOMPARE(redact_secret("a &amp; b: " + dec + " &lt;end&gt;", key), std::string("a &amp; b: [redacted] &lt;end&gt;"));
}

// (c) With zero-width characters (U+200B–U+200D, U+2060, U+FEFF) or soft hyphens between the
// characters: the whole span, those characters included, is replaced; no code point is cut.
void TestSecrets::keyWithZeroWidthCharactersIsRedacted() {
    using moa::providers::redact_secret;
    const std::string key = "sk-test-Q7vX2mL9pR4tK8wZ";
    const std::string zw = with_zero_width(key);
    QVERIFY(zw.size() > key.size() + 2 * (key.size() - 1)); // they are really there
    const std::string out = redact_secret("é denied " + zw + " — ok", key);
    QCOMPARE(out, std::string("é denied [redacted] — ok"));
    QVERIFY(valid_utf8(out));
    // Only soft hyphens, as a hyphenating proxy would insert them.
    std::string shy;
    for (char c : key) shy += std::string(1, c) + "\u00AD";
    QCOMPARE(redact_secret(shy, key), std::string("[redacted]\u00AD"));
}

// (d) In fullwidth forms (U+FF01–U+FF5E), whole or in part.
void TestSecrets::fullwidthKeyIsRedacted() {
    using moa::providers::redact_secret;
    const std::string key = "sk-test-Q7vX2mL9pR4tK8wZ";
    QCOMPARE(fullwidth("sk-test"), std::string("ｓｋ－ｔｅｓｔ"));
    const std::string out = redact_secret("鍵は" + fullwidth(key) + "です", key);
    QCOMPARE(out, std::string("鍵は[redacted]です"));
    QVERIFY(valid_utf8(out));
    QCOMPARE(redact_secret("half " + fullwidth(key.substr(0, 10)) + key.substr(10), key), std::string("half [redacted]"));
}

// (e) As some error bodies show it: reversed, space-separated, hex-encoded (either case), and in
// base64 of the key or of "Bearer KEY" (what is left of the base64 cannot be decoded to the key).
void TestSecrets::reversedSpacedHexAndBase64KeyIsRedacted() {
    using moa::providers::redact_secret;
    const std::string key = "sk-test-Q7vX2mL9pR4tK8wZ";
    QCOMPARE(redact_secret("got " + std::string(key.rbegin(), key.rend()) + ".", key), std::string("got [redacted]."));
    std::string spaced;
    for (char c : key) spaced += std::string(1, c) + " ";
    QCOMPARE(redact_secret("got " + spaced + "end", key), std::string("got [redacted] end"));
    const QByteArray hex = QByteArray::fromStdString(key).toHex();
    QCOMPARE(redact_secret("hex " + hex.toStdString() + ".", key), std::string("hex [redacted]."));
    QCOMPARE(redact_secret("HEX " + hex.toUpper().toStdString() + ".", key), std::string("HEX [redacted]."));
    for (const std::string& plain : {key, "Bearer " + key}) {
        for (auto opt : {QByteArray::Base64Encoding, QByteArray::Base64UrlEncoding}) {
            const std::string b64 = QByteArray::fromStdString(plain).toBase64(opt).toStdString();
            const std::string out = redact_secret("b64 " + b64 + " end", key);
            QVERIFY2(out.find("[redacted]") != std::string::npos && out.find(b64) == std::string::npos, out.c_str());
            QVERIFY2(!QByteArray::fromBase64(QByteArray::fromStdString(out.substr(4)), opt).contains(QByteArray::fromStdString(key).left(8)),
                     out.c_str());
        }
    }
}

// Every encoded form, however a stream cuts it: the same text as redacting it whole.
void TestSecrets::encodedKeyIsRedactedAcrossStreamPieces() {
    using moa::providers::StreamRedactor;
    const std::string key = "sk-test-Q7vX2mL9pR4tK8wZ";
    const std::string text = "a " + percent_encoded(key, 2) + " b " + with_zero_width(key) + " c &#x73;&#107;-test-Q7vX2mL9pR4tK8wZ d " +
                             fullwidth(key) + " é!";
    const std::string want = "a [redacted] b [redacted] c [redacted] d [redacted] é!";
    QCOMPARE(moa::providers::redact_secret(text, key), want);
    for (std::size_t cut1 = 0; cut1 <= text.size(); cut1 += 2)
        for (std::size_t cut2 = cut1; cut2 <= text.size(); cut2 += 7) {
            StreamRedactor r(key);
            std::string out;
            for (const std::string& piece : {r.feed(text.substr(0, cut1)), r.feed(text.substr(cut1, cut2 - cut1)),
                                             r.feed(text.substr(cut2)), r.flush()}) {
                out += piece;
            }
            QCOMPARE(out, want);
        }
}

// No false positives: ordinary text with percent signs, references, blanks, zero-width and
// fullwidth characters and hex comes out as it went in; keys shorter than 8 bytes are matched
// only as written (today's rule: 4 to 7 bytes as written and in the spellings of
// redactorCatchesEverySpelling; under 4 only after "Bearer ").
// Hostile review, round 10: the key echoed with its "-" written as another dash (U+2011 and the
// like) or as "_" was shown whole.
void TestSecrets::dashLookAlikesAreRedacted() {
    using moa::providers::redact_secret;
    const std::string key = "sk-test-SECRET123abcdefXYZ";
    for (const char* dash : {"\u2011", "\u2010", "\u2212", "\u2013", "\u2014", "\uFE63", "\uFE58", "\u2043", "_", "\u2012",
                             "\u2015"}) {
        std::string echoed = key;
        for (std::size_t at; (at = echoed.find('-')) != std::string::npos;) echoed.replace(at, 1, dash);
        QCOMPARE(redact_secret("echo: " + echoed + " done", key), std::string("echo: [redacted] done"));
        moa::providers::StreamRedactor r(key);
        std::string out;
        for (char c : "echo: " + echoed + " done") out += r.feed(std::string(1, c)); // byte by byte
        out += r.flush();
        QCOMPARE(out, std::string("echo: [redacted] done"));
    }
    // A key written with "_" is found when echoed with "-", and the other way round.
    QCOMPARE(redact_secret("x sk-test-SECRET123abcdefXYZ y", "sk_test_SECRET123abcdefXYZ"), std::string("x [redacted] y"));
}

// Hostile review, round 10: a part of the key from its end or its middle (the last 13
// characters, "SECRET123abc") passed; only runs of its first bytes were caught.
void TestSecrets::keyFragmentsAreRedacted() {
    using moa::providers::redact_secret;
    const std::string key = "sk-test-SECRET123abcdefXYZ";
    for (const std::string& part : {key.substr(key.size() - 13), key.substr(8, 12), key.substr(5, 15), key.substr(9, 12),
                                    std::string("secret123abcdefxyz"), std::string("T_SECRET123ab")}) {
        QCOMPARE(redact_secret("a " + part + " b", key), std::string("a [redacted] b"));
        QCOMPARE(redact_secret("a" + part + "b", key), std::string("a[redacted]b"));
    }
    QCOMPARE(redact_secret("two: SECRET123abc and 123abcdefXYZ.", key), std::string("two: [redacted] and [redacted]."));
    QCOMPARE(redact_secret("eleven: ECRET123abc", key), std::string("eleven: ECRET123abc")); // shorter than 12: a word
    // Across the pieces of a stream, however it is cut: no 12 characters of the key pass.
    const std::string text = "the tail is " + key.substr(key.size() - 13) + " and the middle " + key.substr(8, 12) + ".";
    for (std::size_t cut = 0; cut <= text.size(); ++cut) {
        moa::providers::StreamRedactor r(key);
        std::string out = r.feed(text.substr(0, cut));
        out += r.feed(text.substr(cut));
        out += r.flush();
        QVERIFY2(out.find("123abcdef") == std::string::npos && out.find("CRET123") == std::string::npos, out.c_str());
        QVERIFY2(out.starts_with("the tail is ") && out.ends_with("."), out.c_str());
    }
    // Linear: a megabyte of near-misses (11 characters of the key, again and again).
    std::string big;
    while (big.size() < (1u << 20)) big += key.substr(8, 11) + " ";
    QCOMPARE(redact_secret(big, key), big);
}

// Hostile review, round 10: terminal escapes, empty HTML tags and Unicode tag characters inside
// the key hid it; what a terminal or a browser shows of them is the key.
void TestSecrets::escapesAndMarkupInsideTheKeyAreRedacted() {
    using moa::providers::redact_secret;
    const std::string key = "sk-test-SECRET123abcdefXYZ";
    const std::string spellings[] = {
        "sk-test-SE\x1b[1mCRET\x1b[0m123abcdefXYZ",
        "sk-test-SECRET\x1b[38;5;196m123abcdef\x1b[0mXYZ",
        "sk-test-\x1b]8;;http://x/\x07SECRET123\x1b]8;;\x1b\\abcdefXYZ",
        "sk-test-SE<b></b>CRET123abcdefXYZ",
        "sk-test-<span class=\"k\">SECRET</span>123abc<i>def</i>XYZ",
    };
    for (const std::string& s : spellings)
        QCOMPARE(redact_secret("before " + s + " after", key), std::string("before [redacted] after"));
    std::string tagged; // every character as its Unicode tag character (U+E0000 + ASCII): invisible
    for (char c : key) {
        const char32_t cp = 0xE0000 + static_cast<unsigned char>(c);
        tagged += static_cast<char>(0xF0 | (cp >> 18));
        tagged += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        tagged += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        tagged += static_cast<char>(0x80 | (cp & 0x3F));
    }
    QCOMPARE(redact_secret("before " + tagged + " after", key), std::string("before [redacted] after"));
    moa::providers::StreamRedactor r(key);
    std::string out;
    for (char c : "before " + spellings[0] + " after") out += r.feed(std::string(1, c));
    out += r.flush();
    QCOMPARE(out, std::string("before [redacted] after"));
}

void TestSecrets::ordinaryTextIsLeftAlone() {
    using moa::providers::redact_secret;
    const std::string key = "sk-test-Q7vX2mL9pR4tK8wZ";
    const std::string prose = "50% of 100%ABC; a &amp; b &#8212; c &lt;tag&gt; &#x2F;; \\u0041\\/ s k - t e s t ｓｋ－ｔｅｓｔ "
                              "\u200Bsk-\u200Btest\u00AD 736b2d74657374 c2stdGVzdA== tset-ks sk-test-Q7v é 鍵 %E2%80 &#99999999999; %";
    QCOMPARE(redact_secret(prose, key), prose);
    QCOMPARE(redact_secret(prose.substr(0, 60), key), prose.substr(0, 60));
    // Underscores, dashes of every kind, markup, escapes and long words: none of it is a part of the key.
    const std::string more = "snake_case_variable_name sk_test_Q7v sk\u2011test\u2011Q7v \u2014 an em dash \u2014 a\u2013b "
                             "<b>bold</b> <span class=\"x\">internationalisation</span> a < b > c \x1b[1mresponsibilities\x1b[0m "
                             "Q7vX2mL9pR4; tK8wZ_Q7vX2m pR4tK8wZ-test-sk \U000E0041\U000E0042 <<>> <a href=x>";
    QCOMPARE(redact_secret(more, key), more);
    moa::providers::StreamRedactor stream(key);
    std::string out;
    for (char c : more) out += stream.feed(std::string(1, c));
    out += stream.flush();
    QCOMPARE(out, more);
    const std::string shorty = "ab-1234";
    QCOMPARE(redact_secret("x ab-1234 y", shorty), std::string("x [redacted] y"));
    QCOMPARE(redact_secret("a b - 1 2 3 4, %61b-1234, 4321-ba", shorty), std::string("a b - 1 2 3 4, %61b-1234, 4321-ba"));
}

// A stream that pads a key's first character with zero-width characters for ever does not make
// the redactor hold back (and search again) an ever longer text.
void TestSecrets::streamHoldsBackABoundedPart() {
    moa::providers::StreamRedactor r("sk-test-Q7vX2mL9pR4tK8wZ");
    std::size_t in = 0, out = 0, most_held = 0;
    for (const std::string& first : {std::string("s"), std::string("%73"), std::string("&#115;")}) {
        in += first.size();
        out += r.feed(first).size();
        for (int i = 0; i < 20000; ++i) {
            in += 3;
            out += r.feed("\u200B").size();
            most_held = std::max(most_held, in - out);
        }
    }
    QVERIFY2(most_held < 4096, qPrintable(QString::number(most_held)));
    QVERIFY(valid_utf8(r.flush()));
}

// Issue 12 item 5, end to end: an upstream whose 401 body echoes the key percent-encoded (mixed
// case, whole and in part) and with zero-width characters between its characters. No form of
// the key is in `moa run --json`'s output, its stderr or the history file's bytes.
void TestSecrets::encodedEchoLeavesNoTraceEndToEnd() {
    QTemporaryDir dir;
    TestServer server;
    QVERIFY(server.ok());
    auto env = QProcessEnvironment::systemEnvironment();
    env.insert("MOA_SECRET_TEST_KEY", QString::fromLatin1(kKey));
    env.insert("MOA_HISTORY_DB", dir.filePath("history.sqlite"));
    env.insert("MOA_KNOWN_KEYS", dir.filePath("known-keys.json"));
    std::string n = nonce();
    auto j = config_json(server.base_url(), {{"ok?tag=A-" + n, "echo-auth-encoded?code=401&tag=" + n}, {"ok?tag=F-" + n}},
                         {{"api_key_env", "MOA_SECRET_TEST_KEY"}});
    const QString cfg = write_file(dir, "encoded.moa.json", QByteArray::fromStdString(j.dump(2)));
    auto r = run_moa({"run", "--config", cfg, "--prompt", "Echo my key encoded?", "--json"}, {}, 60000, env);
    QVERIFY2(r.code == 0, r.err.constData());
    QVERIFY(server.bearer(QString::fromStdString(n), QString::fromLatin1(kKey)).with_key >= 1); // it was sent
    QVERIFY2(r.err.contains("denied [redacted]; as sent: [redacted]; partly [redacted]"), r.err.constData());
    const std::string key = kKey.toStdString();
    const QList<QByteArray> forms{kKey,
                                  QByteArray::fromStdString(percent_encoded(key, 2)).mid(3 * 6),
                                  QByteArray::fromStdString(percent_encoded(key, 0)).mid(3 * 6),
                                  QByteArray::fromStdString(percent_encoded(key, 1)).mid(3 * 6),
                                  kKey.left(16)};
    QByteArray history;
    QDirIterator it(dir.path(), QDir::Files | QDir::Hidden);
    while (it.hasNext()) {
        QFile f(it.next());
        if (f.fileName().contains("history") && f.open(QIODevice::ReadOnly)) history += f.readAll();
    }
    QVERIFY(history.size() > 0 && history.contains("denied [redacted]")); // the message was stored, without the key
    for (const auto& [where, bytes] : {std::pair{"--json output", r.out}, std::pair{"stderr", r.err}, std::pair{"history file", history}}) {
        const QByteArray read = as_read(bytes);
        for (const auto& f : forms) {
            QVERIFY2(!bytes.contains(f), qPrintable(QString(where) + " holds " + f));
            QVERIFY2(!read.contains(f.left(16)), qPrintable(QString(where) + " holds the key once decoded"));
        }
    }
}

QTEST_GUILESS_MAIN(TestSecrets)
#include "tst_secrets.moc"
