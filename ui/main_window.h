// SPDX-License-Identifier: MIT
#pragma once
// The workbench window: configurations on the left, the layer graph and the run view in the
// centre with the prompt below, the inspector on the right, history at the bottom left.
// Wiring only: each panel owns and resets its own state (PromptPanel and ConfigsPanel for the
// document being edited, RunPresenter for what the run view shows, HistoryPanel for the
// stored runs); the window connects them, starts runs and keeps the session's totals.
#include <QMainWindow>
#include <QPointer>

#include <functional>
#include <memory>
#include <optional>
#include <set>

#include "accounting/catalog.h"
#include "engine/engine.h"
#include "store/history_recorder.h"

class QAction;
class QDialog;
class QDockWidget;
class QTimer;
class QLabel;
class QPlainTextEdit;
class QPushButton;
class QSplitter;
class QTreeWidget;

namespace moa::ui {

class Autosave;
class CompactNotices;
class ConfigsPanel;
class ExperimentWindow;
class ConfigDocument;
class KeyStore;
class EventBridge;
class GraphScene;
class GraphView;
class HistoryPanel;
class Inspector;
class LayersWalkthrough;
class PromptPanel;
class ProviderStatus;
class ReplayPlayer;
class RunPresenter;
class RunView;
class TimelineView;
struct StoredRun;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    // The teaching view: exactly what an agent was sent (and its text, exactly, for tests).
    void showMessages(int layer, int index);
    QString messagesShown() const;
    // Writes the run shown as Markdown, as the `moa run --json` document (.json or as_json), or
    // as the self-contained HTML page of `moa history show ID --html` (.html/.htm).
    bool exportRunTo(const QString& file, bool as_json = false);
    // The "Layers" walkthrough of the run shown (a live run once finished, or a stored one);
    // null, with a word in the status bar, when there is none yet.
    LayersWalkthrough* openWalkthrough();
    // `history` may be null (no history: the window says so).
    MainWindow(std::unique_ptr<store::HistoryRecorder> history, QWidget* parent = nullptr);
    ~MainWindow() override;

    ConfigDocument* document() const { return doc_; }
    RunView* runView() const { return run_view_; }
    // The open document's graph; presenter()->shownScene() is the one on screen.
    GraphScene* graphScene() const { return scene_; }
    RunPresenter* presenter() const { return presenter_; }
    PromptPanel* promptPanel() const { return prompt_panel_; }
    TimelineView* timeline() const { return timeline_; }
    HistoryPanel* historyPanel() const { return history_panel_; }
    QPlainTextEdit* promptEditor() const;
    bool openFile(const QString& path);
    void openPreset(const QString& name);
    // Starts a run of the current configuration on the prompt editor's text. When the
    // configuration uses a provider the status bar found unreachable, the first call warns and
    // does not start; calling it again (Run again) runs anyway.
    bool startRun();
    // History: reopen a stored run (shown with its own configuration), replay it at `speed`
    // (1 = as recorded), run it again (its configuration snapshot and input, linked to it),
    // compare two runs. The runs are read off the GUI thread.
    void openRun(qint64 id);
    void replayRun(qint64 id, double speed);
    void rerun(qint64 id);
    void compareRuns(qint64 a, qint64 b);
    // The refinement view's side-by-side diff of two answers of the run shown.
    void compareAnswers();
    ReplayPlayer* replayPlayer() const;
    QDialog* lastDialog() const { return last_dialog_; }
    void cancelRun();
    bool isRunning() const;
    store::HistoryRecorder* history() const { return history_.get(); }
    // The experiments window (created on first use), optionally opening an experiment file.
    ExperimentWindow* openExperiments(const QString& path = {}, const QString& db = {});
    QLabel* providersStatus() const;
    // The example prompt offered on the offline demo ("Try it").
    static QString examplePrompt();
    // Fills in the example prompt (when the prompt is empty) and runs it.
    bool tryIt();
    // Editing layout (the graph has the room) or running layout (the run view has it).
    // `live`: a run of the document starts; below kWideWindow the side docks on the left
    // (history, configurations) step aside too, so that the layers keep a readable width.
    void setRunningLayout(bool running, bool live = false);
    static constexpr int kWideWindow = 1600;
    bool runningLayout() const { return running_layout_; }
    // The screen's area the window may take (it is never made larger than this).
    QRect availableArea() const;
    // The process is exiting with windows still alive (Qt calls exit(1) when the X11 connection
    // breaks: the window was killed, the display went away): each live run is cancelled and
    // waited for (bounded), and the history writes its end, so it is not left "running" forever.
    // Registered with std::atexit at the first run's start; a no-op once every window is destroyed.
    static void abandonLiveRuns();

signals:
    void runFinished();

protected:
    void closeEvent(QCloseEvent* e) override;
    void changeEvent(QEvent* e) override; // activated: the history list picks up runs made elsewhere
    bool eventFilter(QObject* watched, QEvent* e) override;

private:
    bool allAgentsOnDemo() const; // every agent of the open document runs on the offline demo
    void buildMenus();
    void restoreModeDocks();
    int runningTimelineHeight() const;
    void applyCentreSplit(); // graph, run view and prompt, as the layout (running or editing) has them
    void expandPrompt(); // the compact prompt of the running layout, whole again
    // The centre's floors: the graph a row of nodes, the run view what runViewNeed() says; the
    // notices shorten to a line when that leaves no room (fitNotices, true when they changed).
    // fitCentre re-splits only when a floor is broken (a notice appeared, the panes' lines grew).
    int runViewNeed() const;
    bool fitNotices();
    void fitCentre();
    void updateTitle();
    void updateBanner();
    bool maybeSave();
    void exportRun();
    void exportRunHtml();
    bool saveAs();
    bool startRunWith(const config::Config& cfg, const engine::RunInput& input, qint64 rerun_of);
    void loadRuns(const QList<qint64>& ids, std::function<void(const std::vector<StoredRun>&)> done);
    void documentReplaced();
    void refreshOutline();
    void selectInOutline(int layer, int index); // the agent selected in the graph, highlighted there too
    void checkHistoryErrors();
    // Providers of `cfg` the last check found unreachable, with why.
    // What the provider check knows will not work in `cfg`, one line each ("no API key set for
    // provider X (…)", "X did not answer at host:port 20 s ago"); `key` gets the same without
    // the ages, to tell whether anything changed since "Run anyway".
    QStringList providerProblems(const config::Config& cfg, QString* key = nullptr) const;
    void setRunWarning(const QString& html); // empty hides it
    // "The agent on this provider will fail and be dropped (…)" / "The 3 agents … and the run with them":
    // singular or plural, and what on_agent_failure makes of it.
    QString consequenceOfProblems(const config::Config& cfg, qint64 providers) const;
    // A stored run's real agents as its record has them: "called its real provider", or "was to
    // call its real provider; it failed: <reason>".
    QString realAgentsSaid(const config::Config& c, const engine::RunRecord& r, int real) const;

    std::unique_ptr<store::HistoryRecorder> history_;
    accounting::Catalog catalog_;
    std::unique_ptr<engine::Engine> engine_;
    std::shared_ptr<engine::Run> run_;
    ConfigDocument* doc_;
    EventBridge* bridge_;
    KeyStore* keys_;
    GraphScene* scene_;
    GraphView* view_;
    Inspector* inspector_;
    RunView* run_view_;
    TimelineView* timeline_;
    RunPresenter* presenter_;
    PromptPanel* prompt_panel_;
    ConfigsPanel* configs_;
    HistoryPanel* history_panel_ = nullptr;
    Autosave* autosave_;
    QWidget* recovery_bar_;
    QSplitter* centre_split_ = nullptr;
    CompactNotices* notices_ = nullptr;
    QTimer* fit_centre_ = nullptr;
    bool running_layout_ = false;
    int editing_timeline_ = 0; // the timeline dock's height in the editing layout
    QList<QPointer<QDockWidget>> mode_hidden_; // the editing docks the running layout hid
    QWidget* banner_;
    QLabel* banner_text_;
    QPushButton* try_it_;
    QLabel* run_warning_;
    QWidget* run_warning_box_ = nullptr; // the warning and its "Run anyway"
    QString warned_for_; // the problems (and configuration) the last warning named (Run again runs)
    // "Run anyway" (or Run again) for these problems and this configuration: not asked again until
    // the configuration or its providers change.
    QString run_anyway_for_;
    QLabel* history_warning_ = nullptr;
    std::size_t history_errors_seen_ = 0;
    QLabel* session_cost_;
    QTreeWidget* outline_;
    QList<QAction*> canvas_actions_; // disabled while a recorded (read-only) graph is shown
    double session_usd_ = 0;
    std::uint64_t live_ended_ = 0; // the engine id of the last live run whose end was counted
    ExperimentWindow* experiments_ = nullptr;
    QDialog* last_dialog_ = nullptr;
    ProviderStatus* providers_status_ = nullptr;
};

} // namespace moa::ui
