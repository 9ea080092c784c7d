// SPDX-License-Identifier: MIT
#include "graph/graph_scene.h"

#include <QGraphicsSceneMouseEvent>
#include <QKeyEvent>
#include <QTimer>
#include <algorithm>
#include <cmath>
#include <QMimeData>
#include <QDragEnterEvent>
#include <QPainter>
#include <QPalette>
#include <QApplication>
#include <QStyleOptionGraphicsItem>
#include <QWheelEvent>

#include "run/provenance_text.h"

namespace moa::ui {

namespace {
constexpr qreal kColumnGap = 96, kRowGap = 16, kTop = 44, kLeft = 20;

// The secondary lines of a node: a little smaller than the model name, never below 9 pt.
QFont secondary_font(QFont f) {
    f.setBold(false);
    if (f.pointSizeF() > 0) f.setPointSizeF(std::max(f.pointSizeF() * 0.92, 9.0));
    return f;
}

QColor state_color(engine::AgentState s, const QPalette& pal) {
    using S = engine::AgentState;
    switch (s) {
    case S::Waiting: return QColor(0xE0, 0xA8, 0x00);
    case S::Streaming: return QColor(0x2E, 0x9E, 0x5B);
    case S::Retrying: return QColor(0xE0, 0x70, 0x00);
    case S::Done: return QColor(0x3A, 0x7B, 0xD5);
    case S::Failed: case S::Dropped: return QColor(0xD0, 0x3A, 0x3A);
    case S::Cancelled: case S::Cut: return pal.color(QPalette::Mid);
    case S::Queued: return pal.color(QPalette::Mid);
    }
    return pal.color(QPalette::Mid);
}
} // namespace

AgentNode::AgentNode(int layer, int index, const config::Agent& a, bool aggregator, bool last_layer, bool demo)
    : layer_(layer), index_(index), model_(QString::fromStdString(a.model)), provider_(QString::fromStdString(a.provider)),
      role_(last_layer ? QObject::tr("final aggregator") : aggregator ? QObject::tr("aggregator") : QObject::tr("proposer")),
      demo_(demo) {
    setFlags(ItemIsSelectable | ItemIsMovable | ItemIsFocusable | ItemSendsGeometryChanges);
    setAcceptHoverEvents(true);
    setToolTip(baseToolTip());
}

QString AgentNode::baseToolTip() const { return QObject::tr("%1\nprovider %2, %3").arg(model_, provider_, role_); }

QRectF AgentNode::boundingRect() const { return QRectF(-6, -6, kWidth + 12, kHeight + 12); }

void AgentNode::paint(QPainter* p, const QStyleOptionGraphicsItem* o, QWidget*) {
    const QPalette pal = QApplication::palette();
    p->setRenderHint(QPainter::Antialiasing);
    QColor fill = pal.color(QPalette::Base);
    QColor border = pal.color(QPalette::Mid);
    if (has_state_) {
        border = state_color(state_, pal);
        if (active_) fill = QColor::fromHsvF(border.hsvHueF(), 0.18, pal.color(QPalette::Base).valueF() > 0.5 ? 1.0 : 0.35);
    }
    if (!problem_.isEmpty() || ignored_) border = QColor(0xD0, 0x3A, 0x3A);
    const bool selected = o->state & QStyle::State_Selected;
    if (selected) {
        // Selection: a tinted body, a thick highlight border and a soft outer ring, so it reads at
        // a glance next to run-state colours.
        const QColor hl = pal.color(QPalette::Highlight);
        QColor ring = hl;
        ring.setAlphaF(0.35);
        p->setPen(QPen(ring, 5));
        p->setBrush(Qt::NoBrush);
        p->drawRoundedRect(QRectF(-3, -3, kWidth + 6, kHeight + 6), 10, 10);
        QColor tint = hl;
        tint.setAlphaF(0.16);
        p->setPen(QPen(hl, 3));
        p->setBrush(fill);
        p->drawRoundedRect(QRectF(0, 0, kWidth, kHeight), 8, 8);
        p->setBrush(tint);
        p->drawRoundedRect(QRectF(0, 0, kWidth, kHeight), 8, 8);
    } else {
        // An answer the next layer ignored: a dashed red outline, readable without colour too.
        p->setPen(QPen(border, has_state_ || !problem_.isEmpty() ? 2.5 : 1.2, ignored_ ? Qt::DashLine : Qt::SolidLine));
        p->setBrush(fill);
        p->drawRoundedRect(QRectF(0, 0, kWidth, kHeight), 8, 8);
    }
    QFont f = p->font();
    f.setBold(true);
    p->setFont(f);
    p->setPen(pal.color(QPalette::Text));
    QFontMetrics fm(f);
    QString model = model_.section('/', -1); // the org prefix costs width and adds little
    p->drawText(QRectF(10, 6, kWidth - 20, 20), Qt::AlignLeft | Qt::AlignVCenter, fm.elidedText(model, Qt::ElideMiddle, int(kWidth - 20)));
    f = secondary_font(f);
    p->setFont(f);
    p->setPen(pal.color(QPalette::PlaceholderText));
    QString line2 = provider_ + (demo_ ? QObject::tr(" · offline demo") : QString());
    p->drawText(QRectF(10, 25, kWidth - 20, 16), Qt::AlignLeft | Qt::AlignVCenter, line2);
    QString line3 = !problem_.isEmpty() ? QObject::tr("⚠ %1").arg(problem_)
                    : !prov_line_.isEmpty() ? prov_line_
                    : has_state_        ? role_ + " · " + QString::fromLatin1(engine::to_string(state_))
                                        : role_;
    if (!problem_.isEmpty() || (ignored_ && !prov_line_.isEmpty())) p->setPen(QColor(0xD0, 0x3A, 0x3A));
    p->drawText(QRectF(10, 42, kWidth - 20, 16), Qt::AlignLeft | Qt::AlignVCenter,
                QFontMetrics(f).elidedText(line3, Qt::ElideRight, int(kWidth - 20)));
}

void AgentNode::setRunState(engine::AgentState s, bool active) {
    has_state_ = true;
    state_ = s;
    active_ = active;
    update();
}

void AgentNode::setProvenance(const QString& line, const QString& tip, bool ignored) {
    prov_line_ = line;
    prov_tip_ = tip;
    ignored_ = ignored;
    if (problem_.isEmpty()) setToolTip(tip.isEmpty() ? baseToolTip() : baseToolTip() + "\n\n" + tip);
    update();
}

void AgentNode::setProblem(const QString& message) {
    problem_ = message;
    setToolTip(!message.isEmpty() ? message : prov_tip_.isEmpty() ? baseToolTip() : baseToolTip() + "\n\n" + prov_tip_);
    update();
}

void AgentNode::mousePressEvent(QGraphicsSceneMouseEvent* e) {
    press_pos_ = pos();
    QGraphicsObject::mousePressEvent(e);
}

void AgentNode::mouseMoveEvent(QGraphicsSceneMouseEvent* e) {
    QGraphicsObject::mouseMoveEvent(e);
    if (auto* s = qobject_cast<GraphScene*>(scene()); s && (pos() - press_pos_).manhattanLength() > 8) s->showDropTarget(e->scenePos());
}

void AgentNode::mouseReleaseEvent(QGraphicsSceneMouseEvent* e) {
    QGraphicsObject::mouseReleaseEvent(e);
    if (auto* s = qobject_cast<GraphScene*>(scene())) s->hideDropTarget();
    if ((pos() - press_pos_).manhattanLength() > 8) emit dropped(this, e->scenePos());
}

GraphScene::GraphScene(ConfigDocument* doc, QObject* parent) : QGraphicsScene(parent), doc_(doc) {
    connect(doc_, &ConfigDocument::changed, this, &GraphScene::rebuild);
    connect(this, &QGraphicsScene::selectionChanged, this, [this] {
        auto [l, i] = selectedAgent();
        emit agentSelected(l, i);
    });
    rebuild();
}

GraphScene::~GraphScene() {
    // Remove the items while this object is still whole: removing a selected item signals a
    // selection change, whose handler reads our members.
    blockSignals(true);
    clear();
}

void GraphScene::rebuild() {
    auto sel = selectedAgent();
    blockSignals(true);
    clear();
    drop_column_ = drop_bar_ = nullptr; // deleted by clear()
    nodes_.clear();
    edges_.clear();
    edge_labels_.clear();
    column_x_.clear();
    layer_notes_.clear();
    const auto& c = doc_->config();
    std::vector<int> shape;
    for (const auto& L : c.layers) shape.push_back(static_cast<int>(L.agents.size()));
    const bool structural = shape != shape_;
    shape_ = shape;
    const QPalette pal = QApplication::palette();
    const int layers = static_cast<int>(c.layers.size());
    std::size_t tallest = 1;
    for (const auto& L : c.layers) tallest = std::max(tallest, L.agents.size());
    const qreal height = static_cast<qreal>(tallest) * (AgentNode::kHeight + kRowGap) - kRowGap;
    std::vector<std::vector<QPointF>> anchors(static_cast<std::size_t>(layers));
    // Problems found by validation, placed on their agents.
    QHash<QPair<int, int>, QString> problems;
    for (const auto& issue : doc_->issues()) {
        if (issue.severity != config::Issue::Severity::Error) continue;
        int l = -1, a = -1;
        if (std::sscanf(issue.pointer.c_str(), "/layers/%d/agents/%d", &l, &a) == 2) problems[{l, a}] = QString::fromStdString(issue.message);
    }
    for (int li = 0; li < layers; ++li) {
        const auto& agents = c.layers[static_cast<std::size_t>(li)].agents;
        const qreal x = kLeft + li * (AgentNode::kWidth + kColumnGap);
        column_x_.push_back(x);
        const qreal col_h = static_cast<qreal>(agents.size()) * (AgentNode::kHeight + kRowGap) - kRowGap;
        const qreal y0 = kTop + (height - col_h) / 2;
        const bool last = li == layers - 1;
        auto* title = addSimpleText(last ? tr("Layer %1 · aggregator").arg(li + 1)
                                         : tr("Layer %1 · %2").arg(li + 1).arg(li == 0 ? tr("proposers") : tr("aggregators")));
        title->setBrush(pal.color(QPalette::PlaceholderText));
        title->setPos(x, 10);
        addLayerNote(li, x);
        for (int ai = 0; ai < static_cast<int>(agents.size()); ++ai) {
            const auto* p = c.provider(agents[static_cast<std::size_t>(ai)].provider);
            auto* n = new AgentNode(li, ai, agents[static_cast<std::size_t>(ai)], li > 0, last, p && p->type == config::ProviderType::Demo);
            n->setPos(x, y0 + ai * (AgentNode::kHeight + kRowGap));
            n->setZValue(1);
            if (problems.contains({li, ai})) n->setProblem(problems[{li, ai}]);
            addItem(n);
            nodes_.insert({li, ai}, n);
            n->setFlag(QGraphicsItem::ItemIsMovable, !read_only_);
            connect(n, &AgentNode::dropped, this, &GraphScene::onDropped);
            anchors[static_cast<std::size_t>(li)].push_back(n->pos() + QPointF(0, AgentNode::kHeight / 2));
        }
    }
    // Edges: every agent of a layer to every agent of the next, as soft curves.
    QColor edge = pal.color(QPalette::Text);
    edge.setAlphaF(0.22);
    for (int li = 0; li + 1 < layers; ++li)
        for (int ai = 0; ai < static_cast<int>(anchors[static_cast<std::size_t>(li)].size()); ++ai) {
            const QPointF a = anchors[static_cast<std::size_t>(li)][static_cast<std::size_t>(ai)];
            for (int bi = 0; bi < static_cast<int>(anchors[static_cast<std::size_t>(li + 1)].size()); ++bi) {
                const QPointF b = anchors[static_cast<std::size_t>(li + 1)][static_cast<std::size_t>(bi)];
                QPointF from = a + QPointF(AgentNode::kWidth, 0);
                QPainterPath path(from);
                qreal dx = (b.x() - from.x()) / 2;
                path.cubicTo(from + QPointF(dx, 0), b - QPointF(dx, 0), b);
                auto* item = addPath(path, QPen(edge, 1.2));
                item->setZValue(0);
                edges_[{li, ai, bi}] = item;
            }
        }
    setSceneRect(itemsBoundingRect().adjusted(-20, -10, 20, 20));
    blockSignals(false);
    if (sel.first >= 0) selectAgent(sel.first, sel.second);
    if (structural) emit structureChanged();
}

QString GraphScene::limitsText(const config::Layer& L) {
    QStringList parts;
    if (L.quorum) parts << tr("%1 of %2").arg(*L.quorum).arg(L.agents.size());
    if (L.deadline_ms) {
        const long ms = *L.deadline_ms;
        parts << (ms < 1000 ? tr("%1 ms").arg(ms) : tr("%1 s").arg(QString::number(ms / 1000.0, 'f', ms % 1000 ? 1 : 0)));
    }
    return parts.join(QStringLiteral(" · "));
}

// The line under a layer's header: its quorum and deadline ("2 of 3 · 8 s"), and a badge on a
// layer that works in steps over the previous one's answers (staircase streaming).
void GraphScene::addLayerNote(int li, qreal x) {
    const auto& c = doc_->config();
    const auto& L = c.layers[static_cast<std::size_t>(li)];
    const bool last = li + 1 == static_cast<int>(c.layers.size());
    const QPalette pal = QApplication::palette();
    const QFont f = secondary_font(QApplication::font());
    QStringList note;
    const QString limits = last ? QString() : limitsText(L);
    if (!limits.isEmpty()) {
        auto* t = addSimpleText(limits, f);
        t->setBrush(pal.color(QPalette::Text));
        t->setPos(x, 27);
        QStringList tip;
        if (L.quorum) tip << tr("Quorum: the layer is done once %1 of its %2 agents have finished; the rest are cut.").arg(*L.quorum).arg(L.agents.size());
        if (L.deadline_ms) tip << tr("Deadline: the layer is done %1 ms after it started, with the answers finished by then; the rest are cut.").arg(*L.deadline_ms);
        t->setToolTip(tip.join("\n"));
        x += t->boundingRect().width() + 8;
        note << limits;
    }
    if (li > 0 && c.pipelining.mode == config::Pipelining::Mode::Staircase) {
        const QString badge = tr("staircase · %1 tok").arg(c.pipelining.chunk_tokens);
        auto* t = new QGraphicsSimpleTextItem(badge);
        t->setFont(f);
        t->setBrush(QColor(0x1F, 0x5F, 0xB0));
        const QRectF r = t->boundingRect().adjusted(-4, -1, 4, 1);
        auto* box = addRect(r, QPen(QColor(0x3A, 0x7B, 0xD5), 1), QColor(0xE8, 0xF0, 0xFB));
        t->setParentItem(box);
        box->setPos(x + 4, 27);
        box->setToolTip(tr("Staircase streaming: this layer starts once each answer of the previous layer has %1 tokens, "
                           "and works in steps over them while they grow. Every step re-sends the references (more "
                           "prompt tokens).").arg(c.pipelining.chunk_tokens));
        note << badge;
    }
    layer_notes_.push_back(note.join(QStringLiteral(" · ")));
}

QString GraphScene::layerNote(int layer) const {
    return layer >= 0 && layer < static_cast<int>(layer_notes_.size()) ? layer_notes_[static_cast<std::size_t>(layer)] : QString();
}

qreal GraphScene::smallestTextPointSize() {
    const QFont f = QApplication::font();
    return f.pointSizeF() > 0 ? std::min(f.pointSizeF(), secondary_font(f).pointSizeF()) : 9.0;
}

void GraphScene::showDropTarget(QPointF pos) {
    auto [layer, index] = dropTarget(pos);
    if (layer < 0) return hideDropTarget();
    const QColor hl = QApplication::palette().color(QPalette::Highlight);
    if (!drop_column_) {
        QColor tint = hl;
        tint.setAlphaF(0.12);
        QColor edge = hl;
        edge.setAlphaF(0.6);
        drop_column_ = addRect(QRectF(), QPen(edge, 1.5, Qt::DashLine), tint);
        drop_column_->setZValue(-1);
        drop_bar_ = addRect(QRectF(), Qt::NoPen, hl);
        drop_bar_->setZValue(3);
    }
    const qreal x = column_x_[static_cast<std::size_t>(layer)];
    const QRectF area = sceneRect();
    drop_column_->setRect(QRectF(x - 10, area.top() + 4, AgentNode::kWidth + 20, area.height() - 8));
    // The bar goes in the gap above the node now at `index`, or below the layer's last node.
    std::vector<qreal> ys;
    for (auto it = nodes_.begin(); it != nodes_.end(); ++it)
        if (it.key().first == layer) ys.push_back(it.value()->pos().y());
    std::sort(ys.begin(), ys.end());
    qreal y = kTop;
    if (!ys.empty()) y = index < static_cast<int>(ys.size()) ? ys[static_cast<std::size_t>(index)] - kRowGap / 2 : ys.back() + AgentNode::kHeight + kRowGap / 2;
    drop_bar_->setRect(QRectF(x, y - 3, AgentNode::kWidth, 6));
    drop_column_->show();
    drop_bar_->show();
}

void GraphScene::hideDropTarget() {
    if (drop_column_) drop_column_->hide();
    if (drop_bar_) drop_bar_->hide();
}

bool GraphScene::dropTargetShown() const { return drop_column_ && drop_column_->isVisible(); }

void GraphScene::selectNeighbour(int key) {
    const auto& layers = doc_->config().layers;
    auto count = [&layers](int l) { return static_cast<int>(layers[static_cast<std::size_t>(l)].agents.size()); };
    const int n = static_cast<int>(layers.size());
    auto [l, i] = selectedAgent();
    if (l < 0) {
        for (int k = 0; k < n; ++k)
            if (count(k) > 0) return selectAgent(k, 0);
        return;
    }
    int nl = l, ni = i;
    switch (key) {
    case Qt::Key_Up: ni = std::max(0, i - 1); break;
    case Qt::Key_Down: ni = std::min(count(l) - 1, i + 1); break;
    case Qt::Key_Left:
    case Qt::Key_Right: {
        const int step = key == Qt::Key_Left ? -1 : 1;
        for (int k = l + step; k >= 0 && k < n; k += step)
            if (count(k) > 0) {
                nl = k;
                ni = std::min(i, count(k) - 1);
                break;
            }
        break;
    }
    case Qt::Key_Home: nl = 0, ni = 0; break;
    case Qt::Key_End: nl = n - 1, ni = 0; break;
    default: return;
    }
    if (nl >= 0 && nl < n && ni >= 0 && ni < count(nl) && (nl != l || ni != i)) selectAgent(nl, ni);
}

std::pair<int, int> GraphScene::selectedAgent() const {
    for (auto* item : selectedItems())
        if (auto* n = dynamic_cast<AgentNode*>(item)) return {n->layer(), n->index()};
    return {-1, -1};
}

void GraphScene::selectAgent(int layer, int index) {
    clearSelection();
    if (auto* n = node(layer, index)) n->setSelected(true);
}

void GraphScene::setAgentState(int layer, int index, engine::AgentState s) {
    using S = engine::AgentState;
    if (auto* n = node(layer, index)) n->setRunState(s, s == S::Waiting || s == S::Streaming || s == S::Retrying);
}

void GraphScene::clearRunStates() { rebuild(); }

QGraphicsPathItem* GraphScene::edge(int layer, int from, int to) const {
    auto it = edges_.find({layer, from, to});
    return it == edges_.end() ? nullptr : it->second;
}

QGraphicsSimpleTextItem* GraphScene::edgeLabel(int layer, int from, int to) const {
    auto it = edge_labels_.find({layer, from, to});
    return it == edge_labels_.end() ? nullptr : it->second;
}

void GraphScene::setProvenance(const engine::RunRecord& r, const engine::RunProvenance& prov) {
    // A run of another shape (the document was edited since) would put numbers on the wrong nodes.
    if (prov.layers.size() != shape_.size()) return;
    for (std::size_t l = 0; l < shape_.size(); ++l)
        if (static_cast<int>(prov.layers[l].size()) != shape_[l] || r.layers[l].agents.size() != prov.layers[l].size()) return;
    for (auto& [key, label] : edge_labels_) delete label;
    edge_labels_.clear();
    const QPalette pal = QApplication::palette();
    const int layers = static_cast<int>(prov.layers.size());
    for (int l = 0; l < layers; ++l)
        for (int k = 0; k < static_cast<int>(prov.layers[static_cast<std::size_t>(l)].size()); ++k) {
            const auto& p = prov.layers[static_cast<std::size_t>(l)][static_cast<std::size_t>(k)];
            const bool ignored = p.ignored.value_or(false);
            QString line, tip;
            if (p.final_share) {
                line = tr("%1 of the final answer").arg(percent_text(*p.final_share));
                tip = final_share_text(*p.final_share) + ".";
            }
            if (ignored) {
                line = tr("ignored by the next layer");
                tip += (tip.isEmpty() ? "" : "\n") + ignored_explanation();
            }
            if (!tip.isEmpty()) tip += "\n\n" + measure_explanation();
            if (auto* n = node(l, k)) n->setProvenance(line, tip, ignored);
            // Its incoming edges: "x% of this answer comes from that one".
            for (const auto& s : p.sources) {
                QGraphicsPathItem* e = edge(s.layer, s.agent, k);
                if (!e) continue;
                const QString b = agent_name(l, k), a = agent_name(s.layer, s.agent);
                if (!s.share) {
                    QColor faint = pal.color(QPalette::Text);
                    faint.setAlphaF(0.15);
                    e->setPen(QPen(faint, 1.0, Qt::DashLine));
                    e->setToolTip(tr("No share of %1 from %2: %3").arg(b, a, QString::fromStdString(s.missing)));
                    continue;
                }
                const double share = *s.share;
                QColor c = source_colour(s.agent);
                c.setAlphaF(0.2 + 0.75 * share);
                e->setPen(QPen(c, 1.0 + 9.0 * share, share < eval::kIgnored ? Qt::DashLine : Qt::SolidLine));
                e->setZValue(share); // the heavier edges on top
                const QString text = comes_from_text(share, b, a);
                e->setToolTip(text + ".\n\n" + measure_explanation());
                if (share < eval::kIgnored) continue; // a label on every near-zero edge would only clutter
                // The label sits near B, where the edges from the layer before arrive apart: read
                // at B, the labels say how much of B comes from each source (framed in its colour).
                auto* label = addSimpleText(percent_text(share));
                QFont f = label->font();
                f.setBold(true);
                label->setFont(f);
                label->setBrush(pal.color(QPalette::Text));
                label->setToolTip(e->toolTip());
                label->setZValue(2);
                const QRectF br = label->boundingRect();
                label->setPos(e->path().pointAtPercent(0.72) - QPointF(br.width() / 2, br.height() / 2));
                auto* back = new QGraphicsRectItem(br.adjusted(-2, 0, 2, 0), label);
                QColor bg = pal.color(QPalette::Base), tint = source_colour(s.agent);
                bg.setAlphaF(0.9);
                tint.setAlphaF(0.3);
                back->setBrush(bg);
                back->setPen(QPen(source_colour(s.agent), 1.5));
                auto* tinted = new QGraphicsRectItem(back->rect(), back); // the source's colour, readable on any palette
                tinted->setBrush(tint);
                tinted->setPen(Qt::NoPen);
                back->setFlag(QGraphicsItem::ItemStacksBehindParent);
                edge_labels_[{s.layer, s.agent, k}] = label;
            }
        }
}

std::pair<int, int> GraphScene::dropTarget(QPointF pos) const {
    if (column_x_.empty()) return {-1, -1};
    int layer = 0;
    for (std::size_t i = 0; i < column_x_.size(); ++i)
        if (pos.x() >= column_x_[i] - kColumnGap / 2) layer = static_cast<int>(i);
    int index = 0;
    for (auto it = nodes_.begin(); it != nodes_.end(); ++it)
        if (it.key().first == layer && it.value()->pos().y() + AgentNode::kHeight / 2 < pos.y()) ++index;
    return {layer, index};
}

void GraphScene::setReadOnly(bool read_only) {
    read_only_ = read_only;
    for (auto* n : std::as_const(nodes_)) n->setFlag(QGraphicsItem::ItemIsMovable, !read_only_);
}

void GraphScene::onDropped(AgentNode* n, QPointF pos) {
    if (read_only_) return;
    auto [layer, index] = dropTarget(pos);
    const int from_l = n->layer(), from_i = n->index();
    if (layer == from_l && index > from_i) --index; // the node itself is counted above
    if (layer < 0 || (layer == from_l && index == from_i)) {
        QMetaObject::invokeMethod(this, &GraphScene::rebuild, Qt::QueuedConnection); // snap back
        return;
    }
    // Deferred: the rebuild destroys the node whose event we are in.
    QMetaObject::invokeMethod(this, [this, from_l, from_i, layer = layer, index = index] { // by value: clang 14 cannot capture bindings
        doc_->moveAgent(from_l, from_i, layer, index);
        selectAgent(layer, index);
    }, Qt::QueuedConnection);
}

GraphView::GraphView(GraphScene* scene, QWidget* parent) : QGraphicsView(scene, parent) {
    setRenderHint(QPainter::Antialiasing);
    setDragMode(QGraphicsView::RubberBandDrag);
    setAccessibleName(tr("Layer graph"));
    setFocusPolicy(Qt::StrongFocus);
    setAcceptDrops(true);
    setToolTip(tr("Arrow keys move between agents; Delete removes one; Ctrl+wheel zooms"));
    // Adding a layer or dropping a model changes the graph's size: show it whole again.
    connect(scene, &GraphScene::structureChanged, this, [this] { QTimer::singleShot(0, this, &GraphView::fit); });
}

qreal GraphView::minReadableScale() const { return std::min(1.0, kMinTextPt / GraphScene::smallestTextPointSize()); }

int GraphView::oneRowHeight() const {
    return static_cast<int>(std::ceil((kTop + AgentNode::kHeight) * std::clamp(scaleFactor(), minReadableScale(), 1.0))) +
           2 * frameWidth();
}

void GraphView::keyPressEvent(QKeyEvent* e) {
    static const int keys[] = {Qt::Key_Up, Qt::Key_Down, Qt::Key_Left, Qt::Key_Right, Qt::Key_Home, Qt::Key_End};
    if ((e->modifiers() & ~Qt::KeypadModifier) == Qt::NoModifier && std::find(std::begin(keys), std::end(keys), e->key()) != std::end(keys)) {
        auto* s = static_cast<GraphScene*>(scene());
        s->selectNeighbour(e->key());
        auto [l, i] = s->selectedAgent();
        if (auto* n = s->node(l, i)) ensureVisible(n, 24, 24);
        e->accept();
        return;
    }
    QGraphicsView::keyPressEvent(e);
}

void GraphView::dropAgent(const QString& provider, const QString& model, QPointF scene_pos) {
    auto [layer, index] = static_cast<GraphScene*>(scene())->dropTarget(scene_pos);
    if (layer < 0) layer = 0, index = 0;
    emit agentDropped(provider, model, layer, index);
}

void GraphView::dragEnterEvent(QDragEnterEvent* e) {
    agent_drag_ = e->mimeData()->hasFormat("application/x-moa-agent");
    if (agent_drag_) e->acceptProposedAction();
    else QGraphicsView::dragEnterEvent(e);
}

void GraphView::dragMoveEvent(QDragMoveEvent* e) {
    if (e->mimeData()->hasFormat("application/x-moa-agent")) {
        static_cast<GraphScene*>(scene())->showDropTarget(mapToScene(e->position().toPoint()));
        e->acceptProposedAction();
    } else {
        QGraphicsView::dragMoveEvent(e);
    }
}

void GraphView::dragLeaveEvent(QDragLeaveEvent* e) {
    static_cast<GraphScene*>(scene())->hideDropTarget();
    if (!std::exchange(agent_drag_, false)) QGraphicsView::dragLeaveEvent(e);
}

void GraphView::dropEvent(QDropEvent* e) {
    if (!e->mimeData()->hasFormat("application/x-moa-agent")) return QGraphicsView::dropEvent(e);
    static_cast<GraphScene*>(scene())->hideDropTarget();
    agent_drag_ = false;
    const auto parts = QString::fromUtf8(e->mimeData()->data("application/x-moa-agent")).split('\n');
    if (parts.size() == 2) dropAgent(parts[0], parts[1], mapToScene(e->position().toPoint()));
    e->acceptProposedAction();
}

void GraphView::zoomBy(qreal factor) {
    // Never below a readable size (pan instead), never huge.
    const qreal s = std::clamp(transform().m11() * factor, minReadableScale(), 3.0);
    setTransform(QTransform::fromScale(s, s));
}

void GraphView::fit() {
    const QRectF r = sceneRect();
    const QSize v = viewport()->size();
    if (r.isEmpty() || v.isEmpty()) return;
    // Shrinks a large graph only down to readable text, and never blows up a small one.
    const qreal fitting = std::min(v.width() / r.width(), v.height() / r.height());
    const qreal s = std::clamp(fitting, minReadableScale(), 1.0);
    setTransform(QTransform::fromScale(s, s));
    auto* gs = static_cast<GraphScene*>(scene());
    auto [l, i] = gs->selectedAgent();
    if (s <= fitting) centerOn(r.center());
    else if (auto* n = gs->node(l, i)) centerOn(n);
    else centerOn(mapToScene(viewport()->rect()).boundingRect().size().width() / 2 + r.left(),
                  mapToScene(viewport()->rect()).boundingRect().size().height() / 2 + r.top()); // the first layer, from the top
}

void GraphView::wheelEvent(QWheelEvent* e) {
    if (e->modifiers() & Qt::ControlModifier) {
        zoomBy(e->angleDelta().y() > 0 ? 1.15 : 1 / 1.15);
        return;
    }
    QGraphicsView::wheelEvent(e);
}

void GraphView::resizeEvent(QResizeEvent* e) {
    QGraphicsView::resizeEvent(e);
}

} // namespace moa::ui
