// SPDX-License-Identifier: MIT
#include "experiment/experiment_window.h"

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
#include <QTabWidget>
#include <QTableWidget>
#include <QTextBrowser>
#include <QTimer>
#include <QVBoxLayout>
#include <thread>

#include "eval/experiment_runner.h"
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

QTableWidgetItem* num_item(double v, int decimals) {
    auto* it = new QTableWidgetItem(QString::number(v, 'f', decimals));
    it->setData(Qt::UserRole, v);
    it->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
    return it;
}
} // namespace

ExperimentWindow::ExperimentWindow(QWidget* parent) : QWidget(parent, Qt::Window) {
    setWindowTitle(tr("Experiments — MoA Workbench"));
    setObjectName("experimentWindow");
    if (auto c = accounting::Catalog::load_file(resources::catalog_path())) catalog_ = std::move(*c);
    auto* root = new QVBoxLayout(this);

    auto* bar = new QHBoxLayout();
    auto* open = new QPushButton(tr("Open experiment…"), this);
    run_ = new QPushButton(tr("Run"), this);
    pause_ = new QPushButton(tr("Pause"), this);
    cancel_ = new QPushButton(tr("Cancel"), this);
    auto* export_chart = new QPushButton(tr("Export chart…"), this);
    auto* sweep = new QPushButton(tr("New sweep…"), this);
    sweep->setToolTip(tr("The MoA paper's ablations: variants of a configuration (proposers, layers, aggregator, "
                         "one model sampled n times, a selecting aggregator) evaluated as one experiment"));
    connect(sweep, &QPushButton::clicked, this, &ExperimentWindow::showSweepDialog);
    for (auto* b : {open, sweep, run_, pause_, cancel_, export_chart}) {
        b->setAccessibleName(b->text().remove("…"));
        bar->addWidget(b);
    }
    run_->setToolTip(tr("Runs what is not done yet; finished calls come from the cache and cost nothing"));
    bar->addStretch();
    root->addLayout(bar);
    summary_ = new QLabel(tr("No experiment open. An experiment is configurations × a prompt set × a reference × a judge "
                             "(*.moa-experiment.json; README shows one)."), this);
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
    prow->addWidget(progress_, 1);
    prow->addWidget(status_, 2);
    root->addLayout(prow);

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
    paper_ = new QCheckBox(tr("Show the MoA paper's AlpacaEval 2.0 results"), charts);
    paper_->setChecked(true);
    opts->addWidget(log_x_);
    opts->addWidget(paper_);
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
    root->addWidget(tabs_, 1);

    poll_ = new QTimer(this);
    poll_->setInterval(200);
    connect(poll_, &QTimer::timeout, this, &ExperimentWindow::pollProgress);
    connect(open, &QPushButton::clicked, this, [this] {
        auto f = QFileDialog::getOpenFileName(this, tr("Open experiment"), {}, tr("Experiments (*.moa-experiment.json *.json)"));
        if (!f.isEmpty()) openExperiment(f);
    });
    connect(run_, &QPushButton::clicked, this, &ExperimentWindow::run);
    connect(pause_, &QPushButton::clicked, this, &ExperimentWindow::pauseOrResume);
    connect(cancel_, &QPushButton::clicked, this, &ExperimentWindow::cancel);
    connect(export_chart, &QPushButton::clicked, this, &ExperimentWindow::exportChart);
    connect(log_x_, &QCheckBox::toggled, this, &ExperimentWindow::rebuildCharts);
    connect(paper_, &QCheckBox::toggled, this, &ExperimentWindow::rebuildCharts);
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
    resize(1280, 820);
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
            if (!l.e) return showError(QString::fromStdString(l.e.error())), void(emit loaded(false));
            if (!l.s) return showError(QString::fromStdString(l.s.error())), void(emit loaded(false));
            experiment_ = std::make_shared<eval::Experiment>(std::move(*l.e));
            store_ = *l.s;
            const auto& e = *experiment_;
            summary_->setText(tr("<b>%1</b> — %2 configurations × %3 prompts (%4), %5 judge%6. Results and cache: %7")
                                  .arg(QString::fromStdString(e.name).toHtmlEscaped())
                                  .arg(e.configs.size())
                                  .arg(e.prompts.items.size())
                                  .arg(QString::fromStdString(e.prompts.name).toHtmlEscaped())
                                  .arg(QString::fromStdString(e.judge.mode))
                                  .arg(e.reference ? tr(" against <i>%1</i>").arg(QString::fromStdString(e.reference->name).toHtmlEscaped())
                                                   : QString())
                                  .arg(QString::fromStdString(store_->path()).toHtmlEscaped()));
            setWindowTitle(QFileInfo(path_).fileName() + tr(" — Experiments — MoA Workbench"));
            run_->setEnabled(true);
            emit loaded(true);
            refreshResults();
        });
}

void ExperimentWindow::run() {
    if (!experiment_ || running()) return;
    runner_ = std::make_unique<eval::ExperimentRunner>(*experiment_, store_, catalog_);
    auto p = runner_->progress();
    progress_->setRange(0, std::max(1, p.total));
    runner_->start();
    run_->setEnabled(false);
    pause_->setEnabled(true);
    pause_->setText(tr("Pause"));
    cancel_->setEnabled(true);
    poll_->start();
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
    auto p = runner_->progress();
    progress_->setMaximum(std::max(1, p.total));
    progress_->setValue(p.done);
    QString s = tr("%1 of %2 done · $%3 spent this session · ETA %4").arg(p.done).arg(p.total).arg(p.spent_usd, 0, 'f', 4).arg(duration(p.eta_s));
    if (p.resumed) s += tr(" · %1 from earlier sessions").arg(p.resumed);
    if (p.failed) s += tr(" · %1 failed").arg(p.failed);
    if (p.paused) s += tr(" · paused (calls under way finish)");
    status_->setText(s);
    status_->setToolTip(QString::fromStdString(p.last));
    if (runner_->finished()) {
        poll_->stop();
        auto o = runner_->wait();
        QString end = QString::fromStdString(eval::to_string(o.status));
        status_->setText(s + " · " + end + (o.message.empty() ? QString() : ": " + QString::fromStdString(o.message)));
        run_->setEnabled(true);
        run_->setText(o.status == eval::ExperimentStatus::Done ? tr("Run again") : tr("Resume run"));
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
    off_thread<eval::ExperimentResults>(
        this, [e, s] { return eval::compute_results(*e, *s); }, [this](eval::ExperimentResults& r) { showResults(r); });
}

void ExperimentWindow::showResults(const eval::ExperimentResults& r) {
    results_ = r;
    const bool pairwise = r.mode == "pairwise";
    QStringList head = pairwise ? QStringList{tr("Configuration"), tr("LC win rate"), tr("Win rate"), tr("± SE"), tr("$ / instance"),
                                              tr("TFLOPs / instance"), tr("Latency (s)"), tr("Tokens"), tr("Judged"), tr("Unreadable"),
                                              tr("Frontier")}
                                : QStringList{tr("Configuration"), tr("Score"), tr("± SE"), tr("$ / instance"), tr("TFLOPs / instance"),
                                              tr("Latency (s)"), tr("Tokens"), tr("Judged"), tr("Unreadable"), tr("Frontier")};
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
        if (pairwise) {
            table_->setItem(i, col++, c.lc_win_rate ? num_item(*c.lc_win_rate, 2) : new QTableWidgetItem(tr("n/a")));
            table_->setItem(i, col++, num_item(c.win.win_rate, 2));
            table_->setItem(i, col++, num_item(c.win.standard_error, 2));
        } else {
            table_->setItem(i, col++, c.score ? num_item(*c.score, 2) : new QTableWidgetItem(tr("n/a")));
            table_->setItem(i, col++, num_item(c.score_se.value_or(0), 2));
        }
        auto* cost = num_item(c.cost_per_instance, 5);
        if (!c.cost_complete) cost->setToolTip(tr("Some calls have no price in the catalog or the configuration"));
        table_->setItem(i, col++, cost);
        table_->setItem(i, col++, num_item(c.tflops_per_instance, 2));
        table_->setItem(i, col++, num_item(c.latency_ms / 1000.0, 2));
        table_->setItem(i, col++, num_item(c.tokens_per_instance, 0));
        table_->setItem(i, col++, num_item(c.judged, 0));
        table_->setItem(i, col++, num_item(c.unreadable, 0));
        bool front = std::find(r.frontier.begin(), r.frontier.end(), std::size_t(i)) != r.frontier.end();
        table_->setItem(i, col++, new QTableWidgetItem(front ? tr("yes") : QString()));
    }
    table_->setSortingEnabled(true);
    table_->resizeColumnsToContents();
    table_->horizontalHeader()->setStretchLastSection(true);
    table_->setToolTip(QString::fromStdString(r.lc_note));
    if (!running()) {
        int judged = 0, total = static_cast<int>(r.configs.size() * (experiment_ ? experiment_->prompts.items.size() : 0));
        for (const auto& c : r.configs) judged += c.judged;
        progress_->setRange(0, std::max(1, total));
        progress_->setValue(judged);
        if (status_->text().isEmpty() || !runner_)
            status_->setText(tr("%1 of %2 answers judged (stored). %3").arg(judged).arg(total).arg(QString::fromStdString(r.lc_note)));
    }

    instances_->clear();
    QStringList ih{tr("Prompt"), tr("Category"), tr("Configuration"), pairwise ? tr("Preference (2 = configuration wins)") : tr("Score"),
                   tr("Instruction")};
    instances_->setColumnCount(ih.size());
    instances_->setHorizontalHeaderLabels(ih);
    instances_->setRowCount(static_cast<int>(r.instances.size()));
    for (int i = 0; i < static_cast<int>(r.instances.size()); ++i) {
        const auto& in = r.instances[static_cast<std::size_t>(i)];
        instances_->setItem(i, 0, new QTableWidgetItem(QString::fromStdString(in.item_id)));
        instances_->setItem(i, 1, new QTableWidgetItem(QString::fromStdString(in.category)));
        instances_->setItem(i, 2, new QTableWidgetItem(QString::fromStdString(in.config)));
        auto v = pairwise ? in.preference : in.score;
        instances_->setItem(i, 3, v ? num_item(*v, 3) : new QTableWidgetItem(in.error.empty() ? tr("not judged") : tr("unreadable")));
        instances_->setItem(i, 4, new QTableWidgetItem(QString::fromStdString(in.instruction).left(160).replace('\n', ' ')));
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
    cost_chart_->setSpec(chart_spec(*results_, XAxis::Cost, log_x_->isChecked(), paper_->isChecked()));
    tflops_chart_->setSpec(chart_spec(*results_, XAxis::Tflops, false, paper_->isChecked()));
}

void ExperimentWindow::showInstance(int row) {
    if (!results_ || row < 0 || row >= static_cast<int>(results_->instances.size())) return instance_view_->clear();
    const auto& in = results_->instances[static_cast<std::size_t>(row)];
    auto esc = [](const std::string& s) { return QString::fromStdString(s).toHtmlEscaped().replace("\n", "<br>"); };
    QString verdict;
    if (in.preference) verdict = tr("Preference %1 (1 = reference better, 2 = configuration better)").arg(*in.preference, 0, 'f', 3);
    else if (in.score) verdict = tr("Score %1").arg(*in.score, 0, 'f', 2);
    else verdict = in.error.empty() ? tr("not judged yet") : esc(in.error);
    QString detail = in.detail.is_null() ? QString() : esc(in.detail.dump());
    instance_view_->setHtml(
        QString("<h3>%1 — %2</h3><p><b>%3</b></p><p>%4</p>"
                "<table width='100%' cellspacing='6'><tr><th align='left' width='50%'>%5</th><th align='left'>%6</th></tr>"
                "<tr><td valign='top'>%7</td><td valign='top'>%8</td></tr></table>"
                "<p><b>%9</b> <code>%10</code></p><p><small>%11</small></p>")
            .arg(esc(in.item_id), esc(in.config), verdict, esc(in.instruction), esc(in.config), tr("Reference"), esc(in.output),
                 esc(in.reference), tr("Judge's raw answer:"), esc(in.judge_raw), detail));
}

Result<std::string> ExperimentWindow::createSweep(const QString& base, const QString& kind, int max, const QString& models,
                                                  const QString& judge, const QString& reference, int sample, const QString& dir) {
    auto k = eval::sweep_kind_from_string(kind.toStdString());
    if (!k) return Error{"unknown sweep kind \"" + kind.toStdString() + "\""};
    auto r = config::load_config_file(base.toStdString());
    if (!r.config) {
        std::string all;
        for (const auto& i : r.issues) all += i.str() + "\n";
        return Error{all.empty() ? base.toStdString() + ": cannot load" : all};
    }
    eval::SweepOptions o;
    o.kind = *k;
    o.max = max;
    for (const auto& m : models.split(',', Qt::SkipEmptyParts)) o.models.push_back(m.trimmed().toStdString());
    auto variants = eval::make_sweep(*r.config, o);
    if (!variants) return Error{variants.error()};
    eval::SweepFiles f;
    f.dir = dir.toStdString();
    f.judge = judge.toStdString();
    f.reference_config = reference.toStdString();
    f.sample = static_cast<std::size_t>(sample);
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
    auto* max = new QSpinBox(&d);
    max->setRange(0, 12);
    max->setSpecialValueText(tr("as in the base"));
    auto* models = new QLineEdit(&d);
    models->setPlaceholderText(tr("aggregator models, comma-separated (provider/model or model)"));
    auto [judge_row, judge] = file_row({}, cfg_filter, false);
    auto [ref_row, ref] = file_row({}, cfg_filter, false);
    auto* sample = new QSpinBox(&d);
    sample->setRange(0, 100000);
    sample->setValue(30);
    sample->setSpecialValueText(tr("all prompts"));
    auto [dir_row, dir] = file_row(QDir::homePath() + "/moa-sweeps/" + QDateTime::currentDateTime().toString("yyyyMMdd-HHmmss"), {}, true);
    form->addRow(tr("Base configuration"), base_row);
    form->addRow(tr("Vary"), kind);
    form->addRow(tr("Up to"), max);
    form->addRow(tr("Models"), models);
    form->addRow(tr("Judge configuration"), judge_row);
    form->addRow(tr("Reference configuration"), ref_row);
    form->addRow(tr("Prompts (starter set)"), sample);
    form->addRow(tr("Write to folder"), dir_row);
    auto* error = new QLabel(&d);
    error->setWordWrap(true);
    error->setStyleSheet("color: #b00020");
    form->addRow(error);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, &d);
    buttons->button(QDialogButtonBox::Ok)->setText(tr("Create sweep"));
    form->addRow(buttons);
    connect(buttons, &QDialogButtonBox::rejected, &d, &QDialog::reject);
    // The line edits by value: clang before 16 cannot capture structured bindings.
    connect(buttons, &QDialogButtonBox::accepted, &d, [&, base = base, judge = judge, ref = ref, dir = dir] {
        auto r = createSweep(base->text(), kind->currentData().toString(), max->value(), models->text(), judge->text(), ref->text(),
                             sample->value(), dir->text());
        if (r) d.accept();
        else error->setText(QString::fromStdString(r.error()));
    });
    d.exec();
}

void ExperimentWindow::exportChart() {
    if (!results_) return;
    auto f = QFileDialog::getSaveFileName(this, tr("Export chart"), {}, tr("PNG image (*.png);;SVG image (*.svg);;CSV table (*.csv)"));
    if (f.isEmpty()) return;
    ResultChart c;
    c.setSpec(cost_chart_->spec());
    if (auto err = c.save(f)) status_->setText(tr("Could not export: %1").arg(*err));
    else status_->setText(tr("Exported %1").arg(f));
}

} // namespace moa::ui
