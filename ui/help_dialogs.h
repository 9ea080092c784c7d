// SPDX-License-Identifier: MIT
#pragma once
// The Help menu's dialogs: the keyboard shortcuts, where the data lives, about.
#include <QString>

class QMessageBox;
class QWidget;

namespace moa::ui {

// Non-modal, deleted on close.
QMessageBox* shortcuts_dialog(QWidget* parent);
// `history`: the history database in use (empty: none could be opened).
QMessageBox* data_locations_dialog(const QString& history, QWidget* parent);
void about_dialog(QWidget* parent);

} // namespace moa::ui
