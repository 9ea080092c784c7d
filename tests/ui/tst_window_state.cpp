// SPDX-License-Identifier: MIT
// The window's state stays true (issue 13, review 9): a recovery file lives until the user
// chooses; a stored run shown read-only is never edited through the inspector; closing mid-run
// cancels the run first; the estimate, the status bar, the history list, the outline and the
// final header say what is true now. Real HTTP to local test servers, real SQLite, real
// widgets (offscreen).
#include <QDockWidget>
#include <QElapsedTimer>
#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSettings>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTemporaryDir>
#include <QTreeWidget>
#include <QtTest>

#include <fstream>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "accounting/catalog.h"
#include "graph/graph_scene.h"
#include "history/history_panel.h"
#include "main_window.h"
#include "model/autosave.h"
#include "model/config_document.h"
#include "model/prompt_panel.h"
#include "run/run_presenter.h"
#include "run/run_view.h"
#include "run_helpers.h"
#include "store/history.h"
#include "test_server.h"

using namespace moa;
using namespace testing_support;

namespace {

std::unique_ptr<store::HistoryRecorder> history_in(const QTemporaryDir& dir) {
    auto h = store::History::open(dir.filePath("history.sqlite").toStdString());
    return h.ok() ? std::make_unique<store::HistoryRecorder>(std::move(*h)) : nullptr;
}

QString write(const QTemporaryDir& dir, const QString& name, const nlohmann::json& j) {
    const QString path = dir.filePath(name);
    std::ofstream(path.toStdString()) << j.dump(2);
    return path;
}

} // namespace

class TestWindowState : public QObject {
    Q_OBJECT
private slots:
    void init();
    void cleanup();
    void recoveryFileLivesUntilTheUserChooses();

private:
    QTemporaryDir data_; // the data folder (history, autosave) of every case
};

void TestWindowState::init() {
    QStandardPaths::setTestModeEnabled(true);
    QSettings().clear(); // a fresh profile for every case
    // The autosave file sits next to the history: a folder of this test's own, not the one
    // other suites (run in parallel) use.
    qputenv("MOA_HISTORY_DB", data_.filePath("history.sqlite").toUtf8());
}

void TestWindowState::cleanup() { QFile::remove(ui::Autosave::defaultFile()); }

void TestWindowState::recoveryFileLivesUntilTheUserChooses() {
    QTemporaryDir dir;
    const QString file = ui::Autosave::defaultFile();
    QVERIFY(file.startsWith(data_.path()));
    auto write_recovery = [&] {
        ui::ConfigDocument doc; // the last session's unsaved edit, left behind by a crash
        doc.reset(make_config(config_json("http://127.0.0.1:9/v1", {{"a", "b"}, {"c"}})), {});
        doc.edit("Rename", [](config::Config& c) { c.name = "Unsaved work"; });
        return ui::Autosave(&doc, file, 60000).writeNow();
    };
    QVERIFY(write_recovery());
    {
        ui::MainWindow w(history_in(dir));
        w.show();
        auto* bar = w.findChild<QWidget*>("recovery_bar");
        QVERIFY(bar && bar->isVisible());
        // The demo opened at start is a clean document: that removed the file the bar offers.
        QVERIFY2(QFile::exists(file), "the recovery file is gone while the bar offers it");
        // Edits of this session while the bar shows do not overwrite the last session's work.
        w.document()->edit("Rename", [](config::Config& c) { c.name = "This session"; });
        w.document()->undoStack()->setClean(); // and back to clean: still kept
        QTest::qWait(50);
        QVERIFY(QFile::exists(file));
        w.close(); // quit without choosing
    }
    QVERIFY2(QFile::exists(file), "quitting without Recover or Discard lost the recovery");
    {
        // Offered again at the next start; Discard removes it.
        ui::MainWindow w(history_in(dir));
        w.show();
        auto* bar = w.findChild<QWidget*>("recovery_bar");
        QVERIFY(bar->isVisible());
        QPushButton* discard = nullptr;
        for (auto* b : bar->findChildren<QPushButton*>())
            if (b->text() == "Discard") discard = b;
        QVERIFY(discard);
        discard->click();
        QVERIFY(!bar->isVisible());
        QVERIFY(!QFile::exists(file));
        w.close();
    }
    QVERIFY(write_recovery());
    {
        // Recover: the document has the changes, unsaved, and the file now keeps them.
        ui::MainWindow w(history_in(dir));
        w.show();
        auto* bar = w.findChild<QWidget*>("recovery_bar");
        QPushButton* recover = nullptr;
        for (auto* b : bar->findChildren<QPushButton*>())
            if (b->text() == "Recover") recover = b;
        QVERIFY(recover);
        recover->click();
        QCOMPARE(w.document()->config().name, std::string("Unsaved work"));
        QVERIFY(w.document()->isDirty());
        QVERIFY(!bar->isVisible());
        QVERIFY(QFile::exists(file));
        w.document()->undoStack()->setClean(); // so that closing asks nothing
        w.close();
    }
    QVERIFY(!QFile::exists(file)); // a clean exit
}

QTEST_MAIN(TestWindowState)
#include "tst_window_state.moc"
