// SPDX-License-Identifier: MIT
#pragma once
// Two answers side by side with their differences marked, sentence by sentence first
// (eval/sentence_diff.h): sentences only in the left one struck through in red, only in the right
// one in green, moved ones marked as moved, and the changed words of a reworded sentence; above
// them, "x% of the right answer comes from the left one" and the reverse (the provenance measure,
// the same numbers as the graph and the panes). Computed off the GUI thread. Used for any two
// answers of a run (the refinement view) and for the final answers of two runs (compare runs).
#include <QDialog>
#include <QWidget>

#include <optional>

#include "engine/run_types.h"

class QComboBox;
class QLabel;
class QTableWidget;
class QTextBrowser;

namespace moa::ui {

class DiffView : public QWidget {
    Q_OBJECT
public:
    explicit DiffView(QWidget* parent = nullptr);
    // Characters of each side laid out at most (the rest is named, not shown).
    static constexpr qsizetype kShownChars = 100 * 1024;
    // `demo_a`/`demo_b`: the text is an offline demo answer (its label is not measured).
    void setTexts(const QString& title_a, const QString& a, const QString& title_b, const QString& b, bool demo_a = false,
                  bool demo_b = false);
    QString summary() const;
    // Of the latest diff shown: "x% of the right comes from the left" and the reverse.
    std::optional<double> rightFromLeft() const { return b_from_a_; }
    std::optional<double> leftFromRight() const { return a_from_b_; }
    struct Counts {
        int moved = 0, deleted = 0, added = 0, changed = 0;
    };
    Counts counts() const { return counts_; }
    QString leftHtml() const;
    QString rightHtml() const;

signals:
    void ready(); // the diff of the latest setTexts is shown

private:
    int generation_ = 0;
    std::optional<double> b_from_a_, a_from_b_;
    Counts counts_;
    QLabel* title_a_;
    QLabel* title_b_;
    QLabel* summary_;
    QTextBrowser* left_;
    QTextBrowser* right_;
};

// Any two answers of one run: the proposers', the aggregators', the final one.
class AnswersDiffDialog : public QDialog {
    Q_OBJECT
public:
    explicit AnswersDiffDialog(const engine::RunRecord& r, QWidget* parent = nullptr);
    DiffView* view() const { return view_; }
    QComboBox* left() const { return left_; }
    QComboBox* right() const { return right_; }

private:
    void update();
    engine::RunRecord record_;
    QComboBox* left_;
    QComboBox* right_;
    DiffView* view_;
};

// Two runs side by side: configuration, prompt, status, cost, TFLOPs, wall time, critical path,
// tokens, and a diff of their final answers.
class RunsCompareDialog : public QDialog {
    Q_OBJECT
public:
    RunsCompareDialog(const QString& title_a, const engine::RunRecord& a, const QString& title_b,
                      const engine::RunRecord& b, QWidget* parent = nullptr);
    QTableWidget* table() const { return table_; }
    DiffView* view() const { return view_; }

private:
    QTableWidget* table_;
    DiffView* view_;
};

} // namespace moa::ui
