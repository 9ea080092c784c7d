// SPDX-License-Identifier: MIT
#pragma once
// The workbench window: configurations on the left, the layer graph and the run view in the
// centre with the prompt below, the inspector on the right, history at the bottom left.
#include <QMainWindow>

#include <functional>
#include <memory>
#include <optional>

#include "accounting/catalog.h"
#include "engine/engine.h"
#include "store/history_recorder.h"

class QComboBox;
class QDialog;
class QTimer;
class QLabel;
class QLineEdit;
class QListWidget;
class QPlainTextEdit;
class QPushButton;
class QTreeWidget;

namespace moa::ui {

class StreamTextView;

class Autosave;
class ExperimentWindow;
class ConfigDocument;
class KeyStore;
class EventBridge;
class GraphScene;
class GraphView;
class Inspector;
class ReplayPlayer;
class RunView;
class TimelineView;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    // The teaching view: exactly what an agent was sent (and its text, exactly, for tests).
    void showMessages(int layer, int index);
    QString messagesShown() const;
    // Writes the run shown as Markdown, or as the `moa run --json` document (.json or as_json).
    bool exportRunTo(const QString& file, bool as_json = false);
    // `history` may be null (no history: the window says so).
    MainWindow(std::unique_ptr<store::HistoryRecorder> history, QWidget* parent = nullptr);
    ~MainWindow() override;

    ConfigDocument* document() const { return doc_; }
    RunView* runView() const { return run_view_; }
    GraphScene* graphScene() const { return scene_; }
    QPlainTextEdit* promptEditor() const { return prompt_; }
    bool openFile(const QString& path);
    void openPreset(const QString& name);
    // Starts a run of the current configuration on the prompt editor's text.
    bool startRun();
    // History: replay a stored run at `speed` (1 = as recorded), run it again (its configuration
    // snapshot and input, linked to it), compare two runs. The runs are read off the GUI thread.
    void replayRun(qint64 id, double speed);
    void rerun(qint64 id);
    void compareRuns(qint64 a, qint64 b);
    // The refinement view's side-by-side diff of two answers of the run shown.
    void compareAnswers();
    ReplayPlayer* replayPlayer() const { return replay_; }
    QDialog* lastDialog() const { return last_dialog_; }
    void cancelRun();
    bool isRunning() const;
    store::HistoryRecorder* history() const { return history_.get(); }
    // The experiments window (created on first use), optionally opening an experiment file.
    ExperimentWindow* openExperiments(const QString& path = {}, const QString& db = {});

signals:
    void runFinished();

protected:
    void closeEvent(QCloseEvent* e) override;

private:
    void buildMenus();
    void refreshHistory();
    void updateTitle();
    void updateEstimate();
    bool maybeSave();
    void exportRun();
    bool startRunWith(const config::Config& cfg, const engine::RunInput& input, qint64 rerun_of);
    struct Stored {
        qint64 id = 0;
        config::Config config;
        engine::RunRecord record;
    };
    // Reads runs from the history on a thread; `done` gets those found, on the GUI thread.
    void loadRuns(const QList<qint64>& ids, std::function<void(const std::vector<Stored>&)> done);
    void showStored(const Stored& s);
    QList<qint64> selectedRuns() const;
    bool saveAs();

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
    Autosave* autosave_;
    QWidget* recovery_bar_;
    std::optional<engine::RunRecord> last_record_;
    QPlainTextEdit* prompt_;
    QLineEdit* system_;
    QPushButton* run_button_;
    QPushButton* cancel_button_;
    QLabel* estimate_;
    QLabel* banner_;
    QLabel* history_warning_ = nullptr;
    std::size_t history_errors_seen_ = 0;
    void checkHistoryErrors();
    QLabel* session_cost_;
public:
    QLabel* providersStatus() const { return providers_status_; }
private:
    QTreeWidget* configs_;
    QTreeWidget* outline_;
    void refreshOutline();
    QLineEdit* history_search_;
    QListWidget* history_list_;
    double session_usd_ = 0;
    std::uint64_t live_ended_ = 0; // the engine id of the last live run whose end was counted
    QDialog* messages_dialog_ = nullptr;
    StreamTextView* messages_text_ = nullptr; // a 1 MB one-line prompt opens without a freeze
    ExperimentWindow* experiments_ = nullptr;
    ReplayPlayer* replay_ = nullptr;
    QComboBox* replay_speed_ = nullptr;
    QPushButton* compare_answers_ = nullptr;
    QDialog* last_dialog_ = nullptr;
    // The status bar's "providers reachable".
    void checkProviders();
    QLabel* providers_status_ = nullptr;
    QTimer* provider_check_timer_ = nullptr;
    QString providers_signature_;
    int provider_check_generation_ = 0;
};

} // namespace moa::ui
