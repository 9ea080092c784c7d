// SPDX-License-Identifier: MIT
#pragma once
// Below the run view: the system prompt, the prompt, Run / Cancel / Compare answers, and what
// one run of the document costs at most. The estimate is one line shortened to the width it
// gets (in full in its tooltip), so it never widens the window. In the running layout it is
// compact (the prompt on two lines, the buttons in a row, no system prompt or estimate): a
// click, Tab or typing in the prompt asks for the full panel back (expandRequested).
#include <QWidget>

#include "accounting/catalog.h"

class QBoxLayout;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;

namespace moa::ui {

class ConfigDocument;
class ElidedLabel;

class PromptPanel : public QWidget {
    Q_OBJECT
public:
    PromptPanel(ConfigDocument* doc, const accounting::Catalog& catalog, QWidget* parent = nullptr);
    QPlainTextEdit* prompt() const { return prompt_; }
    QLineEdit* system() const { return system_; }
    ElidedLabel* estimate() const { return estimate_; }
    void setRunning(bool running);
    void setCompareEnabled(bool enabled);
    void updateEstimate();
    // While a stored run (`run` != 0) is shown above, the estimate says it is the document's,
    // not that run's (the prompt and Run are always the document's).
    void setShownRun(qint64 run);
    void setCompact(bool compact);
    bool isCompact() const { return compact_; }
    // Run, Cancel and Compare in a row beside the prompt, in the full panel too (the running
    // layout): stacked, they made the full panel ~130 px tall, which at 1024×700 the panes' lines
    // cannot spare after a click in the prompt.
    void setButtonsInRow(bool row);
    // The compact panel's height: two lines of the prompt (the buttons' row beside it).
    int compactHeight() const;

signals:
    void expandRequested();
    void runRequested();
    void cancelRequested();
    void compareAnswersRequested();

private:
    ConfigDocument* doc_;
    const accounting::Catalog& catalog_;
    QLineEdit* system_;
    QPlainTextEdit* prompt_;
    QPushButton* run_;
    QPushButton* cancel_;
    QPushButton* compare_;
    ElidedLabel* estimate_;
    qint64 shown_run_ = 0;
    QBoxLayout* buttons_ = nullptr;
    bool compact_ = false;
    bool buttons_in_row_ = false;

protected:
    bool eventFilter(QObject* watched, QEvent* e) override;
};

} // namespace moa::ui
