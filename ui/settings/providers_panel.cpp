// SPDX-License-Identifier: MIT
#include "settings/providers_panel.h"

#include <QApplication>
#include <QComboBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QInputDialog>
#include <QLabel>
#include <QLineEdit>
#include <QPointer>
#include <QPushButton>
#include <QVBoxLayout>

#include <cstdlib>
#include <thread>

#include "engine/engine.h"
#include "providers/model_list.h"

namespace moa::ui {

ProvidersPanel::ProvidersPanel(ConfigDocument* doc, QWidget* parent) : QWidget(parent), doc_(doc) {
    auto* v = new QVBoxLayout(this);
    auto* row = new QHBoxLayout;
    which_ = new QComboBox;
    which_->setAccessibleName(tr("Provider"));
    auto* add = new QPushButton(tr("Add…"));
    add->setAccessibleName(tr("Add provider"));
    auto* remove = new QPushButton(tr("Remove"));
    remove->setAccessibleName(tr("Remove provider"));
    row->addWidget(which_, 1);
    row->addWidget(add);
    row->addWidget(remove);
    v->addLayout(row);
    auto* f = new QFormLayout;
    type_ = new QComboBox;
    type_->addItems({"openai", "demo"});
    type_->setAccessibleName(tr("Provider type"));
    base_url_ = new QLineEdit;
    base_url_->setPlaceholderText("https://api.together.xyz/v1");
    base_url_->setAccessibleName(tr("Base URL"));
    base_url_->setObjectName("base_url");
    key_env_ = new QLineEdit;
    key_env_->setPlaceholderText("TOGETHER_API_KEY");
    key_env_->setAccessibleName(tr("Environment variable holding the key"));
    key_state_ = new QLabel;
    key_state_->setWordWrap(true);
    f->addRow(tr("Type"), type_);
    f->addRow(tr("Base URL"), base_url_);
    f->addRow(tr("Key variable"), key_env_);
    f->addRow(key_state_);
    v->addLayout(f);
    test_ = new QPushButton(tr("Test connection"));
    test_->setAccessibleName(tr("Test connection"));
    v->addWidget(test_);
    result_ = new QLabel;
    result_->setWordWrap(true);
    result_->setAccessibleName(tr("Connection result"));
    v->addWidget(result_);
    v->addStretch(1);

    connect(which_, &QComboBox::currentTextChanged, this, [this] {
        if (!loading_) refresh();
    });
    connect(type_, &QComboBox::currentTextChanged, this, [this] { commit(); });
    connect(base_url_, &QLineEdit::editingFinished, this, [this] { commit(); });
    connect(key_env_, &QLineEdit::editingFinished, this, [this] { commit(); });
    connect(add, &QPushButton::clicked, this, [this] {
        bool ok = false;
        QString name = QInputDialog::getText(this, tr("Add provider"), tr("Name (used by the agents):"), QLineEdit::Normal, "local", &ok);
        if (ok && !name.trimmed().isEmpty()) addProvider(name.trimmed(), "http://127.0.0.1:8000/v1", {});
    });
    connect(remove, &QPushButton::clicked, this, [this] {
        const std::string name = current().toStdString();
        if (name.empty() || doc_->config().providers.size() <= 1) return;
        doc_->edit(tr("Remove provider"), [name](config::Config& c) { c.providers.erase(name); });
    });
    connect(test_, &QPushButton::clicked, this, &ProvidersPanel::testConnection);
    connect(doc_, &ConfigDocument::changed, this, &ProvidersPanel::refresh);
    refresh();
}

QString ProvidersPanel::current() const { return which_->currentText(); }

void ProvidersPanel::addProvider(const QString& name, const QString& base_url, const QString& key_env) {
    config::Provider p;
    p.name = name.toStdString();
    p.base_url = base_url.toStdString();
    p.api_key_env = key_env.toStdString();
    doc_->edit(tr("Add provider"), [p](config::Config& c) { c.providers[p.name] = p; });
    which_->setCurrentText(name);
}

void ProvidersPanel::refresh() {
    loading_ = true;
    const QString keep = which_->currentText();
    which_->clear();
    for (const auto& [name, _] : doc_->config().providers) which_->addItem(QString::fromStdString(name));
    if (!keep.isEmpty() && which_->findText(keep) >= 0) which_->setCurrentText(keep);
    const auto* p = doc_->config().provider(which_->currentText().toStdString());
    setEnabled(true);
    if (p) {
        type_->setCurrentText(p->type == config::ProviderType::Demo ? "demo" : "openai");
        base_url_->setText(QString::fromStdString(p->base_url));
        key_env_->setText(QString::fromStdString(p->api_key_env));
        base_url_->setEnabled(p->type == config::ProviderType::OpenAi);
        key_env_->setEnabled(p->type == config::ProviderType::OpenAi);
        if (p->type == config::ProviderType::Demo) key_state_->setText(tr("The offline demo needs no key and no network."));
        else if (p->api_key_env.empty()) key_state_->setText(tr("No key: requests go without Authorization (fine for local servers)."));
        else {
            const char* v = std::getenv(p->api_key_env.c_str());
            // The key itself is never shown: only whether it is there, and its length.
            key_state_->setText(v && *v ? tr("%1 is set (%2 characters; the key is not shown).").arg(QString::fromStdString(p->api_key_env)).arg(std::strlen(v))
                                        : tr("%1 is not set: set it in the environment before starting the workbench.")
                                              .arg(QString::fromStdString(p->api_key_env)));
        }
    }
    loading_ = false;
}

void ProvidersPanel::commit() {
    if (loading_) return;
    const std::string name = current().toStdString();
    const auto* old = doc_->config().provider(name);
    if (!old) return;
    config::Provider p = *old;
    p.type = type_->currentText() == "demo" ? config::ProviderType::Demo : config::ProviderType::OpenAi;
    p.base_url = base_url_->text().trimmed().toStdString();
    while (!p.base_url.empty() && p.base_url.back() == '/') p.base_url.pop_back();
    p.api_key_env = key_env_->text().trimmed().toStdString();
    if (p.type == old->type && p.base_url == old->base_url && p.api_key_env == old->api_key_env) return;
    doc_->edit(tr("Edit provider"), [p](config::Config& c) { c.providers[p.name] = p; });
}

void ProvidersPanel::testConnection() {
    const auto* p = doc_->config().provider(current().toStdString());
    if (!p) return;
    config::Provider provider = *p;
    provider.connect_timeout_ms = std::min<long>(provider.connect_timeout_ms, 5000);
    provider.first_token_timeout_ms = std::min<long>(provider.first_token_timeout_ms, 10000);
    test_->setEnabled(false);
    result_->setText(tr("Asking %1/models…").arg(QString::fromStdString(provider.base_url)));
    QPointer<ProvidersPanel> self(this);
    // The request blocks a thread of its own, never the GUI thread.
    std::thread([self, provider] {
        auto r = providers::list_models(net::Transport::shared(), provider, engine::key_from_environment(provider));
        QStringList models;
        QString message;
        if (r) {
            for (const auto& id : *r) models << QString::fromStdString(id);
            message = QObject::tr("%1 models: %2").arg(models.size()).arg(models.mid(0, 8).join(", ") + (models.size() > 8 ? ", …" : ""));
        } else {
            message = QString::fromStdString(r.error());
        }
        const bool ok = r.ok();
        const QString name = QString::fromStdString(provider.name);
        QMetaObject::invokeMethod(qApp, [self, ok, models, message, name] {
            if (!self) return;
            self->test_->setEnabled(true);
            self->result_->setText((ok ? QString("✓ ") : QString("✗ ")) + message);
            emit self->connectionTested(name, ok, message);
            if (ok) emit self->modelsListed(name, models);
        }, Qt::QueuedConnection);
    }).detach();
}

} // namespace moa::ui
