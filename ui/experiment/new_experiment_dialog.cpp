// SPDX-License-Identifier: MIT
#include "experiment/new_experiment_dialog.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPushButton>
#include <QSettings>
#include <QSpinBox>
#include <QVBoxLayout>

#include <algorithm>
#include <fstream>
#include <set>

#include "common/folders.h"
#include "eval/experiment_draft.h"
#include "eval/prompt_set.h"
#include "util/resources.h"

namespace moa::ui {

namespace {
constexpr int kSource = Qt::UserRole;

QString slug(const QString& name) {
    QString s;
    for (QChar c : name.toLower()) s += c.isLetterOrNumber() ? c : QChar('-');
    while (s.contains("--")) s.replace("--", "-");
    s = s.mid(s.startsWith('-') ? 1 : 0);
    if (s.endsWith('-')) s.chop(1);
    return s.isEmpty() ? QStringLiteral("experiment") : s;
}

bool is_judge(const config::Config& c) { return c.layers.size() == 1 && c.layers[0].agents.size() == 1; }

// Every configuration the user might mean: presets, the open document, recent files.
struct Candidate {
    QString label, source;
    bool judge = false;
};
std::vector<Candidate> candidates(const OpenDocument& doc) {
    std::vector<Candidate> out;
    if (!doc.path.isEmpty() && !doc.unsaved) out.push_back({QObject::tr("Open document: %1").arg(QFileInfo(doc.path).fileName()), doc.path});
    for (const auto& n : resources::preset_names()) {
        if (n == eval::kDemoJudge) continue; // offered as a judge only
        auto r = config::load_config_file(resources::preset_path(n));
        out.push_back({QObject::tr("Preset: %1").arg(QString::fromStdString(n)), QString::fromStdString(n), r.config && is_judge(*r.config)});
    }
    for (const auto& f : QSettings().value("recentFiles").toStringList()) {
        if (f == doc.path || !QFileInfo::exists(f)) continue;
        auto r = config::load_config_file(f.toStdString());
        out.push_back({QObject::tr("Recent: %1").arg(QFileInfo(f).fileName()), f, r.config && is_judge(*r.config)});
    }
    return out;
}

// The starter set's entry, counted from the set itself (the label said 40 prompts of its 42).
QString starterSetLabel() {
    auto set = eval::load_starter_set();
    if (!set) return QObject::tr("Starter set (built in)");
    std::set<std::string> categories;
    for (const auto& item : set->items) categories.insert(item.category);
    return QObject::tr("Starter set (%1 prompts in %2 categories, built in)").arg(set->items.size()).arg(categories.size());
}
} // namespace

QComboBox* make_judge_combo(QWidget* parent) {
    auto* c = new QComboBox(parent);
    c->setEditable(true);
    c->setInsertPolicy(QComboBox::NoInsert);
    c->addItem(QObject::tr("Offline demo judge — not a real judge: it counts key words and sentences"), QString(eval::kDemoJudge));
    c->setItemData(0, QObject::tr("A built-in stand-in with deterministic, labelled verdicts: try the flow without keys or network. "
                                  "Its results say nothing about answer quality."), Qt::ToolTipRole);
    for (const auto& k : candidates({}))
        if (k.judge) c->addItem(k.label, k.source);
    c->setCurrentIndex(-1);
    c->setCurrentText(QString());
    c->lineEdit()->setPlaceholderText(QObject::tr("a one-agent configuration: choose one, or type a file or preset name"));
    c->setAccessibleName(QObject::tr("Judge"));
    c->setToolTip(QObject::tr("The judge is a configuration with one layer and one agent: the model that grades the answers"));
    return c;
}

QString combo_source(const QComboBox* c) {
    const int i = c->currentIndex();
    if (i >= 0 && c->itemText(i) == c->currentText()) return c->itemData(i).toString();
    return c->currentText().trimmed();
}

NewExperimentDialog::NewExperimentDialog(const OpenDocument& doc, QWidget* parent) : QDialog(parent), doc_(doc) {
    setWindowTitle(tr("New experiment"));
    setObjectName("newExperimentDialog");
    auto* form = new QFormLayout(this);
    name_ = new QLineEdit(tr("My experiment"), this);
    name_->setAccessibleName(tr("Name"));
    form->addRow(tr("&Name"), name_);

    auto* cbox = new QWidget(this);
    auto* cv = new QVBoxLayout(cbox);
    cv->setContentsMargins(0, 0, 0, 0);
    configs_ = new QListWidget(cbox);
    configs_->setAccessibleName(tr("Configurations to evaluate"));
    configs_->setToolTip(tr("Tick the configurations to compare; each answers every prompt"));
    if (doc.unsaved)
        addConfiguration(tr("Open document (unsaved): %1").arg(QString::fromStdString(doc.unsaved->name)), QStringLiteral("document:"), false);
    for (const auto& k : candidates(doc)) addConfiguration(k.label, k.source, false);
    auto* add = new QPushButton(tr("Add a file…"), cbox);
    connect(add, &QPushButton::clicked, this, [this] {
        const QString f = QFileDialog::getOpenFileName(this, tr("Add a configuration"), start_folder(), tr("MoA configurations (*.moa.json *.json)"));
        if (f.isEmpty()) return;
        addConfiguration(QFileInfo(f).fileName(), f, true);
    });
    cv->addWidget(configs_);
    cv->addWidget(add, 0, Qt::AlignLeft);
    form->addRow(tr("&Configurations"), cbox);

    auto* prow = new QWidget(this);
    auto* ph = new QHBoxLayout(prow);
    ph->setContentsMargins(0, 0, 0, 0);
    prompts_ = new QComboBox(prow);
    prompts_->setAccessibleName(tr("Prompt set"));
    prompts_->addItem(starterSetLabel(), QStringLiteral("starter"));
    auto* pfile = new QPushButton(tr("Prompt file…"), prow);
    pfile->setToolTip(tr("AlpacaEval, MT-Bench, FLASK, JSONL or CSV"));
    connect(pfile, &QPushButton::clicked, this, [this] {
        const QString f = QFileDialog::getOpenFileName(this, tr("Prompt set"), start_folder("prompts"), tr("Prompt sets (*.json *.jsonl *.csv)"));
        if (f.isEmpty()) return;
        remember_folder(f, "prompts");
        prompts_->addItem(QFileInfo(f).fileName(), f);
        prompts_->setCurrentIndex(prompts_->count() - 1);
    });
    sample_ = new QSpinBox(prow);
    sample_->setAccessibleName(tr("Prompts to use"));
    sample_->setRange(0, 100000);
    sample_->setValue(5);
    sample_->setSpecialValueText(tr("all"));
    sample_->setToolTip(tr("A random sample of this many prompts (the same sample every time); 0 = all of them"));
    ph->addWidget(prompts_, 1);
    ph->addWidget(pfile);
    ph->addWidget(new QLabel(tr("use"), prow));
    ph->addWidget(sample_);
    form->addRow(tr("&Prompts"), prow);

    mode_ = new QComboBox(this);
    mode_->setAccessibleName(tr("Grading"));
    mode_->addItem(tr("Pairwise: the judge compares each answer with the reference's (win rate)"), QStringLiteral("pairwise"));
    mode_->addItem(tr("Single: the judge grades each answer from 1 to 10"), QStringLiteral("single"));
    form->addRow(tr("&Grading"), mode_);

    judge_ = make_judge_combo(this);
    judge_->setObjectName("judge");
    form->addRow(tr("&Judge"), judge_);

    reference_ = new QComboBox(this);
    reference_->setObjectName("reference");
    reference_->setEditable(true);
    reference_->setInsertPolicy(QComboBox::NoInsert);
    reference_->setAccessibleName(tr("Reference"));
    reference_->setToolTip(tr("Pairwise grading compares each answer with this configuration's answer to the same prompt"));
    for (int i = 0; i < configs_->count(); ++i)
        if (configs_->item(i)->data(kSource).toString() != "document:")
            reference_->addItem(configs_->item(i)->text(), configs_->item(i)->data(kSource));
    reference_->setCurrentIndex(-1);
    reference_->lineEdit()->setPlaceholderText(tr("the configuration every answer is compared with"));
    form->addRow(tr("&Reference"), reference_);
    connect(mode_, &QComboBox::currentIndexChanged, this, [this] { reference_->setEnabled(mode_->currentData() == "pairwise"); });

    // AlpacaEval's regularisation of LC: its extra calls and their estimated cost are shown here,
    // before anything is written or run.
    if (auto c = accounting::Catalog::load_file(resources::catalog_path())) catalog_ = std::move(*c);
    auto* lrow = new QWidget(this);
    auto* lv = new QVBoxLayout(lrow);
    lv->setContentsMargins(0, 0, 0, 0);
    lc_variants_ = new QCheckBox(tr("Regularise LC with baseline variants (AlpacaEval's method)"), lrow);
    lc_variants_->setObjectName("lcVariants");
    lc_variants_->setToolTip(tr("Asks the reference for a concise and a verbose answer to each prompt and has the judge compare each "
                                "with the reference's answer: 2 answers + 2 judge calls per prompt. Their verdicts tie LC's length term "
                                "to what length alone does to the judge; without them the table says \"LC (unregularised)\""));
    lc_cost_ = new QLabel(lrow);
    lc_cost_->setObjectName("lcVariantsCost");
    lc_cost_->setWordWrap(true);
    lc_cost_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    lv->addWidget(lc_variants_);
    lv->addWidget(lc_cost_);
    form->addRow(tr("&LC"), lrow);
    connect(lc_variants_, &QCheckBox::toggled, this, &NewExperimentDialog::updateLcVariants);
    connect(mode_, &QComboBox::currentIndexChanged, this, &NewExperimentDialog::updateLcVariants);
    connect(reference_, &QComboBox::currentTextChanged, this, &NewExperimentDialog::updateLcVariants);
    connect(judge_, &QComboBox::currentTextChanged, this, &NewExperimentDialog::updateLcVariants);
    connect(prompts_, &QComboBox::currentIndexChanged, this, &NewExperimentDialog::updateLcVariants);
    connect(sample_, &QSpinBox::valueChanged, this, &NewExperimentDialog::updateLcVariants);

    auto* frow = new QWidget(this);
    auto* fh = new QHBoxLayout(frow);
    fh->setContentsMargins(0, 0, 0, 0);
    file_ = new QLineEdit(this);
    file_->setAccessibleName(tr("Experiment file"));
    file_->setText(start_path(slug(name_->text()) + ".moa-experiment.json", "experiments"));
    connect(name_, &QLineEdit::textEdited, this, [this](const QString& n) {
        file_->setText(QFileInfo(file_->text()).absoluteDir().filePath(slug(n) + ".moa-experiment.json"));
    });
    auto* browse = new QPushButton(tr("Browse…"), frow);
    connect(browse, &QPushButton::clicked, this, [this] {
        const QString f = QFileDialog::getSaveFileName(this, tr("Save the experiment as"), file_->text(), tr("Experiments (*.moa-experiment.json)"));
        if (!f.isEmpty()) file_->setText(f);
    });
    fh->addWidget(file_, 1);
    fh->addWidget(browse);
    form->addRow(tr("&Save as"), frow);

    error_ = new QLabel(this);
    error_->setObjectName("errors");
    error_->setWordWrap(true);
    error_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    error_->setStyleSheet("color: #b00020");
    form->addRow(error_);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Cancel, this);
    create_ = buttons->addButton(tr("Create experiment"), QDialogButtonBox::AcceptRole);
    create_->setDefault(true);
    form->addRow(buttons);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(create_, &QPushButton::clicked, this, &NewExperimentDialog::create);
    resize(720, 660);
    updateLcVariants();
}

QString NewExperimentDialog::lcVariantsText() const { return lc_cost_->text(); }

void NewExperimentDialog::updateLcVariants() {
    const bool pairwise = mode_->currentData() == "pairwise";
    lc_variants_->setEnabled(pairwise);
    if (!pairwise) {
        lc_cost_->setText(tr("Not available: baseline variants regularise the LC of pairwise grading against a reference model."));
        return;
    }
    if (!lc_variants_->isChecked()) {
        lc_cost_->setText(tr("Off: LC is fitted without them and labelled \"LC (unregularised)\"."));
        return;
    }
    eval::ExperimentDraft d;
    d.prompts = prompts_->currentData().toString().toStdString();
    d.sample = static_cast<std::size_t>(sample_->value());
    d.judge = combo_source(judge_).toStdString();
    d.reference = combo_source(reference_).toStdString();
    auto plan = eval::plan_draft_lc_variants(d, catalog_);
    if (!plan) {
        lc_cost_->setText(tr("The extra cost is shown once the judge, the reference and the prompts are chosen (%1)")
                              .arg(QString::fromStdString(plan.error())));
        return;
    }
    lc_cost_->setText(tr("Adds %1 before the results: the reference answers each prompt twice more and the judge compares "
                         "both answers with the reference's.")
                          .arg(QString::fromStdString(eval::describe(*plan))));
}

void NewExperimentDialog::addConfiguration(const QString& label, const QString& source, bool checked) {
    auto* it = new QListWidgetItem(label, configs_);
    it->setData(kSource, source);
    it->setToolTip(source == "document:" ? tr("Written next to the experiment when you create it") : source);
    it->setFlags(it->flags() | Qt::ItemIsUserCheckable);
    it->setCheckState(checked ? Qt::Checked : Qt::Unchecked);
}

bool NewExperimentDialog::checkConfiguration(const QString& source, bool on) {
    for (int i = 0; i < configs_->count(); ++i)
        if (configs_->item(i)->data(kSource).toString() == source) {
            configs_->item(i)->setCheckState(on ? Qt::Checked : Qt::Unchecked);
            return true;
        }
    return false;
}

QString NewExperimentDialog::errorText() const { return error_->text(); }

void NewExperimentDialog::create() {
    error_->clear();
    eval::ExperimentDraft d;
    d.name = name_->text().trimmed().toStdString();
    d.prompts = prompts_->currentData().toString().toStdString();
    d.sample = static_cast<std::size_t>(sample_->value());
    d.judge_mode = mode_->currentData().toString().toStdString();
    d.judge = combo_source(judge_).toStdString();
    if (d.judge_mode == "pairwise") d.reference = combo_source(reference_).toStdString();
    d.lc_variants = d.judge_mode == "pairwise" && lc_variants_->isChecked();
    const QString file = file_->text().trimmed();
    bool with_document = false;
    for (int i = 0; i < configs_->count(); ++i)
        if (configs_->item(i)->checkState() == Qt::Checked) {
            const QString s = configs_->item(i)->data(kSource).toString();
            if (s == "document:") with_document = true;
            else d.configurations.push_back(s.toStdString());
        }
    // The unsaved document is checked as it is, and written only when everything else is right.
    std::vector<eval::DraftIssue> issues;
    QString doc_file;
    if (with_document && doc_.unsaved) {
        doc_file = QFileInfo(file).absoluteDir().filePath(QFileInfo(file).completeBaseName().section('.', 0, 0) + "-document.moa.json");
        auto check = config::load_config_text(config::to_json(*doc_.unsaved).dump(2), doc_file.toStdString());
        if (!check.ok()) issues.push_back({"Configurations", "the open document has errors: " + check.summary()});
    }
    auto more = eval::check_draft(d);
    if (d.configurations.empty() && with_document)
        more.erase(std::remove_if(more.begin(), more.end(), [](const auto& i) { return i.field == "Configurations"; }), more.end());
    issues.insert(issues.end(), more.begin(), more.end());
    if (file.isEmpty()) issues.push_back({"Save as", "choose where to write the experiment"});
    if (!issues.empty()) {
        QStringList lines;
        for (const auto& i : issues) lines << QString::fromStdString(i.field + ": " + i.message);
        error_->setText(lines.join('\n'));
        return;
    }
    if (with_document && doc_.unsaved) {
        QDir().mkpath(QFileInfo(doc_file).absolutePath());
        std::ofstream out(doc_file.toStdString(), std::ios::binary | std::ios::trunc);
        out << config::to_json(*doc_.unsaved).dump(2) << "\n";
        out.flush();
        if (!out) {
            error_->setText(tr("Configurations: cannot write the open document to %1").arg(doc_file));
            return;
        }
        d.configurations.insert(d.configurations.begin(), doc_file.toStdString());
    }
    auto w = eval::write_draft(d, file.toStdString());
    if (!w) {
        if (!doc_file.isEmpty()) QFile::remove(doc_file);
        error_->setText(QString::fromStdString(w.error()));
        return;
    }
    remember_folder(file, "experiments");
    path_ = QString::fromStdString(*w);
    accept();
}

} // namespace moa::ui
