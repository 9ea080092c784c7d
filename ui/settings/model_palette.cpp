// SPDX-License-Identifier: MIT
#include "settings/model_palette.h"

#include <QLineEdit>
#include <QMimeData>
#include <QSet>
#include <QVBoxLayout>

namespace moa::ui {

QMimeData* ModelList::mimeData(const QList<QListWidgetItem*>& items) const {
    auto* m = new QMimeData;
    if (!items.isEmpty())
        m->setData(kAgentMime, (items.first()->data(Qt::UserRole).toString() + "\n" + items.first()->data(Qt::UserRole + 1).toString()).toUtf8());
    return m;
}

ModelPalette::ModelPalette(ConfigDocument* doc, const accounting::Catalog& catalog, QWidget* parent)
    : QWidget(parent), doc_(doc), catalog_(catalog) {
    auto* v = new QVBoxLayout(this);
    v->setContentsMargins(0, 0, 0, 0);
    search_ = new QLineEdit;
    search_->setPlaceholderText(tr("Search models"));
    search_->setAccessibleName(tr("Search models"));
    list_ = new ModelList;
    list_->setAccessibleName(tr("Model palette"));
    list_->setDragEnabled(true);
    list_->setDragDropMode(QAbstractItemView::DragOnly);
    v->addWidget(search_);
    v->addWidget(list_);
    connect(search_, &QLineEdit::textChanged, this, &ModelPalette::rebuild);
    connect(doc_, &ConfigDocument::changed, this, &ModelPalette::rebuild);
    connect(list_, &QListWidget::itemActivated, this, [this](QListWidgetItem* it) {
        emit addRequested(it->data(Qt::UserRole).toString(), it->data(Qt::UserRole + 1).toString());
    });
    rebuild();
}

void ModelPalette::addListed(const QString& provider, const QStringList& models) {
    listed_[provider] = models;
    rebuild();
}

int ModelPalette::visibleCount() const { return list_->count(); }

void ModelPalette::rebuild() {
    list_->clear();
    const QString q = search_->text().trimmed();
    QSet<QString> seen;
    auto add = [&](const QString& provider, const QString& model, const QString& detail) {
        const QString key = provider + "\n" + model;
        if (seen.contains(key)) return;
        if (!q.isEmpty() && !model.contains(q, Qt::CaseInsensitive) && !provider.contains(q, Qt::CaseInsensitive)) return;
        seen.insert(key);
        auto* it = new QListWidgetItem(QStringLiteral("%1  ·  %2%3").arg(model, provider, detail), list_);
        it->setData(Qt::UserRole, provider);
        it->setData(Qt::UserRole + 1, model);
        it->setToolTip(tr("Drag onto a layer of the graph, or double-click to add to the selected agent's layer"));
    };
    for (const auto& [name, p] : doc_->config().providers) {
        const QString pn = QString::fromStdString(name);
        for (const auto& id : listed_.value(pn)) add(pn, id, tr("  ·  listed by the provider"));
        for (const auto& m : catalog_.models()) {
            auto match = catalog_.find(name, p.base_url, m.model);
            if (match.priced != &m) continue;
            QString detail;
            if (m.input_usd_per_mtok && m.output_usd_per_mtok)
                detail = QStringLiteral("  ·  $%1/$%2 per M").arg(*m.input_usd_per_mtok).arg(*m.output_usd_per_mtok);
            if (m.active_params_b) detail += QStringLiteral("  ·  %1B active").arg(*m.active_params_b);
            add(pn, QString::fromStdString(m.model), detail);
        }
    }
}

} // namespace moa::ui
