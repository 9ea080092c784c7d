// SPDX-License-Identifier: MIT
#pragma once
// Autosave and crash recovery: a few seconds after an edit, the document is written (atomically)
// to the data folder with the path it belongs to. A clean exit removes it; after a crash it is
// still there, and the window offers to recover it.
#include <QObject>
#include <QString>
#include <QTimer>

#include <optional>

#include "config/config.h"

namespace moa::ui {

class ConfigDocument;

class Autosave : public QObject {
    Q_OBJECT
public:
    Autosave(ConfigDocument* doc, QString file, int delay_ms = 2000, QObject* parent = nullptr);
    // $XDG_DATA_HOME/moa-workbench/autosave.moa-recovery.json (next to the history).
    static QString defaultFile();

    struct Recovered {
        config::Config config;
        QString original_path; // empty for an unsaved document
        QString saved_at;
    };
    // What a previous session left behind, if anything readable.
    std::optional<Recovered> pending() const;
    bool writeNow(QString* error = nullptr);
    void clear(); // a clean exit, or the user discarded the recovery
    // While the window offers a previous session's recovery (Recover / Discard not chosen yet),
    // the file is that session's work: it is neither removed (a clean document, a quit) nor
    // overwritten with this session's edits, so it is offered again at the next start.
    void setHeld(bool held);
    bool held() const { return held_; }

private:
    ConfigDocument* doc_;
    QString file_;
    QTimer timer_;
    bool held_ = false;
};

} // namespace moa::ui
