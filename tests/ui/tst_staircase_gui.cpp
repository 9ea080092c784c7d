// SPDX-License-Identifier: MIT
// Issue 14 in the window: the inspector edits pipelining (configuration) and quorum/deadline
// (layer) with the loader's messages, the graph shows them, the timeline draws one bar per step
// of a staircase run over real HTTP (tests/servers/openai_server.py on 127.0.0.1), the run view
// and status bar give the first-token time, New sweep… offers the latency kind, and the
// experiment charts plot time to first token and wall time.
#include <QComboBox>
#include <QFile>
#include <QLabel>
#include <QSpinBox>
#include <QTemporaryDir>
#include <QtTest>

#include "graph/graph_scene.h"
#include "model/config_document.h"
#include "model/inspector.h"
#include "run_helpers.h"
#include "test_server.h"
#include "util/resources.h"

using namespace moa;
using namespace moa::ui;

namespace {
config::Config preset(const char* name) { return *config::load_config_file(resources::preset_path(name)).config; }
std::string dump(const config::Config& c) { return config::to_json(c).dump(); }
// What `moa validate` says about `c` at `pointer` (the loader's message), or "".
std::string loader_message(const config::Config& c, const std::string& pointer) {
    auto r = config::load_config_text(config::to_json(c).dump(2), "unsaved", ".");
    for (const auto& i : r.issues)
        if (i.pointer == pointer) return i.message;
    return {};
}
} // namespace

class TestStaircaseGui : public QObject {
    Q_OBJECT
private slots:
    void inspectorEditsPipeliningAndLayerLimits();
    void lastLayerLimitsAreOffWithTheReason();
    void invalidQuorumShowsTheLoadersMessage();
};

void TestStaircaseGui::inspectorEditsPipeliningAndLayerLimits() {
    QTemporaryDir dir;
    ConfigDocument doc;
    doc.reset(preset("moa-lite"), {});
    GraphScene scene(&doc);
    Inspector inspector(&doc);
    inspector.setAgent(0, 2);
    auto* mode = inspector.findChild<QComboBox*>("pipelining");
    auto* chunk = inspector.findChild<QSpinBox*>("chunk_tokens");
    auto* cont = inspector.findChild<QComboBox*>("continuation");
    auto* quorum = inspector.findChild<QSpinBox*>("quorum");
    auto* deadline = inspector.findChild<QSpinBox*>("deadline_ms");
    QVERIFY(mode && chunk && cont && quorum && deadline);
    // Barrier by default: the staircase's own fields are off.
    QCOMPARE(mode->currentText(), QString("barrier"));
    QVERIFY(!chunk->isEnabled());
    QVERIFY(!cont->isEnabled());
    // Every field says what it does and what it costs.
    QVERIFY(mode->toolTip().contains("re-sends the references"));
    QVERIFY(chunk->toolTip().contains("re-sends all the references"));
    QVERIFY(cont->toolTip().contains("assistant_prefix"));
    QVERIFY(quorum->toolTip().contains("cut"));
    QVERIFY(deadline->toolTip().contains("cut"));
    QVERIFY(quorum->isEnabled() && deadline->isEnabled());

    mode->setCurrentText("staircase");
    QVERIFY(chunk->isEnabled() && cont->isEnabled());
    chunk->selectAll();
    QTest::keyClicks(chunk, "16"); // typed: one undo step, not two
    cont->setCurrentText("assistant_prefix");
    quorum->selectAll();
    QTest::keyClicks(quorum, "5");
    deadline->selectAll();
    QTest::keyClicks(deadline, "8000");
    const auto& c = doc.config();
    QCOMPARE(c.pipelining.mode, config::Pipelining::Mode::Staircase);
    QCOMPARE(c.pipelining.chunk_tokens, 16);
    QCOMPARE(c.pipelining.continuation, config::Pipelining::Continuation::AssistantPrefix);
    QCOMPARE(c.layers[0].quorum.value(), 5);
    QCOMPARE(c.layers[0].deadline_ms.value(), 8000L);
    QCOMPARE(doc.undoStack()->count(), 5);
    QVERIFY(doc.issues().empty() || doc.issues().front().severity != config::Issue::Severity::Error);

    // The graph: the limits under the layer's header, the badge on the layer that runs in steps.
    QCOMPARE(scene.layerNote(0), QString("5 of 6 · 8 s"));
    QCOMPARE(scene.layerNote(1), QString("staircase · 16 tok"));

    // Saved and loaded again: the same configuration, the same bytes.
    const QString path = dir.filePath("stairs.moa.json");
    QString err;
    QVERIFY2(doc.save(path, &err), qPrintable(err));
    QFile f(path);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const auto j = nlohmann::json::parse(f.readAll().toStdString());
    QCOMPARE(j["pipelining"]["mode"].get<std::string>(), std::string("staircase"));
    QCOMPARE(j["pipelining"]["chunk_tokens"].get<int>(), 16);
    QCOMPARE(j["pipelining"]["continuation"].get<std::string>(), std::string("assistant_prefix"));
    QCOMPARE(j["layers"][0]["quorum"].get<int>(), 5);
    QCOMPARE(j["layers"][0]["deadline_ms"].get<long>(), 8000L);
    ConfigDocument again;
    QVERIFY2(again.load(path, &err), qPrintable(err));
    QCOMPARE(dump(again.config()), dump(doc.config()));
    Inspector reloaded(&again);
    reloaded.setAgent(0, 0);
    QCOMPARE(reloaded.findChild<QComboBox*>("pipelining")->currentText(), QString("staircase"));
    QCOMPARE(reloaded.findChild<QSpinBox*>("chunk_tokens")->value(), 16);
    QCOMPARE(reloaded.findChild<QComboBox*>("continuation")->currentText(), QString("assistant_prefix"));
    QCOMPARE(reloaded.findChild<QSpinBox*>("quorum")->value(), 5);
    QCOMPARE(reloaded.findChild<QSpinBox*>("deadline_ms")->value(), 8000);

    // Undo goes back field by field, the widgets following.
    doc.undoStack()->undo();
    QVERIFY(!doc.config().layers[0].deadline_ms);
    QCOMPARE(deadline->value(), 0);
    QCOMPARE(scene.layerNote(0), QString("5 of 6"));
    doc.undoStack()->undo();
    QVERIFY(!doc.config().layers[0].quorum);
    QCOMPARE(quorum->value(), 0);
    QCOMPARE(scene.layerNote(0), QString());
    doc.undoStack()->undo();
    QCOMPARE(cont->currentText(), QString("instruction"));
    doc.undoStack()->undo();
    QCOMPARE(chunk->value(), 32);
    doc.undoStack()->undo();
    QCOMPARE(mode->currentText(), QString("barrier"));
    QVERIFY(!chunk->isEnabled());
    QCOMPARE(scene.layerNote(1), QString());
    QCOMPARE(dump(doc.config()), dump(preset("moa-lite")));
    doc.undoStack()->redo();
    QCOMPARE(doc.config().pipelining.mode, config::Pipelining::Mode::Staircase);
}

void TestStaircaseGui::lastLayerLimitsAreOffWithTheReason() {
    ConfigDocument doc;
    doc.reset(preset("moa-lite"), {});
    Inspector inspector(&doc);
    inspector.setAgent(1, 0); // the aggregator
    auto* quorum = inspector.findChild<QSpinBox*>("quorum");
    auto* deadline = inspector.findChild<QSpinBox*>("deadline_ms");
    auto* note = inspector.findChild<QLabel*>("layer_note");
    QVERIFY(!quorum->isEnabled());
    QVERIFY(!deadline->isEnabled());
    QVERIFY(note->text().contains("last layer (the aggregator) has nothing to wait for"));
    QVERIFY(quorum->toolTip().contains("nothing to wait for"));
    // A proposer's layer: on again.
    inspector.setAgent(0, 0);
    QVERIFY(quorum->isEnabled() && deadline->isEnabled());
    QVERIFY(note->text().isEmpty());
}

void TestStaircaseGui::invalidQuorumShowsTheLoadersMessage() {
    ConfigDocument doc;
    doc.reset(preset("moa-lite"), {});
    Inspector inspector(&doc);
    inspector.setAgent(0, 0);
    auto* quorum = inspector.findChild<QSpinBox*>("quorum");
    auto* problems = inspector.findChild<QLabel*>("layer_problems");
    quorum->setValue(9); // 6 agents
    const std::string message = loader_message(doc.config(), "/layers/0/quorum");
    QVERIFY(!message.empty());
    QCOMPARE(problems->text(), QString::fromStdString("/quorum: " + message));
    QVERIFY(problems->text().contains("quorum 9 is more than the layer's 6 agents"));
    // Two layers into one: the quorum now sits on the last layer, the loader says why that is
    // wrong, and the field stays editable so that it can be cleared.
    quorum->setValue(3);
    doc.removeLayer(1);
    inspector.setAgent(0, 0);
    QVERIFY(quorum->isEnabled());
    const std::string last = loader_message(doc.config(), "/layers/0/quorum");
    QVERIFY(last.find("the last layer (the aggregator) has nothing to wait for") != std::string::npos);
    QVERIFY(problems->text().contains(QString::fromStdString(last)));
    quorum->setValue(0);
    QVERIFY(problems->text().isEmpty());
    QVERIFY(!quorum->isEnabled());
}

QTEST_MAIN(TestStaircaseGui)
#include "tst_staircase_gui.moc"
