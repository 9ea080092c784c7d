// SPDX-License-Identifier: MIT
#include "run/walkthrough.h"

#include <QApplication>
#include <QHBoxLayout>
#include <QKeyEvent>
#include <QLabel>
#include <QPointer>
#include <QPushButton>
#include <QScreen>
#include <QTextBrowser>
#include <QUrl>
#include <QVBoxLayout>

#include <algorithm>
#include <thread>

#include "run/bidi_marks.h"
#include "run/provenance_text.h"

namespace moa::ui {

namespace {
QString esc(const std::string& s, std::size_t from, std::size_t to) {
    to = std::min(to, s.size());
    return from >= to ? QString() : bidi::htmlEscaped(QString::fromStdString(s.substr(from, to - from))); // a bidi control named, not obeyed
}

QString rgba(QColor c, int alpha) { return QStringLiteral("rgba(%1,%2,%3,%4)").arg(c.red()).arg(c.green()).arg(c.blue()).arg(alpha / 255.0, 0, 'f', 2); }

// Cut at a character boundary at most `max` bytes in.
std::size_t cut_at(const std::string& s, std::size_t max) {
    std::size_t cut = std::min(s.size(), max);
    while (cut < s.size() && cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
    return cut;
}

QString cut_note(const std::string& s, std::size_t cut) {
    return cut < s.size() ? QStringLiteral("<p style='color:gray'><i>%1</i></p>")
                                .arg(QObject::tr("… %1 more characters not shown here (the whole text is in the run view).")
                                         .arg(QString::fromStdString(s.substr(cut)).size()))
                          : QString();
}
} // namespace

LayersWalkthrough::LayersWalkthrough(const engine::RunRecord& r, QWidget* parent) : QWidget(parent, Qt::Window), record_(r) {
    setWindowTitle(tr("Layers walkthrough — %1").arg(QString::fromStdString(r.config_name)));
    setAccessibleName(tr("Layers walkthrough"));
    auto* v = new QVBoxLayout(this);
    auto* top = new QHBoxLayout;
    prev_ = new QPushButton(tr("◀ Previous layer"));
    next_ = new QPushButton(tr("Next layer ▶"));
    prev_->setFocusPolicy(Qt::NoFocus); // the arrow keys belong to the window: they step through layers
    next_->setFocusPolicy(Qt::NoFocus);
    prev_->setToolTip(tr("Left arrow or Page Up"));
    next_->setToolTip(tr("Right arrow or Page Down"));
    full_ = new QPushButton(tr("Full screen"));
    full_->setObjectName("walkthrough_full_screen");
    full_->setFocusPolicy(Qt::NoFocus);
    full_->setToolTip(tr("F11: full screen (for a projector), and back"));
    connect(full_, &QPushButton::clicked, this, &LayersWalkthrough::toggleFullScreen);
    // Buttons a presenter hits without looking (and a room can read).
    QFont button = font();
    button.setPointSizeF(std::max(14.0, button.pointSizeF() * 1.4));
    for (auto* b : {prev_, next_, full_}) {
        b->setFont(button);
        b->setMinimumHeight(QFontMetrics(button).height() * 2);
    }
    title_ = new QLabel;
    title_->setAlignment(Qt::AlignCenter);
    title_->setWordWrap(true); // on a small screen it takes two lines rather than pushing the buttons off
    title_->setMinimumWidth(1);
    QFont big = font();
    big.setPointSizeF(std::max(22.0, big.pointSizeF() * 2.2));
    big.setBold(true);
    title_->setFont(big);
    top->addWidget(prev_);
    top->addWidget(title_, 1);
    top->addWidget(next_);
    top->addWidget(full_);
    v->addLayout(top);
    legend_ = new QLabel;
    legend_->setWordWrap(true);
    legend_->setTextFormat(Qt::RichText);
    QFont mid = font();
    mid.setPointSizeF(std::max(14.0, mid.pointSizeF() * 1.4));
    legend_->setFont(mid);
    v->addWidget(legend_);
    page_ = new QTextBrowser;
    page_->setOpenLinks(false);
    page_->setOpenExternalLinks(false);
    page_->setAccessibleName(tr("The layer's agents: what each was sent, its answer, what changed"));
    QFont text = font();
    text.setPointSizeF(std::max(16.0, text.pointSizeF() * 1.6)); // read from the back of a room
    page_->setFont(text);
    page_->setFocusPolicy(Qt::NoFocus); // the arrow keys step through layers
    v->addWidget(page_, 1);
    connect(prev_, &QPushButton::clicked, this, [this] { setLayer(layer_ - 1); });
    connect(next_, &QPushButton::clicked, this, [this] { setLayer(layer_ + 1); });
    connect(page_, &QTextBrowser::anchorClicked, this, [this](const QUrl& url) {
        // "agent:L:K": a reference's number, back to the answer it quotes.
        const QStringList parts = url.toString().split(':');
        if (parts.size() == 3 && parts[0] == "agent") showAgent(parts[1].toInt(), parts[2].toInt());
    });
    setFocusPolicy(Qt::StrongFocus);
    const QScreen* sc = parent && parent->screen() ? parent->screen() : QGuiApplication::primaryScreen();
    fitTo(sc ? sc->availableGeometry() : QRect(0, 0, 1400, 900));
    render();
    // The provenance of long answers takes a while: off the GUI thread.
    auto record = std::make_shared<const engine::RunRecord>(record_);
    QPointer<LayersWalkthrough> self(this);
    std::thread([self, record] {
        auto prov = std::make_shared<const engine::RunProvenance>(engine::compute_provenance(*record));
        QMetaObject::invokeMethod(qApp, [self, prov] {
            if (!self) return;
            self->provenance_ = prov;
            self->render();
            emit self->provenanceReady();
        }, Qt::QueuedConnection);
    }).detach();
}

QString LayersWalkthrough::heading() const { return title_->text(); }

void LayersWalkthrough::fitTo(const QRect& available) {
    resize(QSize(1400, 900).boundedTo(available.size()));
    if (!available.contains(frameGeometry())) move(available.topLeft());
}

void LayersWalkthrough::toggleFullScreen() {
    if (isFullScreen()) showNormal();
    else showFullScreen();
}

void LayersWalkthrough::setLayer(int layer) {
    if (layer < 0 || layer >= layerCount() || layer == layer_) return;
    layer_ = layer;
    render();
}

void LayersWalkthrough::showAgent(int layer, int index) {
    if (layer < 0 || layer >= layerCount()) return;
    if (layer != layer_) {
        layer_ = layer;
        render();
    }
    page_->scrollToAnchor(QStringLiteral("a%1").arg(index));
}

void LayersWalkthrough::keyPressEvent(QKeyEvent* e) {
    switch (e->key()) {
    case Qt::Key_Right:
    case Qt::Key_PageDown:
    case Qt::Key_Space: setLayer(layer_ + 1); return;
    case Qt::Key_Left:
    case Qt::Key_PageUp:
    case Qt::Key_Backspace: setLayer(layer_ - 1); return;
    case Qt::Key_Home: setLayer(0); return;
    case Qt::Key_End: setLayer(layerCount() - 1); return;
    case Qt::Key_F11: toggleFullScreen(); return;
    case Qt::Key_Escape:
        if (isFullScreen()) showNormal(); // Esc leaves full screen first, as slides do
        else close();
        return;
    default: QWidget::keyPressEvent(e);
    }
}

void LayersWalkthrough::render() {
    const int n = layerCount();
    prev_->setEnabled(layer_ > 0);
    next_->setEnabled(layer_ + 1 < n);
    const bool last = layer_ + 1 == n && n > 1;
    title_->setText(tr("Layer %1 of %2 · %3").arg(layer_ + 1).arg(n).arg(last ? tr("the final aggregator") : layer_ == 0 ? tr("the proposers") : tr("aggregators")));
    const auto l = static_cast<std::size_t>(layer_);
    QString legend;
    if (layer_ == 0) {
        legend = tr("Each proposer is sent the prompt alone and answers it. Next: how the layer after uses these answers.");
    } else {
        legend = tr("Each agent is sent the answers of layer %1 as numbered references. Colours say which answer a passage "
                    "comes from: ").arg(layer_);
        for (std::size_t j = 0; j < record_.layers[l - 1].agents.size(); ++j)
            legend += QStringLiteral("<span style='background:%1'>&nbsp;%2&nbsp;</span> ")
                          .arg(rgba(source_colour(static_cast<int>(j)), 110), agent_name(layer_ - 1, static_cast<int>(j)));
        legend += tr(" · underlined: new in this layer.");
    }
    if (!provenance_) legend += tr(" <i>(measuring where each sentence comes from…)</i>");
    legend_->setText(legend);
    html_.clear();
    for (std::size_t k = 0; k < record_.layers[l].agents.size(); ++k) html_ += agentHtml(l, k);
    page_->setHtml(html_);
}

QString LayersWalkthrough::agentHtml(std::size_t l, std::size_t k) const {
    const auto& a = record_.layers[l].agents[k];
    const int L = static_cast<int>(l), K = static_cast<int>(k);
    QString h = QStringLiteral("<a name='a%1'></a><h2><span style='background:%2'>&nbsp;%3&nbsp;</span> %4</h2>")
                    .arg(K)
                    .arg(rgba(source_colour(K), 130), agent_name(L, K), QString::fromStdString(a.model).toHtmlEscaped());
    if (a.demo) h += QStringLiteral("<p style='color:gray'>%1</p>").arg(tr("offline demo, not a real model"));
    // Side by side, so a class sees both at once: what it was sent | its answer and what changed.
    h += QStringLiteral("<table width='100%' cellspacing='0' cellpadding='6'><tr><td width='50%' valign='top'><h3>%1</h3>")
             .arg(tr("What it was sent"));
    h += sentHtml(l, k);
    h += QStringLiteral("</td><td width='50%' valign='top'><a name='answer%1'></a><h3>%2</h3>").arg(K).arg(tr("Its answer"));
    h += answerHtml(l, k);
    if (provenance_) {
        const auto& p = provenance_->layers[l][k];
        QStringList lines;
        if (l > 0) {
            QStringList from;
            for (const auto& s : p.sources)
                from << (s.share ? comes_from_text(*s.share, tr("this answer"), agent_name(s.layer, s.agent)).toHtmlEscaped()
                                 : tr("nothing from %1: %2").arg(agent_name(s.layer, s.agent), QString::fromStdString(s.missing)).toHtmlEscaped());
            // Each source is measured alone: said, as in the panes, when the shares add up to more
            // than the whole (72% + 30% + 70% read as an error in front of a class).
            double sum = 0;
            for (const auto& s : p.sources) sum += s.share.value_or(0.0);
            if (sum > 1.005) from.back() += " " + tr("(shares overlap: a sentence found in two answers counts for each)").toHtmlEscaped();
            std::size_t fresh = 0;
            for (const auto& s : p.detail.sentences) fresh += s.sources.empty();
            lines << (fresh == 1 ? tr("What changed from layer %1: %2; 1 of its %3 sentences is new.")
                                       .arg(l)
                                       .arg(from.join("; "))
                                       .arg(p.detail.sentences.size())
                                 : tr("What changed from layer %1: %2; %3 of its %4 sentences are new.")
                                       .arg(l)
                                       .arg(from.join("; "))
                                       .arg(fresh)
                                       .arg(p.detail.sentences.size()));
        }
        if (p.final_share) lines << final_share_text(*p.final_share).toHtmlEscaped();
        if (p.ignored.value_or(false))
            lines << QStringLiteral("<b style='color:#D03A3A'>%1</b>").arg(tr("Ignored by the next layer").toHtmlEscaped());
        if (!lines.isEmpty()) h += "<p>" + lines.join("<br>") + "</p>";
    }
    if (a.error) h += QStringLiteral("<p style='color:#D03A3A'>%1</p>").arg(QString::fromStdString(*a.error).toHtmlEscaped());
    return h + "</td></tr></table><hr>";
}

QString LayersWalkthrough::sentHtml(std::size_t l, std::size_t k) const {
    const auto& a = record_.layers[l].agents[k];
    if (a.messages.empty()) return QStringLiteral("<p style='color:gray'>%1</p>").arg(tr("(not recorded: the agent did not start)"));
    QString h;
    for (const auto& m : a.messages) {
        h += QStringLiteral("<p style='color:gray'>%1</p>").arg(QString::fromStdString(m.role).toHtmlEscaped());
        // The references: each answer of the layer before, found in the message, coloured like
        // it, and its number linking back to it.
        struct Ref {
            std::size_t begin, end, number_begin;
            int agent;
        };
        std::vector<Ref> refs;
        if (l > 0)
            for (std::size_t j = 0; j < record_.layers[l - 1].agents.size(); ++j) {
                const auto& src = record_.layers[l - 1].agents[j].text;
                if (src.empty() || !engine::was_passed_on(record_.layers[l - 1].agents[j])) continue;
                const auto at = m.content.find(src);
                if (at == std::string::npos) continue;
                std::size_t nb = at;
                // "\n2. " before it: the reference's number.
                if (nb >= 2 && m.content.compare(nb - 2, 2, ". ") == 0) {
                    std::size_t d = nb - 2;
                    while (d > 0 && std::isdigit(static_cast<unsigned char>(m.content[d - 1]))) --d;
                    if (d < nb - 2) nb = d;
                }
                refs.push_back({at, at + src.size(), nb, static_cast<int>(j)});
            }
        std::sort(refs.begin(), refs.end(), [](const Ref& x, const Ref& y) { return x.begin < y.begin; });
        const std::size_t cut = cut_at(m.content, kShownBytes * std::max<std::size_t>(1, refs.size() + 1));
        QString body;
        std::size_t at = 0;
        for (const auto& r : refs) {
            if (r.number_begin < at || r.begin >= cut) continue;
            body += esc(m.content, at, r.number_begin);
            if (r.number_begin < r.begin)
                body += QStringLiteral("<a href='agent:%1:%2' title='%3'><b>%4</b></a>")
                            .arg(static_cast<int>(l) - 1)
                            .arg(r.agent)
                            .arg(tr("the answer of %1: show it").arg(agent_name(static_cast<int>(l) - 1, r.agent)),
                                 esc(m.content, r.number_begin, r.begin - 1))
                      + " ";
            const std::size_t end = std::min(r.end, r.begin + kShownBytes);
            body += QStringLiteral("<span style='background:%1'>%2</span>").arg(rgba(source_colour(r.agent), 90), esc(m.content, r.begin, cut_at(m.content, end)));
            if (end < r.end) body += QStringLiteral(" <i style='color:gray'>%1</i>").arg(tr("(… the rest of %1)").arg(agent_name(static_cast<int>(l) - 1, r.agent)));
            at = r.end;
        }
        body += esc(m.content, at, cut);
        h += "<div style='white-space:pre-wrap; background:rgba(128,128,128,0.08); padding:6px'>" + body + "</div>" + cut_note(m.content, std::max(cut, at));
    }
    return h;
}

QString LayersWalkthrough::answerHtml(std::size_t l, std::size_t k) const {
    const auto& a = record_.layers[l].agents[k];
    const std::string& t = a.text;
    const std::size_t cut = cut_at(t, kShownBytes);
    if (l == 0 || !provenance_) return "<div style='white-space:pre-wrap'>" + esc(t, 0, cut) + "</div>" + cut_note(t, cut);
    const auto& p = provenance_->layers[l][k];
    QString h = "<div style='white-space:pre-wrap'>";
    std::size_t at = 0;
    for (const auto& s : p.detail.sentences) {
        if (s.span.begin >= cut) break;
        h += esc(t, at, s.span.begin);
        at = s.span.begin;
        if (s.sources.empty()) { // new in this layer
            h += QStringLiteral("<u title='%1'>%2</u>").arg(tr("new: from no answer of layer %1").arg(l), esc(t, s.span.begin, s.span.end));
            at = s.span.end;
            continue;
        }
        const auto& best = s.sources.front();
        const int j = p.detail_sources[best.source];
        const QString title = tr("%1 of this sentence comes from %2").arg(percent_text(best.share), agent_name(static_cast<int>(l) - 1, j));
        for (const auto& sp : best.in_b) {
            if (sp.begin < at) continue;
            h += esc(t, at, sp.begin);
            h += QStringLiteral("<span style='background:%1' title='%2'>%3</span>").arg(rgba(source_colour(j), 110), title, esc(t, sp.begin, sp.end));
            at = sp.end;
        }
        h += esc(t, at, s.span.end);
        at = std::max(at, s.span.end);
    }
    h += esc(t, at, cut);
    return h + "</div>" + cut_note(t, cut);
}

} // namespace moa::ui
