// SPDX-License-Identifier: MIT
// The providers settings: keys in the keychain (never on screen, in files or in the history),
// TLS verification with its warning, and per-model price and size overrides.
#include <QCheckBox>
#include <QComboBox>
#include <QDockWidget>
#include <QFormLayout>
#include <QHeaderView>
#include <QScrollArea>
#include <QScrollBar>
#include <QPlainTextEdit>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QStandardPaths>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QtTest>

#include <fstream>
#include <sstream>

#include "main_window.h"
#include "model/config_document.h"
#include "settings/key_store.h"
#include "settings/providers_panel.h"
#include "run_helpers.h"
#include "test_server.h"

using namespace moa;
using namespace testing_support;

namespace {
QByteArray slurp(const QString& path) {
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}
} // namespace

class TestSettings : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() { QStandardPaths::setTestModeEnabled(true); }
    void keychainKeyIsUsedAndNeverShownOrStored();
    void keychainWithoutAKeyringSaysSoAndFallsBackToTheEnvironment();
    void tlsOptOutIsWarnedAboutAndUndoable();
    void priceOverridesEditSaveAndLoad();
    void demoProviderShowsOneLineAndThePanelFitsAt1024();
};

void TestSettings::keychainKeyIsUsedAndNeverShownOrStored() {
    QTemporaryDir dir;
    const QString db = dir.filePath("history.sqlite");
    TestServer server;
    QVERIFY(server.ok());
    const std::string n = nonce();
    auto j = config_json(server.base_url(), {{"ok?tag=K1-" + n}, {"ok?tag=KA-" + n}},
                         {{"api_key_env", "MOA_SETTINGS_TEST_UNSET"}});
    j["name"] = "Keyed";
    const QString path = dir.filePath("keyed.moa.json");
    std::ofstream(path.toStdString()) << j.dump(2);
    auto h = store::History::open(db.toStdString());
    QVERIFY(h.ok());
    ui::MainWindow w(std::make_unique<store::HistoryRecorder>(std::move(*h)));
    w.show();
    QVERIFY(w.openFile(path));

    auto* keys = w.findChild<ui::KeyStore*>();
    auto* panel = w.findChild<ui::ProvidersPanel*>();
    QVERIFY(keys && panel);
    const auto& provider = *w.document()->config().provider("local");
    QCOMPARE(keys->keyFor(provider), std::string()); // nothing yet: the variable is unset
    QTRY_VERIFY_WITH_TIMEOUT(w.providersStatus()->text().contains("local ✗ no key"), 10000);

    // What a successful keychain read or write does: the key is then in memory only.
    const QString secret = QStringLiteral("sk-keychain-fake-%1").arg(QString::fromStdString(n));
    keys->remember(ui::KeyStore::entryFor(provider), secret);
    QCOMPARE(keys->sourceFor(provider), ui::KeyStore::Source::Keychain);
    QTRY_VERIFY_WITH_TIMEOUT(w.providersStatus()->text().contains("local ✓"), 10000);
    QVERIFY(!w.providersStatus()->toolTip().contains(secret));
    auto* state = panel->findChild<QLabel*>("key_state");
    QVERIFY(state);
    QTRY_VERIFY(state->text().contains("keychain"));
    QVERIFY(state->text().contains(QString::number(secret.size())));
    QVERIFY(!state->text().contains(secret));
    auto* edit = panel->findChild<QLineEdit*>("key_edit");
    QCOMPARE(edit->echoMode(), QLineEdit::Password);

    // A run sends it as the bearer token...
    w.promptEditor()->setPlainText("Which key?");
    QSignalSpy finished(&w, &ui::MainWindow::runFinished);
    QVERIFY(w.startRun());
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 20000);
    const auto sent = server.bearer(QString::fromStdString(n), secret);
    QCOMPARE(sent.calls, 2);
    QCOMPARE(sent.with_key, sent.calls);
    // ...and it is in no file: not the history (with its WAL), not the saved configuration.
    QString err;
    QVERIFY(w.document()->save(path, &err));
    QTRY_VERIFY_WITH_TIMEOUT(QFileInfo::exists(db), 5000);
    w.history()->flush(); // everything the history writer was given is on disk
    for (const QString& f : QDir(dir.path()).entryList(QDir::Files)) {
        QVERIFY2(!slurp(dir.filePath(f)).contains(secret.toUtf8()), qPrintable(f));
    }
    QVERIFY(!w.windowTitle().contains(secret));
}

void TestSettings::keychainWithoutAKeyringSaysSoAndFallsBackToTheEnvironment() {
    // The real QtKeychain with no keyring service reachable (no session bus here): the failure is
    // named, and the environment variable still provides the key.
    const QByteArray bus = qgetenv("DBUS_SESSION_BUS_ADDRESS");
    qputenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/moa-test-bus");
    ui::KeyStore keys(QStringLiteral("moa-workbench-test"));
    config::Provider p;
    p.name = "x";
    p.base_url = "http://127.0.0.1:9/v1";
    p.api_key_env = "MOA_SETTINGS_ENV_KEY";
    qputenv("MOA_SETTINGS_ENV_KEY", "env-key-123");
    QSignalSpy failed(&keys, &ui::KeyStore::failed);
    QSignalSpy changed(&keys, &ui::KeyStore::changed);
    keys.store(ui::KeyStore::entryFor(p), "would-be-key");
    QTRY_VERIFY_WITH_TIMEOUT(failed.count() + changed.count() >= 1, 20000);
    if (failed.count()) {
        QVERIFY(!failed.at(0).at(1).toString().isEmpty());
        qInfo("keychain: %s", qPrintable(failed.at(0).at(1).toString()));
        QCOMPARE(keys.keyFor(p), std::string("env-key-123"));
        QCOMPARE(keys.sourceFor(p), ui::KeyStore::Source::Environment);
    } else {
        // A keyring did answer (a developer's desktop): the key went there; clean up.
        QCOMPARE(keys.keyFor(p), std::string("would-be-key"));
        keys.forget(ui::KeyStore::entryFor(p));
    }
    qunsetenv("MOA_SETTINGS_ENV_KEY");
    if (bus.isEmpty()) qunsetenv("DBUS_SESSION_BUS_ADDRESS");
    else qputenv("DBUS_SESSION_BUS_ADDRESS", bus);
}

void TestSettings::tlsOptOutIsWarnedAboutAndUndoable() {
    ui::ConfigDocument doc;
    auto j = config_json("https://127.0.0.1:1/v1", {{"ok"}});
    auto loaded = config::load_config_text(j.dump(), "t.moa.json");
    QVERIFY(loaded.ok());
    doc.reset(*loaded.config, {});
    ui::ProvidersPanel panel(&doc, nullptr);
    panel.show();
    auto* verify = panel.findChild<QCheckBox*>();
    auto* warning = panel.findChild<QLabel*>("tls_warning");
    QVERIFY(verify && warning);
    QVERIFY(verify->isChecked());
    QVERIFY(!warning->isVisible());
    verify->setChecked(false);
    QCOMPARE(doc.config().provider("local")->tls_verify, false);
    QVERIFY(warning->isVisible());
    QVERIFY(warning->text().contains("OFF"));
    bool warned = false;
    for (const auto& i : doc.issues())
        warned = warned || (i.severity == config::Issue::Severity::Warning && i.pointer == "/providers/local/tls_verify");
    QVERIFY(warned);
    doc.undoStack()->undo();
    QCOMPARE(doc.config().provider("local")->tls_verify, true);
    QVERIFY(verify->isChecked());
    QVERIFY(!warning->isVisible());
}

void TestSettings::priceOverridesEditSaveAndLoad() {
    QTemporaryDir dir;
    ui::ConfigDocument doc;
    auto j = config_json("http://127.0.0.1:1/v1", {{"my-model"}});
    j["providers"]["local"]["models"] = {{"my-model", {{"input_usd_per_mtok", 0.5}}}};
    auto loaded = config::load_config_text(j.dump(), "t.moa.json");
    QVERIFY(loaded.ok());
    doc.reset(*loaded.config, {});
    ui::ProvidersPanel panel(&doc, nullptr);
    auto* table = panel.findChild<QTableWidget*>("overrides");
    QVERIFY(table);
    QCOMPARE(table->rowCount(), 1);
    QCOMPARE(table->item(0, 0)->text(), QString("my-model"));
    QCOMPARE(table->item(0, 1)->text(), QString("0.5"));
    table->item(0, 2)->setText("1.25");
    table->item(0, 3)->setText("70");
    const auto& o = doc.config().provider("local")->models.at("my-model");
    QCOMPARE(*o.output_usd_per_mtok, 1.25);
    QCOMPARE(*o.active_params_b, 70.0);
    table->item(0, 1)->setText("cheap"); // not a number: refused, said, nothing changes
    QCOMPARE(*doc.config().provider("local")->models.at("my-model").input_usd_per_mtok, 0.5);
    QString err;
    const QString path = dir.filePath("o.moa.json");
    QVERIFY(doc.save(path, &err));
    auto again = config::load_config_file(path.toStdString());
    QVERIFY(again.ok());
    const auto& o2 = again.config->provider("local")->models.at("my-model");
    QCOMPARE(*o2.input_usd_per_mtok, 0.5);
    QCOMPARE(*o2.output_usd_per_mtok, 1.25);
    QCOMPARE(*o2.active_params_b, 70.0);
    doc.undoStack()->undo();
    doc.undoStack()->undo();
    QVERIFY(!doc.config().provider("local")->models.at("my-model").output_usd_per_mtok);
}

// The offline demo's row showed greyed URL, key and TLS fields run together, and the panel was cut
// at the right edge of a 1024×700 window (its minimum width was wider than the dock).
void TestSettings::demoProviderShowsOneLineAndThePanelFitsAt1024() {
    QTemporaryDir dir;
    auto j = config_json("http://127.0.0.1:1/v1", {{"ok"}, {"ok"}});
    j["providers"]["demo"] = {{"type", "demo"}};
    j["layers"][1]["agents"][0]["provider"] = "demo";
    const QString path = dir.filePath("mixed.moa.json");
    std::ofstream(path.toStdString()) << j.dump(2);
    ui::MainWindow w(nullptr);
    w.resize(1024, 700);
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    QVERIFY(w.openFile(path));
    auto* panel = w.findChild<ui::ProvidersPanel*>();
    auto* dock = w.findChild<QDockWidget*>("providersDock");
    auto* scroll = w.findChild<QScrollArea*>("providersScroll");
    QVERIFY(panel && dock && scroll);
    dock->raise();
    auto* which = panel->findChild<QComboBox*>();
    auto* note = panel->findChild<QLabel*>("demo_note");
    auto* url = panel->findChild<QLineEdit*>("base_url");
    auto* form = panel->findChild<QFormLayout*>();
    QVERIFY(which && note && url && form);
    const QList<QWidget*> real_only = {url, panel->findChild<QLineEdit*>("key_edit"), panel->findChild<QLabel*>("key_state"),
                                       panel->findChild<QCheckBox*>(), form->labelForField(url)};
    for (const char* name : {"local", "demo"}) {
        which->setCurrentText(name);
        QApplication::processEvents();
        const bool demo = QString(name) == "demo";
        QCOMPARE(note->isVisibleTo(panel), demo);
        if (demo) QVERIFY(note->text().contains("no URL or key needed, not a real model"));
        for (QWidget* f : real_only) {
            QVERIFY(f);
            QVERIFY2(f->isVisibleTo(panel) == !demo, qPrintable(QStringLiteral("%1 on %2").arg(f->accessibleName(), name)));
        }
        // The panel fits the dock beside the canvas: no sideways scrolling, no widget past the edge.
        QTRY_VERIFY(dock->isVisible() && scroll->viewport()->width() > 0);
        const int room = scroll->viewport()->width();
        QVERIFY2(panel->minimumSizeHint().width() <= room,
                 qPrintable(QStringLiteral("%1: panel needs %2 px, the dock gives %3").arg(name).arg(panel->minimumSizeHint().width()).arg(room)));
        QVERIFY2(!scroll->horizontalScrollBar()->isVisible(), name);
        auto* table = panel->findChild<QTableWidget*>("overrides");
        QVERIFY2(table->horizontalHeader()->length() <= table->viewport()->width(),
                 qPrintable(QStringLiteral("override columns need %1 px of %2").arg(table->horizontalHeader()->length()).arg(table->viewport()->width())));
        for (auto* child : panel->findChildren<QWidget*>()) {
            if (!child->isVisibleTo(panel) || child->parentWidget() != panel) continue;
            QVERIFY2(child->geometry().right() <= room,
                     qPrintable(QStringLiteral("%1 ends at %2 of %3 px (%4)").arg(child->accessibleName()).arg(child->geometry().right()).arg(room).arg(name)));
        }
    }
    QCOMPARE(w.size(), QSize(1024, 700));
}

QTEST_MAIN(TestSettings)
#include "tst_settings.moc"
