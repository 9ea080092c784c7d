// SPDX-License-Identifier: MIT
#pragma once
// Edits the selected agent, its layer (quorum, deadline) and the whole configuration (including
// how layers are pipelined); shows the problems of the selection, in the words of `moa validate`,
// and a live preview of exactly what a layer-2 agent would be sent.
#include <QWidget>

#include <optional>

#include "model/config_document.h"

class QComboBox;
class QDoubleSpinBox;
class QLineEdit;
class QPlainTextEdit;
class QSpinBox;
class QLabel;
class QCheckBox;
class QGroupBox;
class QFrame;

namespace moa::ui {

class Inspector : public QWidget {
    Q_OBJECT
public:
    explicit Inspector(ConfigDocument* doc, QWidget* parent = nullptr);
    void setAgent(int layer, int index);
    // A stored run shown read-only: its configuration is what the inspector shows, every field
    // off, with `why` and "Edit a copy"; nothing reaches the (hidden) document. nullopt: the
    // document again.
    void showRecorded(std::optional<config::Config> recorded, const QString& why = {});
    bool showingRecorded() const { return recorded_.has_value(); }

signals:
    void editCopyRequested();

private:
    const config::Config& shown() const { return recorded_ ? *recorded_ : doc_->config(); }
    std::vector<config::Issue> issues() const;
    void refresh();
    void commitAgent(int field);
    void refreshLayer(const config::Config& c, bool has);
    void commitLayer(int field);
    ConfigDocument* doc_;
    int layer_ = -1, index_ = -1;
    bool loading_ = false;
    std::optional<config::Config> recorded_;
    QFrame* recorded_note_;
    QLabel* recorded_why_;
    QGroupBox* config_box_;
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
