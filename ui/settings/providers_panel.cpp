// SPDX-License-Identifier: MIT
#include "settings/providers_panel.h"

#include "common/plural.h"

#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QFormLayout>
#include <QHeaderView>
#include <QTableWidget>
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

ProvidersPanel::ProvidersPanel(ConfigDocument* doc, KeyStore* keys, QWidget* parent)
    : QWidget(parent), doc_(doc), keys_(keys) {
    auto* v = new QVBoxLayout(this);
    auto* row = new QHBoxLayout;
    which_ = new QComboBox;
    which_->setAccessibleName(tr("Provider"));
    // Long provider names must not set the dock's width (the panel sits beside the canvas at 1024 px).
    which_->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    which_->setMinimumContentsLength(8);
    auto* add = new QPushButton(tr("Add…"));
    add->setAccessibleName(tr("Add provider"));
    auto* remove = new QPushButton(tr("Remove"));
    remove->setAccessibleName(tr("Remove provider"));
    row->addWidget(which_, 1);
    row->addWidget(add);
    row->addWidget(remove);
    v->addLayout(row);
    auto* f = new QFormLayout;
    form_ = f;
    // A narrow dock puts a field under its label rather than cutting it at the right edge.
    f->setRowWrapPolicy(QFormLayout::WrapLongRows);
    type_ = new QComboBox;
    type_->addItems({"openai", "demo"});
    type_->setAccessibleName(tr("Provider type"));
    // The demo has no URL, key or TLS: one line says so instead of greyed fields.
    demo_note_ = new QLabel(tr("in-process offline demo: no URL or key needed, not a real model"));
    demo_note_->setWordWrap(true);
    demo_note_->setObjectName("demo_note");
    demo_note_->setAccessibleName(tr("About the offline demo provider"));
    base_url_ = new QLineEdit;
    base_url_->setPlaceholderText("https://api.together.xyz/v1");
    base_url_->setAccessibleName(tr("Base URL"));
    base_url_->setObjectName("base_url");
    key_env_ = new QLineEdit;
    key_env_->setPlaceholderText("TOGETHER_API_KEY");
    key_env_->setAccessibleName(tr("Environment variable holding the key"));
    key_state_ = new QLabel;
    key_state_->setWordWrap(true);
    key_state_->setObjectName("key_state");
    key_state_->setAccessibleName(tr("Where the key comes from"));
    // The key itself: masked, sent to the keychain, never kept in the widget afterwards.
    key_edit_ = new QLineEdit;
    key_edit_->setEchoMode(QLineEdit::Password);
    key_edit_->setPlaceholderText(tr("paste a key to keep it in the keychain"));
    key_edit_->setAccessibleName(tr("API key (kept in the keychain)"));
    key_edit_->setObjectName("key_edit");
    key_save_ = new QPushButton(tr("Save key"));
    key_save_->setAccessibleName(tr("Save the key in the keychain"));
    key_save_->setObjectName("key_save");
    key_forget_ = new QPushButton(tr("Forget"));
    key_forget_->setAccessibleName(tr("Remove the key from the keychain"));
    key_forget_->setObjectName("key_forget");
    auto* key_row = new QHBoxLayout;
    key_row_ = key_row;
    key_row->addWidget(key_edit_, 1);
    key_row->addWidget(key_save_);
    key_row->addWidget(key_forget_);
    f->addRow(tr("Type"), type_);
    f->addRow(demo_note_);
    f->addRow(tr("Base URL"), base_url_);
    f->addRow(tr("API key"), key_row);
    f->addRow(tr("Key variable"), key_env_);
    f->addRow(key_state_);
    // A check box does not wrap: a short text, the whole sentence in the tooltip and accessible name.
    tls_verify_ = new QCheckBox(tr("Verify certificate"));
    tls_verify_->setAccessibleName(tr("Verify the server's TLS certificate"));
    tls_verify_->setToolTip(tr("Verify the server's TLS certificate"));
    ca_file_ = new QLineEdit;
    ca_file_->setPlaceholderText(tr("/path/to/self-signed.pem (optional)"));
    ca_file_->setAccessibleName(tr("Trusted certificate file"));
    ca_file_->setToolTip(tr("A PEM certificate to trust for this provider, e.g. a local server's self-signed one"));
    tls_warning_ = new QLabel;
    tls_warning_->setWordWrap(true);
    tls_warning_->setObjectName("tls_warning");
    tls_warning_->setAccessibleName(tr("TLS warning"));
    tls_warning_->setStyleSheet("QLabel { color: white; background: #b3261e; padding: 4px; border-radius: 3px; }");
    f->addRow(tr("TLS"), tls_verify_);
    f->addRow(tr("Trust certificate"), ca_file_);
    f->addRow(tls_warning_);
    v->addLayout(f);
    // The user's own prices and sizes per model (a negotiated price, a self-hosted model): they
    // win over the catalog in cost and TFLOPs. An empty cell falls back to the catalog.
    auto* otitle = new QLabel(tr("Prices and sizes (over the catalog; empty = catalog)"));
    otitle->setWordWrap(true);
    v->addWidget(otitle);
    overrides_ = new QTableWidget(0, 4);
    overrides_->setObjectName("overrides");
    overrides_->setAccessibleName(tr("Per-model prices and parameter counts"));
    // Short headings, all columns sharing the dock's width (the price columns were past its edge);
    // the full meaning is in each heading's tooltip.
    overrides_->setHorizontalHeaderLabels({tr("Model"), tr("$ in/M"), tr("$ out/M"), tr("Params B")});
    const QStringList heading_tips = {tr("Model id"), tr("US dollars per million input (prompt) tokens"),
                                      tr("US dollars per million output (completion) tokens"),
                                      tr("Active parameters, in billions (for TFLOPs)")};
    for (int col = 0; col < heading_tips.size(); ++col) overrides_->horizontalHeaderItem(col)->setToolTip(heading_tips[col]);
    overrides_->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
    overrides_->horizontalHeader()->setMinimumSectionSize(40);
    overrides_->verticalHeader()->hide();
    overrides_->setMinimumHeight(90);
    v->addWidget(overrides_);
    auto* orow = new QHBoxLayout;
    auto* oadd = new QPushButton(tr("Add model"));
    oadd->setAccessibleName(tr("Add a price and size override"));
    auto* oremove = new QPushButton(tr("Remove model"));
    oremove->setAccessibleName(tr("Remove the selected override"));
    orow->addWidget(oadd);
    orow->addWidget(oremove);
    orow->addStretch(1);
    v->addLayout(orow);
    connect(overrides_, &QTableWidget::cellChanged, this, [this] { commitOverrides(); });
    connect(oadd, &QPushButton::clicked, this, [this] {
        bool ok = false;
        QString id = QInputDialog::getText(this, tr("Price and size override"), tr("Model id:"), QLineEdit::Normal, {}, &ok);
        if (!ok || id.trimmed().isEmpty()) return;
        const std::string name = current().toStdString(), model = id.trimmed().toStdString();
        doc_->edit(tr("Add price override"), [name, model](config::Config& c) {
            if (auto it = c.providers.find(name); it != c.providers.end()) it->second.models[model];
        });
    });
    connect(oremove, &QPushButton::clicked, this, [this] {
        auto* item = overrides_->item(overrides_->currentRow(), 0);
        if (!item) return;
        const std::string name = current().toStdString(), model = item->text().toStdString();
        doc_->edit(tr("Remove price override"), [name, model](config::Config& c) {
            if (auto it = c.providers.find(name); it != c.providers.end()) it->second.models.erase(model);
        });
    });
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
    connect(key_save_, &QPushButton::clicked, this, [this] {
        const auto* p = doc_->config().provider(current().toStdString());
        if (!p || !keys_ || key_edit_->text().isEmpty()) return;
        keys_->store(KeyStore::entryFor(*p), key_edit_->text());
        key_edit_->clear(); // the widget does not keep it
        key_state_->setText(tr("Saving the key in the keychain…"));
    });
    connect(key_edit_, &QLineEdit::returnPressed, key_save_, &QPushButton::click);
    connect(key_forget_, &QPushButton::clicked, this, [this] {
        const auto* p = doc_->config().provider(current().toStdString());
        if (p && keys_) keys_->forget(KeyStore::entryFor(*p));
    });
    if (keys_) {
        connect(keys_, &KeyStore::changed, this, [this] { showKeyState(); });
        connect(keys_, &KeyStore::failed, this, [this](const QString&, const QString& message) {
            showKeyState();
            key_state_->setText(key_state_->text() + "\n" + tr("Keychain: %1").arg(message));
        });
    }
    connect(ca_file_, &QLineEdit::editingFinished, this, [this] { commit(); });
    connect(tls_verify_, &QCheckBox::toggled, this, [this] { commit(); });
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
        tls_verify_->setChecked(p->tls_verify);
        ca_file_->setText(QString::fromStdString(p->ca_file));
        tls_verify_->setEnabled(p->type == config::ProviderType::OpenAi);
        ca_file_->setEnabled(p->type == config::ProviderType::OpenAi);
        const bool insecure = p->type == config::ProviderType::OpenAi && !p->tls_verify;
        const bool demo = p->type == config::ProviderType::Demo;
        demo_note_->setVisible(demo); // the label is its own row: hiding it hides the row
        for (QWidget* field : {static_cast<QWidget*>(base_url_), static_cast<QWidget*>(key_env_),
                               static_cast<QWidget*>(key_state_), static_cast<QWidget*>(tls_verify_),
                               static_cast<QWidget*>(ca_file_)})
            form_->setRowVisible(field, !demo);
        form_->setRowVisible(key_row_, !demo);
        tls_warning_->setVisible(insecure);
        tls_warning_->setText(insecure ? tr("⚠ Certificate verification is OFF for %1: anyone on the network path can read "
                                            "your key and the answers. To trust a local self-signed server, name its "
                                            "certificate above and turn verification back on.")
                                             .arg(QString::fromStdString(p->name))
                                       : QString());
        key_edit_->setEnabled(p->type == config::ProviderType::OpenAi && keys_);
        key_save_->setEnabled(p->type == config::ProviderType::OpenAi && keys_);
        key_forget_->setEnabled(p->type == config::ProviderType::OpenAi && keys_);
        if (keys_ && p->type == config::ProviderType::OpenAi) keys_->load(KeyStore::entryFor(*p));
        showOverrides(*p);
    }
    loading_ = false;
    showKeyState();
}

void ProvidersPanel::showOverrides(const config::Provider& p) {
    const bool was = loading_;
    loading_ = true;
    overrides_->setRowCount(0);
    auto cell = [](const std::optional<double>& v) {
        return new QTableWidgetItem(v ? QString::number(*v, 'g', 10) : QString());
    };
    for (const auto& [model, o] : p.models) {
        int r = overrides_->rowCount();
        overrides_->insertRow(r);
        auto* id = new QTableWidgetItem(QString::fromStdString(model));
        id->setFlags(id->flags() & ~Qt::ItemIsEditable);
        overrides_->setItem(r, 0, id);
        overrides_->setItem(r, 1, cell(o.input_usd_per_mtok));
        overrides_->setItem(r, 2, cell(o.output_usd_per_mtok));
        overrides_->setItem(r, 3, cell(o.active_params_b));
    }
    loading_ = was;
}

void ProvidersPanel::commitOverrides() {
    if (loading_) return;
    const std::string name = current().toStdString();
    const auto* old = doc_->config().provider(name);
    if (!old) return;
    std::map<std::string, config::ModelOverride> models;
    QStringList bad;
    for (int r = 0; r < overrides_->rowCount(); ++r) {
        if (!overrides_->item(r, 0)) continue;
        config::ModelOverride o;
        std::optional<double>* fields[] = {&o.input_usd_per_mtok, &o.output_usd_per_mtok, &o.active_params_b};
        for (int c = 1; c <= 3; ++c) {
            const QString t = overrides_->item(r, c) ? overrides_->item(r, c)->text().trimmed() : QString();
            if (t.isEmpty()) continue;
            bool ok = false;
            double v = t.toDouble(&ok);
            if (ok && v >= 0) *fields[c - 1] = v;
            else bad << tr("%1: \"%2\" is not a number ≥ 0").arg(overrides_->item(r, 0)->text(), t);
        }
        models[overrides_->item(r, 0)->text().toStdString()] = o;
    }
    if (!bad.isEmpty()) {
        result_->setText(tr("✗ Prices and sizes: %1").arg(bad.join("; ")));
        return;
    }
    if (models == old->models) return;
    doc_->edit(tr("Edit price override"), [name, models](config::Config& c) {
        if (auto it = c.providers.find(name); it != c.providers.end()) it->second.models = models;
    });
}

void ProvidersPanel::showKeyState() {
    const auto* p = doc_->config().provider(current().toStdString());
    if (!p) return;
    const QString var = QString::fromStdString(p->api_key_env);
    if (p->type == config::ProviderType::Demo) {
        key_state_->setText(tr("The offline demo needs no key and no network."));
        return;
    }
    // The key itself is never shown: only where it comes from, and its length.
    const auto source = keys_ ? keys_->sourceFor(*p)
                              : (engine::key_from_environment(*p).empty() ? KeyStore::Source::None : KeyStore::Source::Environment);
    switch (source) {
    case KeyStore::Source::Keychain:
        key_state_->setText(tr("Key from the keychain (%1 characters; not shown).").arg(keys_->keychainKeyLength(KeyStore::entryFor(*p))));
        break;
    case KeyStore::Source::Environment:
        key_state_->setText(tr("Key from %1 (%2 characters; not shown).").arg(var).arg(engine::key_from_environment(*p).size()));
        break;
    case KeyStore::Source::None:
        key_state_->setText(var.isEmpty() ? tr("No key: requests go without Authorization (fine for local servers).")
                                          : tr("No key: none in the keychain, and %1 is not set.").arg(var));
        break;
    }
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
    p.tls_verify = tls_verify_->isChecked();
    p.ca_file = ca_file_->text().trimmed().toStdString();
    if (p.type == old->type && p.base_url == old->base_url && p.api_key_env == old->api_key_env &&
        p.tls_verify == old->tls_verify && p.ca_file == old->ca_file)
        return;
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
    const std::string key = keys_ ? keys_->keyFor(provider) : engine::key_from_environment(provider);
    std::thread([self, provider, key] {
        auto r = providers::list_models(net::Transport::shared(), provider, key);
        QStringList models;
        QString message;
        if (r) {
            for (const auto& id : *r) models << QString::fromStdString(id);
            message = QObject::tr("%1: %2").arg(count_text(models.size(), QObject::tr("model"), QObject::tr("models"))).arg(models.mid(0, 8).join(", ") + (models.size() > 8 ? ", …" : ""));
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
