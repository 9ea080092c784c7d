// SPDX-License-Identifier: MIT
#include "experiment/experiment_window.h"

#include "common/plural.h"

#include <QGuiApplication>
#include <QScreen>

#include <algorithm>

#include <QCheckBox>
#include <QComboBox>
#include <QDateTime>
#include <QDialog>
#include <QDialogButtonBox>
#include <QDir>
#include <QFormLayout>
#include <QLineEdit>
#include <QSpinBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPointer>
#include <QProgressBar>
#include <QPushButton>
#include <QSplitter>
#include <QStackedWidget>
#include <QTabWidget>
#include <QTableWidget>
#include <QTextBrowser>
#include <QTimer>
#include <QVBoxLayout>
#include <thread>

#include "common/folders.h"
#include "common/money.h"
#include "eval/experiment_draft.h"
#include "eval/experiment_runner.h"
#include "eval/lc_variants.h"
#include "eval/sweep.h"
#include "experiment/result_chart.h"
#include "store/experiment_store.h"
#include "util/resources.h"

namespace moa::ui {

namespace {
// Runs `work` on a worker thread and `done` with its result on the GUI thread, if `owner` lives.
template <class T, class Work, class Done> void off_thread(QObject* owner, Work work, Done done) {
    QPointer<QObject> guard(owner);
    std::thread([guard, work, done]() mutable {
        auto result = std::make_shared<T>(work());
        if (!guard) return;
        QMetaObject::invokeMethod(
            guard.data(), [guard, result, done]() mutable { if (guard) done(*result); }, Qt::QueuedConnection);
    }).detach();
}

QString duration(double s) {
    if (s < 0) return "--";
    if (s < 60) return QString("%1 s").arg(int(s));
    if (s < 3600) return QString("%1 min %2 s").arg(int(s) / 60).arg(int(s) % 60);
    return QString("%1 h %2 min").arg(int(s) / 3600).arg((int(s) % 3600) / 60);
}

// A cell that shows `text` and sorts by the number (a plain item sorts its text: "10" < "9").
class NumItem : public QTableWidgetItem {
public:
    NumItem(const QString& text, double v) : QTableWidgetItem(text), v_(v) {
        setData(Qt::UserRole, v);
        setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
    }
    bool operator<(const QTableWidgetItem& o) const override { return v_ < o.data(Qt::UserRole).toDouble(); }

private:
    double v_;
};

QTableWidgetItem* num_item(double v, int decimals) { return new NumItem(QString::number(v, 'f', decimals), v); }
QTableWidgetItem* money_item(double v) { return new NumItem(format_money(v), v); }

// The judge's detail, in words: how the verdict was read, the order shown, the grades.
QString verdict_details(const nlohmann::json& d) {
    if (!d.is_object() || d.empty()) return {};
    QStringList out;
    if (d.contains("method") && d["method"].is_string()) {
        const std::string m = d["method"].get<std::string>();
        out << (m == "logprobs" ? QObject::tr("Read from the judge's label probabilities (its first token)")
                : m == "text"   ? QObject::tr("Read from the judge's answer text")
                                : QObject::tr("How it was decided: %1").arg(QString::fromStdString(m)));
    }
    if (d.contains("swapped") && d["swapped"].is_boolean())
        out << (d["swapped"].get<bool>() ? QObject::tr("Shown to the judge with the configuration's answer first and the reference second")
                                          : QObject::tr("Shown to the judge with the reference first and the configuration's answer second"));
    if (d.contains("shown_preference") && d["shown_preference"].is_number())
        out << QObject::tr("The judge preferred the %1 answer it saw (%2 on 1 = first, 2 = second)")
                   .arg(d["shown_preference"].get<double>() >= 1.5 ? QObject::tr("second") : QObject::tr("first"))
                   .arg(d["shown_preference"].get<double>(), 0, 'f', 2);
    if (d.contains("turn_scores") && d["turn_scores"].is_array() && !d["turn_scores"].empty()) {
        QStringList g;
        for (const auto& v : d["turn_scores"])
            if (v.is_number()) g << QString::number(v.get<double>(), 'g', 3);
        out << QObject::tr("Grade per turn (1–10): %1").arg(g.join(", "));
    }
    if (d.contains("skills") && d["skills"].is_object()) {
        QStringList g;
        for (const auto& [k, v] : d["skills"].items())
            if (v.is_number()) g << QStringLiteral("%1: %2").arg(QString::fromStdString(k).toHtmlEscaped()).arg(v.get<double>());
        out << QObject::tr("Skill grades (1–5): %1").arg(g.join(" · "));
    }
    QString html;
    for (const auto& l : out) html += "<li>" + l + "</li>";
    return html.isEmpty() ? QString() : "<ul>" + html + "</ul>";
}
} // namespace

ExperimentWindow::ExperimentWindow(QWidget* parent) : QWidget(parent, Qt::Window) {
    setWindowTitle(tr("Experiments — MoA Workbench"));
    setObjectName("experimentWindow");
    if (auto c = accounting::Catalog::load_file(resources::catalog_path())) catalog_ = std::move(*c);
    auto* root = new QVBoxLayout(this);

    auto* bar = new QHBoxLayout();
    auto* create = new QPushButton(tr("New experiment…"), this);
    create->setToolTip(tr("Configurations × a prompt set × a judge (and a reference), checked before anything is written"));
    connect(create, &QPushButton::clicked, this, [this] { showNewExperimentDialog(); });
    auto* open = new QPushButton(tr("Open experiment…"), this);
    run_ = new QPushButton(tr("Run"), this);
    pause_ = new QPushButton(tr("Pause"), this);
    cancel_ = new QPushButton(tr("Cancel"), this);
    auto* export_chart = export_chart_ = new QPushButton(tr("Export chart…"), this);
    auto* sweep = new QPushButton(tr("New sweep…"), this);
    sweep->setToolTip(tr("The MoA paper's ablations: variants of a configuration (proposers, layers, aggregator, "
                         "one model sampled n times, a selecting aggregator), or its latency variants (barrier, "
                         "staircase streaming, quorum n−1), evaluated as one experiment"));
    connect(sweep, &QPushButton::clicked, this, &ExperimentWindow::showSweepDialog);
    for (auto* b : {create, open, sweep, run_, pause_, cancel_, export_chart}) {
        b->setAccessibleName(b->text().remove("…"));
        bar->addWidget(b);
    }
    run_->setToolTip(tr("Runs what is not done yet; finished calls come from the cache and cost nothing"));
    lc_variants_ = new QCheckBox(tr("Regularise LC (baseline variants)"), this);
    lc_variants_->setObjectName("lcVariants");
    lc_variants_->setEnabled(false);
    bar->addWidget(lc_variants_);
    bar->addStretch();
    root->addLayout(bar);
    // What the baseline variants add, shown before Run is pressed.
    lc_plan_ = new QLabel(this);
    lc_plan_->setObjectName("lcVariantsCost");
    lc_plan_->setWordWrap(true);
    lc_plan_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    lc_plan_->hide();
    root->addWidget(lc_plan_);
    connect(lc_variants_, &QCheckBox::toggled, this, &ExperimentWindow::setLcVariants);
    summary_ = new QLabel(tr("No experiment open."), this);
    summary_->setWordWrap(true);
    summary_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    root->addWidget(summary_);
    auto* prow = new QHBoxLayout();
    progress_ = new QProgressBar(this);
    progress_->setAccessibleName(tr("Experiment progress"));
    progress_->setRange(0, 1);
    progress_->setValue(0);
    status_ = new QLabel(this);
    status_->setAccessibleName(tr("Experiment status"));
    status_->setWordWrap(true); // one long line set the window's minimum width (2611 px)
    prow->addWidget(progress_, 1);
    prow->addWidget(status_, 2);
    progress_->hide(); // shown with an experiment; an empty bar at 0% says nothing
    root->addLayout(prow);
    // Why tasks failed, in the window (not only in a tooltip): the first few distinct errors.
    failures_ = new QLabel(this);
    failures_->setObjectName("failures");
    failures_->setAccessibleName(tr("Failures"));
    failures_->setWordWrap(true);
    failures_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    failures_->setStyleSheet("color: #b00020");
    failures_->hide();
    root->addWidget(failures_);

    tabs_ = new QTabWidget(this);
    table_ = new QTableWidget(this);
    table_->setAccessibleName(tr("Results per configuration"));
    table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    table_->setSelectionBehavior(QAbstractItemView::SelectRows);
    table_->setSortingEnabled(true);
    table_->verticalHeader()->hide();
    // Results: the table above the charts, so one view answers "which configuration is worth it".
    auto* results_split = new QSplitter(Qt::Vertical, this);
    results_split->addWidget(table_);
    auto* charts = new QWidget(results_split);
    auto* cl = new QVBoxLayout(charts);
    auto* opts = new QHBoxLayout();
    log_x_ = new QCheckBox(tr("Logarithmic cost axis"), charts);
    paper_ = new QCheckBox(tr("Show the MoA paper's AlpacaEval 2.0 results (not directly comparable)"), charts);
    paper_->setToolTip(tr("The paper's LC comes from AlpacaEval 2.0's 805 instructions with GPT-4 Turbo as judge and reference and "
                          "a length term regularised by baseline variants; this experiment's prompts, judge, reference and LC fit differ"));
    paper_->setChecked(false);
    // The second chart's x axis: TFLOPs, or the time the user waits (per-prompt medians).
    second_x_ = new QComboBox(charts);
    second_x_->setObjectName("second_x");
    second_x_->addItem(tr("TFLOPs"), "tflops");
    second_x_->addItem(tr("Time to first token"), "ttft");
    second_x_->addItem(tr("Wall time"), "wall");
    second_x_->setAccessibleName(tr("Second chart's x axis"));
    second_x_->setToolTip(tr("The right chart's x axis: TFLOPs per instance, or the median per prompt of the time to the "
                             "final answer's first token or of the wall time, from the stored runs"));
    opts->addWidget(log_x_);
    opts->addWidget(paper_);
    opts->addWidget(second_x_);
    opts->addStretch();
    cl->addLayout(opts);
    auto* split = new QSplitter(Qt::Horizontal, charts);
    cost_chart_ = new ResultChart(split);
    tflops_chart_ = new ResultChart(split);
    split->addWidget(cost_chart_);
    split->addWidget(tflops_chart_);
    cl->addWidget(split, 1);
    results_split->addWidget(charts);
    results_split->setStretchFactor(0, 1);
    results_split->setStretchFactor(1, 3);
    // The table a quarter at first (its rows scroll), the charts the rest: at 1024×700 the table's
    // size hint left the plots under 100 px high, too short for an axis title.
    results_split->setSizes({200, 600});
    tabs_->addTab(results_split, tr("Results"));

    auto* inst = new QSplitter(Qt::Vertical, this);
    instances_ = new QTableWidget(inst);
    instances_->setAccessibleName(tr("Judged instances"));
    instances_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    instances_->setSelectionBehavior(QAbstractItemView::SelectRows);
    instances_->setSelectionMode(QAbstractItemView::SingleSelection);
    instances_->verticalHeader()->hide();
    instance_view_ = new QTextBrowser(inst);
    instance_view_->setAccessibleName(tr("Instance detail"));
    instance_view_->setOpenLinks(false);
    inst->addWidget(instances_);
    inst->addWidget(instance_view_);
    tabs_->addTab(inst, tr("Instances"));

    // Before any experiment is open: what an experiment is, and a way in that needs nothing.
    auto* empty = new QWidget(this);
    empty->setObjectName("emptyState");
    auto* ev = new QVBoxLayout(empty);
    ev->addStretch(1);
    auto* title = new QLabel(tr("<h2>No experiment yet</h2>"), empty);
    auto* what = new QLabel(tr("An experiment runs configurations on a set of prompts and has a judge grade the answers, so you can see "
                               "which configuration is worth its cost: a table per configuration, quality against cost and TFLOPs, "
                               "and every judged answer.<br><br>"
                               "<b>Try a demo experiment</b> needs no keys and no network: two offline-demo MoA configurations "
                               "against one demo model on 5 starter prompts, graded by the <i>offline demo judge</i> — a stand-in "
                               "that counts words, not a real judge, so its results say nothing about quality."), empty);
    what->setWordWrap(true);
    // A fixed width with its wrapped height: centred in a box layout, a label is not asked its
    // height for a width and would be cut.
    what->setFixedWidth(640);
    what->setMinimumHeight(what->heightForWidth(640));
    auto* demo = new QPushButton(tr("Try a demo experiment"), empty);
    demo->setObjectName("tryDemo");
    demo->setDefault(true);
    auto* create2 = new QPushButton(tr("New experiment…"), empty);
    auto* open2 = new QPushButton(tr("Open experiment…"), empty);
    connect(demo, &QPushButton::clicked, this, [this] { tryDemoExperiment(); });
    connect(create2, &QPushButton::clicked, this, [this] { showNewExperimentDialog(); });
    connect(open2, &QPushButton::clicked, open, &QPushButton::click);
    auto* eb = new QHBoxLayout();
    eb->addStretch(1);
    for (auto* b : {demo, create2, open2}) eb->addWidget(b);
    eb->addStretch(1);
    for (auto* l : {title, what}) ev->addWidget(l, 0, Qt::AlignHCenter);
    ev->addLayout(eb);
    ev->addStretch(2);
    stack_ = new QStackedWidget(this);
    stack_->addWidget(empty);
    stack_->addWidget(tabs_);
    root->addWidget(stack_, 1);

    poll_ = new QTimer(this);
    poll_->setInterval(200);
    connect(poll_, &QTimer::timeout, this, &ExperimentWindow::pollProgress);
    connect(open, &QPushButton::clicked, this, [this] {
        auto f = QFileDialog::getOpenFileName(this, tr("Open experiment"), start_folder("experiments"), tr("Experiments (*.moa-experiment.json *.json)"));
        remember_folder(f, "experiments");
        if (!f.isEmpty()) openExperiment(f);
    });
    connect(run_, &QPushButton::clicked, this, &ExperimentWindow::run);
    connect(pause_, &QPushButton::clicked, this, &ExperimentWindow::pauseOrResume);
    connect(cancel_, &QPushButton::clicked, this, &ExperimentWindow::cancel);
    connect(export_chart, &QPushButton::clicked, this, &ExperimentWindow::exportChart);
    connect(log_x_, &QCheckBox::toggled, this, &ExperimentWindow::rebuildCharts);
    connect(paper_, &QCheckBox::toggled, this, &ExperimentWindow::rebuildCharts);
    connect(second_x_, &QComboBox::currentIndexChanged, this, &ExperimentWindow::rebuildCharts);
    connect(instances_, &QTableWidget::currentCellChanged, this, [this](int row, int, int, int) { showInstance(row); });
    for (auto* c : {cost_chart_, tflops_chart_})
        connect(c, &ResultChart::configurationClicked, this, [this](const QString& source) {
            if (!experiment_) return;
            for (std::size_t i = 0; i < experiment_->config_sources.size(); ++i)
                if (QString::fromStdString(experiment_->config_sources[i]) == source)
                    emit openConfiguration(QString::fromStdString(experiment_->configs[i].source_path));
        });
    run_->setEnabled(false);
    pause_->setEnabled(false);
    cancel_->setEnabled(false);
    // No experiment open: no chart to export (on once one is loaded).
    export_chart_->setEnabled(false);
    export_chart_->setToolTip(tr("Open or create an experiment first: its charts are what is exported"));
    // 1280×820, or the screen's available area when that is smaller (a 1024×700 screen showed
    // neither the right columns nor the second chart: new-user review).
    const QScreen* sc = screen() ? screen() : QGuiApplication::primaryScreen();
    resize(QSize(1280, 820).boundedTo(sc ? sc->availableGeometry().size() : QSize(1280, 820)));
}

ExperimentWindow::~ExperimentWindow() {
    if (runner_) runner_->cancel(); // joins in the runner's destructor; in-flight calls are cancelled
}

bool ExperimentWindow::running() const { return runner_ && !runner_->finished(); }

QString ExperimentWindow::statusText() const { return status_->text(); }

bool ExperimentWindow::showTab(const QString& title) {
    for (int i = 0; i < tabs_->count(); ++i)
        if (tabs_->tabText(i).compare(title, Qt::CaseInsensitive) == 0) {
            tabs_->setCurrentIndex(i);
            return true;
        }
    return false;
}

void ExperimentWindow::showError(const QString& message) {
    summary_->setText("<b>" + tr("Cannot open the experiment") + "</b><br>" + message.toHtmlEscaped().replace("\n", "<br>"));
    status_->clear();
}

void ExperimentWindow::openExperiment(const QString& path, const QString& db) {
    if (running()) return;
    path_ = path;
    summary_->setText(tr("Loading %1…").arg(path));
    struct Loaded {
        Result<eval::Experiment> e = Error{""};
        Result<std::shared_ptr<store::ExperimentStore>> s = Error{""};
    };
    const std::string p = path.toStdString(), d = db.isEmpty() ? store::ExperimentStore::default_path() : db.toStdString();
    off_thread<Loaded>(
        this, [p, d] { return Loaded{eval::load_experiment(p), store::ExperimentStore::open(d)}; },
        [this](Loaded& l) {
            if (!l.e || !l.s) {
                run_when_loaded_ = false;
                showError(QString::fromStdString(!l.e ? l.e.error() : l.s.error()));
                emit loaded(false);
                return;
            }
            experiment_ = std::make_shared<eval::Experiment>(std::move(*l.e));
            store_ = *l.s;
            const auto& e = *experiment_;
            const QString demo_judge = QString::fromStdString(eval::judge_note(e));
            summary_->setText(tr("<b>%1</b> — %2 × %3 (%4), %5 judge%8%6. Results and cache: %7")
                                  .arg(QString::fromStdString(e.name).toHtmlEscaped())
                                  .arg(count_text(static_cast<qint64>(e.configs.size()), tr("configuration"), tr("configurations")))
                                  .arg(count_text(static_cast<qint64>(e.prompts.items.size()), tr("prompt"), tr("prompts")))
                                  .arg(QString::fromStdString(e.prompts.name).toHtmlEscaped())
                                  .arg(QString::fromStdString(e.judge.mode))
                                  .arg(e.reference ? tr(" against <i>%1</i>").arg(QString::fromStdString(e.reference->name).toHtmlEscaped())
                                                   : QString())
                                  .arg(QString::fromStdString(store_->path()).toHtmlEscaped())
                                  .arg(demo_judge.isEmpty() ? QString() : tr(" (<b>%1</b>)").arg(demo_judge.toHtmlEscaped())));
            setWindowTitle(QFileInfo(path_).fileName() + tr(" — Experiments — MoA Workbench"));
            {
                const QString why = QString::fromStdString(eval::lc_variants_unavailable(e));
                const QSignalBlocker block(lc_variants_);
                lc_variants_->setChecked(e.lc_variants && why.isEmpty());
                lc_variants_->setEnabled(why.isEmpty());
                lc_variants_->setToolTip(
                    why.isEmpty() ? tr("AlpacaEval's regularisation: asks the reference for a concise and a verbose answer to each prompt "
                                       "and has the judge compare each with the reference's answer (2 answers + 2 judge calls per "
                                       "prompt); their verdicts regularise LC's length term. For this window only: \"lc_variants\": "
                                       "true in the experiment file keeps it on")
                                  : tr("Not available: %1").arg(why));
                updateLcPlan();
            }
            run_->setEnabled(true);
            run_->setText(tr("Run"));
            export_chart_->setEnabled(true);
            export_chart_->setToolTip(QString());
            failures_->hide();
            failed_answers_.clear();
            runner_.reset();
            stack_->setCurrentIndex(1);
            progress_->show();
            emit loaded(true);
            refreshResults();
            if (std::exchange(run_when_loaded_, false)) run();
        });
}

QString ExperimentWindow::lcVariantsText() const { return lc_plan_->isHidden() ? QString() : lc_plan_->text(); }

void ExperimentWindow::setLcVariants(bool on) {
    if (!experiment_ || running() || experiment_->lc_variants == on) return;
    // A new copy: the results being computed off the GUI thread keep reading the old one.
    auto e = std::make_shared<eval::Experiment>(*experiment_);
    e->lc_variants = on;
    experiment_ = std::move(e);
    updateLcPlan();
    refreshResults();
}

void ExperimentWindow::updateLcPlan() {
    if (!experiment_) return;
    const auto why = eval::lc_variants_unavailable(*experiment_);
    if (!why.empty() || !experiment_->lc_variants) {
        lc_plan_->setVisible(!why.empty() && experiment_->judge.mode == "pairwise");
        lc_plan_->setText(tr("LC is unregularised: %1").arg(QString::fromStdString(why)));
        emit lcPlanShown();
        return;
    }
    lc_plan_->setText(tr("Baseline variants for LC: working out their cost…"));
    lc_plan_->show();
    auto e = experiment_;
    auto s = store_;
    const auto catalog = catalog_;
    off_thread<eval::VariantPlan>(
        this, [e, s, catalog] { return eval::plan_lc_variants(*e, catalog, s.get()); },
        [this, e](eval::VariantPlan& p) {
            if (e != experiment_) return; // toggled again meanwhile
            lc_plan_->setText(p.calls == 0 ? tr("Baseline variants for LC: all generated and judged already (%1); nothing to pay")
                                                 .arg(QString::fromStdString(eval::describe(p)))
                                           : tr("Baseline variants for LC: Run adds %1").arg(QString::fromStdString(eval::describe(p))));
            emit lcPlanShown();
        });
}

void ExperimentWindow::run() {
    if (!experiment_ || running()) return;
    lc_variants_->setEnabled(false); // not changed under a running experiment
    runner_ = std::make_unique<eval::ExperimentRunner>(*experiment_, store_, catalog_);
    auto p = runner_->progress();
    progress_->setRange(0, std::max(1, p.total));
    runner_->start();
    run_->setEnabled(false);
    pause_->setEnabled(true);
    pause_->setText(tr("Pause"));
    cancel_->setEnabled(true);
    poll_->start();
    rebuildCharts();
    pollProgress();
}

void ExperimentWindow::pauseOrResume() {
    if (!running()) return;
    if (runner_->progress().paused) {
        runner_->resume();
        pause_->setText(tr("Pause"));
    } else {
        runner_->pause();
        pause_->setText(tr("Resume"));
    }
    pollProgress();
}

void ExperimentWindow::cancel() {
    if (running()) runner_->cancel(); // never blocks: the poll notices the end
}

void ExperimentWindow::pollProgress() {
    if (!runner_) return;
    // Finished: the outcome's figures, not a snapshot taken while the last tasks were ending.
    const bool ended = runner_->finished();
    eval::ExperimentOutcome o;
    if (ended) {
        poll_->stop();
        o = runner_->wait();
    }
    const auto p = ended ? o.progress : runner_->progress();
    progress_->setMaximum(std::max(1, p.total));
    progress_->setValue(p.done);
    QString s = tr("%1 of %2 done · %3 spent this session").arg(p.done).arg(p.total).arg(p.spent_complete ? format_money(p.spent_usd) : cost_text(false, p.spent_usd));
    if (!ended) s += tr(" · ETA %1").arg(duration(p.eta_s)); // an ended run has none (a stale one was left)
    if (p.resumed) s += tr(" · %1 from earlier sessions").arg(p.resumed);
    if (p.failed) s += tr(" · %1 failed").arg(p.failed);
    if (p.paused) s += tr(" · paused (calls under way finish)");
    status_->setText(s);
    status_->setToolTip(QString::fromStdString(p.last));
    showFailures(p.errors, p.failed);
    if (ended) {
        QString end = QString::fromStdString(eval::to_string(o.status));
        status_->setText(s + " · " + end + (o.message.empty() ? QString() : ": " + QString::fromStdString(o.message)));
        run_->setEnabled(true);
        run_->setText(o.status == eval::ExperimentStatus::Done ? tr("Run again") : tr("Resume run"));
        lc_variants_->setEnabled(eval::lc_variants_unavailable(*experiment_).empty());
        updateLcPlan();
        pause_->setEnabled(false);
        cancel_->setEnabled(false);
        refreshResults();
        emit finished();
    } else if (p.done % 10 == 0) {
        refreshResults(); // the table fills in as results arrive
    }
}

void ExperimentWindow::refreshResults() {
    if (!experiment_) return;
    auto e = experiment_;
    auto s = store_;
    struct Read {
        eval::ExperimentResults results;
        std::vector<FailedAnswer> failed;
    };
    off_thread<Read>(
        this,
        [e, s] {
            Read r{eval::compute_results(*e, *s), {}};
            for (std::size_t c = 0; c < e->configs.size(); ++c) {
                const std::string key = eval::config_key(e->configs[c]);
                for (const auto& item : e->prompts.items)
                    if (auto g = s->generation(key, item.id); g && !g->ok) {
                        // A failed generation that the results already count (as a loss or the
                        // lowest grade) is shown there, once; the rest are listed after them.
                        const auto& name = r.results.configs[c].name;
                        bool counted = std::any_of(r.results.instances.begin(), r.results.instances.end(),
                                                   [&](const auto& in) { return in.config == name && in.item_id == item.id; });
                        if (!counted) r.failed.push_back({name, item.id, item.instruction(), g->error});
                    }
            }
            return r;
        },
        [this](Read& r) {
            failed_answers_ = std::move(r.failed);
            showResults(r.results);
        });
}

void ExperimentWindow::showFailures(const std::vector<std::string>& errors, int failed) {
    if (failed <= 0) {
        failures_->hide();
        return;
    }
    QStringList lines;
    for (const auto& e : errors) lines << QString::fromStdString(e);
    failures_->setText((failed == 1 ? tr("1 task failed") : tr("%1 tasks failed").arg(failed)) +
                       tr(" (kept out of the results; running again retries them). Why:") + "\n• " + lines.join("\n• "));
    failures_->show();
}

QString ExperimentWindow::failuresText() const { return failures_->isHidden() ? QString() : failures_->text(); }

bool ExperimentWindow::showingEmptyState() const { return stack_->currentIndex() == 0; }

NewExperimentDialog* ExperimentWindow::showNewExperimentDialog() {
    auto* d = new NewExperimentDialog(open_doc_, this);
    d->setAttribute(Qt::WA_DeleteOnClose);
    connect(d, &QDialog::accepted, this, [this, d] {
        if (!d->path().isEmpty()) openExperiment(d->path());
    });
    d->open();
    return d;
}

Result<std::string> ExperimentWindow::tryDemoExperiment(const QString& dir) {
    if (running()) return Error{"an experiment is running"};
    QString where = dir;
    if (where.isEmpty()) {
        // Beside the experiment database, in the one data folder (…/moa-workbench). Qt's
        // AppLocalDataLocation adds the organisation and the application name, so the demo went
        // to a second folder inside it (…/moa-workbench/MoA Workbench/demo-experiment).
        where = QFileInfo(QString::fromStdString(store::ExperimentStore::default_path())).absolutePath() + "/demo-experiment";
    }
    auto path = eval::write_demo_experiment(where.toStdString());
    if (!path) {
        showError(QString::fromStdString(path.error()));
        return path;
    }
    run_when_loaded_ = true;
    openExperiment(QString::fromStdString(*path));
    return path;
}

void ExperimentWindow::showResults(const eval::ExperimentResults& r) {
    results_ = r;
    const bool pairwise = r.mode == "pairwise";
    QStringList head = pairwise ? QStringList{tr("Configuration"), QString::fromStdString(r.lc_label), tr("LC ± SE"), tr("Win rate"),
                                              tr("± SE"), tr("$ / instance"), tr("TFLOPs / instance"), tr("Latency (s)"), tr("Tokens"),
                                              tr("Judged"), tr("Dropped agents"), tr("Failed"), tr("Reference failed"), tr("Unreadable"),
                                              tr("Frontier")}
                                : QStringList{tr("Configuration"), tr("Score"), tr("± SE"), tr("$ / instance"), tr("TFLOPs / instance"),
                                              tr("Latency (s)"), tr("Tokens"), tr("Judged"), tr("Dropped agents"), tr("Failed"),
                                              tr("Unreadable"), tr("Frontier")};
    table_->setSortingEnabled(false);
    table_->clear();
    table_->setColumnCount(head.size());
    table_->setHorizontalHeaderLabels(head);
    table_->setRowCount(static_cast<int>(r.configs.size()));
    for (int i = 0; i < static_cast<int>(r.configs.size()); ++i) {
        const auto& c = r.configs[static_cast<std::size_t>(i)];
        int col = 0;
        auto* name = new QTableWidgetItem(QString::fromStdString(c.name));
        name->setToolTip(QString::fromStdString(c.source));
        table_->setItem(i, col++, name);
        // Nothing judged yet: no win rate (not 0.00), and no cost or size (not $0) before any answer.
        const bool none_judged = c.judged == 0 && c.failed == 0;
        const bool none_generated = c.generated == 0 && c.failed == 0;
        auto na = [] {
            auto* it = new QTableWidgetItem(tr("n/a"));
            it->setToolTip(tr("Not measured yet: run the experiment"));
            return it;
        };
        // An "n/a" that is not about a run yet to come says why in the cell, the exact reason in its tooltip.
        auto na_because = [](const QString& brief, const QString& why) {
            auto* it = new QTableWidgetItem(tr("n/a (%1)").arg(brief));
            it->setToolTip(why);
            return it;
        };
        // The LC needs 10 verdicts (AlpacaEval's minimum for its fit); other failures of the fit say theirs.
        auto lc_brief = [](const std::string& why) {
            return why.find("at least 10") != std::string::npos ? tr("needs 10 verdicts") : tr("no fit");
        };
        if (pairwise) {
            table_->setItem(i, col++, c.lc_win_rate ? num_item(*c.lc_win_rate, 2)
                                      : none_judged ? na()
                                                    : na_because(lc_brief(c.lc_missing), QString::fromStdString(c.lc_missing)));
            table_->setItem(i, col++, c.lc_standard_error ? num_item(*c.lc_standard_error, 2)
                                      : none_judged ? na()
                                      : !c.lc_win_rate ? na_because(lc_brief(c.lc_missing), QString::fromStdString(c.lc_se_missing))
                                                       : na_because(tr("bootstrap"), QString::fromStdString(c.lc_se_missing)));
            // Judged but no verdict could be read: "n/a (no readable verdict)", never 0.00 ± 0.00.
            const bool no_verdict = !none_judged && !eval::has_verdict(c, r.mode);
            auto no_verdict_item = [&] {
                return na_because(tr("no readable verdict"), tr("No verdict of the judge could be read; the Unreadable column says why"));
            };
            table_->setItem(i, col++, none_judged ? na() : no_verdict ? no_verdict_item() : num_item(c.win.win_rate, 2));
            table_->setItem(i, col++, none_judged ? na() : no_verdict ? no_verdict_item() : num_item(c.win.standard_error, 2));
        } else {
            table_->setItem(i, col++, c.score ? num_item(*c.score, 2)
                                      : none_judged ? na()
                                                    : na_because(tr("no readable verdict"),
                                                                 tr("No verdict of the judge could be read; the Unreadable column says why")));
            table_->setItem(i, col++, c.score ? num_item(c.score_se.value_or(0), 2)
                                      : none_judged ? na()
                                                    : na_because(tr("no readable verdict"),
                                                                 tr("No verdict of the judge could be read; the Unreadable column says why")));
        }
        // No price for any call: "cost unknown", never "$0"; part of it priced: "≥ $x".
        auto* cost = none_generated ? na()
                     : c.cost_complete ? money_item(c.cost_per_instance)
                                       : new NumItem(cost_text(false, c.cost_per_instance), c.cost_per_instance);
        if (!none_generated && !c.cost_complete) cost->setToolTip(tr("Some calls have no price in the catalog or the configuration"));
        table_->setItem(i, col++, cost);
        table_->setItem(i, col++, none_generated ? na() : num_item(c.tflops_per_instance, 2));
        auto* latency = none_generated ? na()
                        : c.latency_ms ? num_item(*c.latency_ms / 1000.0, 2)
                        : c.timing_from_cache > 0
                            ? na_because(tr("cached"),
                                         tr("Every answer used calls from the response cache, which take no time, so no latency was "
                                            "measured. To measure it, set \"cache_generations\": false in the experiment file (a "
                                            "latency sweep does)"))
                            : na_because(tr("no answer"), tr("No answer was made afresh, so no latency was measured"));
        if (c.latency_ms && c.timing_from_cache > 0)
            latency->setToolTip((c.timing_from_cache == 1 ? tr("1 answer left out") : tr("%1 answers left out").arg(c.timing_from_cache)) +
                                tr(": some of its calls came from the response cache, which takes no time"));
        table_->setItem(i, col++, latency);
        table_->setItem(i, col++, none_generated ? na() : num_item(c.tokens_per_instance, 0));
        auto* judged_item = num_item(c.judged, 0);
        // Answers made without some agents: said beside the count, in red, with the agents and
        // their errors, so a win rate is never read as the whole configuration's when it is not.
        auto* dropped = num_item(c.degraded, 0);
        if (c.degraded > 0) {
            dropped->setText(tr("%1 with dropped agents").arg(c.degraded));
            QStringList lines;
            for (std::size_t k = 0; k < c.degraded_notes.size() && k < 8; ++k) lines << QString::fromStdString(c.degraded_notes[k]);
            if (c.degraded_notes.size() > 8) lines << tr("… (the Instances tab lists all)");
            const QString tip = tr("%1 of %2 answers were made without some of the configuration's agents; their numbers are not "
                                   "the whole configuration's:\n%3")
                                    .arg(c.degraded)
                                    .arg(c.generated)
                                    .arg(lines.join('\n'));
            for (auto* it : {dropped, judged_item, name}) {
                it->setForeground(QColor(200, 30, 30));
                it->setToolTip(tip);
            }
        }
        table_->setItem(i, col++, judged_item);
        table_->setItem(i, col++, dropped);
        auto* failed = num_item(c.failed, 0);
        failed->setToolTip(pairwise ? tr("Failed generations, each counted as a loss") : tr("Failed generations, each graded lowest"));
        table_->setItem(i, col++, failed);
        if (pairwise) table_->setItem(i, col++, num_item(c.reference_failed, 0));
        auto* unreadable = num_item(c.unreadable, 0);
        QStringList why;
        for (const auto& in : r.instances)
            if (in.config == c.name && !in.error.empty() && !in.reference_failed && !in.failed_generation)
                why << QString::fromStdString(in.item_id + ": " + in.error);
        if (!why.isEmpty()) unreadable->setToolTip(why.mid(0, 8).join('\n') + (why.size() > 8 ? tr("\n… (the Instances tab lists all)") : QString()));
        table_->setItem(i, col++, unreadable);
        bool front = std::find(r.frontier.begin(), r.frontier.end(), std::size_t(i)) != r.frontier.end();
        table_->setItem(i, col++, new QTableWidgetItem(front ? tr("yes") : QString()));
    }
    // The jargon explained where it is read.
    for (int col = 0; col < head.size(); ++col) {
        const QString h = head[col];
        const bool lc = h.startsWith("LC");
        QString tip = lc && h.contains(tr("unregularised"))
                          ? tr("Length-controlled win rate (AlpacaEval 2.0's model): the win rate against the reference with the "
                               "advantage of simply writing longer answers removed. Unregularised: fitted without baseline-variant "
                               "rows, so its length term is less reliable than AlpacaEval's and not directly comparable to published LC")
                      : h == tr("LC ± SE") ? tr("The LC's standard error, from a seeded bootstrap over the instances; n/a when there "
                                                "is no LC or too few resamples could be fitted (the cell's tooltip says which)")
                      : lc ? tr("Length-controlled win rate (AlpacaEval 2.0): the win rate against the reference with the "
                                "advantage of simply writing longer answers removed; its length term is regularised by the reference's "
                                "concise and verbose variants, as AlpacaEval's is (this experiment's prompts, judge and reference still "
                                "differ from AlpacaEval 2.0's)")
                      : h == tr("Dropped agents") ? tr("Answers made without some of the configuration's agents (an agent that "
                                                       "failed was dropped and the run went on without it): counted, but not the whole "
                                                       "configuration's; the tooltip names the agents and their errors")
                      : h == tr("Failed") ? tr("Prompts this configuration failed to answer: each counts (a loss, or the lowest grade)")
                      : h == tr("Reference failed") ? tr("Prompts whose reference answer failed: not judged, tried again on the next run")
                      : h == tr("Win rate")   ? tr("How often the judge preferred this configuration's answer to the reference's (0–100)")
                      : h == tr("± SE")       ? tr("Standard error: the uncertainty of the estimate; about 2 SE either side is a 95% interval")
                      : h == tr("Latency (s)") ? tr("Mean wall time of one answer, over the answers made afresh: an answer that used the "
                                                    "response cache took no time and is left out. n/a (cached): every answer used the cache")
                      : h == tr("$ / instance") ? tr("What one prompt costs this configuration at list prices (every agent of every layer)")
                      : h == tr("TFLOPs / instance") ? tr("Tera floating-point operations per prompt on the critical path, from the models' "
                                                          "active parameters and the tokens they read and write")
                      : h == tr("Unreadable") ? tr("Verdicts the judge gave in a form that could not be read; excluded, with the reason on each row")
                      : h == tr("Frontier")   ? tr("On the Pareto frontier: no other configuration is both cheaper and better")
                      : h == tr("Score")      ? tr("The judge's mean grade (1–10, or 1–5 for skills)")
                                              : QString();
        if (lc && h != tr("LC ± SE"))
            tip += tr(". n/a when it cannot be fitted: the fit needs at least 10 verdicts (the cell's tooltip gives the reason)");
        if (!tip.isEmpty()) table_->horizontalHeaderItem(col)->setToolTip(tip);
    }
    table_->setSortingEnabled(true);
    table_->resizeColumnsToContents();
    table_->horizontalHeader()->setStretchLastSection(true);
    table_->setToolTip(QString::fromStdString((r.judge_note.empty() ? std::string() : "Judge: " + r.judge_note + ".\n") + r.lc_note +
                                              (r.incomplete ? "\n" + r.incomplete_note : std::string())));
    if (!running()) {
        int judged = 0, total = static_cast<int>(r.configs.size() * (experiment_ ? experiment_->prompts.items.size() : 0));
        for (const auto& c : r.configs) judged += c.judged;
        progress_->setRange(0, std::max(1, total));
        progress_->setValue(judged);
        if (status_->text().isEmpty() || !runner_)
            status_->setText(tr("%1 of %2 judged (stored). %3").arg(judged).arg(count_text(total, tr("answer"), tr("answers"))).arg(QString::fromStdString(
                r.incomplete ? r.incomplete_note + ". " + r.lc_note : r.lc_note)));
    }

    instances_->clear();
    QStringList ih{tr("Prompt"), tr("Category"), tr("Configuration"), pairwise ? tr("Preference (2 = configuration wins)") : tr("Score"),
                   tr("Instruction")};
    instances_->setColumnCount(ih.size());
    instances_->setHorizontalHeaderLabels(ih);
    instances_->setRowCount(static_cast<int>(r.instances.size() + failed_answers_.size()));
    for (int i = 0; i < static_cast<int>(r.instances.size()); ++i) {
        const auto& in = r.instances[static_cast<std::size_t>(i)];
        instances_->setItem(i, 0, new QTableWidgetItem(QString::fromStdString(in.item_id)));
        instances_->setItem(i, 1, new QTableWidgetItem(QString::fromStdString(in.category)));
        auto* config = new QTableWidgetItem(QString::fromStdString(in.config));
        if (!in.degraded.empty()) {
            // "Dead one — L1.2 dropped": which agents this answer was made without, the errors in the tooltip.
            QStringList short_names, lines;
            for (const auto& d : in.degraded) {
                const QString line = QString::fromStdString(d);
                lines << line;
                short_names << line.section(" (", 0, 0);
            }
            config->setText(QString::fromStdString(in.config) + " — " + short_names.join(", "));
            config->setForeground(QColor(200, 30, 30));
            config->setToolTip(tr("Made without some of the configuration's agents:\n%1").arg(lines.join('\n')));
        }
        instances_->setItem(i, 2, config);
        auto v = pairwise ? in.preference : in.score;
        QTableWidgetItem* verdict = nullptr;
        if (in.reference_failed) verdict = new QTableWidgetItem(tr("reference failed"));
        else if (v) verdict = num_item(*v, 3);
        else verdict = new QTableWidgetItem(in.error.empty() ? tr("not judged yet")
                                                             : tr("unreadable: %1").arg(QString::fromStdString(in.error).left(120)));
        if (in.failed_generation)
            verdict->setText(tr("failed: %1 (%2)").arg(QString::fromStdString(in.error).left(120),
                                                      pairwise ? tr("counted as a loss") : tr("graded lowest")));
        if (!in.error.empty()) verdict->setToolTip(QString::fromStdString(in.error));
        instances_->setItem(i, 3, verdict);
        instances_->setItem(i, 4, new QTableWidgetItem(QString::fromStdString(in.instruction).left(160).replace('\n', ' ')));
    }
    // Answers that could not be generated: listed with their error, after the judged ones.
    for (std::size_t k = 0; k < failed_answers_.size(); ++k) {
        const auto& f = failed_answers_[k];
        const int row = static_cast<int>(r.instances.size() + k);
        instances_->setItem(row, 0, new QTableWidgetItem(QString::fromStdString(f.item_id)));
        instances_->setItem(row, 1, new QTableWidgetItem());
        instances_->setItem(row, 2, new QTableWidgetItem(QString::fromStdString(f.config)));
        auto* why = new QTableWidgetItem(tr("failed: %1").arg(QString::fromStdString(f.error).left(120)));
        why->setToolTip(QString::fromStdString(f.error));
        instances_->setItem(row, 3, why);
        instances_->setItem(row, 4, new QTableWidgetItem(QString::fromStdString(f.instruction).left(160).replace('\n', ' ')));
    }
    instances_->resizeColumnsToContents();
    instances_->horizontalHeader()->setStretchLastSection(true);

    if (skills_tab_) {
        tabs_->removeTab(tabs_->indexOf(skills_tab_));
        skills_tab_->deleteLater();
        skills_tab_ = nullptr;
    }
    bool any_skills = false;
    for (const auto& c : r.configs) any_skills = any_skills || !c.skills.empty();
    if (any_skills) {
        skills_tab_ = make_skills_radar(r, this);
        tabs_->addTab(skills_tab_, tr("Skills"));
    }
    rebuildCharts();
    emit resultsShown();
}

void ExperimentWindow::rebuildCharts() {
    if (!results_) return;
    // While it runs, an empty chart says it is waiting for verdicts (it said "Not run yet").
    auto spec = [this](XAxis x, bool log_x) {
        auto s = chart_spec(*results_, x, log_x, paper_->isChecked());
        if (running() && s.points.empty() && !results_->configs.empty())
            s.empty_note = tr("Running: each configuration is plotted here once its first answers are judged");
        return s;
    };
    cost_chart_->setSpec(spec(XAxis::Cost, log_x_->isChecked()));
    const auto second = x_axis_from_string(second_x_->currentData().toString()).value_or(XAxis::Tflops);
    tflops_chart_->setSpec(spec(second, false));
}

void ExperimentWindow::showInstance(int row) {
    auto esc = [](const std::string& s) { return QString::fromStdString(s).toHtmlEscaped().replace("\n", "<br>"); };
    const int judged = results_ ? static_cast<int>(results_->instances.size()) : 0;
    if (results_ && row >= judged && row < judged + static_cast<int>(failed_answers_.size())) {
        const auto& f = failed_answers_[static_cast<std::size_t>(row - judged)];
        instance_view_->setHtml(QString("<h3>%1 — %2</h3><p><b>%3</b></p><p>%4</p><p>%5</p>")
                                    .arg(esc(f.item_id), esc(f.config), tr("No answer: the configuration failed on this prompt"),
                                         esc(f.error), esc(f.instruction)));
        return;
    }
    if (!results_ || row < 0 || row >= judged) return instance_view_->clear();
    const auto& in = results_->instances[static_cast<std::size_t>(row)];
    QString verdict;
    if (in.reference_failed) verdict = tr("Reference failed, so not judged: %1").arg(esc(in.error));
    else if (in.failed_generation)
        verdict = (results_->mode == "pairwise" ? tr("No answer: the generation failed, counted as a loss (preference 1): %1")
                                                : tr("No answer: the generation failed, graded lowest: %1"))
                      .arg(esc(in.error));
    else if (in.preference)
        verdict = (*in.preference > 1.5   ? tr("The configuration's answer wins")
                   : *in.preference < 1.5 ? tr("The reference's answer wins")
                                          : tr("A draw")) +
                  tr(" (preference %1 on a scale from 1 = reference better to 2 = configuration better)").arg(*in.preference, 0, 'f', 2);
    else if (in.score) verdict = tr("Grade %1").arg(*in.score, 0, 'f', 2);
    else verdict = in.error.empty() ? tr("not judged yet") : tr("Unreadable verdict, excluded from the results: ") + esc(in.error);
    QString detail = verdict_details(in.detail);
    // The agents this answer was made without, each with its error, before the verdict is read
    // (added after the arg() calls: an error text may itself contain "%1").
    QString dropped;
    if (!in.degraded.empty()) {
        QString list;
        for (const auto& d : in.degraded) list += "<li>" + esc(d) + "</li>";
        dropped = "<p style='color:#c81e1e'><b>" +
                  (in.degraded.size() == 1 ? tr("Made without 1 of the configuration's agents (the run went on without it):")
                                           : tr("Made without %1 of the configuration's agents (the run went on without them):")
                                                 .arg(static_cast<int>(in.degraded.size()))) +
                  "</b></p><ul style='color:#c81e1e'>" + list + "</ul>";
    }
    QString html =
        QString("<h3>%1 — %2</h3><p><b>%3</b></p><p>%4</p>"
                "<table width='100%' cellspacing='6'><tr><th align='left' width='50%'>%5</th><th align='left'>%6</th></tr>"
                "<tr><td valign='top'>%7</td><td valign='top'>%8</td></tr></table>"
                "<p><b>%9</b></p><pre style='white-space: pre-wrap'>%10</pre>%11")
            .arg(esc(in.item_id), esc(in.config), verdict, esc(in.instruction), esc(in.config), tr("Reference"), esc(in.output),
                 esc(in.reference), tr("The judge's answer:"), QString::fromStdString(in.judge_raw).toHtmlEscaped(), detail);
    html.insert(html.indexOf("</h3>") + 5, dropped);
    instance_view_->setHtml(html);
}

Result<std::string> ExperimentWindow::createSweep(const QString& base, const QString& kind, int max, const QString& models,
                                                  const QString& judge, const QString& reference, int sample, const QString& dir) {
    // Every field checked (files or preset names), each problem naming its field, before any
    // file is written: a sweep with a broken judge or reference is never left on disk.
    std::vector<std::string> problems;
    auto k = eval::sweep_kind_from_string(kind.toStdString());
    if (!k) problems.push_back("Vary: unknown sweep kind \"" + kind.toStdString() + "\"");
    auto r = eval::load_config_field("Base configuration", base.trimmed().toStdString());
    if (!r) problems.push_back(r.error());
    if (auto j = eval::load_judge_field("Judge", judge.trimmed().toStdString()); !j) problems.push_back(j.error());
    if (reference.trimmed().isEmpty())
        problems.push_back("Reference configuration: a pairwise judge compares each variant with a reference: choose its configuration");
    else if (auto ref = eval::load_config_field("Reference configuration", reference.trimmed().toStdString()); !ref)
        problems.push_back(ref.error());
    if (dir.trimmed().isEmpty()) problems.push_back("Write to folder: choose a folder for the variants and the experiment");
    if (!problems.empty()) {
        std::string all;
        for (const auto& p : problems) all += (all.empty() ? "" : "\n") + p;
        return Error{all};
    }
    eval::SweepOptions o;
    o.kind = *k;
    o.max = max;
    for (const auto& m : models.split(',', Qt::SkipEmptyParts)) o.models.push_back(m.trimmed().toStdString());
    auto variants = eval::make_sweep(*r, o);
    if (!variants) return Error{"Vary: " + variants.error()};
    eval::SweepFiles f;
    f.dir = dir.toStdString();
    f.judge = judge.trimmed().toStdString();
    f.reference_config = reference.trimmed().toStdString();
    f.sample = static_cast<std::size_t>(sample);
    f.cache_generations = o.kind != eval::SweepKind::Latency;
    auto path = eval::write_sweep_experiment(*variants, f);
    if (path) openExperiment(QString::fromStdString(*path));
    return path;
}

void ExperimentWindow::showSweepDialog() {
    QDialog d(this);
    d.setWindowTitle(tr("New sweep"));
    auto* form = new QFormLayout(&d);
    auto file_row = [&](const QString& value, const QString& filter, bool folder) {
        auto* row = new QWidget(&d);
        auto* h = new QHBoxLayout(row);
        h->setContentsMargins(0, 0, 0, 0);
        auto* edit = new QLineEdit(value, row);
        auto* browse = new QPushButton(tr("Browse…"), row);
        h->addWidget(edit, 1);
        h->addWidget(browse);
        connect(browse, &QPushButton::clicked, &d, [&d, edit, filter, folder] {
            QString f = folder ? QFileDialog::getExistingDirectory(&d, QString(), edit->text())
                               : QFileDialog::getOpenFileName(&d, QString(), edit->text(), filter);
            if (!f.isEmpty()) edit->setText(f);
        });
        return std::pair{row, edit};
    };
    const QString cfg_filter = tr("MoA configurations (*.moa.json *.json)");
    auto [base_row, base] = file_row(default_base_, cfg_filter, false);
    auto* kind = new QComboBox(&d);
    kind->addItem(tr("Number of proposers (1…n)"), "proposers");
    kind->addItem(tr("Number of layers"), "layers");
    kind->addItem(tr("Aggregator model"), "aggregator");
    kind->addItem(tr("One model sampled n times vs n different models"), "samples");
    kind->addItem(tr("Selecting aggregator (LLM ranker) vs synthesizing"), "ranker");
    kind->addItem(tr("Latency: barrier, staircase (16 and 64 tokens), quorum n−1"), "latency");
    kind->setItemData(kind->count() - 1,
                      tr("What cutting the wait costs in quality: the base as a barrier run, with staircase streaming "
                         "in steps of 16 and of 64 tokens (each step re-sends the references: more prompt tokens), "
                         "and with every layer of proposers done once all but one have finished"),
                      Qt::ToolTipRole);
    kind->setObjectName("kind");
    auto* max = new QSpinBox(&d);
    max->setRange(0, 12);
    max->setSpecialValueText(tr("as in the base"));
    auto* models = new QLineEdit(&d);
    models->setPlaceholderText(tr("aggregator models, comma-separated (provider/model or model)"));
    auto* judge = make_judge_combo(&d);
    judge->setObjectName("judge");
    auto [ref_row, ref] = file_row({}, cfg_filter, false);
    ref->setObjectName("reference");
    ref->setPlaceholderText(tr("a configuration file or preset name, e.g. moa-lite"));
    base->setObjectName("base");
    base->setPlaceholderText(tr("a configuration file or preset name, e.g. offline-demo"));
    auto* sample = new QSpinBox(&d);
    sample->setRange(0, 100000);
    sample->setValue(30);
    sample->setSpecialValueText(tr("all prompts"));
    // Beside earlier sweeps, never inside one: after a sweep's experiment was opened, the folder
    // remembered is that sweep's (…/moa-sweeps/<time>), and the next sweep went to
    // …/moa-sweeps/<time>/moa-sweeps/<time>.
    QStringList parts = QDir::fromNativeSeparators(start_folder("experiments")).split('/');
    if (const auto at = parts.lastIndexOf("moa-sweeps"); at > 0) parts = parts.mid(0, at);
    const QString sweeps_in = parts.join('/').isEmpty() ? QStringLiteral("/") : parts.join('/');
    auto [dir_row, dir] = file_row(QDir(sweeps_in).filePath("moa-sweeps/" + QDateTime::currentDateTime().toString("yyyyMMdd-HHmmss")), {}, true);
    dir->setObjectName("sweep_dir");
    form->addRow(tr("Base configuration"), base_row);
    form->addRow(tr("Vary"), kind);
    form->addRow(tr("Up to"), max);
    form->addRow(tr("Models"), models);
    form->addRow(tr("Judge"), judge);
    form->addRow(tr("Reference configuration"), ref_row);
    form->addRow(tr("Prompts (starter set)"), sample);
    form->addRow(tr("Write to folder"), dir_row);
    max->setObjectName("max");
    models->setObjectName("models");
    // The latency sweep varies how the base's layers wait, not their size or models: "Up to" and
    // "Models" mean nothing there, so they are off, with the reason on them.
    const auto kind_changed = [kind, max, models] {
        const bool latency = kind->currentData().toString() == "latency";
        const QString why = latency ? tr("Not used by the latency sweep: it varies how the base's layers wait "
                                         "(barrier, staircase, quorum), not how many agents or which models")
                                    : QString();
        for (QWidget* f : {static_cast<QWidget*>(max), static_cast<QWidget*>(models)}) {
            f->setEnabled(!latency);
            f->setToolTip(why);
        }
    };
    connect(kind, &QComboBox::currentIndexChanged, &d, kind_changed);
    kind_changed();
    auto* error = new QLabel(&d);
    error->setObjectName("errors");
    error->setWordWrap(true);
    error->setStyleSheet("color: #b00020");
    form->addRow(error);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, &d);
    buttons->button(QDialogButtonBox::Ok)->setText(tr("Create sweep"));
    form->addRow(buttons);
    connect(buttons, &QDialogButtonBox::rejected, &d, &QDialog::reject);
    // The line edits by value: clang before 16 cannot capture structured bindings.
    connect(buttons, &QDialogButtonBox::accepted, &d, [&, base = base, judge = judge, ref = ref, dir = dir] {
        auto r = createSweep(base->text(), kind->currentData().toString(), max->value(), models->text(), combo_source(judge), ref->text(),
                             sample->value(), dir->text());
        if (r) d.accept();
        else error->setText(QString::fromStdString(r.error()));
    });
    d.exec();
}

void ExperimentWindow::exportChart() {
    if (!results_) return;
    auto f = QFileDialog::getSaveFileName(this, tr("Export chart"), start_path(QFileInfo(path_).completeBaseName().section('.', 0, 0) + ".png", "experiments"),
                                          tr("PNG image (*.png);;SVG image (*.svg);;CSV table (*.csv)"));
    if (f.isEmpty()) return;
    remember_folder(f, "experiments");
    ResultChart c;
    c.setSpec(cost_chart_->spec());
    if (auto err = c.save(f)) status_->setText(tr("Could not export: %1").arg(*err));
    else status_->setText(tr("Exported %1").arg(f));
}

} // namespace moa::ui
