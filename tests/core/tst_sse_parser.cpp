// SPDX-License-Identifier: MIT
// The SSE parser and the chat-stream decoder against real recorded provider streams
// (../shared/data/provider_streams, read in place) and the edge cases real providers produce.
#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QtTest>

#include <random>

#include "net/sse_parser.h"
#include "providers/chat_stream.h"
#include "util/json_guard.h"
#include "util/text.h"

using moa::net::SseParser;
using moa::providers::ChatStreamDecoder;

namespace {

struct Decoded {
    std::string text, reasoning, error;
    bool ok = true;
    ChatStreamDecoder* dec = nullptr;
};

// Feeds `body` in pieces of `piece` bytes (0 = all at once, -1 = random sizes).
struct Pipeline {
    std::string text, reasoning;
    ChatStreamDecoder dec{[this](std::string_view c, std::string_view r) {
        text.append(c);
        reasoning.append(r);
    }};
    bool failed = false;
    SseParser parser{[this](const SseParser::Event& e) {
        if (!failed && !dec.on_data(e.data)) failed = true;
    }};
    void run(const std::string& body, int piece, unsigned seed = 1) {
        std::mt19937 rng(seed);
        std::size_t i = 0;
        while (i < body.size() && !failed) {
            std::size_t n = piece == 0 ? body.size() : piece > 0 ? static_cast<std::size_t>(piece) : 1 + rng() % 64;
            n = std::min(n, body.size() - i);
            parser.feed(std::string_view(body).substr(i, n));
            i += n;
        }
        if (!failed) parser.finish();
    }
};

std::string read_all(const QString& path) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) return {};
    QByteArray b = f.readAll();
    return std::string(b.constData(), static_cast<std::size_t>(b.size()));
}

QString streams_dir() { return QStringLiteral(MOA_SHARED_DATA "/provider_streams/streams"); }

} // namespace

class TestSse : public QObject {
    Q_OBJECT
private slots:
    void recordedStreamsDecodeAsRecorded_data();
    void recordedStreamsDecodeAsRecorded();
    void lineEndingsAndSplits_data();
    void lineEndingsAndSplits();
    void utf8IsCheckedByteForByte();
    void multipleDataLinesJoinWithNewline();
    void commentsAndEventFieldsAreHandled();
    void lastEventWithoutBlankLineIsDelivered();
    void oversizedLineFailsWithBound();
    void malformedJsonFailsQuotingTheLine();
    void errorObjectInsideStreamFails();
    void choicesNullAndEmptyAreUsageOnly();
    void usageOnLastContentChunk();
    void streamWithoutDoneButFinishReasonIsComplete();
    void streamWithNeitherIsIncomplete();
    void nonStreamingBodyDecodes();
    void errorBodiesGiveProviderMessages_data();
    void errorBodiesGiveProviderMessages();
    void jsonGuardCountsDepthOutsideStrings();
    void deepValuesFailWithoutADom();
    void errorMessagesAreBuiltFromScalarsOnly();
    void absurdUsageIsNotBelieved_data();
    void absurdUsageIsNotBelieved();
};

void TestSse::recordedStreamsDecodeAsRecorded_data() {
    QTest::addColumn<QString>("name");
    QTest::addColumn<int>("piece");
    QDir d(streams_dir());
    const auto files = d.entryList({"*.sse"}, QDir::Files, QDir::Name);
    QVERIFY2(files.size() >= 25, "the recorded streams in ../shared/data/provider_streams are missing");
    for (const auto& f : files) {
        QString name = f.chopped(4);
        for (int piece : {0, 1, 7, -1})
            QTest::addRow("%s/%d", qPrintable(name), piece) << name << piece;
    }
}

void TestSse::recordedStreamsDecodeAsRecorded() {
    QFETCH(QString, name);
    QFETCH(int, piece);
    const QString base = streams_dir() + "/" + name;
    std::string body = read_all(base + ".sse");
    QVERIFY(!body.empty());
    auto expected = QJsonDocument::fromJson(QByteArray::fromStdString(read_all(base + ".expected.json"))).object();
    std::string expected_text = read_all(base + ".expected.txt");

    Pipeline p;
    p.run(body, piece, static_cast<unsigned>(qHash(name)));

    const bool has_error = expected.contains("error") && !expected["error"].isNull();
    if (has_error) {
        QVERIFY2(p.failed, "an error object inside the stream must fail the agent");
        QString msg = expected["error"].toObject()["message"].toString();
        if (expected["error"].isArray()) msg = expected["error"].toArray()[0].toObject()["message"].toString();
        QVERIFY2(QString::fromStdString(p.dec.error()).contains(msg.left(40)), p.dec.error().c_str());
        return;
    }
    QVERIFY2(!p.failed, p.dec.error().c_str());
    QCOMPARE(QString::fromStdString(p.text), QString::fromStdString(expected_text));
    if (expected.contains("reasoning"))
        QCOMPARE(QString::fromStdString(p.reasoning), expected["reasoning"].toString());
    else
        QCOMPARE(QString::fromStdString(p.reasoning), QString());
    QCOMPARE(p.dec.done(), expected["done"].toBool());
    if (expected["finish_reason"].isNull()) QVERIFY(!p.dec.finish_reason().has_value());
    else QCOMPARE(QString::fromStdString(p.dec.finish_reason().value_or("")), expected["finish_reason"].toString());
    if (expected["usage"].isObject()) {
        QVERIFY(p.dec.usage().has_value());
        auto u = expected["usage"].toObject();
        QCOMPARE(p.dec.usage()->prompt_tokens, static_cast<long>(u["prompt_tokens"].toInteger()));
        QCOMPARE(p.dec.usage()->completion_tokens, static_cast<long>(u["completion_tokens"].toInteger()));
    } else {
        QVERIFY(!p.dec.usage().has_value());
    }
}

void TestSse::lineEndingsAndSplits_data() {
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<int>("piece");
    const QByteArray lf = "data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\ndata: "
                          "{\"choices\":[{\"delta\":{\"content\":\"b\"},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n";
    QByteArray crlf = lf;
    crlf.replace("\n", "\r\n");
    QByteArray cr = lf;
    cr.replace("\n", "\r");
    for (int piece : {0, 1, 2, 3, 5})
        QTest::addRow("lf/%d", piece) << lf << piece, QTest::addRow("crlf/%d", piece) << crlf << piece,
            QTest::addRow("cr/%d", piece) << cr << piece;
}

void TestSse::lineEndingsAndSplits() {
    QFETCH(QByteArray, body);
    QFETCH(int, piece);
    Pipeline p;
    p.run(body.toStdString(), piece);
    QVERIFY(!p.failed);
    QCOMPARE(QString::fromStdString(p.text), QStringLiteral("ab"));
    QVERIFY(p.dec.done());
    QCOMPARE(p.parser.events(), std::size_t(3));
}

void TestSse::multipleDataLinesJoinWithNewline() {
    std::vector<std::string> got;
    SseParser parser([&](const SseParser::Event& e) { got.emplace_back(e.data); });
    parser.feed("data: {\"a\":\ndata:1}\n\ndata:x\n\n");
    QCOMPARE(got.size(), std::size_t(2));
    QCOMPARE(QString::fromStdString(got[0]), QStringLiteral("{\"a\":\n1}"));
    QCOMPARE(QString::fromStdString(got[1]), QStringLiteral("x")); // no space after the colon is fine
    // A JSON object split over two data lines decodes.
    Pipeline p;
    p.run("data: {\"choices\":[{\"delta\":\ndata: {\"content\":\"hi\"},\"finish_reason\":\"stop\"}]}\n\n", 0);
    QVERIFY(!p.failed);
    QCOMPARE(QString::fromStdString(p.text), QStringLiteral("hi"));
}

void TestSse::commentsAndEventFieldsAreHandled() {
    std::vector<std::string> events;
    SseParser parser([&](const SseParser::Event& e) { events.emplace_back(std::string(e.event) + "|" + std::string(e.data)); });
    parser.feed(": OPENROUTER PROCESSING\n\n: another\nevent: message\ndata: 1\nid: 7\nretry: 100\n\n");
    QCOMPARE(parser.comments(), std::size_t(2));
    QCOMPARE(events.size(), std::size_t(1));
    QCOMPARE(QString::fromStdString(events[0]), QStringLiteral("message|1"));
}

void TestSse::lastEventWithoutBlankLineIsDelivered() {
    Pipeline p;
    p.run("data: {\"choices\":[{\"delta\":{\"content\":\"end\"},\"finish_reason\":\"length\"}]}", 0);
    QVERIFY(!p.failed);
    QCOMPARE(QString::fromStdString(p.text), QStringLiteral("end"));
    QVERIFY(p.dec.complete());
}

void TestSse::oversizedLineFailsWithBound() {
    int events = 0;
    SseParser parser([&](const SseParser::Event&) { ++events; }, 1024);
    std::string big(4096, 'x');
    QVERIFY(!parser.feed("data: " + big));
    QVERIFY(parser.failed());
    QVERIFY(QString::fromStdString(parser.error()).contains("1024"));
    QCOMPARE(events, 0);
}

void TestSse::malformedJsonFailsQuotingTheLine() {
    Pipeline p;
    p.run("data: {\"choices\":[{\"delta\":{\"content\":\"ok\"}}]}\n\ndata: {\"choices\": [{\"delta\": broken\n\n"
          "data: {\"choices\":[{\"delta\":{\"content\":\"never\"}}]}\n\n", 0);
    QVERIFY(p.failed);
    QCOMPARE(QString::fromStdString(p.text), QStringLiteral("ok"));
    QVERIFY2(QString::fromStdString(p.dec.error()).contains("not valid JSON"), p.dec.error().c_str());
    QVERIFY2(QString::fromStdString(p.dec.error()).contains("{\"choices\": [{\"delta\": broken"), p.dec.error().c_str());
}

void TestSse::errorObjectInsideStreamFails() {
    Pipeline p;
    p.run("data: {\"choices\":[{\"delta\":{\"content\":\"par\"}}]}\n\n"
          "data: {\"error\":{\"message\":\"Provider returned error\",\"code\":502}}\n\n", 0);
    QVERIFY(p.failed);
    QVERIFY(QString::fromStdString(p.dec.error()).contains("Provider returned error"));
    QVERIFY(QString::fromStdString(p.dec.error()).contains("502"));
}

void TestSse::choicesNullAndEmptyAreUsageOnly() {
    Pipeline p;
    p.run("data: {\"choices\":null,\"usage\":null}\n\ndata: {\"choices\":[{\"delta\":{\"content\":\"x\"},"
          "\"finish_reason\":\"stop\"}]}\n\ndata: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1}}\n\n"
          "data: [DONE]\n\n", 0);
    QVERIFY(!p.failed);
    QCOMPARE(p.dec.usage()->prompt_tokens, 3L);
    QCOMPARE(p.dec.usage()->completion_tokens, 1L);
}

void TestSse::usageOnLastContentChunk() {
    Pipeline p;
    p.run("data: {\"choices\":[{\"delta\":{\"content\":\"x\"},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":9,"
          "\"completion_tokens\":2}}\n\ndata: [DONE]\n\n", 0);
    QCOMPARE(p.dec.usage()->prompt_tokens, 9L);
    p = {};
}

// A hostile or broken server's token counts: 1e308 used to be cast to long (undefined behaviour:
// -9223372036854775808 tokens), and a negative count made a negative cost that defeats budgets.
// Such usage is dropped (the tokens are then estimated and marked so), on the fast path and the DOM path.
void TestSse::absurdUsageIsNotBelieved_data() {
    QTest::addColumn<QString>("usage");
    QTest::addRow("huge") << R"({"prompt_tokens":1e308,"completion_tokens":3})";
    QTest::addRow("negative") << R"({"prompt_tokens":9,"completion_tokens":-5})";
    QTest::addRow("fraction") << R"({"prompt_tokens":9.5,"completion_tokens":2})";
    QTest::addRow("past 10^12") << R"({"prompt_tokens":9,"completion_tokens":2000000000000})";
}

void TestSse::absurdUsageIsNotBelieved() {
    QFETCH(QString, usage);
    for (const char* extra : {"", ",\"x_other\":[1]"}) { // the second takes the DOM path
        Pipeline p;
        p.run("data: {\"choices\":[{\"delta\":{\"content\":\"x\"},\"finish_reason\":\"stop\"}],\"usage\":" +
                  usage.toStdString() + extra + "}\n\ndata: [DONE]\n\n",
              0);
        QVERIFY2(!p.dec.usage().has_value(), qPrintable(usage));
        QCOMPARE(p.text, std::string("x"));
    }
    Pipeline ok;
    ok.run("data: {\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":0}}\n\ndata: [DONE]\n\n", 0);
    QVERIFY(ok.dec.usage().has_value());
    QCOMPARE(ok.dec.usage()->completion_tokens, 0L);
}

void TestSse::streamWithoutDoneButFinishReasonIsComplete() {
    Pipeline p;
    p.run("data: {\"choices\":[{\"delta\":{\"content\":\"x\"},\"finish_reason\":\"length\"}]}\n\n", 0);
    QVERIFY(!p.dec.done());
    QVERIFY(p.dec.complete());
}

void TestSse::streamWithNeitherIsIncomplete() {
    Pipeline p;
    p.run("data: {\"choices\":[{\"delta\":{\"content\":\"x\"},\"finish_reason\":null}]}\n\n", 0);
    QVERIFY(!p.failed);
    QVERIFY(!p.dec.complete());
}

void TestSse::nonStreamingBodyDecodes() {
    std::string text;
    ChatStreamDecoder dec([&](std::string_view c, std::string_view) { text.append(c); });
    QVERIFY(dec.on_body("{\"choices\":[{\"message\":{\"role\":\"assistant\",\"content\":\"whole\"},"
                        "\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":1}}"));
    QCOMPARE(QString::fromStdString(text), QStringLiteral("whole"));
    QCOMPARE(dec.usage()->prompt_tokens, 5L);
    QVERIFY(dec.complete());
}

void TestSse::errorBodiesGiveProviderMessages_data() {
    QTest::addColumn<QString>("file");
    QDir d(QStringLiteral(MOA_SHARED_DATA "/provider_streams/errors"));
    for (const auto& f : d.entryList({"*.json"}, QDir::Files, QDir::Name)) QTest::newRow(qPrintable(f)) << d.filePath(f);
}

void TestSse::errorBodiesGiveProviderMessages() {
    QFETCH(QString, file);
    std::string body = read_all(file);
    std::string msg = moa::providers::error_message_from_body(body);
    QVERIFY(!msg.empty());
    QVERIFY2(msg != "no message in the response body", msg.c_str());
    // Whatever the shape, the message is the provider's own words, not a JSON dump.
    QVERIFY2(msg.rfind("{", 0) != 0, msg.c_str());
}

void TestSse::utf8IsCheckedByteForByte() {
    using moa::text::invalid_utf8_at;
    const auto npos = std::string_view::npos;
    QCOMPARE(invalid_utf8_at("plain ascii"), npos);
    QCOMPARE(invalid_utf8_at("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"), npos); // é € 😀
    QCOMPARE(invalid_utf8_at("ab\xFF"), std::size_t(2));            // never in UTF-8
    QCOMPARE(invalid_utf8_at("a\x80"), std::size_t(1));             // stray continuation byte
    QCOMPARE(invalid_utf8_at("a\xC0\xAF"), std::size_t(1));         // overlong "/"
    QCOMPARE(invalid_utf8_at("a\xE0\x80\xAF"), std::size_t(1));     // overlong, 3 bytes
    QCOMPARE(invalid_utf8_at("a\xED\xA0\x80"), std::size_t(1));     // a UTF-16 surrogate
    QCOMPARE(invalid_utf8_at("a\xF4\x90\x80\x80"), std::size_t(1)); // past U+10FFFF
    QCOMPARE(invalid_utf8_at("a\xE2\x82"), std::size_t(1));         // cut short
    // Quoted in messages with the bad bytes escaped, the good ones kept.
    QCOMPARE(QString::fromStdString(moa::text::quote_start("caf\xC3\xA9 \xFF\xFE!", 40)),
             QString::fromUtf8("café \\xFF\\xFE!"));
    // A data line with such bytes fails its agent, saying so.
    moa::providers::ChatStreamDecoder d([](std::string_view, std::string_view) {});
    d.on_data("{\"choices\": [{\"delta\": {\"content\": \"x\xFF\"}}]}");
    QVERIFY2(d.error().find("not valid UTF-8 (byte 0xFF at offset 37)") != std::string::npos, d.error().c_str());
}

void TestSse::jsonGuardCountsDepthOutsideStrings() {
    using moa::json_guard::check;
    const std::string d64 = std::string(64, '[') + std::string(64, ']');
    const std::string d65 = std::string(65, '{') + std::string(65, '}');
    QVERIFY(!check(d64));
    QVERIFY(check(d65));
    QCOMPARE(QString::fromStdString(*check(d65)), QStringLiteral("nests deeper than 64 levels (at byte 64)"));
    // Brackets in strings, escaped quotes included, are text.
    QVERIFY(!check("{\"a\": \"" + std::string(1000, '[') + "\\\"" + std::string(1000, '{') + "\"}"));
    QVERIFY(!check("[1, [2, [3]]]", {3, 0}));
    QVERIFY(check("[1, [2, [3, [4]]]]", {3, 0}));
    // The value count: objects, arrays, scalars and keys.
    QVERIFY(!check("[1,2,3]", {64, 4}));
    QVERIFY(check("[1,2,3,4]", {64, 4}));
    QVERIFY(!check("{\"a\": true, \"b\": null}", {64, 5}));
    QVERIFY2(check(std::string(8 << 20, '[')), "8 MB of [ stops at the limit");
    // In pieces (a request body as it arrives): an escape at the end of a piece carries over.
    moa::json_guard::Scanner sc({2, 0});
    QVERIFY(sc.feed("[\"[[[\\"));
    QVERIFY(sc.feed("\"]\", ["));
    QVERIFY(!sc.feed("["));
    QCOMPARE(QString::fromStdString(sc.error()), QStringLiteral("nests deeper than 2 levels (at byte 12)"));
}

// A data line, a body or an error body nested 50,000 deep (100 KB) fails with the limit named,
// and is never turned into a DOM (whose dump() and copies recurse and overflow the stack).
void TestSse::deepValuesFailWithoutADom() {
    const std::string deep = std::string(50000, '[') + std::string(50000, ']');
    for (const std::string field : {"message", "code"}) {
        Pipeline p;
        p.run("data: {\"choices\":[{\"delta\":{\"content\":\"ok\"}}]}\n\ndata: {\"error\": {\"" + field + "\": " + deep +
                  "}}\n\n",
              0);
        QVERIFY(p.failed);
        QCOMPARE(QString::fromStdString(p.text), QStringLiteral("ok"));
        QVERIFY2(p.dec.error().find("nests deeper than 64 levels") != std::string::npos, p.dec.error().c_str());
        QVERIFY(p.dec.error().size() < 300);
    }
    ChatStreamDecoder body([](std::string_view, std::string_view) {});
    QVERIFY(!body.on_body("{\"choices\": " + deep + "}"));
    QVERIFY2(body.error().find("nests deeper than 64 levels") != std::string::npos, body.error().c_str());
    const std::string msg = moa::providers::error_message_from_body("{\"detail\": " + deep + "}");
    QVERIFY2(msg.find("nests deeper than 64 levels") != std::string::npos, msg.c_str());
    QVERIFY(msg.size() < 300);
    // Deep but inside a string: an ordinary message.
    QCOMPARE(moa::providers::error_message_from_body("{\"error\": {\"message\": \"" + std::string(100, '[') + "\"}}"),
             std::string(100, '['));
}

void TestSse::errorMessagesAreBuiltFromScalarsOnly() {
    using moa::providers::error_message_from_body;
    // Objects and lists where a message belongs are named by their kind, never dumped.
    QCOMPARE(error_message_from_body(R"({"error": {"message": {"a": [1, 2]}, "code": 500}})"),
             std::string("an error without a message (500)"));
    QCOMPARE(error_message_from_body(R"({"error": {"status": "INTERNAL", "retry": 3, "extra": {"x": 1}}})"),
             std::string("retry 3, status INTERNAL")); // members in key order
    QCOMPARE(error_message_from_body(R"({"error": {"message": "busy", "code": ["x"]}, "type": "t"})"), std::string("busy"));
    QCOMPARE(error_message_from_body(R"({"detail": [{"loc": ["body", "x"], "msg": "field required", "type": "value_error"}]})"),
             std::string("field required (value_error)"));
    QCOMPARE(error_message_from_body(R"({"detail": "Not Found"})"), std::string("Not Found"));
    QCOMPARE(error_message_from_body(R"({"error": 42})"), std::string("42"));
    // And bounded: a 1 MB message is cut to about 2 KB at a UTF-8 boundary.
    std::string big;
    for (int i = 0; i < (1 << 19); ++i) big += "\xC3\xA9"; // é
    const std::string huge = error_message_from_body("{\"error\": {\"message\": \"" + big + "\"}}");
    QVERIFY(huge.size() > 1000 && huge.size() < 2100);
    QVERIFY(moa::text::invalid_utf8_at(huge) == std::string_view::npos);
}

QTEST_GUILESS_MAIN(TestSse)
#include "tst_sse_parser.moc"
