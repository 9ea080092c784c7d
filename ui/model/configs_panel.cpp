// SPDX-License-Identifier: MIT
#include "model/configs_panel.h"

#include <QSettings>

#include "util/resources.h"

namespace moa::ui {

ConfigsPanel::ConfigsPanel(QWidget* parent) : QTreeWidget(parent) {
    setHeaderHidden(true);
    setAccessibleName(tr("Configurations"));
    auto* presets = new QTreeWidgetItem(this, {tr("Built-in presets")});
    for (const auto& n : resources::preset_names()) {
        auto* it = new QTreeWidgetItem(presets, {QString::fromStdString(n)});
        it->setData(0, Qt::UserRole, QStringLiteral("preset:") + QString::fromStdString(n));
    }
    recent_ = new QTreeWidgetItem(this, {tr("Recent files")});
    refreshRecent();
    expandAll();
    connect(this, &QTreeWidget::itemActivated, this, [this](QTreeWidgetItem* it) {
        const QString what = it->data(0, Qt::UserRole).toString();
        if (what.startsWith("preset:")) emit presetRequested(what.mid(7));
        else if (what.startsWith("file:")) emit fileRequested(what.mid(5));
    });
}

QStringList ConfigsPanel::recentFiles() const { return QSettings().value("recentFiles").toStringList(); }

void ConfigsPanel::addRecent(const QString& path) {
    QSettings s;
    QStringList recent = s.value("recentFiles").toStringList();
    recent.removeAll(path);
    recent.prepend(path);
    s.setValue("recentFiles", recent.mid(0, 10));
    refreshRecent();
}

void ConfigsPanel::refreshRecent() {
    qDeleteAll(recent_->takeChildren());
    for (const auto& f : recentFiles()) {
        auto* it = new QTreeWidgetItem(recent_, {f.section('/', -1)});
        it->setToolTip(0, f);
        it->setData(0, Qt::UserRole, QStringLiteral("file:") + f);
    }
    recent_->setExpanded(true);
}

} // namespace moa::ui
