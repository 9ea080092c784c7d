// SPDX-License-Identifier: MIT
#pragma once
// The configuration's providers: add, edit (type, base URL, the NAME of the key's environment
// variable — the key itself goes to the OS keychain, never into the file — TLS verification and a
// trusted certificate) and remove, and "test connection", which lists the provider's models
// off the GUI thread and hands them to the model palette.
#include <QWidget>

#include <string>
#include <vector>

#include "model/config_document.h"
#include "settings/key_store.h"

class QCheckBox;
class QComboBox;
class QFormLayout;
class QHBoxLayout;
class QLabel;
class QLineEdit;
class QPushButton;
class QTableWidget;

namespace moa::ui {

class ProvidersPanel : public QWidget {
    Q_OBJECT
public:
    // `keys` may be null (no keychain: environment variables only).
    explicit ProvidersPanel(ConfigDocument* doc, KeyStore* keys = nullptr, QWidget* parent = nullptr);
    QString current() const;
    void addProvider(const QString& name, const QString& base_url, const QString& key_env);
    void testConnection();

signals:
    void modelsListed(const QString& provider, const QStringList& models);
    void connectionTested(const QString& provider, bool ok, const QString& message);

private:
    void refresh();
    void commit();
    void showKeyState();
    void showOverrides(const config::Provider& p);
    void commitOverrides();
    QTableWidget* overrides_;
    ConfigDocument* doc_;
    KeyStore* keys_;
    QLineEdit* key_edit_;
    QPushButton* key_save_;
    QPushButton* key_forget_;
    bool loading_ = false;
    QComboBox* which_;
    QComboBox* type_;
    QLineEdit* base_url_;
    QLineEdit* key_env_;
    QLabel* key_state_;
    QCheckBox* tls_verify_;
    QLineEdit* ca_file_;
    QLabel* tls_warning_;
    QFormLayout* form_;
    QHBoxLayout* key_row_;
    QLabel* demo_note_;
    QPushButton* test_;
    QLabel* result_;
};

} // namespace moa::ui
