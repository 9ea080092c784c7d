// SPDX-License-Identifier: MIT
#pragma once
// The configuration's providers: add, edit (type, base URL, the NAME of the key's environment
// variable — never the key) and remove, and "test connection", which lists the provider's models
// off the GUI thread and hands them to the model palette.
#include <QWidget>

#include <string>
#include <vector>

#include "model/config_document.h"

class QComboBox;
class QLabel;
class QLineEdit;
class QPushButton;

namespace moa::ui {

class ProvidersPanel : public QWidget {
    Q_OBJECT
public:
    explicit ProvidersPanel(ConfigDocument* doc, QWidget* parent = nullptr);
    QString current() const;
    void addProvider(const QString& name, const QString& base_url, const QString& key_env);
    void testConnection();

signals:
    void modelsListed(const QString& provider, const QStringList& models);
    void connectionTested(const QString& provider, bool ok, const QString& message);

private:
    void refresh();
    void commit();
    ConfigDocument* doc_;
    bool loading_ = false;
    QComboBox* which_;
    QComboBox* type_;
    QLineEdit* base_url_;
    QLineEdit* key_env_;
    QLabel* key_state_;
    QPushButton* test_;
    QLabel* result_;
};

} // namespace moa::ui
