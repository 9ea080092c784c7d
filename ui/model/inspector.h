// SPDX-License-Identifier: MIT
#pragma once
// Edits the selected agent, its layer (quorum, deadline) and the whole configuration (including
// how layers are pipelined); shows the problems of the selection, in the words of `moa validate`,
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
    void refreshLayer(const config::Config& c, bool has);
    void commitLayer(int field);
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
    // The selected agent's layer.
    QGroupBox* layer_box_;
    QSpinBox* quorum_;
    QSpinBox* deadline_;
    QLabel* layer_note_;
    QLabel* layer_problems_;
    // Pipelining (configuration-wide).
    QComboBox* pipelining_;
    QSpinBox* chunk_;
    QComboBox* continuation_;
    QLabel* config_problems_;
};

} // namespace moa::ui
