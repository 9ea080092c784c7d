// SPDX-License-Identifier: MIT
#pragma once
// The workbench window: configurations on the left, the layer graph and the run view in the
// centre with the prompt below, the inspector on the right, history at the bottom left.
#include <QMainWindow>

#include <memory>
#include <optional>

#include "accounting/catalog.h"
#include "engine/engine.h"
#include "store/history_recorder.h"

class QDialog;
class QLabel;
class QLineEdit;
class QListWidget;
class QPlainTextEdit;
class QPushButton;
class QTreeWidget;

namespace moa::ui {

class Autosave;
class ExperimentWindow;
class ConfigDocument;
class KeyStore;
class EventBridge;
class GraphScene;
class GraphView;
class Inspector;
class RunView;
class TimelineView;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
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
    void showMessages(int layer, int index);
    void exportRun();
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
    QLabel* session_cost_;
    QTreeWidget* configs_;
    QTreeWidget* outline_;
    void refreshOutline();
    QLineEdit* history_search_;
    QListWidget* history_list_;
    double session_usd_ = 0;
    QDialog* messages_dialog_ = nullptr;
    QPlainTextEdit* messages_text_ = nullptr;
    ExperimentWindow* experiments_ = nullptr;
};

} // namespace moa::ui
