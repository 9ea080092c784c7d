// SPDX-License-Identifier: MIT
// The experiments window driven against the local scripted server: run, pause and resume,
// the results table, the charts (frontier, export to PNG, SVG and CSV) and the instances.
#include <QCheckBox>
#include <QFile>
#include <QFileInfo>
#include <QImage>
#include <QGraphicsLineItem>
#include <QGraphicsSimpleTextItem>
#include <QtCharts/QChart>
#include <QtCharts/QChartView>
#include <QtCharts/QCategoryAxis>
#include <QtCharts/QLegend>
#include <QtCharts/QLegendMarker>
#include <QtCharts/QLineSeries>
#include <QtCharts/QValueAxis>
#include <QtCharts/QScatterSeries>
#include <QProcess>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTextDocumentFragment>
#include <QGraphicsTextItem>
#include <QGraphicsScene>
#include <QtTest>

#include <QComboBox>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLineEdit>
#include <QPushButton>
#include <QSettings>
#include <QSpinBox>

#include "eval/lc_variants.h"
#include "experiment/experiment_window.h"
#include "eval/experiment_results.h"
#include "experiment/new_experiment_dialog.h"
#include "common/money.h"
#include "experiment/result_chart.h"
#include "test_server.h"

using moa::ui::ExperimentWindow;

namespace {
QString write_demo(const QTemporaryDir& dir, int port) {
    QProcess p;
    p.start("python3", {QString(MOA_SOURCE_ROOT) + "/tools/experiment_demo.py", QString::number(port), dir.filePath("exp")});
    p.waitForFinished(20000);
    return QString::fromUtf8(p.readAllStandardOutput()).trimmed();
}
} // namespace

class TestExperimentWindow : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() { QStandardPaths::setTestModeEnabled(true); }
    void runsShowsResultsAndChartsAndExports();
    void pauseStopsNewWorkAndResumeFinishes();
    void cancelSaysSoOnceWithoutAStaleEta();
    void brokenExperimentIsExplained();
    void pointLabelsDoNotOverlap();
    void equalWinRatesKeepLabelsApartAndByTheirPoints();
    void sweepChartKeepsGapsAvoidsErrorBarsAndPadsTheEdges();
    void labelsSayWhichConfigurationIsWhich();
    void titlesAreDrawnWholeAtTheWindowsSizes();
    void screenshotHonoursWindowSize();
    void emptyChartSaysSoInsteadOfEmptyAxes();
    void demoCostChartSaysZeroAndKeepsLabelsApart();
    void unknownCostIsNeverZeroOnTheCharts();
    void lcVariantsShowTheirCostFirstAndRelabelLc();
    void newExperimentDialogOffersLcVariantsWithTheirCost();
};

void TestExperimentWindow::runsShowsResultsAndChartsAndExports() {
    TestServer server;
    QVERIFY(server.ok());
    QTemporaryDir dir;
    auto exp = write_demo(dir, server.port());
    QVERIFY(QFile::exists(exp));
    ExperimentWindow w;
    w.show();
    QSignalSpy loaded(&w, &ExperimentWindow::loaded);
    w.openExperiment(exp, dir.filePath("e.sqlite"));
    QVERIFY(loaded.wait(20000));
    QCOMPARE(loaded.first().first().toBool(), true);
    // Before anything is run: no win rate of 0.00 at $0, and nothing on the charts (new-user review).
    QTRY_VERIFY_WITH_TIMEOUT(w.results().has_value() && w.resultsTable()->rowCount() == 3, 20000);
    for (int row = 0; row < 3; ++row)
        for (int col = 3; col <= 8; ++col)
            QVERIFY2(w.resultsTable()->item(row, col)->text() == "n/a",
                     qPrintable(QStringLiteral("row %1 column %2 (%3): %4")
                                    .arg(row)
                                    .arg(col)
                                    .arg(w.resultsTable()->horizontalHeaderItem(col)->text(), w.resultsTable()->item(row, col)->text())));
    QVERIFY(moa::ui::chart_spec(*w.results(), moa::ui::XAxis::Cost, false, false).points.empty());
    QSignalSpy finished(&w, &ExperimentWindow::finished);
    w.run();
    QVERIFY(w.running());
    // Running, no verdict yet: the empty charts say so, not "Not run yet".
    QVERIFY(w.costChart()->spec().points.empty());
    QVERIFY2(w.costChart()->spec().empty_note.startsWith("Running"), qPrintable(w.costChart()->spec().empty_note));
    QVERIFY(w.tflopsChart()->spec().empty_note.startsWith("Running"));
    QVERIFY(finished.wait(120000));
    QSignalSpy shown(&w, &ExperimentWindow::resultsShown);
    QVERIFY(shown.count() > 0 || shown.wait(20000));
    QTRY_VERIFY_WITH_TIMEOUT(w.results().has_value() && w.results()->configs[0].judged == 30, 20000);

    QCOMPARE(w.resultsTable()->rowCount(), 3);
    // No baseline-variant rows regularise this LC: the column says so, with its own ± SE.
    QCOMPARE(w.resultsTable()->horizontalHeaderItem(1)->text(), QString("LC (unregularised)"));
    QCOMPARE(w.resultsTable()->horizontalHeaderItem(2)->text(), QString("LC ± SE"));
    QVERIFY(w.statusText().contains("done"));
    QVERIFY2(!w.statusText().contains("ETA"), qPrintable(w.statusText())); // an ended run has no ETA
    const auto& spec = w.costChart()->spec();
    QCOMPARE(spec.points.size(), std::size_t(3));
    int front = 0;
    for (const auto& p : spec.points) front += p.frontier;
    QVERIFY(front >= 1);
    // The axis title short enough to be drawn whole; which LC it is on the caption line.
    QCOMPARE(spec.y_label, QString("LC win rate (%)"));
    QVERIFY2(spec.caption.contains("LC (unregularised)"), qPrintable(spec.caption));
    for (const auto& p : spec.points) QVERIFY(p.y_err > 0); // LC's own bootstrap standard error
    // The MoA paper's published LC win rates are off by default (not directly comparable) ...
    QVERIFY(spec.references.empty());
    QCheckBox* paper = nullptr;
    for (auto* b : w.findChildren<QCheckBox*>())
        if (b->text().contains("MoA paper")) paper = b;
    QVERIFY(paper && !paper->isChecked());
    paper->setChecked(true);
    // ... and, when shown, say why.
    QVERIFY(!w.costChart()->spec().references.empty());
    QVERIFY(w.costChart()->spec().references_caveat.contains("not directly comparable"));
    QVERIFY(spec.x_label.contains("Cost"));
    QVERIFY(w.tflopsChart()->spec().x_label.contains("TFLOPs"));

    QCOMPARE(w.instancesTable()->rowCount(), 90);
    w.instancesTable()->setCurrentCell(0, 0);

    for (const char* ext : {"png", "svg", "csv"}) {
        const QString out = dir.filePath(QString("chart.") + ext);
        auto err = w.costChart()->save(out);
        QVERIFY2(!err, err ? qPrintable(*err) : "");
        QFile f(out);
        QVERIFY(f.open(QIODevice::ReadOnly));
        QVERIFY(f.size() > 100);
        if (QString(ext) == "csv") QVERIFY(f.readAll().startsWith("configuration,Cost per instance (USD)"));
    }
    auto bad = w.costChart()->save(dir.filePath("chart.bmp"));
    QVERIFY(bad && bad->contains(".png, .svg or .csv"));

    // Run again: nothing left to do, nothing paid.
    const int calls = server.chat_requests();
    const int before = finished.count();
    w.run();
    QTRY_VERIFY_WITH_TIMEOUT(finished.count() > before, 60000); // may end at once: nothing left to do
    QCOMPARE(server.chat_requests(), calls);

    // A configuration added later: its instances are still to be made, nothing failed, so the note
    // says the next Run makes them (it said "run the experiment again to retry them").
    {
        QFile single(QFileInfo(exp).dir().filePath("single.moa.json"));
        QVERIFY(single.open(QIODevice::ReadOnly));
        auto conf = QJsonDocument::fromJson(single.readAll()).object();
        conf["name"] = "Added later";
        // Another setting, so its answers are not in the response cache.
        auto layers = conf["layers"].toArray();
        auto layer = layers[0].toObject();
        auto agents = layer["agents"].toArray();
        auto agent = agents[0].toObject();
        agent["max_tokens"] = 200;
        agents[0] = agent;
        layer["agents"] = agents;
        layers[0] = layer;
        conf["layers"] = layers;
        QFile added(QFileInfo(exp).dir().filePath("added.moa.json"));
        QVERIFY(added.open(QIODevice::WriteOnly));
        added.write(QJsonDocument(conf).toJson());
        QFile ef(exp);
        QVERIFY(ef.open(QIODevice::ReadOnly));
        auto e = QJsonDocument::fromJson(ef.readAll()).object();
        ef.close();
        auto configs = e["configurations"].toArray();
        configs.append("added.moa.json");
        e["configurations"] = configs;
        QVERIFY(ef.open(QIODevice::WriteOnly | QIODevice::Truncate));
        ef.write(QJsonDocument(e).toJson());
    }
    ExperimentWindow again;
    QSignalSpy reloaded(&again, &ExperimentWindow::loaded);
    again.openExperiment(exp, dir.filePath("e.sqlite"));
    QVERIFY(reloaded.wait(20000));
    QTRY_VERIFY_WITH_TIMEOUT(again.results().has_value() && again.resultsTable()->rowCount() == 4, 20000);
    const auto note = QString::fromStdString(again.results()->incomplete_note);
    QVERIFY2(note.contains("not generated or judged yet") && note.contains("Run makes them"), qPrintable(note + " / " + again.statusText()));
    QVERIFY2(!note.contains("retry"), qPrintable(note));
}

void TestExperimentWindow::pauseStopsNewWorkAndResumeFinishes() {
    TestServer server;
    QVERIFY(server.ok());
    QTemporaryDir dir;
    auto exp = write_demo(dir, server.port());
    ExperimentWindow w;
    QSignalSpy loaded(&w, &ExperimentWindow::loaded);
    w.openExperiment(exp, dir.filePath("e.sqlite"));
    QVERIFY(loaded.wait(20000));
    QSignalSpy finished(&w, &ExperimentWindow::finished);
    w.run();
    w.pauseOrResume(); // pause at once: what is under way finishes, nothing new starts
    QVERIFY(w.statusText().contains("paused"));
    QTest::qWait(1500);
    const int calls = server.chat_requests();
    QTest::qWait(700);
    QCOMPARE(server.chat_requests(), calls);
    QVERIFY(w.running());
    w.pauseOrResume();
    QVERIFY(finished.wait(120000));
    QVERIFY(server.chat_requests() > calls);
}

void TestExperimentWindow::cancelSaysSoOnceWithoutAStaleEta() {
    // Review 10: "ETA 25 s · cancelled: cancelled; what had finished was kept…".
    TestServer server;
    QVERIFY(server.ok());
    QTemporaryDir dir;
    auto exp = write_demo(dir, server.port());
    ExperimentWindow w;
    QSignalSpy loaded(&w, &ExperimentWindow::loaded);
    w.openExperiment(exp, dir.filePath("e.sqlite"));
    QVERIFY(loaded.wait(20000));
    QSignalSpy finished(&w, &ExperimentWindow::finished);
    w.run();
    w.cancel();
    QVERIFY(finished.count() > 0 || finished.wait(60000));
    const QString said = w.statusText();
    QVERIFY2(said.count("cancelled") == 1 && !said.contains("ETA"), qPrintable(said));
    QVERIFY2(said.contains("what had finished is kept"), qPrintable(said));
}

void TestExperimentWindow::brokenExperimentIsExplained() {
    QTemporaryDir dir;
    QFile f(dir.filePath("x.moa-experiment.json"));
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("{\"configurations\": 3}");
    f.close();
    ExperimentWindow w;
    QSignalSpy loaded(&w, &ExperimentWindow::loaded);
    w.openExperiment(f.fileName(), dir.filePath("e.sqlite"));
    QVERIFY(loaded.wait(20000));
    QCOMPARE(loaded.first().first().toBool(), false);
    QVERIFY(!w.running());
}

namespace {
// The demo experiment on `sample` prompts, with `extra` merged into the experiment file.
QString write_small_demo(const QTemporaryDir& dir, int port, int sample, const QJsonObject& extra = {}) {
    const QString exp = write_demo(dir, port);
    QFile f(exp);
    if (!f.open(QIODevice::ReadOnly)) return {};
    auto o = QJsonDocument::fromJson(f.readAll()).object();
    f.close();
    o["sample"] = sample;
    for (auto it = extra.begin(); it != extra.end(); ++it) o[it.key()] = it.value();
    if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate)) return {};
    f.write(QJsonDocument(o).toJson());
    return exp;
}

int variant_generations(const TestServer& server) {
    int n = 0;
    for (const auto& v : server.requests()) {
        const auto msgs = v.toObject()["body"].toObject()["messages"].toArray();
        const QString last = msgs.isEmpty() ? QString() : msgs.last().toObject()["content"].toString();
        for (auto k : moa::eval::kVariants) n += last.contains(QString::fromStdString(moa::eval::variant_instruction(k)));
    }
    return n;
}
} // namespace

// The window's checkbox: the extra calls and their estimated cost are on screen before Run,
// nothing is called to show them; a run makes exactly those calls; LC is then labelled "LC"
// (and "LC (unregularised)" again when the box is cleared); a file of answers disables it.
void TestExperimentWindow::lcVariantsShowTheirCostFirstAndRelabelLc() {
    TestServer server;
    QVERIFY(server.ok());
    QTemporaryDir dir;
    const int n = 10; // LC needs 10 judged instances
    auto exp = write_small_demo(dir, server.port(), n);
    QVERIFY(QFile::exists(exp));
    {
        // The reference answers briefly or at length when asked (a variant equal to the reference's
        // answer would be a draw without a judge call).
        QFile ref(QFileInfo(exp).absolutePath() + "/ref.moa.json");
        QVERIFY(ref.open(QIODevice::ReadOnly));
        QByteArray text = ref.readAll();
        ref.close();
        text.replace("ok?tag=ref&words=50&jitter=40", "ok?tag=ref&words=50&jitter=40&shorter_if=as+briefly+as&longer_if=Reply+at+length");
        QVERIFY(ref.open(QIODevice::WriteOnly | QIODevice::Truncate));
        ref.write(text);
    }
    ExperimentWindow w;
    w.show();
    QSignalSpy loaded(&w, &ExperimentWindow::loaded);
    w.openExperiment(exp, dir.filePath("e.sqlite"));
    QVERIFY(loaded.wait(20000));
    QVERIFY(w.lcVariantsBox()->isEnabled());
    QVERIFY(!w.lcVariantsBox()->isChecked());
    QSignalSpy planned(&w, &ExperimentWindow::lcPlanShown);
    w.lcVariantsBox()->setChecked(true);
    QTRY_VERIFY_WITH_TIMEOUT(w.lcVariantsText().contains("extra calls"), 20000);
    QVERIFY2(w.lcVariantsText().contains(QString("%1 extra calls").arg(n * 4)), qPrintable(w.lcVariantsText()));
    QVERIFY(w.lcVariantsText().contains("estimated $"));
    QCOMPARE(server.chat_requests(), 0);

    QSignalSpy finished(&w, &ExperimentWindow::finished);
    w.run();
    QVERIFY(!w.lcVariantsBox()->isEnabled()); // not changed under a running experiment
    QVERIFY(finished.count() > 0 || finished.wait(120000));
    QCOMPARE(variant_generations(server), n * 2);
    int judge_calls = 0;
    for (const auto& v : server.requests()) judge_calls += v.toObject()["model"].toString().startsWith("judge");
    QCOMPARE(judge_calls, n * 3 + n * 2);
    QTRY_VERIFY_WITH_TIMEOUT(w.results() && w.results()->variant_rows == n * 2 && w.results()->configs[0].judged == n, 20000);
    QTRY_COMPARE_WITH_TIMEOUT(w.resultsTable()->horizontalHeaderItem(1)->text(), QString("LC"), 20000);
    QVERIFY(w.costChart()->spec().y_label.startsWith("LC win rate"));
    QTRY_VERIFY_WITH_TIMEOUT(w.lcVariantsText().contains("nothing to pay"), 20000);

    // Cleared: the same verdicts give the unregularised LC, labelled so; no call is made.
    const int calls = server.chat_requests();
    w.lcVariantsBox()->setChecked(false);
    QTRY_COMPARE_WITH_TIMEOUT(w.resultsTable()->horizontalHeaderItem(1)->text(), QString("LC (unregularised)"), 20000);
    QCOMPARE(server.chat_requests(), calls);

    // A reference that is a file of answers: the box is disabled and says why.
    QJsonObject imported;
    imported["prompts"] = QJsonObject{{"file", QString(MOA_SHARED_DATA) + "/alpaca_eval/gpt4_1106_preview_model_outputs.json"}};
    imported["reference"] = QJsonValue::Null;
    auto exp2 = write_small_demo(dir, server.port(), 2, imported);
    {
        QFile f(exp2);
        QVERIFY(f.open(QIODevice::ReadOnly));
        auto o = QJsonDocument::fromJson(f.readAll()).object();
        f.close();
        o.remove("reference");
        QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
        f.write(QJsonDocument(o).toJson());
    }
    ExperimentWindow w2;
    QSignalSpy loaded2(&w2, &ExperimentWindow::loaded);
    w2.openExperiment(exp2, dir.filePath("e2.sqlite"));
    QVERIFY(loaded2.wait(20000));
    QCOMPARE(loaded2.first().first().toBool(), true);
    QVERIFY(!w2.lcVariantsBox()->isEnabled());
    QVERIFY2(w2.lcVariantsBox()->toolTip().contains("file of answers"), qPrintable(w2.lcVariantsBox()->toolTip()));
    QVERIFY(w2.lcVariantsText().contains("unregularised"));
}

// The New experiment dialog: the box shows the extra calls and their estimated cost before the
// experiment is written, is disabled for single grading (saying why), and is written to the file.
void TestExperimentWindow::newExperimentDialogOffersLcVariantsWithTheirCost() {
    TestServer server;
    QVERIFY(server.ok());
    QTemporaryDir dir;
    auto exp = write_demo(dir, server.port());
    const QString d0 = QFileInfo(exp).absolutePath();
    QSettings().setValue("recentFiles", QStringList{d0 + "/single.moa.json"});
    moa::ui::NewExperimentDialog d({});
    QVERIFY(d.checkConfiguration(d0 + "/single.moa.json"));
    d.judge()->setCurrentText(d0 + "/judge.moa.json");
    d.reference()->setCurrentText(d0 + "/ref.moa.json");
    d.sample()->setValue(3);
    QVERIFY(d.lcVariants()->isEnabled());
    QVERIFY(d.lcVariantsText().contains("unregularised"));
    d.lcVariants()->setChecked(true);
    QVERIFY2(d.lcVariantsText().contains("12 extra calls"), qPrintable(d.lcVariantsText()));
    QVERIFY(d.lcVariantsText().contains("estimated $"));
    d.sample()->setValue(5);
    QVERIFY2(d.lcVariantsText().contains("20 extra calls"), qPrintable(d.lcVariantsText()));
    d.mode()->setCurrentIndex(d.mode()->findData("single"));
    QVERIFY(!d.lcVariants()->isEnabled());
    QVERIFY(d.lcVariantsText().contains("Not available"));
    d.mode()->setCurrentIndex(d.mode()->findData("pairwise"));
    const QString file = dir.filePath("with-variants.moa-experiment.json");
    d.file()->setText(file);
    d.createButton()->click();
    QVERIFY2(d.errorText().isEmpty(), qPrintable(d.errorText()));
    QFile f(file);
    QVERIFY(f.open(QIODevice::ReadOnly));
    QCOMPARE(QJsonDocument::fromJson(f.readAll()).object()["lc_variants"].toBool(), true);
    QCOMPARE(server.chat_requests(), 0);
}

QTEST_MAIN(TestExperimentWindow)
void TestExperimentWindow::pointLabelsDoNotOverlap() {
    // Configurations with close results and long names (as on the TFLOPs chart of the README's
    // screenshot, where two labels once overlapped): every label stays clear of the others and
    // inside the plot.
    moa::ui::ChartSpec spec;
    spec.title = "labels";
    spec.x_label = "TFLOPs per instance (critical path)";
    spec.y_label = "LC win rate (%)";
    spec.points = {{"Single 8B model", "", 1.25, 35.3, 2, true},
                   {"MoA-Lite (3 proposers, 2 layers)", "", 67.7, 98.0, 0, true},
                   {"MoA (3 layers)", "", 129.6, 98.0, 0, false},
                   {"MoA (3 layers), temperature 0.7", "", 120.0, 97.0, 0, false},
                   {"Another configuration with a long name", "", 70.0, 96.5, 0, false}};
    moa::ui::ResultChart chart;
    chart.resize(640, 480);
    chart.setSpec(spec);
    chart.show();
    QVERIFY(QTest::qWaitForWindowExposed(&chart));
    std::vector<QRectF> labels;
    const QRectF area = chart.view()->chart()->plotArea();
    for (auto* item : chart.view()->chart()->childItems())
        if (auto* t = dynamic_cast<QGraphicsSimpleTextItem*>(item); t && t->data(1).toString() == "point") {
            const QRectF r(t->pos(), t->boundingRect().size());
            QVERIFY2(area.adjusted(-1, -1, 1, 1).contains(r), qPrintable(t->text()));
            for (const QRectF& o : labels) QVERIFY2(!o.intersects(r), qPrintable(t->text()));
            labels.push_back(r);
        }
    QCOMPARE(labels.size(), spec.points.size());
}

// Issue 13: points sharing a y value had their labels piled on one another, some drawn away
// from their points. Six configurations with equal win rates, spread out and all at one x (the
// offline demo's $0 mark): six labels, none overlapping, each within reach of its own point or
// joined to it by a leader line; long names elided, in full in the tooltip.
void TestExperimentWindow::equalWinRatesKeepLabelsApartAndByTheirPoints() {
    for (const bool one_x : {false, true}) {
        for (const QSize size : {QSize(640, 480), QSize(1024, 600)}) {
            moa::ui::ChartSpec spec;
            spec.title = "equal";
            spec.x_label = "Cost";
            spec.y_label = "LC win rate (%)";
            for (int i = 0; i < 6; ++i) {
                QString name = QStringLiteral("Configuration %1").arg(i + 1);
                // Longer than the plot's width even without the words all six names share.
                if (i == 2)
                    name += " with a very long name that goes on and on past any sensible width, and on, and on, and on, and on, and on, "
                            "and on, and on, and on, and on, and on, and on, and on";
                spec.points.push_back({name, "", one_x ? 0.0 : 1.0 + i * 0.15, 50.0, 0, i == 0});
            }
            moa::ui::ResultChart chart;
            chart.resize(size);
            chart.setSpec(spec);
            chart.show();
            QVERIFY(QTest::qWaitForWindowExposed(&chart));
            QApplication::processEvents();
            auto* qc = chart.view()->chart();
            QScatterSeries* any = nullptr;
            for (auto* s : qc->series())
                if (auto* sc = qobject_cast<QScatterSeries*>(s)) any = sc;
            std::vector<QRectF> labels;
            std::vector<QLineF> leaders;
            for (auto* item : qc->childItems())
                if (auto* l = dynamic_cast<QGraphicsLineItem*>(item); l && l->data(1).toString() == "leader") leaders.push_back(l->line());
            for (auto* item : qc->childItems()) {
                auto* t = dynamic_cast<QGraphicsSimpleTextItem*>(item);
                if (!t || t->data(1).toString() != "point") continue;
                const QRectF r(t->pos(), t->boundingRect().size());
                const QString what = QStringLiteral("%1 (%2x%3, one x: %4)").arg(t->text()).arg(size.width()).arg(size.height()).arg(one_x);
                QVERIFY2(qc->plotArea().adjusted(-1, -1, 1, 1).contains(r), qPrintable(what));
                for (const QRectF& o : labels) QVERIFY2(!o.intersects(r), qPrintable(what + " overlaps another label"));
                labels.push_back(r);
                const QPointF at = qc->mapToPosition(QPointF(t->data(0).toDouble(), t->data(2).toDouble()), any);
                const QPointF nearest(std::clamp(at.x(), r.left(), r.right()), std::clamp(at.y(), r.top(), r.bottom()));
                const bool near = QLineF(at, nearest).length() <= 22;
                const bool joined = std::any_of(leaders.begin(), leaders.end(), [&](const QLineF& l) {
                    return QLineF(l.p1(), at).length() < 1 && QLineF(l.p2(), nearest).length() < 1;
                });
                QVERIFY2(near || joined, qPrintable(what + " is away from its point with no leader line"));
                // The whole name in the tooltip; the label says (at least the start of) its own part.
                const QString own = t->data(3).toString();
                QVERIFY2(t->toolTip().contains(own) && t->toolTip().startsWith("Configuration ") && !own.isEmpty(), qPrintable(what));
                if (t->toolTip().contains("very long name"))
                    QVERIFY2(t->text().endsWith(QChar(0x2026)) && r.width() <= qc->plotArea().width() * 0.9, qPrintable(what));
            }
            QCOMPARE(labels.size(), std::size_t(6));
            if (qEnvironmentVariableIsSet("MOA_TEST_KEEP_SCREENSHOT"))
                chart.grab().save(qEnvironmentVariable("MOA_TEST_KEEP_SCREENSHOT") + QStringLiteral("chart-%1-%2.png").arg(one_x).arg(size.width()));
        }
    }
}

// Issue 13 (the sweep-of-8 chart): labels "…2 proposers" and "…8 proposers" touched and read as
// one; a label stood three rows above its point, nearer another one, with no leader; error bars
// ran through labels; points at 0% and 100% were cut in half by the plot's edge; the legend drew
// the frontier and the points on it as the same square.
void TestExperimentWindow::sweepChartKeepsGapsAvoidsErrorBarsAndPadsTheEdges() {
    for (const QSize size : {QSize(480, 360), QSize(640, 480), QSize(1024, 600)}) {
        moa::ui::ChartSpec spec;
        spec.title = "sweep";
        spec.x_label = "TFLOPs per instance";
        spec.y_label = "Win rate (%)";
        const double ys[] = {0, 33.3, 33.3, 50, 66.7, 66.7, 100, 100};
        const double errs[] = {0, 33.3, 20, 28.9, 33.3, 20, 0, 0};
        for (int i = 0; i < 8; ++i)
            spec.points.push_back({QStringLiteral("Demo eight — %1 proposer%2").arg(i + 1).arg(i ? "s" : ""), "", 14.0 + 5 * i, ys[i],
                                   errs[i], i == 0 || i == 6});
        moa::ui::ResultChart chart;
        chart.resize(size);
        chart.setSpec(spec);
        chart.show();
        QVERIFY(QTest::qWaitForWindowExposed(&chart));
        QApplication::processEvents();
        if (qEnvironmentVariableIsSet("MOA_TEST_KEEP_SCREENSHOT"))
            chart.grab().save(qEnvironmentVariable("MOA_TEST_KEEP_SCREENSHOT") + QStringLiteral("sweep-chart-%1.png").arg(size.width()));
        auto* qc = chart.view()->chart();
        QScatterSeries* on = nullptr;
        QScatterSeries* off = nullptr;
        QLineSeries* frontier = nullptr;
        for (auto* s : qc->series()) {
            if (s->name() == "on the frontier") on = qobject_cast<QScatterSeries*>(s);
            if (s->name() == "dominated") off = qobject_cast<QScatterSeries*>(s);
            if (s->name() == "Pareto frontier") frontier = qobject_cast<QLineSeries*>(s);
        }
        QVERIFY(on && off && frontier);
        // The y axis runs past 0 and 100, so the points there are whole; ticks on round values.
        auto* ay = qobject_cast<QValueAxis*>(qc->axes(Qt::Vertical).value(0));
        QVERIFY(ay);
        QCOMPARE(ay->min(), -5.0);
        QCOMPARE(ay->max(), 105.0);
        QCOMPARE(ay->tickAnchor(), 0.0);
        const QRectF area = qc->plotArea();
        for (const auto& p : spec.points) {
            const QPointF at = qc->mapToPosition(QPointF(p.x, p.y), on);
            QVERIFY2(area.adjusted(6, 6, -6, -6).contains(at), qPrintable(p.name)); // the whole marker inside
        }
        // Legend: the frontier drawn as a line, the points on it as diamonds, the others as circles.
        QCOMPARE(qc->legend()->markerShape(), QLegend::MarkerShapeFromSeries);
        QCOMPARE(on->markerShape(), QScatterSeries::MarkerShapeRotatedRectangle);
        QCOMPARE(off->markerShape(), QScatterSeries::MarkerShapeCircle);
        // Labels: 6 px apart side by side, clear of every error bar, by their points or joined to them.
        std::vector<QRectF> bars;
        for (const auto& p : spec.points)
            if (p.y_err > 0) {
                const QPointF a = qc->mapToPosition(QPointF(p.x, p.y + p.y_err), on), b = qc->mapToPosition(QPointF(p.x, p.y - p.y_err), on);
                bars.emplace_back(QPointF(a.x() - 1, std::min(a.y(), b.y())), QPointF(a.x() + 1, std::max(a.y(), b.y())));
            }
        std::vector<QLineF> leaders;
        for (auto* item : qc->childItems())
            if (auto* l = dynamic_cast<QGraphicsLineItem*>(item); l && l->data(1).toString() == "leader") leaders.push_back(l->line());
        std::vector<QRectF> labels;
        for (auto* item : qc->childItems()) {
            auto* t = dynamic_cast<QGraphicsSimpleTextItem*>(item);
            if (!t || t->data(1).toString() != "point") continue;
            const QRectF r(t->pos(), t->boundingRect().size());
            const QString what = QStringLiteral("%1 at %2x%3").arg(t->text()).arg(size.width()).arg(size.height());
            for (const QRectF& o : labels) {
                const bool side_by_side = o.top() < r.bottom() && r.top() < o.bottom();
                if (side_by_side) {
                    const qreal gap = std::max(r.left() - o.right(), o.left() - r.right());
                    QVERIFY2(gap >= 6 - 1e-6, qPrintable(what + QStringLiteral(": %1 px from another label").arg(gap)));
                }
            }
            for (const QRectF& b : bars) QVERIFY2(!b.intersects(r), qPrintable(what + " lies across an error bar"));
            labels.push_back(r);
            const QPointF at = qc->mapToPosition(QPointF(t->data(0).toDouble(), t->data(2).toDouble()), on);
            const QPointF nearest(std::clamp(at.x(), r.left(), r.right()), std::clamp(at.y(), r.top(), r.bottom()));
            // A label nearer another point than its own is always joined to its own.
            bool nearer_other = false;
            for (const auto& p : spec.points) {
                const QPointF o = qc->mapToPosition(QPointF(p.x, p.y), on);
                if (o != at && QLineF(o, QPointF(std::clamp(o.x(), r.left(), r.right()), std::clamp(o.y(), r.top(), r.bottom()))).length() <
                                   QLineF(at, nearest).length())
                    nearer_other = true;
            }
            const bool joined = std::any_of(leaders.begin(), leaders.end(), [&](const QLineF& l) {
                return QLineF(l.p1(), at).length() < 1 && QLineF(l.p2(), nearest).length() < 1;
            });
            QVERIFY2(joined || (!nearer_other && QLineF(at, nearest).length() <= 12), qPrintable(what + " is off its point with no leader"));
        }
        QCOMPARE(labels.size(), spec.points.size());
    }
}

// An experiment not run yet: a sentence, not axes of 0-1.5 with an "on the frontier" legend
// entry and no points.
void TestExperimentWindow::emptyChartSaysSoInsteadOfEmptyAxes() {
    moa::eval::ExperimentResults r;
    r.name = "Sweep";
    r.mode = "pairwise";
    r.reference_name = "Ref";
    for (auto name : {"A", "B"}) {
        moa::eval::ConfigResult c;
        c.name = name;
        c.pending = 3;
        r.configs.push_back(c);
    }
    const auto spec = moa::ui::chart_spec(r, moa::ui::XAxis::Tflops, false, false);
    QVERIFY(spec.points.empty());
    QVERIFY2(spec.empty_note.contains("Not run yet"), qPrintable(spec.empty_note));
    moa::ui::ResultChart chart;
    chart.resize(640, 480);
    chart.setSpec(spec);
    chart.show();
    QVERIFY(QTest::qWaitForWindowExposed(&chart));
    auto* qc = chart.view()->chart();
    for (auto* a : qc->axes()) QVERIFY(!a->isVisible());
    QVERIFY(!qc->legend()->isVisible());
    QString said;
    for (auto* item : qc->childItems())
        if (auto* t = dynamic_cast<QGraphicsSimpleTextItem*>(item); t && t->data(1).toString() == "empty" && t->isVisible()) said = t->text();
    QCOMPARE(said, spec.empty_note);
}

// Issue 13 (the sweep of 8 at 1024×700): every name starts "Demo eight — ", and every label was
// elided to "Demo eight —…", so no label said which point was which. Each label is the part of
// its name that differs, the shared part is said once on the caption, the whole name is in the
// tooltip, and a label shortened to fit is never the same as another.
void TestExperimentWindow::labelsSayWhichConfigurationIsWhich() {
    QString common;
    QCOMPARE(moa::ui::point_labels({"Demo eight — 1 proposer", "Demo eight — 2 proposers"}, &common),
             (std::vector<QString>{"1 proposer", "2 proposers"}));
    QCOMPARE(common, QString("Demo eight — …"));
    // A name that is all shared words, or two alike: the names whole.
    QCOMPARE(moa::ui::point_labels({"MoA (3 layers)", "MoA (3 layers) at 0.7"}, &common),
             (std::vector<QString>{"MoA (3 layers)", "MoA (3 layers) at 0.7"}));
    QVERIFY(common.isEmpty());
    QCOMPARE(moa::ui::point_labels({"A run x", "A run x"}, &common), (std::vector<QString>{"A run x", "A run x"}));
    // A shared end too.
    QCOMPARE(moa::ui::point_labels({"Sweep t=0.2 (demo)", "Sweep t=0.7 (demo)"}, &common), (std::vector<QString>{"t=0.2", "t=0.7"}));
    QCOMPARE(common, QString("Sweep … (demo)"));

    // The chart sizes the Experiments window gives each chart at 1024×700 and 1400×900, and the
    // window's own sizes. A long shared prefix, and one long differing part that must be shortened.
    for (const QSize size : {QSize(470, 260), QSize(660, 400), QSize(1024, 700)}) {
        for (const bool long_prefix : {false, true}) {
            const QString prefix = long_prefix ? "Demo eight, the long name of a sweep over the number of proposers — " : "Demo eight — ";
            moa::ui::ChartSpec spec;
            spec.title = "sweep";
            spec.x_label = "TFLOPs per instance";
            spec.y_label = "Win rate (%)";
            spec.caption = "Win rates against Offline demo.";
            const double ys[] = {20, 40, 50, 20, 80, 100, 40, 40};
            for (int i = 0; i < 8; ++i) {
                QString name = prefix + QStringLiteral("%1 proposer%2").arg(i + 1).arg(i ? "s" : "");
                if (i == 4) name += " with a differing part far too long to fit anywhere on a small chart, on and on and on";
                spec.points.push_back({name, "", 14.0 + 5 * i, ys[i], 20, i == 0 || i == 5});
            }
            moa::ui::ResultChart chart;
            chart.resize(size);
            chart.setSpec(spec);
            chart.show();
            QVERIFY(QTest::qWaitForWindowExposed(&chart));
            QApplication::processEvents();
            if (qEnvironmentVariableIsSet("MOA_TEST_KEEP_SCREENSHOT"))
                chart.grab().save(qEnvironmentVariable("MOA_TEST_KEEP_SCREENSHOT") +
                                  QStringLiteral("labels-%1-%2.png").arg(size.width()).arg(long_prefix));
            // The shared part said once, on the caption line.
            QVERIFY2(chart.spec().caption.startsWith("Configurations: " + prefix + "…"), qPrintable(chart.spec().caption));
            QVERIFY2(chart.spec().caption.contains("Win rates against Offline demo."), qPrintable(chart.spec().caption));
            auto* qc = chart.view()->chart();
            QStringList shown;
            for (auto* item : qc->childItems()) {
                auto* t = dynamic_cast<QGraphicsSimpleTextItem*>(item);
                if (!t || t->data(1).toString() != "point" || !t->isVisible()) continue;
                const QString name = t->toolTip();
                const QString what = QStringLiteral("\"%1\" (%2) at %3x%4").arg(t->text(), name).arg(size.width()).arg(size.height());
                QVERIFY2(std::any_of(spec.points.begin(), spec.points.end(), [&](const auto& p) { return p.name == name; }), qPrintable(what));
                QVERIFY2(!shown.contains(t->text()), qPrintable(what + " reads the same as another label"));
                shown << t->text();
                // Its own name's words: each piece around a "…" is in the name, and not only the shared part.
                const QStringList pieces = t->text().split(QChar(0x2026));
                for (const QString& piece : pieces) QVERIFY2(name.contains(piece), qPrintable(what));
                QVERIFY2(!prefix.contains(t->text().remove(QChar(0x2026)).trimmed()), qPrintable(what + " says only the shared part"));
                QVERIFY2(QRectF(t->pos(), t->boundingRect().size()).right() <= qc->plotArea().right() + 1, qPrintable(what + " overflows the plot"));
                // Shortened only for want of room: whole wherever the chart is not tiny.
                if (!name.contains("far too long") && size.height() >= 400)
                    QVERIFY2(!t->text().contains(QChar(0x2026)), qPrintable(what + " is shortened"));
            }
            QCOMPARE(shown.size(), 8);
        }
    }
}

// Issue 13: at 1024×700 the y axis read "LC (unregularised) w…" and a chart title "TFLOPs
// against qu…". In the Experiments window at 1024×700 and 1400×900, every axis title and chart
// title is drawn whole (the chart draws a title that does not fit shortened, ending "...").
void TestExperimentWindow::titlesAreDrawnWholeAtTheWindowsSizes() {
    QTemporaryDir dir;
    QProcess demo; // an experiment that is opened, not run (its charts are given specs below)
    demo.start("python3", {MOA_SOURCE_ROOT "/tools/experiment_demo.py", "9", dir.filePath("exp")});
    QVERIFY(demo.waitForFinished(60000));
    const QString exp = QString::fromUtf8(demo.readAllStandardOutput()).trimmed();
    auto results = [](const std::string& mode) {
        moa::eval::ExperimentResults r;
        r.name = "Demo eight sweep over the number of proposers";
        r.mode = mode;
        r.reference_name = "Offline demo";
        r.judge_note = "offline demo judge: counts words, not a real judge";
        for (int i = 0; i < 8; ++i) {
            moa::eval::ConfigResult c;
            c.name = QStringLiteral("Demo eight — %1 proposers").arg(i + 1).toStdString();
            c.win.win_rate = 10.0 * i;
            c.win.standard_error = 5;
            c.lc_win_rate = 10.0 * i + 2;
            c.lc_standard_error = 4;
            c.score = 1 + i * 0.4;
            c.score_se = 0.2;
            c.tflops_per_instance = 14 + 4.5 * i;
            c.median_ttft_ms = 300 + 40 * i;
            c.median_wall_ms = 2000 + 300 * i;
            c.generated = c.judged = 5;
            r.configs.push_back(c);
        }
        return r;
    };
    for (const QSize size : {QSize(1024, 700), QSize(1400, 900)}) {
        ExperimentWindow w;
        w.resize(size);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        QSignalSpy shown(&w, &ExperimentWindow::resultsShown);
        w.openExperiment(exp, dir.filePath("e.sqlite"));
        QVERIFY(shown.wait(20000)); // its own (empty) charts first, then the ones given here
        QTRY_COMPARE_WITH_TIMEOUT(w.size(), size, 5000);
        for (const std::string mode : {"pairwise", "single", "flask"})
            for (const auto x : {moa::ui::XAxis::Cost, moa::ui::XAxis::Tflops, moa::ui::XAxis::Ttft, moa::ui::XAxis::Wall}) {
                auto* chart = x == moa::ui::XAxis::Cost ? w.costChart() : w.tflopsChart();
                const auto spec = moa::ui::chart_spec(results(mode), x, false, false);
                chart->setSpec(spec);
                QTRY_VERIFY_WITH_TIMEOUT(chart->view()->chart()->plotArea().height() > 0, 5000);
                QApplication::processEvents();
                auto* qc = chart->view()->chart();
                QStringList drawn;
                for (auto* item : qc->scene()->items())
                    if (auto* t = dynamic_cast<QGraphicsTextItem*>(item); t && t->isVisible())
                        drawn << t->toPlainText().replace(QChar(0x2028), '\n').replace(QChar(0x2029), '\n');
                const QString title = QTextDocumentFragment::fromHtml(qc->title()).toPlainText().replace(QChar(0x2028), '\n');
                const QString what = QStringLiteral("%1x%2, %3, x %4: drawn %5")
                                         .arg(size.width())
                                         .arg(size.height())
                                         .arg(QString::fromStdString(mode))
                                         .arg(int(x))
                                         .arg(drawn.join(" | "));
                if (qEnvironmentVariableIsSet("MOA_TEST_KEEP_SCREENSHOT") && mode == "pairwise")
                    w.grab().save(qEnvironmentVariable("MOA_TEST_KEEP_SCREENSHOT") + QStringLiteral("titles-%1-%2.png").arg(size.width()).arg(int(x)));
                QVERIFY2(drawn.contains(title), qPrintable("title \"" + title + "\" is not drawn whole; " + what));
                for (auto* a : qc->axes())
                    QVERIFY2(drawn.contains(a->titleText()), qPrintable("axis title \"" + a->titleText() + "\" is not drawn whole; " + what));
                // What the axes no longer say is on the caption line.
                if (mode == "pairwise" && x == moa::ui::XAxis::Cost)
                    QVERIFY2(chart->spec().caption.contains("LC (unregularised)"), qPrintable(chart->spec().caption));
            }
    }
}

// `moa-workbench --experiment F --window-size WxH --screenshot P` pictured the Experiments window
// at its own size (1280×820 bounded by the screen), whatever --window-size said: there was no
// true 1400×900 or 1024×700 picture of it. The real program, its PNG's size.
void TestExperimentWindow::screenshotHonoursWindowSize() {
    QTemporaryDir dir;
    QProcess demo; // opened, not run: the picture's size is what is checked
    demo.start("python3", {MOA_SOURCE_ROOT "/tools/experiment_demo.py", "9", dir.filePath("exp")});
    QVERIFY(demo.waitForFinished(60000));
    const QString exp = QString::fromUtf8(demo.readAllStandardOutput()).trimmed();
    QVERIFY2(demo.exitCode() == 0 && QFileInfo::exists(exp), qPrintable(exp));
    for (const QSize size : {QSize(1400, 900), QSize(1024, 700)}) {
        QProcess p;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert("QT_QPA_PLATFORM", "offscreen");
        env.insert("XDG_CONFIG_HOME", dir.filePath("config"));
        env.insert("MOA_HISTORY_DB", dir.filePath("history.sqlite"));
        p.setProcessEnvironment(env);
        const QString png = dir.filePath(QStringLiteral("experiment-%1.png").arg(size.width()));
        p.start(QFileInfo(MOA_BINARY).dir().filePath("moa-workbench"),
                {"--window-size", QStringLiteral("%1x%2").arg(size.width()).arg(size.height()), "--experiment", exp, "--experiment-db",
                 dir.filePath("exp.sqlite"), "--screenshot", png});
        QVERIFY(p.waitForFinished(120000));
        QVERIFY2(p.exitCode() == 0, p.readAllStandardError().constData());
        const QImage shot(png);
        QVERIFY2(!shot.isNull() && shot.size() == size,
                 qPrintable(QStringLiteral("asked %1x%2, pictured %3x%4").arg(size.width()).arg(size.height()).arg(shot.width()).arg(shot.height())));
    }
}

#include "tst_experiment_window.moc"

void TestExperimentWindow::demoCostChartSaysZeroAndKeepsLabelsApart() {
    // The offline demo experiment: every configuration costs $0. The cost chart was an axis of
    // millionths of a dollar with every point squashed against its edge and the labels on top
    // of each other; now one "$0 (nothing billed)" mark, said in the axis title, labels apart.
    moa::eval::ExperimentResults r;
    r.name = "Offline demo experiment";
    r.mode = "pairwise";
    r.reference_name = "One demo model";
    for (auto [name, rate, tflops] : {std::tuple{"Demo MoA: 2 proposer layers + aggregator", 60.0, 70.0},
                                      std::tuple{"Demo MoA: 1 proposer layer + aggregator", 60.0, 40.0},
                                      std::tuple{"A third demo configuration", 40.0, 20.0}}) {
        moa::eval::ConfigResult c;
        c.name = name;
        c.win.win_rate = rate;
        c.win.standard_error = 5;
        c.tflops_per_instance = tflops;
        c.generated = c.judged = 5; // results exist (configurations with none are not plotted)
        r.configs.push_back(c);
    }
    const auto spec = moa::ui::chart_spec(r, moa::ui::XAxis::Cost, false, false);
    QVERIFY(spec.all_free);
    // Said on the caption line under the chart, which wraps; the axis title stays short (it was elided).
    QVERIFY2(spec.caption.contains("$0") && spec.caption.contains("offline demo"), qPrintable(spec.caption));
    QCOMPARE(spec.x_label, QString("Cost per instance"));
    // The TFLOPs chart keeps its own axis (the demo's configurations differ there).
    QVERIFY(!moa::ui::chart_spec(r, moa::ui::XAxis::Tflops, false, false).all_free);
    moa::ui::ResultChart chart;
    chart.resize(640, 480);
    chart.setSpec(spec);
    chart.show();
    QVERIFY(QTest::qWaitForWindowExposed(&chart));
    auto* qc = chart.view()->chart();
    auto* ax = qobject_cast<QCategoryAxis*>(qc->axes(Qt::Horizontal).value(0));
    QVERIFY(ax);
    QCOMPARE(ax->categoriesLabels(), QStringList{"$0 (nothing billed)"}); // true of the demo and of free models alike
    QVERIFY(ax->min() < 0 && ax->max() > 0); // the points stand in the middle, not on the edge
    std::vector<QRectF> labels;
    for (auto* item : qc->childItems())
        if (auto* t = dynamic_cast<QGraphicsSimpleTextItem*>(item); t && t->data(1).toString() == "point") {
            const QRectF rect(t->pos(), t->boundingRect().size());
            QVERIFY2(qc->plotArea().adjusted(-1, -1, 1, 1).contains(rect), qPrintable(t->text()));
            for (const QRectF& o : labels) QVERIFY2(!o.intersects(rect), qPrintable(t->text()));
            labels.push_back(rect);
        }
    QCOMPARE(labels.size(), std::size_t(3));
    // The legend's markers have the colours of their points.
    for (auto* s : qc->series())
        if (auto* sc = qobject_cast<QScatterSeries*>(s))
            for (auto* m : qc->legend()->markers(sc))
                if (m->isVisible()) QVERIFY2(m->brush().color() == sc->color(), qPrintable(sc->name()));
}

void TestExperimentWindow::unknownCostIsNeverZeroOnTheCharts() {
    // Configurations whose models have no price (cost_complete false, nothing known) were drawn
    // at "$0 for every configuration (nothing billed …)", and the TFLOPs chart of models without
    // parameter counts was an axis of 0..1e-06 with scientific ticks.
    moa::eval::ExperimentResults r;
    r.name = "Priceless";
    r.mode = "pairwise";
    r.reference_name = "Ref";
    for (auto name : {"A", "B"}) {
        moa::eval::ConfigResult c;
        c.name = name;
        c.win.win_rate = 50;
        c.cost_per_instance = 0;
        c.cost_complete = false;
        c.generated = c.judged = 4;
        r.configs.push_back(c);
    }
    auto spec = moa::ui::chart_spec(r, moa::ui::XAxis::Cost, false, false);
    QVERIFY(spec.all_free);
    QCOMPARE(spec.single_mark, QString("cost unknown"));
    QVERIFY2(spec.caption.contains("unknown") && !spec.caption.contains("$0"), qPrintable(spec.caption));
    auto tf = moa::ui::chart_spec(r, moa::ui::XAxis::Tflops, false, false);
    QVERIFY(tf.all_free);
    QCOMPARE(tf.single_mark, QString("TFLOPs unknown"));
    moa::ui::ResultChart chart;
    chart.resize(640, 480);
    chart.setSpec(spec);
    auto* ax = qobject_cast<QCategoryAxis*>(chart.view()->chart()->axes(Qt::Horizontal).value(0));
    QVERIFY(ax);
    QCOMPARE(ax->categoriesLabels(), QStringList{"cost unknown"});

    // One configuration priced in part, one known, one unknown: the partial one at its known part
    // marked "≥", the unknown one left off the cost axis and named in its title.
    r.configs[0].cost_per_instance = 0.002; // part known
    moa::eval::ConfigResult known;
    known.name = "C";
    known.win.win_rate = 60;
    known.cost_per_instance = 0.01;
    known.generated = known.judged = 4;
    r.configs.push_back(known);
    spec = moa::ui::chart_spec(r, moa::ui::XAxis::Cost, false, false);
    QVERIFY(!spec.all_free);
    QCOMPARE(spec.points.size(), std::size_t(2));
    QVERIFY2(spec.points[0].name.contains(QString("≥ $0.002")), qPrintable(spec.points[0].name));
    QVERIFY2(spec.caption.contains("not plotted, cost unknown: B"), qPrintable(spec.caption));

    // The shared wording (the History dock and the results table use it).
    QCOMPARE(moa::ui::cost_text(false, 0.0), QString("cost unknown"));
    QCOMPARE(moa::ui::cost_text(false, 0.002), QString("≥ $0.002"));
    QCOMPARE(moa::ui::cost_text(true, 0.0), QString("$0"));
}

