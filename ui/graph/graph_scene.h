// SPDX-License-Identifier: MIT
#pragma once
// The layer graph: layers are columns from left to right, agents are nodes, and every agent of
// a layer feeds every agent of the next (drawn as light curves so 6x6 edges stay readable).
// The final aggregator stands alone on the right. Nodes light up while their agents run.
#include <QGraphicsObject>
#include <QGraphicsScene>
#include <QGraphicsView>
#include <QHash>

#include <map>
#include <tuple>

#include "engine/run_provenance.h"
#include "engine/run_types.h"
#include "model/config_document.h"

namespace moa::ui {

class AgentNode : public QGraphicsObject {
    Q_OBJECT
public:
    static constexpr qreal kWidth = 190, kHeight = 64;
    AgentNode(int layer, int index, const config::Agent& a, bool aggregator, bool last_layer, bool demo);
    QRectF boundingRect() const override;
    void paint(QPainter* p, const QStyleOptionGraphicsItem* o, QWidget* w) override;
    int layer() const { return layer_; }
    int index() const { return index_; }
    void setRunState(engine::AgentState s, bool active);
    // After a run: the node's provenance line ("42% of the final answer", or "ignored by the
    // next layer"), its full wording for the tooltip; empty clears it.
    void setProvenance(const QString& line, const QString& tip, bool ignored);
    QString provenanceLine() const { return prov_line_; }
    bool isIgnored() const { return ignored_; }
    void setProblem(const QString& message);

signals:
    void dropped(AgentNode* node, QPointF scene_pos);

protected:
    void mousePressEvent(QGraphicsSceneMouseEvent* e) override;
    void mouseMoveEvent(QGraphicsSceneMouseEvent* e) override;
    void mouseReleaseEvent(QGraphicsSceneMouseEvent* e) override;

private:
    int layer_, index_;
    QString model_, provider_, role_;
    bool demo_;
    bool has_state_ = false;
    engine::AgentState state_ = engine::AgentState::Queued;
    bool active_ = false;
    QString problem_;
    QString prov_line_, prov_tip_;
    bool ignored_ = false;
    QString baseToolTip() const;
    QPointF press_pos_;
};

class GraphScene : public QGraphicsScene {
    Q_OBJECT
public:
    explicit GraphScene(ConfigDocument* doc, QObject* parent = nullptr);
    ~GraphScene() override;
    void rebuild();
    // Selected agent as (layer, index), or (-1, -1).
    std::pair<int, int> selectedAgent() const;
    void selectAgent(int layer, int index);
    AgentNode* node(int layer, int index) const { return nodes_.value({layer, index}); }
    // Read-only (a stored run's graph): nodes are selected by a click or the arrow keys, never
    // dragged to another place.
    void setReadOnly(bool read_only);
    bool readOnly() const { return read_only_; }
    // Run state on the nodes; clearRunStates() when a new run starts or the graph changes.
    void setAgentState(int layer, int index, engine::AgentState s);
    void clearRunStates();
    // The refinement view on the graph (engine/run_provenance.h): the edge A→B weighs "x% of B
    // comes from A" (width, opacity, a label and a tooltip), a proposer's node says how much of
    // the final answer comes from it, and an answer the next layer ignored is marked. The run
    // must have the graph's shape (else nothing is shown).
    void setProvenance(const engine::RunRecord& r, const engine::RunProvenance& p);
    // The edge from agent `from` of `layer` to agent `to` of the next layer, and its label.
    QGraphicsPathItem* edge(int layer, int from, int to) const;
    QGraphicsSimpleTextItem* edgeLabel(int layer, int from, int to) const;
    // Where a node dropped at `pos` goes: (layer, index).
    std::pair<int, int> dropTarget(QPointF pos) const;
    // While something is dragged over the graph: the target layer tinted and a bar where the
    // agent would go. hideDropTarget() when the drag ends.
    void showDropTarget(QPointF pos);
    void hideDropTarget();
    bool dropTargetShown() const;
    // Arrow-key navigation: the node next to the selected one (up/down in its layer,
    // left/right to the neighbouring layer); selects the first node when none is.
    void selectNeighbour(int key);
    // What the line under layer `layer`'s header says: its quorum and deadline ("2 of 3 · 8 s")
    // and, on a layer that runs in steps, the staircase badge ("staircase · 32 tok").
    QString layerNote(int layer) const;
    static QString limitsText(const config::Layer& L);
    // The smallest point size of node text at scale 1 (what must stay readable on screen).
    static qreal smallestTextPointSize();

signals:
    void agentSelected(int layer, int index);
    // After a rebuild that added or removed layers or agents (not after a rename or a run).
    void structureChanged();

private:
    void onDropped(AgentNode* n, QPointF pos);
    void addLayerNote(int layer, qreal x);
    ConfigDocument* doc_;
    bool read_only_ = false;
    std::vector<QString> layer_notes_;
    QHash<QPair<int, int>, AgentNode*> nodes_;
    std::map<std::tuple<int, int, int>, QGraphicsPathItem*> edges_;
    std::map<std::tuple<int, int, int>, QGraphicsSimpleTextItem*> edge_labels_;
    std::vector<qreal> column_x_;
    std::vector<int> shape_; // agents per layer, to tell structural edits from others
    QGraphicsRectItem* drop_column_ = nullptr;
    QGraphicsRectItem* drop_bar_ = nullptr;
};

class GraphView : public QGraphicsView {
    Q_OBJECT
public:
    explicit GraphView(GraphScene* scene, QWidget* parent = nullptr);
    // A model dropped from the palette becomes an agent of the layer under the drop.
    void dropAgent(const QString& provider, const QString& model, QPointF scene_pos);
    void zoomBy(qreal factor);
    // The whole graph in view if it fits at a readable scale; else readable, panned to the
    // selected node (or the first layer). Never magnified past 1:1.
    void fit();
    // The lowest zoom at which node text is still at least kMinTextPt on screen.
    static constexpr qreal kMinTextPt = 9.0;
    qreal minReadableScale() const;
    // The height that shows the layer titles and one row of nodes at the readable scale (frame
    // included): what a layout may leave the graph at least.
    int oneRowHeight() const;
    qreal scaleFactor() const { return transform().m11(); }

signals:
    void agentDropped(const QString& provider, const QString& model, int layer, int index);

protected:
    void wheelEvent(QWheelEvent* e) override;
    void keyPressEvent(QKeyEvent* e) override;
    void dragLeaveEvent(QDragLeaveEvent* e) override;
    void resizeEvent(QResizeEvent* e) override;
    void dragEnterEvent(QDragEnterEvent* e) override;
    void dragMoveEvent(QDragMoveEvent* e) override;
    void dropEvent(QDropEvent* e) override;

private:
    bool agent_drag_ = false; // a model from the palette is being dragged over the view
};

} // namespace moa::ui
