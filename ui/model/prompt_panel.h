// SPDX-License-Identifier: MIT
#pragma once
// Below the run view: the system prompt, the prompt, Run / Cancel / Compare answers, and what
// one run of the document costs at most. The estimate is one line shortened to the width it
// gets (in full in its tooltip), so it never widens the window.
#include <QWidget>

#include "accounting/catalog.h"

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

signals:
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
};

} // namespace moa::ui
