// SPDX-License-Identifier: MIT
#include "run/run_presenter.h"

#include <QDialog>
#include <QFrame>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QTimer>
#include <QVBoxLayout>

#include "graph/graph_scene.h"
#include "model/config_document.h"
#include "run/diff_view.h"
#include "run/replay_player.h"
#include "run/run_view.h"
#include "run/stream_text_view.h"
#include "run/timeline_view.h"

namespace moa::ui {

RunPresenter::RunPresenter(ConfigDocument* doc, GraphScene* doc_scene, GraphView* view, RunView* run_view,
                           TimelineView* timeline, QWidget* window)
    : QObject(window), doc_(doc), doc_scene_(doc_scene), view_(view), run_view_(run_view), timeline_(timeline),
      window_(window) {
    replay_ = new ReplayPlayer(this);
    // A stored run's configuration lives in a document of its own, drawn by a scene of its own:
    // the open document is never touched by what the history shows.
    recorded_doc_ = new ConfigDocument(this);
    recorded_scene_ = new GraphScene(recorded_doc_, this);
    recorded_scene_->setReadOnly(true);
    bar_ = new QFrame;
    bar_->setObjectName("recorded_bar");
    bar_->setStyleSheet("#recorded_bar { background: #E8F0FB; border: 1px solid #3A7BD5; border-radius: 4px } "
                        "#recorded_bar QLabel { color: black }");
    auto* h = new QHBoxLayout(bar_);
    h->setContentsMargins(6, 2, 6, 2);
    bar_text_ = new QLabel;
    bar_text_->setObjectName("recorded_text");
    bar_text_->setWordWrap(true);
    copy_ = new QPushButton(tr("Edit a copy"));
    copy_->setObjectName("edit_copy");
    copy_->setToolTip(tr("Open this run's configuration as a new, unsaved document"));
    back_ = new QPushButton(tr("Back to my document"));
    back_->setObjectName("back_to_document");
    h->addWidget(bar_text_, 1);
    h->addWidget(copy_);
    h->addWidget(back_);
    bar_->hide();
    connect(copy_, &QPushButton::clicked, this, [this] { emit editCopyRequested(shown_config_); });
    connect(back_, &QPushButton::clicked, this, &RunPresenter::showDocument);
    shown_config_ = doc_->config();
}

const config::Config& RunPresenter::recordedConfig() const { return recorded_doc_->config(); }

GraphScene* RunPresenter::shownScene() const { return recorded_id_ ? recorded_scene_ : doc_scene_; }

void RunPresenter::setRecorded(qint64 id, const config::Config& cfg, const QString& what) {
    const bool was = showingRecorded();
    recorded_id_ = id;
    if (id) {
        recorded_doc_->reset(cfg, {});
        bar_text_->setText(what);
    }
    bar_->setVisible(id != 0);
    GraphScene* scene = shownScene();
    if (view_->scene() != scene) view_->setScene(scene);
    // Read-only: nothing on a recorded graph can be dragged, dropped or edited (its scene is
    // read-only; drops are refused by the window), but a click selects an agent to inspect
    // (review 10: with the view not interactive, a click selected nothing).
    QTimer::singleShot(0, view_, [v = view_] { v->fit(); });
    if (was != showingRecorded()) emit readOnlyChanged(showingRecorded());
    emit shownChanged(); // also from one recorded run to another (the outline follows)
}

void RunPresenter::prepareViews(const config::Config& cfg) {
    shown_config_ = cfg;
    shownScene()->clearRunStates();
    run_view_->prepare(cfg);
    timeline_->prepare(cfg);
}

void RunPresenter::beginLive(const config::Config& cfg, qint64 rerun_of) {
    replay_->stop();
    if (rerun_of) setRecorded(rerun_of, cfg, tr("<b>Re-run of run #%1</b>, with its configuration as recorded").arg(rerun_of));
    else setRecorded(0, cfg, {});
    shows_document_run_ = rerun_of == 0;
    prepareViews(cfg);
}

void RunPresenter::showStored(const StoredRun& s) {
    replay_->stop();
    recorded_record_ = s.record; // before setRecorded: the window's banner reads it on the change
    setRecorded(s.id, s.config, tr("<b>Run #%1 as recorded</b> — its own configuration, read-only").arg(s.id));
    shows_document_run_ = false;
    shown_config_ = s.config;
    recorded_scene_->clearRunStates();
    engine::RunRecord shown = s.record;
    shown.id = 0; // not a live run of this session
    run_view_->showRecord(s.config, shown);
    timeline_->prepare(s.config);
    timeline_->showRecord(s.record);
}

void RunPresenter::replay(const StoredRun& s, double speed) {
    replay_->stop();
    recorded_record_ = s.record; // before setRecorded: the window's banner reads it on the change
    setRecorded(s.id, s.config, tr("<b>Replaying run #%1 as recorded</b> — its own configuration, read-only").arg(s.id));
    shows_document_run_ = false;
    prepareViews(s.config);
    engine::RunRecord shown = s.record;
    shown.id = 0; // not a live run of this session
    replay_->start(shown, speed);
}

void RunPresenter::showDocument() {
    replay_->stop();
    setRecorded(0, doc_->config(), {});
    shows_document_run_ = false;
    shown_config_ = doc_->config();
    doc_scene_->clearRunStates();
    run_view_->prepareIdle(shown_config_);
    timeline_->prepare(shown_config_);
    last_record_.reset();
    emit recordAvailable(false);
}

void RunPresenter::documentReplaced() { showDocument(); }

void RunPresenter::documentEdited() {
    if (showingRecorded()) return; // the recorded graph is not the document's
    if (shows_document_run_)
        run_view_->setNote(tr("From an earlier configuration: the graph was edited after this run. Run again to see the "
                              "current one."));
    else if (!last_record_ && !replay_->isPlaying()) {
        run_view_->prepareIdle(doc_->config()); // nothing run yet: the panes follow the graph
        timeline_->prepare(doc_->config());
        shown_config_ = doc_->config();
    }
}

void RunPresenter::keepRunForDocument() {
    const config::Config shown = shown_config_;
    setRecorded(0, doc_->config(), {});
    shown_config_ = shown;
    shows_document_run_ = true;
    run_view_->setNote({});
}

void RunPresenter::setBusy(bool busy) {
    copy_->setEnabled(!busy);
    back_->setEnabled(!busy);
}

void RunPresenter::recordEnded(const engine::RunRecord& r) {
    last_record_ = r;
    emit recordAvailable(true);
}

void RunPresenter::showMessages(int layer, int index) {
    // The teaching view: exactly what the agent was sent, message by message.
    auto msgs = run_view_->messages(layer, index);
    if (!messages_dialog_) {
        messages_dialog_ = new QDialog(window_);
        messages_dialog_->resize(700, 600);
        auto* v = new QVBoxLayout(messages_dialog_);
        messages_text_ = new StreamTextView;
        messages_text_->setAccessibleName(tr("Messages sent"));
        v->addWidget(messages_text_);
    }
    // Named from the run shown (a stored run's own configuration), not from the open document.
    const auto& c = run_view_->config();
    QString model;
    if (layer >= 0 && index >= 0 && layer < static_cast<int>(c.layers.size()) &&
        index < static_cast<int>(c.layers[static_cast<std::size_t>(layer)].agents.size()))
        model = QString::fromStdString(c.layers[static_cast<std::size_t>(layer)].agents[static_cast<std::size_t>(index)].model);
    messages_dialog_->setWindowTitle(tr("What layer %1, agent %2 (%3) was sent").arg(layer + 1).arg(index + 1).arg(model));
    QString text;
    if (msgs.empty()) text = tr("This agent has not been sent anything yet.");
    for (const auto& m : msgs) text += QString::fromStdString("── " + m.role + " ──\n" + m.content + "\n\n");
    messages_text_->clearStream();
    messages_text_->appendStream(text);
    messages_dialog_->show();
    messages_dialog_->raise();
}

QString RunPresenter::messagesShown() const {
    return messages_dialog_ && messages_text_ ? messages_text_->text() : QString();
}

QString RunPresenter::messagesTitle() const { return messages_dialog_ ? messages_dialog_->windowTitle() : QString(); }

QDialog* RunPresenter::compareAnswers() {
    if (!last_record_) return nullptr;
    auto* d = new AnswersDiffDialog(*last_record_, window_);
    d->setAttribute(Qt::WA_DeleteOnClose);
    d->show();
    return d;
}

} // namespace moa::ui
