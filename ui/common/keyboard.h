// SPDX-License-Identifier: MIT
#pragma once
// Keyboard reach: multi-line text fields that Tab (and Ctrl+Tab) leave instead of typing a tab,
// and a focus indicator that can be seen from across the room.
class QPlainTextEdit;
class QString;

namespace moa::ui {

// Tab and Shift+Tab move focus out of `edit`, as do Ctrl+Tab and Ctrl+Shift+Tab.
void tab_moves_focus(QPlainTextEdit* edit);

// An application style sheet fragment: a 2 px highlight-coloured frame on the focused field.
QString focus_style_sheet();

} // namespace moa::ui
