// SPDX-License-Identifier: MIT
#pragma once
// The run presentation: what the run view, the timeline and the graph show, and from which
// configuration. A live run of the open document lights the document's graph; a run reopened,
// replayed or re-run from the history is shown with its own configuration snapshot as a
// read-only graph ("Run #N as recorded"), never over the document, so every name and figure
// comes from that run. It owns that state and resets it when the document is replaced, and
// marks what it shows as from an earlier configuration after an edit.
#include <QObject>
#include <QPointer>

#include <optional>

#include "config/config.h"
#include "engine/run_types.h"
#include "history/history_panel.h"

class QDialog;
class QFrame;
class QLabel;
class QPushButton;

namespace moa::ui {

class ConfigDocument;
class GraphScene;
class GraphView;
class ReplayPlayer;
class RunView;
class StreamTextView;
class TimelineView;

class RunPresenter : public QObject {
    Q_OBJECT
public:
    RunPresenter(ConfigDocument* doc, GraphScene* doc_scene, GraphView* view, RunView* run_view, TimelineView* timeline,
                 QWidget* window);

    // The bar above the graph while a recorded run is shown ("Run #N as recorded — Edit a copy /
    // Back to my document"); the window places it.
    QFrame* recordBar() const { return bar_; }
    ReplayPlayer* replayPlayer() const { return replay_; }

    // A live run begins: of the document (its graph lights up), or a re-run of stored run
    // `rerun_of` (its own configuration, shown read-only).
    void beginLive(const config::Config& cfg, qint64 rerun_of);
    void showStored(const StoredRun& s);
    void replay(const StoredRun& s, double speed);
    // Back to the document: its graph, and panes that have not run yet.
    void showDocument();
    // Another configuration was opened (or New): nothing of the old one stays on screen.
    void documentReplaced();
    // The document was edited: a run shown from it is now from an earlier configuration.
    void documentEdited();
    // "Edit a copy": the document now is the run's configuration, so the run stays on screen
    // as the document's own (after the window replaced the document).
    void keepRunForDocument();
    // While a live run goes on, the bar's buttons wait (the run streams into these views).
    void setBusy(bool busy);

    bool showingRecorded() const { return recorded_id_ != 0; }
    qint64 recordedRun() const { return recorded_id_; }
    GraphScene* shownScene() const;
    GraphScene* recordedScene() const { return recorded_scene_; }
    // The configuration of the recorded graph (meaningful while showingRecorded()).
    const config::Config& recordedConfig() const;
    // The record of the stored run shown (meaningful while showingRecorded()).
    const engine::RunRecord& recordedRecord() const { return recorded_record_; }
    // The configuration whose run (or empty panes) the run view shows.
    const config::Config& shownConfig() const { return shown_config_; }
    const std::optional<engine::RunRecord>& lastRecord() const { return last_record_; }
    // Called by the window when the run view reports a run's end.
    void recordEnded(const engine::RunRecord& r);

    // The teaching view: exactly what an agent of the run shown was sent, named from that run.
    void showMessages(int layer, int index);
    QString messagesShown() const;
    QString messagesTitle() const;
    QDialog* compareAnswers();

signals:
    void editCopyRequested(const config::Config& c);
    void recordAvailable(bool available);
    void readOnlyChanged(bool read_only);
    // The graph shown changed: the document's, or which recorded run's.
    void shownChanged();

private:
    void setRecorded(qint64 id, const config::Config& cfg, const QString& what);
    void prepareViews(const config::Config& cfg);

    ConfigDocument* doc_;
    GraphScene* doc_scene_;
    GraphView* view_;
    RunView* run_view_;
    TimelineView* timeline_;
    QWidget* window_;
    ReplayPlayer* replay_;
    ConfigDocument* recorded_doc_;
    GraphScene* recorded_scene_;
    QFrame* bar_;
    QLabel* bar_text_;
    QPushButton* copy_;
    QPushButton* back_;
    qint64 recorded_id_ = 0;
    engine::RunRecord recorded_record_;
    bool shows_document_run_ = false; // the run view shows a run of the document as it was
    config::Config shown_config_;
    std::optional<engine::RunRecord> last_record_;
    QPointer<QDialog> messages_dialog_;
    StreamTextView* messages_text_ = nullptr;
};

} // namespace moa::ui
