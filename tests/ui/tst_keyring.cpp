// SPDX-License-Identifier: MIT
// API keys in a real OS keyring: the test starts its own D-Bus session bus and GNOME Keyring
// (the Secret Service most Linux desktops run) in a scratch home, unlocked with a throw-away
// password, so nothing touches the developer's own keyring. Through the providers panel a key
// is saved; a second window, with nothing in memory, reads it back from the keyring and sends it
// as the bearer token; the key is in no file in plain text (the keyring's own file is
// encrypted); Forget removes it from the keyring.
#include <QDirIterator>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QProcess>
#include <QPushButton>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>

#include <fstream>

#include "main_window.h"
#include "model/config_document.h"
#include "settings/key_store.h"
#include "settings/providers_panel.h"
#include "run_helpers.h"
#include "test_server.h"

using namespace moa;
using namespace testing_support;

class TestKeyring : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void cleanupTestCase();
    void keyIsKeptInTheKeyringReadBackByANewWindowAndForgotten();

private:
    QTemporaryDir home_;
    QProcess bus_, keyring_;
};

void TestKeyring::initTestCase() {
    QStandardPaths::setTestModeEnabled(true);
    QVERIFY(home_.isValid());
    const QString dbus = QStandardPaths::findExecutable("dbus-daemon");
    const QString gkd = QStandardPaths::findExecutable("gnome-keyring-daemon");
    QVERIFY2(!dbus.isEmpty() && !gkd.isEmpty(),
             "this test needs dbus-daemon and gnome-keyring-daemon (Debian: dbus, gnome-keyring; tools/dev.sh installs them)");
    for (const char* d : {"data", "config", "cache", "runtime"}) QVERIFY(QDir(home_.path()).mkpath(d));
    QFile::setPermissions(home_.filePath("runtime"), QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner);
    // Everything the two daemons read from the environment points into the scratch home.
    qputenv("HOME", home_.path().toUtf8());
    qputenv("XDG_DATA_HOME", home_.filePath("data").toUtf8());
    qputenv("XDG_CONFIG_HOME", home_.filePath("config").toUtf8());
    qputenv("XDG_CACHE_HOME", home_.filePath("cache").toUtf8());
    qputenv("XDG_RUNTIME_DIR", home_.filePath("runtime").toUtf8());
    qunsetenv("DISPLAY");
    qunsetenv("WAYLAND_DISPLAY");

    bus_.start(dbus, {"--session", "--nofork", "--nopidfile", "--print-address=1",
                      "--address=unix:path=" + home_.filePath("runtime/bus")});
    QVERIFY2(bus_.waitForStarted(5000), qPrintable(bus_.errorString()));
    QTRY_VERIFY_WITH_TIMEOUT(bus_.canReadLine(), 10000);
    const QByteArray address = bus_.readLine().trimmed();
    QVERIFY2(address.startsWith("unix:"), address.constData());
    qputenv("DBUS_SESSION_BUS_ADDRESS", address);

    // --unlock reads the login keyring's password from stdin and creates the keyring.
    keyring_.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    keyring_.start(gkd, {"--foreground", "--components=secrets", "--unlock"});
    QVERIFY2(keyring_.waitForStarted(5000), qPrintable(keyring_.errorString()));
    keyring_.write("throw-away-test-password");
    keyring_.closeWriteChannel();
    // Ready once the Secret Service name is owned on our bus.
    QTRY_VERIFY_WITH_TIMEOUT(
        [&] {
            QProcess q;
            q.start(QStandardPaths::findExecutable("dbus-send"),
                    {"--session", "--print-reply", "--dest=org.freedesktop.DBus", "/org/freedesktop/DBus",
                     "org.freedesktop.DBus.NameHasOwner", "string:org.freedesktop.secrets"});
            q.waitForFinished(5000);
            return q.readAllStandardOutput().contains("boolean true");
        }(),
        15000);
}

void TestKeyring::cleanupTestCase() {
    keyring_.terminate();
    keyring_.waitForFinished(5000);
    bus_.terminate();
    bus_.waitForFinished(5000);
}

namespace {
QLabel* keyState(ui::MainWindow& w) {
    auto* panel = w.findChild<ui::ProvidersPanel*>();
    return panel ? panel->findChild<QLabel*>("key_state") : nullptr;
}
} // namespace

void TestKeyring::keyIsKeptInTheKeyringReadBackByANewWindowAndForgotten() {
    QTemporaryDir dir;
    TestServer server;
    QVERIFY(server.ok());
    const std::string n = nonce();
    auto j = config_json(server.base_url(), {{"ok?tag=R1-" + n}, {"ok?tag=RA-" + n}},
                         {{"api_key_env", "MOA_KEYRING_TEST_UNSET"}});
    j["name"] = "Keyring";
    const QString path = dir.filePath("keyring.moa.json");
    std::ofstream(path.toStdString()) << j.dump(2);
    const QString secret = QStringLiteral("sk-keyring-fake-%1").arg(QString::fromStdString(n));
    auto history = [&] {
        auto h = store::History::open(dir.filePath("history.sqlite").toStdString());
        return std::make_unique<store::HistoryRecorder>(std::move(*h));
    };

    {
        // First window: paste the key and save it.
        ui::MainWindow w(history());
        w.show();
        QVERIFY(w.openFile(path));
        auto* state = keyState(w);
        QVERIFY(state);
        QTRY_VERIFY_WITH_TIMEOUT(state->text().contains("No key") || state->text().contains("no key"), 10000);
        auto* panel = w.findChild<ui::ProvidersPanel*>();
        auto* edit = panel->findChild<QLineEdit*>("key_edit");
        QVERIFY(edit);
        edit->setText(secret);
        QTest::keyClick(edit, Qt::Key_Return); // Enter saves, like the button
        QCOMPARE(edit->text(), QString()); // the widget does not keep it
        QTRY_VERIFY_WITH_TIMEOUT(state->text().contains("keychain") && state->text().contains(QString::number(secret.size())), 15000);
        QVERIFY2(!state->text().contains("Keychain:"), qPrintable(state->text())); // no keyring error
    }

    {
        // Second window, a new key store with nothing in memory: the key comes from the keyring.
        ui::MainWindow w(history());
        w.show();
        QVERIFY(w.openFile(path));
        auto* keys = w.findChild<ui::KeyStore*>();
        QVERIFY(keys);
        const auto& provider = *w.document()->config().provider("local");
        QTRY_COMPARE_WITH_TIMEOUT(keys->sourceFor(provider), ui::KeyStore::Source::Keychain, 15000);
        QCOMPARE(keys->keyFor(provider), secret.toStdString());
        QTRY_VERIFY_WITH_TIMEOUT(w.providersStatus()->text().contains("local ✓"), 10000);

        w.promptEditor()->setPlainText("Which key, from the keyring?");
        QSignalSpy finished(&w, &ui::MainWindow::runFinished);
        QVERIFY(w.startRun());
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 20000);
        const auto sent = server.bearer(QString::fromStdString(n), secret);
        QCOMPARE(sent.calls, 2);
        QCOMPARE(sent.with_key, sent.calls);
        QString err;
        QVERIFY(w.document()->save(path, &err));
        w.history()->flush(); // everything the history writer was given is on disk

        // In plain text, in no file: not the configuration, the history, nor the keyring's file.
        int files = 0, keyring_files = 0;
        for (const QString& root : {dir.path(), home_.path()}) {
            QDirIterator it(root, QDir::Files | QDir::Hidden, QDirIterator::Subdirectories);
            while (it.hasNext()) {
                const QString f = it.next();
                QFile file(f);
                if (!file.open(QIODevice::ReadOnly)) continue;
                ++files;
                keyring_files += f.contains("/keyrings/");
                const QByteArray bytes = file.readAll();
                QVERIFY2(!bytes.contains(secret.toUtf8()), qPrintable(f));
                QVERIFY2(!bytes.contains(QByteArray::fromStdString(n)) || !f.contains("/keyrings/"), qPrintable(f));
            }
        }
        QVERIFY(keyring_files >= 1); // the keyring did write its (encrypted) file
        qInfo("searched %d files, %d of them the keyring's own", files, keyring_files);

        // Forget: gone from memory and from the keyring.
        auto* panel = w.findChild<ui::ProvidersPanel*>();
        auto* forget = panel->findChild<QPushButton*>("key_forget");
        QVERIFY(forget);
        forget->click();
        QCOMPARE(keys->sourceFor(provider), ui::KeyStore::Source::None); // at once, in memory
        QVERIFY(ui::KeyStore::jobsInFlight() > 0);
    }
    // The window closed with the keychain's delete still under way: it finishes anyway, as the
    // application lets it before exiting.
    QVERIFY(ui::KeyStore::finishPending(10000));

    {
        // A third key store asks the keyring again: nothing there any more.
        ui::KeyStore fresh(QStringLiteral("moa-workbench"));
        config::Provider p;
        p.name = "local";
        p.base_url = server.base_url();
        p.api_key_env = "MOA_KEYRING_TEST_UNSET";
        QSignalSpy changed(&fresh, &ui::KeyStore::changed);
        QSignalSpy failed(&fresh, &ui::KeyStore::failed);
        fresh.load(ui::KeyStore::entryFor(p));
        QTRY_VERIFY_WITH_TIMEOUT(changed.count() + failed.count() >= 1, 15000);
        QCOMPARE(failed.count(), 0);
        QCOMPARE(fresh.sourceFor(p), ui::KeyStore::Source::None);
        QCOMPARE(fresh.keyFor(p), std::string());
    }
}

QTEST_MAIN(TestKeyring)
#include "tst_keyring.moc"
