// SPDX-License-Identifier: MIT
#pragma once
// Models to build with: the catalog's models for the configured providers, plus whatever "test
// connection" listed. Search filters; drag a model onto a layer of the graph (or double-click
// to add it to the selected agent's layer).
#include <QListWidget>
#include <QWidget>

#include "accounting/catalog.h"
#include "model/config_document.h"

class QLineEdit;

namespace moa::ui {

inline constexpr const char* kAgentMime = "application/x-moa-agent"; // "provider\nmodel"

class ModelList : public QListWidget {
    Q_OBJECT
public:
    using QListWidget::QListWidget;

protected:
    QMimeData* mimeData(const QList<QListWidgetItem*>& items) const override;
    QStringList mimeTypes() const override { return {kAgentMime}; }
};

class ModelPalette : public QWidget {
    Q_OBJECT
public:
    ModelPalette(ConfigDocument* doc, const accounting::Catalog& catalog, QWidget* parent = nullptr);
    void addListed(const QString& provider, const QStringList& models);
    int visibleCount() const;

signals:
    void addRequested(const QString& provider, const QString& model);

private:
    void rebuild();
    ConfigDocument* doc_;
    const accounting::Catalog& catalog_;
    QLineEdit* search_;
    ModelList* list_;
    QHash<QString, QStringList> listed_;
};

} // namespace moa::ui
