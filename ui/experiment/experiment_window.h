// SPDX-License-Identifier: MIT
#pragma once
// The experiments window: open a `*.moa-experiment.json`, run it (progress, ETA, spend so far,
// pause/resume/cancel), and read its results: a table per configuration, charts of cost and
// TFLOPs against quality with the Pareto frontier, FLASK skills as a radar, and every judged
// instance with both outputs side by side and the judge's raw answer. Loading, running and
// computing results all happen off the GUI thread.
#include <QWidget>
#include <memory>
#include <optional>

#include "accounting/catalog.h"
#include "eval/experiment.h"
#include "eval/experiment_results.h"
#include "experiment/new_experiment_dialog.h"

class QCheckBox;
class QComboBox;
class QLabel;
class QProgressBar;
class QStackedWidget;
class QPushButton;
class QTabWidget;
class QTableWidget;
class QTextBrowser;
class QTimer;

namespace moa::eval {
class ExperimentRunner;
}
namespace moa::store {
class ExperimentStore;
}

namespace moa::ui {

class ResultChart;

class ExperimentWindow : public QWidget {
    Q_OBJECT
public:
    explicit ExperimentWindow(QWidget* parent = nullptr);
    ~ExperimentWindow() override;

    // Loads the experiment (off the GUI thread) and shows its stored results.
    void openExperiment(const QString& path, const QString& db = {});
    void run();
    // The paper's ablations as a button: variants of a base configuration, written with an
    // experiment over them, then opened here. Returns the experiment's path, or an error.
    Result<std::string> createSweep(const QString& base, const QString& kind, int max, const QString& models,
                                    const QString& judge, const QString& reference, int sample, const QString& dir);
    void showSweepDialog();
    void setDefaultBase(const QString& path) { default_base_ = path; }
    // The main window's document, offered by New experiment (and written out when unsaved).
    void setOpenDocument(const OpenDocument& doc) { open_doc_ = doc; }
    // Opens the New experiment dialog (window-modal, returns at once); an experiment created
    // with it is opened here.
    NewExperimentDialog* showNewExperimentDialog();
    // Writes the offline demo experiment (demo configurations, the offline demo judge) into
    // `dir`, by default demo-experiment/ beside the experiment database (the data folder),
    // opens it and runs it. Returns its path, or the error shown.
    Result<std::string> tryDemoExperiment(const QString& dir = {});
    // True while no experiment is open: the window offers the demo instead of empty charts.
    bool showingEmptyState() const;
    QString failuresText() const;
    void pauseOrResume();
    void cancel();
    bool running() const;
    const std::optional<eval::ExperimentResults>& results() const { return results_; }
    ResultChart* costChart() const { return cost_chart_; }
    // The second chart: TFLOPs, time to first token or wall time, as secondAxis() chooses.
    ResultChart* tflopsChart() const { return tflops_chart_; }
    QComboBox* secondAxis() const { return second_x_; }
    QTableWidget* resultsTable() const { return table_; }
    QTableWidget* instancesTable() const { return instances_; }
    QString statusText() const;
    // AlpacaEval's regularisation of LC for the open experiment (baseline variants of the
    // reference's answers): the checkbox, and what a run would add for it (extra calls and their
    // estimated cost) or why it cannot be used.
    QCheckBox* lcVariantsBox() const { return lc_variants_; }
    QString lcVariantsText() const;
    // Shows the tab with this title (Results, Instances, Skills); false when there is none.
    bool showTab(const QString& title);

signals:
    void loaded(bool ok);
    void lcPlanShown();
    void resultsShown();
    void finished();
    void openConfiguration(const QString& path);

private:
    void showError(const QString& message);
    void refreshResults();
    void showResults(const eval::ExperimentResults& r);
    void showFailures(const std::vector<std::string>& errors, int failed);
    void pollProgress();
    void showInstance(int row);
    void rebuildCharts();
    void setLcVariants(bool on);
    void updateLcPlan();
    void exportChart();

    std::shared_ptr<eval::Experiment> experiment_;
    std::shared_ptr<store::ExperimentStore> store_;
    accounting::Catalog catalog_;
    std::unique_ptr<eval::ExperimentRunner> runner_;
    std::optional<eval::ExperimentResults> results_;
    QString path_;
    QString default_base_;
    OpenDocument open_doc_;
    bool run_when_loaded_ = false;
    // Answers that could not be generated, per instance, read from the store with the results.
    struct FailedAnswer {
        std::string config, item_id, instruction, error;
    };
    std::vector<FailedAnswer> failed_answers_;

    QLabel* summary_;
    QLabel* status_;
    QLabel* failures_;
    QStackedWidget* stack_;
    QProgressBar* progress_;
    QPushButton* run_;
    QPushButton* export_chart_; // off until an experiment is open
    QPushButton* pause_;
    QPushButton* cancel_;
    QTabWidget* tabs_;
    QTableWidget* table_;
    ResultChart* cost_chart_;
    ResultChart* tflops_chart_;
    QCheckBox* log_x_;
    QCheckBox* paper_;
    QComboBox* second_x_;
    QCheckBox* lc_variants_;
    QLabel* lc_plan_;
    QWidget* skills_tab_ = nullptr;
    QTableWidget* instances_;
    QTextBrowser* instance_view_;
    QTimer* poll_;
};

} // namespace moa::ui
