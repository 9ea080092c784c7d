// SPDX-License-Identifier: MIT
// A newcomer's flows through the windows: an experiment made and run entirely through the New
// experiment dialog on the offline demo, the demo from the empty Experiments window, the sweep
// dialog's field checks, failures explained per instance, Tab leaving the prompt, arrow keys on
// the graph, readable node text and refit after a structural edit, and money as people read it.
#include <QComboBox>
#include <QDialog>
#include <QDir>
#include <QTimer>
#include <QDirIterator>
#include <QDragMoveEvent>
#include <QFile>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QMimeData>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSettings>
#include <QSignalSpy>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTextBrowser>
#include <QtTest>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "common/money.h"
#include "config/config.h"
#include "experiment/experiment_window.h"
#include "experiment/new_experiment_dialog.h"
#include "experiment/result_chart.h"
#include "eval/experiment.h"
#include "eval/prompt_set.h"
#include "store/experiment_store.h"
#include "graph/graph_scene.h"
#include "main_window.h"
#include "model/config_document.h"
#include "util/resources.h"

using namespace moa;

namespace {
config::Config preset(const char* name) { return *config::load_config_file(resources::preset_path(name)).config; }

QString write_config(const QTemporaryDir& dir, const QString& name, const config::Config& c) {
    const QString p = dir.filePath(name);
    std::ofstream(p.toStdString()) << config::to_json(c).dump(2);
    return p;
}

int select_item(QComboBox* c, const QString& data) {
    for (int i = 0; i < c->count(); ++i)
        if (c->itemData(i).toString() == data) {
            c->setCurrentIndex(i);
            return i;
        }
    return -1;
}

std::unique_ptr<ui::MainWindow> main_window() {
    auto w = std::make_unique<ui::MainWindow>(nullptr);
    w->show();
    return w;
}
} // namespace

class TestGuiFlows : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void experimentMadeAndRunThroughTheDialog();
    void emptyExperimentsWindowOffersTheDemo();
    void demoExperimentIsWrittenOnceInTheDataFolder();
    void sweepChecksEveryFieldBeforeWriting();
    void newSweepGoesBesideEarlierSweepsNotInside();
    void failuresSayWhyPerInstance();
    void droppedAgentsAreShownNotHidden();
    void everyNaSaysWhy();
    void tabLeavesThePrompt();
    void arrowKeysSelectGraphNodes();
    void nodeTextStaysReadableAndTheGraphRefits();
    void dragShowsTheDropTarget();
    void moneyIsReadable();

private:
    QTemporaryDir dir_;
};

void TestGuiFlows::initTestCase() {
    QStandardPaths::setTestModeEnabled(true);
    QVERIFY(dir_.isValid());
    qputenv("MOA_EXPERIMENT_DB", dir_.filePath("experiments.sqlite").toUtf8());
    qputenv("MOA_HISTORY_DB", dir_.filePath("history.sqlite").toUtf8());
    QSettings().clear();
}

void TestGuiFlows::experimentMadeAndRunThroughTheDialog() {
    QTemporaryDir dir;
    // The reference: one demo model, a file the user opened before (so it is a recent file).
    auto one = preset("offline-demo");
    one.name = "One demo model";
    one.layers.resize(1);
    one.layers[0].agents.resize(1);
    const QString one_path = write_config(dir, "one-demo.moa.json", one);
    QSettings().setValue("recentFiles", QStringList{one_path});
    // The open document, never saved: a smaller MoA on the demo.
    auto small = preset("offline-demo");
    small.name = "Small demo MoA";
    small.layers.erase(small.layers.begin() + 1);

    ui::ExperimentWindow w;
    w.show();
    QVERIFY(w.showingEmptyState());
    w.setOpenDocument({{}, small});
    auto* d = w.showNewExperimentDialog();
    QVERIFY(d);
    // The starter set's entry counts the set it names (it said 40 prompts of its 42).
    {
        auto starter = eval::load_starter_set();
        QVERIFY(starter);
        std::set<std::string> categories;
        for (const auto& item : starter->items) categories.insert(item.category);
        const QString said = d->prompts()->itemText(d->prompts()->findData("starter"));
        QVERIFY2(said.contains(QString("%1 prompts in %2 categories").arg(starter->items.size()).arg(categories.size())), qPrintable(said));
    }
    const QString file = dir.filePath("mine/first.moa-experiment.json");
    d->file()->setText(file);

    // Nothing chosen: every missing field is named, and nothing is written.
    d->createButton()->click();
    QVERIFY(d->isVisible());
    QVERIFY2(d->errorText().contains("Configurations:"), qPrintable(d->errorText()));
    QVERIFY2(d->errorText().contains("Judge:"), qPrintable(d->errorText()));
    QVERIFY2(d->errorText().contains("Reference:"), qPrintable(d->errorText()));
    QVERIFY(!QFile::exists(file));
    QVERIFY(!QDir(dir.filePath("mine")).exists() || QDir(dir.filePath("mine")).isEmpty());

    // A whole MoA is no judge: said, naming the field.
    d->judge()->setCurrentText("offline-demo");
    QVERIFY(d->checkConfiguration("offline-demo"));
    d->createButton()->click();
    QVERIFY2(d->errorText().contains("Judge: \"offline-demo\" has 3 layers"), qPrintable(d->errorText()));
    QVERIFY(!QFile::exists(file));

    // The offline demo judge is offered first and labelled as what it is.
    QCOMPARE(d->judge()->itemData(0).toString(), QString("offline-demo-judge"));
    QVERIFY(d->judge()->itemText(0).contains("not a real judge"));
    d->judge()->setCurrentIndex(0);
    QVERIFY(d->checkConfiguration("document:"));
    QVERIFY(select_item(d->reference(), one_path) >= 0);
    d->sample()->setValue(2);
    QSignalSpy loaded(&w, &ui::ExperimentWindow::loaded);
    d->createButton()->click();
    QVERIFY2(d->errorText().isEmpty(), qPrintable(d->errorText()));
    QVERIFY(QFile::exists(file));
    QVERIFY(loaded.wait(30000));
    QCOMPARE(loaded.first().first().toBool(), true);
    QVERIFY(!w.showingEmptyState());

    QSignalSpy finished(&w, &ui::ExperimentWindow::finished);
    w.run();
    QVERIFY(finished.count() > 0 || finished.wait(240000)); // a quick run may end inside run()
    QTRY_VERIFY_WITH_TIMEOUT(w.results() && w.results()->configs.size() == 2 && w.results()->configs[0].judged == 2 &&
                                 w.results()->configs[1].judged == 2,
                             30000);
    for (const auto& c : w.results()->configs) QCOMPARE(c.unreadable, 0);
    QCOMPARE(w.resultsTable()->rowCount(), 2);
    QCOMPARE(w.instancesTable()->rowCount(), 4);
    QVERIFY(w.failuresText().isEmpty());
    // The jargon is explained on the headers.
    QVERIFY(!w.resultsTable()->horizontalHeaderItem(1)->toolTip().isEmpty());
    // The instance view reads as sentences, with the judge's own labelled answer, not a JSON blob.
    w.showTab("Instances");
    w.instancesTable()->setCurrentCell(0, 0);
    auto* view = w.findChild<QTextBrowser*>();
    QVERIFY(view);
    const QString shown = view->toPlainText();
    QVERIFY2(shown.contains("not a real judge"), qPrintable(shown));
    QVERIFY2(shown.contains("Shown to the judge with"), qPrintable(shown));
    QVERIFY2(!shown.contains("{\""), qPrintable(shown));
}

void TestGuiFlows::emptyExperimentsWindowOffersTheDemo() {
    QTemporaryDir dir;
    ui::ExperimentWindow w;
    w.show();
    QVERIFY(w.showingEmptyState());
    auto* demo = w.findChild<QPushButton*>("tryDemo");
    QVERIFY(demo && demo->isVisible());
    QSignalSpy finished(&w, &ui::ExperimentWindow::finished);
    QSignalSpy loaded(&w, &ui::ExperimentWindow::loaded);
    auto path = w.tryDemoExperiment(dir.filePath("demo"));
    QVERIFY2(path.ok(), path.ok() ? "" : path.error().c_str());
    QVERIFY(loaded.wait(30000));
    QVERIFY2(loaded.first().first().toBool(), qPrintable(w.findChild<QLabel*>()->text()));
    QVERIFY(w.running()); // it runs by itself
    QVERIFY2(finished.count() > 0 || finished.wait(240000), qPrintable(w.statusText()));
    QTRY_VERIFY_WITH_TIMEOUT(w.results() && w.results()->configs.size() == 2 && w.results()->configs[0].judged == 5, 30000);
    QVERIFY(!w.showingEmptyState());
    QVERIFY(w.statusText().contains("done"));
    // The charts say whose verdicts these are, and the demo's configurations differ (both won
    // 100% before the demo judge weighed what an answer adds against its length).
    for (auto* chart : {w.costChart(), w.tflopsChart()})
        QVERIFY2(chart->spec().title.contains("offline demo judge: counts words, not a real judge"), qPrintable(chart->spec().title));
    const auto& configs = w.results()->configs;
    QVERIFY2(configs[0].win.win_rate != configs[1].win.win_rate,
             qPrintable(QStringLiteral("%1 and %2").arg(configs[0].win.win_rate).arg(configs[1].win.win_rate)));
    for (const auto& c : configs) QVERIFY2(c.win.win_rate > 0 && c.win.win_rate < 100, qPrintable(QString::number(c.win.win_rate)));
}

// Try a demo experiment with a fresh profile, as the real program names itself: the files go
// to one demo-experiment folder beside the experiment database (the data folder), not under a
// second, doubled folder of the application's names.
void TestGuiFlows::demoExperimentIsWrittenOnceInTheDataFolder() {
    QTemporaryDir profile;
    QVERIFY(profile.isValid());
    const QByteArray old_db = qgetenv("MOA_EXPERIMENT_DB"), old_data = qgetenv("XDG_DATA_HOME");
    const QString old_app = QCoreApplication::applicationName(), old_org = QCoreApplication::organizationName();
    auto restore = qScopeGuard([&] {
        qputenv("MOA_EXPERIMENT_DB", old_db);
        qputenv("XDG_DATA_HOME", old_data);
        QCoreApplication::setApplicationName(old_app);
        QCoreApplication::setOrganizationName(old_org);
        QStandardPaths::setTestModeEnabled(true);
    });
    QStandardPaths::setTestModeEnabled(false); // the user's real locations, in the scratch profile
    qunsetenv("MOA_EXPERIMENT_DB");
    qputenv("XDG_DATA_HOME", profile.filePath("share").toUtf8());
    QCoreApplication::setApplicationName("MoA Workbench"); // as app/workbench_main.cpp
    QCoreApplication::setOrganizationName("moa-workbench");
    const QString data = profile.filePath("share/moa-workbench");
    for (int attempt = 0; attempt < 2; ++attempt) { // trying again rewrites the same files
        ui::ExperimentWindow w;
        QSignalSpy loaded(&w, &ui::ExperimentWindow::loaded);
        auto path = w.tryDemoExperiment();
        QVERIFY2(path.ok(), path.ok() ? "" : path.error().c_str());
        QCOMPARE(QString::fromStdString(*path), data + "/demo-experiment/demo.moa-experiment.json");
        QVERIFY(loaded.wait(30000));
        QVERIFY(loaded.first().first().toBool());
        w.cancel();
        QTRY_VERIFY_WITH_TIMEOUT(!w.running(), 60000);
    }
    // Every file under the profile, and no folder inside a folder of the same name.
    QStringList files;
    for (QDirIterator it(profile.path(), QDir::Files, QDirIterator::Subdirectories); it.hasNext();) {
        const QString f = QDir(profile.path()).relativeFilePath(it.next());
        files << f;
        const QStringList parts = f.split('/');
        for (int i = 1; i < parts.size(); ++i) QVERIFY2(parts[i] != parts[i - 1], qPrintable(f));
    }
    files.sort();
    const QStringList demo = files.filter("demo-experiment/");
    QCOMPARE(demo, (QStringList{"share/moa-workbench/demo-experiment/demo-moa-1-layer.moa.json",
                                "share/moa-workbench/demo-experiment/demo-moa-2-layers.moa.json",
                                "share/moa-workbench/demo-experiment/demo-one-model.moa.json",
                                "share/moa-workbench/demo-experiment/demo.moa-experiment.json"}));
    for (const QString& f : files) QVERIFY2(f.startsWith("share/moa-workbench/"), qPrintable(files.join(", ")));
    // The experiment names its configurations in that same folder.
    auto e = eval::load_experiment((data + "/demo-experiment/demo.moa-experiment.json").toStdString());
    QVERIFY2(e.ok(), e.ok() ? "" : e.error().c_str());
    for (const auto& c : e->config_sources)
        QCOMPARE(QFileInfo(QString::fromStdString(c)).absolutePath(), data + "/demo-experiment");
}

void TestGuiFlows::sweepChecksEveryFieldBeforeWriting() {
    QTemporaryDir dir;
    ui::ExperimentWindow w;
    const QString out = dir.filePath("sweep");
    auto r = w.createSweep("offline-demo", "proposers", 0, {}, {}, {}, 3, out);
    QVERIFY(!r.ok());
    const QString err = QString::fromStdString(r.error());
    QVERIFY2(err.contains("Judge is empty"), qPrintable(err));
    QVERIFY2(err.contains("Reference configuration: a pairwise judge"), qPrintable(err));
    QVERIFY2(!err.contains("Base configuration"), qPrintable(err)); // a preset name is a base
    QVERIFY(!QDir(out).exists());
    r = w.createSweep("nope", "proposers", 0, {}, "offline-demo-judge", "offline-demo", 3, out);
    QVERIFY(!r.ok());
    QVERIFY2(QString::fromStdString(r.error()).contains("Base configuration: no configuration file \"nope\" and no preset named \"nope\""),
             r.error().c_str());
    QVERIFY(!QDir(out).exists());
    QSignalSpy loaded(&w, &ui::ExperimentWindow::loaded);
    r = w.createSweep("offline-demo", "proposers", 0, {}, "offline-demo-judge", "offline-demo", 3, out);
    QVERIFY2(r.ok(), r.ok() ? "" : r.error().c_str());
    QVERIFY(loaded.wait(30000));
    QCOMPARE(loaded.first().first().toBool(), true);
}

// After a sweep's experiment is opened, the folder remembered for experiments is that sweep's
// own (…/moa-sweeps/<time>); the next sweep was offered …/moa-sweeps/<time>/moa-sweeps/<time>.
void TestGuiFlows::newSweepGoesBesideEarlierSweepsNotInside() {
    QTemporaryDir dir;
    const QString earlier = dir.filePath("moa-sweeps/20260101-000000");
    QVERIFY(QDir().mkpath(earlier));
    QSettings().setValue("lastFolder/experiments", earlier);
    auto forget = qScopeGuard([] { QSettings().remove("lastFolder/experiments"); });
    ui::ExperimentWindow w;
    QString offered;
    QTimer::singleShot(0, &w, [&] {
        auto* d = qobject_cast<QDialog*>(QApplication::activeModalWidget());
        if (!d) return;
        if (auto* edit = d->findChild<QLineEdit*>("sweep_dir")) offered = edit->text();
        d->reject();
    });
    w.showSweepDialog();
    QVERIFY2(offered.startsWith(dir.filePath("moa-sweeps/")), qPrintable(offered));
    QCOMPARE(offered.count("moa-sweeps"), 1);
}

void TestGuiFlows::failuresSayWhyPerInstance() {
    QTemporaryDir dir;
    // A provider nobody listens on: every answer fails, and the window says why, per prompt.
    auto dead = preset("offline-demo");
    dead.name = "Dead endpoint";
    nlohmann::json j = config::to_json(dead);
    j["providers"] = {{"dead", {{"base_url", "http://127.0.0.1:9/v1"}, {"max_retries", 0}}}};
    j["layers"] = {{{"agents", {{{"provider", "dead"}, {"model", "m"}}}}}};
    const QString cfg = dir.filePath("dead.moa.json");
    std::ofstream(cfg.toStdString()) << j.dump(2);
    const QString exp = dir.filePath("dead.moa-experiment.json");
    std::ofstream(exp.toStdString()) << nlohmann::json{{"configurations", {cfg.toStdString()}}, {"prompts", "starter"}, {"sample", 2},
                                                       {"judge", {{"config", "offline-demo-judge"}, {"mode", "single"}}}}
                                            .dump(2);
    ui::ExperimentWindow w;
    w.show();
    QSignalSpy loaded(&w, &ui::ExperimentWindow::loaded);
    w.openExperiment(exp, dir.filePath("e.sqlite"));
    QVERIFY(loaded.wait(30000));
    QCOMPARE(loaded.first().first().toBool(), true);
    QSignalSpy finished(&w, &ui::ExperimentWindow::finished);
    w.run();
    QVERIFY2(finished.count() > 0 || finished.wait(120000), qPrintable(w.statusText())); // may end inside run()
    QVERIFY2(w.failuresText().contains("failed"), qPrintable(w.failuresText()));
    QVERIFY2(w.failuresText().contains("127.0.0.1:9") || w.failuresText().contains("onnect"), qPrintable(w.failuresText()));
    QTRY_COMPARE_WITH_TIMEOUT(w.instancesTable()->rowCount(), 2, 30000);
    for (int row = 0; row < 2; ++row) {
        auto* v = w.instancesTable()->item(row, 3);
        QVERIFY(v->text().startsWith("failed: "));
        QVERIFY(!v->toolTip().isEmpty());
    }
}

// A configuration that ran every prompt with one proposer dropped (a closed port on 127.0.0.1)
// is not shown as whole: the results table counts and names the dropped agent, the instances
// say which agent each answer went without and why, and the chart rings the point.
void TestGuiFlows::droppedAgentsAreShownNotHidden() {
    QTemporaryDir dir;
    auto cfg_doc = preset("offline-demo");
    cfg_doc.name = "Dead one";
    nlohmann::json j = config::to_json(cfg_doc);
    j["providers"]["dead"] = {{"base_url", "http://127.0.0.1:9/v1"}, {"max_retries", 0}};
    j["layers"][0]["agents"].push_back({{"provider", "dead"}, {"model", "gone"}});
    const int dead_index = static_cast<int>(j["layers"][0]["agents"].size());
    const QString cfg = dir.filePath("dead.moa.json");
    std::ofstream(cfg.toStdString()) << j.dump(2);
    const QString exp = dir.filePath("dead.moa-experiment.json");
    std::ofstream(exp.toStdString()) << nlohmann::json{{"configurations", {cfg.toStdString()}}, {"prompts", "starter"}, {"sample", 2},
                                                       {"judge", {{"config", "offline-demo-judge"}, {"mode", "single"}}}}
                                            .dump(2);
    ui::ExperimentWindow w;
    w.show();
    QSignalSpy loaded(&w, &ui::ExperimentWindow::loaded);
    w.openExperiment(exp, dir.filePath("e.sqlite"));
    QVERIFY(loaded.wait(30000));
    QSignalSpy finished(&w, &ui::ExperimentWindow::finished);
    w.run();
    QVERIFY2(finished.count() > 0 || finished.wait(120000), qPrintable(w.statusText()));
    QTRY_VERIFY_WITH_TIMEOUT(w.results() && !w.results()->configs.empty() && w.results()->configs[0].judged == 2, 30000);
    QCOMPARE(w.results()->configs[0].degraded, 2);
    const QString agent = QString("L1.%1 dropped").arg(dead_index);
    // The results table: a "Dropped agents" column, red, the agent and its error in the tooltip.
    auto* t = w.resultsTable();
    int col = -1;
    for (int c = 0; c < t->columnCount(); ++c)
        if (t->horizontalHeaderItem(c)->text() == "Dropped agents") col = c;
    QVERIFY(col >= 0);
    QVERIFY(!t->horizontalHeaderItem(col)->toolTip().isEmpty());
    auto* cell = t->item(0, col);
    QCOMPARE(cell->text(), QString("2 with dropped agents"));
    QVERIFY2(cell->toolTip().contains(agent) && cell->toolTip().contains("gone"), qPrintable(cell->toolTip()));
    QVERIFY2(cell->toolTip().contains("127.0.0.1:9") || cell->toolTip().contains("onnect"), qPrintable(cell->toolTip()));
    QCOMPARE(cell->foreground().color(), QColor(200, 30, 30));
    // Every instance names the agent it went without.
    QTRY_COMPARE_WITH_TIMEOUT(w.instancesTable()->rowCount(), 2, 30000);
    for (int row = 0; row < 2; ++row) {
        auto* c = w.instancesTable()->item(row, 2);
        QVERIFY2(c->text() == "Dead one — " + agent, qPrintable(c->text()));
        QVERIFY2(c->toolTip().contains("gone"), qPrintable(c->toolTip()));
    }
    w.instancesTable()->selectRow(0);
    QString html;
    for (auto* b : w.findChildren<QTextBrowser*>()) html += b->toPlainText();
    QVERIFY2(html.contains("Made without 1 of the configuration's agents") && html.contains(agent), qPrintable(html));
    // The chart: the point carries the count and the note, and the CSV says so.
    const auto& pts = w.costChart()->spec().points;
    QCOMPARE(pts.size(), std::size_t(1));
    QCOMPARE(pts[0].degraded, 2);
    QVERIFY2(pts[0].degraded_note.contains(agent), qPrintable(pts[0].degraded_note));
    QVERIFY(ui::ResultChart::to_csv(w.costChart()->spec()).contains(",with_dropped_agents\n"));
}

// An "n/a" after a run says why in the cell (and exactly in its tooltip): an LC that cannot be
// fitted on 3 verdicts, a latency left out because every answer came from the response cache.
void TestGuiFlows::everyNaSaysWhy() {
    QTemporaryDir dir;
    auto one = preset("offline-demo");
    one.name = "One demo model";
    one.layers.resize(1);
    one.layers[0].agents.resize(1);
    const QString one_path = write_config(dir, "one.moa.json", one);
    auto small = preset("offline-demo");
    small.name = "Small demo MoA";
    small.layers.erase(small.layers.begin() + 1);
    const QString small_path = write_config(dir, "small.moa.json", small);
    const QString exp = dir.filePath("x.moa-experiment.json");
    std::ofstream(exp.toStdString()) << nlohmann::json{{"configurations", {small_path.toStdString()}}, {"prompts", "starter"}, {"sample", 3},
                                                       {"reference", {{"configuration", one_path.toStdString()}}},
                                                       {"judge", {{"config", "offline-demo-judge"}, {"mode", "pairwise"}}}}
                                            .dump(2);
    const QString db = dir.filePath("e.sqlite");
    {
        ui::ExperimentWindow w;
        w.show();
        QSignalSpy loaded(&w, &ui::ExperimentWindow::loaded);
        w.openExperiment(exp, db);
        QVERIFY(loaded.wait(30000));
        QSignalSpy finished(&w, &ui::ExperimentWindow::finished);
        w.run();
        QVERIFY2(finished.count() > 0 || finished.wait(120000), qPrintable(w.statusText()));
        QTRY_VERIFY_WITH_TIMEOUT(w.results() && w.results()->configs[0].judged == 3, 30000);
        auto* t = w.resultsTable();
        auto column = [t](const QString& name) {
            for (int c = 0; c < t->columnCount(); ++c)
                if (t->horizontalHeaderItem(c)->text() == name) return c;
            return -1;
        };
        const int lc = column("LC (unregularised)"), se = column("LC ± SE"), lat = column("Latency (s)");
        QVERIFY(lc >= 0 && se >= 0 && lat >= 0);
        QCOMPARE(t->item(0, lc)->text(), QString("n/a (needs 10 verdicts)"));
        QVERIFY2(t->item(0, lc)->toolTip().contains("at least 10 judged rows; there are 3"), qPrintable(t->item(0, lc)->toolTip()));
        QCOMPARE(t->item(0, se)->text(), QString("n/a (needs 10 verdicts)"));
        QVERIFY2(t->item(0, se)->toolTip().startsWith("no LC: "), qPrintable(t->item(0, se)->toolTip()));
        for (int c : {lc, se, lat}) QVERIFY2(t->horizontalHeaderItem(c)->toolTip().contains("n/a"), qPrintable(t->horizontalHeaderItem(c)->toolTip()));
        QVERIFY(t->item(0, lat)->text() != "n/a"); // made afresh: measured
    }
    // The same answers as if their calls had come from the response cache: no latency, said in the cell.
    {
        auto store = store::ExperimentStore::open(db.toStdString());
        QVERIFY(store);
        auto e = eval::load_experiment(exp.toStdString());
        QVERIFY(e);
        int rewritten = 0;
        for (const auto& item : e->prompts.items)
            if (auto g = (*store)->generation(eval::config_key(e->configs[0]), item.id)) {
                g->cached_calls = g->calls;
                QVERIFY((*store)->put_generation(*g));
                ++rewritten;
            }
        QCOMPARE(rewritten, 3);
    }
    ui::ExperimentWindow w;
    w.show();
    QSignalSpy loaded(&w, &ui::ExperimentWindow::loaded);
    w.openExperiment(exp, db);
    QVERIFY(loaded.wait(30000));
    QTRY_VERIFY_WITH_TIMEOUT(w.results() && w.results()->configs[0].judged == 3, 30000);
    auto* t = w.resultsTable();
    int lat = -1;
    for (int c = 0; c < t->columnCount(); ++c)
        if (t->horizontalHeaderItem(c)->text() == "Latency (s)") lat = c;
    QCOMPARE(t->item(0, lat)->text(), QString("n/a (cached)"));
    QVERIFY2(t->item(0, lat)->toolTip().contains("response cache") && t->item(0, lat)->toolTip().contains("cache_generations"),
             qPrintable(t->item(0, lat)->toolTip()));
}

void TestGuiFlows::tabLeavesThePrompt() {
    auto w = main_window();
    QVERIFY(QTest::qWaitForWindowExposed(w.get()));
    QPlainTextEdit* prompt = nullptr;
    for (auto* e : w->findChildren<QPlainTextEdit*>())
        if (e->accessibleName() == "Prompt") prompt = e;
    QVERIFY(prompt);
    w->activateWindow();
    prompt->setFocus();
    QTRY_VERIFY(prompt->hasFocus());
    prompt->clear(); // the first start offers an example prompt
    QTest::keyClicks(prompt, "Hello");
    QTest::keyClick(prompt, Qt::Key_Tab);
    QVERIFY(!prompt->toPlainText().contains('\t'));
    QTRY_VERIFY(!prompt->hasFocus());
    prompt->setFocus();
    QTRY_VERIFY(prompt->hasFocus());
    QTest::keyClick(prompt, Qt::Key_Tab, Qt::ControlModifier);
    QTRY_VERIFY(!prompt->hasFocus());
    QCOMPARE(prompt->toPlainText(), QString("Hello"));
}

void TestGuiFlows::arrowKeysSelectGraphNodes() {
    auto w = main_window();
    w->openPreset("offline-demo"); // layers of 3, 3 and 1 agents
    auto* view = w->findChild<ui::GraphView*>();
    QVERIFY(view);
    auto* scene = static_cast<ui::GraphScene*>(view->scene());
    view->setFocus();
    scene->clearSelection();
    QTest::keyClick(view, Qt::Key_Down); // nothing selected: the first node
    QCOMPARE(scene->selectedAgent(), std::make_pair(0, 0));
    QTest::keyClick(view, Qt::Key_Down);
    QTest::keyClick(view, Qt::Key_Down);
    QCOMPARE(scene->selectedAgent(), std::make_pair(0, 2));
    QTest::keyClick(view, Qt::Key_Down); // stays at the bottom
    QCOMPARE(scene->selectedAgent(), std::make_pair(0, 2));
    QTest::keyClick(view, Qt::Key_Right);
    QCOMPARE(scene->selectedAgent(), std::make_pair(1, 2));
    QTest::keyClick(view, Qt::Key_Right); // the final aggregator has one agent
    QCOMPARE(scene->selectedAgent(), std::make_pair(2, 0));
    QTest::keyClick(view, Qt::Key_Left);
    QTest::keyClick(view, Qt::Key_Up);
    QCOMPARE(scene->selectedAgent(), std::make_pair(1, 0));
    QTest::keyClick(view, Qt::Key_Home);
    QCOMPARE(scene->selectedAgent(), std::make_pair(0, 0));
}

void TestGuiFlows::nodeTextStaysReadableAndTheGraphRefits() {
    auto w = main_window(); // the default size
    QVERIFY(QTest::qWaitForWindowExposed(w.get()));
    w->openPreset("moa-lite");
    auto* view = w->findChild<ui::GraphView*>();
    const qreal smallest = ui::GraphScene::smallestTextPointSize();
    const qreal need = std::min(ui::GraphView::kMinTextPt, smallest) - 0.01;
    QTest::qWait(50);
    QTRY_VERIFY2(view->scaleFactor() * smallest >= need,
                 qPrintable(QString("node text at %1 pt on screen").arg(view->scaleFactor() * smallest)));
    view->zoomBy(0.2); // zooming out stops at readable text: pan instead
    QVERIFY(view->scaleFactor() * smallest >= need);

    // A structural edit refits: after the user zoomed in, adding a layer shows the graph again at
    // the fitting scale (never magnified, never below readable), the whole graph when it fits.
    w->openPreset("offline-demo");
    auto* scene = static_cast<ui::GraphScene*>(view->scene());
    auto all_in_view = [&] {
        const QRect vp = view->viewport()->rect().adjusted(-2, -2, 2, 2);
        for (int l = 0; l < 8; ++l)
            for (int i = 0; i < 8; ++i)
                if (auto* n = scene->node(l, i))
                    if (!vp.contains(view->mapFromScene(n->sceneBoundingRect()).boundingRect())) return false;
        return true;
    };
    auto fitting = [&] {
        const QRectF r = view->sceneRect();
        const QSize v = view->viewport()->size();
        return std::clamp(std::min(v.width() / r.width(), v.height() / r.height()), view->minReadableScale(), 1.0);
    };
    QTRY_VERIFY(std::abs(view->scaleFactor() - fitting()) < 1e-6);
    view->zoomBy(3);
    QVERIFY(view->scaleFactor() > 2);
    w->document()->addLayer(2);
    QCOMPARE(w->document()->config().layers.size(), std::size_t(4));
    QTRY_VERIFY2(std::abs(view->scaleFactor() - fitting()) < 1e-6, qPrintable(QString::number(view->scaleFactor())));
    QVERIFY(view->scaleFactor() * smallest >= need);
    const QRectF r = view->sceneRect();
    if (r.width() * view->scaleFactor() <= view->viewport()->width() && r.height() * view->scaleFactor() <= view->viewport()->height())
        QVERIFY(all_in_view());
    // Dropping a model refits too (a taller layer).
    view->zoomBy(3);
    for (int k = 0; k < 4; ++k) w->document()->addAgent(0, w->document()->config().layers[0].agents[0]);
    QTRY_VERIFY(std::abs(view->scaleFactor() - fitting()) < 1e-6);
}

void TestGuiFlows::dragShowsTheDropTarget() {
    auto w = main_window();
    QVERIFY(QTest::qWaitForWindowExposed(w.get()));
    w->openPreset("offline-demo");
    auto* view = w->findChild<ui::GraphView*>();
    auto* scene = static_cast<ui::GraphScene*>(view->scene());
    QVERIFY(!scene->dropTargetShown());
    QMimeData mime;
    mime.setData("application/x-moa-agent", "demo\ndemo-proposer-a");
    const QPoint at = view->mapFromScene(scene->node(1, 0)->sceneBoundingRect().center());
    QDragEnterEvent enter(at, Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
    QCoreApplication::sendEvent(view->viewport(), &enter);
    QDragMoveEvent move(at, Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
    QCoreApplication::sendEvent(view->viewport(), &move);
    QVERIFY(scene->dropTargetShown());
    QDragLeaveEvent leave;
    QCoreApplication::sendEvent(view->viewport(), &leave);
    QVERIFY(!scene->dropTargetShown());
}

void TestGuiFlows::moneyIsReadable() {
    QCOMPARE(ui::format_money(0.0012), QString("$0.0012"));
    QCOMPARE(ui::format_money(0.00001), QString("<$0.0001"));
    QCOMPARE(ui::format_money(1.234), QString("$1.23"));
    QCOMPARE(ui::format_money(0.003), QString("$0.003"));
    QCOMPARE(ui::format_money(0.0), QString("$0"));
    QCOMPARE(ui::format_money(std::nullopt), QString("$?"));
    for (double v : {0.00001, 0.00012, 0.0004, 0.002, 0.05, 0.5, 12.0}) QVERIFY(!ui::format_money(v).contains("0000"));
}

QTEST_MAIN(TestGuiFlows)
#include "tst_gui_flows.moc"
