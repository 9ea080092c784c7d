// SPDX-License-Identifier: MIT
#include "common/folders.h"

#include <QDir>
#include <QFileInfo>
#include <QSettings>
#include <QStandardPaths>

namespace moa::ui {

QString start_folder(const QString& kind) {
    QSettings s;
    const QString last = s.value("lastFolder/" + kind).toString();
    if (!last.isEmpty() && QFileInfo(last).isDir()) return last;
    for (const auto& f : s.value("recentFiles").toStringList()) {
        const QString dir = QFileInfo(f).absolutePath();
        if (QFileInfo(dir).isDir()) return dir;
    }
    const QString docs = QStandardPaths::writableLocation(QStandardPaths::DocumentsLocation);
    if (!docs.isEmpty() && QFileInfo(docs).isDir()) return docs;
    return QDir::homePath();
}

QString start_path(const QString& file_name, const QString& kind) { return QDir(start_folder(kind)).filePath(file_name); }

void remember_folder(const QString& path, const QString& kind) {
    if (path.isEmpty()) return;
    QFileInfo fi(path);
    QSettings().setValue("lastFolder/" + kind, fi.isDir() ? fi.absoluteFilePath() : fi.absolutePath());
}

} // namespace moa::ui
