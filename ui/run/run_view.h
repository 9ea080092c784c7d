// SPDX-License-Identifier: MIT
#pragma once
// The live run: a column per layer, a pane per agent. Text arrives in the panes as the bridge
// delivers it (one batch per frame); each pane shows its state, model, time to first token,
// tokens/s, tokens and cost; each layer its wall time; the run its totals. The final answer is
// rendered as Markdown that fetches nothing.
#include <QElapsedTimer>
#include <QFrame>
#include <QHash>
#include <QLabel>
#include <QPlainTextEdit>
#include <QTextBrowser>
#include <QTimer>
#include <QWidget>

class QScrollArea;
class QSplitter;

#include <functional>
#include <memory>

#include "config/config.h"
#include "engine/run_provenance.h"
#include "engine/run_types.h"
#include "run/bidi_marks.h"
#include "run/rendered_text_map.h"
#include "run/stream_text_view.h"

namespace moa::ui {

// A one-line label that shortens its text with "…" to the width it gets (the full text in
// its tooltip), so a long model name never pushes or hides what stands beside it.
class ElidedLabel : public QLabel {
    Q_OBJECT
public:
    explicit ElidedLabel(const QString& text, Qt::TextElideMode mode = Qt::ElideRight, QWidget* parent = nullptr);
    void setFullText(const QString& text);
    QString fullText() const { return full_; }
    // A tooltip shown whether or not the text is shortened (else: the full text, when shortened).
    void setFixedToolTip(const QString& tip);
    QSize minimumSizeHint() const override;

protected:
    void resizeEvent(QResizeEvent* e) override;

private:
    void elide();
    QString full_, tip_;
    Qt::TextElideMode mode_;
};

// Markdown view for untrusted model output: no remote resources, links open only on click.
class SafeTextBrowser : public QTextBrowser {
    Q_OBJECT
public:
    explicit SafeTextBrowser(QWidget* parent = nullptr);
    QVariant loadResource(int type, const QUrl& name) override;
    // GitHub Markdown without its raw HTML: a model's <font color=white>, <!-- --> or <script>
    // would hide or disguise text, so raw HTML is shown as the text it is.
    void showMarkdown(const QString& markdown);
    QMimeData* createMimeDataFromSelectionForTest() const { return createMimeDataFromSelection(); }

protected:
    QMimeData* createMimeDataFromSelection() const override;
};

class AgentPane : public QFrame {
    Q_OBJECT
public:
    AgentPane(int layer, int index, const QString& model, const QString& provider, bool demo, QWidget* parent = nullptr);
    void append(QStringView text);
    void setState(engine::AgentState s, const QString& detail = {});
    void setRecord(const engine::AgentRecord& r);
    // Staircase streaming, while the agent runs: its steps so far (its record then says them all).
    void setStepsSoFar(std::size_t steps);
    QString text() const { return body_->text(); } // exactly as it came
    StreamTextView* body() const { return body_; }
    // The answer box's height for `lines` text lines (frame and margins included).
    int bodyHeightForLines(int lines) const;
    QString stateText() const { return state_->text(); }
    // The current state's detail (a retry's when and why), shown whole below the state.
    QString stateDetail() const { return detail_->text(); }
    bool isStreaming() const { return streaming_; }
    // After a run: where this answer comes from and how much of the final answer comes from it
    // (engine/run_provenance.h), on a line under the stats; `ignored` shows it in red.
    void setProvenance(const QString& text, bool ignored);
    QString provenanceText() const;
    // Sentence provenance: the line that names the selected sentence's share (empty hides it).
    void setSentenceNote(const QString& text);
    QString sentenceNote() const;
    QString statsText() const { return stats_->text(); }
    QString statsToolTip() const { return stats_->toolTip(); }
    // What the stats line's abbreviations mean (ttft, tok/s, tokens).
    static QString statsTip();
    // Before any run: no state ("not run yet"), not "queued".
    void setNotRun();
    // The whole error of a failed or dropped agent, shown in the pane's body (empty: none).
    QString errorText() const;

signals:
    void messagesRequested();

private:
    bool streaming_ = false;
    ElidedLabel* title_;
    ElidedLabel* provider_;
    QLabel* state_;
    StreamTextView* body_;
    QLabel* stats_;
    QLabel* error_;
    QLabel* prov_;
    QLabel* sentence_;
    QLabel* detail_;
    QString base_stats_;
};

class RunView : public QWidget {
    Q_OBJECT
public:
    explicit RunView(QWidget* parent = nullptr);
    // Lays out columns and panes for a configuration (all queued: a run is starting).
    void prepare(const config::Config& c);
    // The same panes before any run: they say "not run yet".
    void prepareIdle(const config::Config& c);
    // A line above the panes marking what they show (e.g. "from an earlier configuration");
    // empty hides it. prepare() clears it.
    void setNote(const QString& text);
    QString note() const;
    // The running layout gives the final answer a wide column; the editing layout a side one.
    void setFinalRoom(bool wide);
    // The height this view needs for every pane's own lines (header, stats, provenance, an error)
    // to be whole in the layers' view with a few lines of each answer, and, with `final_lines`,
    // for the final answer to show that many lines (at the widths laid out now).
    int heightNeeded(int final_lines) const;
    // The least a layout may leave it: a pane's header and a few lines of its answer (it scrolls).
    int bandHeight() const;
    // The configuration the panes were laid out for.
    const config::Config& config() const { return config_; }
    void apply(const std::vector<engine::Event>& batch);
    // A finished run, as recorded (history).
    void showRecord(const config::Config& c, const engine::RunRecord& r);

    AgentPane* pane(int layer, int index) const { return panes_.value({layer, index}); }
    QString finalText() const { return final_markdown_; }
    bool finalIsPlainText() const { return final_plain_; }
    // True while streamed text waits to be laid out (after a burst; see flushPending).
    bool isCatchingUp() const { return !pending_.isEmpty() || final_pending_.left() > 0; }
    static constexpr qsizetype kPieceChars = 4 * 1024;
    // At an agent's or the run's end, what is still pending is shown at once up to this much;
    // more (a burst) goes on over the next frames.
    static constexpr qsizetype kFlushAllChars = 256 * 1024;
    QString finalShownText() const { return final_plain_ ? final_plain_view_->shownText() : bidi::shownText(*final_->document()); }
    // Past kMarkdownChars, the final answer is shown as plain text; past kLiveMarkdownChars it
    // streams as plain text (appended, never re-parsed) and is rendered once when complete.
    static constexpr int kMarkdownChars = 64 * 1024;
    static constexpr int kLiveMarkdownChars = 16 * 1024;
    QString totalsText() const { return totals_->text(); }
    // The final answer's title line; after a run it gives the first-token time.
    QString finalTitleText() const { return final_title_->text(); }

    // What an agent was sent, once it started (empty before).
    std::vector<engine::Message> messages(int layer, int index) const { return messages_.value({layer, index}); }

    // The provenance of the last finished run shown (null until computed, off the GUI thread),
    // and the record it was computed from.
    std::shared_ptr<const engine::RunProvenance> provenance() const { return provenance_; }
    std::shared_ptr<const engine::RunRecord> provenanceRecord() const { return prov_record_; }
    // Sentence provenance: the sentence of answer (layer, index) at `text_index` (an index into
    // the pane's text) is highlighted, and its sources light up in the panes of the layer
    // before (the matched spans, coloured like their source) with the share. A click in an
    // answer of layer 2 or later does this. False when there is nothing to show there.
    bool showSentenceSources(int layer, int index, int text_index);
    void clearSentenceSources();
    // The same from the large final-answer view: `text_index` is an index into the final
    // answer's text (finalText()); the sentence is also marked in the final view. A click there
    // does this (the rendered Markdown's positions are mapped back to the text).
    bool showFinalSentenceSources(int text_index);
    // The answer the final answer is (the last layer's aggregator, or the answer it selected),
    // as (layer, index); (-1, -1) when none of the panes holds it.
    QPair<int, int> finalAgent() const;
    // The rendered final view (Markdown) and where its positions come from in finalText().
    QTextBrowser* finalView() const { return final_; }
    StreamTextView* finalPlainView() const { return final_plain_view_; }
    const RenderedTextMap& finalMap();
    QString finalSentenceNote() const { return final_sentence_->text(); }

protected:
    bool eventFilter(QObject* watched, QEvent* e) override;
    void resizeEvent(QResizeEvent* e) override;

signals:
    void agentStateChanged(int layer, int index, moa::engine::AgentState state);
    void runEnded(const moa::engine::RunRecord& record);
    void messagesRequested(int layer, int index);
    // The refinement view: the run's provenance ("x% of B comes from A") was computed (off the
    // GUI thread, after the run) and is on the panes; provenance() has it.
    void provenanceComputed();

private:
    void setFinal(const QString& markdown);
    void showPlainFinal(const QString& text, const QString& note, bool reset = false);
    void computeProvenance(const engine::RunRecord& r);
    void applyProvenance();
    QString missingWhy(const engine::SourceShare& s) const; // "dropped", "cut", or why an answer counts for nothing
    std::shared_ptr<const engine::RunProvenance> provenance_;
    std::shared_ptr<const engine::RunRecord> prov_record_;
    QHash<QPair<int, int>, std::vector<engine::Message>> messages_;
    int generation_ = 0; // bumps on prepare(), so late overlap results of an old run are dropped
    // Streamed text is laid out in the panes (and the plain-text final view) within a time
    // budget per frame, round-robin and in pieces of at most kPieceChars, so that many long
    // answers growing at once, or megabytes arriving at once from a hostile or very fast
    // server, never stall the event loop: such a burst is shown over the next frames.
    void flushPending(bool everything);
    struct Pending {
        QString text;
        qsizetype done = 0; // characters of `text` already shown
        qsizetype left() const { return text.size() - done; }
    };
    // Appends up to `max` characters of `p` to `view` (never splitting a surrogate pair).
    static void appendPiece(Pending& p, qsizetype max, const std::function<void(QStringView)>& append);
    QHash<AgentPane*, Pending> pending_;
    Pending final_pending_; // text of the final answer not yet in final_plain_view_
    QList<AgentPane*> order_;
    int cursor_ = 0;
    QTimer* flush_timer_ = nullptr;
    void setTotals(const engine::RunRecord& r);
    config::Config config_;
    QLabel* note_ = nullptr;
    QSplitter* split_ = nullptr;
    bool final_wide_ = false;
    QList<QWidget*> layer_columns_;
    void applySplit();
    bool auto_split_ = true; // false once the user dragged the splitter
public:
    // A layer's column never gets narrower than this (the layers scroll sideways instead): at
    // 1024×700 panes of ~90 px showed three words a line.
    static constexpr int kColumnMinWidth = 220;
    // The layers' margins in their scrolled view (the style's 9–11 px cost a pane's line).
    static constexpr int kColumnsMargin = 3;
    // In the running layout the final answer gets at least this much (and at most 45%).
    static constexpr int kFinalMinWidth = 340;
private:
    QWidget* columns_ = nullptr;
    QScrollArea* scroll_ = nullptr;
    // Each pane is as tall as the layers' view when that is taller than the pane needs (the
    // panes of a layer are then a page each, scrolled through): at 1024×700 three panes shared
    // the view and showed ~7 lines each. Refitted when the view or a pane's needs change.
    void fitPanesToPage();
    // What pane `p` needs at its width besides its answer box (wrapped lines counted whole).
    int paneLinesHeight(const AgentPane* p) const;
    QTimer* fit_timer_ = nullptr;
    QHash<QPair<int, int>, AgentPane*> panes_;
    std::vector<QLabel*> layer_titles_;
    SafeTextBrowser* final_;
    QLabel* final_note_ = nullptr;
    QLabel* final_sentence_ = nullptr;
    RenderedTextMap final_map_; // built on the first click after each render
    bool final_map_stale_ = true;
    StreamTextView* final_plain_view_ = nullptr;
    bool final_plain_ = false;
    QLabel* totals_;
    QLabel* final_title_;
    QString final_markdown_;
    bool final_dirty_ = false;
    void renderLiveFinal();
    QTimer* render_timer_ = nullptr;
    QElapsedTimer since_render_;  // since the last live Markdown render ended
    double last_render_ms_ = 0;   // how long it took
    int last_layer_ = 0;
};

QString format_money(const std::optional<double>& usd);

} // namespace moa::ui
