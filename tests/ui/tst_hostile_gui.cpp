// SPDX-License-Identifier: MIT
// Issue 12 in the workbench: a configuration that reads a file outside its folder opens only when
// the user allows it, and a key going to a server it never went to is said before the run.
#include <QAbstractButton>
#include <QApplication>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTemporaryDir>
#include <QTimer>
#include <QtTest>

#include <fstream>

#include "main_window.h"
#include "model/config_document.h"
#include "run_helpers.h"
#include "test_server.h"

using namespace moa;
using namespace testing_support;

namespace {
// Answers the modal message boxes that come up next, in order, with `buttons`; their texts go to
// `shown`.
void answer_boxes(QList<QMessageBox::StandardButton> buttons, QStringList* shown) {
    auto* timer = new QTimer;
    timer->setInterval(50);
    QObject::connect(timer, &QTimer::timeout, [timer, buttons, shown]() mutable {
        auto* box = qobject_cast<QMessageBox*>(QApplication::activeModalWidget());
        if (!box || !box->isVisible()) return;
        *shown << box->text();
        box->button(buttons.takeFirst())->click();
        if (buttons.isEmpty()) timer->deleteLater();
    });
    timer->start();
}
} // namespace

class TestHostileGui : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void templateOutsideTheFolderIsAskedFor();
    void newKeyServerPairIsSaidBeforeTheRun();
    void openingAFileSendsNoEnvironmentKeyToANewServer();

private:
    QTemporaryDir dir_;
};

void TestHostileGui::initTestCase() {
    QStandardPaths::setTestModeEnabled(true);
    QVERIFY(dir_.isValid());
    qputenv("MOA_HISTORY_DB", dir_.filePath("history.sqlite").toUtf8());
    qputenv("MOA_KNOWN_KEYS", dir_.filePath("known-keys.json").toUtf8());
}

void TestHostileGui::templateOutsideTheFolderIsAskedFor() {
    QTemporaryDir d, other;
    { std::ofstream(other.filePath("t.txt").toStdString()) << "Merge these:\n"; }
    auto j = config_json("http://127.0.0.1:9/v1", {{"a"}, {"b"}});
    j["aggregation"] = {{"template", other.filePath("t.txt").toStdString()}};
    const QString path = d.filePath("outside.moa.json");
    std::ofstream(path.toStdString()) << j.dump(2);

    ui::MainWindow w(nullptr);
    w.show();
    QStringList shown;
    answer_boxes({QMessageBox::No, QMessageBox::Ok}, &shown); // the question, then the refusal
    QVERIFY(!w.openFile(path)); // refused: nothing was read
    QCOMPARE(shown.size(), 2);
    QVERIFY2(shown[0].contains("reads files outside its folder") && shown[0].contains(other.filePath("t.txt")), qPrintable(shown[0]));
    QVERIFY2(shown[1].contains("is outside the configuration's folder"), qPrintable(shown[1]));

    shown.clear();
    answer_boxes({QMessageBox::Yes}, &shown);
    QVERIFY(w.openFile(path));
    QCOMPARE(shown.size(), 1);
    QCOMPARE(w.document()->config().aggregation.template_text, std::string("Merge these:"));
    for (const auto& i : w.document()->issues()) QVERIFY2(i.severity != config::Issue::Severity::Error, i.str().c_str());
}

void TestHostileGui::newKeyServerPairIsSaidBeforeTheRun() {
    TestServer server;
    QVERIFY(server.ok());
    qputenv("MOA_GUI_HOSTILE_KEY", "not-a-real-key-5678");
    std::string n = nonce();
    auto j = config_json(server.base_url(), {{"ok?tag=A-" + n}}, {{"api_key_env", "MOA_GUI_HOSTILE_KEY"}});
    const QString path = dir_.filePath("key.moa.json");
    std::ofstream(path.toStdString()) << j.dump(2);
    ui::MainWindow w(nullptr);
    w.show();
    QVERIFY(w.openFile(path));
    w.promptEditor()->setPlainText("hi");
    QSignalSpy finished(&w, &ui::MainWindow::runFinished);
    QVERIFY(w.startRun());
    const QString note = w.statusBar()->currentMessage();
    QVERIFY2(note.contains("sends the key in $MOA_GUI_HOSTILE_KEY to http://127.0.0.1:" + QString::number(server.port())), qPrintable(note));
    QVERIFY(finished.wait(60000) || finished.count() > 0);
    // Said once.
    w.statusBar()->clearMessage();
    QVERIFY(w.startRun());
    QVERIFY(!w.statusBar()->currentMessage().contains("sends the key"));
    QVERIFY(finished.wait(60000) || finished.count() > 1);
}

// A shared *.moa.json can name a well-known key variable beside its own base_url. Opening it starts
// the status bar's reachability check; that check must not send the key to a server it has never
// gone to from this machine (the first run says so and sends it, as above).
void TestHostileGui::openingAFileSendsNoEnvironmentKeyToANewServer() {
    TestServer server;
    QVERIFY(server.ok());
    qputenv("MOA_GUI_OPEN_KEY", "not-a-real-key-open-4321");
    auto j = config_json(server.base_url(), {{"ok?tag=O-" + nonce()}}, {{"api_key_env", "MOA_GUI_OPEN_KEY"}});
    const QString path = dir_.filePath("open-key.moa.json");
    std::ofstream(path.toStdString()) << j.dump(2);
    ui::MainWindow w(nullptr);
    w.show();
    QVERIFY(w.openFile(path));
    QTRY_VERIFY_WITH_TIMEOUT(w.providersStatus()->text().contains("key not sent yet"), 15000);
    QVERIFY2(w.providersStatus()->toolTip().contains("$MOA_GUI_OPEN_KEY"), qPrintable(w.providersStatus()->toolTip()));
    const auto stats = QJsonDocument::fromJson(http_get("http://127.0.0.1:" + std::to_string(server.port()) + "/_stats")).object();
    const auto auths = stats["models_authorization"].toArray();
    QVERIFY2(!auths.isEmpty(), "the reachability check did reach the server");
    for (const auto& a : auths) QVERIFY2(!a.toString().contains("not-a-real-key-open-4321"), qPrintable(a.toString()));
}

QTEST_MAIN(TestHostileGui)
#include "tst_hostile_gui.moc"
