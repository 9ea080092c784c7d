// SPDX-License-Identifier: MIT
#pragma once
// Edits the selected agent and the whole configuration; shows the problems of the selection
// and a live preview of exactly what a layer-2 agent would be sent.
#include <QWidget>

#include "model/config_document.h"

class QComboBox;
class QDoubleSpinBox;
class QLineEdit;
class QPlainTextEdit;
class QSpinBox;
class QLabel;
class QCheckBox;
class QGroupBox;

namespace moa::ui {

class Inspector : public QWidget {
    Q_OBJECT
public:
    explicit Inspector(ConfigDocument* doc, QWidget* parent = nullptr);
    void setAgent(int layer, int index);

private:
    void refresh();
    void commitAgent(int field);
    ConfigDocument* doc_;
    int layer_ = -1, index_ = -1;
    bool loading_ = false;
    QGroupBox* agent_box_;
    QComboBox* provider_;
    QLineEdit* model_;
    QCheckBox* temp_set_;
    QDoubleSpinBox* temperature_;
    QSpinBox* max_tokens_;
    QPlainTextEdit* system_;
    QLabel* problems_;
    QLineEdit* name_;
    QComboBox* placement_;
    QComboBox* policy_;
    QPlainTextEdit* preview_;
};

} // namespace moa::ui
