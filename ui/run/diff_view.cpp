// SPDX-License-Identifier: MIT
#include "run/diff_view.h"

#include <QApplication>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QGridLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPointer>
#include <QScrollBar>
#include <QSplitter>
#include <QTableWidget>
#include <QTextBrowser>
#include <QVBoxLayout>

#include <algorithm>
#include <thread>

#include "engine/run_outcome.h"
#include "eval/overlap.h"
#include "run/run_view.h"

namespace moa::ui {

namespace {
QString html_of(const eval::TextDiff& d, bool left) {
    using Op = eval::DiffPiece::Op;
    // Translucent marks read on light and dark palettes alike.
    QString out = "<div style='white-space: pre-wrap'>";
    // Untrusted answers can be megabytes: only the first DiffView::kShownChars characters of each
    // side are laid out (the percentages cover everything).
    qsizetype shown = 0, hidden = 0;
    for (const auto& p : d.pieces) {
        if ((left && p.op == Op::Insert) || (!left && p.op == Op::Delete)) continue;
        QString raw = QString::fromStdString(p.text);
        if (shown + raw.size() > DiffView::kShownChars) {
            qsizetype keep = std::max<qsizetype>(0, DiffView::kShownChars - shown);
            if (keep > 0 && keep < raw.size() && raw.at(keep - 1).isHighSurrogate()) --keep;
            hidden += raw.size() - keep;
            raw.truncate(keep);
        }
        shown += raw.size();
        if (raw.isEmpty()) continue;
        const QString t = raw.toHtmlEscaped();
        if (p.op == Op::Equal) out += t;
        else if (left && p.op == Op::Delete)
            out += "<span style='background-color: rgba(220,60,60,0.35); text-decoration: line-through'>" + t + "</span>";
        else if (!left && p.op == Op::Insert)
            out += "<span style='background-color: rgba(40,170,80,0.35)'>" + t + "</span>";
    }
    out += "</div>";
    if (hidden > 0)
        out += "<p style='color: gray'><i>" +
               QObject::tr("… and %1 more characters, not shown: the texts are too long to lay out here responsively. "
                           "The percentages above cover all of them.")
                   .arg(hidden)
                   .toHtmlEscaped() +
               "</i></p>";
    return out;
}

QTextBrowser* plain_browser(const QString& name) {
    auto* b = new QTextBrowser;
    b->setOpenLinks(false);
    b->setOpenExternalLinks(false);
    b->setAccessibleName(name);
    return b;
}
} // namespace

DiffView::DiffView(QWidget* parent) : QWidget(parent) {
    auto* g = new QGridLayout(this);
    title_a_ = new QLabel;
    title_b_ = new QLabel;
    summary_ = new QLabel;
    summary_->setWordWrap(true);
    summary_->setAccessibleName(tr("Diff summary"));
    left_ = plain_browser(tr("Left answer, words only here struck through"));
    right_ = plain_browser(tr("Right answer, words only here highlighted"));
    g->addWidget(summary_, 0, 0, 1, 2);
    g->addWidget(title_a_, 1, 0);
    g->addWidget(title_b_, 1, 1);
    g->addWidget(left_, 2, 0);
    g->addWidget(right_, 2, 1);
    g->setRowStretch(2, 1);
    // Scroll together (proportionally: the two texts differ in length).
    auto sync = [](QScrollBar* from, QScrollBar* to) {
        connect(from, &QScrollBar::valueChanged, to, [from, to](int v) {
            if (from->maximum() > 0) to->setValue(static_cast<int>(static_cast<double>(v) / from->maximum() * to->maximum()));
        });
    };
    sync(left_->verticalScrollBar(), right_->verticalScrollBar());
}

void DiffView::setTexts(const QString& title_a, const QString& a, const QString& title_b, const QString& b) {
    title_a_->setText("<b>" + title_a.toHtmlEscaped() + "</b>");
    title_b_->setText("<b>" + title_b.toHtmlEscaped() + "</b>");
    summary_->setText(tr("Comparing…"));
    const int gen = ++generation_;
    QPointer<DiffView> self(this);
    std::thread([self, gen, a = a.toStdString(), b = b.toStdString()] {
        auto d = eval::diff_texts(a, b);
        const QString l = html_of(d, true), r = html_of(d, false);
        const QString how = d.granularity == eval::TextDiff::Granularity::Words
                                ? QObject::tr("word diff (longest common subsequence)")
                            : d.granularity == eval::TextDiff::Granularity::Lines
                                ? QObject::tr("line diff (the texts differ too much for a word diff)")
                                : QObject::tr("too different to align");
        const QString sum = QObject::tr("%1: %2% of the left text is kept in the right; %3% of the right text comes from the left.")
                                .arg(how)
                                .arg(d.shared_a * 100, 0, 'f', 0)
                                .arg(d.shared_b * 100, 0, 'f', 0);
        QMetaObject::invokeMethod(qApp, [self, gen, l, r, sum] {
            if (!self || gen != self->generation_) return;
            self->left_->setHtml(l);
            self->right_->setHtml(r);
            self->summary_->setText(sum);
            emit self->ready();
        }, Qt::QueuedConnection);
    }).detach();
}

QString DiffView::summary() const { return summary_->text(); }
QString DiffView::leftHtml() const { return left_->toHtml(); }
QString DiffView::rightHtml() const { return right_->toHtml(); }

namespace {
QString answer_title(const engine::AgentRecord& a, std::size_t layers) {
    const bool last = static_cast<std::size_t>(a.layer) + 1 == layers;
    return QObject::tr("%1 L%2.%3 · %4").arg(last ? QObject::tr("Final") : QObject::tr("Answer"))
        .arg(a.layer + 1).arg(a.index + 1).arg(QString::fromStdString(a.model));
}
} // namespace

AnswersDiffDialog::AnswersDiffDialog(const engine::RunRecord& r, QWidget* parent) : QDialog(parent), record_(r) {
    setWindowTitle(tr("Compare two answers"));
    auto* v = new QVBoxLayout(this);
    auto* row = new QHBoxLayout;
    left_ = new QComboBox;
    right_ = new QComboBox;
    left_->setAccessibleName(tr("Left answer"));
    right_->setAccessibleName(tr("Right answer"));
    for (const auto& L : r.layers)
        for (const auto& a : L.agents) {
            if (a.text.empty()) continue;
            const QVariant key = QVariant::fromValue(QPoint(a.layer, a.index));
            left_->addItem(answer_title(a, r.layers.size()), key);
            right_->addItem(answer_title(a, r.layers.size()), key);
        }
    row->addWidget(new QLabel(tr("Left")));
    row->addWidget(left_, 1);
    row->addWidget(new QLabel(tr("Right")));
    row->addWidget(right_, 1);
    v->addLayout(row);
    view_ = new DiffView;
    v->addWidget(view_, 1);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    v->addWidget(buttons);
    // Default: the first proposer against the final answer.
    if (left_->count() > 0) left_->setCurrentIndex(0);
    if (right_->count() > 0) right_->setCurrentIndex(right_->count() - 1);
    connect(left_, &QComboBox::currentIndexChanged, this, &AnswersDiffDialog::update);
    connect(right_, &QComboBox::currentIndexChanged, this, &AnswersDiffDialog::update);
    resize(1000, 600);
    update();
}

void AnswersDiffDialog::update() {
    auto text = [this](QComboBox* c) {
        const QPoint k = c->currentData().toPoint();
        const auto& L = record_.layers[static_cast<std::size_t>(k.x())];
        return QString::fromStdString(L.agents[static_cast<std::size_t>(k.y())].text);
    };
    if (left_->count() == 0) return;
    view_->setTexts(left_->currentText(), text(left_), right_->currentText(), text(right_));
}

RunsCompareDialog::RunsCompareDialog(const QString& title_a, const engine::RunRecord& a, const QString& title_b,
                                     const engine::RunRecord& b, QWidget* parent)
    : QDialog(parent) {
    setWindowTitle(tr("Compare runs: %1 and %2").arg(title_a, title_b));
    auto* v = new QVBoxLayout(this);
    table_ = new QTableWidget(0, 3);
    table_->setAccessibleName(tr("The two runs' figures"));
    table_->setHorizontalHeaderLabels({tr(""), title_a, title_b});
    table_->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
    table_->verticalHeader()->hide();
    table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    auto row = [this](const QString& what, const QString& x, const QString& y) {
        int r = table_->rowCount();
        table_->insertRow(r);
        table_->setItem(r, 0, new QTableWidgetItem(what));
        table_->setItem(r, 1, new QTableWidgetItem(x));
        table_->setItem(r, 2, new QTableWidgetItem(y));
    };
    auto agents = [](const engine::RunRecord& r) {
        QStringList s;
        for (const auto& L : r.layers) s << QString::number(L.agents.size());
        return s.join(" → ");
    };
    row(tr("Configuration"), QString::fromStdString(a.config_name), QString::fromStdString(b.config_name));
    row(tr("Agents per layer"), agents(a), agents(b));
    row(tr("Prompt"), QString::fromStdString(a.input.last_user_text()).left(200), QString::fromStdString(b.input.last_user_text()).left(200));
    row(tr("Status"), QString::fromStdString(engine::outcome_text(a)), QString::fromStdString(engine::outcome_text(b))); // "done — 1 of 3 dropped"
    row(tr("Cost"), format_money(a.totals.cost_usd), format_money(b.totals.cost_usd));
    row(tr("TFLOPs"), QString::number(a.totals.tflops, 'f', 2), QString::number(b.totals.tflops, 'f', 2));
    row(tr("Wall time"), tr("%1 s").arg(a.totals.wall_ms / 1000, 0, 'f', 2), tr("%1 s").arg(b.totals.wall_ms / 1000, 0, 'f', 2));
    row(tr("Critical path"), tr("%1 s").arg(a.totals.critical_path_ms / 1000, 0, 'f', 2),
        tr("%1 s").arg(b.totals.critical_path_ms / 1000, 0, 'f', 2));
    row(tr("Tokens (prompt + completion)"), tr("%1 + %2").arg(a.totals.prompt_tokens).arg(a.totals.completion_tokens),
        tr("%1 + %2").arg(b.totals.prompt_tokens).arg(b.totals.completion_tokens));
    row(tr("Final answer length"), tr("%1 characters").arg(QString::fromStdString(a.final_text.value_or("")).size()),
        tr("%1 characters").arg(QString::fromStdString(b.final_text.value_or("")).size()));
    table_->resizeRowsToContents();
    auto* split = new QSplitter(Qt::Vertical);
    split->addWidget(table_);
    view_ = new DiffView;
    split->addWidget(view_);
    split->setStretchFactor(1, 1);
    v->addWidget(split, 1);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    v->addWidget(buttons);
    view_->setTexts(tr("Final answer of %1").arg(title_a), QString::fromStdString(a.final_text.value_or("")),
                    tr("Final answer of %1").arg(title_b), QString::fromStdString(b.final_text.value_or("")));
    resize(1100, 720);
}

} // namespace moa::ui
