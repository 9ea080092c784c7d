// SPDX-License-Identifier: MIT
#pragma once
// Where open and save dialogs start: the folder the user last worked in (remembered across
// restarts), else their documents folder, never the folder the program was launched from.
#include <QString>

namespace moa::ui {

// The folder to start a file dialog in. Configurations: the folder of the newest recent file
// (the main window records every open and save). Other kinds ("experiments", "prompts"): the
// folder last remembered for that kind, then the configurations' folder.
QString start_folder(const QString& kind = QStringLiteral("configurations"));
// `file_name` in the start folder (for a save dialog's suggested name).
QString start_path(const QString& file_name, const QString& kind = QStringLiteral("configurations"));
// Remembers the folder of `path` (a file or a folder) for the next dialog of `kind`; empty is ignored.
void remember_folder(const QString& path, const QString& kind);

} // namespace moa::ui
