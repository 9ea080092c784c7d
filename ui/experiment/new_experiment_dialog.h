// SPDX-License-Identifier: MIT
#pragma once
// New experiment: configurations (built-in presets, the document being edited, recent files or
// any file), a prompt set, a judge (the built-in offline demo judge first, clearly labelled, then
// one-agent configurations) and, for pairwise judging, a reference. Every field is checked
// before anything is written; each problem names its field.
#include <QDialog>
#include <optional>

#include "accounting/catalog.h"
#include "config/config.h"

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QListWidget;
class QPushButton;
class QSpinBox;

namespace moa::ui {

// The document open in the main window: its file, and its configuration when it has unsaved
// changes or no file (written next to the experiment when chosen).
struct OpenDocument {
    QString path;
    std::optional<config::Config> unsaved;
};

// An editable list of judges: the offline demo judge first, then one-agent presets; a typed
// path or preset name is taken as written.
QComboBox* make_judge_combo(QWidget* parent);
// The configuration a combo names: the chosen item's source, or the text typed into it.
QString combo_source(const QComboBox* c);

class NewExperimentDialog : public QDialog {
    Q_OBJECT
public:
    NewExperimentDialog(const OpenDocument& doc, QWidget* parent = nullptr);
    // The experiment written (after accept()).
    QString path() const { return path_; }

    // For tests and scripted use: check the configuration whose source (preset name or path) is `source`.
    bool checkConfiguration(const QString& source, bool on = true);
    QComboBox* judge() const { return judge_; }
    QComboBox* prompts() const { return prompts_; }
    QComboBox* reference() const { return reference_; }
    QComboBox* mode() const { return mode_; }
    QSpinBox* sample() const { return sample_; }
    QLineEdit* file() const { return file_; }
    QPushButton* createButton() const { return create_; }
    QCheckBox* lcVariants() const { return lc_variants_; }
    // What the baseline variants would add (extra calls, estimated cost), or why they cannot be asked for.
    QString lcVariantsText() const;
    QString errorText() const;

private:
    void addConfiguration(const QString& label, const QString& source, bool checked);
    void create();
    void updateLcVariants();

    OpenDocument doc_;
    QString path_;
    QLineEdit* name_;
    QListWidget* configs_;
    QComboBox* prompts_;
    QSpinBox* sample_;
    QComboBox* mode_;
    QComboBox* judge_;
    QComboBox* reference_;
    QCheckBox* lc_variants_;
    QLabel* lc_cost_;
    accounting::Catalog catalog_;
    QLineEdit* file_;
    QLabel* error_;
    QPushButton* create_;
};

} // namespace moa::ui
