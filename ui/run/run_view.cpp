// SPDX-License-Identifier: MIT
#include "run/run_view.h"

#include <QApplication>
#include <QDesktopServices>
#include <QPointer>
#include <QToolButton>

#include <algorithm>

#include <thread>

#include "common/latency.h"
#include "common/plural.h"
#include "engine/run_outcome.h"
#include "run/bidi_marks.h"
#include "run/provenance_text.h"
#include <QElapsedTimer>
#include <QMimeData>
#include <QMouseEvent>
#include <QTextBlock>
#include <QSettings>
#include <QSignalBlocker>
#include <QHBoxLayout>
#include <QScrollArea>
#include <QScrollBar>
#include <QSplitter>
#include <QVBoxLayout>

namespace moa::ui {

namespace {
// An answer box shows fifteen lines (a pane is read while it streams; at 1024×700 it showed ~7),
// and gives lines up, down to four, only so the pane's own lines stay in view.
constexpr int kPaneLines = 15;
constexpr int kPaneFewestLines = 4;
} // namespace

SafeTextBrowser::SafeTextBrowser(QWidget* parent) : QTextBrowser(parent) {
    setOpenLinks(false);
    setOpenExternalLinks(false);
    connect(this, &QTextBrowser::anchorClicked, this, [](const QUrl& url) {
        if (url.scheme() == "http" || url.scheme() == "https") QDesktopServices::openUrl(url);
    });
    connect(this, &QTextBrowser::highlighted, this, [this](const QUrl& url) { setToolTip(url.toString()); });
}

void SafeTextBrowser::showMarkdown(const QString& markdown) {
    document()->setMarkdown(markdown, QTextDocument::MarkdownFeatures(QTextDocument::MarkdownDialectGitHub |
                                                                       QTextDocument::MarkdownNoHTML));
    bidi::markDocument(document()); // "\u202Eevil" read "live": each control shown as a mark, one character as before
}

QMimeData* SafeTextBrowser::createMimeDataFromSelection() const {
    QMimeData* data = QTextBrowser::createMimeDataFromSelection();
    if (!data->text().contains(QChar::ObjectReplacementCharacter)) return data;
    // Marks copy as the controls they stand for (the text as the model wrote it).
    const QTextCursor c = textCursor();
    QString text;
    for (QTextBlock b = document()->findBlock(c.selectionStart()); b.isValid() && b.position() <= c.selectionEnd(); b = b.next()) {
        if (b.position() > c.selectionStart()) text += u'\n';
        const int from = std::max(c.selectionStart(), b.position()) - b.position();
        const int to = std::min(c.selectionEnd(), b.position() + b.length() - 1) - b.position();
        if (to > from) text += bidi::originalText(b, from, to);
    }
    data->setText(text);
    return data;
}

QVariant SafeTextBrowser::loadResource(int, const QUrl&) {
    return {}; // model output is untrusted: no images, no style sheets, nothing fetched
}

ElidedLabel::ElidedLabel(const QString& text, Qt::TextElideMode mode, QWidget* parent)
    : QLabel(parent), full_(text), mode_(mode) {
    setTextFormat(Qt::PlainText);
    setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    elide();
}

void ElidedLabel::setFullText(const QString& text) {
    full_ = text;
    elide();
}

QSize ElidedLabel::minimumSizeHint() const { return {fontMetrics().horizontalAdvance(QStringLiteral("M…")), QLabel::minimumSizeHint().height()}; }

void ElidedLabel::resizeEvent(QResizeEvent* e) {
    QLabel::resizeEvent(e);
    elide();
}

void ElidedLabel::elide() {
    const QString shown = fontMetrics().elidedText(full_, mode_, std::max(0, contentsRect().width()));
    if (shown != text()) setText(shown);
    setToolTip(!tip_.isEmpty() ? tip_ : shown == full_ ? QString() : full_);
}

void ElidedLabel::setFixedToolTip(const QString& tip) {
    tip_ = tip;
    elide();
}

AgentPane::AgentPane(int layer, int index, const QString& model, const QString& provider, bool demo, QWidget* parent)
    : QFrame(parent) {
    setFrameShape(QFrame::StyledPanel);
    setAccessibleName(tr("Layer %1 agent %2: %3").arg(layer + 1).arg(index + 1).arg(model));
    auto* v = new QVBoxLayout(this);
    v->setContentsMargins(6, 4, 6, 4);
    v->setSpacing(2);
    // Two header lines: the model and "Messages…"; then the state and the provider. Long names are
    // shortened with "…" (in full in the tooltip) instead of hiding the state.
    auto* head = new QHBoxLayout;
    title_ = new ElidedLabel(model.section('/', -1));
    QFont bold = title_->font();
    bold.setBold(true);
    title_->setFont(bold);
    title_->setFixedToolTip(model);
    state_ = new QLabel(tr("queued"));
    state_->setAccessibleName(tr("state"));
    provider_ = new ElidedLabel(provider + (demo ? tr(" · offline demo, not a real model") : QString()), Qt::ElideRight);
    provider_->setStyleSheet("color: gray");
    provider_->setAlignment(Qt::AlignRight | Qt::AlignVCenter);
    head->addWidget(title_, 1);
    auto* sub = new QHBoxLayout;
    sub->addWidget(state_);
    sub->addWidget(provider_, 1);
    auto* sent = new QToolButton;
    // Says what it opens (a bare "Sent…" did not), short enough to leave the model's name room.
    sent->setObjectName("messages_sent");
    sent->setText(tr("Messages…"));
    sent->setToolTip(tr("Messages sent: exactly what this agent was sent (system prompt, the prompt and the answers it aggregates)"));
    sent->setAccessibleName(tr("Messages sent to %1").arg(model));
    sent->setAutoRaise(true);
    connect(sent, &QToolButton::clicked, this, &AgentPane::messagesRequested);
    head->addWidget(sent);
    v->addLayout(head);
    v->addLayout(sub);
    body_ = new StreamTextView;
    body_->setAccessibleName(tr("answer of %1").arg(model));
    body_->setMinimumHeight(bodyHeightForLines(kPaneLines));
    v->addWidget(body_, 1);
    stats_ = new QLabel;
    stats_->setObjectName("stats");
    stats_->setStyleSheet("color: gray");
    stats_->setWordWrap(true); // ttft · tok/s · tokens · time · cost: on two lines in a narrow pane
    v->addWidget(stats_);
    // A failed or dropped agent's error, whole (word-wrapped, selectable), where its answer would be.
    error_ = new QLabel;
    error_->setObjectName("agent_error");
    error_->setTextFormat(Qt::PlainText);
    error_->setWordWrap(true);
    error_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    error_->setStyleSheet("color: #D03A3A");
    error_->hide();
    v->insertWidget(v->indexOf(body_), error_);
    prov_ = new QLabel;
    prov_->setObjectName("provenance");
    prov_->setTextFormat(Qt::PlainText);
    prov_->setWordWrap(true);
    prov_->setToolTip(measure_explanation());
    prov_->hide();
    v->addWidget(prov_);
    sentence_ = new QLabel;
    sentence_->setObjectName("sentence_provenance");
    sentence_->setTextFormat(Qt::PlainText);
    sentence_->setWordWrap(true);
    sentence_->setStyleSheet("background: rgba(255, 200, 0, 0.25); padding: 2px");
    sentence_->hide();
    v->insertWidget(v->indexOf(body_), sentence_); // above the answer: seen however tall the pane
    // A state's detail (a retry's when and why), whole and word-wrapped across the pane: beside
    // the state in a narrow pane it was clipped to "retrying — attempt 2 in 1669 n…".
    detail_ = new QLabel;
    detail_->setObjectName("agent_detail");
    detail_->setTextFormat(Qt::PlainText);
    detail_->setWordWrap(true);
    detail_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    detail_->setStyleSheet("color: #E07000");
    detail_->hide();
    v->insertWidget(v->indexOf(error_), detail_);
}

int AgentPane::bodyHeightForLines(int lines) const {
    return lines * body_->fontMetrics().lineSpacing() + 2 * body_->frameWidth() + 2 * static_cast<int>(body_->document()->documentMargin());
}

QString AgentPane::statsTip() {
    return tr("ttft: time to first token, from sending the request until the first token of the answer arrived\n"
              "tok/s: completion tokens per second after the first token\n"
              "N+M tok: prompt + completion tokens (est.: counted here, the provider reported none)");
}

void AgentPane::setProvenance(const QString& text, bool ignored) {
    prov_->setText(text);
    prov_->setStyleSheet(ignored ? "color: #D03A3A; font-weight: bold" : QString());
    prov_->setToolTip(ignored ? ignored_explanation() + "\n\n" + measure_explanation() : measure_explanation());
    prov_->setVisible(!text.isEmpty());
}

QString AgentPane::provenanceText() const { return prov_->text(); }

void AgentPane::setSentenceNote(const QString& text) {
    sentence_->setText(text);
    sentence_->setVisible(!text.isEmpty());
}

QString AgentPane::sentenceNote() const { return sentence_->text(); }

void AgentPane::setNotRun() {
    streaming_ = false;
    state_->setText(QStringLiteral("<span style='color:gray'>%1</span>").arg(tr("not run yet")));
    state_->setToolTip({});
}

QString AgentPane::errorText() const { return error_->text(); }

void AgentPane::append(QStringView text) { body_->appendStream(text); }

void AgentPane::setState(engine::AgentState s, const QString& detail) {
    using S = engine::AgentState;
    streaming_ = s == S::Streaming;
    QString color = s == S::Streaming ? "#2E9E5B" : s == S::Done ? "#3A7BD5" : (s == S::Failed || s == S::Dropped) ? "#D03A3A"
                    : s == S::Retrying ? "#E07000" : s == S::Waiting ? "#B08800" : "gray";
    QString label = s == S::Waiting ? tr("waiting for the first token") : QString::fromLatin1(engine::to_string(s));
    state_->setText(QStringLiteral("<span style='color:%1'>%2</span>").arg(color, label.toHtmlEscaped()));
    state_->setToolTip(detail);
    detail_->setText(bidi::named(detail));
    detail_->setVisible(!detail.isEmpty());
}

void AgentPane::setRecord(const engine::AgentRecord& r) {
    QStringList parts;
    if (r.ttft_ms) parts << tr("ttft %1 ms").arg(*r.ttft_ms, 0, 'f', 0);
    if (r.tokens_per_s) parts << tr("%1 tok/s").arg(*r.tokens_per_s, 0, 'f', 0);
    parts << tr("%1+%2 tok%3").arg(r.usage.prompt_tokens).arg(r.usage.completion_tokens).arg(r.usage.estimated ? tr(" (est.)") : "");
    // A call that produced no token was not billed: $0, said as such (never "$?").
    parts << tr("%1 s").arg(r.duration_ms / 1000.0, 0, 'f', 2)
          << (r.not_billed ? tr("$0 (not billed: no tokens were produced)") : format_money(r.cost_usd));
    // Retries, only when there were any: a staircase agent's attempts count its steps (each a
    // call), so its retries are its steps' own ("3 attempts · 3 steps" had none).
    int retries = 0;
    if (r.steps.empty()) retries = std::max(0, r.attempts - 1);
    else
        for (const auto& st : r.steps) retries += std::max(0, st.attempts - 1);
    if (retries > 0) parts << count_text(retries, tr("retry"), tr("retries"));
    if (!r.steps.empty()) parts << steps_text(r.steps.size()); // staircase streaming: one call per step
    base_stats_ = parts.join(" · ");
    stats_->setText(base_stats_);
    stats_->setToolTip(statsTip());
    if (r.state == engine::AgentState::Failed || r.state == engine::AgentState::Dropped) {
        const QString error = QString::fromStdString(r.error.value_or(""));
        setState(r.state);
        state_->setToolTip(error);
        error_->setText(bidi::named(error));
        error_->setVisible(!error.isEmpty());
        // The error takes the body's room when there is no answer text to show.
        body_->setVisible(!body_->text().isEmpty());
    } else if (r.state == engine::AgentState::Cut) {
        // Cut at its layer's quorum or deadline: the reason stays in view (what it wrote is kept).
        setState(r.state, QString::fromStdString(r.error.value_or("")));
    } else {
        setState(r.state);
    }
}

void AgentPane::setStepsSoFar(std::size_t steps) {
    stats_->setText(tr("%1 so far (staircase streaming: one call per step)").arg(steps_text(steps)));
}

RunView::RunView(QWidget* parent) : QWidget(parent) {
    flush_timer_ = new QTimer(this);
    flush_timer_->setSingleShot(true);
    flush_timer_->setInterval(16);
    connect(flush_timer_, &QTimer::timeout, this, [this] { flushPending(false); });
    render_timer_ = new QTimer(this);
    render_timer_->setSingleShot(true);
    connect(render_timer_, &QTimer::timeout, this, [this] { renderLiveFinal(); });
    auto* v = new QVBoxLayout(this);
    v->setContentsMargins(0, 0, 0, 0);
    note_ = new QLabel;
    note_->setObjectName("run_note");
    note_->setWordWrap(true);
    note_->setStyleSheet("background: #FFF4CE; color: black; padding: 3px");
    note_->hide();
    v->addWidget(note_);
    fit_timer_ = new QTimer(this);
    fit_timer_->setSingleShot(true);
    fit_timer_->setInterval(0);
    connect(fit_timer_, &QTimer::timeout, this, [this] { fitPanesToPage(); });
    auto* split = split_ = new QSplitter(Qt::Horizontal);
    auto* scroll = scroll_ = new QScrollArea;
    scroll->setWidgetResizable(true);
    scroll->viewport()->installEventFilter(this); // its height sets the panes' page
    columns_ = new QWidget;
    auto* ch = new QHBoxLayout(columns_);
    ch->setContentsMargins(kColumnsMargin, kColumnsMargin, kColumnsMargin, kColumnsMargin);
    scroll->setWidget(columns_);
    split->addWidget(scroll);
    auto* right = new QWidget;
    auto* rv = new QVBoxLayout(right);
    rv->setContentsMargins(4, 0, 0, 0);
    auto* ft = final_title_ = new QLabel(tr("<b>Final answer</b>"));
    ft->setObjectName("final_title");
    rv->addWidget(ft);
    final_ = new SafeTextBrowser;
    final_->setAccessibleName(tr("Final answer"));
    final_note_ = new QLabel;
    final_note_->setWordWrap(true);
    final_note_->setStyleSheet("color: gray");
    final_note_->setObjectName("final_note");
    final_note_->hide();
    rv->addWidget(final_note_);
    final_sentence_ = new QLabel;
    final_sentence_->setObjectName("final_sentence_provenance");
    final_sentence_->setTextFormat(Qt::PlainText);
    final_sentence_->setWordWrap(true);
    final_sentence_->setStyleSheet("background: rgba(255, 200, 0, 0.25); padding: 2px");
    final_sentence_->hide();
    rv->addWidget(final_sentence_);
    rv->addWidget(final_, 1);
    final_->viewport()->installEventFilter(this); // a click on a sentence shows its sources
    // Very long answers: plain text in a widget made for large texts.
    final_plain_view_ = new StreamTextView;
    final_plain_view_->setAccessibleName(tr("Final answer (plain text)"));
    final_plain_view_->hide();
    final_plain_view_->viewport()->installEventFilter(this);
    rv->addWidget(final_plain_view_, 1);

    totals_ = new QLabel;
    totals_->setObjectName("totals");
    totals_->setWordWrap(true);
    totals_->setAccessibleName(tr("Run totals"));
    rv->addWidget(totals_);
    split->addWidget(right);
    split->setStretchFactor(0, 5);
    split->setStretchFactor(1, 2);
    split->setSizes({700, 300}); // the layers get the room; the final answer a side column
    connect(split, &QSplitter::splitterMoved, this, [this] {
        auto_split_ = false; // the user's choice stays
        // The running layout's final answer width, as dragged, for this and later sessions (as the
        // window's vertical split): it was lost at a restart although the README promised it.
        // Kept as a share of the width: pixels dragged on a wide monitor squeezed the layers to a
        // sliver on a laptop (review 10).
        const auto sizes = split_->sizes();
        const int total = sizes.value(0) + sizes.value(1);
        if (final_wide_ && total > 0) QSettings().setValue("layout/runningFinalShare", double(sizes.value(1)) / total);
    });
    v->addWidget(split);
}

void RunView::setNote(const QString& text) {
    note_->setText(text);
    note_->setVisible(!text.isEmpty());
}

QString RunView::note() const { return note_->text(); }

void RunView::setFinalRoom(bool wide) {
    final_wide_ = wide;
    auto_split_ = true;
    applySplit();
}

void RunView::applySplit() {
    // Running: the final answer gets a wide column (up to 45%), but the layers keep
    // kColumnMinWidth each when the width allows it (three layers at 1400 px); on a small screen
    // the final answer keeps kFinalMinWidth and the layers scroll sideways.
    const int w = std::max(400, split_->width() - split_->handleWidth());
    const int n = static_cast<int>(layer_columns_.size());
    const int layers_need = n * (kColumnMinWidth + 6) + 24; // column spacing, margins, scroll bar
    int fin = final_wide_ ? std::max(kFinalMinWidth, std::min(w * 9 / 20, w - layers_need)) : w * 3 / 10;
    // Where the user dragged it in the running layout (an earlier session too), as far as the width allows.
    // Never past the point where one layer column no longer fits whole.
    if (const double share = QSettings().value("layout/runningFinalShare", 0.0).toDouble(); final_wide_ && share > 0 && share < 1) {
        const int layers_min = std::min(w / 2, kColumnMinWidth + 30);
        fin = std::clamp(static_cast<int>(share * w + 0.5), std::min(120, w / 2), std::max(std::min(120, w / 2), w - layers_min));
    }
    const QSignalBlocker block(split_);
    split_->setSizes({w - fin, fin});
}

void RunView::resizeEvent(QResizeEvent* e) {
    QWidget::resizeEvent(e);
    if (auto_split_) applySplit(); // the docks stepped aside (or came back): the split follows
}

void RunView::prepareIdle(const config::Config& c) {
    prepare(c);
    for (auto* p : std::as_const(order_)) p->setNotRun();
}

void RunView::prepare(const config::Config& c) {
    ++generation_;
    provenance_.reset();
    prov_record_.reset();
    config_ = c;
    setNote({});
    messages_.clear();
    render_timer_->stop();
    last_render_ms_ = 0;
    since_render_.invalidate();
    delete columns_->layout();
    qDeleteAll(columns_->findChildren<QWidget*>(QString(), Qt::FindDirectChildrenOnly));
    panes_.clear();
    pending_.clear();
    final_pending_ = {};
    order_.clear();
    cursor_ = 0;
    layer_titles_.clear();
    layer_columns_.clear();
    auto* h = new QHBoxLayout(columns_);
    h->setContentsMargins(kColumnsMargin, kColumnsMargin, kColumnsMargin, kColumnsMargin);
    last_layer_ = static_cast<int>(c.layers.size()) - 1;
    for (std::size_t li = 0; li < c.layers.size(); ++li) {
        auto* col = new QWidget;
        auto* cv = new QVBoxLayout(col);
        cv->setContentsMargins(0, 0, 0, 0);
        auto* title = new QLabel(tr("<b>Layer %1</b>").arg(li + 1));
        layer_titles_.push_back(title);
        cv->addWidget(title);
        for (std::size_t ai = 0; ai < c.layers[li].agents.size(); ++ai) {
            const auto& a = c.layers[li].agents[ai];
            const auto* p = c.provider(a.provider);
            auto* pane = new AgentPane(static_cast<int>(li), static_cast<int>(ai), QString::fromStdString(a.model),
                                       QString::fromStdString(a.provider), p && p->type == config::ProviderType::Demo);
            cv->addWidget(pane, 1);
            panes_.insert({static_cast<int>(li), static_cast<int>(ai)}, pane);
            const int l = static_cast<int>(li), i = static_cast<int>(ai);
            connect(pane, &AgentPane::messagesRequested, this, [this, l, i] { emit messagesRequested(l, i); });
            pane->body()->viewport()->installEventFilter(this); // a click on a sentence shows its sources
            pane->installEventFilter(this); // its needs changed (stats, a note): the page is refitted
            order_.push_back(pane);
        }
        cv->addStretch(); // a layer with fewer panes than another keeps them a page tall, at the top
        col->setMinimumWidth(kColumnMinWidth);
        layer_columns_ << col;
        h->addWidget(col, 1);
    }
    setFinal({});
    totals_->clear();
    final_title_->setText(tr("<b>Final answer</b>"));
    if (auto_split_) applySplit();
    fitPanesToPage();
}

int RunView::paneLinesHeight(const AgentPane* p) const {
    // What the pane needs at its width: its wrapped lines (stats, provenance, an error)
    // count whole, else they were drawn over the answer.
    int need = p->minimumSizeHint().height();
    const int inner = p->width() - p->layout()->contentsMargins().left() - p->layout()->contentsMargins().right();
    for (auto* label : p->findChildren<QLabel*>())
        if (inner > 0 && label->wordWrap() && label->isVisibleTo(p)) // not laid out yet: refitted when it is
            need += std::max(0, label->heightForWidth(inner) - label->minimumSizeHint().height());
    return need - p->body()->minimumHeight();
}

int RunView::heightNeeded(int final_lines) const {
    int layers = 0;
    for (qsizetype li = 0; li < layer_columns_.size() && li < static_cast<qsizetype>(layer_titles_.size()); ++li) {
        const auto panes = layer_columns_[li]->findChildren<AgentPane*>(QString(), Qt::FindDirectChildrenOnly);
        for (auto* p : panes)
            layers = std::max(layers, layer_titles_[static_cast<std::size_t>(li)]->sizeHint().height() + layer_columns_[li]->layout()->spacing() +
                                          paneLinesHeight(p) + p->bodyHeightForLines(kPaneFewestLines));
    }
    // The layers' view: its margins, frame and the sideways scroll bar (the layers scroll at 1024 px).
    layers += 2 * kColumnsMargin + 2 * scroll_->frameWidth() + scroll_->horizontalScrollBar()->sizeHint().height();
    int fin = 0;
    if (final_lines > 0) {
        const auto* rv = final_title_->parentWidget()->layout();
        fin = final_title_->sizeHint().height() + final_lines * final_->fontMetrics().lineSpacing() + 2 * final_->frameWidth() +
              2 * static_cast<int>(final_->document()->documentMargin()) + 3 * rv->spacing() +
              (totals_->text().isEmpty() ? 0 : totals_->heightForWidth(std::max(1, totals_->width())));
        for (const QLabel* l : {final_note_, final_sentence_})
            if (l->isVisibleTo(this)) fin += l->heightForWidth(std::max(1, l->width())) + rv->spacing();
    }
    const int note = note_->isVisibleTo(this) ? note_->heightForWidth(std::max(1, note_->width())) + layout()->spacing() : 0;
    return note + std::max(layers, fin);
}

int RunView::bandHeight() const {
    const int line = fontMetrics().lineSpacing();
    return 4 * line + (order_.isEmpty() ? 3 * line : order_.front()->bodyHeightForLines(3));
}

void RunView::fitPanesToPage() {
    const int view = scroll_->viewport()->height();
    for (qsizetype li = 0; li < layer_columns_.size() && li < static_cast<qsizetype>(layer_titles_.size()); ++li) {
        auto* cv = layer_columns_[li]->layout();
        const int page = view - 2 * kColumnsMargin - layer_titles_[static_cast<std::size_t>(li)]->sizeHint().height() - cv->spacing();
        const auto panes = layer_columns_[li]->findChildren<AgentPane*>(QString(), Qt::FindDirectChildrenOnly);
        for (auto* p : panes) {
            // What the pane needs at its width: its wrapped lines (stats, provenance, an error)
            // count whole, else they were drawn over the answer. A view too low for that (the
            // editing layout's band): the pane gets what it needs and the layers scroll.
            // The answer box gives up lines (down to a few; it scrolls) before the pane's own lines
            // (stats, provenance) go under the scroll bar: at 1024×700 with a banner they were cut.
            const int others = paneLinesHeight(p);
            const int body = std::clamp(page - others, p->bodyHeightForLines(kPaneFewestLines), p->bodyHeightForLines(kPaneLines));
            if (p->body()->minimumHeight() != body) p->body()->setMinimumHeight(body);
            int need = others + body;
            // As many whole panes as fit in the view share it (one, a page, on a small screen);
            // a pane that needs more than its share gets it and the layers scroll.
            const int fit = std::clamp(page / std::max(1, need), 1, std::max(1, static_cast<int>(panes.size())));
            const int h = std::max(need, (page - (fit - 1) * cv->spacing()) / fit);
            if (p->minimumHeight() != h || p->maximumHeight() != h) p->setFixedHeight(h);
        }
    }
}

void RunView::apply(const std::vector<engine::Event>& batch) {
    using T = engine::Event::Type;
    using S = engine::AgentState;
    for (const auto& e : batch) {
        AgentPane* p = pane(e.layer, e.agent);
        switch (e.type) {
        case T::AgentStarted:
            if (e.record) messages_[{e.layer, e.agent}] = e.record->messages;
            if (p) p->setState(S::Waiting);
            emit agentStateChanged(e.layer, e.agent, S::Waiting);
            break;
        case T::AgentDelta:
            if (p) {
                if (!p->isStreaming()) {
                    p->setState(S::Streaming);
                    emit agentStateChanged(e.layer, e.agent, S::Streaming);
                }
                pending_[p].text += QString::fromStdString(e.text);
            }
            if (e.layer == last_layer_) {
                const QString piece = QString::fromStdString(e.text);
                final_markdown_ += piece;
                if (final_plain_) final_pending_.text += piece; // long answers: appended, never re-laid out whole
                else final_dirty_ = true;
            }
            break;
        case T::AgentStep:
            // Staircase streaming: the steps counted as they start; the messages are the last step's.
            if (e.step_record) messages_[{e.layer, e.agent}] = e.step_record->messages;
            if (p) p->setStepsSoFar(static_cast<std::size_t>(e.step) + 1);
            break;
        case T::AgentRetry:
            if (p) p->setState(S::Retrying, tr("attempt %1 in %2 ms: %3").arg(e.attempt).arg(e.delay_ms).arg(QString::fromStdString(e.message)));
            emit agentStateChanged(e.layer, e.agent, S::Retrying);
            break;
        case T::AgentDone:
        case T::AgentFailed:
            if (p && pending_.contains(p) && pending_[p].left() <= kFlushAllChars) {
                const Pending rest = pending_.take(p);
                p->append(QStringView(rest.text).mid(rest.done));
            }
            if (p && e.record) p->setRecord(*e.record);
            if (e.record) emit agentStateChanged(e.layer, e.agent, e.record->state);
            break;
        case T::LayerDone:
            break;
        case T::RunDone:
        case T::RunFailed:
        case T::RunCancelled:
            flushPending(true);
            if (e.final_record) {
                const auto& r = *e.final_record;
                for (const auto& L : r.layers) {
                    for (const auto& a : L.agents) {
                        if (auto* ap = pane(a.layer, a.index); ap && a.state != S::Queued) ap->setRecord(a);
                        emit agentStateChanged(a.layer, a.index, a.state);
                    }
                }
                for (std::size_t li = 0; li < r.layers.size() && li < layer_titles_.size(); ++li)
                    if (r.layers[li].end_ms > 0)
                        layer_titles_[li]->setText(tr("<b>Layer %1</b> · %2 s").arg(li + 1).arg((r.layers[li].end_ms - r.layers[li].start_ms) / 1000.0, 0, 'f', 2));
                if (r.final_text) setFinal(QString::fromStdString(*r.final_text));
                setTotals(r);
                for (const auto& L : r.layers)
                    for (const auto& a : L.agents)
                        if (!a.messages.empty()) messages_[{a.layer, a.index}] = a.messages;
                computeProvenance(r);
                emit runEnded(r);
            }
            break;
        default:
            break;
        }
    }
    renderLiveFinal();
    flushPending(false);
}

void RunView::renderLiveFinal() {
    // Markdown is re-rendered at most once per batch (once per frame), never per token, and each
    // render parses all of it: so a render that took t ms waits 3·t ms before the next one, which
    // keeps live Markdown to at most a quarter of the GUI thread however long the answer grows.
    // Past kLiveMarkdownChars the answer streams as plain text instead.
    if (!final_dirty_) return;
    if (final_markdown_.size() > kLiveMarkdownChars) {
        showPlainFinal(final_markdown_, tr("Streaming as plain text; shown as Markdown once the answer is complete."));
        return;
    }
    const qint64 wait = static_cast<qint64>(3 * last_render_ms_) - (since_render_.isValid() ? since_render_.elapsed() : 1 << 30);
    if (wait > 0) {
        if (!render_timer_->isActive()) render_timer_->start(static_cast<int>(wait));
        return;
    }
    QElapsedTimer took;
    took.start();
    setFinal(final_markdown_);
    last_render_ms_ = took.nsecsElapsed() / 1e6;
    since_render_.start();
}

void RunView::appendPiece(Pending& p, qsizetype max, const std::function<void(QStringView)>& append) {
    qsizetype n = std::min(max, p.left());
    if (n < p.left() && n > 0 && p.text.at(p.done + n - 1).isHighSurrogate()) --n; // keep the pair whole
    append(QStringView(p.text).mid(p.done, n));
    p.done += n;
    if (p.left() == 0) {
        p.text.clear();
        p.done = 0;
    }
}

void RunView::flushPending(bool everything) {
    if (!isCatchingUp()) return;
    if (everything) {
        // At the end: all of it at once, unless that is a burst (then frame by frame, as below).
        qsizetype total = final_pending_.left();
        for (const auto& pd : std::as_const(pending_)) total += pd.left();
        everything = total <= kFlushAllChars;
    }
    QElapsedTimer budget;
    budget.start();
    auto spent = [&] { return !everything && budget.elapsed() >= 6; };
    // The final answer first: it is what the user reads.
    while (final_pending_.left() > 0 && !spent())
        appendPiece(final_pending_, kPieceChars, [this](QStringView t) { final_plain_view_->appendStream(t); });
    const int n = static_cast<int>(order_.size());
    for (int step = 0; step < n && !pending_.isEmpty() && !spent(); ++step) {
        AgentPane* p = order_[(cursor_ + step) % n];
        auto it = pending_.find(p);
        if (it == pending_.end()) continue;
        while (it->left() > 0 && !spent()) appendPiece(*it, kPieceChars, [p](QStringView t) { p->append(t); });
        if (it->left() == 0) pending_.erase(it);
        if (spent()) cursor_ = (cursor_ + step + 1) % n; // the next frame starts with the next pane
    }
    if (isCatchingUp()) flush_timer_->start();
}

void RunView::computeProvenance(const engine::RunRecord& r) {
    if (r.layers.size() < 2) return;
    auto record = std::make_shared<const engine::RunRecord>(r);
    QPointer<RunView> self(this);
    const int generation = generation_;
    // Linear in the answers, but long answers still take a while (bench_provenance): never on
    // the GUI thread.
    std::thread([self, record, generation] {
        auto prov = std::make_shared<const engine::RunProvenance>(engine::compute_provenance(*record));
        QMetaObject::invokeMethod(qApp, [self, record, prov, generation] {
            if (!self || self->generation_ != generation) return;
            self->prov_record_ = record;
            self->provenance_ = prov;
            self->applyProvenance();
            emit self->provenanceComputed();
        }, Qt::QueuedConnection);
    }).detach();
}

QString RunView::missingWhy(const engine::SourceShare& s) const {
    // The source's state in a word ("dropped", "cut"), or why its answer counts for nothing.
    const auto& layers = prov_record_->layers;
    if (s.layer >= 0 && static_cast<std::size_t>(s.layer) < layers.size() && s.agent >= 0 &&
        static_cast<std::size_t>(s.agent) < layers[static_cast<std::size_t>(s.layer)].agents.size()) {
        const auto state = layers[static_cast<std::size_t>(s.layer)].agents[static_cast<std::size_t>(s.agent)].state;
        if (state != engine::AgentState::Done) return QString::fromUtf8(engine::to_string(state));
    }
    return QString::fromStdString(s.missing);
}

void RunView::applyProvenance() {
    const auto& prov = *provenance_;
    for (std::size_t l = 0; l < prov.layers.size(); ++l)
        for (std::size_t k = 0; k < prov.layers[l].size(); ++k) {
            AgentPane* p = pane(static_cast<int>(l), static_cast<int>(k));
            if (!p) continue;
            const auto& a = prov.layers[l][k];
            QStringList lines;
            if (!a.sources.empty()) {
                // "40% of this answer comes from L1.1, 12% from L1.2"
                QStringList parts, nothing;
                double sum = 0;
                for (const auto& s : a.sources) {
                    const QString from = agent_name(s.layer, s.agent);
                    if (s.share) parts << (parts.isEmpty() ? tr("%1 of this answer comes from %2").arg(percent_text(*s.share), from)
                                                           : tr("%1 from %2").arg(percent_text(*s.share), from));
                    else nothing << tr("nothing from %1 (%2)").arg(from, missingWhy(s));
                    sum += s.share.value_or(0);
                }
                // An answer of the layer before that it never got (dropped, cut) is named too, as
                // the walkthrough does: "88% from L1.1, 72% from L1.3" read as if L1.2 gave nothing
                // for no reason.
                if (!parts.isEmpty() || !nothing.isEmpty()) lines << (parts.join(", ") + (parts.isEmpty() || nothing.isEmpty() ? QString() : QStringLiteral("; ")) + nothing.join("; "));
                // Each source is measured alone: said on screen, not only in the tooltip, when the
                // shares add up to more than the whole (a class reads 72% + 30% + 70% as an error).
                if (sum > 1.005) lines << tr("(shares overlap: a sentence found in two answers counts for each)");
            }
            if (a.final_share) lines << final_share_text(*a.final_share);
            const bool ignored = a.ignored.value_or(false);
            if (ignored) lines << tr("Ignored by the next layer");
            p->setProvenance(lines.join("\n"), ignored);
        }
}

void RunView::clearSentenceSources() {
    for (auto* p : std::as_const(order_)) {
        p->body()->setExtraSelections({});
        p->setSentenceNote({});
    }
    final_->setExtraSelections({});
    final_plain_view_->setExtraSelections({});
    final_sentence_->clear();
    final_sentence_->hide();
}

const RenderedTextMap& RunView::finalMap() {
    if (final_map_stale_) {
        final_map_ = RenderedTextMap(final_markdown_, *final_->document());
        final_map_stale_ = false;
    }
    return final_map_;
}

QPair<int, int> RunView::finalAgent() const {
    if (!prov_record_ || !prov_record_->final_text) return {-1, -1};
    // The last layer's aggregator, or (aggregation "select") the answer it chose.
    for (int l = static_cast<int>(prov_record_->layers.size()) - 1; l >= 0; --l) {
        const auto& agents = prov_record_->layers[static_cast<std::size_t>(l)].agents;
        for (std::size_t k = 0; k < agents.size(); ++k)
            if (agents[k].text == *prov_record_->final_text) return {l, static_cast<int>(k)};
    }
    return {-1, -1};
}

bool RunView::showFinalSentenceSources(int text_index) {
    const auto [layer, index] = finalAgent();
    if (layer < 0 || finalText() != QString::fromStdString(*prov_record_->final_text) || !showSentenceSources(layer, index, text_index)) {
        clearSentenceSources();
        return false;
    }
    // The marks on the aggregator's own pane, again on the final view: the same text, so the
    // same indices, placed through the rendered document's map (or the plain view's breaks).
    AgentPane* here = pane(layer, index);
    QList<QTextEdit::ExtraSelection> marks;
    for (const auto& sel : here->body()->extraSelections()) {
        const int from = here->body()->textIndex(sel.cursor.selectionStart());
        const int to = here->body()->textIndex(sel.cursor.selectionEnd());
        QTextEdit::ExtraSelection m;
        m.format = sel.format;
        if (final_plain_) {
            m.cursor = QTextCursor(final_plain_view_->document());
            m.cursor.setPosition(final_plain_view_->documentPosition(from));
            m.cursor.setPosition(final_plain_view_->documentPosition(to), QTextCursor::KeepAnchor);
        } else {
            const RenderedTextMap& map = finalMap();
            m.cursor = QTextCursor(final_->document());
            m.cursor.setPosition(std::min(map.toDocument(from), final_->document()->characterCount() - 1));
            m.cursor.setPosition(std::min(std::max(map.toDocument(from), map.toDocumentEnd(to)), final_->document()->characterCount() - 1),
                                 QTextCursor::KeepAnchor);
        }
        marks << m;
    }
    if (final_plain_) final_plain_view_->setExtraSelections(marks);
    else final_->setExtraSelections(marks);
    final_sentence_->setText(here->sentenceNote());
    final_sentence_->setVisible(!final_sentence_->text().isEmpty());
    return true;
}

bool RunView::showSentenceSources(int layer, int index, int text_index) {
    clearSentenceSources();
    if (!provenance_ || !prov_record_ || layer < 1 || layer >= static_cast<int>(provenance_->layers.size())) return false;
    const auto& row = provenance_->layers[static_cast<std::size_t>(layer)];
    if (index < 0 || index >= static_cast<int>(row.size())) return false;
    const auto& agent = row[static_cast<std::size_t>(index)];
    const auto& text = prov_record_->layers[static_cast<std::size_t>(layer)].agents[static_cast<std::size_t>(index)].text;
    AgentPane* here = pane(layer, index);
    if (!here || here->text() != QString::fromStdString(text)) return false; // not (yet) the measured text
    const Utf16Map map(text);
    const std::size_t byte = map.toByte(text_index);
    const eval::SentenceProvenance* sentence = nullptr;
    for (const auto& s : agent.detail.sentences)
        if (s.span.begin <= byte && byte < s.span.end) sentence = &s;
    if (!sentence) return false;
    auto selection = [](StreamTextView* v, const Utf16Map& m, eval::Span span, const QColor& c, bool underline) {
        QTextEdit::ExtraSelection sel;
        sel.cursor = QTextCursor(v->document());
        sel.cursor.setPosition(v->documentPosition(m.toUtf16(span.begin)));
        sel.cursor.setPosition(v->documentPosition(m.toUtf16(span.end)), QTextCursor::KeepAnchor);
        sel.format.setBackground(c);
        if (underline) sel.format.setFontUnderline(true);
        return sel;
    };
    QList<QTextEdit::ExtraSelection> own;
    // The sentence clicked: underlined (its matched words get their source's colour below), or
    // yellow when it comes from no earlier answer.
    own << selection(here->body(), map, sentence->span, sentence->sources.empty() ? QColor(255, 200, 0, 90) : QColor(Qt::transparent), true);
    QStringList from;
    for (const auto& src : sentence->sources) {
        const int j = agent.detail_sources[src.source];
        AgentPane* source = pane(layer - 1, j);
        const auto& source_text = prov_record_->layers[static_cast<std::size_t>(layer - 1)].agents[static_cast<std::size_t>(j)].text;
        QColor c = source_colour(j);
        c.setAlpha(110);
        if (&src == &sentence->sources.front()) // in its own pane, the main source's colour (as the HTML page)
            for (const auto& sp : src.in_b) own << selection(here->body(), map, sp, c, false);
        from << tr("%1 from %2").arg(percent_text(src.share), agent_name(layer - 1, j));
        if (!source || source->text() != QString::fromStdString(source_text)) continue;
        const Utf16Map source_map(source_text);
        QList<QTextEdit::ExtraSelection> marks;
        for (const auto& sp : src.in_source) marks << selection(source->body(), source_map, sp, c, false);
        source->body()->setExtraSelections(marks);
        if (!marks.isEmpty()) { // scrolled to the first match, nothing selected
            QTextCursor at = marks.front().cursor;
            at.clearSelection();
            source->body()->setTextCursor(at);
            source->body()->ensureCursorVisible();
        }
        source->setSentenceNote(tr("%1 of the selected sentence of %2 comes from this answer%3")
                                    .arg(percent_text(src.share), agent_name(layer, index),
                                         src.whole ? tr(" (a whole sentence)") : tr(" (runs of %1+ words)").arg(eval::kRun)));
    }
    here->body()->setExtraSelections(own);
    here->setSentenceNote(from.isEmpty() ? tr("This sentence comes from no answer of layer %1.").arg(layer)
                                         : tr("This sentence: %1").arg(from.join(", ")));
    return true;
}

bool RunView::eventFilter(QObject* watched, QEvent* e) {
    if ((e->type() == QEvent::Resize && watched == scroll_->viewport()) ||
        ((e->type() == QEvent::LayoutRequest || e->type() == QEvent::Resize) && qobject_cast<AgentPane*>(watched)))
        fit_timer_->start();
    if (e->type() == QEvent::MouseButtonRelease && static_cast<QMouseEvent*>(e)->button() == Qt::LeftButton) {
        const QPoint at = static_cast<QMouseEvent*>(e)->position().toPoint();
        if (watched == final_->viewport() && !final_->textCursor().hasSelection() && final_->anchorAt(at).isEmpty()) {
            showFinalSentenceSources(finalMap().toSource(final_->cursorForPosition(at).position()));
            return QWidget::eventFilter(watched, e);
        }
        if (watched == final_plain_view_->viewport() && !final_plain_view_->textCursor().hasSelection()) {
            showFinalSentenceSources(final_plain_view_->textIndex(final_plain_view_->cursorForPosition(at).position()));
            return QWidget::eventFilter(watched, e);
        }
        for (auto it = panes_.cbegin(); it != panes_.cend(); ++it) {
            StreamTextView* body = it.value()->body();
            if (body->viewport() != watched || body->textCursor().hasSelection()) continue; // selecting text is not a click
            const int pos = body->cursorForPosition(static_cast<QMouseEvent*>(e)->position().toPoint()).position();
            if (it.key() == finalAgent()) showFinalSentenceSources(body->textIndex(pos)); // marked in the final view too
            else if (it.key().first > 0) showSentenceSources(it.key().first, it.key().second, body->textIndex(pos));
            else clearSentenceSources();
            break;
        }
    }
    return QWidget::eventFilter(watched, e);
}

void RunView::showRecord(const config::Config& c, const engine::RunRecord& r) {
    prepare(c);
    for (const auto& L : r.layers)
        for (const auto& a : L.agents)
            if (auto* p = pane(a.layer, a.index)) {
                pending_[p].text = QString::fromStdString(a.text); // shown by the RunDone below (a burst: frame by frame)
                if (a.attempts > 0) p->setRecord(a);
            }
    engine::Event end;
    end.type = engine::Event::Type::RunDone;
    end.final_record = std::make_shared<const engine::RunRecord>(r);
    apply({end});
}

void RunView::setFinal(const QString& markdown) {
    final_dirty_ = false;
    final_map_stale_ = true;
    final_->setExtraSelections({}); // marks of the text shown before
    final_sentence_->hide();
    const bool same = final_plain_ && markdown == final_markdown_; // already shown, as it streamed
    final_markdown_ = markdown;
    if (markdown.size() > kMarkdownChars) {
        // Untrusted output can be huge: past the limit it is shown as plain text (still
        // complete), so the window stays responsive.
        showPlainFinal(markdown, tr("Shown as plain text: this answer (%1 KB) is longer than Markdown rendering can keep "
                                    "responsive (%2 KB).")
                                     .arg(markdown.size() / 1024)
                                     .arg(kMarkdownChars / 1024),
                       !same);
        return;
    }
    final_plain_ = false;
    final_pending_ = {};
    final_note_->hide();
    final_plain_view_->hide();
    final_plain_view_->clear();
    final_->show();
    final_->showMarkdown(markdown);
}


void RunView::showPlainFinal(const QString& text, const QString& note, bool reset) {
    final_dirty_ = false;
    final_map_stale_ = true;
    final_markdown_ = text;
    if (!final_plain_ || reset) {
        // Laid out frame by frame like streamed text: a text of megabytes never stalls the window.
        final_plain_view_->clear();
        final_pending_ = {text, 0};
        if (!flush_timer_->isActive()) flush_timer_->start();
    }
    final_plain_ = true;
    final_->hide();
    final_->clear();
    final_plain_view_->show();
    final_note_->setText(note);
    final_note_->show();
}

void RunView::setTotals(const engine::RunRecord& r) {
    const auto& t = r.totals;
    const QString error = QString::fromStdString(r.error);
    // How the run ended, in the words every view uses ("done — 1 of 3 dropped").
    const QString outcome = QString::fromStdString(engine::outcome_text(r));
    using K = engine::Known;
    const K cost_known = engine::known(t.cost_complete, t.cost_usd), tf_known = engine::known(t.tflops_complete, t.tflops);
    // Short, for the narrow column at 1024×700; what "unknown" and "≥" mean is in the tooltip.
    const QString cost = cost_known == K::None ? tr("unknown")
                         : cost_known == K::Some ? tr("≥ %1").arg(format_money(t.cost_usd))
                                                 : format_money(t.cost_usd);
    // The run's TFLOPs are the critical path's (the largest agent of each layer, summed): said
    // on the line, with every call's sum beside it in the tooltip, so neither is taken for the other.
    const QString tflops = tf_known == K::None ? tr("TFLOPs unknown")
                                               : tr("%1%2 TFLOPs (critical path)").arg(tf_known == K::Some ? tr("≥ ") : QString()).arg(t.tflops, 0, 'f', 2);
    double all_calls = 0;
    for (const auto& layer : r.layers)
        for (const auto& a : layer.agents) all_calls += a.tflops.value_or(0);
    QStringList tip;
    if (tf_known != K::None)
        tip << tr("TFLOPs (critical path): in each layer the agent with the most TFLOPs, summed over the layers — the "
                  "compute the run waits for, as the MoA paper counts it. All calls together: %1 TFLOPs.")
                   .arg(all_calls, 0, 'f', 2);
    if (cost_known == K::None) tip << tr("Cost unknown: no model of this run has a price (Providers panel, or the catalog).");
    if (cost_known == K::Some) tip << tr("Cost ≥: some models have no price; the sum of the known ones is a lower bound.");
    if (tf_known == K::None) tip << tr("TFLOPs unknown: no model of this run has a parameter count.");
    if (tf_known == K::Some) tip << tr("TFLOPs ≥: some models have no parameter count; the sum is a lower bound.");
    totals_->setToolTip(tip.join("\n"));
    // The first-token time heads the final answer (on its title line: the totals below wrap at
    // 1024×700, and every line there is taken from the answer's height).
    final_title_->setText(tr("<b>Final answer</b> · %1").arg(first_token_text(t).toHtmlEscaped()));
    QString s = tr("<b>%1</b> · cost %2 · %3 · wall %4 s · critical path %5 s · %6+%7 tokens")
                    .arg(outcome.toHtmlEscaped(), cost.toHtmlEscaped(), tflops.toHtmlEscaped())
                    .arg(t.wall_ms / 1000.0, 0, 'f', 2)
                    .arg(t.critical_path_ms / 1000.0, 0, 'f', 2)
                    .arg(t.prompt_tokens)
                    .arg(t.completion_tokens);
    if (!error.isEmpty()) s += "<br><span style='color:#D03A3A'>" + error.toHtmlEscaped() + "</span>";
    totals_->setText(s);
}

} // namespace moa::ui
