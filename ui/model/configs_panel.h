// SPDX-License-Identifier: MIT
#pragma once
// The configurations dock: the built-in presets and the recent files. The recent files are
// kept in the settings and the list follows every open and save at once (not at restart).
#include <QTreeWidget>

namespace moa::ui {

class ConfigsPanel : public QTreeWidget {
    Q_OBJECT
public:
    explicit ConfigsPanel(QWidget* parent = nullptr);
    // `path` was opened or saved: first in the recent files (at most ten).
    void addRecent(const QString& path);
    QStringList recentFiles() const;

signals:
    void presetRequested(const QString& name);
    void fileRequested(const QString& path);

private:
    void refreshRecent();
    QTreeWidgetItem* recent_;
};

} // namespace moa::ui
