// SPDX-License-Identifier: MIT
#include "run/diff_view.h"

#include "run/bidi_marks.h"

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

#include "common/money.h"
#include "engine/run_outcome.h"
#include "engine/run_provenance.h"
#include "eval/sentence_diff.h"
#include "run/provenance_text.h"
#include "run/run_view.h"

namespace moa::ui {

namespace {
// One side of the sentence diff as HTML: sentences only on this side marked (struck through in
// red on the left, green on the right), moved sentences in violet with a "moved" mark, and the
// words a paired sentence changed marked like the unpaired ones. Translucent marks read on light
// and dark palettes alike.
QString html_of(const std::string& text, const std::vector<eval::SentenceDiffPiece>& pieces, bool left) {
    using K = eval::SentenceDiffPiece::Kind;
    const QString only = left ? "background-color: rgba(220,60,60,0.35); text-decoration: line-through"
                              : "background-color: rgba(40,170,80,0.35)";
    const QString word = left ? "background-color: rgba(220,60,60,0.55); text-decoration: line-through"
                              : "background-color: rgba(40,170,80,0.55)";
    // Untrusted answers can be megabytes: only about the first DiffView::kShownChars of each side
    // are laid out (the summary covers everything).
    std::size_t cut = std::min<std::size_t>(text.size(), static_cast<std::size_t>(DiffView::kShownChars));
    while (cut < text.size() && cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut; // a whole character
    auto esc = [&text, cut](std::size_t from, std::size_t to) {
        to = std::min(to, cut);
        return from >= to ? QString() : bidi::htmlEscaped(QString::fromStdString(text.substr(from, to - from)));
    };
    QString out = "<div style='white-space: pre-wrap'>";
    std::size_t at = 0;
    for (const auto& p : pieces) {
        if (p.span.begin >= cut) break;
        out += esc(at, p.span.begin);
        at = p.span.begin;
        if (p.kind == K::Only) out += "<span class='only' style='" + only + "'>";
        else if (p.kind == K::Moved)
            out += QStringLiteral("<span class='moved' style='background-color: rgba(130,90,220,0.30)' title='%1'>⇅ ")
                       .arg(QObject::tr("moved: sentence %1 of the other answer").arg(p.partner + 1));
        for (const auto& w : p.changed_words) {
            out += esc(at, w.begin) + "<span class='changed' style='" + word + "'>" + esc(w.begin, w.end) + "</span>";
            at = w.end;
        }
        out += esc(at, p.span.end);
        at = p.span.end;
        if (p.kind != K::Same) out += "</span>";
    }
    out += esc(at, text.size());
    out += "</div>";
    if (cut < text.size())
        out += "<p style='color: gray'><i>" +
               QObject::tr("… and %1 more characters, not shown: the texts are too long to lay out here responsively. "
                           "The percentages above cover all of them.")
                   .arg(QString::fromStdString(text.substr(cut)).size())
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
    left_ = plain_browser(tr("Left answer, sentences and words only here struck through, moved ones marked"));
    right_ = plain_browser(tr("Right answer, sentences and words only here highlighted, moved ones marked"));
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

void DiffView::setTexts(const QString& title_a, const QString& a, const QString& title_b, const QString& b, bool demo_a,
                        bool demo_b) {
    title_a_->setText("<b>" + title_a.toHtmlEscaped() + "</b>");
    title_b_->setText("<b>" + title_b.toHtmlEscaped() + "</b>");
    summary_->setText(tr("Comparing…"));
    b_from_a_.reset();
    a_from_b_.reset();
    counts_ = {};
    const int gen = ++generation_;
    QPointer<DiffView> self(this);
    std::thread([self, gen, a = a.toStdString(), b = b.toStdString(), demo_a, demo_b] {
        // The measure reads the answers as the run's provenance does (the demo's label blanked,
        // same length), so its numbers are the graph's and the panes'.
        const std::string ma = engine::measured_text(a, demo_a), mb = engine::measured_text(b, demo_b);
        const auto d = eval::diff_sentences(ma, mb);
        const auto b_from_a = eval::share_from(mb, ma), a_from_b = eval::share_from(ma, mb);
        const QString l = html_of(a, d.a, true), r = html_of(b, d.b, false);
        auto share = [](const std::optional<double>& s, const QString& x, const QString& y) {
            return s ? comes_from_text(*s, x, y) : QObject::tr("%1 has no words").arg(x);
        };
        const QString sum =
            QObject::tr("%1; %2. Sentence diff, then a word diff inside paired sentences: %3 moved (⇅), %4 only on the left "
                        "(struck through), %5 only on the right (highlighted), %6 reworded.")
                .arg(share(b_from_a, QObject::tr("the right answer"), QObject::tr("the left one")),
                     share(a_from_b, QObject::tr("the left answer"), QObject::tr("the right one")))
                .arg(d.moved)
                .arg(d.deleted)
                .arg(d.added)
                .arg(d.changed);
        const Counts counts{d.moved, d.deleted, d.added, d.changed};
        QMetaObject::invokeMethod(qApp, [self, gen, l, r, sum, b_from_a, a_from_b, counts] {
            if (!self || gen != self->generation_) return;
            self->left_->setHtml(l);
            self->right_->setHtml(r);
            self->summary_->setText(sum);
            self->summary_->setToolTip(measure_explanation());
            self->b_from_a_ = b_from_a;
            self->a_from_b_ = a_from_b;
            self->counts_ = counts;
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
    auto demo = [this](QComboBox* c) {
        const QPoint k = c->currentData().toPoint();
        return record_.layers[static_cast<std::size_t>(k.x())].agents[static_cast<std::size_t>(k.y())].demo;
    };
    if (left_->count() == 0) return;
    view_->setTexts(left_->currentText(), text(left_), right_->currentText(), text(right_), demo(left_), demo(right_));
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
    // Unknown is said, never "$0"; part known is a lower bound (as the run view says them).
    row(tr("Cost"), cost_text(a.totals.cost_complete, a.totals.cost_usd), cost_text(b.totals.cost_complete, b.totals.cost_usd));
    auto tflops = [](const engine::Totals& t) {
        using K = engine::Known;
        const K k = engine::known(t.tflops_complete, t.tflops);
        return k == K::None ? tr("unknown") : (k == K::Some ? tr("≥ ") : QString()) + QString::number(t.tflops, 'f', 2);
    };
    row(tr("TFLOPs (critical path)"), tflops(a.totals), tflops(b.totals));
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
    auto final_demo = [](const engine::RunRecord& r) { return !r.layers.empty() && !r.layers.back().agents.empty() && r.layers.back().agents.front().demo; };
    view_->setTexts(tr("Final answer of %1").arg(title_a), QString::fromStdString(a.final_text.value_or("")),
                    tr("Final answer of %1").arg(title_b), QString::fromStdString(b.final_text.value_or("")), final_demo(a), final_demo(b));
    resize(1100, 720);
}

} // namespace moa::ui
