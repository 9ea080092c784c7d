// SPDX-License-Identifier: MIT
#include "model/prompt_panel.h"

#include <algorithm>

#include <QEvent>
#include <QFocusEvent>
#include <QHBoxLayout>
#include <QKeyEvent>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QVBoxLayout>

#include "accounting/estimate.h"
#include "common/keyboard.h"
#include "common/money.h"
#include "engine/run_outcome.h"
#include "model/config_document.h"
#include "run/run_view.h"

namespace moa::ui {

namespace {
constexpr int kFullPromptHeight = 90;
}

PromptPanel::PromptPanel(ConfigDocument* doc, const accounting::Catalog& catalog, QWidget* parent)
    : QWidget(parent), doc_(doc), catalog_(catalog) {
    auto* pv = new QVBoxLayout(this);
    pv->setContentsMargins(0, 0, 0, 0);
    system_ = new QLineEdit;
    system_->setPlaceholderText(tr("Optional system prompt for every agent"));
    system_->setAccessibleName(tr("System prompt"));
    pv->addWidget(system_);
    auto* prow = new QHBoxLayout;
    prompt_ = new QPlainTextEdit;
    prompt_->setPlaceholderText(tr("Your prompt — Ctrl+Enter runs, Esc cancels"));
    prompt_->setAccessibleName(tr("Prompt"));
    prompt_->setMaximumHeight(kFullPromptHeight);
    prompt_->installEventFilter(this); // compact: a click, Tab or typing asks for the full panel
    prompt_->viewport()->installEventFilter(this);
    tab_moves_focus(prompt_); // Tab and Ctrl+Tab leave the prompt; a tab character is rarely meant here
    prow->addWidget(prompt_, 1);
    auto* buttons = buttons_ = new QVBoxLayout;
    run_ = new QPushButton(tr("Run"));
    run_->setAccessibleName(tr("Run"));
    run_->setToolTip(tr("Run the prompt through every layer (Ctrl+Enter, anywhere in the window)"));
    cancel_ = new QPushButton(tr("Cancel"));
    cancel_->setEnabled(false);
    compare_ = new QPushButton(tr("Compare answers…"));
    compare_->setAccessibleName(tr("Compare two answers of this run side by side"));
    compare_->setToolTip(tr("A side-by-side diff of any two answers of the run shown (the refinement view)"));
    compare_->setEnabled(false);
    buttons->addWidget(run_);
    buttons->addWidget(cancel_);
    buttons->addWidget(compare_);
    prow->addLayout(buttons);
    pv->addLayout(prow);
    estimate_ = new ElidedLabel({});
    estimate_->setObjectName("estimate");
    estimate_->setStyleSheet("color: gray");
    estimate_->setAccessibleName(tr("Estimate"));
    pv->addWidget(estimate_);
    connect(run_, &QPushButton::clicked, this, &PromptPanel::runRequested);
    connect(cancel_, &QPushButton::clicked, this, &PromptPanel::cancelRequested);
    connect(compare_, &QPushButton::clicked, this, &PromptPanel::compareAnswersRequested);
    connect(prompt_, &QPlainTextEdit::textChanged, this, &PromptPanel::updateEstimate);
    connect(doc_, &ConfigDocument::changed, this, &PromptPanel::updateEstimate);
}

void PromptPanel::setRunning(bool running) {
    run_->setEnabled(!running);
    cancel_->setEnabled(running);
}

int PromptPanel::compactHeight() const {
    const int two_lines = 2 * prompt_->fontMetrics().lineSpacing() + 2 * (prompt_->frameWidth() + 4);
    return std::max(two_lines, run_->sizeHint().height());
}

void PromptPanel::setCompact(bool compact) {
    if (compact_ == compact) return;
    compact_ = compact;
    // The system prompt and the estimate concern the next run; while the run view has the room
    // they wait (a click in the prompt brings them back). A system prompt in use stays in view.
    system_->setVisible(!compact || !system_->text().isEmpty());
    estimate_->setVisible(!compact);
    buttons_->setDirection(compact || buttons_in_row_ ? QBoxLayout::LeftToRight : QBoxLayout::TopToBottom);
    // Compact: the prompt fills whatever height the splitter gives the panel (the user may drag it).
    // In the running layout the full panel may get little room: its prompt scrolls from one line.
    prompt_->setMinimumHeight(compact ? compactHeight() : buttons_in_row_ ? prompt_->fontMetrics().lineSpacing() + 2 * (prompt_->frameWidth() + 4) : 0);
    prompt_->setMaximumHeight(compact ? QWIDGETSIZE_MAX : kFullPromptHeight);
    // The nested rows keep their cached hints otherwise (the full panel asked for 240 px).
    for (auto* l : findChildren<QLayout*>()) l->invalidate();
    layout()->invalidate();
    updateGeometry();
}

void PromptPanel::setButtonsInRow(bool row) {
    buttons_in_row_ = row;
    buttons_->setDirection(compact_ || row ? QBoxLayout::LeftToRight : QBoxLayout::TopToBottom);
    if (!compact_) prompt_->setMinimumHeight(row ? prompt_->fontMetrics().lineSpacing() + 2 * (prompt_->frameWidth() + 4) : 0);
    for (auto* l : findChildren<QLayout*>()) l->invalidate();
    updateGeometry();
}

bool PromptPanel::eventFilter(QObject* watched, QEvent* e) {
    if ((watched == prompt_ || watched == prompt_->viewport()) && compact_) {
        bool wants = e->type() == QEvent::MouseButtonPress;
        if (e->type() == QEvent::FocusIn) {
            const auto r = static_cast<QFocusEvent*>(e)->reason();
            wants = r == Qt::TabFocusReason || r == Qt::BacktabFocusReason || r == Qt::MouseFocusReason || r == Qt::ShortcutFocusReason;
        }
        if (e->type() == QEvent::KeyPress) {
            // Typing or deleting (not a shortcut such as Ctrl+Enter or Esc, which act on the run).
            const auto* k = static_cast<QKeyEvent*>(e);
            const bool edits = k->key() == Qt::Key_Backspace || k->key() == Qt::Key_Delete ||
                               (!k->text().isEmpty() && k->text().at(0).isPrint());
            wants = edits && !(k->modifiers() & (Qt::ControlModifier | Qt::AltModifier | Qt::MetaModifier));
        }
        if (wants) emit expandRequested();
    }
    return QWidget::eventFilter(watched, e);
}

void PromptPanel::setCompareEnabled(bool enabled) { compare_->setEnabled(enabled); }

void PromptPanel::setShownRun(qint64 run) {
    shown_run_ = run;
    updateEstimate();
}

void PromptPanel::updateEstimate() {
    auto e = accounting::estimate_run(doc_->config(), catalog_, prompt_->toPlainText().toStdString());
    const QString whose = shown_run_ ? tr("Your document (not run #%1 shown above), one run, at most:").arg(shown_run_) : tr("One run, at most:");
    // Nothing priced is "cost unknown", never "$0 (some prices unknown)"; when some are priced
    // the sum is a lower bound, and the models without a price are named. Whether anything is
    // known comes from the calls, not from the sum: six demo agents at $0 beside one unpriced
    // model said "no price for any of these models".
    using K = engine::Known;
    const K cost_known = e.cost_complete ? K::All : e.any_priced ? K::Some : K::None;
    const K tf_known = e.tflops_complete ? K::All : e.any_sized ? K::Some : K::None;
    auto names = [](const std::vector<std::string>& models) {
        QStringList l;
        for (std::size_t i = 0; i < models.size() && i < 3; ++i) l << QString::fromStdString(models[i]);
        if (models.size() > 3) l << tr("%1 more").arg(models.size() - 3);
        return l.join(", ");
    };
    const QString cost = cost_known == K::None ? tr("cost unknown (no price for any of these models)")
                         : cost_known == K::Some
                             ? tr("%1 (priced models) + no price for %2 (some prices unknown)").arg(format_money(e.cost_usd), names(e.unpriced))
                             : format_money(e.cost_usd);
    const QString tflops = tf_known == K::None ? tr("TFLOPs unknown (no parameter count for any of these models)")
                           : tf_known == K::Some ? tr("%1 TFLOPs + no parameter count for %2 (some parameter counts unknown)")
                                                       .arg(e.tflops, 0, 'f', 1)
                                                       .arg(names(e.unsized))
                                                 : tr("%1 TFLOPs").arg(e.tflops, 0, 'f', 1);
    estimate_->setFullText(tr("%5 %1 · %2 · %3 prompt + %4 completion tokens (max_tokens, 512 where unset)")
                               .arg(cost, tflops)
                               .arg(e.prompt_tokens)
                               .arg(e.completion_tokens)
                               .arg(whose));
}

} // namespace moa::ui
