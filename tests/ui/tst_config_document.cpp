// SPDX-License-Identifier: MIT
// The graph editor's model: every edit undoable, consecutive edits of one field merged, the
// graph following the document, and inspector edit -> save -> load giving the same file.
#include <QFile>
#include <QLineEdit>
#include <QSpinBox>
#include <QTemporaryDir>
#include <QtTest>

#include "test_server.h"

#include "graph/graph_scene.h"
#include "model/autosave.h"
#include "model/config_document.h"
#include "model/inspector.h"
#include "util/resources.h"

using namespace moa;
using namespace moa::ui;

namespace {
config::Config preset(const char* name) { return *config::load_config_file(resources::preset_path(name)).config; }
std::string dump(const config::Config& c) { return config::to_json(c).dump(); }
} // namespace

class TestConfigDocument : public QObject {
    Q_OBJECT
private slots:
    void everyEditUndoesAndRedoes();
    void consecutiveFieldEditsMerge();
    void moveAgentBetweenLayers();
    void removingTheLastAgentOfALayerRemovesTheLayer();
    void editsStopAtTheLoadersLimits();
    void graphFollowsTheDocument();
    void invalidPartsAreMarkedOnTheCanvas();
    void inspectorEditSaveLoadGivesTheSameFile();
    void saveIsAtomicAndReportsFailure();
    void buildMoaLiteFromAnEmptyCanvas();
    void autosaveRecoversAfterACrash();
    void fullDiskOrReadOnlyFolderKeepsTheOldFile();
};

void TestConfigDocument::everyEditUndoesAndRedoes() {
    ConfigDocument doc;
    doc.reset(preset("moa-lite"), {});
    const std::string original = dump(doc.config());
    doc.addAgent(0, default_agent(doc.config()));
    doc.duplicateAgent(0, 0);
    doc.removeAgent(0, 2);
    doc.addLayer(1);
    doc.removeLayer(1);
    QVERIFY(doc.isDirty());
    const std::string edited = dump(doc.config());
    QCOMPARE(doc.undoStack()->count(), 5);
    while (doc.undoStack()->canUndo()) doc.undoStack()->undo();
    QCOMPARE(dump(doc.config()), original);
    QVERIFY(!doc.isDirty());
    while (doc.undoStack()->canRedo()) doc.undoStack()->redo();
    QCOMPARE(dump(doc.config()), edited);
}

void TestConfigDocument::consecutiveFieldEditsMerge() {
    ConfigDocument doc;
    doc.reset(preset("moa-lite"), {});
    auto a = doc.config().layers[0].agents[0];
    for (const char* m : {"q", "qw", "qwe"}) {
        a.model = m;
        doc.setAgent(0, 0, a, 42);
    }
    QCOMPARE(doc.undoStack()->count(), 1);
    doc.undoStack()->undo();
    QCOMPARE(doc.config().layers[0].agents[0].model, std::string("Qwen/Qwen1.5-110B-Chat"));
}

void TestConfigDocument::moveAgentBetweenLayers() {
    ConfigDocument doc;
    doc.reset(preset("moa-paper"), {});
    const auto moved = doc.config().layers[0].agents[2].model;
    doc.moveAgent(0, 2, 1, 0);
    QCOMPARE(doc.config().layers[0].agents.size(), std::size_t(5));
    QCOMPARE(doc.config().layers[1].agents.size(), std::size_t(7));
    QCOMPARE(doc.config().layers[1].agents[0].model, moved);
    doc.undoStack()->undo();
    QCOMPARE(doc.config().layers[0].agents[2].model, moved);
}

void TestConfigDocument::removingTheLastAgentOfALayerRemovesTheLayer() {
    ConfigDocument doc;
    doc.reset(preset("moa-paper"), {});
    doc.addLayer(1);
    QCOMPARE(doc.config().layers.size(), std::size_t(4));
    doc.removeAgent(1, 0);
    QCOMPARE(doc.config().layers.size(), std::size_t(3));
}

// The editor cannot build what the loader refuses (a saved file must open again): each kind of
// edit that adds stops at the limit, says why, and leaves nothing on the undo stack.
void TestConfigDocument::editsStopAtTheLoadersLimits() {
    ConfigDocument doc;
    doc.reset(preset("moa-paper"), {});
    QSignalSpy refused(&doc, &ConfigDocument::refused);
    const auto agent = doc.config().layers[0].agents[0];
    while (doc.config().layers[0].agents.size() < config::kMaxAgentsPerLayer) doc.addAgent(0, agent);
    QCOMPARE(refused.count(), 0);
    const int undo_depth = doc.undoStack()->count();
    doc.addAgent(0, agent);
    doc.duplicateAgent(0, 0);
    doc.moveAgent(1, 0, 0, 0);
    QCOMPARE(doc.config().layers[0].agents.size(), config::kMaxAgentsPerLayer);
    QCOMPARE(doc.undoStack()->count(), undo_depth);
    QCOMPARE(refused.count(), 3);
    QVERIFY(refused.last().at(0).toString().contains(QString::number(config::kMaxAgentsPerLayer)));

    while (doc.config().layers.size() < config::kMaxLayers) doc.addLayer(1);
    doc.addLayer(1);
    QCOMPARE(doc.config().layers.size(), config::kMaxLayers);
    QVERIFY(refused.last().at(0).toString().contains(QString("%1 layers").arg(config::kMaxLayers)));

    // The total: add agents to the middle layers up to the limit in all; one more is refused.
    std::size_t total = 0;
    for (const auto& L : doc.config().layers) total += L.agents.size();
    for (int l = 1; total < config::kMaxAgents; l = l % (static_cast<int>(config::kMaxLayers) - 2) + 1) {
        if (doc.config().layers[static_cast<std::size_t>(l)].agents.size() < config::kMaxAgentsPerLayer) {
            doc.addAgent(l, agent);
            ++total;
        }
    }
    const int before = refused.count();
    doc.addAgent(2, agent);
    QCOMPARE(refused.count(), before + 1);
    QVERIFY(refused.last().at(0).toString().contains("in all"));
    // And what it built loads again.
    QVERIFY(config::load_config_text(config::to_json(doc.config()).dump(), "t").config);
}

void TestConfigDocument::graphFollowsTheDocument() {
    ConfigDocument doc;
    doc.reset(preset("moa-paper"), {});
    GraphScene scene(&doc);
    QVERIFY(scene.node(0, 5) && scene.node(2, 0) && !scene.node(2, 1));
    // 6x6 + 6x1 edges and 13 nodes.
    int paths = 0;
    for (auto* item : scene.items()) paths += item->type() == QGraphicsPathItem::Type;
    QCOMPARE(paths, 36 + 6);
    doc.removeAgent(0, 5);
    QVERIFY(!scene.node(0, 5));
    // The final aggregator stands alone on the right of every other node.
    for (int i = 0; i < 5; ++i) QVERIFY(scene.node(2, 0)->x() > scene.node(1, i)->x());
    // Dropping a node onto another column moves the agent there.
    auto target = scene.dropTarget(scene.node(1, 0)->pos() + QPointF(10, -5));
    QCOMPARE(target.first, 1);
    QCOMPARE(target.second, 0);
}

void TestConfigDocument::invalidPartsAreMarkedOnTheCanvas() {
    ConfigDocument doc;
    doc.reset(preset("moa-lite"), {});
    auto a = doc.config().layers[0].agents[1];
    a.provider = "nowhere";
    doc.setAgent(0, 1, a);
    bool found = false;
    for (const auto& i : doc.issues())
        found = found || (i.pointer == "/layers/0/agents/1/provider" && i.message.find("unknown provider") != std::string::npos);
    QVERIFY(found);
    GraphScene scene(&doc);
    QVERIFY(scene.node(0, 1)->toolTip().contains("unknown provider \"nowhere\""));
    // The last layer with two agents is marked too.
    doc.addAgent(1, default_agent(doc.config()));
    bool last = false;
    for (const auto& i : doc.issues()) last = last || i.message.find("exactly one agent") != std::string::npos;
    QVERIFY(last);
}

void TestConfigDocument::inspectorEditSaveLoadGivesTheSameFile() {
    QTemporaryDir dir;
    ConfigDocument doc;
    doc.reset(preset("moa-lite"), {});
    Inspector inspector(&doc);
    inspector.setAgent(0, 1);
    auto* model = inspector.findChild<QLineEdit*>("model");
    QVERIFY(model);
    model->selectAll();
    QTest::keyClicks(model, "my/model-7b");
    auto* max = inspector.findChild<QSpinBox*>("max_tokens");
    QVERIFY(max);
    max->setValue(321);
    QCOMPARE(doc.config().layers[0].agents[1].model, std::string("my/model-7b"));
    QCOMPARE(doc.config().layers[0].agents[1].params.max_tokens.value(), 321L);
    QCOMPARE(doc.undoStack()->count(), 2); // typing the model name was one step
    const QString path = dir.filePath("edited.moa.json");
    QString err;
    QVERIFY2(doc.save(path, &err), qPrintable(err));
    QVERIFY(!doc.isDirty());
    ConfigDocument again;
    QVERIFY(again.load(path, &err));
    QCOMPARE(dump(again.config()), dump(doc.config()));
    QFile f(path);
    f.open(QIODevice::ReadOnly);
    const QByteArray first = f.readAll();
    f.close();
    QVERIFY(again.save(path, &err));
    QFile g(path);
    g.open(QIODevice::ReadOnly);
    QCOMPARE(g.readAll(), first); // saving what was loaded writes the same bytes
}

void TestConfigDocument::saveIsAtomicAndReportsFailure() {
    QTemporaryDir dir;
    ConfigDocument doc;
    doc.reset(preset("moa-lite"), {});
    const QString path = dir.filePath("keep.moa.json");
    QString err;
    QVERIFY(doc.save(path, &err));
    QFile f(path);
    f.open(QIODevice::ReadOnly);
    const QByteArray before = f.readAll();
    f.close();
    doc.addAgent(0, default_agent(doc.config()));
    QVERIFY(!doc.save("/proc/no-such-dir/x.moa.json", &err));
    QVERIFY2(err.contains("/proc/no-such-dir/x.moa.json"), qPrintable(err));
    QVERIFY(doc.isDirty()); // nothing was saved, and the document knows it
    QFile g(path);
    g.open(QIODevice::ReadOnly);
    QCOMPARE(g.readAll(), before);
}

void TestConfigDocument::buildMoaLiteFromAnEmptyCanvas() {
    // A new user's path: one agent on an empty canvas, six proposers, one aggregator.
    ConfigDocument doc;
    config::Config c;
    c.name = "My MoA-Lite";
    config::Provider p;
    p.name = "local";
    p.base_url = "http://127.0.0.1:9/v1";
    c.providers["local"] = p;
    c.aggregation.template_text = config::default_aggregation_template();
    c.layers.push_back(config::Layer{{config::Agent{"local", "aggregator-model", {}, {}}}, {}, {}});
    doc.reset(c, {});
    doc.addLayer(0);
    for (int i = 0; i < 5; ++i) doc.duplicateAgent(0, 0);
    QCOMPARE(doc.config().layers.size(), std::size_t(2));
    QCOMPARE(doc.config().layers[0].agents.size(), std::size_t(6));
    QCOMPARE(doc.config().layers[1].agents.size(), std::size_t(1));
    QVERIFY(doc.issues().empty());
}

void TestConfigDocument::autosaveRecoversAfterACrash() {
    QTemporaryDir dir;
    const QString file = dir.filePath("autosave.json");
    std::string edited;
    {
        ConfigDocument doc;
        doc.reset(preset("moa-lite"), "/somewhere/mine.moa.json");
        Autosave autosave(&doc, file, 50);
        QVERIFY(!autosave.pending());
        doc.duplicateAgent(0, 0);
        edited = dump(doc.config());
        QTRY_VERIFY(QFile::exists(file)); // written shortly after the edit
        // The process "crashes" here: nothing clears the file.
    }
    ConfigDocument doc2;
    Autosave again(&doc2, file, 50);
    auto rec = again.pending();
    QVERIFY(rec.has_value());
    QCOMPARE(dump(rec->config), edited);
    QCOMPARE(rec->original_path, QStringLiteral("/somewhere/mine.moa.json"));
    // Saving (back to a clean state) removes it.
    doc2.reset(rec->config, {});
    doc2.addLayer(0);
    QString err;
    QVERIFY(doc2.save(dir.filePath("saved.moa.json"), &err));
    QVERIFY(!QFile::exists(file));
}

void TestConfigDocument::fullDiskOrReadOnlyFolderKeepsTheOldFile() {
    QTemporaryDir dir;
    ConfigDocument doc;
    doc.reset(preset("moa-paper"), {});
    const QString path = dir.filePath("keep.moa.json");
    QString err;
    QVERIFY(doc.save(path, &err));
    auto contents = [&path] {
        QFile f(path);
        f.open(QIODevice::ReadOnly);
        return f.readAll();
    };
    const QByteArray before = contents();
    QVERIFY(before.size() > 2048);
    doc.addAgent(0, default_agent(doc.config()));

    // A full disk: no file of this process may grow past 1 KB, so the new one cannot be written whole.
    bool saved = true;
    with_full_disk(1024, [&] { saved = doc.save(path, &err); });
    QVERIFY(!saved);
    QVERIFY2(err.contains(path) && err.contains("old file is unchanged"), qPrintable(err));
    QCOMPARE(contents(), before);
    QVERIFY(doc.isDirty());
    QCOMPARE(QDir(dir.path()).entryList(QDir::Files), QStringList{"keep.moa.json"}); // no temporary left

    // A read-only folder.
    saved = true;
    with_read_only_folder(dir.path(), [&] { saved = doc.save(path, &err); });
    QVERIFY(!saved);
    QVERIFY2(err.contains(path), qPrintable(err));
    QCOMPARE(contents(), before);
    QVERIFY(doc.isDirty());
    QVERIFY(doc.save(path, &err)); // and once the disk is back, it saves
    QVERIFY(contents() != before);
}

QTEST_MAIN(TestConfigDocument)
#include "tst_config_document.moc"
