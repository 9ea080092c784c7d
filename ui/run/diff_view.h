// SPDX-License-Identifier: MIT
#pragma once
// Two answers side by side with their differences marked: words only in the left one struck
// through in red, words only in the right one in green (a word diff by longest common
// subsequence, computed off the GUI thread). Used for any two answers of a run (the refinement
// view) and for the final answers of two runs (compare runs).
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
    void setTexts(const QString& title_a, const QString& a, const QString& title_b, const QString& b);
    QString summary() const;
    QString leftHtml() const;
    QString rightHtml() const;

signals:
    void ready(); // the diff of the latest setTexts is shown

private:
    int generation_ = 0;
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
